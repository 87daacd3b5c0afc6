import type { AuthorizationCodeRecord, AuthorizationCodeStore } from '../authorization-code-store';
import { InvalidGrant, InvalidRequest } from '../oauth-errors';
import { isPkceValue, s256 } from '../pkce';
import { generateId, hashSecret } from '../token-secrets';
import { type GrantContext, type GrantHandler, tokenLifetimesOf } from './grant-context';
import { issueGrant } from './issue-grant';

const invalidGrant = (cause: string) =>
  new InvalidGrant('The authorization code is invalid, expired, used, or was issued to another client', {
    cause,
  });

/** Codes are 256-bit base64url secrets (43 characters); anything much longer is not one of ours. */
const MAX_CODE_LENGTH = 128;

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5): the code is redeemed in one conditional write that is
 * also the whole check (client, S256 of the verifier, redirect URI, expiry, never used), then a grant
 * is issued under the id the redemption recorded. Only a refused write reads the code, to say why; a
 * used code that comes back is refused and the grant of its first use revoked (§4.1.2).
 */
export const authorizationCodeGrant: GrantHandler = async (context) => {
  const { client, params, deps, now } = context;
  const code = params.get('code');
  const verifier = params.get('code_verifier');
  if (code === undefined) throw new InvalidRequest('The code parameter is required');
  if (verifier === undefined) throw new InvalidRequest('The code_verifier parameter is required');
  const codes = deps.codes;
  if (codes === undefined) throw invalidGrant('no authorization code store configured');
  if (code.length > MAX_CODE_LENGTH) throw invalidGrant('malformed code');
  // A malformed verifier can never be the one the challenge was made from (RFC 7636 §4.6).
  if (!isPkceValue(verifier)) throw invalidGrant('malformed code_verifier');

  const codeHash = hashSecret(code);
  const redirectUri = params.get('redirect_uri');
  const withRefreshToken = client.grantTypes.includes('refresh_token');
  const { accessTtl, refreshTtl } = tokenLifetimesOf(context);
  const grantId = generateId(deps.random);
  const redemption = {
    clientId: client.clientId,
    codeChallenge: s256(verifier),
    ...(redirectUri === undefined ? {} : { redirectUri }),
    now,
    grantId,
    expiresAt: now + Math.max(accessTtl, withRefreshToken ? refreshTtl : 0),
  };
  const redeemed =
    (await codes.redeemCode(codeHash, redemption)) ??
    (await explainRefusal(context, codes, codeHash, grantId));

  const response = await issueGrant(context, {
    grantType: 'authorization_code',
    userId: redeemed.userId,
    scope: redeemed.scope,
    withRefreshToken,
    grantId,
  });
  // A replay that arrived between the redemption and the grant write found no grant to revoke; it
  // marked the code instead. Checking after the write closes that gap: the replay either sees the grant
  // (and revokes it) or its mark is seen here.
  const after = await codes.getCode(codeHash);
  if (after?.replayedAt !== undefined) {
    await deps.grants.revokeGrant(grantId, now);
    throw invalidGrant('code replayed while its grant was issued');
  }
  return response;
};

/**
 * The redemption's condition failed: read the code. Either the write is there after all (an SDK
 * retry met this redemption's own earlier write), or throw the error that says why. A used code is a
 * replay: the grant of its first use is revoked.
 */
async function explainRefusal(
  context: GrantContext,
  codes: AuthorizationCodeStore,
  codeHash: string,
  grantId: string,
): Promise<AuthorizationCodeRecord> {
  const { client, deps, now } = context;
  const code = await codes.getCode(codeHash);
  // Another client's code is refused, never used to revoke: that client cannot prove it was the thief.
  if (code === undefined || code.clientId !== client.clientId)
    throw invalidGrant('unknown code or other client');
  if (code.redeemedAt !== undefined) {
    if (code.grantId === grantId) return code;
    await codes.markReplayed(codeHash, now);
    const revoked = code.grantId === undefined ? false : await deps.grants.revokeGrant(code.grantId, now);
    deps.audit({
      type: 'authorization_code_reused',
      clientId: code.clientId,
      ...(code.grantId === undefined ? {} : { grantId: code.grantId }),
      userId: code.userId,
    });
    throw invalidGrant(revoked ? 'code reused: grant revoked' : 'code reused');
  }
  if (code.codeExpiresAt <= now) throw invalidGrant('code expired');
  const { params } = context;
  const verifier = params.get('code_verifier') ?? '';
  if (s256(verifier) !== code.codeChallenge) {
    throw new InvalidGrant('The code_verifier does not match the code_challenge', {
      cause: 'PKCE verifier mismatch',
    });
  }
  const redirectUri = params.get('redirect_uri');
  if (redirectUri === undefined ? code.redirectUriSent : redirectUri !== code.redirectUri) {
    throw new InvalidGrant('The redirect_uri does not match the authorization request', {
      cause: 'redirect_uri mismatch',
    });
  }
  throw invalidGrant('code changed during the redemption');
}
