import { createHash } from 'node:crypto';

/**
 * Per-username brute-force protection for the password grant (like Cognito's): after `threshold`
 * consecutive failures the username is locked for `baseSeconds`, doubled for every further failure,
 * capped at `maxSeconds`. A success clears the count. `threshold` 0 turns the lockout off.
 */
export interface LockoutPolicy {
  readonly threshold: number;
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  threshold: 5,
  baseSeconds: 60,
  maxSeconds: 15 * 60,
});

/** Consecutive failures of one username; epoch seconds. */
export interface LockoutState {
  readonly failures: number;
  readonly lastFailureAt: number;
  /** After this the state is forgotten (DynamoDB TTL attribute; also checked on read). */
  readonly expiresAt: number;
}

/**
 * Storage port for lockout state, keyed by `lockoutKeyOf(username)` so no username is stored.
 * Adapters throw `DependencyUnavailable` on any backend failure.
 */
export interface LockoutStore {
  /** Strongly consistent: a lock set by another Lambda instance holds on the next attempt. */
  getLockout(key: string): Promise<LockoutState | undefined>;
  /**
   * Adds one failure atomically (concurrent failures all count) and answers the new state. State whose
   * `expiresAt` has passed is replaced by a fresh count of one.
   */
  recordFailure(key: string, at: number, expiresAt: number): Promise<LockoutState>;
  clearLockout(key: string): Promise<void>;
}

/**
 * The key of a username's lockout state: SHA-256 of its NFKC, lower-cased form, so case or
 * Unicode variants of one name share one counter, and the store holds no usernames.
 */
export const lockoutKeyOf = (username: string): string =>
  createHash('sha256').update(username.normalize('NFKC').toLowerCase(), 'utf8').digest('base64url');

/** Live state only: expired state counts as none, whether or not the store has deleted it yet. */
export const liveLockout = (state: LockoutState | undefined, now: number): LockoutState | undefined =>
  state !== undefined && state.expiresAt > now ? state : undefined;

/** Seconds the username stays locked after its `failures`-th consecutive failure (0: not locked). */
export function lockoutSeconds(failures: number, policy: LockoutPolicy): number {
  if (policy.threshold === 0 || failures < policy.threshold) return 0;
  // Capping the exponent first keeps 2 ** n finite for any count.
  const doublings = Math.min(failures - policy.threshold, 32);
  return Math.min(policy.baseSeconds * 2 ** doublings, policy.maxSeconds);
}

/** Epoch second until which attempts are refused without asking the AuthCheck; undefined if none. */
export function lockedUntil(state: LockoutState | undefined, policy: LockoutPolicy): number | undefined {
  if (state === undefined) return undefined;
  const seconds = lockoutSeconds(state.failures, policy);
  return seconds === 0 ? undefined : state.lastFailureAt + seconds;
}

/**
 * When a failure recorded at `at` is forgotten: a longest lock plus as long again of quiet, so the
 * count (and the doubling) survives one maximal lock, and a username that stops failing is clean
 * after at most twice `maxSeconds`.
 */
export const lockoutExpiry = (at: number, policy: LockoutPolicy): number => at + 2 * policy.maxSeconds;
