import { randomBytes } from 'node:crypto';
import { createAdminHandler } from '../http/admin-handler';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { buildServiceMetrics } from './metrics-environment';
import { buildStores } from './store-environment';

/** Composition root of the admin Lambda (never exposed over HTTP). */
export function buildAdminLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const logger = createServiceLogger('oauth2-admin', reader.logLevel());
  const metrics = buildServiceMetrics(reader, logger, 'admin');
  const { clients, grants, lockouts } = buildStores(reader);
  return createAdminHandler(
    { clients, grants, lockouts, clock: Date.now, random: randomBytes, audit: auditTo(logger, metrics) },
    logger,
  ).use(metrics.middleware());
}
