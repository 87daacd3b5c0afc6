import { randomBytes } from 'node:crypto';
import { JwtVerifier } from 'aws-jwt-verify';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuthCheck } from '../../lambdas/core/auth-check';
import type { ClientRecord } from '../../lambdas/core/client-store';
import { introspectToken } from '../../lambdas/core/introspection-endpoint';
import { OAuthError } from '../../lambdas/core/oauth-errors';
import { s256 } from '../../lambdas/core/pkce';
import { revokeToken } from '../../lambdas/core/revocation-endpoint';
import { issueToken, type TokenHttpRequest } from '../../lambdas/core/token-endpoint';
import {
  DEFAULT_TOKEN_ENDPOINT_CONFIG,
  type TokenEndpointConfig,
} from '../../lambdas/core/token-endpoint-config';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { verifyAccessToken } from '../../lambdas/core/verify-access-token';
import { InMemoryAuthorizationCodeStore } from '../../lambdas/store/in-memory-authorization-code-store';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../../lambdas/store/in-memory-grant-store';
import { InMemoryLockoutStore } from '../../lambdas/store/in-memory-lockout-store';
import { jwtKeys } from '../support/jwt-keys';
import { testLockoutKeySecret } from '../support/lockout-key-secret';
import { tokenFormRequest } from '../support/token-form-request';

const ISSUER = 'https://auth.example.com';
const CLIENT_ID = 'jwt-client';
const CLIENT_SECRET = 'jwt-client-secret';
const REDIRECT_URI = 'https://app.example.com/callback';
const START_MS = Date.UTC(2026, 10, 28);

function frozenClock() {
  let now = START_MS;
  const clock = () => now;
  return Object.assign(clock, { advance: (seconds: number) => (now += seconds * 1000) });
}

const users: AuthCheck = {
  checkCredentials: async ({ username, password }) =>
    username === 'alice' && password === 'pw' ? 1234 : username === 'bob' && password === 'pw' ? 'u-7' : null,
};

async function setup(overrides: Partial<TokenEndpointConfig> = {}, client: Partial<ClientRecord> = {}) {
  const clock = frozenClock();
  const keys = await jwtKeys(clock);
  const clients = new InMemoryClientStore();
  const grants = new InMemoryGrantStore();
  const codes = new InMemoryAuthorizationCodeStore();
  const config: TokenEndpointConfig = {
    ...DEFAULT_TOKEN_ENDPOINT_CONFIG,
    accessTokenFormat: 'jwt',
    issuer: ISSUER,
    ...overrides,
  };
  const deps = {
    clients,
    grants,
    lockouts: new InMemoryLockoutStore(),
    codes,
    authCheck: users,
    clock,
    random: randomBytes,
    audit: () => {},
    lockoutKeySecret: testLockoutKeySecret,
    signingKey: keys.signingKey,
  };
  await clients.createClient({
    clientId: CLIENT_ID,
    name: 'jwt',
    secretHash: hashSecret(CLIENT_SECRET),
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scope: ['orders:read', 'orders:write'],
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
    ...client,
  });
  const post = (form: Record<string, string>): TokenHttpRequest =>
    tokenFormRequest({ id: CLIENT_ID, secret: CLIENT_SECRET }, form);
  const token = (form: Record<string, string>) => issueToken(post(form), config, deps);
  const login = (extra: Record<string, string> = {}) =>
    token({ grant_type: 'password', username: 'alice', password: 'pw', ...extra });
  const verifierDeps = (revocationCheck: boolean) => ({
    grants,
    clients,
    clock,
    jwt: { lookup: keys.verifierCache().lookup, issuer: ISSUER, revocationCheck },
  });
  const introspect = (tokenValue: string) => introspectToken(post({ token: tokenValue }), config, deps);
  const revoke = (tokenValue: string) => revokeToken(post({ token: tokenValue }), config, { ...deps });
  return {
    clock,
    keys,
    clients,
    grants,
    codes,
    config,
    deps,
    token,
    login,
    verifierDeps,
    introspect,
    revoke,
  };
}

const errorOf = (promise: Promise<unknown>): Promise<OAuthError> =>
  promise.then(
    () => expect.fail('expected an OAuth error'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(OAuthError);
      return error as OAuthError;
    },
  );

