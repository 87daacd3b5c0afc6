import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_REQUIREMENTS_VARIABLE } from '../../lambdas/core/route-requirements';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import type { TableNames } from '../../lambdas/store/table-definitions';
import {
  authorizerRequest,
  basicAuthorization,
  bearerAuthorization,
  CLIENT_TOKEN_KEYS,
  expectOAuthError,
  expectTokenResponse,
  PREVIOUS_SECRET_STATUS_KEYS,
  PRINTABLE_DESCRIPTION,
  type TokenBody,
  tokenRequest,
  USER_TOKEN_KEYS,
} from '../support/api-gateway-events';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';

const USERS = {
  frank: { password: 'frank-admin-pw', userId: 5150 },
  frank_text: { password: 'frank-text-admin-pw', userId: '5150' },
  gina: { password: 'gina-admin-pw', userId: 'g-7' },
  hank: { password: 'hank-admin-pw', userId: 'h-9' },
  ivy: { password: 'ivy-admin-pw', userId: 'i-3' },
  jack: { password: 'jack-admin-pw', userId: 'j-5' },
} as const;
type Username = keyof typeof USERS;

let dynamo: DynamoDbClients;
let backend: ServiceBackend;
const tables: TableNames = { clients: 'admin-clients', grants: 'admin-grants' };
let adminHandler: ReturnType<typeof buildAdminLambda>;
let tokenHandler: ReturnType<typeof buildTokenLambda>;
let authorizerHandler: ReturnType<typeof buildAuthorizerLambda>;

beforeAll(async () => {
  backend = await startServiceBackend({ tables, hookSecret: 'admin-hook-secret', users: USERS });
  ({ dynamo } = backend);
  const env = backend.environment();
  adminHandler = buildAdminLambda(env);
  tokenHandler = buildTokenLambda(env);
  authorizerHandler = buildAuthorizerLambda(env);
});

afterAll(async () => {
  await backend?.stop();
});

interface Client {
  readonly client_id: string;
  readonly client_secret: string;
}

const admin = async (payload: unknown): Promise<Record<string, unknown>> =>
  (await adminHandler(payload, localLambdaContext('admin'))) as Record<string, unknown>;

async function createClient(
  grantTypes: readonly string[] = ['password', 'refresh_token', 'client_credentials'],
  scope = '',
): Promise<Client> {
  const created = await admin({
    action: 'create-client',
    name: 'admin-test',
    grant_types: grantTypes,
    scope,
  });
  expect(created).toMatchObject({ client_id: expect.any(String), client_secret: expect.any(String) });
  return created as unknown as Client;
}

const tokenCall = (client: Client, body: Record<string, string>): Promise<APIGatewayProxyResult> =>
  tokenHandler(
    tokenRequest({
      headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
      body,
    }),
    localLambdaContext('token'),
  );

const login = async (client: Client, username: Username): Promise<TokenBody> =>
  expectTokenResponse(
    await tokenCall(client, { grant_type: 'password', username, password: USERS[username].password }),
    USER_TOKEN_KEYS,
  );

const clientCredentials = async (client: Client): Promise<TokenBody> =>
  expectTokenResponse(await tokenCall(client, { grant_type: 'client_credentials' }), CLIENT_TOKEN_KEYS);

