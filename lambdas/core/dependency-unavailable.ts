/**
 * Thrown by adapters (DynamoDB store, AuthCheck) when the dependency failed, timed out or answered
 * something we cannot trust. The core turns it into `temporarily_unavailable` (503). `dependency`
 * names the failing part for the log; the cause never reaches a client.
 */
export class DependencyUnavailable extends Error {
  constructor(
    readonly dependency: 'store' | 'auth-check' | 'secrets',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailable';
  }
}
