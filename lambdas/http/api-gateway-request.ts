import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { FormHttpRequest } from '../core/authenticated-form-request';
import { InvalidRequest } from '../core/oauth-errors';

/** API Gateway itself caps bodies at 10 MB; a token request is a few hundred bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

type HeaderCarrier =
  | Pick<APIGatewayProxyEvent, 'headers'>
  | Pick<APIGatewayRequestAuthorizerEvent, 'headers'>;

/** Case-insensitive header lookup; API Gateway keeps the client's spelling, the header normalizer lowercases. */
export function headerValue(event: HeaderCarrier, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined && value !== null) return value;
  }
  return undefined;
}

/**
 * TLS as seen at the edge. API Gateway only speaks HTTPS and sets `X-Forwarded-Proto: https`;
 * the local stack passes the client's (or its TLS proxy's) header through, and says `http` otherwise.
 */
export function arrivedOverTls(event: HeaderCarrier): boolean {
  const proto = headerValue(event, 'x-forwarded-proto');
  return proto?.split(',')[0]?.trim().toLowerCase() === 'https';
}

export function hasQueryParameters(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
): boolean {
  const single = event.queryStringParameters ?? {};
  const multi = event.multiValueQueryStringParameters ?? {};
  return Object.keys(single).length > 0 || Object.keys(multi).length > 0;
}

/** The body as UTF-8 text. Oversized or non-UTF-8 bodies are a client error, never a crash. */
export function bodyText(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): string {
  if (event.body === null || event.body === undefined) return '';
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new InvalidRequest('The request body is too large', { status: 413 });
  }
  if (!event.isBase64Encoded) return event.body;
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new InvalidRequest('The request body is not valid UTF-8', { cause });
  }
}

/** What the client-authenticated form endpoints (token, revocation, introspection) read from a proxy event. */
export function formHttpRequestOf(event: APIGatewayProxyEvent): FormHttpRequest {
  return {
    method: event.httpMethod,
    secure: arrivedOverTls(event),
    contentType: headerValue(event, 'content-type'),
    authorization: headerValue(event, 'authorization'),
    hasQueryParameters: hasQueryParameters(event),
    body: () => bodyText(event),
  };
}
