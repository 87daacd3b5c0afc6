import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import {
  API_REQUIREMENTS_VARIABLE,
  formatRouteRequirements,
  RouteRequirementsError,
  routeRequirementsVariable,
} from '../lambdas/core/route-requirements.js';
import type { OAuth2TokenService } from './oauth2-token-service.js';

/** API Gateway's ceiling for an authorizer result cache. */
export const MAX_AUTHORIZER_CACHE_SECONDS = 3600;

export interface OAuth2AuthorizerOptions {
  /**
   * Security-relevant: API Gateway's authorizer result cache. Default 0 (off): every request is
   * checked, so a revoked, rotated-away, disabled-client or expired token fails on the next request.
   * With N s, such a token keeps passing this API for up to N s after it died. Never set it above
   * the shortest access-token lifetime any client of the service has (`fromTokenService` refuses
   * more than the service's own `authorizerCacheTtlSeconds`).
   */
  readonly resultsCacheTtl?: Duration;
}

/** What a route (or a whole API) demands of a token beyond being valid. */
export interface OAuth2RouteRequirements {
  /** Every one of these scopes (RFC 6750 §3.1 `insufficient_scope` otherwise). Default: none. */
  readonly scopes?: readonly string[];
  /** Only tokens issued to these client ids. Default: any client. */
  readonly clientIds?: readonly string[];
  /** Only tokens for one of these audiences; opaque tokens carry none and are refused. Default: no check. */
  readonly audiences?: readonly string[];
  /** Accept tokens without a user (`client_credentials`). Default false: user tokens only. */
  readonly allowClientTokens?: boolean;
}

/**
 * The cache key: the token, the method and the resource path. A decision (Allow or Deny for exactly
 * that route) is then never reused for another route with other requirements.
 */
export const BEARER_IDENTITY_SOURCES: readonly string[] = Object.freeze([
  apigateway.IdentitySource.header('Authorization'),
  apigateway.IdentitySource.context('httpMethod'),
  apigateway.IdentitySource.context('resourcePath'),
]);

function requestAuthorizer(
  scope: Construct,
  id: string,
  handler: lambda.IFunction,
  resultsCacheTtl: Duration,
): apigateway.RequestAuthorizer {
  if (resultsCacheTtl.toSeconds() > MAX_AUTHORIZER_CACHE_SECONDS) {
    throw new Error(`resultsCacheTtl must be at most ${MAX_AUTHORIZER_CACHE_SECONDS} s`);
  }
  return new apigateway.RequestAuthorizer(scope, id, {
    handler,
    identitySources: [...BEARER_IDENTITY_SOURCES],
    resultsCacheTtl,
  });
}

/** The stage a method or API deploys to; requirements live in its stage variables. */
function stageOf(api: apigateway.IRestApi): apigateway.CfnStage {
  const stage = api instanceof apigateway.RestApiBase ? api.deploymentStage : undefined;
  const cfnStage = stage?.node.defaultChild;
  if (!(cfnStage instanceof apigateway.CfnStage)) {
    throw new Error('OAuth2Authorizer requirements need a RestApi with its deployment stage (deploy: true)');
  }
  return cfnStage;
}

function setStageVariable(
  cfnStage: apigateway.CfnStage,
  name: string,
  requirements: OAuth2RouteRequirements,
): void {
  let value: string;
  try {
    value = formatRouteRequirements({
      scopes: requirements.scopes ?? [],
      ...(requirements.clientIds === undefined ? {} : { clientIds: requirements.clientIds }),
      ...(requirements.audiences === undefined ? {} : { audiences: requirements.audiences }),
      allowClientTokens: requirements.allowClientTokens ?? false,
    });
  } catch (error) {
    if (error instanceof RouteRequirementsError) throw new Error(error.message);
    throw error;
  }
  const current = (cfnStage.variables ?? {}) as Record<string, string>;
  if (current[name] !== undefined && current[name] !== value) {
    throw new Error(`requirements for ${name} are already set differently`);
  }
  cfnStage.variables = { ...current, [name]: value };
  if (Object.keys(cfnStage.variables).length > 100) {
    throw new Error('API Gateway allows at most 100 stage variables per stage');
  }
}

/**
 * Attaches the token service's authorizer to REST APIs outside its stack (the original's
 * "include the authentication policy in my app"), and declares what each route requires.
 */
