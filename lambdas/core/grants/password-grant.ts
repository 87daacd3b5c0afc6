import { InvalidGrant, InvalidRequest } from '../oauth-errors';
import { liveLockout, lockedUntil, lockoutExpiry, lockoutKeyOf, lockoutSeconds } from '../password-lockout';
import { parseScope, resolveScope } from '../scope';
import type { GrantHandler } from './grant-context';
import { issueGrant } from './issue-grant';

/**
 * RFC 6749 §4.3: the resource owner's credentials are checked by the deployer's AuthCheck, behind a
 * per-username lockout: a locked username is refused without asking the AuthCheck, with the same
 * answer whether or not the password is right, so guessing gains nothing while the lock holds.
 */
export const passwordGrant: GrantHandler = async (context) => {
  const { client, params, deps, now } = context;
  const policy = context.config.lockout;
  const username = params.get('username');
  const password = params.get('password');
  if (username === undefined || password === undefined) {
    throw new InvalidRequest('Both username and password are required');
  }
  const requested = params.get('scope');
  const scope = resolveScope(
    requested === undefined ? undefined : parseScope(requested),
    client.scope,
    client.defaultScope,
  );

  const lockoutKey = lockoutKeyOf(username);
  const lockout =
    policy.threshold === 0 ? undefined : liveLockout(await deps.lockouts.getLockout(lockoutKey), now);
  const until = lockedUntil(lockout, policy);
  if (until !== undefined && until > now) {
    throw new InvalidGrant('Too many failed sign-in attempts for this username; try again later', {
      cause: 'username locked out',
      headers: { 'Retry-After': String(until - now) },
    });
  }

  const userId = await deps.authCheck.checkCredentials({ username, password, clientId: client.clientId });
  if (userId === null) {
    if (policy.threshold > 0) {
      const after = await deps.lockouts.recordFailure(lockoutKey, now, lockoutExpiry(now, policy));
      const seconds = lockoutSeconds(after.failures, policy);
      if (seconds > 0) {
        deps.audit({
          type: 'username_locked',
          clientId: client.clientId,
          lockoutKey,
          failures: after.failures,
          lockedSeconds: seconds,
        });
      }
    }
    throw new InvalidGrant('The username or password is incorrect', {
      cause: 'AuthCheck rejected the credentials',
    });
  }
  // Only a username with recorded failures costs a write on success.
  if (lockout !== undefined) await deps.lockouts.clearLockout(lockoutKey);
  return issueGrant(context, { grantType: 'password', userId, scope, withRefreshToken: true });
};
