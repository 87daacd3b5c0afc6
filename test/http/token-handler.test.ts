import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAuthCheck, parseAuthCheckUrl } from '../../lambdas/auth-check/http-auth-check';
import { noAudit } from '../../lambdas/core/audit-event';
import { API_REQUIREMENTS_VARIABLE } from '../../lambdas/core/route-requirements';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG } from '../../lambdas/core/token-endpoint-config';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import { ConfigurationError } from '../../lambdas/handlers/configuration-error';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { createAuthorizerHandler } from '../../lambdas/http/authorizer-handler';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { createTokenHandler } from '../../lambdas/http/token-handler';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbClientStore } from '../../lambdas/store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../../lambdas/store/dynamodb-grant-store';
import { DynamoDbLockoutStore } from '../../lambdas/store/dynamodb-lockout-store';
import type { TableNames } from '../../lambdas/store/table-definitions';
import {
  authorizerRequest,
  basicAuthorization,
  basicAuthorizationOfBytes,
  bearerAuthorization,
  CLIENT_TOKEN_KEYS,
  expectOAuthError,
  expectTokenResponse,
  type FormFields,
  formEncode,
  type HeaderOverrides,
  SCOPED_USER_TOKEN_KEYS,
  type TokenBody,
  tokenRequest,
  USER_TOKEN_KEYS,
} from '../support/api-gateway-events';
import type { AuthCheckHookServer } from '../support/auth-check-hook-server';
import { testLockoutKeySecret } from '../support/lockout-key-secret';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';

const HOOK_SECRET = 'token-handler-test-hook-secret';
const ALICE = { username: 'alice', password: 'alice-Pw-7c1e9-secret', userId: 1234 } as const;
const BOB = { username: 'bob', password: 'bob-Pw-2b8d4-secret', userId: 'u-1' } as const;
/** Only the revocation tests log dave in: revoking a user must not disturb the other tests. */
const DAVE = { username: 'dave', password: 'dave-Pw-90af1-secret', userId: 4242 } as const;
/** Only the lockout tests fail erin's password: a locked username must not disturb the other tests. */
const ERIN = { username: 'erin', password: 'erin-Pw-31c7a-secret', userId: 'u-erin' } as const;
type User = { readonly username: string; readonly password: string; readonly userId: string | number };

const ALL_GRANTS = ['password', 'refresh_token', 'client_credentials'] as const;
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

let dynamo: DynamoDbClients;
let hook: AuthCheckHookServer;
let backend: ServiceBackend;
const tables: TableNames = { clients: 'token-test-clients', grants: 'token-test-grants' };

type TokenHandler = ReturnType<typeof buildTokenLambda>;
type AuthorizerHandler = ReturnType<typeof buildAuthorizerLambda>;
let tokenHandler: TokenHandler;
let authorizerHandler: AuthorizerHandler;
let adminHandler: ReturnType<typeof buildAdminLambda>;

const environment = (extra: Environment = {}): Environment => backend.environment(extra);

beforeAll(async () => {
  backend = await startServiceBackend({
    tables,
    hookSecret: HOOK_SECRET,
    users: { alice: ALICE, bob: BOB, dave: DAVE, erin: ERIN },
  });
  ({ hook, dynamo } = backend);
  tokenHandler = buildTokenLambda(environment());
  authorizerHandler = buildAuthorizerLambda(environment());
  adminHandler = buildAdminLambda(environment());
});

afterAll(async () => {
  await backend?.stop();
});

// ---- helpers --------------------------------------------------------------------------------------

interface Client {
  readonly client_id: string;
  readonly client_secret: string;
}

const callToken = (
  event: APIGatewayProxyEvent,
  handler: TokenHandler = tokenHandler,
): Promise<APIGatewayProxyResult> => handler(event, localLambdaContext('token'));

