import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from '../core/password-lockout';
import type { SigningKeyStore } from '../core/signing-keys';
import {
  DEFAULT_JWT_ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_TOKEN_ENDPOINT_CONFIG,
  TOKEN_LIFETIME_BOUNDS,
  type TokenEndpointConfig,
} from '../core/token-endpoint-config';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { authCheckMetrics } from '../http/service-metrics';
import { createTokenHandler } from '../http/token-handler';
import { cachedSigningKey } from '../store/cached-signing-key';
import { buildAuthCheck } from './auth-check-environment';
import { buildSigningKeyStore } from './build-signing-key-store';
import { ConfigurationError } from './configuration-error';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readFormEndpointConfig } from './form-endpoint-environment';
import { secretsManagerSecretFor } from './hook-secret';
import { readLockoutKeySecret } from './lockout-key-secret';
import { buildServiceMetrics } from './metrics-environment';
import { createPooledRandomSource } from './pooled-random-source';
import { readAccessTokenFormat, readIssuer, SIGNING_KEYS_CACHE_MS } from './signing-key-environment';
import { buildStores } from './store-environment';

const DAY = 24 * 3600;

/**
 * Token endpoint settings: `REQUIRE_SSL`, `ACCESS_TOKEN_TTL_SECONDS`, `REFRESH_TOKEN_TTL_SECONDS`,
 * `REFRESH_TOKEN_MAX_LIFETIME_SECONDS` (the absolute cap of a login), `REFRESH_REUSE_GRACE_SECONDS`, and the password lockout: `LOCKOUT_THRESHOLD` (0 = off),
 * `LOCKOUT_BASE_SECONDS`, `LOCKOUT_MAX_SECONDS`; JWTs: `ACCESS_TOKEN_FORMAT` (`opaque`|`jwt`;
 * in JWT mode `ACCESS_TOKEN_TTL_SECONDS` defaults to 900), `ACCESS_TOKEN_AUDIENCE`, `ISSUER`.
 */
export function readTokenEndpointConfig(reader: EnvironmentReader): TokenEndpointConfig {
  const defaults = DEFAULT_TOKEN_ENDPOINT_CONFIG;
  const accessTokenFormat = readAccessTokenFormat(reader);
  const accessTokenTtlSeconds = reader.integer(
    'ACCESS_TOKEN_TTL_SECONDS',
    accessTokenFormat === 'jwt' ? DEFAULT_JWT_ACCESS_TOKEN_TTL_SECONDS : defaults.accessTokenTtlSeconds,
    TOKEN_LIFETIME_BOUNDS.access,
  );
  const issuer = readIssuer(reader);
  const accessTokenAudience = reader.optional('ACCESS_TOKEN_AUDIENCE');
  return Object.freeze({
    ...readFormEndpointConfig(reader),
    accessTokenTtlSeconds,
    accessTokenFormat,
    // A client switched to JWTs in an opaque service gets the short JWT default, never a longer one.
    jwtAccessTokenTtlSeconds:
      accessTokenFormat === 'jwt'
        ? accessTokenTtlSeconds
        : Math.min(accessTokenTtlSeconds, DEFAULT_JWT_ACCESS_TOKEN_TTL_SECONDS),
    ...(issuer === undefined ? {} : { issuer }),
    ...(accessTokenAudience === undefined ? {} : { accessTokenAudience }),
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

export function readLockoutPolicy(reader: EnvironmentReader): LockoutPolicy {
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
 * secret instead of `LOCKOUT_KEY_SECRET` (required while the lockout is on). The private signing keys (see
 * `buildSigningKeyStore`) are required in JWT mode; `overrides.signingKeys` hands the local stack's
 * in-memory store in.
 */
export function buildTokenLambda(env: Environment, overrides: { signingKeys?: SigningKeyStore } = {}) {
  const reader = new EnvironmentReader(env);
  const config = readTokenEndpointConfig(reader);
  const logger = createServiceLogger('oauth2-token', reader.logLevel());
  const metrics = buildServiceMetrics(reader, logger, 'token');
  const { clients, grants, lockouts, codes } = buildStores(reader);
  const clock = Date.now;
  const hookSecret = secretsManagerSecretFor(reader, 'AUTH_CHECK_SECRET_ARN');
  const authCheck = buildAuthCheck(reader, clock, hookSecret?.secret, authCheckMetrics(metrics));
  const signingKeys = overrides.signingKeys ?? buildSigningKeyStore(reader);
  if (config.accessTokenFormat === 'jwt' && config.issuer === undefined) {
    throw new ConfigurationError('ACCESS_TOKEN_FORMAT=jwt needs ISSUER (the iss of every JWT)');
  }
  if (config.accessTokenFormat === 'jwt' && signingKeys === undefined) {
    throw new ConfigurationError(
      'ACCESS_TOKEN_FORMAT=jwt needs SIGNING_KEYS_SECRET_ARN or SIGNING_KEYS_FILE',
    );
  }
  const lockoutKey = readLockoutKeySecret(reader, config.lockout.threshold > 0);
  const handler = createTokenHandler(
    config,
    {
      clients,
      grants,
      lockouts,
      codes,
      lockoutKeySecret: lockoutKey.secret,
      authCheck,
      clock,
      random: createPooledRandomSource(),
      audit: auditTo(logger, metrics),
      ...(signingKeys === undefined
        ? {}
        : { signingKey: cachedSigningKey(signingKeys, SIGNING_KEYS_CACHE_MS, clock) }),
    },
    logger,
  );
  handler.use(metrics.middleware());
  for (const middleware of [...(hookSecret?.middlewares ?? []), ...lockoutKey.middlewares]) {
    handler.use(middleware);
  }
  return handler;
}
