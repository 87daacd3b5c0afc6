import {
  AUTHORIZATION_CODE_TTL_BOUNDS,
  type AuthorizeDeps,
  DEFAULT_AUTHORIZATION_CODE_TTL_SECONDS,
} from '../core/authorize-endpoint';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { redirectUriProblem } from '../core/redirect-uri';
import { type AuthorizeHandlerConfig, createAuthorizeHandler } from '../http/authorize-handler';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { buildAuthCheck, buildSessionCheck } from './auth-check-environment';
import { ConfigurationError } from './configuration-error';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readFormEndpointConfig } from './form-endpoint-environment';
import { secretsManagerSecretFor } from './hook-secret';
import { readLockoutKeySecret } from './lockout-key-secret';
import { createPooledRandomSource } from './pooled-random-source';
import { buildStores } from './store-environment';
import { readLockoutPolicy } from './token-lambda';

/** An HMAC key shorter than this is refused when the Lambda is built. */
const MIN_FORM_SECRET_LENGTH = 32;

/**
 * Authorize endpoint settings: `REQUIRE_SSL`, `AUTHORIZATION_CODE_TTL_SECONDS` (default 60, at most
 * 600), the password lockout `LOCKOUT_*` (as the token Lambda, same counter), `ISSUER` (RFC 9207 `iss`,
 * as the metadata) and `AUTHORIZE_LOGIN_URL` (the deployer's sign-in page for users without a session;
 * validated like a redirect URI).
 */
export function readAuthorizeConfig(reader: EnvironmentReader): AuthorizeHandlerConfig {
  const loginUrl = reader.optional('AUTHORIZE_LOGIN_URL');
  if (loginUrl !== undefined) {
    const problem = redirectUriProblem(loginUrl);
    if (problem !== undefined) throw new ConfigurationError(`AUTHORIZE_LOGIN_URL ${problem}`);
  }
  const issuer = reader.optional('ISSUER');
  return Object.freeze({
    requireSsl: readFormEndpointConfig(reader).requireSsl,
    codeTtlSeconds: reader.integer(
      'AUTHORIZATION_CODE_TTL_SECONDS',
      DEFAULT_AUTHORIZATION_CODE_TTL_SECONDS,
      AUTHORIZATION_CODE_TTL_BOUNDS,
    ),
    lockout: readLockoutPolicy(reader),
    ...(loginUrl === undefined ? {} : { loginUrl }),
    ...(issuer === undefined ? {} : { issuer }),
  });
}

/**
 * Composition root of the authorize Lambda. The anti-forgery key comes from `AUTHORIZE_FORM_SECRET`
 * or `AUTHORIZE_FORM_SECRET_ARN` (Secrets Manager), exactly one. The AuthCheck is the token Lambda's
 * (`AUTH_CHECK_*`, secret `AUTH_CHECK_SECRET_ARN`); the optional session check is the authorizer's
 * (`SESSION_CHECK_*`), signed with the same hook secret.
 */
export function buildAuthorizeLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const config = readAuthorizeConfig(reader);
  if (
    config.loginUrl !== undefined &&
    reader.optional('SESSION_CHECK_URL') === undefined &&
    reader.optional('SESSION_CHECK_FUNCTION_NAME') === undefined
  ) {
    throw new ConfigurationError(
      'AUTHORIZE_LOGIN_URL needs a session check (SESSION_CHECK_URL or _FUNCTION_NAME)',
    );
  }
  const logger = createServiceLogger('oauth2-authorize', reader.logLevel());
  const { clients, lockouts, codes } = buildStores(reader);
  const clock = Date.now;
  const hookSecret = secretsManagerSecretFor(reader, 'AUTH_CHECK_SECRET_ARN');
  const authCheck = buildAuthCheck(reader, clock, hookSecret?.secret);
  const sessionSecret = secretsManagerSecretFor(reader, 'SESSION_CHECK_SECRET_ARN', 'sessionCheckSecret');
  const sessionCheck = buildSessionCheck(reader, clock, sessionSecret?.secret ?? hookSecret?.secret);
  const formSecret = readFormSecret(reader);
  // The same key as the token Lambda's: one lockout counter per username for both.
  const lockoutKey = readLockoutKeySecret(reader, config.lockout.threshold > 0);
  const deps: AuthorizeDeps = {
    clients,
    codes,
    lockouts,
    lockoutKeySecret: lockoutKey.secret,
    authCheck,
    ...(sessionCheck === undefined ? {} : { sessionCheck }),
    formSecret: formSecret.secret,
    clock,
    random: createPooledRandomSource(),
    audit: auditTo(logger),
  };
  const handler = createAuthorizeHandler(config, deps, logger);
  for (const middleware of [
    ...(hookSecret?.middlewares ?? []),
    ...(sessionSecret?.middlewares ?? []),
    ...formSecret.middlewares,
    ...lockoutKey.middlewares,
  ]) {
    handler.use(middleware);
  }
  return handler;
}

function readFormSecret(reader: EnvironmentReader) {
  const plain = reader.optional('AUTHORIZE_FORM_SECRET');
  const fromArn = secretsManagerSecretFor(reader, 'AUTHORIZE_FORM_SECRET_ARN', 'authorizeFormSecret');
  if ((plain === undefined) === (fromArn === undefined)) {
    throw new ConfigurationError('Set exactly one of AUTHORIZE_FORM_SECRET or AUTHORIZE_FORM_SECRET_ARN');
  }
  if (fromArn !== undefined) {
    return {
      secret: async () => {
        const { secret: value } = await fromArn.secret();
        if (value.length < MIN_FORM_SECRET_LENGTH) {
          throw new DependencyUnavailable('secrets', 'the form secret is too short');
        }
        return value;
      },
      middlewares: fromArn.middlewares,
    };
  }
  if ((plain as string).length < MIN_FORM_SECRET_LENGTH) {
    throw new ConfigurationError(
      `AUTHORIZE_FORM_SECRET must be at least ${MIN_FORM_SECRET_LENGTH} characters`,
    );
  }
  return { secret: async () => plain as string, middlewares: [] };
}
