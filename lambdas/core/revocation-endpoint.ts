import type { AuditSink } from './audit-event';
import {
  authenticateFormRequest,
  type FormEndpointConfig,
  type FormHttpRequest,
} from './authenticated-form-request';
import type { ClientStore } from './client-store';
import { type Clock, toEpochSeconds } from './clock';
import type { GrantStore } from './grant-store';
import { InvalidRequest } from './oauth-errors';
import { tokenReferenceOf } from './token-reference';

export interface RevocationDeps {
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly clock: Clock;
  readonly audit: AuditSink;
}

/**
 * `POST /oauth2/revoke` (RFC 7009). The client authenticates exactly as at the token endpoint; the
 * `token` parameter is required (else `invalid_request`).
 *
 * Revoking either token revokes the whole grant: for a refresh token RFC 7009 §2.1 asks that its
 * access tokens die too, and for an access token it allows revoking the grant. One grant holds one
 * access and one refresh token, so a grant-wide revocation is the only way an access token stops at
 * once, and it leaves no refresh token to mint a replacement.
 *
 * Only the grant's *current* access or refresh token counts, expired or not (revoking something
 * expired is harmless and honours a logout that comes late). `token_type_hint` is ignored, whatever its
 * value (§2.2.1 lets the server look beyond the hint; our tokens name their grant). Unknown, malformed,
 * rotated-away and other clients' tokens resolve without effect, so the answer (200) tells the
 * caller nothing about tokens it does not hold (§2.2). Store failures propagate as `DependencyUnavailable` (503 at the HTTP edge).
 *
 * DynamoDB: the client read, then one conditional UpdateItem that checks owner and token itself.
 */
export async function revokeToken(
  request: FormHttpRequest,
  config: FormEndpointConfig,
  deps: RevocationDeps,
): Promise<void> {
  const { client, params } = await authenticateFormRequest(request, config, deps);
  const token = params.get('token');
  if (token === undefined) throw new InvalidRequest('The token parameter is required');
  // A JWT access token names its grant by its jti (the grant stores the jti's hash).
  const parsed = tokenReferenceOf(token);
  if (parsed === undefined) return;
  const revoked = await deps.grants.revokeGrantByToken(
    parsed.grantId,
    client.clientId,
    parsed.hash,
    toEpochSeconds(deps.clock()),
  );
  if (revoked) {
    deps.audit({
      type: 'grant_revoked',
      grantId: parsed.grantId,
      clientId: client.clientId,
      reason: 'revocation_endpoint',
    });
  }
}