describe('JWT access tokens (RFC 9068) issued by every grant', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    t = await setup();
  });

  it('password grant: header alg/kid/typ and exactly the RFC 9068 claims, user_id keeping its JSON type', async () => {
    const issued = await t.login({ scope: 'orders:read' });
    expect(Object.keys(issued).sort()).toEqual(
      ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type', 'user_id'].sort(),
    );
    expect(decodeProtectedHeader(issued.access_token)).toEqual({
      alg: 'RS256',
      kid: t.keys.firstKid,
      typ: 'at+jwt',
    });
    const claims = decodeJwt(issued.access_token);
    expect(Object.keys(claims).sort()).toEqual(
      ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'user_id'].sort(),
    );
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: '1234',
      client_id: CLIENT_ID,
      aud: ISSUER,
      iat: START_MS / 1000,
      scope: 'orders:read',
      user_id: 1234,
    });
    // JWT mode's default lifetime, and exp - iat = expires_in.
    expect(issued.expires_in).toBe(900);
    expect((claims.exp as number) - (claims.iat as number)).toBe(issued.expires_in);
    // Refresh tokens stay opaque.
    expect(issued.refresh_token?.split('.')).toHaveLength(2);
  });

  it('client_credentials: sub is the client id, no user_id, no scope claim when unscoped', async () => {
    t = await setup({}, { scope: [] });
    const issued = await t.token({ grant_type: 'client_credentials' });
    const claims = decodeJwt(issued.access_token);
    expect(claims.sub).toBe(CLIENT_ID);
    expect(claims).not.toHaveProperty('user_id');
    expect(claims).not.toHaveProperty('scope');
  });

  it('authorization_code (issue 11): the redeemed code issues a JWT for its user, and introspection finds its grant', async () => {
    t = await setup(
      {},
      { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT_URI] },
    );
    const code = 'a-code-from-the-authorize-endpoint';
    const verifier = 'v'.repeat(43);
    const now = Math.floor(t.clock() / 1000);
    await t.codes.createCode({
      codeHash: hashSecret(code),
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      redirectUriSent: true,
      codeChallenge: s256(verifier),
      userId: 1234,
      scope: ['orders:read'],
      issuedAt: now,
      codeExpiresAt: now + 60,
      expiresAt: now + 60,
    });
    const issued = await t.token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
    });
    expect(decodeProtectedHeader(issued.access_token)).toMatchObject({ typ: 'at+jwt', kid: t.keys.firstKid });
    expect(decodeJwt(issued.access_token)).toMatchObject({
      iss: ISSUER,
      sub: '1234',
      user_id: 1234,
      client_id: CLIENT_ID,
      scope: 'orders:read',
    });
    expect(issued.refresh_token).toEqual(expect.any(String));
    expect(await t.introspect(issued.access_token)).toMatchObject({ active: true, client_id: CLIENT_ID });
  });

  it('a string user id stays a string; jti is unique per token', async () => {
    const bob = await t.token({ grant_type: 'password', username: 'bob', password: 'pw' });
    expect(decodeJwt(bob.access_token)).toMatchObject({ sub: 'u-7', user_id: 'u-7' });
    const jtis = new Set<unknown>();
    for (let i = 0; i < 5; i++) jtis.add(decodeJwt((await t.login()).access_token).jti);
    expect(jtis.size).toBe(5);
  });

  it('refresh issues a new JWT; the old one is inactive at introspection and refused by the revocation check', async () => {
    const first = await t.login();
    t.clock.advance(10);
    const second = await t.token({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token as string,
    });
    const claims = decodeJwt(second.access_token);
    expect(claims.jti).not.toBe(decodeJwt(first.access_token).jti);
    expect(claims.iat).toBe(START_MS / 1000 + 10);
    expect(claims.user_id).toBe(1234);
    expect(await t.introspect(first.access_token)).toEqual({ active: false });
    expect(await t.introspect(second.access_token)).toMatchObject({ active: true, user_id: 1234 });
    await expect(verifyAccessToken(first.access_token, t.verifierDeps(true), 'oauth2')).rejects.toThrow();
    await expect(
      verifyAccessToken(second.access_token, t.verifierDeps(true), 'oauth2'),
    ).resolves.toMatchObject({
      clientId: CLIENT_ID,
      userId: 1234,
    });
  });

  it('revoking the grant: introspection answers active:false at once; a zero-read check keeps the JWT until exp', async () => {
    const issued = await t.login();
    await t.revoke(issued.refresh_token as string);
    expect(await t.introspect(issued.access_token)).toEqual({ active: false });
    await expect(verifyAccessToken(issued.access_token, t.verifierDeps(true), 'oauth2')).rejects.toThrow(
      OAuthError,
    );
    // The stated window: without the revocation check, nothing is read, so the JWT lives until exp.
    await expect(
      verifyAccessToken(issued.access_token, t.verifierDeps(false), 'oauth2'),
    ).resolves.toMatchObject({ clientId: CLIENT_ID });
    t.clock.advance(900 + 60);
    await expect(verifyAccessToken(issued.access_token, t.verifierDeps(false), 'oauth2')).rejects.toThrow(
      OAuthError,
    );
  });

  it('the JWT itself can be revoked at /oauth2/revoke (by its jti), and its jti is no opaque token', async () => {
    const issued = await t.login();
    const jti = decodeJwt(issued.access_token).jti as string;
    expect(await t.introspect(jti)).toEqual({ active: false });
    await t.revoke(issued.access_token);
    expect(await t.introspect(issued.access_token)).toEqual({ active: false });
    expect(await t.introspect(issued.refresh_token as string)).toEqual({ active: false });
  });

  it('the signing key is cached: a store that fails after the first load still signs', async () => {
    await t.login();
    t.keys.privateKeys.loadSigningKeys = async () => {
      throw new Error('Secrets Manager down');
    };
    t.clock.advance(60);
    await expect(t.login()).resolves.toHaveProperty('access_token');
  });
});

