import type { AuditSink } from './audit-event';
import type { AuthCheck, UserId } from './auth-check';
import { InvalidGrant, TemporarilyUnavailable } from './oauth-errors';
import {
  type LockoutPolicy,
  type LockoutState,
  type LockoutStore,
  lockoutExpiry,
  lockoutKeyOf,
  lockoutSeconds,
  STALE_RESERVATION_SECONDS,
} from './password-lockout';

export interface CredentialCheckDeps {
  readonly authCheck: AuthCheck;
  readonly lockouts: LockoutStore;
  readonly audit: AuditSink;
  /**
   * The deployment's secret for keying lockout state (`lockoutKeyOf`); read per request because it
   * may come from Secrets Manager. Not called when the lockout is off.
   */
  readonly lockoutKeySecret: () => Promise<string>;
  /** Waits before another reservation try; a timer unless a test replaces it. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
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
 * How long an attempt over the username's budget waits for a slot, try by try (1.575 s in all):
 * slots come free as the attempts in flight get their AuthCheck answer, usually within milliseconds.
 * Doubling keeps a crowd of waiters from hammering the one item; then 503 with `Retry-After`.
 */
export const RESERVATION_BACKOFF_MS: readonly number[] = Object.freeze([25, 50, 100, 200, 400, 800]);

const timer = (milliseconds: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, milliseconds);
  });

/**
 * A resource owner's username and password, checked by the deployer's AuthCheck behind the
 * per-username lockout. The one place both the password grant and the authorize endpoint's sign-in
 * form check credentials, so they share one counter per username.
 *
 * Call only after the client authenticated (or, for the authorize form, after the request was
 * validated): an unauthenticated request must never touch a username's lockout state.
 *
 * With the lockout on, the attempt first reserves a slot in one conditional write (refused while
 * locked, or while failures plus attempts in flight fill the budget), so however many requests
 * arrive at once, no more than `threshold` reach the AuthCheck before a lock. An attempt over the
 * budget waits (`RESERVATION_BACKOFF_MS`) and is then answered 503; it never reaches the AuthCheck
 * and never counts as a failure.
 *
 * Resolves to the user id and `settled`: the lockout bookkeeping of a success, already started, so
 * the caller can await it beside its own write (one round trip instead of two). `settled` never
 * rejects; the caller must await it before answering (a Lambda may freeze once it answers).
 * Throws `InvalidGrant` for wrong credentials or a locked username (with `Retry-After`),
 * `TemporarilyUnavailable` when no slot came free; a failed AuthCheck or store propagates as
 * `DependencyUnavailable` (and gives its reservation back).
 */
export async function checkCredentials(
  request: { readonly username: string; readonly password: string; readonly clientId: string },
  policy: LockoutPolicy,
  deps: CredentialCheckDeps,
  now: number,
): Promise<CheckedCredentials> {
  const { username, password, clientId } = request;
  if (policy.threshold === 0) {
    const userId = await deps.authCheck.checkCredentials({ username, password, clientId });
    if (userId === null) {
      throw new InvalidGrant(WRONG_CREDENTIALS_DESCRIPTION, { cause: 'AuthCheck rejected the credentials' });
    }
    return { userId, settled: Promise.resolve() };
  }

  const lockoutKey = lockoutKeyOf(username, await deps.lockoutKeySecret());
  const seen = await reserveAttempt(lockoutKey, policy, deps, now);

  let userId: UserId | null;
  try {
    userId = await deps.authCheck.checkCredentials({ username, password, clientId });
  } catch (error) {
    // Nothing was tried: the slot goes back, and an outage never locks anyone out.
    await deps.lockouts.releaseAttempt(lockoutKey).catch(() => undefined);
    throw error;
  }
  if (userId === null) {
    const after = await deps.lockouts.recordFailure(lockoutKey, now, {
      threshold: policy.threshold,
      expiresAt: lockoutExpiry(now, policy),
    });
    const seconds = lockoutSeconds(after.failures, policy);
    if (seconds > 0 && (await deps.lockouts.lock(lockoutKey, after.failures, now + seconds))) {
      deps.audit({
        type: 'username_locked',
        clientId,
        lockoutKey,
        failures: after.failures,
        lockedSeconds: seconds,
      });
    }
    throw new InvalidGrant(WRONG_CREDENTIALS_DESCRIPTION, { cause: 'AuthCheck rejected the credentials' });
  }
  const settled = deps.lockouts
    .recordSuccess(lockoutKey, seen.failures, policy.threshold)
    .catch(() => undefined);
  return { userId, settled };
}

/** Reserves a slot, waiting for one while the budget is full; throws when locked or still full. */
async function reserveAttempt(
  key: string,
  policy: LockoutPolicy,
  deps: CredentialCheckDeps,
  now: number,
): Promise<LockoutState> {
  const sleep = deps.sleep ?? timer;
  const terms = {
    threshold: policy.threshold,
    expiresAt: lockoutExpiry(now, policy),
    staleBefore: now - STALE_RESERVATION_SECONDS,
  };
  for (let attempt = 0; ; attempt += 1) {
    const reservation = await deps.lockouts.reserveAttempt(key, now, terms);
    if (reservation.outcome === 'reserved') return reservation.state;
    if (reservation.outcome === 'locked') {
      throw new InvalidGrant(LOCKED_OUT_DESCRIPTION, {
        cause: 'username locked out',
        headers: { 'Retry-After': String(Math.max(1, reservation.lockedUntil - now)) },
      });
    }
    const delay = RESERVATION_BACKOFF_MS[attempt];
    if (delay === undefined) {
      throw new TemporarilyUnavailable({ cause: 'lockout: every slot of this username is in flight' });
    }
    await sleep(delay);
  }
}
