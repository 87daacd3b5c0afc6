import { randomBytes } from 'node:crypto';
import { createAdminHandler } from '../http/admin-handler';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { buildStores } from './store-environment';

/** Composition root of the admin Lambda (never exposed over HTTP). */
export function buildAdminLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const logger = createServiceLogger('oauth2-admin', reader.logLevel());
  const { clients, grants, lockouts } = buildStores(reader);
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
    },
    logger,
  );
}
