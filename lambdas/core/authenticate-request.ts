import type { UserId } from './auth-check';
import { InvalidToken } from './oauth-errors';
import type { SessionCheck } from './session-check';
import {
  type AccessTokenClaims,
  parseBearerAuthorization,
  type VerifyAccessTokenDeps,
  verifyAccessToken,
} from './verify-access-token';

export type Principal =
  | { readonly method: 'bearer'; readonly claims: AccessTokenClaims }
  | { readonly method: 'session'; readonly userId: UserId };

/**
 * Bearer token first, cookie session second (the original's combined policy, minus its bug where
 * a Basic header overrode a valid cookie): any Authorization header decides alone, so a malformed
 * or revoked token is never rescued by a cookie. Without one, a configured session check gets the
 * Cookie header. Everything else is `InvalidToken`.
 */
export async function authenticateRequest(
  request: { authorization: string | undefined; cookie: string | undefined },
  deps: VerifyAccessTokenDeps & { sessionCheck?: SessionCheck },
  realm: string,
): Promise<Principal> {
  if (request.authorization !== undefined && request.authorization.trim() !== '') {
    return {
      method: 'bearer',
      claims: await verifyAccessToken(parseBearerAuthorization(request.authorization), deps, realm),
    };
  }
  if (deps.sessionCheck !== undefined && request.cookie !== undefined && request.cookie.trim() !== '') {
    const userId = await deps.sessionCheck.checkSession(request.cookie);
    if (userId !== null) return { method: 'session', userId };
    throw new InvalidToken({ realm, cause: 'session check refused the cookie' });
  }
  throw new InvalidToken({ realm, cause: 'no bearer token' });
}
