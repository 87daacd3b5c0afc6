import { sign as cryptoSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { toEpochSeconds } from '../../lambdas/core/clock';
import { formatJti, type JwtAccessTokenClaims, signAccessToken } from '../../lambdas/core/jwt-access-token';
import { DEFAULT_ROTATION_POLICY } from '../../lambdas/core/signing-keys';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { createAuthorizerHandler, UNAUTHORIZED } from '../../lambdas/http/authorizer-handler';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../../lambdas/store/in-memory-grant-store';
import { UNKNOWN_KID_RELOAD_MS } from '../../lambdas/store/public-key-cache';
import { authorizerRequest, bearerAuthorization } from '../support/api-gateway-events';
import { jwtKeys } from '../support/jwt-keys';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://orders.example.com';
const START_MS = Date.UTC(2026, 10, 28);
const logger = createServiceLogger('jwt-authorizer-test', 'SILENT');

function frozenClock() {
  let now = START_MS;
  const clock = () => now;
  return Object.assign(clock, { advance: (seconds: number) => (now += seconds * 1000) });
}

async function setup(options: { revocationCheck?: boolean } = {}) {
  const clock = frozenClock();
  const keys = await jwtKeys(clock);
  const grants = new InMemoryGrantStore();
  const clients = new InMemoryClientStore();
  let grantReads = 0;
  const getGrant = grants.getGrant.bind(grants);
  grants.getGrant = (id) => {
    grantReads++;
    return getGrant(id);
  };
  let keyReads = 0;
  const loadPublicKeys = keys.publicKeys.loadPublicKeys.bind(keys.publicKeys);
  keys.publicKeys.loadPublicKeys = () => {
    keyReads++;
    return loadPublicKeys();
  };
  const handler = createAuthorizerHandler(
    { requireSsl: true, realm: 'oauth2' },
    {
      grants,
      clients,
      clock,
      jwt: {
        lookup: keys.verifierCache().lookup,
        issuer: ISSUER,
        audience: [AUDIENCE],
        revocationCheck: options.revocationCheck ?? false,
      },
    },
    logger,
  );
  const authorize = (token: string): Promise<APIGatewayAuthorizerResult> =>
    handler(
      authorizerRequest({ authorization: bearerAuthorization(token) }),
      localLambdaContext('authorizer'),
    );
  const now = () => toEpochSeconds(clock());
  const claims = (overrides: Partial<JwtAccessTokenClaims> = {}): JwtAccessTokenClaims => ({
    issuer: ISSUER,
    subject: '1234',
    clientId: 'client-1',
    audience: [AUDIENCE],
    issuedAt: now(),
    expiresAt: now() + 900,
    jti: formatJti('grant1', randomBytes(32).toString('base64url')),
    scope: ['orders:read'],
    userId: 1234,
    ...overrides,
  });
  const sign = async (overrides: Partial<JwtAccessTokenClaims> = {}) =>
    signAccessToken(claims(overrides), await keys.signingKey(now()));
  return {
    clock,
    keys,
    grants,
    authorize,
    claims,
    sign,
    now,
    reads: () => ({ grants: grantReads, keys: keyReads }),
  };
}

/** The authorizer's 401: API Gateway answers 401 only for this exact error. */
const expect401 = (promise: Promise<unknown>) => expect(promise).rejects.toThrow(UNAUTHORIZED);

/** A token with RFC 9068's claims built by jose directly, so a test can vary the header or add nbf. */
async function handMadeToken(
  t: Awaited<ReturnType<typeof setup>>,
  options: {
    header: { alg: string; kid?: string; typ: string };
    notBefore?: number;
    key: Parameters<SignJWT['sign']>[0];
  },
): Promise<string> {
  const c = t.claims();
  const jwt = new SignJWT({ client_id: c.clientId })
    .setProtectedHeader(options.header)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('1234')
    .setJti(c.jti)
    .setIssuedAt(t.now())
    .setExpirationTime(t.now() + 600);
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(options.key);
}

describe('our authorizer checks JWT access tokens locally', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    t = await setup();
  });

  it('allows a valid JWT with the same context fields as an opaque token, and reads nothing when warm', async () => {
    const first = await t.authorize(await t.sign());
    expect(first.context).toEqual({
      auth_method: 'bearer',
      client_id: 'client-1',
      scope: 'orders:read',
      user_id: '1234',
      user_id_type: 'number',
    });
    expect(first.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    const cold = t.reads();
    for (let i = 0; i < 5; i++) await t.authorize(await t.sign({ userId: 'u-7', subject: 'u-7' }));
    expect(t.reads()).toEqual({ grants: 0, keys: cold.keys });
    expect(cold.keys).toBe(1);
  });

  it('alg none: 401', async () => {
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: '1', client_id: 'c', jti: 'g.s', iat: t.now() };
    const token = new UnsecuredJWT(payload).setExpirationTime(t.now() + 600).encode();
    await expect401(t.authorize(token));
  });

  it('HS256 signed with the public key as the secret: 401', async () => {
    const jwk = (await t.keys.jwks()).keys[0];
    const { createPublicKey } = await import('node:crypto');
    const publicPem = createPublicKey({ key: { ...jwk } as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const token = await handMadeToken(t, {
      header: { alg: 'HS256', kid: t.keys.firstKid, typ: 'at+jwt' },
      key: new TextEncoder().encode(publicPem.toString()),
    });
    await expect401(t.authorize(token));
  });

  it('a wrong typ: 401', async () => {
    const key = await t.keys.signingKey(t.now());
    const token = await handMadeToken(t, {
      header: { alg: 'RS256', kid: key.kid, typ: 'JWT' },
      key: key.privateKey,
    });
    await expect401(t.authorize(token));
  });

  it('correctly signed but a crit header, a missing exp or jti, a non-string aud, or no typ: 401', async () => {
    const key = await t.keys.signingKey(t.now());
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // Signed by hand with the real key: only the claim rules can refuse these.
    const signed = (header: Record<string, unknown>, payload: Record<string, unknown>) => {
      const input = `${base64url(header)}.${base64url(payload)}`;
      return `${input}.${cryptoSign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
    };
    const header = { alg: 'RS256', kid: key.kid, typ: 'at+jwt' };
    const c = t.claims();
    const payload = {
      iss: ISSUER,
      sub: '1234',
      aud: AUDIENCE,
      client_id: c.clientId,
      jti: c.jti,
      iat: t.now(),
      exp: t.now() + 600,
      scope: 'orders:read',
      user_id: 1234,
    };
    // The control: the same construction, nothing wrong, is allowed.
    const allowed = await t.authorize(signed(header, payload));
    expect(allowed.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    await expect401(t.authorize(signed({ ...header, crit: ['exp'] }, payload)));
    const { exp: _exp, ...withoutExp } = payload;
    await expect401(t.authorize(signed(header, withoutExp)));
    const { jti: _jti, ...withoutJti } = payload;
    await expect401(t.authorize(signed(header, withoutJti)));
    await expect401(t.authorize(signed(header, { ...payload, aud: 42 })));
    const { typ: _typ, ...untyped } = header;
    await expect401(t.authorize(signed(untyped, payload)));
  });

  it('a tampered payload or signature: 401', async () => {
    const token = await t.sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'orders:write admin' })).toString(
      'base64url',
    );
    await expect401(t.authorize(`${header}.${forged}.${signature}`));
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expect401(t.authorize(`${header}.${payload}.${flipped}`));
    await expect(t.authorize(token)).resolves.toHaveProperty('principalId', '1234');
  });

  it('expired (beyond the 60 s skew): 401; within the skew: allowed', async () => {
    const token = await t.sign();
    t.clock.advance(900 + 59);
    await expect(t.authorize(token)).resolves.toHaveProperty('principalId');
    t.clock.advance(2);
    await expect401(t.authorize(token));
  });

  it('nbf in the future (beyond the skew): 401', async () => {
    const key = await t.keys.signingKey(t.now());
    const token = await handMadeToken(t, {
      header: { alg: 'RS256', kid: key.kid, typ: 'at+jwt' },
      notBefore: t.now() + 120,
      key: key.privateKey,
    });
    await expect401(t.authorize(token));
  });

  it('a wrong iss or aud: 401', async () => {
    await expect401(t.authorize(await t.sign({ issuer: 'https://other.example.com' })));
    await expect401(t.authorize(await t.sign({ audience: ['https://billing.example.com'] })));
  });

  it('an unknown kid: 401, and reloads the keys at most once per 10 s per instance', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await t.authorize(await t.sign());
    const baseline = t.reads().keys;
    for (let i = 0; i < 3; i++) {
      await expect401(t.authorize(await signAccessToken(t.claims(), { kid: `forged-${i}`, privateKey })));
    }
    expect(t.reads().keys - baseline).toBe(0);
    t.clock.advance(UNKNOWN_KID_RELOAD_MS / 1000);
    await expect401(t.authorize(await signAccessToken(t.claims(), { kid: 'forged-x', privateKey })));
    await expect401(t.authorize(await signAccessToken(t.claims(), { kid: 'forged-y', privateKey })));
    expect(t.reads().keys - baseline).toBe(1);
  });

  it('a rotated-in key is found by one reload; a retired-and-removed key: 401', async () => {
    const oldKey = await t.keys.signingKey(t.now());
    await t.authorize(await t.sign());
    const rotation = await t.keys.rotate(true);
    // Published ahead: the new key signs only after the delay.
    t.clock.advance(DEFAULT_ROTATION_POLICY.publishAheadSeconds);
    t.clock.advance(5 * 60); // past the signing cache's re-read
    const newKey = await t.keys.signingKey(t.now());
    expect(newKey.kid).toBe(rotation.kid);
    await expect(t.authorize(await t.sign())).resolves.toHaveProperty('principalId');
    // The old key stays published for the longest access-token lifetime plus the delay…
    await expect(t.authorize(await signAccessToken(t.claims(), oldKey))).resolves.toHaveProperty(
      'principalId',
    );
    t.clock.advance(
      DEFAULT_ROTATION_POLICY.maxAccessTokenTtlSeconds + DEFAULT_ROTATION_POLICY.publishAheadSeconds,
    );
    await t.keys.rotate(false);
    expect((await t.keys.jwks()).keys.map((key) => key.kid)).toEqual([rotation.kid]);
    // …and then a token it signs is refused, by a warm instance and by a cold one alike.
    await expect401(t.authorize(await signAccessToken(t.claims(), oldKey)));
    expect(await t.keys.verifierCache().lookup(oldKey.kid)).toBeUndefined();
  });

  it("jwtRevocationCheck reads the grant: a revoked grant's JWT is 401 at once", async () => {
    t = await setup({ revocationCheck: true });
    const c = t.claims();
    await t.grants.createGrant({
      grantId: 'grant1',
      clientId: 'client-1',
      grantType: 'password',
      userId: 1234,
      scope: ['orders:read'],
      accessScope: ['orders:read'],
      createdAt: t.now(),
      issuedAt: t.now(),
      accessHash: hashSecret(c.jti),
      accessExpiresAt: t.now() + 900,
      consumedRefreshHashes: [],
      expiresAt: t.now() + 900,
    });
    const token = signAccessToken(c, await t.keys.signingKey(t.now()));
    await expect(t.authorize(await token)).resolves.toHaveProperty('principalId');
    expect(t.reads().grants).toBe(1);
    await t.grants.revokeGrant('grant1', t.now());
    await expect401(t.authorize(await token));
  });
});
