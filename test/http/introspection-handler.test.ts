import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAuthCheck, parseAuthCheckUrl } from '../../lambdas/auth-check/http-auth-check';
import { noAudit } from '../../lambdas/core/audit-event';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG } from '../../lambdas/core/token-endpoint-config';
import { ConfigurationError } from '../../lambdas/handlers/configuration-error';
import { buildIntrospectionLambda } from '../../lambdas/handlers/introspection-lambda';
import { createIntrospectionHandler } from '../../lambdas/http/introspection-handler';
import { createRevocationHandler } from '../../lambdas/http/revocation-handler';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { createTokenHandler } from '../../lambdas/http/token-handler';
import { DynamoDbClientStore } from '../../lambdas/store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../../lambdas/store/dynamodb-grant-store';
import { DynamoDbLockoutStore } from '../../lambdas/store/dynamodb-lockout-store';
import {
  expectNoStoreJson,
  expectOAuthError,
  type FormFields,
  type HeaderOverrides,
  type TokenBody,
} from '../support/api-gateway-events';
import { testLockoutKeySecret } from '../support/lockout-key-secret';
import {
  type Client,
  formPost,
  type ProxyHandler,
  startTokenServiceFixture,
  type TokenServiceFixture,
  withContext,
} from '../support/token-service-fixture';

const ALICE = { username: 'alice', password: 'alice-Pw-introspect-1', userId: 1234 } as const;
const BOB = { username: 'bob', password: 'bob-Pw-introspect-2', userId: 'u-1' } as const;
/** Only the admin revoke-user-tokens test logs carol in. */
const CAROL = { username: 'carol', password: 'carol-Pw-introspect-3', userId: 77 } as const;

const ACTIVE_KEYS = ['active', 'client_id', 'user_id', 'scope', 'exp', 'iat', 'token_type'];
const ACTIVE_CLIENT_KEYS = ['active', 'client_id', 'scope', 'exp', 'iat', 'token_type'];

let svc: TokenServiceFixture;

beforeAll(async () => {
  svc = await startTokenServiceFixture('introspection', { alice: ALICE, bob: BOB, carol: CAROL });
});

afterAll(async () => {
  await svc?.stop();
});

afterEach(() => {
  svc.proxy.clear();
});

// ---- helpers --------------------------------------------------------------------------------------

const introspectRaw = (
  client: Client | undefined,
  body: FormFields | string,
  headers: HeaderOverrides = {},
  handler: ProxyHandler = svc.introspection,
): Promise<APIGatewayProxyResult> => handler(formPost('/oauth2/introspect', client, body, headers));

/** A 200 introspection answer with no-store headers; returns the body. */
async function introspect(
  client: Client,
  token: string,
  extra: Record<string, string> = {},
  handler: ProxyHandler = svc.introspection,
): Promise<Record<string, unknown>> {
  const result = await introspectRaw(client, { token, ...extra }, {}, handler);
  expect(result.statusCode, result.body).toBe(200);
  return expectNoStoreJson(result) as Record<string, unknown>;
}

async function expectInactive(client: Client, token: string, handler?: ProxyHandler): Promise<void> {
  const result = await introspectRaw(client, { token }, {}, handler);
  expect(result.statusCode, result.body).toBe(200);
  // Exactly this, byte for byte: nothing about why.
  expect(result.body).toBe('{"active":false}');
  expectNoStoreJson(result);
}

const refreshTokenOf = (body: TokenBody): string => {
  expect(body.refresh_token).toEqual(expect.any(String));
  return body.refresh_token as string;
};

const clientCredentials = async (client: Client, handler: ProxyHandler = svc.token): Promise<TokenBody> => {
  const result = await handler(formPost('/oauth2/token', client, { grant_type: 'client_credentials' }));
  expect(result.statusCode, result.body).toBe(200);
  return expectNoStoreJson(result) as TokenBody;
};

// ---- request shape and client authentication ---------------------------------------------------------

