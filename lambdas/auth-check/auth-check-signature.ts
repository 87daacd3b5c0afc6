import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_PREFIX = 'sha256=';
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/;
// Unix seconds as plain digits: no sign, no exponent, no padding tricks that Number() would accept.
const TIMESTAMP_PATTERN = /^(0|[1-9][0-9]{0,11})$/;

/** Header names of a signed hook call (HTTP header names are case-insensitive; Node lowercases them). */
export const SIGNATURE_HEADERS = Object.freeze({
  timestamp: 'x-oauth2-timestamp',
  signature: 'x-oauth2-signature',
  /** The Secrets Manager `VersionId` of the secret that signed the call; absent for a plain secret. */
  version: 'x-oauth2-signature-version',
});

/**
 * What a hook answers when a call's signature does not verify (wrong secret, stale timestamp): the
 * service treats it as a dependency failure (503, never a wrong password, never counted by the
 * lockout). Any 5xx is read the same way; a bare 401/403 means "wrong username or password".
 */
export const INVALID_SIGNATURE_ANSWER = Object.freeze({
  status: 401,
  body: '{"error":"invalid_signature"}',
  contentType: 'application/json',
});

const hmacHex = (secret: string, timestamp: string, rawBody: string | Uint8Array): string =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');

/**
 * The `X-OAuth2-Signature` value for an AuthCheck request: `sha256=` followed by the lowercase hex
 * HMAC-SHA256 under `secret` of `<timestampSeconds>.<rawBody>`. Send `timestampSeconds` as
 * `X-OAuth2-Timestamp`; binding it into the MAC lets the hook refuse replays of old requests.
 */
export const signAuthCheckBody = (secret: string, timestampSeconds: number, rawBody: string): string => {
  if (secret.length === 0) throw new Error('AuthCheck signing secret must not be empty');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new Error('AuthCheck signature timestamp must be a non-negative integer number of seconds');
  }
  return `${SIGNATURE_PREFIX}${hmacHex(secret, String(timestampSeconds), rawBody)}`;
};

export interface VerifyAuthCheckSignatureOptions {
  /** The shared secret. An empty secret never verifies, so a missing configuration cannot pass. */
  readonly secret: string;
  /** The `X-OAuth2-Timestamp` header as received; a repeated header (array) is rejected. */
  readonly timestampHeader: string | readonly string[] | undefined;
  /** The `X-OAuth2-Signature` header as received; a repeated header (array) is rejected. */
  readonly signatureHeader: string | readonly string[] | undefined;
  /** The request body exactly as received, before any JSON parsing. */
  readonly rawBody: string | Uint8Array;
  /** The verifier's current time in Unix seconds. */
  readonly nowSeconds: number;
  /**
   * How far (either way) the timestamp may be from `nowSeconds`. Bounds the window in which a
   * captured request can be replayed; keep it small. Defaults to 300 seconds.
   */
  readonly toleranceSeconds?: number;
}

/**
 * What an AuthCheck hook runs on every request: true only when the signature header is a
 * well-formed HMAC of this timestamp and body under `secret` and the timestamp lies within
 * `toleranceSeconds` of `nowSeconds`. Compares in constant time and never throws: anything
 * malformed is simply `false`.
 */
export const verifyAuthCheckSignature = ({
  secret,
  timestampHeader,
  signatureHeader,
  rawBody,
  nowSeconds,
  toleranceSeconds = 300,
}: VerifyAuthCheckSignatureOptions): boolean => {
  try {
    if (typeof secret !== 'string' || secret.length === 0) return false;
    if (typeof timestampHeader !== 'string' || typeof signatureHeader !== 'string') return false;
    if (!TIMESTAMP_PATTERN.test(timestampHeader) || !SIGNATURE_PATTERN.test(signatureHeader)) return false;
    if (!Number.isFinite(nowSeconds) || !Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
      return false;
    }
    if (Math.abs(nowSeconds - Number(timestampHeader)) > toleranceSeconds) return false;
    if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) return false;
    const expected = Buffer.from(hmacHex(secret, timestampHeader, rawBody), 'hex');
    const received = Buffer.from(signatureHeader.slice(SIGNATURE_PREFIX.length), 'hex');
    return expected.length === received.length && timingSafeEqual(expected, received);
  } catch {
    return false;
  }
};

export interface VerifyAuthCheckRequestOptions extends Omit<VerifyAuthCheckSignatureOptions, 'secret'> {
  /**
   * Every secret the hook currently accepts: during a rotation the new and the old one (any order).
   * Empty strings never verify.
   */
  readonly secrets: readonly string[];
}

/**
 * The reference verifier for hook authors: true when the timestamp is within `toleranceSeconds`
 * (default 300) of `nowSeconds` and the signature is the HMAC of this timestamp and body under any
 * of `secrets`. Every secret is checked, in constant time, whichever matches, so the time taken says
 * nothing about which one did. Never throws. Answer `INVALID_SIGNATURE_ANSWER` when it is false.
 */
export const verifyAuthCheckRequest = ({ secrets, ...request }: VerifyAuthCheckRequestOptions): boolean => {
  if (!Array.isArray(secrets)) return false;
  let verified = false;
  for (const secret of secrets) {
    // No early exit: `||` would skip the remaining HMACs once one matched.
    verified = verifyAuthCheckSignature({ ...request, secret }) || verified;
  }
  return verified;
};
