import { randomBytes } from 'node:crypto';
import type { SigningKeyStore } from '../core/signing-keys';
import { createAdminHandler } from '../http/admin-handler';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { buildSigningKeyStore } from './build-signing-key-store';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readLockoutKeySecret } from './lockout-key-secret';
import { buildServiceMetrics } from './metrics-environment';
import { readRotationPolicy } from './signing-key-environment';
import { buildStores } from './store-environment';

/**
 * Composition root of the admin Lambda (never exposed over HTTP). `AUTHORIZER_CACHE_TTL_SECONDS`
 * (default 0, the API Gateway authorizer cache of the stack): `create-client` refuses per-client
 * access-token lifetimes below it. With a private key store (`SIGNING_KEYS_SECRET_ARN` or
 * `SIGNING_KEYS_FILE`, or the local stack's `overrides`) it can `rotate-signing-key` under
 * `SIGNING_KEY_ROTATION_DAYS` / `SIGNING_KEY_PUBLISH_AHEAD_SECONDS`.
 */
export function buildAdminLambda(env: Environment, overrides: { signingKeys?: SigningKeyStore } = {}) {
  const reader = new EnvironmentReader(env);
  const logger = createServiceLogger('oauth2-admin', reader.logLevel());
  const metrics = buildServiceMetrics(reader, logger, 'admin');
  const { clients, grants, lockouts, publicKeys } = buildStores(reader);
  const privateKeys = overrides.signingKeys ?? buildSigningKeyStore(reader);
  // unlock-username must find the key the token Lambda counts under: the same secret.
  const lockoutKey = readLockoutKeySecret(reader, true);
  const config = Object.freeze({
    // Above the token function's 28 s timeout (infra); tests and the local stack may shorten it.
    disableClientSecondSweepSeconds: reader.integer('DISABLE_CLIENT_SECOND_SWEEP_SECONDS', 30, {
      min: 0,
      max: 600,
    }),
    authorizerCacheTtlSeconds: reader.integer('AUTHORIZER_CACHE_TTL_SECONDS', 0, { min: 0, max: 3600 }),
  });
  const handler = createAdminHandler(
    {
      clients,
      grants,
      lockouts,
      lockoutKeySecret: lockoutKey.secret,
      clock: Date.now,
      random: randomBytes,
      audit: auditTo(logger, metrics),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      config,
      ...(privateKeys === undefined
        ? {}
        : { signingKeys: { privateKeys, publicKeys, policy: readRotationPolicy(reader) } }),
    },
    logger,
  );
  handler.use(metrics.middleware());
  for (const middleware of lockoutKey.middlewares) handler.use(middleware);
  return handler;
}