describe('request shape and client authentication (as at the token endpoint)', () => {
  it.each(['GET', 'PUT', 'DELETE', 'HEAD', 'post'])('answers %s with 405 and Allow: POST', async (method) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const result = await svc.introspection({
      ...formPost('/oauth2/introspect', client, { token: issued.access_token }),
      httpMethod: method,
    });
    expectOAuthError(result, 405, 'invalid_request');
    expect(result.headers?.Allow).toBe('POST');
  });

  it('refuses query parameters, other content types, repeated parameters and bad escapes with 400', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const token = issued.access_token;
    const withQuery = {
      ...formPost('/oauth2/introspect', client, { token }),
      queryStringParameters: { token },
      multiValueQueryStringParameters: { token: [token] },
    };
    const refused = [
      await svc.introspection(withQuery),
      await introspectRaw(client, { token }, { 'Content-Type': 'application/json' }),
      await introspectRaw(client, { token }, { 'Content-Type': undefined }),
      await introspectRaw(client, [
        ['token', token],
        ['token', token],
      ]),
      await introspectRaw(client, [
        ['token', token],
        ['token_type_hint', 'access_token'],
        ['token_type_hint', ''],
      ]),
      await introspectRaw(client, `token=${token}&x=%ZZ`),
    ];
    for (const result of refused) expectOAuthError(result, 400, 'invalid_request');
  });

  it('refuses plain HTTP unless REQUIRE_SSL is exactly "false"', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const plain = { 'X-Forwarded-Proto': 'http' };
    expectOAuthError(
      await introspectRaw(client, { token: issued.access_token }, plain),
      400,
      'invalid_request',
    );
    const insecure = withContext(
      buildIntrospectionLambda(svc.environment({ REQUIRE_SSL: 'false' })),
      'introspection',
    );
    const result = await introspectRaw(client, { token: issued.access_token }, plain, insecure);
    expect(JSON.parse(result.body)).toMatchObject({ active: true });
    for (const value of ['FALSE', '1', ' false']) {
      expect(() => buildIntrospectionLambda(svc.environment({ REQUIRE_SSL: value }))).toThrow(
        ConfigurationError,
      );
    }
  });

  it('accepts body credentials; refuses both methods at once with 400', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const credentials = { client_id: client.client_id, client_secret: client.client_secret };
    const viaBody = await introspectRaw(undefined, { token: issued.access_token, ...credentials });
    expect(JSON.parse(viaBody.body)).toMatchObject({ active: true, client_id: client.client_id });
    expectOAuthError(
      await introspectRaw(client, { token: issued.access_token, client_id: client.client_id }),
      400,
      'invalid_request',
    );
  });

  it('gives the same 401 invalid_client with a Basic challenge whichever check failed', async () => {
    const client = await svc.registerClient();
    const disabled = await svc.registerClient({ resourceServer: true });
    await svc.admin({ action: 'disable-client', client_id: disabled.client_id });
    const issued = await svc.login(client, ALICE);
    const token = { token: issued.access_token };
    const failures = [
      await introspectRaw(undefined, token),
      await introspectRaw({ client_id: 'nobody', client_secret: 'x' }, token),
      await introspectRaw({ ...client, client_secret: 'wrong' }, token),
      await introspectRaw(disabled, token),
      await introspectRaw(undefined, token, { Authorization: 'Basic' }),
      await introspectRaw(undefined, token, { Authorization: `Bearer ${issued.access_token}` }),
    ];
    for (const result of failures) {
      expectOAuthError(result, 401, 'invalid_client');
      expect(result.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="oauth2"/);
    }
  });

  it.each<[string, FormFields]>([
    ['no token parameter', {}],
    ['an empty token', { token: '' }],
    ['only a hint', { token_type_hint: 'refresh_token' }],
  ])('answers %s with 400 invalid_request', async (_name, body) => {
    const client = await svc.registerClient();
    expectOAuthError(await introspectRaw(client, body), 400, 'invalid_request');
  });
});

// ---- active tokens ----------------------------------------------------------------------------------

