import type { UserId } from './auth-check';
import type { ClientStore } from './client-store';
import { type Clock, toEpochSeconds } from './clock';
import { findPresentedToken } from './find-presented-token';
import type { GrantStore } from './grant-store';
import { isJwtShaped, JwtRejected, type PublicKeyLookup, verifyJwtAccessToken } from './jwt-access-token';
import { InvalidToken } from './oauth-errors';
import { hashesEqual, hashSecret } from './token-secrets';

/** What a verified access token says; becomes the authorizer context. */
export interface AccessTokenClaims {
  readonly grantId: string;
  readonly clientId: string;
  readonly userId?: UserId;
  readonly scope: readonly string[];
  /** The token's audiences; opaque tokens carry none, so a route requiring one refuses them. */
  readonly audiences?: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** How JWT access tokens are checked: locally, by signature and claims. */
export interface JwtCheck {
  /** The public key for a `kid` (in memory when warm: no read). */
  readonly lookup: PublicKeyLookup;
  /** Must equal `iss`: the metadata's issuer. */
  readonly issuer: string;
  /** When set, `aud` must contain one of these. */
  readonly audience?: readonly string[];
  /**
   * Security-relevant: also read the grant, so a JWT whose grant is revoked (or whose access token was
   * rotated by a refresh) is refused at once, at the cost of one strongly consistent read per check.
   */
  readonly revocationCheck: boolean;
}

export interface VerifyAccessTokenDeps {
  readonly grants: GrantStore;
  /**
   * May be a short-lived cache: disabling a client revokes its grants, and a grant written during the
   * disable revokes itself (see `issueGrant`), so no token relies on the cache being fresh.
   */
  readonly clients: ClientStore;
  readonly clock: Clock;
  /** JWT access tokens; absent: a JWT is refused like any unknown token. */
  readonly jwt?: JwtCheck;
}

/** RFC 6750 §2.1: `Bearer` (case-insensitive), one or more spaces, a b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Extracts the raw bearer token (RFC 6750, not base64 of it as the original required). */
export function parseBearerAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return BEARER.exec(header.trim())?.[1];
}

/**
 * Verifies an access token: one strongly consistent read of its grant, plus the client (cached).
 * Missing, malformed, unknown, expired, revoked, rotated-away or disabled-client tokens all throw
 * the same `InvalidToken`; store failures propagate as `DependencyUnavailable`.
 */
export async function verifyAccessToken(
  token: string | undefined,
  deps: VerifyAccessTokenDeps,
  realm: string,
): Promise<AccessTokenClaims> {
  if (token !== undefined && isJwtShaped(token)) return verifyJwt(token, deps, realm);
  const found = token === undefined ? undefined : await findPresentedToken(token, deps.grants);
  if (found === undefined || found.kind !== 'access_token') {
    throw new InvalidToken({ realm, cause: 'missing, malformed, unknown or not the current access token' });
  }
  const { grant } = found;
  if (grant.revokedAt !== undefined) throw new InvalidToken({ realm, cause: 'grant revoked' });
  if (grant.accessExpiresAt <= toEpochSeconds(deps.clock()))
    throw new InvalidToken({ realm, cause: 'expired' });
  const client = await deps.clients.getClient(grant.clientId);
  if (client === undefined || client.disabled)
    throw new InvalidToken({ realm, cause: 'client disabled or gone' });
  return {
    grantId: grant.grantId,
    clientId: grant.clientId,
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
    scope: grant.accessScope,
    issuedAt: grant.issuedAt,
    expiresAt: grant.accessExpiresAt,
  };
}

/**
 * A JWT access token, checked locally: no read unless `revocationCheck` is on. Every failure is the
 * same `InvalidToken`; the reason goes to the log only.
 */
async function verifyJwt(
  token: string,
  deps: VerifyAccessTokenDeps,
  realm: string,
): Promise<AccessTokenClaims> {
  const check = deps.jwt;
  if (check === undefined) throw new InvalidToken({ realm, cause: 'JWT access tokens are not configured' });
  let verified: Awaited<ReturnType<typeof verifyJwtAccessToken>>;
  try {
    verified = await verifyJwtAccessToken(
      token,
      check.lookup,
      { issuer: check.issuer, ...(check.audience === undefined ? {} : { audience: check.audience }) },
      toEpochSeconds(deps.clock()),
    );
  } catch (error) {
    if (error instanceof JwtRejected)
      throw new InvalidToken({ realm, cause: `JWT refused: ${error.message}` });
    throw error;
  }
  if (check.revocationCheck) {
    const grant = await deps.grants.getGrant(verified.grantId);
    if (grant === undefined || grant.revokedAt !== undefined) {
      throw new InvalidToken({ realm, cause: 'JWT of a revoked or unknown grant' });
    }
    if (!hashesEqual(grant.accessHash, hashSecret(verified.jti))) {
      throw new InvalidToken({ realm, cause: "JWT is not the grant's current access token" });
    }
  }
  return {
    grantId: verified.grantId,
    clientId: verified.clientId,
    ...(verified.userId === undefined ? {} : { userId: verified.userId }),
    scope: verified.scope,
    issuedAt: verified.issuedAt,
    expiresAt: verified.expiresAt,
    audiences: verified.audiences,
  };
}
