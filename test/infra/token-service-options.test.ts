import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_CHECK_FUNCTION_ARN,
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
    expect(functions).toHaveLength(9); // + JWKS and signing-key rotation
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
      REQUIRE_SSL: 'true',
      LOG_LEVEL: 'WARN',
      ACCESS_TOKEN_TTL_SECONDS: '900',
      REFRESH_TOKEN_TTL_SECONDS: '86400',
      REFRESH_REUSE_GRACE_SECONDS: '10',
      LOCKOUT_THRESHOLD: '3',
      LOCKOUT_BASE_SECONDS: '30',
      LOCKOUT_MAX_SECONDS: '600',
      AUTH_CHECK_FUNCTION_NAME: AUTH_CHECK_FUNCTION_ARN,
      ACCESS_TOKEN_FORMAT: 'opaque',
      SIGNING_KEYS_SECRET_ARN: ref(service().signingKeys.secret),
      ISSUER: `https://${CUSTOM_DOMAIN_NAME}`,
    });
  });

  it('token role may invoke exactly the configured AuthCheck function and may not read the hook secret', () => {
    const permissions = permissionsOfRole(synth.template, service().tokenFunction.role);
    const hookLines = permissions.filter(
      (line) =>
        /lambda:|secretsmanager:/.test(line) && !line.includes(logicalIdOf(service().signingKeys.secret)),
    );
    expect(hookLines).toEqual([`Allow lambda:InvokeFunction "${AUTH_CHECK_FUNCTION_ARN}"`]);
    // 2 logs, 1 clients, 4 grants, 1 invoke, and reading the signing keys (GetSecretValue, DescribeSecret)
    expect(permissions).toHaveLength(10);
  });

  it('authorizer: session check over https, its key referenced by ARN and readable by the authorizer only', () => {
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
    const secretReaders = Object.values(resourcesOf(synth.template, 'AWS::IAM::Policy')).filter(
      ({ Properties }) => JSON.stringify(Properties).includes('secretsmanager:GetSecretValue'),
    );
    // The hook secret's only reader is the authorizer (the others read the signing-key secret).
    const hookSecretReaders = secretReaders.filter(({ Properties }) =>
      JSON.stringify(Properties).includes(logicalIdOf(service().hookSecret)),
    );
    expect(hookSecretReaders.map(({ Properties }) => Properties.Roles)).toEqual([
      [ref(service().authorizerFunction.role)],
    ]);
    expect(
      secretReaders
        .flatMap(({ Properties }) => Properties.Roles as unknown[])
        .map((role) => JSON.stringify(role)),
    ).not.toContain(JSON.stringify(ref(service().jwksFunction.role)));
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

  it('stage throttling as configured, logging unchanged', () => {
    expect(propertiesOf(synth.template, service().api.deploymentStage).MethodSettings).toEqual([
      expect.objectContaining({
        ThrottlingRateLimit: 7,
        ThrottlingBurstLimit: 13,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      }),
    ]);
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

  it('caches authorizer results for the configured 60 s, keyed on the Authorization header', () => {
    expect(propertiesOf(synth.template, authorizerOf(synth.stack.service))).toMatchObject({
      AuthorizerResultTtlInSeconds: 60,
      IdentitySource: 'method.request.header.Authorization',
    });
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
    synth.template.resourceCountIs('AWS::Lambda::Function', 8);
    expect(synth.stack.service.node.tryFindChild('Me')).toBeUndefined();
    synth.template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    expect(outputOf(synth.template, synth.stack.service, 'AuthorizerArn').Export).toEqual({
      Name: 'OAuth2TokenService-AuthorizerArn',
    });
    expect(synth.nag.violations).toEqual([]);
  },
  SYNTH_TIMEOUT_MS,
);