describe('with a controlled clock', () => {
  const START_MS = Date.UTC(2031, 2, 3, 4, 5, 6);
  const START = START_MS / 1000;
  let nowMs = START_MS;
  const ACCESS_TTL = 120;
  const REFRESH_TTL = 600;
  let token: ProxyHandler;
  let introspection: ProxyHandler;
  let revocation: ProxyHandler;

  beforeAll(() => {
    const logger = createServiceLogger('introspection-test', 'SILENT');
    const clients = new DynamoDbClientStore(svc.dynamo.doc, svc.tables.clients);
    const grants = new DynamoDbGrantStore(svc.dynamo.doc, svc.tables.grants);
    const clock = () => nowMs;
    // The hook checks its signature timestamps against real time, so the AuthCheck keeps the real clock.
    const authCheck = createHttpAuthCheck({
      url: parseAuthCheckUrl(svc.hook.url),
      clock: Date.now,
      secret: svc.hook.secret,
    });
    const config = {
      ...DEFAULT_TOKEN_ENDPOINT_CONFIG,
      accessTokenTtlSeconds: ACCESS_TTL,
      refreshTokenTtlSeconds: REFRESH_TTL,
    };
    token = withContext(
      createTokenHandler(
        config,
        {
          clients,
          grants,
          lockouts: new DynamoDbLockoutStore(svc.dynamo.doc, svc.tables.grants),
          lockoutKeySecret: testLockoutKeySecret,
          authCheck,
          clock,
          random: randomBytes,
          audit: noAudit,
        },
        logger,
      ),
      'token',
    );
    introspection = withContext(
      createIntrospectionHandler(config, { clients, grants, clock }, logger),
      'introspection',
    );
    revocation = withContext(
      createRevocationHandler(config, { clients, grants, clock, audit: noAudit }, logger),
      'revocation',
    );
  });

  const at = (seconds: number) => {
    nowMs = START_MS + seconds * 1000;
  };

  it('an access token: active, client_id, user_id (a number stays a number), scope, exp, iat, bearer', async () => {
    at(0);
    const client = await svc.registerClient({ scope: 'profile email' });
    const issued = await svc.login(client, ALICE, token);
    const result = await introspectRaw(client, { token: issued.access_token }, {}, introspection);
    const body = expectNoStoreJson(result) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(ACTIVE_KEYS);
    expect(body).toEqual({
      active: true,
      client_id: client.client_id,
      user_id: 1234,
      scope: 'profile email',
      exp: START + ACCESS_TTL,
      iat: START,
      token_type: 'bearer',
    });
    expect(result.body).toContain('"user_id":1234');
  });

  it('a string user_id stays a string', async () => {
    at(0);
    const client = await svc.registerClient();
    const issued = await svc.login(client, BOB, token);
    const result = await introspectRaw(client, { token: issued.access_token }, {}, introspection);
    expect(result.body).toContain('"user_id":"u-1"');
  });

  it('a client_credentials token has no user_id, and an unscoped grant an empty scope', async () => {
    at(30);
    const client = await svc.registerClient({ grantTypes: ['client_credentials'] });
    const issued = await clientCredentials(client, token);
    const body = await introspect(client, issued.access_token, {}, introspection);
    expect(Object.keys(body)).toEqual(ACTIVE_CLIENT_KEYS);
    expect(body).toEqual({
      active: true,
      client_id: client.client_id,
      scope: '',
      exp: START + 30 + ACCESS_TTL,
      iat: START + 30,
      token_type: 'bearer',
    });
  });

  it('a refresh token: active with token_type refresh_token, its own expiry and the grant’s scope', async () => {
    at(0);
    const client = await svc.registerClient({ scope: 'profile email' });
    const issued = await svc.login(client, ALICE, token);
    const body = await introspect(client, refreshTokenOf(issued), {}, introspection);
    expect(Object.keys(body)).toEqual(ACTIVE_KEYS);
    expect(body).toEqual({
      active: true,
      client_id: client.client_id,
      user_id: 1234,
      scope: 'profile email',
      exp: START + REFRESH_TTL,
      iat: START,
      token_type: 'refresh_token',
    });
  });

  it('after a narrowing refresh: the new access token has the narrow scope, the refresh token the grant’s; old ones are inactive', async () => {
    at(0);
    const client = await svc.registerClient({ scope: 'profile email' });
    const first = await svc.login(client, ALICE, token);
    at(50);
    const result = await token(
      formPost('/oauth2/token', client, {
        grant_type: 'refresh_token',
        refresh_token: refreshTokenOf(first),
        scope: 'email',
      }),
    );
    const second = expectNoStoreJson(result) as TokenBody;
    expect(await introspect(client, second.access_token, {}, introspection)).toMatchObject({
      active: true,
      scope: 'email',
      iat: START + 50,
      exp: START + 50 + ACCESS_TTL,
      token_type: 'bearer',
    });
    expect(await introspect(client, refreshTokenOf(second), {}, introspection)).toMatchObject({
      active: true,
      scope: 'profile email',
      iat: START + 50,
      exp: START + 50 + REFRESH_TTL,
      token_type: 'refresh_token',
    });
    // Rotated away: both tokens of the first pair, though neither has expired.
    await expectInactive(client, first.access_token, introspection);
    await expectInactive(client, refreshTokenOf(first), introspection);
  });

  it('an access token is active until the second before exp and inactive from exp on', async () => {
    at(0);
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE, token);
    at(ACCESS_TTL - 1);
    expect(await introspect(client, issued.access_token, {}, introspection)).toMatchObject({ active: true });
    at(ACCESS_TTL);
    await expectInactive(client, issued.access_token, introspection);
    // The refresh token outlives it.
    expect(await introspect(client, refreshTokenOf(issued), {}, introspection)).toMatchObject({
      active: true,
      token_type: 'refresh_token',
    });
  });

  it('a refresh token is active until the second before its exp and inactive from exp on', async () => {
    at(0);
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE, token);
    at(REFRESH_TTL - 1);
    expect(await introspect(client, refreshTokenOf(issued), {}, introspection)).toMatchObject({
      active: true,
    });
    at(REFRESH_TTL);
    await expectInactive(client, refreshTokenOf(issued), introspection);
  });

  it('ignores token_type_hint, whatever it says', async () => {
    at(0);
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE, token);
    const plain = await introspect(client, issued.access_token, {}, introspection);
    for (const hint of ['access_token', 'refresh_token', 'id_token', 'no such hint']) {
      expect(await introspect(client, issued.access_token, { token_type_hint: hint }, introspection)).toEqual(
        plain,
      );
    }
    expect(
      await introspect(client, refreshTokenOf(issued), { token_type_hint: 'access_token' }, introspection),
    ).toMatchObject({ active: true, token_type: 'refresh_token' });
  });

  it('a revoked grant’s tokens are inactive, whichever token was revoked', async () => {
    at(0);
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE, token);
    const revoked = await revocation(formPost('/oauth2/revoke', client, { token: refreshTokenOf(issued) }));
    expect(revoked.statusCode).toBe(200);
    await expectInactive(client, issued.access_token, introspection);
    await expectInactive(client, refreshTokenOf(issued), introspection);
  });
});

