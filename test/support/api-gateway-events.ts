import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import { expect } from 'vitest';

export const ACCOUNT_ID = '123456789012';
export const API_ID = 'a1b2c3d4e5';
export const REGION = 'eu-west-1';
export const STAGE = 'prod';
/** What the authorizer allows (or denies) for `GET /me`: exactly that route of the stage. */
export const ME_ROUTE_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${STAGE}/GET/me`;

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Headers API Gateway passes for a well-formed token request over HTTPS. */
export const DEFAULT_TOKEN_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': FORM_CONTENT_TYPE,
  'X-Forwarded-Proto': 'https',
  Host: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
});

/** A header value of `undefined` removes the default of the same name (compared case-insensitively). */
export type HeaderOverrides = Readonly<Record<string, string | undefined>>;

export type FormFields = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

export interface TokenRequestOptions {
  /** A string is sent verbatim; fields are form-urlencoded (WHATWG rules, space as `+`). */
  readonly body?: string | FormFields | null;
  readonly headers?: HeaderOverrides;
  readonly method?: string;
  readonly query?: Readonly<Record<string, string>> | null;
  readonly isBase64Encoded?: boolean;
  readonly path?: string;
}

const isFieldList = (fields: FormFields): fields is ReadonlyArray<readonly [string, string]> =>
  Array.isArray(fields);

/** `application/x-www-form-urlencoded` serialisation of `fields`, order kept, repeats allowed. */
export function formBody(fields: FormFields): string {
  const entries: ReadonlyArray<readonly [string, string]> = isFieldList(fields)
    ? fields
    : Object.entries(fields);
  return new URLSearchParams(entries.map(([name, value]): [string, string] => [name, value])).toString();
}

/** One value form-urlencoded, as RFC 6749 §2.3.1 asks for each half of the Basic credentials. */
export const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). */
export const basicAuthorization = (clientId: string, clientSecret: string): string =>
  `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;

/** `Basic` with exactly these bytes base64'd, for malformed credentials. */
export const basicAuthorizationOfBytes = (bytes: Uint8Array | string): string =>
  `Basic ${Buffer.from(bytes).toString('base64')}`;

export const bearerAuthorization = (token: string): string => `Bearer ${token}`;

function mergeHeaders(defaults: Readonly<Record<string, string>>, overrides: HeaderOverrides = {}) {
  const headers: Record<string, string> = {};
  const overridden = new Set(Object.keys(overrides).map((name) => name.toLowerCase()));
  for (const [name, value] of Object.entries(defaults)) {
    if (!overridden.has(name.toLowerCase())) headers[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined) headers[name] = value;
  }
  const multiValueHeaders = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, [value]]),
  );
  return { headers, multiValueHeaders };
}

function queryParameters(query: Readonly<Record<string, string>> | null | undefined) {
  if (query === null || query === undefined || Object.keys(query).length === 0) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  return {
    queryStringParameters: { ...query },
    multiValueQueryStringParameters: Object.fromEntries(
      Object.entries(query).map(([name, value]) => [name, [value]]),
    ),
  };
}

function requestContext(method: string, path: string, authorizer: Record<string, unknown> | null) {
  return {
    accountId: ACCOUNT_ID,
    apiId: API_ID,
    authorizer,
    domainName: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
    domainPrefix: API_ID,
    httpMethod: method,
    identity: { sourceIp: '203.0.113.7', userAgent: 'vitest' },
    path: `/${STAGE}${path}`,
    protocol: 'HTTP/1.1',
    requestId: `req-${Math.random().toString(36).slice(2)}`,
    requestTimeEpoch: Date.now(),
    resourceId: 'abc123',
    resourcePath: path,
    stage: STAGE,
  } as unknown as APIGatewayProxyEvent['requestContext'];
}

