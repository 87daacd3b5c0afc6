import { userKeyOf } from '../auth-check';
import { GrantAlreadyRotated, type GrantRecord } from '../grant-store';
import { InvalidGrant, InvalidRequest } from '../oauth-errors';
import { parseScope, resolveScope } from '../scope';
import { tokenResponse } from '../token-response';
import { formatToken, generateSecret, hashesEqual, hashSecret, parseToken } from '../token-secrets';
import { type GrantContext, type GrantHandler, tokenLifetimesOf } from './grant-context';

/** Enough history to recognise any replay in practice while keeping the item small (~3 KB). */
const MAX_CONSUMED_HASHES = 64;

const invalidGrant = (cause: string) =>
  new InvalidGrant('The refresh token is invalid, expired or revoked', { cause });

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2): every refresh consumes the
 * presented token and issues a new pair in one conditional write; presenting a consumed token
 * again revokes the whole grant.
 */
export const refreshTokenGrant: GrantHandler = async (context) => {
  const { client, params, deps, now } = context;
  const presented = params.get('refresh_token');
  if (presented === undefined) throw new InvalidRequest('The refresh_token parameter is required');
  const token = parseToken(presented);
  if (token === undefined) throw invalidGrant('malformed refresh token');

  const grant = await deps.grants.getGrant(token.grantId);
  // Another client's token is refused, never revoked: that client cannot prove it was the thief.
  if (grant === undefined || grant.clientId !== client.clientId)
    throw invalidGrant('unknown grant or other client');
  if (grant.revokedAt !== undefined) throw invalidGrant('grant revoked');

  const presentedHash = hashSecret(token.secret);
  if (grant.refreshHash === undefined || !hashesEqual(presentedHash, grant.refreshHash)) {
    if (grant.consumedRefreshHashes.some((hash) => hashesEqual(presentedHash, hash))) {
      return handleReuse(context, grant, presentedHash);
    }
    throw invalidGrant('refresh token does not match');
  }
  if ((grant.refreshExpiresAt ?? 0) <= now) throw invalidGrant('refresh token expired');

  const userId = params.get('user_id');
  if (userId !== undefined && (grant.userId === undefined || userId !== userKeyOf(grant.userId))) {
    throw new InvalidGrant('The user_id does not match the refresh token', { cause: 'user_id mismatch' });
  }
  const requested = params.get('scope');
  const scope = resolveScope(requested === undefined ? undefined : parseScope(requested), grant.scope);

  const accessSecret = generateSecret(deps.random);
  const refreshSecret = generateSecret(deps.random);
  const { accessTtl, refreshTtl } = tokenLifetimesOf(context);
  const refreshExpiresAt = now + refreshTtl;
  try {
    await deps.grants.rotateGrant(grant.grantId, grant.refreshHash, {
      accessHash: hashSecret(accessSecret),
      accessExpiresAt: now + accessTtl,
      accessScope: scope,
      refreshHash: hashSecret(refreshSecret),
      refreshExpiresAt,
      consumedRefreshHashes: [...grant.consumedRefreshHashes, grant.refreshHash].slice(-MAX_CONSUMED_HASHES),
      issuedAt: now,
      rotatedAt: now,
      expiresAt: Math.max(now + accessTtl, refreshExpiresAt),
    });
  } catch (error) {
    // Lost the race: the same token was exchanged concurrently, so this use is a replay.
    if (error instanceof GrantAlreadyRotated)
      return handleReuse(context, { ...grant, rotatedAt: now }, presentedHash);
    throw error;
  }
  deps.audit({
    type: 'token_issued',
    grantType: 'refresh_token',
    clientId: client.clientId,
    grantId: grant.grantId,
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
  });
  return tokenResponse({
    accessToken: formatToken(grant.grantId, accessSecret),
    expiresIn: accessTtl,
    refreshToken: formatToken(grant.grantId, refreshSecret),
    ...(grant.userId === undefined ? {} : { userId: grant.userId }),
    scope,
  });
};

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
