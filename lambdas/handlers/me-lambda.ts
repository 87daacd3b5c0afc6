import { createMeHandler } from '../http/me-handler';
import { createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';

/** Composition root of the demo `GET /me` resource. */
export function buildMeLambda(env: Environment) {
  return createMeHandler(createServiceLogger('oauth2-me', new EnvironmentReader(env).logLevel()));
}