/** 'Allow' or the message the authorizer threw. */
async function authorize(
  accessToken: string,
  handler: AuthorizerHandler = authorizerHandler,
  stageVariables?: Record<string, string>,
): Promise<string> {
  try {
    const result = await handler(
      authorizerRequest({
        authorization: bearerAuthorization(accessToken),
        ...(stageVariables === undefined ? {} : { stageVariables }),
      }),
      localLambdaContext('authorizer'),
    );
    const [statement] = result.policyDocument.Statement;
    return statement !== undefined && 'Effect' in statement ? statement.Effect : 'no statement';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const runAdmin = async (payload: unknown): Promise<Record<string, unknown>> =>
  (await adminHandler(payload, localLambdaContext('admin'))) as Record<string, unknown>;

async function registerClient(grantTypes: readonly string[] = ALL_GRANTS, scope?: string): Promise<Client> {
  const created = await runAdmin({
    action: 'create-client',
    name: 'token-handler-test',
    grant_types: grantTypes,
    ...(scope === undefined ? {} : { scope }),
  });
  expect(created).toMatchObject({ client_id: expect.any(String), client_secret: expect.any(String) });
  return created as unknown as Client;
}

const basicOf = (client: Client): HeaderOverrides => ({
  Authorization: basicAuthorization(client.client_id, client.client_secret),
});

const passwordRequest = (client: Client, user: User = ALICE, extra: Record<string, string> = {}) =>
  tokenRequest({
    headers: basicOf(client),
    body: { grant_type: 'password', username: user.username, password: user.password, ...extra },
  });

const refreshRequest = (client: Client, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest({
    headers: basicOf(client),
    body: { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
  });

const clientCredentialsRequest = (client: Client, extra: Record<string, string> = {}) =>
  tokenRequest({ headers: basicOf(client), body: { grant_type: 'client_credentials', ...extra } });

async function issuePassword(client: Client, user: User = ALICE, handler: TokenHandler = tokenHandler) {
  return expectTokenResponse(await callToken(passwordRequest(client, user), handler), USER_TOKEN_KEYS);
}

const refreshTokenOf = (body: TokenBody): string => {
  expect(body.refresh_token).toMatch(TOKEN_FORMAT);
  return body.refresh_token as string;
};

const grantIdOf = (token: string): string => token.slice(0, token.indexOf('.'));

async function scanAll(tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

const countGrants = async (clientId: string): Promise<number> =>
  (await scanAll(tables.grants)).filter((item) => item.clientId === clientId).length;

// ---- request shape ----------------------------------------------------------------------------------

describe('request shape', () => {
  it.each(['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'post'])(
    'answers %s with 405, Allow: POST and an OAuth error body',
    async (method) => {
      const client = await registerClient();
      const result = await callToken({ ...passwordRequest(client), httpMethod: method });
      expectOAuthError(result, 405, 'invalid_request');
      expect(result.headers?.Allow).toBe('POST');
    },
  );

  it.each([
    ['no Content-Type', undefined],
    ['application/json', 'application/json'],
    ['text/plain', 'text/plain'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['a form type with a suffix', 'application/x-www-form-urlencoded-evil'],
  ])('refuses a body sent as %s with 400 invalid_request', async (_name, contentType) => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: { ...basicOf(client), 'Content-Type': contentType },
      body: { grant_type: 'client_credentials' },
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it.each([
    'application/x-www-form-urlencoded; charset=UTF-8',
    'application/x-www-form-urlencoded;charset=utf-8',
    'Application/X-WWW-Form-Urlencoded',
  ])('accepts Content-Type %s', async (contentType) => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: { ...basicOf(client), 'content-type': contentType },
      body: { grant_type: 'client_credentials' },
    });
    expectTokenResponse(await callToken(event), CLIENT_TOKEN_KEYS);
  });

  it.each([
    ['a grant parameter', { grant_type: 'client_credentials' }],
    ['the client secret', { client_secret: 'x' }],
    ['an unrelated parameter', { utm_source: 'mail' }],
    ['an empty parameter', { debug: '' }],
  ])(
    'refuses %s in the query string with 400 invalid_request, even with a valid body',
    async (_name, query) => {
      const client = await registerClient();
      const event = tokenRequest({
        headers: basicOf(client),
        body: { grant_type: 'client_credentials' },
        query,
      });
      expectOAuthError(await callToken(event), 400, 'invalid_request');
      expect(await countGrants(client.client_id)).toBe(0);
    },
  );

  it('refuses query parameters that only appear in multiValueQueryStringParameters', async () => {
    const client = await registerClient();
    const event = {
      ...tokenRequest({ headers: basicOf(client), body: { grant_type: 'client_credentials' } }),
      multiValueQueryStringParameters: { scope: ['a', 'b'] },
    };
    expectOAuthError(await callToken(event), 400, 'invalid_request');
  });

  it.each<[string, FormFields]>([
    [
      'grant_type',
      [
        ['grant_type', 'client_credentials'],
        ['grant_type', 'client_credentials'],
      ],
    ],
    [
      'scope (one of them empty)',
      [
        ['grant_type', 'client_credentials'],
        ['scope', ''],
        ['scope', ''],
      ],
    ],
    [
      'username',
      [
        ['grant_type', 'password'],
        ['username', ALICE.username],
        ['username', ALICE.username],
        ['password', ALICE.password],
      ],
    ],
  ])('refuses a repeated %s with 400 invalid_request', async (_name, body) => {
    const client = await registerClient();
    const event = tokenRequest({ headers: basicOf(client), body });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it('refuses a repeated client_id in the body with 400 invalid_request', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      body: [
        ['grant_type', 'client_credentials'],
        ['client_id', client.client_id],
        ['client_id', client.client_id],
        ['client_secret', client.client_secret],
      ],
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
  });

  it('treats a percent-encoded parameter name as the same parameter when checking repeats', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: 'grant_type=client_credentials&grant%5Ftype=client_credentials',
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
  });

  it.each([
    ['a malformed %-escape', 'grant_type=client_credentials&scope=%E0%A4%A'],
    ['a %-escape that is not UTF-8', 'grant_type=client_credentials&x=%FF'],
  ])('answers a body with %s with 400 invalid_request', async (_name, body) => {
    const client = await registerClient();
    expectOAuthError(
      await callToken(tokenRequest({ headers: basicOf(client), body })),
      400,
      'invalid_request',
    );
  });

  it('answers a base64 body that is not UTF-8 with 400 invalid_request', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: Buffer.from([0x67, 0x72, 0xff, 0xfe, 0x3d]).toString('base64'),
      isBase64Encoded: true,
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
  });

  it('decodes a base64-encoded form body', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: Buffer.from('grant_type=client_credentials').toString('base64'),
      isBase64Encoded: true,
    });
    expectTokenResponse(await callToken(event), CLIENT_TOKEN_KEYS);
  });

  it('answers a huge body with a 4xx invalid_request, never a 5xx', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: `grant_type=client_credentials&padding=${'a'.repeat(200_000)}`,
    });
    const result = await callToken(event);
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expectOAuthError(result, result.statusCode, 'invalid_request');
    expect(result.statusCode).toBeLessThan(500);
  });
});

// ---- HTTPS ------------------------------------------------------------------------------------------

