import { randomBytes } from 'node:crypto';
import type { SigningKeyStore } from '../core/signing-keys';
import { createAdminHandler } from '../http/admin-handler';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { buildSigningKeyStore, readRotationPolicy } from './signing-key-environment';
import { buildStores } from './store-environment';

/**
 * Composition root of the admin Lambda (never exposed over HTTP). With a private key store
 * (`SIGNING_KEYS_SECRET_ARN` or `SIGNING_KEYS_FILE`, or the local stack's `overrides`) it can
 * `rotate-signing-key` under `SIGNING_KEY_ROTATION_DAYS` / `SIGNING_KEY_PUBLISH_AHEAD_SECONDS`.
 */
export function buildAdminLambda(env: Environment, overrides: { signingKeys?: SigningKeyStore } = {}) {
  const reader = new EnvironmentReader(env);
  const logger = createServiceLogger('oauth2-admin', reader.logLevel());
  const { clients, grants, lockouts, publicKeys } = buildStores(reader);
  const privateKeys = overrides.signingKeys ?? buildSigningKeyStore(reader);
  const config = Object.freeze({
    // Above the token function's 28 s timeout (infra); tests and the local stack may shorten it.
    disableClientSecondSweepSeconds: reader.integer('DISABLE_CLIENT_SECOND_SWEEP_SECONDS', 30, {
      min: 0,
      max: 600,
    }),
  });
  return createAdminHandler(
    {
      clients,
      grants,
      lockouts,
      clock: Date.now,
      random: randomBytes,
      audit: auditTo(logger),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      config,
      ...(privateKeys === undefined
        ? {}
        : { signingKeys: { privateKeys, publicKeys, policy: readRotationPolicy(reader) } }),
    },
    logger,
  );
}