// ---- inactive tokens -----------------------------------------------------------------------------------

describe('inactive: {"active":false} and nothing else', () => {
  it.each([
    ['a well-formed token of no grant', 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'],
    ['garbage', 'not a token'],
    ['a dot', '.'],
    ['too long', `${'a'.repeat(200)}.${'b'.repeat(200)}`],
    ['non-ASCII', 'ä.ö'],
  ])('%s', async (_name, value) => {
    const client = await svc.registerClient({ resourceServer: true });
    await expectInactive(client, value);
  });

  it('the right grant id with a wrong secret', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const grantId = issued.access_token.slice(0, issued.access_token.indexOf('.'));
    await expectInactive(client, `${grantId}.${'x'.repeat(43)}`);
  });

  it('tokens revoked at the revocation endpoint (checked through the Lambdas: /me refuses too)', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expect(
      (await svc.revocation(formPost('/oauth2/revoke', client, { token: issued.access_token }))).statusCode,
    ).toBe(200);
    await expectInactive(client, issued.access_token);
    await expectInactive(client, refreshTokenOf(issued));
    expect(await svc.authorize(issued.access_token)).toBe('Unauthorized');
  });

  it('tokens revoked by the admin (revoke-user-tokens) and by refresh-token reuse', async () => {
    const client = await svc.registerClient();
    const carol = await svc.login(client, CAROL);
    expect(await svc.admin({ action: 'revoke-user-tokens', user_id: 77 })).toMatchObject({
      revoked_grants: 1,
    });
    await expectInactive(client, carol.access_token);

    const first = await svc.login(client, ALICE);
    const second = expectNoStoreJson(await svc.refresh(client, refreshTokenOf(first))) as TokenBody;
    expect(await introspect(client, second.access_token)).toMatchObject({ active: true });
    expectOAuthError(await svc.refresh(client, refreshTokenOf(first)), 400, 'invalid_grant');
    await expectInactive(client, second.access_token);
    await expectInactive(client, refreshTokenOf(second));
  });

  it('tokens of a disabled client, even to a resource server and even before their grant is revoked', async () => {
    const owner = await svc.registerClient();
    const api = await svc.registerClient({ grantTypes: ['client_credentials'], resourceServer: true });
    const issued = await svc.login(owner, ALICE);
    expect(await introspect(api, issued.access_token)).toMatchObject({ active: true });
    // Disabled in the table directly, as a concurrent admin call would be seen: grants not yet revoked.
    const clients = new DynamoDbClientStore(svc.dynamo.doc, svc.tables.clients);
    expect(await clients.disableClient(owner.client_id, Math.floor(Date.now() / 1000))).toBe(true);
    await expectInactive(api, issued.access_token);
    await expectInactive(api, refreshTokenOf(issued));
    // The owner itself can no longer ask.
    expectOAuthError(await introspectRaw(owner, { token: issued.access_token }), 401, 'invalid_client');
  });
});

// ---- who may see what ----------------------------------------------------------------------------------

