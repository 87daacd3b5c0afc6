import type { GrantRecord, GrantStore } from './grant-store';
import { tokenReferenceOf } from './token-reference';
import { hashesEqual } from './token-secrets';

/** Which of a grant's current tokens was presented (the names RFC 7009/7662 use for `token_type_hint`). */
export type PresentedTokenKind = 'access_token' | 'refresh_token';

export interface PresentedToken {
  readonly grant: GrantRecord;
  readonly kind: PresentedTokenKind;
}

/**
 * Finds the grant behind a token (opaque, or a JWT access token by its `jti`) presented to the revocation or introspection endpoint with one
 * strongly consistent read, and tells whether it is the grant's current access or current refresh
 * token (compared in constant time). Undefined for a malformed token, an unknown grant, and a secret
 * that is neither current token: a rotated-away, consumed or forged one. Expiry, revocation and
 * ownership are left to the caller. Store failures propagate as `DependencyUnavailable`.
 */
export async function findPresentedToken(
  token: string,
  grants: GrantStore,
): Promise<PresentedToken | undefined> {
  const reference = tokenReferenceOf(token);
  if (reference === undefined) return undefined;
  const grant = await grants.getGrant(reference.grantId);
  if (grant === undefined) return undefined;
  const presented = reference.hash;
  if (hashesEqual(presented, grant.accessHash)) return { grant, kind: 'access_token' };
  if (
    reference.format === 'opaque' &&
    grant.refreshHash !== undefined &&
    hashesEqual(presented, grant.refreshHash)
  ) {
    return { grant, kind: 'refresh_token' };
  }
  return undefined;
}
