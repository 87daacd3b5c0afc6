import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The sign-in form's anti-forgery value, stateless: HMAC-SHA256(server secret, browser key ‖ the
 * authorization request ‖ issue time). The browser key is a random value in an HttpOnly, SameSite
 * cookie, so the value is bound to this browser and to the page that showed this very request; a
 * post from anywhere else (another site, another browser, an edited request) cannot carry a valid one.
 */
export interface FormTokenInput {
  /** Server secret (`AUTHORIZE_FORM_SECRET` / `_ARN`; generated per start on the local stack). */
  readonly secret: string;
  /** The browser's random cookie value. */
  readonly browserKey: string;
  /** The authorization request's parameters, in a fixed order (see `canonicalRequest`). */
  readonly request: readonly string[];
  /** Epoch seconds. */
  readonly issuedAt: number;
}

/** A form older than this is refused: the user starts again from the application. */
export const FORM_TOKEN_MAX_AGE_SECONDS = 3600;

const mac = (input: FormTokenInput): string =>
  createHmac('sha256', input.secret)
    // JSON keeps the parts apart: no two different inputs serialise alike.
    .update(JSON.stringify([input.browserKey, input.issuedAt, ...input.request]), 'utf8')
    .digest('base64url');

/** `<issuedAt>.<mac>`, for the form's hidden field. */
export const formTokenFor = (input: FormTokenInput): string => `${input.issuedAt}.${mac(input)}`;

/**
 * True when `token` was made by `formTokenFor` for this secret, browser key and request, and is at
 * most `FORM_TOKEN_MAX_AGE_SECONDS` old (and not from the future). Constant-time comparison.
 */
export function formTokenValid(
  token: string | undefined,
  expected: Omit<FormTokenInput, 'issuedAt'>,
  now: number,
): boolean {
  if (token === undefined) return false;
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match === null) return false;
  const issuedAt = Number(match[1]);
  if (issuedAt > now + 60 || now - issuedAt > FORM_TOKEN_MAX_AGE_SECONDS) return false;
  const presented = Buffer.from(match[2] as string, 'base64url');
  const wanted = Buffer.from(mac({ ...expected, issuedAt }), 'base64url');
  return presented.length === wanted.length && timingSafeEqual(presented, wanted);
}