describe('HTTPS', () => {
  it.each([
    ['without X-Forwarded-Proto', undefined],
    ['with X-Forwarded-Proto: http', 'http'],
    ['with X-Forwarded-Proto: httpsx', 'httpsx'],
  ])('refuses a request %s with 400 invalid_request by default', async (_name, proto) => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: { ...basicOf(client), 'X-Forwarded-Proto': proto },
      body: { grant_type: 'client_credentials' },
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it('accepts the header in any case and the first hop of a list', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: { ...basicOf(client), 'X-Forwarded-Proto': undefined, 'x-forwarded-proto': 'HTTPS, http' },
      body: { grant_type: 'client_credentials' },
    });
    expectTokenResponse(await callToken(event), CLIENT_TOKEN_KEYS);
  });

  it('allows plain HTTP only when REQUIRE_SSL is exactly "false"', async () => {
    const insecure = buildTokenLambda(environment({ REQUIRE_SSL: 'false' }));
    const client = await registerClient();
    const event = tokenRequest({
      headers: { ...basicOf(client), 'X-Forwarded-Proto': 'http' },
      body: { grant_type: 'client_credentials' },
    });
    expectTokenResponse(await callToken(event, insecure), CLIENT_TOKEN_KEYS);
    const secure = buildTokenLambda(environment({ REQUIRE_SSL: 'true' }));
    expectOAuthError(await callToken(event, secure), 400, 'invalid_request');
  });

  it.each(['False', 'FALSE', '0', 'no', '', ' false'])(
    'fails at build time for REQUIRE_SSL=%j instead of silently disabling HTTPS',
    (value) => {
      expect(() => buildTokenLambda(environment({ REQUIRE_SSL: value }))).toThrow(ConfigurationError);
    },
  );
});

// ---- client authentication ----------------------------------------------------------------------------

describe('client authentication', () => {
  it('accepts HTTP Basic with each half form-urlencoded before base64 (RFC 6749 §2.3.1)', async () => {
    const client = await registerClient();
    const percentAll = (value: string) =>
      [...value].map((char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const event = tokenRequest({
      headers: {
        Authorization: basicAuthorizationOfBytes(
          `${percentAll(client.client_id)}:${percentAll(client.client_secret)}`,
        ),
      },
      body: { grant_type: 'client_credentials' },
    });
    expectTokenResponse(await callToken(event), CLIENT_TOKEN_KEYS);
  });

  it('accepts the Basic scheme case-insensitively', async () => {
    const client = await registerClient();
    const encoded = Buffer.from(
      `${formEncode(client.client_id)}:${formEncode(client.client_secret)}`,
    ).toString('base64');
    const event = tokenRequest({
      headers: { authorization: `basic ${encoded}` },
      body: { grant_type: 'client_credentials' },
    });
    expectTokenResponse(await callToken(event), CLIENT_TOKEN_KEYS);
  });

  it('accepts client_id and client_secret in the body', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      body: {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      },
    });
    expectTokenResponse(await callToken(event), CLIENT_TOKEN_KEYS);
  });

  it('refuses Basic and body credentials at once with 400 invalid_request', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      },
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it('gives the same 401 invalid_client with a Basic challenge whichever check failed', async () => {
    const client = await registerClient();
    const disabled = await registerClient();
    expect(await runAdmin({ action: 'disable-client', client_id: disabled.client_id })).toMatchObject({
      disabled: true,
    });
    const body = { grant_type: 'client_credentials' };
    const failures: Record<string, APIGatewayProxyEvent> = {
      'unknown client': tokenRequest({
        headers: basicOf({ client_id: 'no-such-client', client_secret: 'x' }),
        body,
      }),
      'wrong secret': tokenRequest({
        headers: basicOf({ ...client, client_secret: `${client.client_secret}x` }),
        body,
      }),
      'wrong secret in the body': tokenRequest({
        body: { ...body, client_id: client.client_id, client_secret: 'not-the-secret' },
      }),
      'disabled client': tokenRequest({ headers: basicOf(disabled), body }),
      'bad base64': tokenRequest({ headers: { Authorization: 'Basic !!!notbase64!!!' }, body }),
      'base64 of impossible length': tokenRequest({ headers: { Authorization: 'Basic abcde' }, body }),
      'no colon': tokenRequest({
        headers: { Authorization: basicAuthorizationOfBytes(client.client_id) },
        body,
      }),
      'non-UTF-8 credentials': tokenRequest({
        headers: { Authorization: basicAuthorizationOfBytes(Buffer.from([0x61, 0x3a, 0xff, 0xfe, 0xc3])) },
        body,
      }),
      'malformed %-escape': tokenRequest({
        headers: { Authorization: basicAuthorizationOfBytes('%ZZ:secret') },
        body,
      }),
      'empty Basic': tokenRequest({ headers: { Authorization: 'Basic' }, body }),
      'another scheme': tokenRequest({ headers: { Authorization: 'Bearer abc.def' }, body }),
      'no credentials at all': tokenRequest({ body }),
      'client_id without secret': tokenRequest({ body: { ...body, client_id: client.client_id } }),
    };
    const results = await Promise.all(Object.values(failures).map((event) => callToken(event)));
    const [first] = results;
    for (const result of results) {
      expectOAuthError(result, 401, 'invalid_client');
      expect(result.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="[^"]+"/);
      expect({ headers: result.headers, body: result.body }).toEqual({
        headers: first?.headers,
        body: first?.body,
      });
    }
    expect(results).toHaveLength(Object.keys(failures).length);
    expect(await countGrants(client.client_id)).toBe(0);
    expect(await countGrants(disabled.client_id)).toBe(0);
  });
});

