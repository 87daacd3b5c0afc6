import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AuthCheck, AuthCheckRequest, UserId } from '../core/auth-check';
import { type Clock, toEpochSeconds } from '../core/clock';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { SIGNATURE_HEADERS, signAuthCheckBody } from './auth-check-signature';
import { HookUnavailable } from './hook-failure';
import { parseAuthCheckAnswer } from './parse-auth-check-answer';

const DEFAULT_TIMEOUT_MS = 3000;
const MAX_ANSWER_BYTES = 64 * 1024;
/** A refusal's body is read only to tell "invalid_signature" from a wrong password. */
const MAX_REFUSAL_BYTES = 4 * 1024;

/** A signing secret and, when it comes from Secrets Manager, its `VersionId` (sent as a header). */
export interface HookSigningKey {
  readonly secret: string;
  readonly version?: string;
}

export interface HttpAuthCheckOptions {
  /**
   * Where to POST the credentials. A string goes through `parseAuthCheckUrl` with its defaults
   * (https, or http to loopback only). A `URL` is taken as already vetted by the caller, which is how
   * `parseAuthCheckUrl(raw, { allowInsecureHttp: true })` opts into plain http; it must still be
   * http(s) without credentials.
   */
  readonly url: URL | string;
  /** Budget for the whole answer, headers and body, in milliseconds. Defaults to 3000. */
  readonly timeoutMs?: number;
  /**
   * HMAC secret for `X-OAuth2-Signature`, so the hook can tell our requests from anyone else's. A
   * function is called on every request (cache inside it if it is expensive); resolving to
   * `undefined` sends the request unsigned. A `HookSigningKey` with a `version` also sends
   * `X-OAuth2-Signature-Version`, so a hook holding several secrets (a rotation) can pick one.
   */
  readonly secret?:
    | string
    | (() => string | HookSigningKey | undefined | Promise<string | HookSigningKey | undefined>);
  readonly clock: Clock;
}

/**
 * One keep-alive agent per scheme for the process: a warm Lambda reuses its connection (and TLS
 * session) to the hook. `node:http(s)` rather than the global `fetch`: on Node 20 a loopback POST
 * through `fetch` (undici) measured 1.1 ms of CPU against 0.35–0.6 ms through `http.request`, on
 * every password grant.
 */
const AGENTS = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

/** POSTs `body` and resolves with the response head; the body is left to the caller to read. */
const post = (
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: secure ? AGENTS['https:'] : AGENTS['http:'],
        // Aborts the request, or the response body while it is being read.
        signal,
      },
      resolve,
    );
    request.on('error', reject);
    request.end(body);
  });

/**
 * Validates the configured AuthCheck URL once, at start-up. Throws a plain `Error` for an invalid
 * URL, a scheme other than http(s), credentials in the URL, or `http:` to anything but loopback
 * (127.0.0.0/8, ::1, localhost): the request carries the user's password, which must not cross a
 * network in clear. `allowInsecureHttp: true` lifts the last rule and only an explicit `true` does.
 */
export const parseAuthCheckUrl = (raw: string, options: { allowInsecureHttp?: boolean } = {}): URL => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The raw value is not echoed: a mistyped URL may still carry a secret.
    throw new Error('AuthCheck URL is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`AuthCheck URL must use https (or http to loopback), not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error('AuthCheck URL must not contain credentials; use the signing secret instead');
  }
  if (url.protocol === 'http:' && options.allowInsecureHttp !== true && !isLoopbackHostname(url.hostname)) {
    throw new Error(
      `AuthCheck URL uses plain http to ${url.hostname}, which would send passwords in clear; use https (plain http is only allowed to loopback unless explicitly enabled)`,
    );
  }
  return url;
};

// URL has already canonicalised the host: IPv4 in dotted decimal, IPv6 compressed in brackets.
const isLoopbackHostname = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);

/**
 * An `AuthCheck` that POSTs `{"username","password","client_id"}` as JSON to the deployer's hook.
 * `200 {"user_id": id}` is a valid login, `200 {"user_id": null}`, 401 and 403 are invalid
 * credentials, unless their body is `{"error":"invalid_signature"}` (the hook refused our signature);
 * that, any other answer, a redirect (never followed), an answer over 64 KiB, a network or
 * TLS error, or no complete answer within `timeoutMs` rejects with `DependencyUnavailable`.
 */
export const createHttpAuthCheck = (options: HttpAuthCheckOptions): AuthCheck => {
  const hook = createHttpUserIdHook(options);
  return {
    checkCredentials: (request: AuthCheckRequest) =>
      hook({ username: request.username, password: request.password, client_id: request.clientId }),
  };
};

/** A hook that answers `{"user_id": id | null}` for a JSON payload: the AuthCheck and the session check. */
export type UserIdHook = (payload: Readonly<Record<string, unknown>>) => Promise<UserId | null>;

/**
 * POSTs `payload` as JSON (signed like the AuthCheck when a secret is set) and reads `{"user_id"}`
 * back with the AuthCheck's rules. `label` names the hook in error messages.
 */