describe('visibility', () => {
  it('an ordinary client sees only its own tokens', async () => {
    const owner = await svc.registerClient();
    const stranger = await svc.registerClient();
    const issued = await svc.login(owner, ALICE);
    await expectInactive(stranger, issued.access_token);
    await expectInactive(stranger, refreshTokenOf(issued));
    expect(await introspect(owner, issued.access_token)).toMatchObject({ active: true });
  });

  it('a resource server sees every client’s tokens in full, and its own', async () => {
    const owner = await svc.registerClient({ scope: 'profile email' });
    const api = await svc.registerClient({ grantTypes: ['client_credentials'], resourceServer: true });
    const issued = await svc.login(owner, BOB);
    const access = await introspect(api, issued.access_token);
    expect(Object.keys(access)).toEqual(ACTIVE_KEYS);
    expect(access).toMatchObject({
      active: true,
      client_id: owner.client_id,
      user_id: 'u-1',
      scope: 'profile email',
      token_type: 'bearer',
    });
    expect(access).toEqual(await introspect(owner, issued.access_token));
    expect(await introspect(api, refreshTokenOf(issued))).toMatchObject({
      active: true,
      client_id: owner.client_id,
      token_type: 'refresh_token',
    });
    const own = await clientCredentials(api);
    expect(await introspect(api, own.access_token)).toMatchObject({ active: true, client_id: api.client_id });
    // Looking does not use anything up.
    expect(await svc.authorize(issued.access_token)).toBe('Allow');
    expect((await svc.refresh(owner, refreshTokenOf(issued))).statusCode).toBe(200);
  });
});

// ---- DynamoDB calls and failures ---------------------------------------------------------------------

describe('DynamoDB calls', () => {
  it('reads only: client + grant, plus the owner client when a resource server looks at another client’s token', async () => {
    const owner = await svc.registerClient();
    const api = await svc.registerClient({ grantTypes: ['client_credentials'], resourceServer: true });
    const issued = await svc.login(owner, ALICE);
    const { clients, grants } = svc.tables;

    svc.proxy.clear();
    await introspect(owner, issued.access_token);
    expect(svc.proxy.operations).toEqual([`GetItem ${clients}`, `GetItem ${grants}`]);

    svc.proxy.clear();
    await introspect(api, issued.access_token);
    expect(svc.proxy.operations).toEqual([`GetItem ${clients}`, `GetItem ${grants}`, `GetItem ${clients}`]);

    svc.proxy.clear();
    await expectInactive(owner, 'garbage');
    expect(svc.proxy.operations).toEqual([`GetItem ${clients}`]);
  });
});

describe('store failures', () => {
  let fastFailing: ProxyHandler;

  beforeAll(() => {
    fastFailing = withContext(
      buildIntrospectionLambda(svc.environment({ DYNAMODB_MAX_ATTEMPTS: '1', DYNAMODB_TIMEOUT_MS: '500' })),
      'introspection',
    );
  });

  it('answer 503 temporarily_unavailable, never {"active":false}, whichever read failed', async () => {
    const owner = await svc.registerClient();
    const api = await svc.registerClient({ grantTypes: ['client_credentials'], resourceServer: true });
    const issued = await svc.login(owner, ALICE);
    const { clients, grants } = svc.tables;
    const cases: Array<[string, Client]> = [
      [`GetItem ${clients}`, owner],
      [`GetItem ${grants}`, owner],
      [`GetItem ${grants}`, api],
    ];
    for (const [operation, caller] of cases) {
      svc.proxy.clear();
      svc.proxy.fail(operation);
      const result = await introspectRaw(caller, { token: issued.access_token }, {}, fastFailing);
      expectOAuthError(result, 503, 'temporarily_unavailable');
      expect(result.headers?.['Retry-After']).toBe('1');
    }
  });

  it('the owner-client read failing, for a resource server, is 503 too', async () => {
    const owner = await svc.registerClient();
    const api = await svc.registerClient({ grantTypes: ['client_credentials'], resourceServer: true });
    const issued = await svc.login(owner, ALICE);
    // The caller's own client read passes; the second one, for the token's owner, fails.
    svc.proxy.clear();
    svc.proxy.fail(`GetItem ${svc.tables.clients}`, { after: 1 });
    const result = await introspectRaw(api, { token: issued.access_token }, {}, fastFailing);
    expectOAuthError(result, 503, 'temporarily_unavailable');
    expect(svc.proxy.operations).toEqual([
      `GetItem ${svc.tables.clients}`,
      `GetItem ${svc.tables.grants}`,
      `GetItem ${svc.tables.clients}`,
    ]);
  });
});
