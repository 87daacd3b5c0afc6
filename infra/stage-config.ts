import { DEFAULT_MONITORING_THRESHOLDS, type MonitoringThresholds } from './service-monitoring.js';

/** Where a `{"user_id"}` hook lives: an HTTPS endpoint the deployer runs, or a Lambda function. */
export type HookTarget =
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'lambda'; readonly functionArn: string };

export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface CustomDomain {
  readonly domainName: string;
  /** ACM certificate in the stack's region covering `domainName`. */
  readonly certificateArn: string;
}

/** Deploy-time settings, from the `oauth2` context key of cdk.json (or `-c oauth2='{...}'`). */
export interface StageConfig {
  readonly stackName: string;
  readonly authCheck: HookTarget;
  /** Cookie sessions at the authorizer (combined authentication); turns the authorizer cache off. */
  readonly sessionCheck?: HookTarget;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** Security-relevant: the absolute cap of a login, from the grant's creation, however often refreshed. */
  readonly refreshTokenMaxLifetimeSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  /**
   * Security-relevant: per-username lockout of the password grant after `lockoutThreshold`
   * consecutive failures (0 = off), for `lockoutBaseSeconds` doubling per failure up to `lockoutMaxSeconds`.
   */
  readonly lockoutThreshold: number;
  readonly lockoutBaseSeconds: number;
  readonly lockoutMaxSeconds: number;
  /** Security-relevant: only an explicit `false` disables the handlers' TLS check. */
  readonly requireSsl: boolean;
  /**
   * Security-relevant: API Gateway's authorizer result cache, 0–3600 s. Default 0: every request is
   * checked, so revocation, rotation, `disable-client` and expiry take effect on the next request.
   * With N > 0 a revoked or expired token may keep passing for up to N s. Never more than
   * `accessTokenTtlSeconds` (checked here); the admin function refuses shorter per-client lifetimes.
   */
  readonly authorizerCacheTtlSeconds: number;
  readonly customDomain?: CustomDomain;
  /** RFC 8414 issuer; default: the custom domain, else the API's base URL as requested. */
  readonly issuer?: string;
  /** Deploy the demo `GET /me` route. */
  readonly demoRoute: boolean;
  /** Retain tables (deletion protection, RETAIN removal policy). `false` only for throwaway dev stacks. */
  readonly retainData: boolean;
  /** Stage-wide API Gateway throttle (requests per second, burst). */
  readonly throttle: Throttle;
  /**
   * Own method throttles, so a flood on one endpoint cannot use up the stage-wide limit of the
   * others: `token` (POST /oauth2/token), `authorize` (/oauth2/authorize, once that route exists),
   * `revokeIntrospect` (/oauth2/revoke and /oauth2/introspect, each).
   */
  readonly endpointThrottles: {
    readonly token: Throttle;
    readonly authorize: Throttle;
    readonly revokeIntrospect: Throttle;
  };
  /**
   * Reserved concurrency of the token function: guaranteed to it (other functions of the account
   * cannot take it) and its ceiling. Absent (default): unreserved, sharing the account's pool.
   */
  readonly tokenReservedConcurrency?: number;
  /** An AWS WAF web ACL on the stage, blocking an IP above `perIpRateLimit` requests per 5 minutes. */
  readonly waf?: { readonly perIpRateLimit: number };
  /**
   * Security-relevant: the IAM role/user ARNs that may invoke the admin function (a resource-based
   * permission each, plus the guard policy of the README for everyone else). Absent: no restriction
   * beyond IAM.
   */
  readonly adminInvokerArns?: readonly string[];
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** `opaque` (default) or `jwt` (RFC 9068); a client's `access_token_format` overrides it. */
  readonly accessTokenFormat: 'opaque' | 'jwt';
  /** Default `aud` of JWTs for clients without audiences; absent: the issuer. */
  readonly accessTokenAudience?: string;
  /** Security-relevant: when set, our authorizer refuses a JWT whose `aud` names none of these. */
  readonly authorizerJwtAudience?: readonly string[];
  /** Security-relevant: our authorizer reads the grant of every JWT (revocation at once, one read per check). */
  readonly jwtRevocationCheck: boolean;
  /** A new signing key is made once the newest is this old (scheduled rotation). */
  readonly signingKeyRotationDays: number;
  /** A new key is in the JWKS this long before it signs (longer than API Gateway's 2 h JWKS cache). */
  readonly signingKeyPublishAheadSeconds: number;
  /** Alarms, their SNS topic and a dashboard; `false` deploys none (the metrics are still written). */
  readonly monitoring: false | MonitoringConfig;
  /** Adds a `ClientId` dimension to the token metrics (one CloudWatch metric per client: it costs). */
  readonly metricsByClient: boolean;
  /** Rotate the hook secret every N days (1–365); absent: only by hand (`aws secretsmanager rotate-secret`). */
  readonly hookSecretRotationDays?: number;
  /**
   * Create API Gateway's account-level CloudWatch role (`AWS::ApiGateway::Account`, kept on delete).
   * One per account and region: turn it off when another stack or team already manages it.
   */
  readonly cloudWatchRole: boolean;
  /** SSM parameter names for the authorizer ARN and the issuer; default `/<stackName>/authorizer-function-arn`, `/<stackName>/issuer`. */
  readonly ssmParameters: { readonly authorizerFunctionArn: string; readonly issuer: string };
}

