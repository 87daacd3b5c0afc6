import type { APIGatewayProxyResult } from 'aws-lambda';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { OAuthError, oauthErrorBody, ServerError, TemporarilyUnavailable } from '../core/oauth-errors';
import { isLambdaDeadline } from './lambda-deadline';

/** Every answer that may carry a token or a secret must not be stored (RFC 6749 §5.1). */
export const NO_STORE_HEADERS = Object.freeze({
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
});

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...NO_STORE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The one serializer for OAuth errors: RFC 6749 §5.2 JSON, no-store, the error's own headers. */
export function oauthErrorResponse(error: OAuthError): APIGatewayProxyResult {
  return jsonResponse(error.status, oauthErrorBody(error), { ...error.headers });
}

/** middy's own error when a middleware could not fetch its values (e.g. Secrets Manager down). */
const isMiddyFetchFailure = (error: unknown): boolean =>
  error instanceof Error &&
  typeof error.cause === 'object' &&
  error.cause !== null &&
  (error.cause as { package?: unknown }).package === '@middy/util';

/**
 * Dependency failures (and running out of Lambda time, which only a slow dependency causes) become 503 `temporarily_unavailable`; anything else that is not already an
 * OAuth error is our bug: a 500 whose body says nothing more.
 */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof DependencyUnavailable || isMiddyFetchFailure(error) || isLambdaDeadline(error))
    return new TemporarilyUnavailable({ cause: error });
  return new ServerError({ cause: error });
}
