import { GRANT_TYPES } from './grant-type';

export interface MetadataConfig {
  /**
   * RFC 8414 §2 issuer: an https URL without query or fragment. Security-relevant: always configured,
   * never derived from the request's `Host`, which any client sets (and which a cache would keep).
   */
  readonly issuer: string;
  /** Advertised scopes; omitted from the document when empty (they are per client here). */
  readonly scopesSupported: readonly string[];
}

export const JWKS_PATH = '/.well-known/jwks.json';

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

/**
 * The RFC 8414 document. Endpoints hang off the configured issuer. There is no authorization
 * endpoint, so `response_types_supported` is empty.
 */
export function authorizationServerMetadata(config: MetadataConfig) {
  const issuer = config.issuer.replace(/\/+$/, '');
  return {
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    // The keys JWT access tokens are signed with (RFC 8414 §2); also what OpenID discovery readers need.
    jwks_uri: `${issuer}${JWKS_PATH}`,
    grant_types_supported: GRANT_TYPES,
    response_types_supported: [],
    ...(config.scopesSupported.length === 0 ? {} : { scopes_supported: config.scopesSupported }),
  };
}