/** The authorizer's answer on a route that accepts client tokens too: only validity decides. */
async function authorize(accessToken: string): Promise<string> {
  try {
    const result = await authorizerHandler(
      authorizerRequest({
        authorization: bearerAuthorization(accessToken),
        stageVariables: { [API_REQUIREMENTS_VARIABLE]: 'tokens=any' },
      }),
      localLambdaContext('authorizer'),
    );
    const [statement] = result.policyDocument.Statement;
    return statement !== undefined && 'Effect' in statement ? statement.Effect : 'no statement';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const refresh = (client: Client, refreshToken: string | undefined) =>
  tokenCall(client, { grant_type: 'refresh_token', refresh_token: refreshToken ?? '' });

describe('create-client', () => {
  it('answers client_id, client_secret, name, grant_types, scope, created_at, redirect_uris, token_endpoint_auth_method and resource_server, in that order', async () => {
    const before = Date.now();
    const created = await admin({
      action: 'create-client',
      name: 'Mobile app',
      grant_types: ['password', 'refresh_token', 'password'],
      scope: 'read write',
    });
    expect(Object.keys(created)).toEqual([
      'client_id',
      'client_secret',
      'name',
      'grant_types',
      'scope',
      'created_at',
      'redirect_uris',
      'token_endpoint_auth_method',
      'resource_server',
    ]);
    expect(created).toMatchObject({
      name: 'Mobile app',
      grant_types: ['password', 'refresh_token'],
      scope: 'read write',
      resource_server: false,
    });
    expect(created.client_id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    // 256 bits, URL-safe.
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const createdAt = Date.parse(String(created.created_at));
    expect(createdAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(createdAt).toBeLessThanOrEqual(Date.now());
  });

  it('creates a client that can authenticate at once with the grants it was given', async () => {
    const client = await createClient(['client_credentials'], 'reports');
    const body = expectTokenResponse(await tokenCall(client, { grant_type: 'client_credentials' }), [
      ...CLIENT_TOKEN_KEYS,
      'scope',
    ]);
    expect(body.scope).toBe('reports');
    expectOAuthError(
      await tokenCall(client, { grant_type: 'password', username: 'frank', password: USERS.frank.password }),
      400,
      'unauthorized_client',
    );
  });

  it('creates a resource server when resource_server is true, and says so in create and list', async () => {
    const created = await admin({
      action: 'create-client',
      name: 'orders-api',
      grant_types: ['client_credentials'],
      resource_server: true,
    });
    expect(created).toMatchObject({ grant_types: ['client_credentials'], resource_server: true });
    const plain = await admin({
      action: 'create-client',
      name: 'web',
      grant_types: ['password'],
      resource_server: false,
    });
    expect(plain.resource_server).toBe(false);
    const listed = (await admin({ action: 'list-clients' })).clients as Record<string, unknown>[];
    expect(listed.find((entry) => entry.client_id === created.client_id)).toMatchObject({
      resource_server: true,
      disabled: false,
    });
    expect(listed.find((entry) => entry.client_id === plain.client_id)).toMatchObject({
      resource_server: false,
    });
    const { Items = [] } = await dynamo.doc.send(
      new ScanCommand({ TableName: tables.clients, ConsistentRead: true }),
    );
    expect(Items.find((item) => item.clientId === created.client_id)).toMatchObject({ resourceServer: true });
    // A resource server is an ordinary client at the token endpoint.
    await clientCredentials(created as unknown as Client);
  });

  it('refuses a per-client access-token lifetime below the authorizer cache TTL (invalid_request), nothing stored', async () => {
    const cached = buildAdminLambda(backend.environment({ AUTHORIZER_CACHE_TTL_SECONDS: '300' }));
    const run = async (payload: unknown) =>
      (await cached(payload, localLambdaContext('admin'))) as Record<string, unknown>;
    const before = (await run({ action: 'list-clients' })).clients as unknown[];
    const refused = await run({
      action: 'create-client',
      name: 'shorter-than-the-cache',
      grant_types: ['client_credentials'],
      access_token_ttl_seconds: 299,
    });
    expect(refused.error).toBe('invalid_request');
    expect(String(refused.error_description)).toMatch(/authorizer cache TTL \(300 s\)/);
    expect(((await run({ action: 'list-clients' })).clients as unknown[]).length).toBe(before.length);
    // At the cache TTL, and without a per-client lifetime (the service's, checked at synth), it is fine.
    const atTtl = await run({
      action: 'create-client',
      name: 'as-long-as-the-cache',
      grant_types: ['client_credentials'],
      access_token_ttl_seconds: 300,
    });
    expect(atTtl.access_token_ttl_seconds).toBe(300);
    expect(
      (await run({ action: 'create-client', name: 'default-ttl', grant_types: ['client_credentials'] }))
        .client_secret,
    ).toEqual(expect.any(String));
    // Without the cache (the default), the shortest lifetime of TOKEN_LIFETIME_BOUNDS is accepted.
    expect(
      (
        await admin({
          action: 'create-client',
          name: 'one-minute',
          grant_types: ['client_credentials'],
          access_token_ttl_seconds: 60,
        })
      ).access_token_ttl_seconds,
    ).toBe(60);
  });

  it('keeps per-client default scope and token lifetimes, shown in create and list only when set', async () => {
    const created = await admin({
      action: 'create-client',
      name: 'short-lived',
      grant_types: ['client_credentials'],
      scope: 'read write',
      default_scope: 'read',
      access_token_ttl_seconds: 60,
      refresh_token_ttl_seconds: 31_536_000,
    });
    expect(created).toMatchObject({
      scope: 'read write',
      default_scope: 'read',
      access_token_ttl_seconds: 60,
      refresh_token_ttl_seconds: 31_536_000,
    });
    const plain = await createClient(['client_credentials'], 'read');
    const listed = (await admin({ action: 'list-clients' })).clients as Record<string, unknown>[];
    expect(listed.find((entry) => entry.client_id === created.client_id)).toMatchObject({
      default_scope: 'read',
      access_token_ttl_seconds: 60,
    });
    const plainListed = listed.find((entry) => entry.client_id === plain.client_id);
    for (const key of ['default_scope', 'access_token_ttl_seconds', 'refresh_token_ttl_seconds']) {
      expect(plainListed).not.toHaveProperty(key);
    }
    const body = expectTokenResponse(
      await tokenCall(created as unknown as Client, { grant_type: 'client_credentials' }),
      [...CLIENT_TOKEN_KEYS, 'scope'],
    );
    expect(body).toMatchObject({ scope: 'read', expires_in: 60 });
  });

  it('stores only the hash of the secret', async () => {
    const client = await createClient();
    const { Items = [] } = await dynamo.doc.send(
      new ScanCommand({ TableName: tables.clients, ConsistentRead: true }),
    );
    const item = Items.find((candidate) => candidate.clientId === client.client_id);
    expect(item).toBeDefined();
    expect(JSON.stringify(Items)).not.toContain(client.client_secret);
  });
});

describe('list-clients', () => {
  it('lists every client without secrets or hashes', async () => {
    const first = await createClient();
    const second = await createClient(['client_credentials'], 'a b');
    const listed = await admin({ action: 'list-clients' });
    expect(Object.keys(listed)).toEqual(['clients']);
    const clients = listed.clients as Record<string, unknown>[];
    const optional = [
      'default_scope',
      'access_token_ttl_seconds',
      'refresh_token_ttl_seconds',
      'previous_secret_expires_at',
    ];
    for (const client of clients) {
      // Per-client settings appear only on clients that have them.
      expect(Object.keys(client).filter((key) => !optional.includes(key))).toEqual([
        'client_id',
        'name',
        'grant_types',
        'scope',
        'created_at',
        'disabled',
        'resource_server',
        'redirect_uris',
        'token_endpoint_auth_method',
        'previous_secret_live',
      ]);
    }
    const ids = clients.map((client) => client.client_id);
    expect(ids).toEqual(expect.arrayContaining([first.client_id, second.client_id]));
    expect(clients.find((client) => client.client_id === second.client_id)).toMatchObject({
      grant_types: ['client_credentials'],
      scope: 'a b',
      created_at: expect.any(String),
    });

    const { Items = [] } = await dynamo.doc.send(
      new ScanCommand({ TableName: tables.clients, ConsistentRead: true }),
    );
    const hashes = Items.map((item) => String(item.secretHash));
    expect(hashes.length).toBe(clients.length);
    const text = JSON.stringify(listed);
    for (const client of clients) {
      expect(
        Object.keys(client).filter(
          (key) => /secret|hash/i.test(key) && !PREVIOUS_SECRET_STATUS_KEYS.includes(key),
        ),
      ).toEqual([]);
    }
    for (const value of [first.client_secret, second.client_secret, ...hashes]) {
      expect(text.includes(value)).toBe(false);
    }
  });
});

describe('rotate-secret', () => {
  it('returns a new secret that works; the old one stops working at once', async () => {
    const client = await createClient();
    await clientCredentials(client);
    const rotated = await admin({ action: 'rotate-secret', client_id: client.client_id });
    expect(rotated).toMatchObject({ client_id: client.client_id, client_secret: expect.any(String) });
    expect(rotated.client_secret).not.toBe(client.client_secret);
    const renewed = { client_id: client.client_id, client_secret: String(rotated.client_secret) };
    await clientCredentials(renewed);
    const old = await tokenCall(client, { grant_type: 'client_credentials' });
    expectOAuthError(old, 401, 'invalid_client');
    expect(old.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="/);
  });

  it('keep_previous_seconds: both secrets work during the overlap, the old one stops at its end', async () => {
    const client = await createClient();
    const before = Math.floor(Date.now() / 1000);
    const rotated = await admin({
      action: 'rotate-secret',
      client_id: client.client_id,
      keep_previous_seconds: 3,
    });
    const until = Date.parse(String(rotated.previous_secret_expires_at)) / 1000;
    expect(until - Date.parse(String(rotated.rotated_at)) / 1000).toBe(3);
    const renewed = { client_id: client.client_id, client_secret: String(rotated.client_secret) };
    await clientCredentials(renewed);
    await clientCredentials(client);
    const listed = (await admin({ action: 'list-clients' })).clients as Record<string, unknown>[];
    expect(listed.find((entry) => entry.client_id === client.client_id)).toMatchObject({
      previous_secret_live: true,
      previous_secret_expires_at: rotated.previous_secret_expires_at,
    });
    // No sweep runs: the end is checked by the request itself.
    await new Promise((resolve) => setTimeout(resolve, (until - before + 1) * 1000));
    expectOAuthError(await tokenCall(client, { grant_type: 'client_credentials' }), 401, 'invalid_client');
    await clientCredentials(renewed);
    const after = (await admin({ action: 'list-clients' })).clients as Record<string, unknown>[];
    const entry = after.find((candidate) => candidate.client_id === client.client_id);
    expect(entry).toMatchObject({ previous_secret_live: false });
    expect(entry).not.toHaveProperty('previous_secret_expires_at');
  }, 15_000);

  it('keep_previous_seconds above 30 days, negative or not an integer is invalid_request', async () => {
    const client = await createClient();
    for (const keep of [2_592_001, -1, 1.5, '60']) {
      const result = await admin({
        action: 'rotate-secret',
        client_id: client.client_id,
        keep_previous_seconds: keep,
      });
      expect(result).toMatchObject({ error: 'invalid_request' });
    }
    await clientCredentials(client);
    const max = await admin({
      action: 'rotate-secret',
      client_id: client.client_id,
      keep_previous_seconds: 2_592_000,
    });
    expect(max).toMatchObject({ previous_secret_expires_at: expect.any(String) });
  });

  it('answers invalid_request for an unknown client and creates nothing', async () => {
    const before = ((await admin({ action: 'list-clients' })).clients as unknown[]).length;
    const result = await admin({ action: 'rotate-secret', client_id: 'no-such-client' });
    expect(result).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(PRINTABLE_DESCRIPTION),
    });
    expect(((await admin({ action: 'list-clients' })).clients as unknown[]).length).toBe(before);
  });
});

describe('disable-client', () => {
  it('stops the client authenticating and every token it holds from working', async () => {
    const client = await createClient();
    const bystanderClient = await createClient();
    const user = await login(client, 'gina');
    const service = await clientCredentials(client);
    const bystander = await login(bystanderClient, 'gina');
    expect(await authorize(user.access_token)).toBe('Allow');

    const result = await admin({ action: 'disable-client', client_id: client.client_id });
    expect(result).toEqual({ client_id: client.client_id, disabled: true, revoked_grants: 2 });

    expectOAuthError(await tokenCall(client, { grant_type: 'client_credentials' }), 401, 'invalid_client');
    expectOAuthError(await refresh(client, user.refresh_token), 401, 'invalid_client');
    expect(await authorize(user.access_token)).toBe('Unauthorized');
    expect(await authorize(service.access_token)).toBe('Unauthorized');
    expect(await authorize(bystander.access_token)).toBe('Allow');
    const listed = (await admin({ action: 'list-clients' })).clients as Record<string, unknown>[];
    expect(listed.find((entry) => entry.client_id === client.client_id)).toMatchObject({ disabled: true });
  });

  it('answers invalid_request for an unknown client', async () => {
    expect(await admin({ action: 'disable-client', client_id: 'no-such-client' })).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(PRINTABLE_DESCRIPTION),
    });
  });
});

describe('revoke-user-tokens', () => {
  it('revokes every grant of the user across clients and JSON spellings, and nothing else', async () => {
    const web = await createClient();
    const mobile = await createClient();
    const frankWeb = await login(web, 'frank');
    const frankMobile = await login(mobile, 'frank');
    // "5150" and 5150 are the same user.
    const frankText = await login(web, 'frank_text');
    const gina = await login(web, 'gina');
    const service = await clientCredentials(web);

    const result = await admin({ action: 'revoke-user-tokens', user_id: 5150 });
    expect(result).toEqual({ user_id: 5150, revoked_grants: 3 });

    for (const revoked of [frankWeb, frankMobile, frankText]) {
      expect(await authorize(revoked.access_token)).toBe('Unauthorized');
    }
    expectOAuthError(await refresh(web, frankWeb.refresh_token), 400, 'invalid_grant');
    expectOAuthError(await refresh(mobile, frankMobile.refresh_token), 400, 'invalid_grant');
    expect(await authorize(gina.access_token)).toBe('Allow');
    expect(await authorize(service.access_token)).toBe('Allow');
    expectTokenResponse(await refresh(web, gina.refresh_token), USER_TOKEN_KEYS);
    // The user can log in again afterwards.
    expect(await authorize((await login(web, 'frank')).access_token)).toBe('Allow');
  });

  it('accepts a string user id and answers it with its type', async () => {
    const client = await createClient();
    const hank = await login(client, 'hank');
    expect(await admin({ action: 'revoke-user-tokens', user_id: 'h-9' })).toEqual({
      user_id: 'h-9',
      revoked_grants: 1,
    });
    expect(await authorize(hank.access_token)).toBe('Unauthorized');
  });

  it('counts only grants this call revoked: repeating it counts zero', async () => {
    const client = await createClient();
    await login(client, 'jack');
    await login(client, 'jack');
    const again = { action: 'revoke-user-tokens', user_id: 'j-5' };
    expect(await admin(again)).toEqual({ user_id: 'j-5', revoked_grants: 2 });
    expect(await admin(again)).toEqual({ user_id: 'j-5', revoked_grants: 0 });
  });

  it('answers zero for a user without grants', async () => {
    expect(await admin({ action: 'revoke-user-tokens', user_id: 'nobody' })).toEqual({
      user_id: 'nobody',
      revoked_grants: 0,
    });
  });
});

describe('unlock-username', () => {
  it('lets a locked-out username sign in again at once (case variants included), and only that one', async () => {
    const client = await createClient(['password']);
    const fail = (username: string) =>
      tokenCall(client, { grant_type: 'password', username, password: 'wrong' });
    for (let i = 0; i < 5; i += 1) {
      await fail('ivy');
      await fail('hank');
    }
    const locked = (result: APIGatewayProxyResult) =>
      String((JSON.parse(result.body) as { error_description?: string }).error_description).startsWith(
        'Too many',
      );
    expect(
      locked(
        await tokenCall(client, { grant_type: 'password', username: 'ivy', password: USERS.ivy.password }),
      ),
    ).toBe(true);

    expect(await admin({ action: 'unlock-username', username: 'IVY' })).toEqual({
      username: 'IVY',
      unlocked: true,
    });
    await login(client, 'ivy');
    expect(
      locked(
        await tokenCall(client, { grant_type: 'password', username: 'hank', password: USERS.hank.password }),
      ),
    ).toBe(true);
    // Unlocking a name that never failed is harmless.
    expect(await admin({ action: 'unlock-username', username: 'nobody' })).toEqual({
      username: 'nobody',
      unlocked: true,
    });
  });

  it('needs a username', async () => {
    expect(await admin({ action: 'unlock-username' })).toMatchObject({ error: 'invalid_request' });
    expect(await admin({ action: 'unlock-username', username: '' })).toMatchObject({
      error: 'invalid_request',
    });
  });
});

describe('bad payloads', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'create-client'],
    ['a number', 42],
    ['an array', [{ action: 'list-clients' }]],
    ['an object without action', {}],
    ['an unknown action', { action: 'delete-everything' }],
    ['an inherited property as action', { action: 'toString' }],
    ['a misspelt field', { action: 'create-client', name: 'x', grant_type: ['password'] }],
    ['create-client without a name', { action: 'create-client', grant_types: ['password'] }],
    ['create-client with a blank name', { action: 'create-client', name: '  ', grant_types: ['password'] }],
    [
      'create-client with a huge name',
      { action: 'create-client', name: 'n'.repeat(5000), grant_types: ['password'] },
    ],
    ['create-client without grant types', { action: 'create-client', name: 'x', grant_types: [] }],
    [
      'create-client with an unknown grant type',
      { action: 'create-client', name: 'x', grant_types: ['implicit'] },
    ],
    [
      'create-client with grant types as a string',
      { action: 'create-client', name: 'x', grant_types: 'password' },
    ],
    [
      'create-client with a malformed scope',
      { action: 'create-client', name: 'x', grant_types: ['password'], scope: 'a  "b"' },
    ],
    [
      'create-client with a tab in the scope',
      { action: 'create-client', name: 'x', grant_types: ['password'], scope: 'a\tb' },
    ],
    [
      'create-client with scope as an array',
      { action: 'create-client', name: 'x', grant_types: ['password'], scope: ['a'] },
    ],
    [
      'create-client with a default scope outside its scope',
      { action: 'create-client', name: 'x', grant_types: ['password'], scope: 'a b', default_scope: 'a c' },
    ],
    [
      'create-client with a malformed default scope',
      { action: 'create-client', name: 'x', grant_types: ['password'], scope: 'a', default_scope: 'a\tb' },
    ],
    [
      'create-client with an access token lifetime below 60 s',
      { action: 'create-client', name: 'x', grant_types: ['password'], access_token_ttl_seconds: 59 },
    ],
    [
      'create-client with an access token lifetime over a day',
      { action: 'create-client', name: 'x', grant_types: ['password'], access_token_ttl_seconds: 86_401 },
    ],
    [
      'create-client with a lifetime as a string',
      { action: 'create-client', name: 'x', grant_types: ['password'], refresh_token_ttl_seconds: '3600' },
    ],
    [
      'create-client with a fractional lifetime',
      { action: 'create-client', name: 'x', grant_types: ['password'], refresh_token_ttl_seconds: 3600.5 },
    ],
    [
      'create-client with a refresh token lifetime over a year',
      {
        action: 'create-client',
        name: 'x',
        grant_types: ['password'],
        refresh_token_ttl_seconds: 31_536_001,
      },
    ],
    [
      'create-client with resource_server as a string',
      { action: 'create-client', name: 'x', grant_types: ['client_credentials'], resource_server: 'true' },
    ],
    [
      'create-client with resource_server as a number',
      { action: 'create-client', name: 'x', grant_types: ['client_credentials'], resource_server: 1 },
    ],
    [
      'create-client with resource_server null',
      { action: 'create-client', name: 'x', grant_types: ['client_credentials'], resource_server: null },
    ],
    ['rotate-secret without client_id', { action: 'rotate-secret' }],
    ['rotate-secret with a numeric client_id', { action: 'rotate-secret', client_id: 7 }],
    ['disable-client with an empty client_id', { action: 'disable-client', client_id: '' }],
    ['revoke-user-tokens without user_id', { action: 'revoke-user-tokens' }],
    ['revoke-user-tokens with an empty user_id', { action: 'revoke-user-tokens', user_id: '' }],
    ['revoke-user-tokens with an object user_id', { action: 'revoke-user-tokens', user_id: { id: 1 } }],
    ['revoke-user-tokens with a boolean user_id', { action: 'revoke-user-tokens', user_id: true }],
    ['a field name with control characters', { action: 'list-clients', 'x\u0000"\\\u00ff': 1 }],
  ])('answers %s with {"error":"invalid_request","error_description"}', async (_name, payload) => {
    const before = ((await admin({ action: 'list-clients' })).clients as unknown[]).length;
    const result = await admin(payload);
    expect(Object.keys(result)).toEqual(['error', 'error_description']);
    expect(result.error).toBe('invalid_request');
    expect(result.error_description).toMatch(PRINTABLE_DESCRIPTION);
    expect(((await admin({ action: 'list-clients' })).clients as unknown[]).length).toBe(before);
  });
});
