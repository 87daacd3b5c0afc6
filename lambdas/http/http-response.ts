import type { APIGatewayProxyResult } from 'aws-lambda';
import { OAuthError, oauthErrorBody, ServerError } from '../core/oauth-errors';

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

/** Anything that is not already an OAuth error is our bug: a 500 whose body says nothing more. */
export const toOAuthError = (error: unknown): OAuthError =>
  error instanceof OAuthError ? error : new ServerError({ cause: error });
