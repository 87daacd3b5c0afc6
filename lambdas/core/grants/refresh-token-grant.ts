import { userKeyOf } from '../auth-check';
import type { GrantRecord } from '../grant-store';
import { InvalidGrant, InvalidRequest, InvalidScope } from '../oauth-errors';
import { parseScope, resolveScope } from '../scope';
import { tokenResponse } from '../token-response';
import { formatToken, generateSecret, hashesEqual, hashSecret, parseToken } from '../token-secrets';
import { prepareAccessToken } from './access-token';
import { type GrantContext, type GrantHandler, tokenLifetimesOf } from './grant-context';

const invalidGrant = (cause: string) =>
  new InvalidGrant('The refresh token is invalid, expired or revoked', { cause });

/** More requested scope tokens than this are refused: each one is a term of the write's condition. */
const MAX_REQUESTED_SCOPE_TOKENS = 64;

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2): every refresh consumes the
 * presented token and issues a new pair in one conditional write (which is also the whole check, so
 * a warm refresh costs that write and the client read); only a refused write reads the grant, to say
 * why. Presenting a consumed token again revokes the whole grant. No refresh works past the grant's
 * creation plus `refreshTokenMaxLifetimeSeconds` (checked in the same write), so a login ends.
 */
export const refreshTokenGrant: GrantHandler = async (context) => {
  const { client, params, deps, now } = context;
  const presented = params.get('refresh_token');
  if (presented === undefined) throw new InvalidRequest('The refresh_token parameter is required');
  const token = parseToken(presented);
  if (token === undefined) throw invalidGrant('malformed refresh token');
  const userId = params.get('user_id');
  const requested = params.get('scope');
  const scope = requested === undefined ? undefined : parseScope(requested);
  if (scope !== undefined && scope.length > MAX_REQUESTED_SCOPE_TOKENS) {
    throw new InvalidScope('The requested scope has too many scope tokens');
  }

  const presentedHash = hashSecret(token.secret);
  const { accessTtl, refreshTtl } = tokenLifetimesOf(context);
  const accessToken = await prepareAccessToken(context, token.grantId, accessTtl);
  const refreshSecret = generateSecret(deps.random);
  const refreshExpiresAt = now + refreshTtl;
  const redeemed =
    (await deps.grants.redeemRefreshToken(token.grantId, {
      clientId: client.clientId,
      presentedHash,
      now,
      ...(userId === undefined ? {} : { userKey: userId }),
      ...(scope === undefined ? {} : { scope }),
      accessHash: accessToken.hash,
      accessExpiresAt: now + accessTtl,
      refreshHash: hashSecret(refreshSecret),
      refreshExpiresAt,
      maxLifetimeSeconds: context.config.refreshTokenMaxLifetimeSeconds,
      expiresAt: Math.max(now + accessTtl, refreshExpiresAt),
    })) ?? (await explainRefusal(context, token.grantId, { presentedHash, refreshSecret, userId, scope }));

  deps.audit({
    type: 'token_issued',
    grantType: 'refresh_token',
    clientId: client.clientId,
    grantId: redeemed.grantId,
    ...(redeemed.userId === undefined ? {} : { userId: redeemed.userId }),
  });
  return tokenResponse({
    accessToken: await accessToken.issue({
      ...(redeemed.userId === undefined ? {} : { userId: redeemed.userId }),
      scope: redeemed.accessScope,
    }),
    expiresIn: accessTtl,
    refreshToken: formatToken(redeemed.grantId, refreshSecret),
    ...(redeemed.userId === undefined ? {} : { userId: redeemed.userId }),
    scope: redeemed.accessScope,
  });
};

/**
 * The redemption's condition failed: read the grant. Either the write is there after all (the SDK
 * retried a write whose first answer was lost, and the retry met it), or throw the error that says
 * why, in the order a client can act on. A consumed token is a replay (a lost race included).
 */
async function explainRefusal(
  context: GrantContext,
  grantId: string,
  attempt: {
    presentedHash: string;
    refreshSecret: string;
    userId: string | undefined;
    scope: readonly string[] | undefined;
  },
): Promise<GrantRecord> {
  const { client, deps, now } = context;
  const { presentedHash, userId, scope } = attempt;
  // The refusal may be an SDK retry meeting this redemption's own landed write: the read is what tells
  // the client's new tokens from a refusal, so a failed read gets a second try (as the store's settle
  // does) before the request is answered 503 with its outcome unknown.
  const grant = await deps.grants.getGrant(grantId).catch(() => deps.grants.getGrant(grantId));
  if (
    grant?.clientId === client.clientId &&
    grant.revokedAt === undefined &&
    grant.refreshHash !== undefined &&
    hashesEqual(grant.refreshHash, hashSecret(attempt.refreshSecret))
  ) {
    return grant;
  }
  // Another client's token is refused, never revoked: that client cannot prove it was the thief.
  if (grant === undefined || grant.clientId !== client.clientId)
    throw invalidGrant('unknown grant or other client');
  if (grant.revokedAt !== undefined) throw invalidGrant('grant revoked');
  if (grant.refreshHash === undefined || !hashesEqual(presentedHash, grant.refreshHash)) {
    if (grant.consumedRefreshHashes.some((hash) => hashesEqual(presentedHash, hash))) {
      return handleReuse(context, grant, presentedHash);
    }
    throw invalidGrant('refresh token does not match');
  }
  if ((grant.refreshExpiresAt ?? 0) <= now) throw invalidGrant('refresh token expired');
  if (grant.createdAt + context.config.refreshTokenMaxLifetimeSeconds <= now) {
    throw invalidGrant('grant past its maximum lifetime');
  }
  if (userId !== undefined && (grant.userId === undefined || userId !== userKeyOf(grant.userId))) {
    throw new InvalidGrant('The user_id does not match the refresh token', { cause: 'user_id mismatch' });
  }
  resolveScope(scope, grant.scope);
  // Every check passes now, so the grant changed between the write and the read: refuse, keep it.
  throw invalidGrant('grant changed during the refresh');
}

/**
 * A consumed refresh token came back. Outside the grace window that means two parties hold it:
 * revoke the grant so neither the thief nor the victim keeps a working token.
 */
async function handleReuse(context: GrantContext, grant: GrantRecord, presentedHash: string): Promise<never> {
  const { deps, now, config } = context;
  const lastConsumed = grant.consumedRefreshHashes.at(-1);
  const justRotated =
    grant.rotatedAt !== undefined &&
    now - grant.rotatedAt <= config.refreshReuseGraceSeconds &&
    // The racing token is the one consumed last, whether or not our read saw that consumption.
    ((lastConsumed !== undefined && hashesEqual(presentedHash, lastConsumed)) ||
      (grant.refreshHash !== undefined && hashesEqual(presentedHash, grant.refreshHash)));
  const revoke = config.refreshReuseGraceSeconds === 0 || !justRotated;
  if (revoke) await deps.grants.revokeGrant(grant.grantId, now);
  deps.audit({
    type: 'refresh_token_reused',
    clientId: grant.clientId,
    grantId: grant.grantId,
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
    revoked: revoke,
  });
  throw invalidGrant(
    revoke ? 'refresh token reused: grant revoked' : 'refresh token reused within grace window',
  );
}