export interface MonitoringConfig {
  /** Subscribed to the alarm topic (the address must confirm). */
  readonly alarmEmail?: string;
  readonly thresholds: MonitoringThresholds;
}

/**
 * The AuthCheck URL cdk.json ships with. Any hook on the RFC 2606 example domains is a placeholder:
 * the stack synthesises (so the repository works out of the box) with a warning that names it.
 */
export const PLACEHOLDER_AUTH_CHECK_URL = 'https://auth-check.example.com/oauth2/check';

/** True for a hook URL on `example.com`, `example.net`, `example.org` or a subdomain of them. */
export function isPlaceholderHook(hook: HookTarget): boolean {
  if (hook.kind !== 'http') return false;
  const hostname = new URL(hook.url).hostname.toLowerCase();
  return /(^|\.)example\.(com|net|org)$/.test(hostname);
}

export class StageConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid "oauth2" context in cdk.json:\n  - ${problems.join('\n  - ')}`);
    this.name = 'StageConfigError';
  }
}

const DEFAULTS = {
  stackName: 'OAuth2TokenService',
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
  refreshTokenMaxLifetimeSeconds: 90 * 24 * 3600,
  refreshReuseGraceSeconds: 0,
  lockoutThreshold: 5,
  lockoutBaseSeconds: 60,
  lockoutMaxSeconds: 900,
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
  metricsByClient: false,
  cloudWatchRole: true,
} as const;

/** JWT mode's default access-token lifetime (a JWT lives until `exp` at a checker that reads nothing). */
const JWT_ACCESS_TOKEN_TTL_SECONDS = 900;

const KNOWN_KEYS = new Set([
  ...Object.keys(DEFAULTS),
  'authCheck',
  'sessionCheck',
  'customDomain',
  'monitoring',
  'hookSecretRotationDays',
  'ssmParameters',
  'tokenReservedConcurrency',
  'waf',
  'adminInvokerArns',
  'accessTokenAudience',
  'authorizerJwtAudience',
]);

const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

type IntegerKey = {
  [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends number ? K : never;
}[keyof typeof DEFAULTS];

const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;

/**
 * Validates the deploy-time settings once, at synth. Collects every problem and throws one
 * `StageConfigError` listing them all, so a bad cdk.json fails before anything is deployed.
 * The value may be an object or its JSON text (`cdk synth -c oauth2='{...}'`).
 */
export function parseStageConfig(raw: unknown): StageConfig {
  const problems: string[] = [];
  let input: unknown = raw;
  if (typeof raw === 'string') {
    try {
      input = JSON.parse(raw);
    } catch {
      throw new StageConfigError(['the value is not valid JSON']);
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new StageConfigError(['"oauth2" must be an object with at least "authCheck"']);
  }
  const value = input as Record<string, unknown>;
  for (const key of Object.keys(value)) if (!KNOWN_KEYS.has(key)) problems.push(`unknown key "${key}"`);

  const accessTokenFormat = value.accessTokenFormat ?? DEFAULTS.accessTokenFormat;
  if (accessTokenFormat !== 'opaque' && accessTokenFormat !== 'jwt') {
    problems.push('accessTokenFormat must be "opaque" or "jwt"');
  }
  const defaults: Record<string, unknown> = {
    ...DEFAULTS,
    ...(accessTokenFormat === 'jwt' ? { accessTokenTtlSeconds: JWT_ACCESS_TOKEN_TTL_SECONDS } : {}),
  };
  const integer = (key: IntegerKey, min: number, max: number): number => {
    const v = value[key] ?? defaults[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${key} must be an integer from ${min} to ${max}`);
      return min;
    }
    return v;
  };
  const boolean = (
    key:
      | 'requireSsl'
      | 'demoRoute'
      | 'retainData'
      | 'jwtRevocationCheck'
      | 'metricsByClient'
      | 'cloudWatchRole',
  ): boolean => {
    const v = value[key] ?? DEFAULTS[key];
    if (typeof v !== 'boolean') {
      problems.push(`${key} must be true or false (a JSON boolean, not a string)`);
      return DEFAULTS[key];
    }
    return v;
  };

  const stackName = value.stackName ?? DEFAULTS.stackName;
  if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    problems.push('stackName must start with a letter and contain only letters, digits and hyphens');
  }
  const authCheck = parseHook(value.authCheck, 'authCheck', problems, true);
  const sessionCheck = parseHook(value.sessionCheck, 'sessionCheck', problems, false);
  const customDomain = parseCustomDomain(value.customDomain, problems);
  const throttle = parseThrottle(value.throttle, 'throttle', DEFAULTS.throttle, problems);
  const endpointThrottles = parseEndpointThrottles(value.endpointThrottles, problems);
  const tokenReservedConcurrency = parseOptionalInteger(
    value.tokenReservedConcurrency,
    'tokenReservedConcurrency',
    1,
    1000,
    problems,
  );
  const waf = parseWaf(value.waf, problems);
  const adminInvokerArns = parseAdminInvokers(value.adminInvokerArns, problems);
  const issuer = parseIssuer(value.issuer, problems);
  const accessTokenAudience = value.accessTokenAudience;
  if (
    accessTokenAudience !== undefined &&
    (typeof accessTokenAudience !== 'string' ||
      accessTokenAudience === '' ||
      accessTokenAudience.length > 512)
  ) {
    problems.push('accessTokenAudience must be a non-empty string');
  }
  const jwtAudience = value.authorizerJwtAudience;
  if (
    jwtAudience !== undefined &&
    (!Array.isArray(jwtAudience) ||
      jwtAudience.length === 0 ||
      !jwtAudience.every((entry) => typeof entry === 'string' && /^\S+$/.test(entry)))
  ) {
    problems.push('authorizerJwtAudience must be a non-empty array of strings without spaces');
  }
  const logLevel = value.logLevel ?? DEFAULTS.logLevel;
  if (typeof logLevel !== 'string' || !['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) {
    problems.push('logLevel must be one of DEBUG, INFO, WARN, ERROR');
  }

  const config: StageConfig = {
    stackName: String(stackName),
    authCheck: authCheck as HookTarget,
    ...(sessionCheck === undefined ? {} : { sessionCheck }),
    accessTokenTtlSeconds: integer('accessTokenTtlSeconds', 60, 24 * 3600),
    refreshTokenTtlSeconds: integer('refreshTokenTtlSeconds', 60, 365 * 24 * 3600),
    refreshTokenMaxLifetimeSeconds: integer('refreshTokenMaxLifetimeSeconds', 60, 10 * 365 * 24 * 3600),
    refreshReuseGraceSeconds: integer('refreshReuseGraceSeconds', 0, 300),
    lockoutThreshold: integer('lockoutThreshold', 0, 100),
    lockoutBaseSeconds: integer('lockoutBaseSeconds', 1, 3600),
    lockoutMaxSeconds: integer('lockoutMaxSeconds', 1, 24 * 3600),
    requireSsl: boolean('requireSsl'),
    authorizerCacheTtlSeconds: integer('authorizerCacheTtlSeconds', 0, 3600),
    ...(customDomain === undefined ? {} : { customDomain }),
    ...(issuer === undefined ? {} : { issuer }),
    demoRoute: boolean('demoRoute'),
    retainData: boolean('retainData'),
    throttle,
    endpointThrottles,
    ...(tokenReservedConcurrency === undefined ? {} : { tokenReservedConcurrency }),
    ...(waf === undefined ? {} : { waf }),
    ...(adminInvokerArns === undefined ? {} : { adminInvokerArns }),
    logLevel: logLevel as StageConfig['logLevel'],
    accessTokenFormat: accessTokenFormat as StageConfig['accessTokenFormat'],
    ...(typeof accessTokenAudience === 'string' ? { accessTokenAudience } : {}),
    ...(Array.isArray(jwtAudience) ? { authorizerJwtAudience: jwtAudience as string[] } : {}),
    jwtRevocationCheck: boolean('jwtRevocationCheck'),
    signingKeyRotationDays: integer('signingKeyRotationDays', 1, 3650),
    signingKeyPublishAheadSeconds: integer('signingKeyPublishAheadSeconds', 0, 7 * 24 * 3600),
    monitoring: parseMonitoring(value.monitoring, problems),
    metricsByClient: boolean('metricsByClient'),
    ...(value.hookSecretRotationDays === undefined
      ? {}
      : {
          hookSecretRotationDays: optionalInteger(
            value.hookSecretRotationDays,
            'hookSecretRotationDays',
            1,
            365,
            problems,
          ),
        }),
    cloudWatchRole: boolean('cloudWatchRole'),
    ssmParameters: parseSsmParameters(value.ssmParameters, String(stackName), problems),
  };
  // Only between two valid values: an out-of-range one is already reported.
  if (problems.length === 0 && config.lockoutMaxSeconds < config.lockoutBaseSeconds) {
    problems.push('lockoutMaxSeconds must be at least lockoutBaseSeconds');
  }
  // A cached Allow must never outlive the token it was decided for.
  if (problems.length === 0 && config.authorizerCacheTtlSeconds > config.accessTokenTtlSeconds) {
    problems.push(
      'authorizerCacheTtlSeconds must not exceed accessTokenTtlSeconds: a cached decision would outlive the token',
    );
  }
  if (problems.length > 0) throw new StageConfigError(problems);
  return Object.freeze(config);
}

