import { Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { StageConfig, Throttle } from './stage-config.js';

export interface ApiProtectionProps {
  readonly api: apigateway.RestApi;
  readonly tokenFunction: lambda.IFunction;
  readonly endpointThrottles: StageConfig['endpointThrottles'];
  readonly tokenReservedConcurrency?: number;
  readonly waf?: StageConfig['waf'];
}

/** The OAuth endpoints with their own throttles, as paths under the API root. */
const THROTTLED_PATHS = [
  ['oauth2/token', 'token'],
  ['oauth2/authorize', 'authorize'],
  ['oauth2/revoke', 'revokeIntrospect'],
  ['oauth2/introspect', 'revokeIntrospect'],
] as const;

/**
 * Keeps one flood from starving everything else: own method throttles for the OAuth endpoints (so
 * junk on /oauth2/token cannot use up the stage-wide limit of revocation, introspection or /me),
 * optional reserved concurrency for the token function (so other functions of the account cannot
 * take its capacity), and an optional AWS WAF web ACL with a per-IP rate rule (so one address
 * cannot use up the token endpoint's throttle for everyone). Build it after every route exists: a
 * method setting for a path the API does not have fails the deployment.
 */
export class ApiProtection extends Construct {
  /** Present only with `waf`. */
  readonly webAcl?: wafv2.CfnWebACL;
  /** `/oauth2/token` etc. that received a method throttle (authorize only once that route exists). */
  readonly throttledPaths: readonly string[];

  constructor(scope: Construct, id: string, props: ApiProtectionProps) {
    super(scope, id);
    const stage = props.api.deploymentStage.node.defaultChild as apigateway.CfnStage;
    const settings = (stage.methodSettings ?? []) as apigateway.CfnStage.MethodSettingProperty[];
    const throttled: string[] = [];
    for (const [path, key] of THROTTLED_PATHS) {
      if (!hasResource(props.api.root, path)) continue;
      throttled.push(`/${path}`);
      settings.push(methodThrottle(path, props.endpointThrottles[key]));
    }
    stage.methodSettings = settings;
    this.throttledPaths = throttled;

    if (props.tokenReservedConcurrency !== undefined) {
      const fn = props.tokenFunction.node.defaultChild as lambda.CfnFunction;
      fn.reservedConcurrentExecutions = props.tokenReservedConcurrency;
    }

    if (props.waf !== undefined) {
      this.webAcl = perIpRateLimitAcl(this, props.waf.perIpRateLimit);
      new wafv2.CfnWebACLAssociation(this, 'StageAssociation', {
        resourceArn: props.api.deploymentStage.stageArn,
        webAclArn: this.webAcl.attrArn,
      });
    }
  }
}

function hasResource(root: apigateway.IResource, path: string): boolean {
  let resource: apigateway.IResource | undefined = root;
  for (const part of path.split('/')) resource = resource?.getResource(part);
  return resource !== undefined;
}

/**
 * One method setting for every method of `path` (encoded as CloudFormation wants it: `/~1oauth2~1token`).
 * It replaces the stage-wide setting for those methods, so it repeats the logging choices of the
 * stage: errors only, never the data trace (request bodies hold passwords).
 */
function methodThrottle(path: string, throttle: Throttle): apigateway.CfnStage.MethodSettingProperty {
  return {
    httpMethod: '*',
    resourcePath: `/~1${path.split('/').join('~1')}`,
    throttlingRateLimit: throttle.rateLimit,
    throttlingBurstLimit: throttle.burstLimit,
    loggingLevel: 'ERROR',
    dataTraceEnabled: false,
  };
}

const RATE_LIMITED_BODY = 'RateLimited';

/** Regional web ACL: allow by default, answer an address over the limit 429 with an RFC 6749-shaped body. */
function perIpRateLimitAcl(scope: Construct, perIpRateLimit: number): wafv2.CfnWebACL {
  const metric = (name: string) => ({
    cloudWatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName: `${Stack.of(scope).stackName}-${name}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128),
  });
  return new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    description: 'OAuth 2.0 token service: per-IP rate limit',
    defaultAction: { allow: {} },
    visibilityConfig: metric('oauth2-web-acl'),
    customResponseBodies: {
      [RATE_LIMITED_BODY]: {
        contentType: 'APPLICATION_JSON',
        content: JSON.stringify({
          error: 'temporarily_unavailable',
          error_description: 'Too many requests from this address, retry later',
        }),
      },
    },
    rules: [
      {
        name: 'PerIpRateLimit',
        priority: 0,
        // Counted per source IP over WAF's 5-minute window.
        statement: { rateBasedStatement: { limit: perIpRateLimit, aggregateKeyType: 'IP' } },
        action: {
          block: {
            customResponse: {
              responseCode: 429,
              customResponseBodyKey: RATE_LIMITED_BODY,
              responseHeaders: [
                { name: 'Retry-After', value: '60' },
                { name: 'Cache-Control', value: 'no-store' },
              ],
            },
          },
        },
        visibilityConfig: metric('oauth2-per-ip-rate-limit'),
      },
    ],
  });
}
