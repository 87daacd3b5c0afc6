import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signAuthCheckBody, verifyAuthCheckSignature } from '../../lambdas/auth-check/auth-check-signature';

const SECRET = 'hook-shared-secret';
const NOW = 1_700_000_000;
const BODY = '{"username":"alice","password":"pw","client_id":"web-app"}';

const signed = (overrides: Partial<Parameters<typeof verifyAuthCheckSignature>[0]> = {}) => ({
  secret: SECRET,
  timestampHeader: String(NOW),
  signatureHeader: signAuthCheckBody(SECRET, NOW, BODY),
  rawBody: BODY,
  nowSeconds: NOW,
  ...overrides,
});

describe('signAuthCheckBody', () => {
  it('is sha256= and the lowercase hex HMAC of timestamp "." body', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(signAuthCheckBody(SECRET, NOW, BODY)).toBe(`sha256=${expected}`);
    expect(signAuthCheckBody(SECRET, NOW, BODY)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('refuses an empty secret or a timestamp that is not whole seconds', () => {
    expect(() => signAuthCheckBody('', NOW, BODY)).toThrow(/secret/);
    expect(() => signAuthCheckBody(SECRET, NOW + 0.5, BODY)).toThrow(/timestamp/);
    expect(() => signAuthCheckBody(SECRET, -1, BODY)).toThrow(/timestamp/);
  });
});

describe('verifyAuthCheckSignature', () => {
  it('accepts its own signature (round trip)', () => {
    expect(verifyAuthCheckSignature(signed())).toBe(true);
  });

  it('accepts the raw body as bytes, as a hook reading the request stream has it', () => {
    expect(verifyAuthCheckSignature(signed({ rawBody: Buffer.from(BODY) }))).toBe(true);
    expect(verifyAuthCheckSignature(signed({ rawBody: new TextEncoder().encode(BODY) }))).toBe(true);
  });

  it('accepts unicode bodies signed as strings and verified as UTF-8 bytes', () => {
    const body = '{"username":"zoë","password":"пароль🔑","client_id":"c"}';
    const signatureHeader = signAuthCheckBody(SECRET, NOW, body);
    expect(verifyAuthCheckSignature(signed({ signatureHeader, rawBody: Buffer.from(body, 'utf8') }))).toBe(
      true,
    );
  });

  it('rejects a tampered body', () => {
    expect(verifyAuthCheckSignature(signed({ rawBody: BODY.replace('alice', 'mallory') }))).toBe(false);
    expect(verifyAuthCheckSignature(signed({ rawBody: `${BODY} ` }))).toBe(false);
  });

  it('rejects a wrong or empty secret', () => {
    expect(verifyAuthCheckSignature(signed({ secret: 'other-secret' }))).toBe(false);
    expect(verifyAuthCheckSignature(signed({ secret: '' }))).toBe(false);
  });

  it('rejects a timestamp swapped after signing', () => {
    expect(verifyAuthCheckSignature(signed({ timestampHeader: String(NOW + 1) }))).toBe(false);
  });

  it('accepts a timestamp within the tolerance either way and rejects one beyond it', () => {
    const at = (nowSeconds: number, toleranceSeconds?: number) =>
      verifyAuthCheckSignature(signed({ nowSeconds, toleranceSeconds }));
    expect(at(NOW + 300)).toBe(true);
    expect(at(NOW - 300)).toBe(true);
    expect(at(NOW + 301)).toBe(false); // stale
    expect(at(NOW - 301)).toBe(false); // from the future
    expect(at(NOW + 31, 30)).toBe(false);
    expect(at(NOW + 30, 30)).toBe(true);
    expect(at(NOW, -1)).toBe(false);
    expect(at(Number.NaN)).toBe(false);
    expect(at(NOW, Number.POSITIVE_INFINITY)).toBe(false);
  });

  it.each([
    ['missing signature', { signatureHeader: undefined }],
    ['missing timestamp', { timestampHeader: undefined }],
    ['repeated signature header', { signatureHeader: [signAuthCheckBody(SECRET, NOW, BODY)] }],
    ['repeated timestamp header', { timestampHeader: [String(NOW), String(NOW)] }],
    ['no sha256= prefix', { signatureHeader: signAuthCheckBody(SECRET, NOW, BODY).slice('sha256='.length) }],
    ['other algorithm', { signatureHeader: signAuthCheckBody(SECRET, NOW, BODY).replace('sha256', 'sha1') }],
    [
      'uppercase hex',
      { signatureHeader: `sha256=${signAuthCheckBody(SECRET, NOW, BODY).slice(7).toUpperCase()}` },
    ],
    ['truncated hex', { signatureHeader: signAuthCheckBody(SECRET, NOW, BODY).slice(0, -2) }],
    ['non-hex', { signatureHeader: `sha256=${'z'.repeat(64)}` }],
    ['padded signature', { signatureHeader: ` ${signAuthCheckBody(SECRET, NOW, BODY)}` }],
    ['empty timestamp', { timestampHeader: '' }],
    ['timestamp with a sign', { timestampHeader: `+${NOW}` }],
    ['timestamp with leading zeros', { timestampHeader: `0${NOW}` }],
    ['timestamp in milliseconds', { timestampHeader: `${NOW}000` }],
    ['fractional timestamp', { timestampHeader: `${NOW}.0` }],
    ['exponent timestamp', { timestampHeader: '1.7e9' }],
  ] as const)('rejects a malformed header: %s', (_, overrides) => {
    expect(verifyAuthCheckSignature(signed(overrides))).toBe(false);
  });

  it('never throws, whatever the headers say', () => {
    // Any UTF-16 code unit, lone surrogates included; built by hand because fc's 'binary' unit costs
    // about two seconds to construct under vitest.
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
    const header = fc.oneof(
      fc.string(),
      fc.string({ unit: anyUnit }),
      // Near misses of the real formats, and a real timestamp, so runs also reach the HMAC comparison.
      fc
        .string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 60, maxLength: 70 })
        .map((hex) => `sha256=${hex}`),
      fc.string({ unit: fc.constantFrom(...'0123456789+-.e '), maxLength: 20 }),
      fc.constant(String(NOW)),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        header,
        header,
        fc.string({ unit: anyUnit }),
        fc.string(),
        fc.oneof(fc.constant(NOW), fc.double(), fc.integer()),
        fc.option(fc.oneof(fc.double(), fc.integer()), { nil: undefined }),
        (timestampHeader, signatureHeader, rawBody, secret, nowSeconds, toleranceSeconds) => {
          const verified = verifyAuthCheckSignature({
            secret,
            timestampHeader,
            signatureHeader,
            rawBody,
            nowSeconds,
            toleranceSeconds,
          });
          return typeof verified === 'boolean';
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never accepts a header it did not produce for that body (random forgeries)', () => {
    fc.assert(
      fc.property(
        fc
          .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })
          .map((hex) => `sha256=${hex}`),
        (signatureHeader) => {
          fc.pre(signatureHeader !== signAuthCheckBody(SECRET, NOW, BODY));
          return !verifyAuthCheckSignature(signed({ signatureHeader }));
        },
      ),
    );
  });
});