export const OAuth2Authorizer = {
  /** By ARN, e.g. `Fn.importValue('OAuth2TokenService-AuthorizerArn')` (same account). */
  fromFunctionArn(
    scope: Construct,
    id: string,
    functionArn: string,
    options: OAuth2AuthorizerOptions = {},
  ): apigateway.RequestAuthorizer {
    // sameEnvironment: lets CDK add the invoke permission for this API to the imported function.
    const handler = lambda.Function.fromFunctionAttributes(scope, `${id}Function`, {
      functionArn,
      sameEnvironment: true,
    });
    return requestAuthorizer(scope, id, handler, options.resultsCacheTtl ?? Duration.seconds(0));
  },

  /**
   * By the SSM parameter the token service stack publishes (`ssmParameters.authorizerFunctionArn`,
   * default `/OAuth2TokenService/authorizer-function-arn`): for an API in another repository or
   * app, in the same account and region. CloudFormation reads the parameter at deploy time.
   */
  fromSsm(
    scope: Construct,
    id: string,
    options: OAuth2AuthorizerOptions & { readonly parameterName: string },
  ): apigateway.RequestAuthorizer {
    const { parameterName, ...rest } = options;
    return OAuth2Authorizer.fromFunctionArn(
      scope,
      id,
      ssm.StringParameter.valueForStringParameter(scope, parameterName),
      rest,
    );
  },

  /** The issuer URL the token service stack publishes (`ssmParameters.issuer`), resolved at deploy time. */
  issuerFromSsm(scope: Construct, parameterName: string): string {
    return ssm.StringParameter.valueForStringParameter(scope, parameterName);
  },

  /**
   * From a service in the same CDK app. The cache defaults to the service's own
   * `authorizerCacheTtlSeconds`, and may not exceed it: the service's admin function refuses
   * per-client token lifetimes below that value only.
   */
  fromTokenService(
    scope: Construct,
    id: string,
    service: OAuth2TokenService,
    options: OAuth2AuthorizerOptions = {},
  ): apigateway.RequestAuthorizer {
    const ttl = options.resultsCacheTtl ?? Duration.seconds(service.authorizerCacheTtlSeconds);
    if (ttl.toSeconds() > service.authorizerCacheTtlSeconds) {
      throw new Error(
        `resultsCacheTtl must not exceed the service's authorizerCacheTtlSeconds (${service.authorizerCacheTtlSeconds} s): a cached decision could outlive a token`,
      );
    }
    return requestAuthorizer(scope, id, service.authorizerFunction.function, ttl);
  },

  /**
   * Requirements of one route, e.g. `OAuth2Authorizer.protect(method, { scopes: ['orders:read'] })`.
   * Written as a stage variable named after the method and resource path; it replaces the API-wide
   * requirements for that route. Fails at synth for values a stage variable cannot carry.
   */
  protect(method: apigateway.Method, requirements: OAuth2RouteRequirements = {}): void {
    setStageVariable(
      stageOf(method.api),
      routeRequirementsVariable(method.httpMethod, method.resource.path),
      requirements,
    );
  },

  /** Requirements of every route of `api` that has none of its own. Without: user tokens only. */
  protectApi(api: apigateway.RestApiBase, requirements: OAuth2RouteRequirements = {}): void {
    setStageVariable(stageOf(api), API_REQUIREMENTS_VARIABLE, requirements);
  },

  /**
   * API Gateway's own answers for a bearer API, in the RFC 6750 shapes the service uses: 401
   * `invalid_token` (UNAUTHORIZED) and 403 `insufficient_scope` (ACCESS_DENIED: the authorizer's Deny
   * when a token misses the route's requirements), both no-store.
   */
  addGatewayResponses(api: apigateway.RestApiBase, realm = 'oauth2'): void {
    addBearerGatewayResponses(api, realm);
  },
};

const NO_STORE = { 'Cache-Control': "'no-store'", Pragma: "'no-cache'" };
const jsonError = (error: string, description: string) => ({
  'application/json': JSON.stringify({ error, error_description: description }),
});

/** See `OAuth2Authorizer.addGatewayResponses`; the token service uses it for its own API. */
export function addBearerGatewayResponses(api: apigateway.RestApiBase, realm: string): void {
  api.addGatewayResponse('Unauthorized', {
    type: apigateway.ResponseType.UNAUTHORIZED,
    statusCode: '401',
    responseHeaders: { ...NO_STORE, 'WWW-Authenticate': `'Bearer realm="${realm}", error="invalid_token"'` },
    templates: jsonError('invalid_token', 'The access token is missing, invalid, expired or revoked'),
  });
  api.addGatewayResponse('AccessDenied', {
    type: apigateway.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    responseHeaders: {
      ...NO_STORE,
      'WWW-Authenticate': `'Bearer realm="${realm}", error="insufficient_scope"'`,
    },
    templates: jsonError('insufficient_scope', 'The access token does not grant access to this resource'),
  });
}