function parseHook(raw: unknown, key: string, problems: string[], required: boolean): HookTarget | undefined {
  if (raw === undefined) {
    if (required)
      problems.push(
        `${key} is required: {"kind":"http","url":"https://..."} or {"kind":"lambda","functionArn":"arn:aws:lambda:..."}`,
      );
    return undefined;
  }
  const hook = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (hook.kind === 'http') {
    const url = hook.url;
    let parsed: URL | undefined;
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined;
    } catch {
      parsed = undefined;
    }
    // Passwords travel to this hook: only https, and no credentials in the URL itself.
    if (
      parsed === undefined ||
      parsed.protocol !== 'https:' ||
      parsed.username !== '' ||
      parsed.password !== ''
    ) {
      problems.push(`${key}.url must be an https:// URL without credentials`);
      return undefined;
    }
    return { kind: 'http', url: parsed.href };
  }
  if (hook.kind === 'lambda') {
    if (typeof hook.functionArn !== 'string' || !LAMBDA_ARN.test(hook.functionArn)) {
      problems.push(
        `${key}.functionArn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)`,
      );
      return undefined;
    }
    return { kind: 'lambda', functionArn: hook.functionArn };
  }
  problems.push(`${key}.kind must be "http" or "lambda"`);
  return undefined;
}

