import type { AuditSink } from './audit-event';
import type { AuthCheck, UserId } from './auth-check';
import type { AuthorizationCodeStore } from './authorization-code-store';
import { checkCredentials } from './check-credentials';
import type { ClientRecord, ClientStore } from './client-store';
import { type Clock, toEpochSeconds } from './clock';
import { DependencyUnavailable } from './dependency-unavailable';
import { decodeFormComponent } from './form-params';
import {
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  OAuthError,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedResponseType,
} from './oauth-errors';
import type { LockoutPolicy, LockoutStore } from './password-lockout';
import { isPkceValue } from './pkce';
import type { RandomSource } from './random-source';
import { findRedirectUri } from './redirect-uri';
import { parseScope, resolveScope } from './scope';
import type { SessionCheck } from './session-check';
import { formTokenFor, formTokenValid } from './sign-in-form-token';
import { generateSecret, hashSecret } from './token-secrets';

export interface AuthorizeConfig {
  /** Refuse requests that did not arrive over TLS; only an explicit `false` turns it off. */
  readonly requireSsl: boolean;
  /** Lifetime of a code: 60 s by default, at most 600 (RFC 6749 §4.1.2 recommends 10 minutes at most). */
  readonly codeTtlSeconds: number;
  /** The same per-username lockout as the password grant (one counter per username). */
  readonly lockout: LockoutPolicy;
  /**
   * The deployer's own sign-in page for users without a session (only with a session check): they are
   * sent there with `return_to` = the authorize URL. Absent: the hosted sign-in page is shown.
   */
  readonly loginUrl?: string;
}

export const AUTHORIZATION_CODE_TTL_BOUNDS = Object.freeze({ min: 1, max: 600 });
export const DEFAULT_AUTHORIZATION_CODE_TTL_SECONDS = 60;

export interface AuthorizeDeps {
  readonly clients: ClientStore;
  readonly codes: AuthorizationCodeStore;
  readonly authCheck: AuthCheck;
  readonly lockouts: LockoutStore;
  /** The lockout keys' HMAC secret (the token Lambda's: one counter per username for both). */
  readonly lockoutKeySecret: () => Promise<string>;
  /** The deployer's session-cookie check; absent: no sessions, everybody signs in on the page. */
  readonly sessionCheck?: SessionCheck;
  /** The anti-forgery HMAC key (may be fetched from Secrets Manager). */
  readonly formSecret: () => Promise<string>;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly audit: AuditSink;
}

/** What the authorize endpoint needs from an HTTP request, whatever carried it. */
export interface AuthorizeHttpRequest {
  readonly method: string;
  readonly secure: boolean;
  /** Query parameters in order, repeats kept (API Gateway has decoded them already). */
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly contentType: string | undefined;
  /** Raw form body; may throw `InvalidRequest` (too large, not UTF-8). */
  readonly body: () => string;
  /** The whole Cookie header (for the session check). */
  readonly cookieHeader: string | undefined;
  /** This browser's anti-forgery cookie value, when it sent one. */
  readonly browserKey: string | undefined;
  /** The issuer identifier, as in the metadata (RFC 9207 `iss`). */
  readonly issuer: string;
  /** The absolute URL of this request (the `return_to` of a login redirect). */
  readonly url: string;
}

/** A validated authorization request (RFC 6749 §4.1.1 + RFC 7636 §4.3). */
export interface AuthorizationRequest {
  readonly clientId: string;
  /** The redirect URI to use: the one sent (it matched a registered one), or the only registered one. */
  readonly redirectUri: string;
  readonly redirectUriSent: boolean;
  /** The scope parameter as sent (absent: the client's default scope). */
  readonly scopeParam?: string;
  readonly scope: readonly string[];
  readonly state?: string;
  readonly codeChallenge: string;
}