// ---- grants ---------------------------------------------------------------------------------------------

describe('password grant', () => {
  it('answers 200 with no-store headers and the body keys in wire order', async () => {
    const client = await registerClient();
    const result = await callToken(passwordRequest(client));
    const body = expectTokenResponse(result, USER_TOKEN_KEYS);
    expect(result.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    });
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600, user_id: 1234 });
    expect(result.body).toContain('"user_id":1234');
    expect(await authorize(body.access_token)).toBe('Allow');
  });

  it('keeps a string user_id a string', async () => {
    const client = await registerClient();
    const body = await issuePassword(client, BOB);
    expect(body.user_id).toBe('u-1');
    const refreshed = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(body))),
      USER_TOKEN_KEYS,
    );
    expect(refreshed.user_id).toBe('u-1');
  });

  it('passes the username, password and client id to the AuthCheck, signed', async () => {
    const client = await registerClient();
    hook.reset();
    await issuePassword(client);
    expect(hook.requests).toEqual([
      { username: ALICE.username, password: ALICE.password, clientId: client.client_id, signed: true },
    ]);
  });

  it('adds scope last for a scoped client', async () => {
    const client = await registerClient(ALL_GRANTS, 'read write');
    const body = expectTokenResponse(await callToken(passwordRequest(client)), SCOPED_USER_TOKEN_KEYS);
    expect(body.scope).toBe('read write');
    const narrowed = expectTokenResponse(
      await callToken(passwordRequest(client, ALICE, { scope: 'read' })),
      SCOPED_USER_TOKEN_KEYS,
    );
    expect(narrowed.scope).toBe('read');
  });

  it('refuses a scope beyond the client with 400 invalid_scope', async () => {
    const client = await registerClient(ALL_GRANTS, 'read');
    expectOAuthError(
      await callToken(passwordRequest(client, ALICE, { scope: 'read admin' })),
      400,
      'invalid_scope',
    );
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it.each([
    ['a wrong password', { username: ALICE.username, password: 'wrong' }],
    ['an unknown user', { username: 'mallory', password: ALICE.password }],
    ['another user’s password', { username: BOB.username, password: ALICE.password }],
  ])('answers %s with 400 invalid_grant and issues nothing', async (_name, credentials) => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: { grant_type: 'password', ...credentials },
    });
    expectOAuthError(await callToken(event), 400, 'invalid_grant');
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it('treats an AuthCheck 401 as bad credentials: 400 invalid_grant', async () => {
    const client = await registerClient();
    hook.answerWith({ json: { error: 'nope' }, status: 401 });
    try {
      expectOAuthError(await callToken(passwordRequest(client)), 400, 'invalid_grant');
    } finally {
      hook.reset();
    }
  });

  it.each([
    ['username', { password: ALICE.password }],
    ['password', { username: ALICE.username }],
    ['an empty password', { username: ALICE.username, password: '' }],
  ])('answers a missing %s with 400 invalid_request without calling the AuthCheck', async (_name, fields) => {
    const client = await registerClient();
    hook.reset();
    const event = tokenRequest({ headers: basicOf(client), body: { grant_type: 'password', ...fields } });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
    expect(hook.requests).toEqual([]);
  });
});

describe('client_credentials grant', () => {
  it('issues an access token without refresh token or user_id', async () => {
    const client = await registerClient(['client_credentials']);
    const body = expectTokenResponse(await callToken(clientCredentialsRequest(client)), CLIENT_TOKEN_KEYS);
    expect(body.expires_in).toBe(3600);
    // A token without a user passes only a route that accepts client tokens (issue 10, finding 3).
    expect(await authorize(body.access_token)).toBe('Deny');
    expect(
      await authorize(body.access_token, authorizerHandler, { [API_REQUIREMENTS_VARIABLE]: 'tokens=any' }),
    ).toBe('Allow');
  });

  it('adds the scope for a scoped client', async () => {
    const client = await registerClient(['client_credentials'], 'reports');
    const body = expectTokenResponse(await callToken(clientCredentialsRequest(client)), [
      ...CLIENT_TOKEN_KEYS,
      'scope',
    ]);
    expect(body.scope).toBe('reports');
  });
});

describe('grant type selection', () => {
  it('answers a missing grant_type with 400 invalid_request', async () => {
    const client = await registerClient();
    const event = tokenRequest({
      headers: basicOf(client),
      body: { username: ALICE.username, password: ALICE.password },
    });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
  });

  it.each(['refresh', 'implicit', 'PASSWORD', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])(
    'answers grant_type=%s with 400 unsupported_grant_type',
    async (grantType) => {
      const client = await registerClient();
      const event = tokenRequest({
        headers: basicOf(client),
        body: { grant_type: grantType, refresh_token: 'x.y' },
      });
      expectOAuthError(await callToken(event), 400, 'unsupported_grant_type');
    },
  );

  it.each([
    ['password', ['client_credentials'], (client: Client) => passwordRequest(client)],
    [
      'client_credentials',
      ['password', 'refresh_token'],
      (client: Client) => clientCredentialsRequest(client),
    ],
    ['refresh_token', ['password'], (client: Client) => refreshRequest(client, 'abc.def')],
  ] as const)(
    'answers %s from a client not allowed to use it with 400 unauthorized_client',
    async (_grant, allowed, request) => {
      const client = await registerClient(allowed);
      hook.reset();
      expectOAuthError(await callToken(request(client)), 400, 'unauthorized_client');
      expect(hook.requests).toEqual([]);
      expect(await countGrants(client.client_id)).toBe(0);
    },
  );
});

