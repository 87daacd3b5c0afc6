import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { UserIdHook } from './http-auth-check';

/**
 * Why a hook call failed, for metrics and alarms: `timeout` (no complete answer in time),
 * `unreachable` (connection, TLS or invoke error), `error_status` (5xx, 429, a redirect, a function
 * error), `bad_answer` (not JSON, no usable `user_id`, too large), `signature_refused` (the hook
 * answered `{"error":"invalid_signature"}`: its secret differs from ours), `secret_unavailable`
 * (our signing secret could not be read).
 */
export type HookFailureKind =
  | 'timeout'
  | 'unreachable'
  | 'error_status'
  | 'bad_answer'
  | 'signature_refused'
  | 'secret_unavailable';

/** A hook failure that knows its kind; still a `DependencyUnavailable` (503) to everyone else. */
export class HookUnavailable extends DependencyUnavailable {
  constructor(
    readonly kind: HookFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('auth-check', message, options);
  }
}

export const hookFailureKindOf = (error: unknown): HookFailureKind => {
  if (error instanceof HookUnavailable) return error.kind;
  if (error instanceof DependencyUnavailable && error.dependency === 'secrets') return 'secret_unavailable';
  // The answer parser's refusals (no user_id, wrong type) carry no kind of their own.
  return 'bad_answer';
};

/** One hook call as seen from outside: how long it took and how it ended. Never the payload. */
export type HookObservation =
  | { readonly latencyMs: number; readonly outcome: 'valid' | 'invalid' }
  | { readonly latencyMs: number; readonly outcome: 'failed'; readonly failure: HookFailureKind };

export type HookObserver = (observation: HookObservation) => void;

/**
 * `hook`, reporting every call to `observe` (metrics). An observer that throws is ignored: watching
 * a call must never change its answer.
 */
export const observeHook = (
  hook: UserIdHook,
  observe: HookObserver,
  now: () => number = () => performance.now(),
): UserIdHook => {
  const report = (observation: HookObservation) => {
    try {
      observe(observation);
    } catch {
      // The observer logs its own failures; the login goes on.
    }
  };
  return async (payload) => {
    const started = now();
    try {
      const userId = await hook(payload);
      report({ latencyMs: now() - started, outcome: userId === null ? 'invalid' : 'valid' });
      return userId;
    } catch (error) {
      report({ latencyMs: now() - started, outcome: 'failed', failure: hookFailureKindOf(error) });
      throw error;
    }
  };
};
