import { createIntrospectionHandler } from '../http/introspection-handler';
import { createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readFormEndpointConfig } from './form-endpoint-environment';
import { buildServiceMetrics } from './metrics-environment';
import { buildStores } from './store-environment';

/**
 * Composition root of the introspection Lambda (`POST /oauth2/introspect`): the token Lambda's
 * environment without the AuthCheck — `CLIENTS_TABLE`, `GRANTS_TABLE`, `REQUIRE_SSL`, `DYNAMODB_*`, `LOG_LEVEL`.
 */
export function buildIntrospectionLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const config = readFormEndpointConfig(reader);
  const logger = createServiceLogger('oauth2-introspection', reader.logLevel());
  const metrics = buildServiceMetrics(reader, logger, 'introspection');
  const { clients, grants } = buildStores(reader);
  return createIntrospectionHandler(config, { clients, grants, clock: Date.now }, logger, metrics).use(
    metrics.middleware(),
  );
}