export type AuthorizeOutcome =
  /** An HTML error page, never a redirect (§4.1.2.1: unknown client or redirect URI, bad form). */
  | { readonly kind: 'error-page'; readonly error: OAuthError }
  | { readonly kind: 'redirect'; readonly location: string }
  /** The sign-in page, for this request, with the anti-forgery value bound to `browserKey`. */
  | {
      readonly kind: 'sign-in';
      readonly status: number;
      readonly client: ClientRecord;
      readonly request: AuthorizationRequest;
      readonly browserKey: string;
      readonly formToken: string;
      readonly message?: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

/** Names of the form fields that carry the authorization request through the sign-in page. */
export const REQUEST_FIELDS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const;
export const FORM_TOKEN_FIELD = 'form_token';
const FORM_FIELDS = new Set<string>([...REQUEST_FIELDS, FORM_TOKEN_FIELD, 'username', 'password']);
const MAX_PARAMETER_LENGTH = 2048;

/** The form posts back exactly what the page was made for, in this order (the anti-forgery MAC covers it). */
export function requestFields(request: AuthorizationRequest): Array<[string, string]> {
  return [
    ['response_type', 'code'],
    ['client_id', request.clientId],
    ...(request.redirectUriSent ? [['redirect_uri', request.redirectUri] as [string, string]] : []),
    ...(request.scopeParam === undefined ? [] : [['scope', request.scopeParam] as [string, string]]),
    ...(request.state === undefined ? [] : [['state', request.state] as [string, string]]),
    ['code_challenge', request.codeChallenge],
    ['code_challenge_method', 'S256'],
  ];
}

const canonical = (request: AuthorizationRequest): string[] =>
  requestFields(request).flatMap(([name, value]) => [name, value]);

type Validation =
  | { readonly kind: 'error-page'; readonly error: OAuthError }
  | {
      readonly kind: 'redirect-error';
      readonly error: OAuthError;
      readonly redirectUri: string;
      readonly state?: string;
    }
  | { readonly kind: 'valid'; readonly client: ClientRecord; readonly request: AuthorizationRequest };

/**
 * `GET` and `POST /oauth2/authorize`: validates the authorization request, then answers a code at once
 * (a session the session check accepts), the deployer's login page, or the sign-in page; a posted
 * sign-in form is checked for its anti-forgery value before the credentials reach the AuthCheck.
 */
export async function authorize(
  http: AuthorizeHttpRequest,
  config: AuthorizeConfig,
  deps: AuthorizeDeps,
): Promise<AuthorizeOutcome> {
  let clientId: string | undefined;
  try {
    if (config.requireSsl && !http.secure) {
      throw new InvalidRequest('OAuth 2.0 requires all requests to be made over HTTPS');
    }
    if (http.method !== 'GET' && http.method !== 'POST') {
      throw new InvalidRequest('This endpoint only supports GET and POST', {
        status: 405,
        headers: { Allow: 'GET, POST' },
      });
    }
    const pairs = http.method === 'GET' ? http.query : parseFormPairs(http);
    const validation = await validateAuthorizationRequest(pairs, deps.clients);
    if (validation.kind === 'error-page') return refused(validation, deps);
    if (validation.kind === 'redirect-error') {
      refused(validation, deps, validation.error.description);
      return errorRedirect(validation.redirectUri, validation.error, validation.state, http.issuer);
    }
    clientId = validation.client.clientId;
    return http.method === 'GET'
      ? await showOrSkipSignIn(http, validation, config, deps)
      : await signIn(http, pairs, validation, config, deps);
  } catch (error) {
    if (error instanceof DependencyUnavailable) {
      return { kind: 'error-page', error: new TemporarilyUnavailable({ cause: error }) };
    }
    if (error instanceof OAuthError) {
      deps.audit({
        type: 'authorization_refused',
        ...(clientId === undefined ? {} : { clientId }),
        error: error.code,
        reason: error.description,
      });
      return { kind: 'error-page', error };
    }
    throw error;
  }
}

function refused(
  validation: { readonly error: OAuthError },
  deps: AuthorizeDeps,
  reason = validation.error.description,
): { kind: 'error-page'; error: OAuthError } {
  deps.audit({ type: 'authorization_refused', error: validation.error.code, reason });
  return { kind: 'error-page', error: validation.error };
}

/** The form body as name/value pairs, repeats kept (the validation refuses them itself). */
function parseFormPairs(http: AuthorizeHttpRequest): Array<[string, string]> {
  const mediaType = (http.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('The sign-in form must be posted as application/x-www-form-urlencoded');
  }
  const pairs: Array<[string, string]> = [];
  for (const pair of http.body().split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    try {
      pairs.push([
        decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq)),
        eq === -1 ? '' : decodeFormComponent(pair.slice(eq + 1)),
      ]);
    } catch (cause) {
      throw new InvalidRequest('The request body is not valid form encoding', { cause });
    }
  }
  return pairs;
}

/**
 * RFC 6749 §4.1.1 / §4.1.2.1 in the order that decides where an error may go: client and redirect
 * URI problems are shown on a page (never redirected to an unverified URI); every later problem is
 * redirected to the client with `error`, `state` and `iss`.
 */
