import type { UserId } from '../auth-check';
import { DependencyUnavailable } from '../dependency-unavailable';
import { formatJti, signAccessToken } from '../jwt-access-token';
import { formatToken, generateSecret, hashSecret } from '../token-secrets';
import { accessTokenFormatOf, type GrantContext } from './grant-context';

/**
 * An access token decided before the grant is written: `hash` goes into the grant item as its current
 * access token (the opaque secret's hash, or the JWT's jti hash), `issue` makes the token the client
 * receives once the write has landed (the JWT is signed with what the write settled: user, scope).
 */
export interface PreparedAccessToken {
  readonly hash: string;
  issue(grant: { readonly userId?: UserId; readonly scope: readonly string[] }): Promise<string>;
}

/** The one place every grant makes its access token, in the client's (or the service's) format. */
export async function prepareAccessToken(
  context: GrantContext,
  grantId: string,
  expiresIn: number,
): Promise<PreparedAccessToken> {
  const { client, deps, now } = context;
  const secret = generateSecret(context.deps.random);
  if (accessTokenFormatOf(context) === 'opaque') {
    return { hash: hashSecret(secret), issue: async () => formatToken(grantId, secret) };
  }
  const jti = formatJti(grantId, secret);
  if (deps.signingKey === undefined || context.issuer === '') {
    throw new DependencyUnavailable(
      'secrets',
      'a JWT was asked for but no signing key or issuer is configured',
    );
  }
  // Fetched before the grant is written: a key that cannot be had leaves nothing behind.
  const key = await deps.signingKey(now);
  return {
    hash: hashSecret(jti),
    issue: async ({ userId, scope }) =>
      signAccessToken(
        {
          issuer: context.issuer,
          // RFC 9068 §2.2: the user for user grants, the client itself for client_credentials.
          subject: userId === undefined ? client.clientId : String(userId),
          clientId: client.clientId,
          audience: context.audience,
          issuedAt: now,
          expiresAt: now + expiresIn,
          jti,
          scope,
          ...(userId === undefined ? {} : { userId }),
        },
        key,
      ),
  };
}