export const createHttpUserIdHook = (options: HttpAuthCheckOptions & { label?: string }): UserIdHook => {
  const url =
    typeof options.url === 'string'
      ? parseAuthCheckUrl(options.url)
      : parseAuthCheckUrl(options.url.href, { allowInsecureHttp: true });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error('AuthCheck timeoutMs must be a positive integer');
  }
  const resolveSecret = secretResolver(options.secret);
  const { clock } = options;
  // Origin only: a query string could hold an API key and has no place in a log line.
  const target = `${options.label ?? 'AuthCheck'} ${url.origin}`;

  return async (payload) => {
    const rawBody = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    const key = await resolveSecret();
    if (key !== undefined) {
      const timestamp = toEpochSeconds(clock());
      headers[SIGNATURE_HEADERS.timestamp] = String(timestamp);
      headers[SIGNATURE_HEADERS.signature] = signAuthCheckBody(key.secret, timestamp, rawBody);
      if (key.version !== undefined) headers[SIGNATURE_HEADERS.version] = key.version;
    }

    const signal = AbortSignal.timeout(timeoutMs);
    const failed = (error: unknown, what: string): DependencyUnavailable =>
      signal.aborted
        ? new HookUnavailable('timeout', `${target} did not answer within ${timeoutMs} ms`, { cause: error })
        : new HookUnavailable('unreachable', `${target} ${what} (${errorCode(error)})`, { cause: error });

    // A redirect is not followed: it is a status other than 200, so an error.
    let response: IncomingMessage;
    try {
      response = await post(url, headers, rawBody, signal);
    } catch (error) {
      throw failed(error, 'request failed');
    }

    if (response.statusCode === 401 || response.statusCode === 403) {
      if (await refusedOurSignature(response, signal)) {
        throw new HookUnavailable(
          'signature_refused',
          `${target} refused the request signature (invalid_signature): its secret differs from ours`,
        );
      }
      return null;
    }
    if (response.statusCode !== 200) {
      discard(response);
      // Only the status: an error page may echo the request, password included.
      throw new HookUnavailable('error_status', `${target} answered HTTP ${response.statusCode}`);
    }

    let bytes: Uint8Array;
    try {
      bytes = await readCapped(response, MAX_ANSWER_BYTES);
    } catch (error) {
      if (error instanceof AnswerTooLarge) {
        throw new HookUnavailable('bad_answer', `${target} answered more than ${MAX_ANSWER_BYTES} bytes`);
      }
      throw failed(error, 'answer could not be read');
    }
    // No cause on purpose: JSON.parse errors quote the text, which may echo the password.
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      throw new HookUnavailable('bad_answer', `${target} answered something that is not JSON`);
    }
    return parseAuthCheckAnswer(json);
  };
};

/**
 * A 401/403 that says `{"error":"invalid_signature"}` (the hook protocol's "signature not accepted").
 * Anything else, an unreadable or oversized body included, is the usual "invalid credentials"; a body
 * that does not arrive before the deadline is a timeout, never a wrong password.
 */
const refusedOurSignature = async (response: IncomingMessage, signal: AbortSignal): Promise<boolean> => {
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(response, MAX_REFUSAL_BYTES);
  } catch (error) {
    if (signal.aborted)
      throw new HookUnavailable('timeout', 'AuthCheck refusal did not arrive in time', { cause: error });
    return false;
  }
  try {
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return (
      typeof json === 'object' &&
      json !== null &&
      (json as Record<string, unknown>).error === 'invalid_signature'
    );
  } catch {
    return false;
  }
};

const secretResolver = (
  secret: HttpAuthCheckOptions['secret'],
): (() => Promise<HookSigningKey | undefined>) => {
  if (secret === undefined) return async () => undefined;
  if (typeof secret === 'string') {
    // Fail at start-up: an empty secret is a configuration mistake, not a request to stop signing.
    if (secret.length === 0) throw new Error('AuthCheck secret must not be empty');
    return async () => ({ secret });
  }
  return async () => {
    let value: string | HookSigningKey | undefined;
    try {
      value = await secret();
    } catch (error) {
      if (error instanceof DependencyUnavailable) throw error;
      throw new DependencyUnavailable('secrets', 'AuthCheck signing secret could not be resolved', {
        cause: error,
      });
    }
    const key = typeof value === 'string' ? { secret: value } : value;
    if (key !== undefined && key.secret === '')
      throw new DependencyUnavailable('secrets', 'AuthCheck signing secret resolved to an empty string');
    return key;
  };
};

class AnswerTooLarge extends Error {}

const readCapped = async (response: IncomingMessage, maxBytes: number): Promise<Uint8Array> => {
  const declared = Number(response.headers['content-length']);
  if (declared > maxBytes) {
    discard(response);
    throw new AnswerTooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      discard(response);
      throw new AnswerTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
};

// Close the connection rather than wait for a body we will not read.
const discard = (response: IncomingMessage): void => {
  response.destroy();
};

// The useful part of a failure (ECONNREFUSED, a TLS code) is its code, or its cause's.
const errorCode = (error: unknown): string => {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return error instanceof Error ? error.name : 'unknown error';
};
