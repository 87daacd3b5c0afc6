import { Duration, Stack } from 'aws-cdk-lib';
import type { CfnAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OAuth2Authorizer } from '../../infra/oauth2-authorizer';
import {
  AUTH_CHECK_FUNCTION_ARN,
  acknowledgementsIn,
  CDK_JSON_CONTEXT,
  CERTIFICATE_ARN,
  CUSTOM_DOMAIN_NAME,
  CUSTOMISED_OAUTH2,
  SESSION_CHECK_URL,
  SYNTH_TIMEOUT_MS,
  synthTokenServiceStack,
  type TokenServiceSynth,
} from './synth-stack';
import {
  actionsOf,
  allStatements,
  authorizerOf,
  environmentOf,
  logicalIdOf,
  outputOf,
  permissionsOfRole,
  propertiesOf,
  resourceOf,
  resourcesOf,
  routesOf,
} from './template-queries';

const withCdkJson = (overrides: Record<string, unknown>) => ({
  ...(CDK_JSON_CONTEXT.oauth2 as Record<string, unknown>),
  ...overrides,
});

/**
 * Every stage option away from its default, passed as JSON text like `cdk synth -c oauth2='{...}'`.
 * Bundling is skipped: the options change the template, not the bundles.
 */
describe('OAuth2TokenServiceStack with every option changed', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack({ oauth2: JSON.stringify(CUSTOMISED_OAUTH2), bundle: false });
  }, SYNTH_TIMEOUT_MS);

  const service = () => synth.stack.service;
  const ref = (construct: IConstruct) => ({ Ref: logicalIdOf(construct) });

  it('is still clean under cdk-nag, with the same functions on Node.js 24 / arm64', () => {
    expect(synth.nag.violations).toEqual([]);
    expect(synth.nag.success).toBe(true);
    const functions = Object.values(resourcesOf(synth.template, 'AWS::Lambda::Function'));
    // Eight handlers, JWKS, the signing-key rotation and the hook secret's rotation function.
    expect(functions).toHaveLength(11);
    for (const { Properties } of functions) {
      expect(Properties.Runtime).toBe('nodejs24.x');
      expect(Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('token function: Lambda AuthCheck by ARN, no hook URL or secret, TTLs as configured', () => {
    expect(environmentOf(synth.template, service().tokenFunction.function)).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      CLIENTS_TABLE: ref(service().clientsTable),
      GRANTS_TABLE: ref(service().grantsTable),
      METRICS_SERVICE_NAME: 'OAuth2Custom',
      METRICS_BY_CLIENT: 'false',
      REQUIRE_SSL: 'true',
      LOG_LEVEL: 'WARN',
      ACCESS_TOKEN_TTL_SECONDS: '900',
      REFRESH_TOKEN_TTL_SECONDS: '86400',
      REFRESH_TOKEN_MAX_LIFETIME_SECONDS: '604800',
      REFRESH_REUSE_GRACE_SECONDS: '10',
      LOCKOUT_THRESHOLD: '3',
      LOCKOUT_BASE_SECONDS: '30',
      LOCKOUT_MAX_SECONDS: '600',
      LOCKOUT_KEY_SECRET_ARN: ref(service().lockoutKeySecret),
      AUTH_CHECK_FUNCTION_NAME: AUTH_CHECK_FUNCTION_ARN,
      ACCESS_TOKEN_FORMAT: 'opaque',
      SIGNING_KEYS_SECRET_ARN: ref(service().signingKeys.secret),
      ISSUER: `https://${CUSTOM_DOMAIN_NAME}`,
    });
  });

  it('token role may invoke exactly the configured AuthCheck function and may not read the hook secret', () => {
    const permissions = permissionsOfRole(synth.template, service().tokenFunction.role);
    const hookLines = permissions.filter((line) => /lambda:|secretsmanager:/.test(line));
    const lockoutKey = JSON.stringify(ref(service().lockoutKeySecret));
    const signingKeys = JSON.stringify(ref(service().signingKeys.secret));
    expect(hookLines.filter((line) => !line.includes(lockoutKey) && !line.includes(signingKeys))).toEqual([
      `Allow lambda:InvokeFunction "${AUTH_CHECK_FUNCTION_ARN}"`,
    ]);
    // 2 logs, 1 clients, 3 grants, 1 invoke, 2 on the lockout key secret, 2 reading the signing keys
    expect(permissions).toHaveLength(11);
  });

  it('authorizer: session check over https, its key referenced by ARN and readable by the authorizer and the authorize function only', () => {
    const environment = environmentOf(synth.template, service().authorizerFunction.function);
    expect(environment).toMatchObject({
      SESSION_CHECK_URL: SESSION_CHECK_URL,
      SESSION_CHECK_SECRET_ARN: ref(service().hookSecret),
      LOG_LEVEL: 'WARN',
    });
    expect(environment).not.toHaveProperty('SESSION_CHECK_SECRET');
    expect(permissionsOfRole(synth.template, service().authorizerFunction.role)).toEqual(
      expect.arrayContaining([
        `Allow secretsmanager:GetSecretValue ${JSON.stringify(ref(service().hookSecret))}`,
      ]),
    );
    const hookSecretReaders = Object.values(resourcesOf(synth.template, 'AWS::IAM::Policy')).filter(
      ({ Properties }) =>
        JSON.stringify(Properties).includes('secretsmanager:GetSecretValue') &&
        JSON.stringify(Properties).includes(JSON.stringify(ref(service().hookSecret))),
    );
    // The authorizer, the rotation function (which must read and write it to rotate it), and the
    // authorize function, which asks the same session check (a signed-in user gets a code at once).
    expect(hookSecretReaders.map(({ Properties }) => JSON.stringify(Properties.Roles)).sort()).toEqual(
      [
        [ref(service().hookSecretRotationFunction.role)],
        [ref(service().authorizerFunction.role)],
        [ref(service().authorizeEndpoint.fn.role)],
      ]
        .map((roles) => JSON.stringify(roles))
        .sort(),
    );
    expect(environmentOf(synth.template, service().authorizeEndpoint.fn.function)).toMatchObject({
      SESSION_CHECK_URL: SESSION_CHECK_URL,
      SESSION_CHECK_SECRET_ARN: ref(service().hookSecret),
      AUTH_CHECK_FUNCTION_NAME: AUTH_CHECK_FUNCTION_ARN,
      ISSUER: expect.any(String),
    });
    // The JWKS function reads no secret at all (it serves the public key item only).
    const secretReaderRoles = Object.values(resourcesOf(synth.template, 'AWS::IAM::Policy'))
      .filter(({ Properties }) => JSON.stringify(Properties).includes('secretsmanager:GetSecretValue'))
      .flatMap(({ Properties }) => Properties.Roles as unknown[])
      .map((role) => JSON.stringify(role));
    expect(secretReaderRoles).not.toContain(JSON.stringify(ref(service().jwksFunction.role)));
  });

  it('no wildcard action anywhere', () => {
    for (const { at, statement } of allStatements(synth.template)) {
      for (const action of actionsOf(statement)) expect(action, at).not.toContain('*');
    }
  });

  it('authorizer with a session check: no identity source and no result cache', () => {
    const authorizer = propertiesOf(synth.template, authorizerOf(service()));
    expect(authorizer.Type).toBe('REQUEST');
    expect(authorizer.AuthorizerResultTtlInSeconds).toBe(0);
    expect(['', undefined]).toContain(authorizer.IdentitySource);
  });

  it('retainData false: tables deletable, still with point-in-time recovery and encryption', () => {
    for (const table of [service().clientsTable, service().grantsTable]) {
      const resource = resourceOf(synth.template, table);
      expect(resource.Properties).toMatchObject({
        DeletionProtectionEnabled: false,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
      expect(resource.DeletionPolicy).toBe('Delete');
    }
    expect(resourceOf(synth.template, service().node.findChild('AccessLogs')).DeletionPolicy).toBe('Delete');
  });

  it('stage and method throttling as configured, logging unchanged on every setting', () => {
    const { token, authorize, revokeIntrospect } = CUSTOMISED_OAUTH2.endpointThrottles;
    const setting = (resourcePath: string, throttle: { rateLimit: number; burstLimit: number }) => ({
      HttpMethod: '*',
      ResourcePath: resourcePath,
      ThrottlingRateLimit: throttle.rateLimit,
      ThrottlingBurstLimit: throttle.burstLimit,
      LoggingLevel: 'ERROR',
      DataTraceEnabled: false,
    });
    expect(propertiesOf(synth.template, service().api.deploymentStage).MethodSettings).toEqual([
      expect.objectContaining(setting('/*', CUSTOMISED_OAUTH2.throttle)),
      setting('/~1oauth2~1token', token),
      setting('/~1oauth2~1authorize', authorize),
      setting('/~1oauth2~1revoke', revokeIntrospect),
      setting('/~1oauth2~1introspect', revokeIntrospect),
    ]);
  });

  it('reserves the configured concurrency for the token function only', () => {
    const { tokenFunction, ...others } = service();
    expect(propertiesOf(synth.template, tokenFunction.function).ReservedConcurrentExecutions).toBe(
      CUSTOMISED_OAUTH2.tokenReservedConcurrency,
    );
    const reserved = Object.values(resourcesOf(synth.template, 'AWS::Lambda::Function')).filter(
      ({ Properties }) => Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserved).toHaveLength(1);
    expect(others.authorizerFunction).toBeDefined();
  });

  it('associates a regional WAF web ACL with the stage, blocking an IP over the rate with 429', () => {
    const acls = Object.values(resourcesOf(synth.template, 'AWS::WAFv2::WebACL'));
    expect(acls).toHaveLength(1);
    expect(acls[0]?.Properties).toMatchObject({
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        {
          Name: 'PerIpRateLimit',
          Statement: {
            RateBasedStatement: { Limit: CUSTOMISED_OAUTH2.waf.perIpRateLimit, AggregateKeyType: 'IP' },
          },
          Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
        },
      ],
    });
    const webAcl = service().protection.webAcl;
    if (webAcl === undefined) throw new Error('expected a web ACL');
    const associations = Object.values(resourcesOf(synth.template, 'AWS::WAFv2::WebACLAssociation'));
    expect(associations).toHaveLength(1);
    expect(associations[0]?.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(webAcl), 'Arn'] });
    const stageArn = JSON.stringify(associations[0]?.Properties.ResourceArn);
    expect(stageArn).toContain(':apigateway:');
    expect(stageArn).toContain(JSON.stringify(ref(service().api)));
    expect(stageArn).toContain(`"/stages/",${JSON.stringify(ref(service().api.deploymentStage))}`);
    // With the web ACL there is nothing to acknowledge for cdk-nag's WAF rule.
    expect(acknowledgementsIn(synth.stack).map(({ id }) => id)).not.toContain('AwsSolutions-APIG3');
  });

  it('lets exactly the named principals invoke the admin function, and publishes the guard for everyone else', () => {
    const permissions = Object.values(resourcesOf(synth.template, 'AWS::Lambda::Permission')).filter(
      ({ Properties }) =>
        JSON.stringify(Properties.FunctionName).includes(logicalIdOf(service().adminFunction.function)),
    );
    expect(permissions.map(({ Properties }) => Properties.Principal).sort()).toEqual(
      [...CUSTOMISED_OAUTH2.adminInvokerArns].sort(),
    );
    for (const { Properties } of permissions) expect(Properties.Action).toBe('lambda:InvokeFunction');
    const adminAccess = service().adminAccess;
    if (adminAccess === undefined) throw new Error('expected admin access');
    const guard = JSON.stringify(outputOf(synth.template, adminAccess, 'AdminInvokeGuardPolicy').Value);
    expect(guard).toContain('\\"Effect\\":\\"Deny\\"');
    expect(guard).toContain('ArnNotEquals');
    for (const arn of CUSTOMISED_OAUTH2.adminInvokerArns) expect(guard).toContain(arn);
  });

  it('custom domain: TLS 1.2 policy, regional, mapped to the stage; execute-api endpoint switched off', () => {
    synth.template.resourceCountIs('AWS::ApiGateway::DomainName', 1);
    synth.template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: CUSTOM_DOMAIN_NAME,
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      RegionalCertificateArn: CERTIFICATE_ARN,
    });
    synth.template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      RestApiId: ref(service().api),
      Stage: ref(service().api.deploymentStage),
    });
    expect(propertiesOf(synth.template, service().api).DisableExecuteApiEndpoint).toBe(true);
    expect(outputOf(synth.template, service(), 'CustomDomainTarget').Value).toEqual({
      'Fn::GetAtt': [expect.any(String), 'RegionalDomainName'],
    });
  });

  it('exports the authorizer under the configured stack name', () => {
    expect(outputOf(synth.template, service(), 'AuthorizerArn').Export).toEqual({
      Name: 'OAuth2Custom-AuthorizerArn',
    });
  });

  // The execute-api hostname is disabled with a custom domain, so the published URL must be the domain's.
  it('with a custom domain, TokenUrl is https://<domain>/oauth2/token', () => {
    expect(outputOf(synth.template, service(), 'TokenUrl').Value).toBe(
      `https://${CUSTOM_DOMAIN_NAME}/oauth2/token`,
    );
  });
});

