import { createHmac } from 'node:crypto';

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

/**
 * A reservation older than this with none newer is taken as leaked (its Lambda died between the
 * reservation and its bookkeeping) and given back. It must exceed the longest a live attempt can
 * hold one: the token Lambda's 28 s timeout.
 */
export const STALE_RESERVATION_SECONDS = 60;

/**
 * One username's lockout state; epoch seconds. Every attempt reserves a slot before it may ask the
 * AuthCheck: `reserved` counts the recorded failures plus the attempts in flight, and no reservation
 * is granted while `reserved >= limit` or the username is locked. So however many requests arrive at
 * once, at most `limit - reserved` of them reach the AuthCheck.
 */
export interface LockoutState {
  /** Failures plus attempts in flight. */
  readonly reserved: number;
  /** `threshold` until a lock; then failures + 1, so one probe is let through when the lock ends. */
  readonly limit: number;
  /** Consecutive failures (a success that saw them all resets them). */
  readonly failures: number;
  /** Attempts are refused until this second; 0 = not locked. */
  readonly lockedUntil: number;
  /** 0 = none yet. */
  readonly lastFailureAt: number;
  /** When the last reservation was granted (for recovering leaked ones). */
  readonly reservedAt: number;
  /** After this the state is forgotten (DynamoDB TTL attribute; also checked on every write). */
  readonly expiresAt: number;
}

/** What a reservation attempt found. `full`: the budget is taken by attempts in flight; retry soon. */
export type Reservation =
  | { readonly outcome: 'reserved'; readonly state: LockoutState }
  | { readonly outcome: 'locked'; readonly lockedUntil: number }
  | { readonly outcome: 'full' };

export interface ReservationTerms {
  /** `limit` of a username with no state yet. */
  readonly threshold: number;
  readonly expiresAt: number;
  /** A full budget whose last reservation is this old or older is recovered (see `STALE_RESERVATION_SECONDS`). */
  readonly staleBefore: number;
}

/**
 * The state of a username with none yet (or whose state expired): this attempt reserved, no failure,
 * not locked. The one definition every `LockoutStore` adapter starts from.
 */
export const freshLockoutState = (
  at: number,
  terms: Pick<ReservationTerms, 'threshold' | 'expiresAt'>,
): LockoutState => ({
  reserved: 1,
  limit: terms.threshold,
  failures: 0,
  lockedUntil: 0,
  lastFailureAt: 0,
  reservedAt: at,
  expiresAt: terms.expiresAt,
});

/**
 * Storage port for lockout state, keyed by `lockoutKeyOf(username, secret)` so no username is
 * stored. Every write is atomic on the one item of a key. Adapters throw `DependencyUnavailable` on
 * any backend failure.
 */
export interface LockoutStore {
  /** Strongly consistent. For tests and tools: the sign-in path never reads before it reserves. */
  getLockout(key: string): Promise<LockoutState | undefined>;
  /**
   * Reserves one attempt: one conditional write that fails when the username is locked or its budget
   * is full. Expired state is replaced by fresh state; a full budget whose last reservation is older
   * than `staleBefore` is taken as leaked and reset to the failures plus this attempt.
   */
  reserveAttempt(key: string, at: number, terms: ReservationTerms): Promise<Reservation>;
  /** Counts the failure of a reserved attempt (its reservation stays, as the failure); the new state. */
  recordFailure(key: string, at: number, terms: Omit<ReservationTerms, 'staleBefore'>): Promise<LockoutState>;
  /**
   * Locks until `lockedUntil` with `limit` = `failures` + 1, only if the count is still `failures`
   * (a later failure sets its own, longer lock). True when it was written.
   */
  lock(key: string, failures: number, lockedUntil: number): Promise<boolean>;
  /**
   * The success of a reserved attempt that saw `seenFailures`: if the count is still that, resets it
   * (failures 0, limit `threshold`, unlocked) and releases those failures and this reservation;
   * otherwise releases only this reservation, so failures it did not see stay counted.
   */
  recordSuccess(key: string, seenFailures: number, threshold: number): Promise<void>;
  /** Gives a reservation back (the AuthCheck could not answer: nothing was tried). */
  releaseAttempt(key: string): Promise<void>;
  /** Forgets the username's state (admin unlock). */
  clearLockout(key: string): Promise<void>;
}

/**
 * The canonical form of a username for counting: no whitespace at either end, no default-ignorable
 * code points (zero-width spaces, soft hyphens, joiners: invisible, so they would otherwise give a
 * guesser fresh counters), then NFKC (full-width and compatibility forms) and lower case.
 */
export const canonicalUsername = (username: string): string =>
  username
    .trim()
    .replace(/\p{Default_Ignorable_Code_Point}/gu, '')
    .normalize('NFKC')
    .toLowerCase();

/**
 * The key of a username's lockout state: HMAC-SHA256 of its canonical form under the deployment's
 * `LOCKOUT_KEY_SECRET`, so variants of one name share one counter, and a dump of the table cannot be
 * reversed by hashing a list of likely usernames.
 */
export const lockoutKeyOf = (username: string, secret: string): string =>
  createHmac('sha256', secret).update(canonicalUsername(username), 'utf8').digest('base64url');

/** Seconds the username stays locked after its `failures`-th consecutive failure (0: not locked). */
export function lockoutSeconds(failures: number, policy: LockoutPolicy): number {
  if (policy.threshold === 0 || failures < policy.threshold) return 0;
  // Capping the exponent first keeps 2 ** n finite for any count.
  const doublings = Math.min(failures - policy.threshold, 32);
  return Math.min(policy.baseSeconds * 2 ** doublings, policy.maxSeconds);
}

/**
 * When state written at `at` is forgotten: a longest lock plus as long again of quiet (so the count,
 * and the doubling, survive one maximal lock), and never before a reservation could be stale, so
 * an attempt in flight always finds its own state.
 */
export const lockoutExpiry = (at: number, policy: LockoutPolicy): number =>
  at + Math.max(2 * policy.maxSeconds, 2 * STALE_RESERVATION_SECONDS);