/** SSM names: `/`-rooted paths of letters, digits and `_.-/`, at most 1011 characters (SSM's limit). */
const SSM_PARAMETER_NAME = /^(\/[A-Za-z0-9_.-]+)+$/;

function parseSsmParameters(
  raw: unknown,
  stackName: string,
  problems: string[],
): StageConfig['ssmParameters'] {
  const defaults = {
    authorizerFunctionArn: `/${stackName}/authorizer-function-arn`,
    issuer: `/${stackName}/issuer`,
  };
  if (raw === undefined) return defaults;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('ssmParameters must be an object {"authorizerFunctionArn":"/…","issuer":"/…"}');
    return defaults;
  }
  const value = raw as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!(key in defaults)) problems.push(`unknown key "ssmParameters.${key}"`);
  }
  const name = (key: keyof typeof defaults): string => {
    const v = value[key] ?? defaults[key];
    if (typeof v !== 'string' || v.length > 1011 || !SSM_PARAMETER_NAME.test(v) || /^\/aws|^\/ssm/i.test(v)) {
      problems.push(
        `ssmParameters.${key} must be an SSM parameter path such as "/oauth2/authorizer-function-arn" (not under /aws or /ssm)`,
      );
      return defaults[key];
    }
    return v;
  };
  return { authorizerFunctionArn: name('authorizerFunctionArn'), issuer: name('issuer') };
}