/** A REST API (v1) Lambda proxy event for `POST /oauth2/token`, over HTTPS with a form body by default. */
export function tokenRequest(options: TokenRequestOptions = {}): APIGatewayProxyEvent {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/oauth2/token';
  const body =
    options.body === undefined || options.body === null
      ? null
      : typeof options.body === 'string'
        ? options.body
        : formBody(options.body);
  return {
    resource: path,
    path,
    httpMethod: method,
    ...mergeHeaders(DEFAULT_TOKEN_HEADERS, options.headers),
    ...queryParameters(options.query),
    pathParameters: null,
    stageVariables: null,
    requestContext: requestContext(method, path, null),
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

export interface AuthorizerRequestOptions {
  /** The `Authorization` header; absent when undefined. */
  readonly authorization?: string;
  readonly headers?: HeaderOverrides;
  readonly method?: string;
  readonly path?: string;
  /** The route's resource path (`/orders/{id}`); default: `path`. */
  readonly resource?: string;
  readonly stageVariables?: Record<string, string>;
}

/** A REQUEST-type authorizer event for `GET /me` (by default) with `X-Forwarded-Proto: https`. */
export function authorizerRequest(options: AuthorizerRequestOptions = {}): APIGatewayRequestAuthorizerEvent {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/me';
  const defaults: Record<string, string> = { 'X-Forwarded-Proto': 'https' };
  if (options.authorization !== undefined) defaults.Authorization = options.authorization;
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${STAGE}/${method}${path}`,
    resource: options.resource ?? path,
    path,
    httpMethod: method,
    ...mergeHeaders(defaults, options.headers),
    ...queryParameters(null),
    pathParameters: null,
    stageVariables: options.stageVariables ?? null,
    requestContext: {
      ...requestContext(method, path, null),
      resourcePath: options.resource ?? path,
    } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** A proxy event for `GET /me` as API Gateway passes it after the authorizer allowed it. */
export function meRequest(
  options: { authorizer?: Record<string, unknown> | null; headers?: HeaderOverrides } = {},
): APIGatewayProxyEvent {
  return {
    resource: '/me',
    path: '/me',
    httpMethod: 'GET',
    ...mergeHeaders({ 'X-Forwarded-Proto': 'https' }, options.headers),
    ...queryParameters(null),
    pathParameters: null,
    stageVariables: null,
    requestContext: requestContext('GET', '/me', options.authorizer ?? null),
    body: null,
    isBase64Encoded: false,
  };
}

// ---- Results -------------------------------------------------------------------------------------

/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. */
export const PRINTABLE_DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

/** The token endpoint's error codes for bad input (RFC 6749 §5.2). */
export const TOKEN_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
] as const;

export interface TokenBody {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly user_id?: string | number;
  readonly scope?: string;
}

export interface ErrorBody {
  readonly error: string;
  readonly error_description: string;
}

/** Every answer of the token endpoint: JSON, never cached (RFC 6749 §5.1, §5.2). */
export function expectNoStoreJson(result: APIGatewayProxyResult): unknown {
  expect(result.headers).toMatchObject({
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  });
  return JSON.parse(result.body);
}

/** A `{"error","error_description"}` answer with this status and code; returns the body. */
export function expectOAuthError(result: APIGatewayProxyResult, status: number, error: string): ErrorBody {
  const body = expectNoStoreJson(result) as ErrorBody;
  expect({ statusCode: result.statusCode, error: body.error }).toEqual({ statusCode: status, error });
  expect(Object.keys(body)).toEqual(['error', 'error_description']);
  expect(body.error_description).toMatch(PRINTABLE_DESCRIPTION);
  return body;
}

/** A 200 token answer whose keys are exactly `keys`, in this order; returns the body. */
export function expectTokenResponse(
  result: APIGatewayProxyResult,
  keys: readonly (keyof TokenBody)[],
): TokenBody {
  expect(result.statusCode, result.body).toBe(200);
  const body = expectNoStoreJson(result) as TokenBody;
  expect(Object.keys(body)).toEqual(keys);
  expect(body.token_type).toBe('bearer');
  return body;
}

/** Keys of a password or refresh answer (in wire order), with `scope` last when scoped. */
export const USER_TOKEN_KEYS = [
  'access_token',
  'token_type',
  'expires_in',
  'refresh_token',
  'user_id',
] as const;
export const SCOPED_USER_TOKEN_KEYS = [...USER_TOKEN_KEYS, 'scope'] as const;
export const CLIENT_TOKEN_KEYS = ['access_token', 'token_type', 'expires_in'] as const;

/** list-clients keys that name a rotated-away secret's status, never a secret or a hash. */
export const PREVIOUS_SECRET_STATUS_KEYS: readonly string[] = [
  'previous_secret_live',
  'previous_secret_expires_at',
];
