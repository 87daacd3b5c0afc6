import { decodeJwt } from 'jose';
import { grantIdOfJti, isJwtShaped } from './jwt-access-token';
import { hashSecret, parseToken } from './token-secrets';

/** Which grant a presented token names, and the hash its grant stores for it. */
export interface TokenReference {
  readonly grantId: string;
  readonly hash: string;
  /** A JWT can only ever be an access token; its hash is the hash of its `jti`. */
  readonly format: 'opaque' | 'jwt';
}

/**
 * Locates the grant of an opaque token (`<grant id>.<secret>`) or of a JWT access token (by its
 * `jti`). The JWT's signature is not checked here: the caller compares the hash with the grant's,
 * and answers from the grant, never from the token's claims. Undefined for anything malformed.
 */
export function tokenReferenceOf(token: string): TokenReference | undefined {
  if (isJwtShaped(token)) {
    let jti: unknown;
    try {
      jti = decodeJwt(token).jti;
    } catch {
      return undefined;
    }
    const grantId = typeof jti === 'string' ? grantIdOfJti(jti) : undefined;
    if (grantId === undefined || typeof jti !== 'string') return undefined;
    return { grantId, hash: hashSecret(jti), format: 'jwt' };
  }
  const parsed = parseToken(token);
  if (parsed === undefined) return undefined;
  return { grantId: parsed.grantId, hash: hashSecret(parsed.secret), format: 'opaque' };
}