function parseCustomDomain(raw: unknown, problems: string[]): CustomDomain | undefined {
  if (raw === undefined) return undefined;
  const domain = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const { domainName, certificateArn } = domain;
  if (
    typeof domainName !== 'string' ||
    !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(domainName)
  ) {
    problems.push('customDomain.domainName must be a DNS name');
    return undefined;
  }
  if (
    typeof certificateArn !== 'string' ||
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)
  ) {
    problems.push('customDomain.certificateArn must be an ACM certificate ARN');
    return undefined;
  }
  return { domainName, certificateArn };
}

function parseThrottle(raw: unknown, key: string, fallback: Throttle, problems: string[]): Throttle {
  if (raw === undefined) return fallback;
  const throttle = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const { rateLimit, burstLimit } = throttle;
  if (typeof rateLimit !== 'number' || rateLimit < 1 || rateLimit > 10_000) {
    problems.push(`${key}.rateLimit must be a number of requests per second from 1 to 10000`);
  }
  if (
    typeof burstLimit !== 'number' ||
    !Number.isInteger(burstLimit) ||
    burstLimit < 1 ||
    burstLimit > 5000
  ) {
    problems.push(`${key}.burstLimit must be an integer from 1 to 5000`);
  }
  return { rateLimit: Number(rateLimit), burstLimit: Number(burstLimit) };
}

function parseEndpointThrottles(raw: unknown, problems: string[]): StageConfig['endpointThrottles'] {
  const defaults = DEFAULTS.endpointThrottles;
  if (raw === undefined) return defaults;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('endpointThrottles must be an object with token, authorize and/or revokeIntrospect');
    return defaults;
  }
  const value = raw as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(defaults, key)) problems.push(`unknown key "endpointThrottles.${key}"`);
  }
  return {
    token: parseThrottle(value.token, 'endpointThrottles.token', defaults.token, problems),
    authorize: parseThrottle(value.authorize, 'endpointThrottles.authorize', defaults.authorize, problems),
    revokeIntrospect: parseThrottle(
      value.revokeIntrospect,
      'endpointThrottles.revokeIntrospect',
      defaults.revokeIntrospect,
      problems,
    ),
  };
}

