/**
 * One class per OAuth error code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1).
 * `description` is public and must be printable ASCII without `"` or `\` (RFC 6749 §5.2);
 * `cause` is private: it goes to the log, never to the client.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable'
  | 'server_error';

export interface OAuthErrorOptions {
  cause?: unknown;
  status?: number;
  headers?: Record<string, string>;
}

export abstract class OAuthError extends Error {
  abstract readonly code: OAuthErrorCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly description: string,
    defaultStatus: number,
    options: OAuthErrorOptions = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? defaultStatus;
    this.headers = Object.freeze({ ...(options.headers ?? {}) });
  }
}

export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

/** Always 401 with a Basic challenge: RFC 6749 §5.2 for clients that used (or should use) HTTP Basic. */
export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  constructor(options: { cause?: unknown; realm: string }) {
    super('Client authentication failed', 401, {
      cause: options.cause,
      headers: { 'WWW-Authenticate': `Basic realm="${options.realm}", charset="UTF-8"` },
    });
  }
}

export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

/** RFC 6749 §4.1.2.1: the authorize endpoint supports `response_type=code` only. */
export class UnsupportedResponseType extends OAuthError {
  readonly code = 'unsupported_response_type';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

/** RFC 8707 §2: the `resource` is not one this client may ask a token for. */
export class InvalidTarget extends OAuthError {
  readonly code = 'invalid_target';
  constructor(description: string, options?: OAuthErrorOptions) {
    super(description, 400, options);
  }
}

/** RFC 6750 §3.1: the bearer token is missing, malformed, unknown, expired or revoked. */
export class InvalidToken extends OAuthError {
  readonly code = 'invalid_token';
  constructor(options: { cause?: unknown; realm: string }) {
    super('The access token is missing, invalid, expired or revoked', 401, {
      cause: options.cause,
      headers: { 'WWW-Authenticate': `Bearer realm="${options.realm}", error="invalid_token"` },
    });
  }
}

/**
 * RFC 6750 §3.1, 403: a valid token without the privileges this resource requires. Used for every
 * route requirement a token misses (a scope, a user, an accepted client or audience): API Gateway's
 * ACCESS_DENIED response is one response for all of them, and the log says which one it was.
 */
export class InsufficientScope extends OAuthError {
  readonly code = 'insufficient_scope';
  constructor(options: { cause?: unknown; realm: string }) {
    super('The access token does not grant access to this resource', 403, {
      cause: options.cause,
      headers: { 'WWW-Authenticate': `Bearer realm="${options.realm}", error="insufficient_scope"` },
    });
  }
}

/** A dependency (store, AuthCheck) failed or was too slow; nothing was issued. */
export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  constructor(options: { cause?: unknown } = {}) {
    super('The service is temporarily unavailable, retry later', 503, {
      cause: options.cause,
      headers: { 'Retry-After': '1' },
    });
  }
}

/** A bug on our side. Bad input must never end here: the fuzz tests assert it. */
export class ServerError extends OAuthError {
  readonly code = 'server_error';
  constructor(options: { cause?: unknown } = {}) {
    super('Internal server error', 500, options);
  }
}

/** RFC 6749 §5.2 body. The single place an OAuth error becomes wire JSON. */
export function oauthErrorBody(error: OAuthError): { error: OAuthErrorCode; error_description: string } {
  return { error: error.code, error_description: error.description };
}
