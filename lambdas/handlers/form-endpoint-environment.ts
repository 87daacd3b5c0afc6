import type { FormEndpointConfig } from '../core/authenticated-form-request';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG } from '../core/token-endpoint-config';
import type { EnvironmentReader } from './environment-reader';

/**
 * `REQUIRE_SSL` (default `true`; only the exact string `false` disables the TLS check) for every
 * client-authenticated endpoint, so token, revocation and introspection read it alike.
 */
export function readFormEndpointConfig(reader: EnvironmentReader): FormEndpointConfig {
  return Object.freeze({
    requireSsl: reader.boolean('REQUIRE_SSL', DEFAULT_TOKEN_ENDPOINT_CONFIG.requireSsl),
    realm: DEFAULT_TOKEN_ENDPOINT_CONFIG.realm,
  });
}
