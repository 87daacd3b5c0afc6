import { describe, expect, it } from 'vitest';
import { DEFAULT_MONITORING_THRESHOLDS } from '../../infra/service-monitoring';
import {
  isPlaceholderHook,
  PLACEHOLDER_AUTH_CHECK_URL,
  parseStageConfig,
  type StageConfig,
  StageConfigError,
} from '../../infra/stage-config';
import { CDK_JSON_CONTEXT } from './synth-stack';

const HTTP_AUTH_CHECK = { kind: 'http', url: 'https://auth-check.example.com/oauth2/check' } as const;
const LAMBDA_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:auth-check';

/** The problems parseStageConfig reports for `raw`; fails the test if it accepts it. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    parseStageConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(StageConfigError);
    const stageError = error as StageConfigError;
    expect(stageError.name).toBe('StageConfigError');
    for (const problem of stageError.problems) expect(stageError.message).toContain(problem);
    return stageError.problems;
  }
  throw new Error(`parseStageConfig accepted ${JSON.stringify(raw)}`);
}

const withAuthCheck = (extra: Record<string, unknown>) => ({ authCheck: HTTP_AUTH_CHECK, ...extra });

describe('parseStageConfig', () => {
  it('fills in the secure defaults around the one required setting', () => {
    const config = parseStageConfig({ authCheck: HTTP_AUTH_CHECK });
    expect(config).toEqual({
      stackName: 'OAuth2TokenService',
      authCheck: HTTP_AUTH_CHECK,
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 2_592_000,
      refreshReuseGraceSeconds: 0,
      lockoutThreshold: 5,
      lockoutBaseSeconds: 60,
      lockoutMaxSeconds: 900,
      refreshTokenMaxLifetimeSeconds: 7_776_000,
      requireSsl: true,
      authorizerCacheTtlSeconds: 0,
      demoRoute: true,
      retainData: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      endpointThrottles: {
        token: { rateLimit: 25, burstLimit: 50 },
        authorize: { rateLimit: 10, burstLimit: 20 },
        revokeIntrospect: { rateLimit: 10, burstLimit: 20 },
      },
      logLevel: 'INFO',
      accessTokenFormat: 'opaque',
      jwtRevocationCheck: false,
      signingKeyRotationDays: 90,
      signingKeyPublishAheadSeconds: 7200,
      monitoring: { thresholds: DEFAULT_MONITORING_THRESHOLDS },
      metricsByClient: false,
      cloudWatchRole: true,
      ssmParameters: {
        authorizerFunctionArn: '/OAuth2TokenService/authorizer-function-arn',
        issuer: '/OAuth2TokenService/issuer',
      },
    } satisfies StageConfig);
    expect(config).not.toHaveProperty('hookSecretRotationDays');
    expect(config).not.toHaveProperty('sessionCheck');
    expect(config).not.toHaveProperty('tokenReservedConcurrency');
    expect(config).not.toHaveProperty('waf');
    expect(config).not.toHaveProperty('adminInvokerArns');
    expect(config).not.toHaveProperty('customDomain');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('JWT mode: access tokens default to 900 s unless set; the JWT settings are validated', () => {
    const jwt = parseStageConfig({ authCheck: HTTP_AUTH_CHECK, accessTokenFormat: 'jwt' });
    expect(jwt).toMatchObject({ accessTokenFormat: 'jwt', accessTokenTtlSeconds: 900 });
    expect(
      parseStageConfig({ authCheck: HTTP_AUTH_CHECK, accessTokenFormat: 'jwt', accessTokenTtlSeconds: 300 })
        .accessTokenTtlSeconds,
    ).toBe(300);
    expect(() =>
      parseStageConfig({
        authCheck: HTTP_AUTH_CHECK,
        accessTokenFormat: 'JWT',
        signingKeyRotationDays: 0,
        signingKeyPublishAheadSeconds: -1,
        jwtRevocationCheck: 'true',
        authorizerJwtAudience: 'https://api.example.com',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'accessTokenFormat must be "opaque" or "jwt"',
          'authorizerJwtAudience must be a non-empty array of strings without spaces',
          'jwtRevocationCheck must be true or false (a JSON boolean, not a string)',
          'signingKeyRotationDays must be an integer from 1 to 3650',
          'signingKeyPublishAheadSeconds must be an integer from 0 to 604800',
        ],
      }),
    );
  });

  it('accepts the oauth2 context of cdk.json as it is committed', () => {
    const config = parseStageConfig(CDK_JSON_CONTEXT.oauth2);
    expect(config).toEqual(parseStageConfig({ authCheck: HTTP_AUTH_CHECK }));
  });

  it('accepts the JSON text that `cdk synth -c oauth2=...` passes', () => {
    const raw = {
      authCheck: { kind: 'lambda', functionArn: LAMBDA_ARN },
      sessionCheck: { kind: 'http', url: 'https://sessions.example.com/check' },
      customDomain: {
        domainName: 'auth.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123',
      },
      requireSsl: false,
      retainData: false,
      demoRoute: false,
      authorizerCacheTtlSeconds: 0,
    };
    expect(parseStageConfig(JSON.stringify(raw))).toEqual(parseStageConfig(raw));
    expect(parseStageConfig(JSON.stringify(raw))).toMatchObject({
      authCheck: { kind: 'lambda', functionArn: LAMBDA_ARN },
      sessionCheck: { kind: 'http', url: 'https://sessions.example.com/check' },
      customDomain: { domainName: 'auth.example.com' },
      requireSsl: false,
      retainData: false,
      demoRoute: false,
      authorizerCacheTtlSeconds: 0,
    });
  });

  it('accepts a qualified Lambda ARN (alias or version) for a hook', () => {
    const functionArn = `${LAMBDA_ARN}:live`;
    expect(parseStageConfig({ authCheck: { kind: 'lambda', functionArn } }).authCheck).toEqual({
      kind: 'lambda',
      functionArn,
    });
  });

  it('rejects text that is not JSON, and values that are not objects', () => {
    expect(problemsOf('{"authCheck":')).toEqual(['the value is not valid JSON']);
    for (const raw of [undefined, null, 42, [HTTP_AUTH_CHECK], '"a string"']) {
      expect(problemsOf(raw)).toEqual(['"oauth2" must be an object with at least "authCheck"']);
    }
  });

  it('requires authCheck', () => {
    expect(problemsOf({})).toEqual([
      'authCheck is required: {"kind":"http","url":"https://..."} or {"kind":"lambda","functionArn":"arn:aws:lambda:..."}',
    ]);
  });

  it.each([
    ['plain http', 'http://auth-check.example.com/check'],
    ['credentials in the URL', 'https://user:secret@auth-check.example.com/check'],
    ['not a URL', 'auth-check.example.com'],
    ['not a string', 443],
  ])('rejects an http hook URL with %s', (_, url) => {
    expect(problemsOf({ authCheck: { kind: 'http', url } })).toEqual([
      'authCheck.url must be an https:// URL without credentials',
    ]);
    expect(problemsOf(withAuthCheck({ sessionCheck: { kind: 'http', url } }))).toEqual([
      'sessionCheck.url must be an https:// URL without credentials',
    ]);
  });

  it.each([
    ['a function name', 'auth-check'],
    ['a role ARN', 'arn:aws:iam::123456789012:role/auth-check'],
    ['a short account id', 'arn:aws:lambda:eu-west-1:1234:function:auth-check'],
    ['a wildcard', 'arn:aws:lambda:eu-west-1:123456789012:function:*'],
  ])('rejects a Lambda hook given %s', (_, functionArn) => {
    expect(problemsOf({ authCheck: { kind: 'lambda', functionArn } })).toEqual([
      'authCheck.functionArn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)',
    ]);
  });

  it('rejects an unknown hook kind', () => {
    expect(problemsOf({ authCheck: { kind: 'ldap', url: 'https://x.example.com' } })).toEqual([
      'authCheck.kind must be "http" or "lambda"',
    ]);
    expect(problemsOf({ authCheck: 'https://x.example.com' })).toEqual([
      'authCheck.kind must be "http" or "lambda"',
    ]);
  });

  it('rejects unknown keys, e.g. a misspelt security setting', () => {
    expect(problemsOf(withAuthCheck({ requireSSL: false }))).toEqual(['unknown key "requireSSL"']);
  });

  it.each(['requireSsl', 'demoRoute', 'retainData'])('takes %s only as a JSON boolean', (key) => {
    for (const value of ['false', 'true', 0, 1]) {
      expect(problemsOf(withAuthCheck({ [key]: value }))).toEqual([
        `${key} must be true or false (a JSON boolean, not a string)`,
      ]);
    }
  });

  it('turns the TLS check off only for an explicit false', () => {
    expect(parseStageConfig(withAuthCheck({ requireSsl: false })).requireSsl).toBe(false);
    expect(parseStageConfig(withAuthCheck({ requireSsl: true })).requireSsl).toBe(true);
    expect(parseStageConfig(withAuthCheck({})).requireSsl).toBe(true);
  });

  it.each([
    ['accessTokenTtlSeconds', 60, 86_400],
    ['refreshTokenTtlSeconds', 60, 31_536_000],
    ['refreshReuseGraceSeconds', 0, 300],
    ['lockoutThreshold', 0, 100],
    ['authorizerCacheTtlSeconds', 0, 3600],
  ])('takes %s as an integer from %i to %i', (key, min, max) => {
    expect(parseStageConfig(withAuthCheck({ [key]: min }))).toHaveProperty(key, min);
    expect(parseStageConfig(withAuthCheck({ [key]: max }))).toHaveProperty(key, max);
    for (const value of [min - 1, max + 1, min + 0.5, String(max)]) {
      expect(problemsOf(withAuthCheck({ [key]: value }))).toEqual([
        `${key} must be an integer from ${min} to ${max}`,
      ]);
    }
  });

  it('turns the authorizer cache off by default and never lets it outlive an access token', () => {
    expect(parseStageConfig(withAuthCheck({})).authorizerCacheTtlSeconds).toBe(0);
    expect(
      parseStageConfig(withAuthCheck({ accessTokenTtlSeconds: 300, authorizerCacheTtlSeconds: 300 })),
    ).toMatchObject({ accessTokenTtlSeconds: 300, authorizerCacheTtlSeconds: 300 });
    expect(problemsOf(withAuthCheck({ accessTokenTtlSeconds: 300, authorizerCacheTtlSeconds: 301 }))).toEqual(
      [
        'authorizerCacheTtlSeconds must not exceed accessTokenTtlSeconds: a cached decision would outlive the token',
      ],
    );
  });

  it('takes own method throttles per endpoint, keeping the defaults of those not named', () => {
    const config = parseStageConfig(
      withAuthCheck({ endpointThrottles: { token: { rateLimit: 5, burstLimit: 9 } } }),
    );
    expect(config.endpointThrottles).toEqual({
      token: { rateLimit: 5, burstLimit: 9 },
      authorize: { rateLimit: 10, burstLimit: 20 },
      revokeIntrospect: { rateLimit: 10, burstLimit: 20 },
    });
    expect(
      problemsOf(
        withAuthCheck({
          endpointThrottles: { token: { rateLimit: 0, burstLimit: 9 }, tokens: {}, revokeIntrospect: 5 },
        }),
      ),
    ).toEqual([
      'unknown key "endpointThrottles.tokens"',
      'endpointThrottles.token.rateLimit must be a number of requests per second from 1 to 10000',
      'endpointThrottles.revokeIntrospect.rateLimit must be a number of requests per second from 1 to 10000',
      'endpointThrottles.revokeIntrospect.burstLimit must be an integer from 1 to 5000',
    ]);
  });

  it('takes token reserved concurrency as an integer from 1 to 1000, off when absent', () => {
    expect(parseStageConfig(withAuthCheck({ tokenReservedConcurrency: 50 })).tokenReservedConcurrency).toBe(
      50,
    );
    for (const value of [0, 1001, 2.5, '50']) {
      expect(problemsOf(withAuthCheck({ tokenReservedConcurrency: value }))).toEqual([
        'tokenReservedConcurrency must be an integer from 1 to 1000',
      ]);
    }
  });

  it('takes waf.perIpRateLimit as WAF allows it (10 to 2e9 per 5 minutes)', () => {
    expect(parseStageConfig(withAuthCheck({ waf: { perIpRateLimit: 300 } })).waf).toEqual({
      perIpRateLimit: 300,
    });
    expect(problemsOf(withAuthCheck({ waf: { perIpRateLimit: 9 } }))).toEqual([
      'waf.perIpRateLimit must be an integer from 10 to 2000000000',
    ]);
    expect(problemsOf(withAuthCheck({ waf: {} }))).toEqual([
      'waf.perIpRateLimit is required: requests per IP per 5 minutes, 10 to 2000000000',
    ]);
    expect(problemsOf(withAuthCheck({ waf: { perIpRateLimit: 100, rate: 1 } }))).toEqual([
      'unknown key "waf.rate"',
    ]);
  });

  it('takes adminInvokerArns as IAM role or user ARNs only', () => {
    const role = 'arn:aws:iam::123456789012:role/oauth2-support';
    const user = 'arn:aws:iam::123456789012:user/path/alice';
    expect(
      parseStageConfig(withAuthCheck({ adminInvokerArns: [role, user, role] })).adminInvokerArns,
    ).toEqual([role, user]);
    for (const value of [
      [],
      'arn:aws:iam::123456789012:role/x',
      ['arn:aws:iam::123456789012:root'],
      ['arn:aws:sts::123456789012:assumed-role/x/y'],
      ['*'],
      [role, 7],
    ]) {
      expect(problemsOf(withAuthCheck({ adminInvokerArns: value }))).toEqual([
        'adminInvokerArns must be a list of 1 to 20 IAM role or user ARNs (arn:aws:iam::<account>:role/<name>)',
      ]);
    }
  });

  it('refuses a lockout cap below its first window', () => {
    expect(
      parseStageConfig(withAuthCheck({ lockoutBaseSeconds: 900, lockoutMaxSeconds: 900 })),
    ).toMatchObject({
      lockoutBaseSeconds: 900,
      lockoutMaxSeconds: 900,
    });
    expect(problemsOf(withAuthCheck({ lockoutBaseSeconds: 120, lockoutMaxSeconds: 60 }))).toEqual([
      'lockoutMaxSeconds must be at least lockoutBaseSeconds',
    ]);
    expect(problemsOf(withAuthCheck({ lockoutBaseSeconds: 3601, lockoutMaxSeconds: 86_400 }))).toEqual([
      'lockoutBaseSeconds must be an integer from 1 to 3600',
    ]);
    expect(problemsOf(withAuthCheck({ lockoutMaxSeconds: 86_401 }))).toEqual([
      'lockoutMaxSeconds must be an integer from 1 to 86400',
    ]);
  });

  it('validates the throttle', () => {
    expect(parseStageConfig(withAuthCheck({ throttle: { rateLimit: 1, burstLimit: 1 } })).throttle).toEqual({
      rateLimit: 1,
      burstLimit: 1,
    });
    expect(problemsOf(withAuthCheck({ throttle: { rateLimit: 0, burstLimit: 1.5 } }))).toEqual([
      'throttle.rateLimit must be a number of requests per second from 1 to 10000',
      'throttle.burstLimit must be an integer from 1 to 5000',
    ]);
    expect(problemsOf(withAuthCheck({ throttle: {} }))).toHaveLength(2);
  });

  it('validates the custom domain', () => {
    expect(
      problemsOf(
        withAuthCheck({ customDomain: { domainName: 'https://auth.example.com', certificateArn: 'x' } }),
      ),
    ).toEqual(['customDomain.domainName must be a DNS name']);
    expect(
      problemsOf(
        withAuthCheck({
          customDomain: {
            domainName: 'auth.example.com',
            certificateArn: 'arn:aws:iam::123456789012:server-certificate/x',
          },
        }),
      ),
    ).toEqual(['customDomain.certificateArn must be an ACM certificate ARN']);
  });

  it('validates logLevel and stackName', () => {
    expect(problemsOf(withAuthCheck({ logLevel: 'TRACE' }))).toEqual([
      'logLevel must be one of DEBUG, INFO, WARN, ERROR',
    ]);
    expect(problemsOf(withAuthCheck({ stackName: '1-oauth2' }))).toEqual([
      'stackName must start with a letter and contain only letters, digits and hyphens',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      authCheck: { kind: 'http', url: 'http://auth-check.example.com' },
      requireSsl: 'false',
      accessTokenTtlSeconds: 0,
      colour: 'blue',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'unknown key "colour"',
        'authCheck.url must be an https:// URL without credentials',
        'requireSsl must be true or false (a JSON boolean, not a string)',
        'accessTokenTtlSeconds must be an integer from 60 to 86400',
      ]),
    );
    expect(problems).toHaveLength(4);
  });
});

describe('monitoring, metricsByClient, hookSecretRotationDays', () => {
  it('takes monitoring false, an alarm e-mail and any subset of thresholds over the defaults', () => {
    expect(parseStageConfig({ authCheck: HTTP_AUTH_CHECK, monitoring: false }).monitoring).toBe(false);
    const config = parseStageConfig({
      authCheck: HTTP_AUTH_CHECK,
      monitoring: {
        alarmEmail: 'ops@example.com',
        thresholds: { lockoutsPer5Minutes: 50, authCheckLatencyP99Ms: 1500 },
      },
      metricsByClient: true,
      hookSecretRotationDays: 30,
    });
    expect(config.monitoring).toEqual({
      alarmEmail: 'ops@example.com',
      thresholds: { ...DEFAULT_MONITORING_THRESHOLDS, lockoutsPer5Minutes: 50, authCheckLatencyP99Ms: 1500 },
    });
    expect(config).toMatchObject({ metricsByClient: true, hookSecretRotationDays: 30 });
  });

  it('lists every mistake: unknown threshold, bad values, a non-address, rotation days out of range', () => {
    expect(() =>
      parseStageConfig({
        authCheck: HTTP_AUTH_CHECK,
        monitoring: {
          alarmEmail: 'not-an-address',
          thresholds: { lockoutSpike: 3, tokenServerErrorRatePercent: 0, apiGateway5xx: '5' },
          topic: 'x',
        },
        metricsByClient: 'yes',
        hookSecretRotationDays: 0,
      }),
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'unknown key "monitoring.topic"',
          'monitoring.alarmEmail must be an e-mail address',
          'unknown key "monitoring.thresholds.lockoutSpike"',
          'monitoring.thresholds.tokenServerErrorRatePercent must be a number above 0 and at most 100',
          'monitoring.thresholds.apiGateway5xx must be a number above 0 and at most 1000000',
          'metricsByClient must be true or false (a JSON boolean, not a string)',
          'hookSecretRotationDays must be an integer from 1 to 365',
        ]),
      }),
    );
    expect(() => parseStageConfig({ authCheck: HTTP_AUTH_CHECK, monitoring: true })).toThrow(
      /monitoring must be false or an object/,
    );
  });
});

describe('stage config: what other repositories and the account see', () => {
  it('cloudWatchRole is a JSON boolean, true unless switched off', () => {
    expect(parseStageConfig({ authCheck: HTTP_AUTH_CHECK }).cloudWatchRole).toBe(true);
    expect(parseStageConfig({ authCheck: HTTP_AUTH_CHECK, cloudWatchRole: false }).cloudWatchRole).toBe(
      false,
    );
    expect(() => parseStageConfig({ authCheck: HTTP_AUTH_CHECK, cloudWatchRole: 'false' })).toThrow(
      /cloudWatchRole must be true or false/,
    );
  });

  it('ssmParameters default under the stack name, and take names of their own', () => {
    expect(parseStageConfig({ authCheck: HTTP_AUTH_CHECK, stackName: 'Auth-Dev' }).ssmParameters).toEqual({
      authorizerFunctionArn: '/Auth-Dev/authorizer-function-arn',
      issuer: '/Auth-Dev/issuer',
    });
    expect(
      parseStageConfig({
        authCheck: HTTP_AUTH_CHECK,
        ssmParameters: { authorizerFunctionArn: '/platform/oauth2/authorizer-arn' },
      }).ssmParameters,
    ).toEqual({
      authorizerFunctionArn: '/platform/oauth2/authorizer-arn',
      issuer: '/OAuth2TokenService/issuer',
    });
  });

  it('refuses SSM names that are no parameter path, reserved, or unknown keys', () => {
    for (const ssmParameters of [
      { authorizerFunctionArn: 'no-slash' },
      { issuer: '/aws/reserved' },
      { issuer: '/with space' },
      { issuer: 42 },
      'x',
    ]) {
      expect(
        () => parseStageConfig({ authCheck: HTTP_AUTH_CHECK, ssmParameters }),
        JSON.stringify(ssmParameters),
      ).toThrow(/ssmParameters/);
    }
    expect(() =>
      parseStageConfig({ authCheck: HTTP_AUTH_CHECK, ssmParameters: { authorizer: '/x' } }),
    ).toThrow(/unknown key "ssmParameters.authorizer"/);
  });

  it('recognises the shipped AuthCheck and any RFC 2606 example host as a placeholder', () => {
    const placeholder = parseStageConfig(CDK_JSON_CONTEXT.oauth2).authCheck;
    expect(placeholder).toEqual({ kind: 'http', url: PLACEHOLDER_AUTH_CHECK_URL });
    expect(isPlaceholderHook(placeholder)).toBe(true);
    expect(isPlaceholderHook({ kind: 'http', url: 'https://login.example.org/check' })).toBe(true);
    expect(isPlaceholderHook({ kind: 'http', url: 'https://auth.mycompany.com/check' })).toBe(false);
    expect(isPlaceholderHook({ kind: 'http', url: 'https://notexample.com/check' })).toBe(false);
    expect(isPlaceholderHook({ kind: 'lambda', functionArn: LAMBDA_ARN })).toBe(false);
  });
});
