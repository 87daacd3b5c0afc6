import {
  freshLockoutState,
  type LockoutState,
  type LockoutStore,
  type Reservation,
  type ReservationTerms,
} from '../core/password-lockout';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * `LockoutStore` in a Map, for unit tests; held to the same contract suite as the DynamoDB one.
 * Each method reads and writes its item without an `await` in between: atomic, as DynamoDB's
 * conditional writes are.
 */
export class InMemoryLockoutStore implements LockoutStore {
  private readonly states = new Map<string, Mutable<LockoutState>>();

  async getLockout(key: string): Promise<LockoutState | undefined> {
    const state = this.states.get(key);
    return state === undefined ? undefined : { ...state };
  }

  async reserveAttempt(key: string, at: number, terms: ReservationTerms): Promise<Reservation> {
    const current = this.states.get(key);
    if (current === undefined || current.expiresAt <= at) {
      const fresh: Mutable<LockoutState> = freshLockoutState(at, terms);
      this.states.set(key, fresh);
      return { outcome: 'reserved', state: { ...fresh } };
    }
    if (current.lockedUntil > at) return { outcome: 'locked', lockedUntil: current.lockedUntil };
    if (current.reserved >= current.limit) {
      if (current.reservedAt > terms.staleBefore) return { outcome: 'full' };
      // Leaked reservations: keep the failures, count this attempt, drop the rest.
      current.reserved = current.failures;
      current.limit = Math.max(current.limit, current.failures + 1);
    }
    current.reserved += 1;
    current.reservedAt = at;
    current.expiresAt = terms.expiresAt;
    return { outcome: 'reserved', state: { ...current } };
  }

  async recordFailure(
    key: string,
    at: number,
    terms: Omit<ReservationTerms, 'staleBefore'>,
  ): Promise<LockoutState> {
    const current = this.states.get(key);
    // Unlocked by an admin while in flight: the failure still counts, as its own reservation.
    const state: Mutable<LockoutState> = current ?? freshLockoutState(at, terms);
    state.failures += 1;
    state.lastFailureAt = at;
    state.expiresAt = terms.expiresAt;
    this.states.set(key, state);
    return { ...state };
  }

  async lock(key: string, failures: number, lockedUntil: number): Promise<boolean> {
    const current = this.states.get(key);
    if (current === undefined || current.failures !== failures) return false;
    current.lockedUntil = lockedUntil;
    current.limit = failures + 1;
    return true;
  }

  async recordSuccess(key: string, seenFailures: number, threshold: number): Promise<void> {
    const current = this.states.get(key);
    if (current === undefined) return;
    if (seenFailures > 0 && current.failures === seenFailures && current.reserved >= seenFailures + 1) {
      current.reserved -= seenFailures + 1;
      current.failures = 0;
      current.limit = threshold;
      current.lockedUntil = 0;
    } else if (current.reserved > 0) {
      current.reserved -= 1;
    }
  }

  async releaseAttempt(key: string): Promise<void> {
    const current = this.states.get(key);
    if (current !== undefined && current.reserved > 0) current.reserved -= 1;
  }

  async clearLockout(key: string): Promise<void> {
    this.states.delete(key);
  }
}
