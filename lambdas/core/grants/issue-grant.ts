import type { UserId } from '../auth-check';
import type { GrantRecord } from '../grant-store';
import type { TokenResponseBody } from '../token-response';
import { tokenResponse } from '../token-response';
import { formatToken, generateId, generateSecret, hashSecret } from '../token-secrets';
import { prepareAccessToken } from './access-token';
import { type GrantContext, tokenLifetimesOf } from './grant-context';

/**
 * Creates a new grant (one stored item, one write) and answers its first tokens.
 * With `withRefreshToken`, a refresh token is issued too (password grant).
 */
export async function issueGrant(
  context: GrantContext,
  grant: {
    grantType: GrantRecord['grantType'];
    userId?: UserId;
    scope: readonly string[];
    withRefreshToken: boolean;
    /** A grant id chosen beforehand (an authorization code records it at redemption); else a fresh one. */
    grantId?: string;
  },
): Promise<TokenResponseBody> {
  const { client, deps, now } = context;
  const { accessTtl, refreshTtl } = tokenLifetimesOf(context);
  const grantId = grant.grantId ?? generateId(deps.random);
  const accessToken = await prepareAccessToken(context, grantId, accessTtl);
  const refreshSecret = grant.withRefreshToken ? generateSecret(deps.random) : undefined;
  const accessExpiresAt = now + accessTtl;
  // Never past the grant's absolute cap, even for a client whose own refresh lifetime is longer.
  const refreshExpiresAt =
    refreshSecret === undefined
      ? undefined
      : now + Math.min(refreshTtl, context.config.refreshTokenMaxLifetimeSeconds);
  const record: GrantRecord = {
    grantId,
    clientId: client.clientId,
    grantType: grant.grantType,
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
    scope: grant.scope,
    accessScope: grant.scope,
    createdAt: now,
    issuedAt: now,
    accessHash: accessToken.hash,
    accessExpiresAt,
    ...(refreshSecret === undefined ? {} : { refreshHash: hashSecret(refreshSecret), refreshExpiresAt }),
    consumedRefreshHashes: [],
    expiresAt: Math.max(accessExpiresAt, refreshExpiresAt ?? 0),
  };
  // Stored before anything is answered: a token the client sees always exists. A grant written while
  // disable-client runs (this request read the client just before the disable) is caught off this
  // path: disable-client sweeps the client's grants again once every token request that could have
  // read the client before the disable has ended (see `runAdminCommand`).
  await deps.grants.createGrant(record);
  deps.audit({
    type: 'token_issued',
    grantType: grant.grantType,
    clientId: client.clientId,
    grantId,
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
  });
  return tokenResponse({
    accessToken: await accessToken.issue({
      ...(grant.userId === undefined ? {} : { userId: grant.userId }),
      scope: grant.scope,
    }),
    expiresIn: accessTtl,
    ...(refreshSecret === undefined ? {} : { refreshToken: formatToken(grantId, refreshSecret) }),
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
    scope: grant.scope,
  });
}
