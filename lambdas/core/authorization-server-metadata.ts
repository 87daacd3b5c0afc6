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
/** `none`: public clients (client_id in the body, no secret) at the token and revocation endpoints. */
const TOKEN_AUTH_METHODS = [...AUTH_METHODS, 'none'] as const;

/**
 * The RFC 8414 document. Endpoints hang off the configured issuer. The authorize endpoint answers
 * `response_type=code` with PKCE S256 only, and sends `iss` with every response (RFC 9207).
 */
export function authorizationServerMetadata(config: MetadataConfig) {
  const issuer = config.issuer.replace(/\/+$/, '');
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    token_endpoint: `${issuer}/oauth2/token`,
    token_endpoint_auth_methods_supported: TOKEN_AUTH_METHODS,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    revocation_endpoint_auth_methods_supported: TOKEN_AUTH_METHODS,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    // The keys JWT access tokens are signed with (RFC 8414 §2); also what OpenID discovery readers need.
    jwks_uri: `${issuer}${JWKS_PATH}`,
    grant_types_supported: GRANT_TYPES,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    ...(config.scopesSupported.length === 0 ? {} : { scopes_supported: config.scopesSupported }),
  };
}