function parseOptionalInteger(
  raw: unknown,
  key: string,
  min: number,
  max: number,
  problems: string[],
): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    problems.push(`${key} must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return raw;
}

/** AWS WAF rate-based rules count per 5 minutes, from 10 up to 2,000,000,000 requests. */
function parseWaf(raw: unknown, problems: string[]): StageConfig['waf'] {
  if (raw === undefined) return undefined;
  const waf = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  for (const key of Object.keys(waf)) {
    if (key !== 'perIpRateLimit') problems.push(`unknown key "waf.${key}"`);
  }
  const perIpRateLimit = parseOptionalInteger(
    waf.perIpRateLimit,
    'waf.perIpRateLimit',
    10,
    2_000_000_000,
    problems,
  );
  if (waf.perIpRateLimit === undefined) {
    problems.push('waf.perIpRateLimit is required: requests per IP per 5 minutes, 10 to 2000000000');
  }
  return perIpRateLimit === undefined ? undefined : { perIpRateLimit };
}

function parseAdminInvokers(raw: unknown, problems: string[]): readonly string[] | undefined {
  if (raw === undefined) return undefined;
  if (
    !Array.isArray(raw) ||
    raw.length === 0 ||
    raw.length > 20 ||
    !raw.every((arn) => typeof arn === 'string' && IAM_PRINCIPAL_ARN.test(arn))
  ) {
    problems.push(
      'adminInvokerArns must be a list of 1 to 20 IAM role or user ARNs (arn:aws:iam::<account>:role/<name>)',
    );
    return undefined;
  }
  return Object.freeze([...new Set(raw as string[])]);
}

function parseIssuer(raw: unknown, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof raw === 'string' ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  // RFC 8414 §2: https, no query, no fragment.
  if (url === undefined || url.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
    problems.push('issuer must be an https URL without query or fragment');
    return undefined;
  }
  return raw as string;
}

function optionalInteger(raw: unknown, key: string, min: number, max: number, problems: string[]): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    problems.push(`${key} must be an integer from ${min} to ${max}`);
    return min;
  }
  return raw;
}

/** Upper bounds of the alarm thresholds: generous, but a typo of three extra zeros is caught. */
const THRESHOLD_MAX: Readonly<Record<keyof MonitoringThresholds, number>> = {
  tokenServerErrorRatePercent: 100,
  authCheckFailureRatePercent: 100,
  authCheckLatencyP99Ms: 60_000,
  authorizerUnavailable: 1_000_000,
  refreshReuse: 1_000_000,
  lockoutsPer5Minutes: 1_000_000,
  lambdaErrors: 1_000_000,
  lambdaThrottles: 1_000_000,
  dynamoDbThrottledRequests: 1_000_000,
  dynamoDbSystemErrors: 1_000_000,
  apiGateway5xx: 1_000_000,
  apiGatewayLatencyP99Ms: 60_000,
};

/** `false`, or `{ "alarmEmail"?: "...", "thresholds"?: { <name>: number } }` (absent: all defaults). */
function parseMonitoring(raw: unknown, problems: string[]): StageConfig['monitoring'] {
  if (raw === false) return false;
  if (raw === undefined) return { thresholds: DEFAULT_MONITORING_THRESHOLDS };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('monitoring must be false or an object {"alarmEmail"?, "thresholds"?}');
    return false;
  }
  const monitoring = raw as Record<string, unknown>;
  for (const key of Object.keys(monitoring)) {
    if (key !== 'alarmEmail' && key !== 'thresholds') problems.push(`unknown key "monitoring.${key}"`);
  }
  const { alarmEmail } = monitoring;
  if (
    alarmEmail !== undefined &&
    (typeof alarmEmail !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail))
  ) {
    problems.push('monitoring.alarmEmail must be an e-mail address');
  }
  const rawThresholds = monitoring.thresholds ?? {};
  const thresholds: Record<string, number> = { ...DEFAULT_MONITORING_THRESHOLDS };
  if (typeof rawThresholds !== 'object' || rawThresholds === null || Array.isArray(rawThresholds)) {
    problems.push('monitoring.thresholds must be an object of numbers');
  } else {
    for (const [key, value] of Object.entries(rawThresholds)) {
      if (!Object.hasOwn(THRESHOLD_MAX, key)) {
        problems.push(`unknown key "monitoring.thresholds.${key}"`);
        continue;
      }
      // Present: the key was checked above (0 only satisfies the build's index check).
      const max = THRESHOLD_MAX[key as keyof MonitoringThresholds] ?? 0;
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
        problems.push(`monitoring.thresholds.${key} must be a number above 0 and at most ${max}`);
        continue;
      }
      thresholds[key] = value;
    }
  }
  return {
    ...(typeof alarmEmail === 'string' ? { alarmEmail } : {}),
    thresholds: Object.freeze(thresholds) as unknown as MonitoringThresholds,
  };
}