/** The result cache TTL and the TLS switch, which the session check above overrides or leaves on. */
describe('OAuth2TokenServiceStack with cache TTL and TLS check changed', {
  timeout: SYNTH_TIMEOUT_MS,
}, () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack({
      oauth2: withCdkJson({ authorizerCacheTtlSeconds: 60, requireSsl: false }),
      bundle: false,
    });
  }, SYNTH_TIMEOUT_MS);

  it('caches authorizer results for the configured 60 s, keyed on the token, the method and the resource path', () => {
    expect(propertiesOf(synth.template, authorizerOf(synth.stack.service))).toMatchObject({
      AuthorizerResultTtlInSeconds: 60,
      IdentitySource: 'method.request.header.Authorization,context.httpMethod,context.resourcePath',
    });
    expect(environmentOf(synth.template, synth.stack.service.adminFunction.function)).toMatchObject({
      AUTHORIZER_CACHE_TTL_SECONDS: '60',
    });
  });

  it('OAuth2Authorizer takes the same setting: the service’s cache as ceiling, 0 by default by ARN', () => {
    const consumer = new Stack(synth.app, 'Consumer');
    const service = synth.stack.service;
    expect(() =>
      OAuth2Authorizer.fromTokenService(consumer, 'TooLong', service, {
        resultsCacheTtl: Duration.seconds(61),
      }),
    ).toThrow(/must not exceed the service's authorizerCacheTtlSeconds \(60 s\)/);
    const same = OAuth2Authorizer.fromTokenService(consumer, 'Same', service);
    const byArn = OAuth2Authorizer.fromFunctionArn(
      consumer,
      'ByArn',
      service.authorizerFunction.function.functionArn,
    );
    const ttlOf = (authorizer: IConstruct) =>
      consumer.resolve((authorizer.node.defaultChild as CfnAuthorizer).authorizerResultTtlInSeconds);
    expect(ttlOf(same)).toBe(60);
    expect(ttlOf(byArn)).toBe(0);
    expect(() =>
      OAuth2Authorizer.fromFunctionArn(consumer, 'Hour', 'arn:aws:lambda:eu-west-1:123456789012:function:x', {
        resultsCacheTtl: Duration.seconds(3601),
      }),
    ).toThrow(/at most 3600 s/);
  });

  it('refuses at synth a cache TTL above the access-token lifetime', () => {
    expect(() =>
      synthTokenServiceStack({
        oauth2: withCdkJson({ authorizerCacheTtlSeconds: 601, accessTokenTtlSeconds: 600 }),
        bundle: false,
      }),
    ).toThrow(/authorizerCacheTtlSeconds must not exceed accessTokenTtlSeconds/);
  });

  it('passes an explicit requireSsl false to both HTTP-facing functions', () => {
    const { tokenFunction, authorizerFunction } = synth.stack.service;
    for (const fn of [tokenFunction, authorizerFunction]) {
      expect(environmentOf(synth.template, fn.function).REQUIRE_SSL).toBe('false');
    }
  });
});

// An authorizer attached to no RestApi fails synthesis, so without /me there must be none.
it(
  'demoRoute false synthesises, without /me, its function or an authorizer',
  () => {
    const synth = synthTokenServiceStack({ oauth2: withCdkJson({ demoRoute: false }), bundle: false });
    expect(routesOf(synth.template)).not.toContain('GET /me');
    synth.template.resourcePropertiesCountIs('AWS::ApiGateway::Resource', { PathPart: 'me' }, 0);
    // Without /me: token, authorize, revocation, introspection, metadata, authorizer, admin, hook
    // rotation, JWKS and signing-key rotation.
    synth.template.resourceCountIs('AWS::Lambda::Function', 10);
    expect(synth.stack.service.node.tryFindChild('Me')).toBeUndefined();
    synth.template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    expect(outputOf(synth.template, synth.stack.service, 'AuthorizerArn').Export).toEqual({
      Name: 'OAuth2TokenService-AuthorizerArn',
    });
    expect(synth.nag.violations).toEqual([]);
  },
  SYNTH_TIMEOUT_MS,
);
