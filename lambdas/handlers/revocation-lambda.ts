import { createRevocationHandler } from '../http/revocation-handler';
import { auditTo, createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readFormEndpointConfig } from './form-endpoint-environment';
import { buildServiceMetrics } from './metrics-environment';
import { buildStores } from './store-environment';

/**
 * Composition root of the revocation Lambda (`POST /oauth2/revoke`): the token Lambda's environment
 * without the AuthCheck — `CLIENTS_TABLE`, `GRANTS_TABLE`, `REQUIRE_SSL`, `DYNAMODB_*`, `LOG_LEVEL`.
 */
export function buildRevocationLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const config = readFormEndpointConfig(reader);
  const logger = createServiceLogger('oauth2-revocation', reader.logLevel());
  const metrics = buildServiceMetrics(reader, logger, 'revocation');
  const { clients, grants } = buildStores(reader);
  return createRevocationHandler(
    config,
    { clients, grants, clock: Date.now, audit: auditTo(logger, metrics) },
    logger,
  ).use(metrics.middleware());
}
