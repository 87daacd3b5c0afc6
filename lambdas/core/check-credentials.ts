import type { AuditSink } from './audit-event';
import type { AuthCheck, UserId } from './auth-check';
import { InvalidGrant } from './oauth-errors';
import {
  type LockoutPolicy,
  type LockoutStore,
  liveLockout,
  lockedUntil,
  lockoutExpiry,
  lockoutKeyOf,
  lockoutSeconds,
} from './password-lockout';

export interface CredentialCheckDeps {
  readonly authCheck: AuthCheck;
  readonly lockouts: LockoutStore;
  readonly audit: AuditSink;
}

export interface CheckedCredentials {
  readonly userId: UserId;
  /** The success's lockout bookkeeping, in flight; never rejects. Await it before answering. */
  readonly settled: Promise<void>;
}

/** What the lockout says when it refuses without asking the AuthCheck (shown on the sign-in page too). */
export const LOCKED_OUT_DESCRIPTION = 'Too many failed sign-in attempts for this username; try again later';
export const WRONG_CREDENTIALS_DESCRIPTION = 'The username or password is incorrect';

/**
 * A resource owner's username and password, checked by the deployer's AuthCheck behind the
 * per-username lockout. The one place both the password grant and the authorize endpoint's sign-in
 * form check credentials, so they share one counter per username.
 *
 * Call only after the client authenticated (or, for the authorize form, after the request was
 * validated): an unauthenticated request must never touch a username's lockout state.
 *
 * Resolves to the user id and `settled`: the lockout bookkeeping of a success, already started, so
 * the caller can await it beside its own write (one round trip instead of two). `settled` never
 * rejects; the caller must await it before answering (a Lambda may freeze once it answers).
 * Throws `InvalidGrant` for wrong credentials or a locked username (with `Retry-After`); a failed
 * AuthCheck or store propagates as `DependencyUnavailable`.
 */
export async function checkCredentials(
  request: { readonly username: string; readonly password: string; readonly clientId: string },
  policy: LockoutPolicy,
  deps: CredentialCheckDeps,
  now: number,
): Promise<CheckedCredentials> {
  const { username, password, clientId } = request;
  const lockoutKey = lockoutKeyOf(username);
  const lockout =
    policy.threshold === 0 ? undefined : liveLockout(await deps.lockouts.getLockout(lockoutKey), now);
  const until = lockedUntil(lockout, policy);
  if (until !== undefined && until > now) {
    throw new InvalidGrant(LOCKED_OUT_DESCRIPTION, {
      cause: 'username locked out',
      headers: { 'Retry-After': String(until - now) },
    });
  }

  const userId = await deps.authCheck.checkCredentials({ username, password, clientId });
  if (userId === null) {
    if (policy.threshold > 0) {
      const after = await deps.lockouts.recordFailure(lockoutKey, now, lockoutExpiry(now, policy));
      const seconds = lockoutSeconds(after.failures, policy);
      if (seconds > 0) {
        deps.audit({
          type: 'username_locked',
          clientId,
          lockoutKey,
          failures: after.failures,
          lockedSeconds: seconds,
        });
      }
    }
    throw new InvalidGrant(WRONG_CREDENTIALS_DESCRIPTION, { cause: 'AuthCheck rejected the credentials' });
  }
  // Only a username with recorded failures costs a write on success.
  const settled =
    lockout === undefined ? Promise.resolve() : deps.lockouts.clearLockout(lockoutKey).catch(() => undefined);
  return { userId, settled };
}
