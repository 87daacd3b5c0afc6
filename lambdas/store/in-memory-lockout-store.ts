import type { LockoutState, LockoutStore } from '../core/password-lockout';

/** `LockoutStore` in a Map, for unit tests; held to the same contract suite as the DynamoDB one. */
export class InMemoryLockoutStore implements LockoutStore {
  private readonly states = new Map<string, LockoutState>();

  async getLockout(key: string): Promise<LockoutState | undefined> {
    const state = this.states.get(key);
    return state === undefined ? undefined : { ...state };
  }

  async recordFailure(key: string, at: number, expiresAt: number): Promise<LockoutState> {
    const current = this.states.get(key);
    const failures = current === undefined || current.expiresAt <= at ? 1 : current.failures + 1;
    const next = { failures, lastFailureAt: at, expiresAt };
    this.states.set(key, next);
    return { ...next };
  }

  async clearLockout(key: string): Promise<void> {
    this.states.delete(key);
  }
}
