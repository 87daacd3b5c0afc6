import { randomBytes } from 'node:crypto';
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from '../core/password-lockout';
import {
  DEFAULT_TOKEN_ENDPOINT_CONFIG,
  TOKEN_LIFETIME_BOUNDS,
  type TokenEndpointConfig,
} from '../core/token-endpoint-config';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { createTokenHandler } from '../http/token-handler';
import { buildAuthCheck } from './auth-check-environment';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readFormEndpointConfig } from './form-endpoint-environment';
import { secretsManagerSecretFor } from './hook-secret';
import { readLockoutKeySecret } from './lockout-key-secret';
import { buildStores } from './store-environment';

const DAY = 24 * 3600;

/**
 * Token endpoint settings: `REQUIRE_SSL`, `ACCESS_TOKEN_TTL_SECONDS`, `REFRESH_TOKEN_TTL_SECONDS`,
 * `REFRESH_TOKEN_MAX_LIFETIME_SECONDS` (the absolute cap of a login), `REFRESH_REUSE_GRACE_SECONDS`, and the password lockout: `LOCKOUT_THRESHOLD` (0 = off),
 * `LOCKOUT_BASE_SECONDS`, `LOCKOUT_MAX_SECONDS`.
 */
export function readTokenEndpointConfig(reader: EnvironmentReader): TokenEndpointConfig {
  const defaults = DEFAULT_TOKEN_ENDPOINT_CONFIG;
  return Object.freeze({
    ...readFormEndpointConfig(reader),
    accessTokenTtlSeconds: reader.integer(
      'ACCESS_TOKEN_TTL_SECONDS',
      defaults.accessTokenTtlSeconds,
      TOKEN_LIFETIME_BOUNDS.access,
    ),
    refreshTokenTtlSeconds: reader.integer(
      'REFRESH_TOKEN_TTL_SECONDS',
      defaults.refreshTokenTtlSeconds,
      TOKEN_LIFETIME_BOUNDS.refresh,
    ),
    refreshTokenMaxLifetimeSeconds: reader.integer(
      'REFRESH_TOKEN_MAX_LIFETIME_SECONDS',
      defaults.refreshTokenMaxLifetimeSeconds,
      TOKEN_LIFETIME_BOUNDS.refreshMax,
    ),
    refreshReuseGraceSeconds: reader.integer(
      'REFRESH_REUSE_GRACE_SECONDS',
      defaults.refreshReuseGraceSeconds,
      {
        min: 0,
        max: 300,
      },
    ),
    lockout: readLockoutPolicy(reader),
  });
}

function readLockoutPolicy(reader: EnvironmentReader): LockoutPolicy {
  const defaults = DEFAULT_LOCKOUT_POLICY;
  const baseSeconds = reader.integer('LOCKOUT_BASE_SECONDS', defaults.baseSeconds, { min: 1, max: 3600 });
  return Object.freeze({
    threshold: reader.integer('LOCKOUT_THRESHOLD', defaults.threshold, { min: 0, max: 100 }),
    baseSeconds,
    // A cap below the first window would make the doubling meaningless: refuse it when built.
    maxSeconds: reader.integer('LOCKOUT_MAX_SECONDS', Math.max(defaults.maxSeconds, baseSeconds), {
      min: baseSeconds,
      max: DAY,
    }),
  });
}

/**
 * Composition root of the token Lambda; the local stack calls it with its own environment.
 * `AUTH_CHECK_SECRET_ARN` loads the hook's HMAC secret from Secrets Manager (`SECRETS_MANAGER_ENDPOINT`
 * for emulators) instead of `AUTH_CHECK_SECRET`; `LOCKOUT_KEY_SECRET_ARN` likewise the lockout's key
 * secret instead of `LOCKOUT_KEY_SECRET` (required while the lockout is on).
 */
export function buildTokenLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const config = readTokenEndpointConfig(reader);
  const logger = createServiceLogger('oauth2-token', reader.logLevel());
  const { clients, grants, lockouts } = buildStores(reader);
  const clock = Date.now;
  const hookSecret = secretsManagerSecretFor(reader, 'AUTH_CHECK_SECRET_ARN');
  const authCheck = buildAuthCheck(reader, clock, hookSecret?.secret);
  const lockoutKey = readLockoutKeySecret(reader, config.lockout.threshold > 0);
  const handler = createTokenHandler(
    config,
    {
      clients,
      grants,
      lockouts,
      lockoutKeySecret: lockoutKey.secret,
      authCheck,
      clock,
      random: randomBytes,
      audit: auditTo(logger),
    },
    logger,
  );
  for (const middleware of [...(hookSecret?.middlewares ?? []), ...lockoutKey.middlewares]) {
    handler.use(middleware);
  }
  return handler;
}