export async function validateAuthorizationRequest(
  pairs: ReadonlyArray<readonly [string, string]>,
  clients: ClientStore,
): Promise<Validation> {
  const values = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    // RFC 6749 §3.1: a parameter without a value is treated as omitted.
    if (value === '') continue;
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const single = (name: string): string | undefined => values.get(name)?.[0];
  const repeated = (name: string): boolean => (values.get(name)?.length ?? 0) > 1;
  const page = (description: string, cause: string): Validation => ({
    kind: 'error-page',
    error: new InvalidRequest(description, { cause }),
  });

  const clientId = single('client_id');
  if (clientId === undefined || repeated('client_id') || clientId.length > 128) {
    return page('The request has no valid client_id', 'missing, repeated or oversized client_id');
  }
  const client = await clients.getClient(clientId);
  if (client === undefined || client.disabled) {
    return page(
      'The client is unknown or disabled',
      client === undefined ? 'unknown client' : 'client disabled',
    );
  }
  const registered = client.redirectUris ?? [];
  const presented = single('redirect_uri');
  if (repeated('redirect_uri')) return page('The redirect_uri is repeated', 'repeated redirect_uri');
  let redirectUri: string | undefined;
  if (presented !== undefined) {
    redirectUri = findRedirectUri(registered, presented) === undefined ? undefined : presented;
    if (redirectUri === undefined) {
      return page('The redirect_uri is not registered for this client', 'unregistered redirect_uri');
    }
  } else if (registered.length === 1) {
    redirectUri = registered[0];
  }
  if (redirectUri === undefined) {
    return page(
      'The redirect_uri is required: this client has none or several registered',
      'no redirect_uri to choose',
    );
  }

  const state = repeated('state') ? undefined : single('state');
  const redirectError = (error: OAuthError): Validation => ({
    kind: 'redirect-error',
    error,
    redirectUri: redirectUri as string,
    ...(state === undefined ? {} : { state }),
  });
  const repeats = [...values.keys()].filter((name) => repeated(name));
  if (repeats.length > 0) {
    return redirectError(new InvalidRequest(`Parameter ${printable(repeats[0] as string)} is repeated`));
  }
  const oversized = [...values.entries()].find(([, [value = '']]) => value.length > MAX_PARAMETER_LENGTH);
  if (oversized !== undefined) {
    return redirectError(new InvalidRequest(`Parameter ${printable(oversized[0])} is too long`));
  }
  const responseType = single('response_type');
  if (responseType === undefined)
    return redirectError(new InvalidRequest('The response_type parameter is required'));
  if (responseType !== 'code') {
    return redirectError(new UnsupportedResponseType('Only response_type=code is supported'));
  }
  if (!client.grantTypes.includes('authorization_code')) {
    return redirectError(
      new UnauthorizedClient('This client is not allowed to use the authorization code grant'),
    );
  }
  const codeChallenge = single('code_challenge');
  if (codeChallenge === undefined) {
    return redirectError(
      new InvalidRequest('PKCE is required: send code_challenge and code_challenge_method=S256'),
    );
  }
  if (!isPkceValue(codeChallenge)) {
    return redirectError(
      new InvalidRequest('The code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]'),
    );
  }
  if (single('code_challenge_method') !== 'S256') {
    return redirectError(new InvalidRequest('The code_challenge_method must be S256'));
  }
  const scopeParam = single('scope');
  let scope: string[];
  try {
    scope = resolveScope(
      scopeParam === undefined ? undefined : parseScope(scopeParam),
      client.scope,
      client.defaultScope,
    );
  } catch (error) {
    if (error instanceof InvalidScope) return redirectError(error);
    throw error;
  }
  return {
    kind: 'valid',
    client,
    request: {
      clientId,
      redirectUri,
      redirectUriSent: presented !== undefined,
      ...(scopeParam === undefined ? {} : { scopeParam }),
      scope,
      ...(state === undefined ? {} : { state }),
      codeChallenge,
    },
  };
}

async function showOrSkipSignIn(
  http: AuthorizeHttpRequest,
  valid: Extract<Validation, { kind: 'valid' }>,
  config: AuthorizeConfig,
  deps: AuthorizeDeps,
): Promise<AuthorizeOutcome> {
  if (deps.sessionCheck !== undefined) {
    const userId =
      http.cookieHeader === undefined ? null : await deps.sessionCheck.checkSession(http.cookieHeader);
    if (userId !== null) return issueCode(http, valid, userId, 'session', deps, config);
    if (config.loginUrl !== undefined) {
      return { kind: 'redirect', location: withParams(config.loginUrl, [['return_to', http.url]]) };
    }
  }
  return signInPage(valid, http.browserKey, deps, 200);
}

async function signInPage(
  valid: Extract<Validation, { kind: 'valid' }>,
  existingKey: string | undefined,
  deps: AuthorizeDeps,
  status: number,
  message?: string,
  headers?: Record<string, string>,
): Promise<AuthorizeOutcome> {
  // Reusing the browser's key keeps a form in another tab valid.
  const browserKey =
    existingKey !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existingKey)
      ? existingKey
      : generateSecret(deps.random);
  const formToken = formTokenFor({
    secret: await deps.formSecret(),
    browserKey,
    request: canonical(valid.request),
    issuedAt: toEpochSeconds(deps.clock()),
  });
  return {
    kind: 'sign-in',
    status,
    client: valid.client,
    request: valid.request,
    browserKey,
    formToken,
    ...(message === undefined ? {} : { message }),
    ...(headers === undefined ? {} : { headers }),
  };
}

