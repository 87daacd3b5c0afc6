import type { UserId } from './auth-check';
import {
  authenticateFormRequest,
  type FormEndpointConfig,
  type FormHttpRequest,
} from './authenticated-form-request';
import { type ClientStore, isPublicClient } from './client-store';
import { type Clock, toEpochSeconds } from './clock';
import { findPresentedToken } from './find-presented-token';
import type { GrantStore } from './grant-store';
import { InvalidClient, InvalidRequest } from './oauth-errors';
import { formatScope } from './scope';

export interface IntrospectionDeps {
  /** Not cached: client authentication must see a rotated secret or a disabled client at once. */
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly clock: Clock;
}

/** RFC 7662 §2.2 for an active token. Key order is the wire order. */
export interface ActiveTokenBody {
  readonly active: true;
  readonly client_id: string;
  /** Only for user grants, with the JSON type the AuthCheck gave it. */
  readonly user_id?: UserId;
  /** Space-delimited; '' for an unscoped grant. */
  readonly scope: string;
  /** Epoch seconds. */
  readonly exp: number;
  readonly iat: number;
  readonly token_type: 'bearer' | 'refresh_token';
}

export type IntrospectionResponseBody = { readonly active: false } | ActiveTokenBody;

const INACTIVE: IntrospectionResponseBody = Object.freeze({ active: false });

/**
 * `POST /oauth2/introspect` (RFC 7662). The client authenticates exactly as at the token endpoint;
 * `token` is required (else `invalid_request`); `token_type_hint` is ignored (our tokens name their grant).
 *
 * Active: the grant's current access token before its expiry (`token_type` `bearer`, the access
 * token's scope), or its current refresh token before its expiry (`token_type` `refresh_token`, the
 * grant's scope, which a refresh may ask for). Everything else — unknown, malformed, expired, revoked,
 * rotated-away, a disabled or deleted client's — is `{"active":false}`, and so is any token of another
 * client unless the caller is a resource server (§2.1: the server decides who may see what).
 *
 * DynamoDB: client GetItem + grant GetItem, plus the owning client's GetItem when a resource server
 * asks about another client's token. Store failures propagate as `DependencyUnavailable` (503 at the HTTP edge).
 */
export async function introspectToken(
  request: FormHttpRequest,
  config: FormEndpointConfig,
  deps: IntrospectionDeps,
): Promise<IntrospectionResponseBody> {
  const { client, params } = await authenticateFormRequest(request, config, deps);
  // Introspection is for resource servers (RFC 7662 §2.1), which authenticate; a public client cannot.
  if (isPublicClient(client))
    throw new InvalidClient({ realm: config.realm, cause: 'public client at introspection' });
  const token = params.get('token');
  if (token === undefined) throw new InvalidRequest('The token parameter is required');
  const found = await findPresentedToken(token, deps.grants);
  if (found === undefined) return INACTIVE;
  const { grant, kind } = found;
  const own = grant.clientId === client.clientId;
  if ((!own && !client.resourceServer) || grant.revokedAt !== undefined) return INACTIVE;
  const expiresAt = kind === 'access_token' ? grant.accessExpiresAt : (grant.refreshExpiresAt ?? 0);
  if (expiresAt <= toEpochSeconds(deps.clock())) return INACTIVE;
  if (!own) {
    // The caller authenticated, so its own client is enabled; another client's must be checked.
    const owner = await deps.clients.getClient(grant.clientId);
    if (owner === undefined || owner.disabled) return INACTIVE;
  }
  return {
    active: true,
    client_id: grant.clientId,
    ...(grant.userId === undefined ? {} : { user_id: grant.userId }),
    scope: formatScope(kind === 'access_token' ? grant.accessScope : grant.scope),
    exp: expiresAt,
    iat: grant.issuedAt,
    token_type: kind === 'access_token' ? 'bearer' : 'refresh_token',
  };
}