describe('refresh_token grant', () => {
  it('answers a missing refresh_token with 400 invalid_request', async () => {
    const client = await registerClient();
    const event = tokenRequest({ headers: basicOf(client), body: { grant_type: 'refresh_token' } });
    expectOAuthError(await callToken(event), 400, 'invalid_request');
  });

  it.each([
    ['malformed', 'not-a-token'],
    [
      'unknown but well-formed',
      `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
    ],
  ])('answers a %s refresh token with 400 invalid_grant', async (_name, refreshToken) => {
    const client = await registerClient();
    expectOAuthError(await callToken(refreshRequest(client, refreshToken)), 400, 'invalid_grant');
  });

  it('answers a right grant id with a wrong secret with 400 invalid_grant, without revoking', async () => {
    const client = await registerClient();
    const body = await issuePassword(client);
    const forged = `${grantIdOf(refreshTokenOf(body))}.${randomBytes(32).toString('base64url')}`;
    expectOAuthError(await callToken(refreshRequest(client, forged)), 400, 'invalid_grant');
    expect(await authorize(body.access_token)).toBe('Allow');
    expectTokenResponse(await callToken(refreshRequest(client, refreshTokenOf(body))), USER_TOKEN_KEYS);
  });

  it('answers an access token presented as refresh token with 400 invalid_grant', async () => {
    const client = await registerClient();
    const body = await issuePassword(client);
    expectOAuthError(await callToken(refreshRequest(client, body.access_token)), 400, 'invalid_grant');
  });

  it('refuses a refresh token issued to another client with 400 invalid_grant and leaves it usable', async () => {
    const owner = await registerClient();
    const other = await registerClient();
    const body = await issuePassword(owner);
    expectOAuthError(await callToken(refreshRequest(other, refreshTokenOf(body))), 400, 'invalid_grant');
    expect(await authorize(body.access_token)).toBe('Allow');
    expectTokenResponse(await callToken(refreshRequest(owner, refreshTokenOf(body))), USER_TOKEN_KEYS);
  });

  it('answers a revoked refresh token with 400 invalid_grant', async () => {
    const client = await registerClient();
    const body = await issuePassword(client, DAVE);
    expect(await runAdmin({ action: 'revoke-user-tokens', user_id: DAVE.userId })).toMatchObject({
      revoked_grants: expect.any(Number),
    });
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(body))), 400, 'invalid_grant');
  });

  it('accepts a matching user_id, in either JSON spelling', async () => {
    const client = await registerClient();
    const alice = await issuePassword(client);
    const refreshed = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(alice), { user_id: '1234' })),
      USER_TOKEN_KEYS,
    );
    expect(refreshed.user_id).toBe(1234);
    const bob = await issuePassword(client, BOB);
    expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(bob), { user_id: 'u-1' })),
      USER_TOKEN_KEYS,
    );
  });

  it('answers a user_id of another user with 400 invalid_grant and leaves the token usable', async () => {
    const client = await registerClient();
    const body = await issuePassword(client);
    for (const userId of ['u-1', '12345', '01234', ' 1234']) {
      expectOAuthError(
        await callToken(refreshRequest(client, refreshTokenOf(body), { user_id: userId })),
        400,
        'invalid_grant',
      );
    }
    expectTokenResponse(await callToken(refreshRequest(client, refreshTokenOf(body))), USER_TOKEN_KEYS);
  });

  it('narrows to a subset of the original scope and refuses anything beyond it with invalid_scope', async () => {
    const client = await registerClient(ALL_GRANTS, 'read write admin');
    const first = expectTokenResponse(
      await callToken(passwordRequest(client, ALICE, { scope: 'read write' })),
      SCOPED_USER_TOKEN_KEYS,
    );
    // 'admin' is the client's, but not this grant's.
    expectOAuthError(
      await callToken(refreshRequest(client, refreshTokenOf(first), { scope: 'read admin' })),
      400,
      'invalid_scope',
    );
    const narrowed = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(first), { scope: 'write' })),
      SCOPED_USER_TOKEN_KEYS,
    );
    expect(narrowed.scope).toBe('write');
    const context = await authorizerHandler(
      authorizerRequest({ authorization: bearerAuthorization(narrowed.access_token) }),
      localLambdaContext('authorizer'),
    );
    expect(context.context).toMatchObject({ scope: 'write' });
  });
});

// ---- rotation and reuse detection ---------------------------------------------------------------------

describe('refresh token rotation', () => {
  it('returns a new refresh and access token; the old access token stops working at once', async () => {
    const client = await registerClient();
    const first = await issuePassword(client);
    expect(await authorize(first.access_token)).toBe('Allow');
    const second = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(first))),
      USER_TOKEN_KEYS,
    );
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second).toMatchObject({ expires_in: 3600, user_id: 1234 });
    expect(await authorize(first.access_token)).toBe('Unauthorized');
    expect(await authorize(second.access_token)).toBe('Allow');
    const third = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(second))),
      USER_TOKEN_KEYS,
    );
    expect(await authorize(second.access_token)).toBe('Unauthorized');
    expect(await authorize(third.access_token)).toBe('Allow');
  });

  it('revokes the whole grant when a consumed refresh token comes back', async () => {
    const client = await registerClient();
    const first = await issuePassword(client);
    const second = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(first))),
      USER_TOKEN_KEYS,
    );
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(first))), 400, 'invalid_grant');
    // Both parties lose: the thief's replay killed the legitimate holder's tokens too.
    expect(await authorize(second.access_token)).toBe('Unauthorized');
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(second))), 400, 'invalid_grant');
  });

  it('revokes the grant when any earlier refresh token of the chain comes back', async () => {
    const client = await registerClient();
    const first = await issuePassword(client);
    const second = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(first))),
      USER_TOKEN_KEYS,
    );
    const third = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(second))),
      USER_TOKEN_KEYS,
    );
    expect(await authorize(third.access_token)).toBe('Allow');
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(first))), 400, 'invalid_grant');
    expect(await authorize(third.access_token)).toBe('Unauthorized');
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(third))), 400, 'invalid_grant');
  });

  it('leaves other grants of the same user alone when one grant is revoked for reuse', async () => {
    const client = await registerClient();
    const victim = await issuePassword(client);
    const bystander = await issuePassword(client);
    await callToken(refreshRequest(client, refreshTokenOf(victim)));
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(victim))), 400, 'invalid_grant');
    expect(await authorize(bystander.access_token)).toBe('Allow');
  });

  it('lets exactly one of concurrent refreshes win; with grace 0 the losers revoke the grant', async () => {
    const client = await registerClient();
    const first = await issuePassword(client);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => callToken(refreshRequest(client, refreshTokenOf(first)))),
    );
    const winners = results.filter((result) => result.statusCode === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((result) => result.statusCode !== 200)) {
      expectOAuthError(loser, 400, 'invalid_grant');
    }
    const won = expectTokenResponse(winners[0] as APIGatewayProxyResult, USER_TOKEN_KEYS);
    expect(await authorize(won.access_token)).toBe('Unauthorized');
    expectOAuthError(await callToken(refreshRequest(client, refreshTokenOf(won))), 400, 'invalid_grant');
  });

  it('with REFRESH_REUSE_GRACE_SECONDS > 0, the losers get invalid_grant and the winner keeps working', async () => {
    const graceful = buildTokenLambda(environment({ REFRESH_REUSE_GRACE_SECONDS: '30' }));
    const client = await registerClient();
    const first = await issuePassword(client, ALICE, graceful);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => callToken(refreshRequest(client, refreshTokenOf(first)), graceful)),
    );
    const winners = results.filter((result) => result.statusCode === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((result) => result.statusCode !== 200)) {
      expectOAuthError(loser, 400, 'invalid_grant');
    }
    const won = expectTokenResponse(winners[0] as APIGatewayProxyResult, USER_TOKEN_KEYS);
    expect(await authorize(won.access_token)).toBe('Allow');
    const next = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(won)), graceful),
      USER_TOKEN_KEYS,
    );
    expect(await authorize(next.access_token)).toBe('Allow');
  });
});

// ---- lifetimes ----------------------------------------------------------------------------------------

describe('token lifetimes', () => {
  it('takes expires_in from ACCESS_TOKEN_TTL_SECONDS, for issue and refresh', async () => {
    const handler = buildTokenLambda(environment({ ACCESS_TOKEN_TTL_SECONDS: '900' }));
    const client = await registerClient();
    const body = await issuePassword(client, ALICE, handler);
    expect(body.expires_in).toBe(900);
    const refreshed = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(body)), handler),
      USER_TOKEN_KEYS,
    );
    expect(refreshed.expires_in).toBe(900);
    const cc = expectTokenResponse(
      await callToken(clientCredentialsRequest(client), handler),
      CLIENT_TOKEN_KEYS,
    );
    expect(cc.expires_in).toBe(900);
  });

  it.each([
    ['ACCESS_TOKEN_TTL_SECONDS', 'soon'],
    ['ACCESS_TOKEN_TTL_SECONDS', '-1'],
    ['REFRESH_TOKEN_TTL_SECONDS', '1.5'],
    ['REFRESH_REUSE_GRACE_SECONDS', '100000'],
    ['REFRESH_TOKEN_MAX_LIFETIME_SECONDS', '59'],
    ['REFRESH_TOKEN_MAX_LIFETIME_SECONDS', '90d'],
    ['LOCKOUT_KEY_SECRET', 'too-short'],
  ])('fails at build time for %s=%s', (name, value) => {
    expect(() => buildTokenLambda(environment({ [name]: value }))).toThrow(ConfigurationError);
  });

  it('needs a lockout key secret while the lockout is on, and none when it is off', () => {
    expect(() => buildTokenLambda(environment({ LOCKOUT_KEY_SECRET: undefined }))).toThrow(
      /LOCKOUT_KEY_SECRET or LOCKOUT_KEY_SECRET_ARN is required/,
    );
    expect(() =>
      buildTokenLambda(environment({ LOCKOUT_KEY_SECRET: undefined, LOCKOUT_THRESHOLD: '0' })),
    ).not.toThrow();
    expect(() => buildAdminLambda(environment({ LOCKOUT_KEY_SECRET: undefined }))).toThrow(
      ConfigurationError,
    );
  });

  describe('with a controlled clock', () => {
    const START = Date.UTC(2031, 0, 1, 12, 0, 0);
    let now = START;
    const clock = () => now;
    let frozenToken: TokenHandler;
    let graceToken: TokenHandler;
    let frozenAuthorizer: AuthorizerHandler;

    beforeAll(() => {
      const logger = createServiceLogger('token-handler-test', 'SILENT');
      const clients = new DynamoDbClientStore(dynamo.doc, tables.clients);
      const grants = new DynamoDbGrantStore(dynamo.doc, tables.grants);
      const lockouts = new DynamoDbLockoutStore(dynamo.doc, tables.grants);
      // The hook checks its signature timestamps against real time, so the AuthCheck keeps the real clock.
      const authCheck = createHttpAuthCheck({
        url: parseAuthCheckUrl(hook.url),
        clock: Date.now,
        secret: hook.secret,
      });
      const deps = {
        clients,
        grants,
        lockouts,
        lockoutKeySecret: testLockoutKeySecret,
        authCheck,
        clock,
        random: randomBytes,
        audit: noAudit,
      };
      frozenToken = createTokenHandler(
        { ...DEFAULT_TOKEN_ENDPOINT_CONFIG, accessTokenTtlSeconds: 120, refreshTokenTtlSeconds: 600 },
        deps,
        logger,
      ) as unknown as TokenHandler;
      graceToken = createTokenHandler(
        { ...DEFAULT_TOKEN_ENDPOINT_CONFIG, refreshReuseGraceSeconds: 10 },
        deps,
        logger,
      ) as unknown as TokenHandler;
      frozenAuthorizer = createAuthorizerHandler(
        { requireSsl: true, realm: 'oauth2' },
        { grants, clients, clock },
        logger,
      ) as unknown as AuthorizerHandler;
    });

    it('with a grace window, refuses a replay inside it without revoking and revokes after it', async () => {
      now = START;
      const client = await registerClient();
      const first = await issuePassword(client, ALICE, graceToken);
      const second = expectTokenResponse(
        await callToken(refreshRequest(client, refreshTokenOf(first)), graceToken),
        USER_TOKEN_KEYS,
      );
      now = START + 10_000;
      expectOAuthError(
        await callToken(refreshRequest(client, refreshTokenOf(first)), graceToken),
        400,
        'invalid_grant',
      );
      expect(await authorize(second.access_token, frozenAuthorizer)).toBe('Allow');
      now = START + 11_000;
      expectOAuthError(
        await callToken(refreshRequest(client, refreshTokenOf(first)), graceToken),
        400,
        'invalid_grant',
      );
      expect(await authorize(second.access_token, frozenAuthorizer)).toBe('Unauthorized');
      expectOAuthError(
        await callToken(refreshRequest(client, refreshTokenOf(second)), graceToken),
        400,
        'invalid_grant',
      );
    });

    it('lets the access token work until its expiry second and not from then on', async () => {
      now = START;
      const client = await registerClient();
      const body = await issuePassword(client, ALICE, frozenToken);
      expect(body.expires_in).toBe(120);
      now = START + 119_999;
      expect(await authorize(body.access_token, frozenAuthorizer)).toBe('Allow');
      now = START + 120_000;
      expect(await authorize(body.access_token, frozenAuthorizer)).toBe('Unauthorized');
    });

    it('expires the refresh token after REFRESH_TOKEN_TTL_SECONDS, counted from each rotation', async () => {
      now = START;
      const client = await registerClient();
      const first = await issuePassword(client, ALICE, frozenToken);
      now = START + 599_000;
      const second = expectTokenResponse(
        await callToken(refreshRequest(client, refreshTokenOf(first)), frozenToken),
        USER_TOKEN_KEYS,
      );
      // 1199 s after the first issue, 600 s after the rotation: the new token has just expired.
      now = START + 1_199_000;
      expectOAuthError(
        await callToken(refreshRequest(client, refreshTokenOf(second)), frozenToken),
        400,
        'invalid_grant',
      );

      now = START;
      const unused = await issuePassword(client, ALICE, frozenToken);
      now = START + 600_000;
      expectOAuthError(
        await callToken(refreshRequest(client, refreshTokenOf(unused)), frozenToken),
        400,
        'invalid_grant',
      );
    });
  });
});

// ---- tokens -------------------------------------------------------------------------------------------

describe('tokens', () => {
  it('are URL-safe, carry 256 random bits and never repeat', async () => {
    const client = await registerClient();
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const body = await issuePassword(client);
      const cc = expectTokenResponse(await callToken(clientCredentialsRequest(client)), CLIENT_TOKEN_KEYS);
      for (const token of [body.access_token, refreshTokenOf(body), cc.access_token]) {
        expect(token).toMatch(TOKEN_FORMAT);
        expect(encodeURIComponent(token)).toBe(token);
        const secret = token.slice(token.indexOf('.') + 1);
        expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32);
        seen.add(token);
        seen.add(secret);
      }
    }
    expect(seen.size).toBe(30);
  });

  it('are stored only as hashes: no token, token secret, client secret or password in any item', async () => {
    const client = await registerClient(ALL_GRANTS, 'read write');
    const issued = expectTokenResponse(await callToken(passwordRequest(client)), SCOPED_USER_TOKEN_KEYS);
    const refreshed = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(issued), { scope: 'read' })),
      SCOPED_USER_TOKEN_KEYS,
    );
    const cc = expectTokenResponse(await callToken(clientCredentialsRequest(client)), [
      ...CLIENT_TOKEN_KEYS,
      'scope',
    ]);
    const rotated = (await runAdmin({
      action: 'rotate-secret',
      client_id: client.client_id,
    })) as unknown as Client;
    expect(rotated.client_secret).toEqual(expect.any(String));

    const tokens = {
      'first access token': issued.access_token,
      'first refresh token': refreshTokenOf(issued),
      'refreshed access token': refreshed.access_token,
      'refreshed refresh token': refreshTokenOf(refreshed),
      'client_credentials access token': cc.access_token,
    };
    const secretOf = (token: string) => token.slice(token.indexOf('.') + 1);
    const forbidden: Record<string, string> = {
      ...tokens,
      ...Object.fromEntries(
        Object.entries(tokens).map(([name, token]) => [`secret of ${name}`, secretOf(token)]),
      ),
      'first client secret': client.client_secret,
      'rotated client secret': rotated.client_secret,
      password: ALICE.password,
    };
    const dump = JSON.stringify([...(await scanAll(tables.clients)), ...(await scanAll(tables.grants))]);
    for (const [name, value] of Object.entries(forbidden)) expect(dump.includes(value), name).toBe(false);
    // The scan did see these items: the hashes of what is current (or consumed) are there.
    const stored = [
      tokens['refreshed access token'],
      tokens['refreshed refresh token'],
      tokens['first refresh token'],
      tokens['client_credentials access token'],
    ].map(secretOf);
    for (const secret of [...stored, rotated.client_secret])
      expect(dump.includes(hashSecret(secret))).toBe(true);
  });
});

// ---- password lockout -------------------------------------------------------------------------------

describe('password lockout across Lambda instances (state in DynamoDB)', () => {
  it('refuses a locked username on another instance, without calling the AuthCheck, whatever the password', async () => {
    const client = await registerClient(['password']);
    const other = buildTokenLambda(environment());
    const wrong = passwordRequest(client, { ...ERIN, password: 'not-erins-password' });
    hook.reset();
    for (let i = 0; i < 5; i += 1) {
      const result = await callToken(wrong, i % 2 === 0 ? tokenHandler : other);
      expect(expectOAuthError(result, 400, 'invalid_grant').error_description).toBe(
        'The username or password is incorrect',
      );
    }
    expect(hook.requests.filter((request) => request.username === 'erin')).toHaveLength(5);

    for (const event of [passwordRequest(client, ERIN), wrong]) {
      for (const handler of [tokenHandler, other]) {
        const refused = await callToken(event, handler);
        const body = expectOAuthError(refused, 400, 'invalid_grant');
        expect(body.error_description).toBe(
          'Too many failed sign-in attempts for this username; try again later',
        );
        expect(Number(refused.headers?.['Retry-After'])).toBeGreaterThan(0);
        expect(Number(refused.headers?.['Retry-After'])).toBeLessThanOrEqual(60);
      }
    }
    expect(hook.requests.filter((request) => request.username === 'erin')).toHaveLength(5);
    expect(await countGrants(client.client_id)).toBe(0);
  });

  it('reads its thresholds from LOCKOUT_THRESHOLD / LOCKOUT_BASE_SECONDS / LOCKOUT_MAX_SECONDS', async () => {
    const client = await registerClient(['password']);
    const strict = buildTokenLambda(
      environment({ LOCKOUT_THRESHOLD: '2', LOCKOUT_BASE_SECONDS: '7', LOCKOUT_MAX_SECONDS: '9' }),
    );
    const user = { ...BOB, username: 'strict-user', password: 'wrong' };
    await callToken(passwordRequest(client, user), strict);
    await callToken(passwordRequest(client, user), strict);
    const refused = await callToken(passwordRequest(client, user), strict);
    // 7 s from the second failure, less any wall-clock second that passed since (a loaded machine).
    expect(Number(refused.headers?.['Retry-After'])).toBeLessThanOrEqual(7);
    expect(Number(refused.headers?.['Retry-After'])).toBeGreaterThanOrEqual(5);

    const off = buildTokenLambda(environment({ LOCKOUT_THRESHOLD: '0' }));
    const free = { ...BOB, username: 'never-locked', password: 'wrong' };
    for (let i = 0; i < 8; i += 1) {
      expect(
        expectOAuthError(await callToken(passwordRequest(client, free), off), 400, 'invalid_grant')
          .error_description,
      ).toBe('The username or password is incorrect');
    }
    expect(() =>
      buildTokenLambda(environment({ LOCKOUT_BASE_SECONDS: '120', LOCKOUT_MAX_SECONDS: '60' })),
    ).toThrow(ConfigurationError);
  });
});

// ---- per-client scope and lifetimes -----------------------------------------------------------------

describe('per-client default scope and lifetimes (admin create-client options)', () => {
  it('issues the default scope when none is asked for and the client lifetime in expires_in', async () => {
    const created = await runAdmin({
      action: 'create-client',
      name: 'per-client-settings',
      grant_types: ['password', 'refresh_token', 'client_credentials'],
      scope: 'read write admin',
      default_scope: 'read',
      access_token_ttl_seconds: 600,
      refresh_token_ttl_seconds: 7200,
    });
    expect(created).toMatchObject({
      scope: 'read write admin',
      default_scope: 'read',
      access_token_ttl_seconds: 600,
      refresh_token_ttl_seconds: 7200,
    });
    const client = created as unknown as Client;
    const first = expectTokenResponse(await callToken(passwordRequest(client, BOB)), SCOPED_USER_TOKEN_KEYS);
    expect([first.scope, first.expires_in]).toEqual(['read', 600]);
    const refreshed = expectTokenResponse(
      await callToken(refreshRequest(client, refreshTokenOf(first))),
      SCOPED_USER_TOKEN_KEYS,
    );
    expect([refreshed.scope, refreshed.expires_in]).toEqual(['read', 600]);
    const machine = await callToken(clientCredentialsRequest(client, { scope: 'write admin' }));
    expect(expectTokenResponse(machine, [...CLIENT_TOKEN_KEYS, 'scope'])).toMatchObject({
      scope: 'write admin',
      expires_in: 600,
    });
    expectOAuthError(
      await callToken(clientCredentialsRequest(client, { scope: 'read root' })),
      400,
      'invalid_scope',
    );
  });
});