describe('audience (RFC 8707) and the per-client switch', () => {
  it('resource must be one of the client audiences, else 400 invalid_target and nothing is written', async () => {
    const t = await setup({}, { audiences: ['https://orders.example.com', 'https://billing.example.com'] });
    const chosen = await t.login({ resource: 'https://billing.example.com' });
    expect(decodeJwt(chosen.access_token).aud).toBe('https://billing.example.com');
    const byDefault = await t.login();
    expect(decodeJwt(byDefault.access_token).aud).toBe('https://orders.example.com');
    const before = (await t.grants.listGrantIdsByClient(CLIENT_ID)).length;
    const error = await errorOf(t.login({ resource: 'https://evil.example.com' }));
    expect([error.status, error.code]).toEqual([400, 'invalid_target']);
    expect((await t.grants.listGrantIdsByClient(CLIENT_ID)).length).toBe(before);
  });

  it('without client audiences: the service accessTokenAudience; any resource is invalid_target', async () => {
    const t = await setup({ accessTokenAudience: 'https://api.example.com' });
    expect(decodeJwt((await t.login()).access_token).aud).toBe('https://api.example.com');
    expect((await errorOf(t.login({ resource: 'https://api.example.com' }))).code).toBe('invalid_target');
  });

  it('no configured issuer: a JWT is 503, never an iss taken from the request', async () => {
    const t = await setup({ issuer: undefined });
    expect((await errorOf(t.login())).status).toBe(503);
  });

  it('a client switched to jwt in an opaque service gets JWTs (900 s); one switched to opaque gets opaque', async () => {
    const jwtClient = await setup(
      { accessTokenFormat: 'opaque', jwtAccessTokenTtlSeconds: 900 },
      { accessTokenFormat: 'jwt' },
    );
    const issued = await jwtClient.login();
    expect(decodeProtectedHeader(issued.access_token).typ).toBe('at+jwt');
    expect(issued.expires_in).toBe(900);
    const opaqueClient = await setup({}, { accessTokenFormat: 'opaque' });
    const opaque = await opaqueClient.login();
    expect(opaque.access_token.split('.')).toHaveLength(2);
    expect(opaque.expires_in).toBe(3600);
  });

  it('a JWT asked for without signing keys is 503 and writes no grant', async () => {
    const t = await setup();
    const { signingKey: _none, ...withoutKeys } = t.deps;
    const request = tokenFormRequest(
      { id: CLIENT_ID, secret: CLIENT_SECRET },
      { grant_type: 'client_credentials' },
    );
    const error = await errorOf(issueToken(request, t.config, withoutKeys));
    expect(error.status).toBe(503);
    expect(await t.grants.listGrantIdsByClient(CLIENT_ID)).toEqual([]);
  });
});

describe('interop: two independent verifiers accept our tokens with our JWKS', () => {
  it('aws-jwt-verify and jose verify signature, typ, iss, aud and expiry', async () => {
    const t = await setup({}, { audiences: ['https://orders.example.com'] });
    const issued = await t.login({ scope: 'orders:read' });
    const jwks = await t.keys.jwks();
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: t.keys.firstKid, use: 'sig', alg: 'RS256' });
    expect(jwks.keys[0]).not.toHaveProperty('d');

    const verifier = JwtVerifier.create({
      issuer: ISSUER,
      audience: 'https://orders.example.com',
      jwksUri: `${ISSUER}/.well-known/jwks.json`,
      scope: 'orders:read',
    });
    verifier.cacheJwks(jwks as never);
    // aws-jwt-verify checks exp against the real clock: our frozen clock is in 2026-11, so the
    // token is checked at its own iat (graceSeconds bridges the gap only for this interop check).
    const graceSeconds = Math.max(0, Math.ceil(Date.now() / 1000) - (START_MS / 1000 + 800));
    const payload = await verifier.verify(issued.access_token, { graceSeconds } as never);
    expect(payload).toMatchObject({ client_id: CLIENT_ID, user_id: 1234, sub: '1234' });

    const { payload: josePayload, protectedHeader } = await jwtVerify(
      issued.access_token,
      createLocalJWKSet(jwks as never),
      {
        issuer: ISSUER,
        audience: 'https://orders.example.com',
        algorithms: ['RS256'],
        typ: 'at+jwt',
        currentDate: new Date(START_MS + 1000),
      },
    );
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(josePayload.scope).toBe('orders:read');
  });
});
