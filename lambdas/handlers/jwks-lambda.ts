import { createJwksHandler } from '../http/jwks-handler';
import { createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { buildStores } from './store-environment';

/**
 * Composition root of the JWKS Lambda (`GET /.well-known/jwks.json`): `GRANTS_TABLE` (the public key
 * item lives there), `DYNAMODB_*`, `LOG_LEVEL`. Its role may read only that item.
 */
export function buildJwksLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const { publicKeys } = buildStores(reader);
  return createJwksHandler(
    { publicKeys, clock: Date.now },
    createServiceLogger('oauth2-jwks', reader.logLevel()),
  );
}
