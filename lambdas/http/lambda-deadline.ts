/**
 * middy options for every handler: when the Lambda is about to time out, middy abandons the handler
 * `timeoutEarlyInMillis` before the deadline and throws its `TimeoutError`, which `toOAuthError`
 * answers as 503 `temporarily_unavailable`. The client then gets an RFC-shaped answer it can retry,
 * instead of API Gateway's bare 502/504 for a Lambda killed mid-request. A second is enough to
 * serialise, log and return.
 */
export const LAMBDA_DEADLINE = Object.freeze({ timeoutEarlyInMillis: 1000 });

/** middy's own error for a handler abandoned at the deadline (see `LAMBDA_DEADLINE`). */
export const isLambdaDeadline = (error: unknown): boolean =>
  error instanceof Error &&
  error.name === 'TimeoutError' &&
  typeof error.cause === 'object' &&
  error.cause !== null &&
  (error.cause as { package?: unknown }).package === '@middy/core';
