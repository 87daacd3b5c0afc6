import type { GrantRecord, GrantStore } from './grant-store';
import { hashesEqual, hashSecret, parseToken } from './token-secrets';

/** Which of a grant's current tokens was presented (the names RFC 7009/7662 use for `token_type_hint`). */
export type PresentedTokenKind = 'access_token' | 'refresh_token';

export interface PresentedToken {
  readonly grant: GrantRecord;
  readonly kind: PresentedTokenKind;
}

/**
 * Finds the grant behind a token presented to the revocation or introspection endpoint with one
 * strongly consistent read, and tells whether it is the grant's current access or current refresh
 * token (compared in constant time). Undefined for a malformed token, an unknown grant, and a secret
 * that is neither current token: a rotated-away, consumed or forged one. Expiry, revocation and
 * ownership are left to the caller. Store failures propagate as `DependencyUnavailable`.
 */
export async function findPresentedToken(
  token: string,
  grants: GrantStore,
): Promise<PresentedToken | undefined> {
  const parsed = parseToken(token);
  if (parsed === undefined) return undefined;
  const grant = await grants.getGrant(parsed.grantId);
  if (grant === undefined) return undefined;
  const presented = hashSecret(parsed.secret);
  if (hashesEqual(presented, grant.accessHash)) return { grant, kind: 'access_token' };
  if (grant.refreshHash !== undefined && hashesEqual(presented, grant.refreshHash)) {
    return { grant, kind: 'refresh_token' };
  }
  return undefined;
}