async function signIn(
  http: AuthorizeHttpRequest,
  pairs: ReadonlyArray<readonly [string, string]>,
  valid: Extract<Validation, { kind: 'valid' }>,
  config: AuthorizeConfig,
  deps: AuthorizeDeps,
): Promise<AuthorizeOutcome> {
  const field = (name: string) => pairs.find(([key]) => key === name)?.[1];
  const unexpected = pairs.find(([name]) => !FORM_FIELDS.has(name));
  const now = toEpochSeconds(deps.clock());
  // Checked before anything else touches the credentials: a forged post never reaches the AuthCheck
  // and never counts against a username's lockout.
  if (
    unexpected !== undefined ||
    http.browserKey === undefined ||
    !formTokenValid(
      field(FORM_TOKEN_FIELD),
      { secret: await deps.formSecret(), browserKey: http.browserKey, request: canonical(valid.request) },
      now,
    )
  ) {
    throw new InvalidRequest(
      'This sign-in form has expired or was not served to this browser. Go back to the application and start again.',
      { status: 403, cause: 'anti-forgery value missing or wrong' },
    );
  }
  const username = field('username') ?? '';
  const password = field('password') ?? '';
  if (username === '' || password === '') {
    return signInPage(valid, http.browserKey, deps, 400, 'Enter your username and password.');
  }
  let checked: { userId: UserId; settled: Promise<void> };
  try {
    checked = await checkCredentials(
      { username, password, clientId: valid.client.clientId },
      config.lockout,
      deps,
      now,
    );
  } catch (error) {
    if (error instanceof InvalidGrant) {
      const locked = error.headers['Retry-After'] !== undefined;
      return signInPage(valid, http.browserKey, deps, locked ? 429 : 400, error.description, {
        ...error.headers,
      });
    }
    throw error;
  }
  const [outcome] = await Promise.all([
    issueCode(http, valid, checked.userId, 'sign-in', deps, config),
    checked.settled,
  ]);
  return outcome;
}

/** RFC 6749 §4.1.2: a fresh code (256 bits, only its hash stored), sent with `state` and `iss`. */
async function issueCode(
  http: AuthorizeHttpRequest,
  valid: Extract<Validation, { kind: 'valid' }>,
  userId: UserId,
  via: 'sign-in' | 'session',
  deps: AuthorizeDeps,
  config: AuthorizeConfig,
): Promise<AuthorizeOutcome> {
  const { request } = valid;
  const now = toEpochSeconds(deps.clock());
  const code = generateSecret(deps.random);
  const codeExpiresAt = now + config.codeTtlSeconds;
  await deps.codes.createCode({
    codeHash: hashSecret(code),
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    redirectUriSent: request.redirectUriSent,
    codeChallenge: request.codeChallenge,
    userId,
    scope: request.scope,
    issuedAt: now,
    codeExpiresAt,
    expiresAt: codeExpiresAt,
  });
  deps.audit({ type: 'authorization_code_issued', clientId: request.clientId, userId, via });
  return {
    kind: 'redirect',
    location: withParams(request.redirectUri, [
      ['code', code],
      ...(request.state === undefined ? [] : [['state', request.state] as [string, string]]),
      ['iss', http.issuer],
    ]),
  };
}

function errorRedirect(
  redirectUri: string,
  error: OAuthError,
  state: string | undefined,
  issuer: string,
): AuthorizeOutcome {
  return {
    kind: 'redirect',
    location: withParams(redirectUri, [
      ['error', error.code],
      ['error_description', error.description],
      ...(state === undefined ? [] : [['state', state] as [string, string]]),
      ['iss', issuer],
    ]),
  };
}

/**
 * Appends parameters to a URI and keeps its own query exactly as registered (RFC 6749 §3.1.2:
 * the query component MUST be retained); re-serialising it through URLSearchParams could change it.
 */
export function withParams(uri: string, params: ReadonlyArray<readonly [string, string]>): string {
  const added = new URLSearchParams(params as Array<[string, string]>).toString();
  if (!uri.includes('?')) return `${uri}?${added}`;
  return uri.endsWith('?') || uri.endsWith('&') ? `${uri}${added}` : `${uri}&${added}`;
}

const printable = (name: string): string => {
  const safe = name.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?').slice(0, 40);
  return safe === '' ? '(empty name)' : safe;
};
