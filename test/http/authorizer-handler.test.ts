import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAuthCheck, parseAuthCheckUrl } from '../../lambdas/auth-check/http-auth-check';
import { noAudit } from '../../lambdas/core/audit-event';
import {
  API_REQUIREMENTS_VARIABLE,
  formatRouteRequirements,
  routeRequirementsVariable,
} from '../../lambdas/core/route-requirements';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG } from '../../lambdas/core/token-endpoint-config';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
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
  type AuthorizerRequestOptions,
  authorizerRequest,
  basicAuthorization,
  bearerAuthorization,
  CLIENT_TOKEN_KEYS,
  expectTokenResponse,
  ME_ROUTE_ARN,
  SCOPED_USER_TOKEN_KEYS,
  type TokenBody,
  tokenRequest,
  USER_TOKEN_KEYS,
} from '../support/api-gateway-events';
import type { AuthCheckHookServer } from '../support/auth-check-hook-server';
import { testLockoutKeySecret } from '../support/lockout-key-secret';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';

const ALICE = { username: 'alice', password: 'alice-authorizer-pw', userId: 1234 } as const;
const BOB = { username: 'bob', password: 'bob-authorizer-pw', userId: 'u-1' } as const;
const ERIN = { username: 'erin', password: 'erin-authorizer-pw', userId: 777 } as const;
type User = typeof ALICE | typeof BOB | typeof ERIN;
const ALL_GRANTS = ['password', 'refresh_token', 'client_credentials'] as const;

let dynamo: DynamoDbClients;
let hook: AuthCheckHookServer;
let backend: ServiceBackend;
const tables: TableNames = { clients: 'authorizer-clients', grants: 'authorizer-grants' };
type TokenHandler = ReturnType<typeof buildTokenLambda>;
type AuthorizerHandler = ReturnType<typeof buildAuthorizerLambda>;
let tokenHandler: TokenHandler;
let authorizerHandler: AuthorizerHandler;
let adminHandler: ReturnType<typeof buildAdminLambda>;
const servers: Server[] = [];

const environment = (extra: Environment = {}): Environment => backend.environment(extra);

beforeAll(async () => {
  backend = await startServiceBackend({
    tables,
    hookSecret: 'authorizer-hook-secret',
    users: { alice: ALICE, bob: BOB, erin: ERIN },
  });
  ({ hook, dynamo } = backend);
  tokenHandler = buildTokenLambda(environment());
  authorizerHandler = buildAuthorizerLambda(environment());
  adminHandler = buildAdminLambda(environment());
});

afterAll(async () => {
  await Promise.all([
    backend?.stop(),
    ...servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  ]);
});

interface Client {
  readonly client_id: string;
  readonly client_secret: string;
}

const runAdmin = async (payload: unknown): Promise<Record<string, unknown>> =>
  (await adminHandler(payload, localLambdaContext('admin'))) as Record<string, unknown>;

async function registerClient(grantTypes: readonly string[] = ALL_GRANTS, scope?: string): Promise<Client> {
  const created = await runAdmin({
    action: 'create-client',
    name: 'authorizer-test',
    grant_types: grantTypes,
    ...(scope === undefined ? {} : { scope }),
  });
  expect(created).toMatchObject({ client_id: expect.any(String), client_secret: expect.any(String) });
  return created as unknown as Client;
}

async function token(
  client: Client,
  body: Record<string, string>,
  keys: readonly (keyof TokenBody)[],
  handler: TokenHandler = tokenHandler,
): Promise<TokenBody> {
  const event = tokenRequest({
    headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
    body,
  });
  return expectTokenResponse(await handler(event, localLambdaContext('token')), keys);
}

const passwordGrant = (client: Client, user: User = ALICE, handler?: TokenHandler) =>
  token(
    client,
    { grant_type: 'password', username: user.username, password: user.password },
    USER_TOKEN_KEYS,
    handler,
  );

const authorizeEvent = (
  event: APIGatewayRequestAuthorizerEvent,
  handler: AuthorizerHandler = authorizerHandler,
): Promise<APIGatewayAuthorizerResult> => handler(event, localLambdaContext('authorizer'));

const authorizeWith = (options: AuthorizerRequestOptions, handler?: AuthorizerHandler) =>
  authorizeEvent(authorizerRequest(options), handler);

const bearer = (accessToken: string, handler?: AuthorizerHandler) =>
  authorizeWith({ authorization: bearerAuthorization(accessToken) }, handler);

/** Resolves with the error the authorizer threw; fails the test if it allowed. */
async function refusal(promise: Promise<APIGatewayAuthorizerResult>): Promise<Error> {
  const outcome = await promise.then(
    (result) => new Error(`expected a refusal, got ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

async function expectUnauthorized(promise: Promise<APIGatewayAuthorizerResult>): Promise<void> {
  const error = await refusal(promise);
  // API Gateway answers 401 only for this exact message.
  expect(error.message).toBe('Unauthorized');
}

const wellFormedUnknownToken = () =>
  `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPortEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('authorizer: valid access tokens', () => {
  it('allows exactly this route with user_id, client_id and scope in the context', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const result = await bearer(issued.access_token);
    expect(result).toEqual({
      principalId: '1234',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ME_ROUTE_ARN }],
      },
      context: expect.objectContaining({
        client_id: client.client_id,
        scope: '',
        user_id: '1234',
        user_id_type: 'number',
      }),
    });
  });

  it('answers a policy for exactly the route checked, path parameters as wildcards', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const result = await authorizeWith({
      authorization: bearerAuthorization(issued.access_token),
      method: 'DELETE',
      path: '/orders/42/items',
      resource: '/orders/{id}/items',
    });
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: `arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/DELETE/orders/*/items`,
      },
    ]);
  });

  it('says a string user id is a string', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client, BOB);
    const result = await bearer(issued.access_token);
    expect(result.principalId).toBe('u-1');
    expect(result.context).toMatchObject({ user_id: 'u-1', user_id_type: 'string' });
  });

  it('passes the scope of the token', async () => {
    const client = await registerClient(ALL_GRANTS, 'read write');
    const issued = await token(
      client,
      { grant_type: 'password', username: ALICE.username, password: ALICE.password },
      SCOPED_USER_TOKEN_KEYS,
    );
    expect((await bearer(issued.access_token)).context).toMatchObject({ scope: 'read write' });
  });

  it('allows a client_credentials token, with no user in the context, only where a route accepts client tokens', async () => {
    const client = await registerClient(['client_credentials']);
    const issued = await token(client, { grant_type: 'client_credentials' }, CLIENT_TOKEN_KEYS);
    const result = await authorizeWith({
      authorization: bearerAuthorization(issued.access_token),
      stageVariables: { [API_REQUIREMENTS_VARIABLE]: 'tokens=any' },
    });
    expect(result.principalId).toBe(client.client_id);
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: ME_ROUTE_ARN });
    expect(result.context).toMatchObject({ client_id: client.client_id, scope: '' });
    expect(result.context).not.toHaveProperty('user_id');
  });

  it('reads the header and the scheme case-insensitively', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const result = await authorizeWith({ headers: { authorization: `BEARER ${issued.access_token}` } });
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('allows plain HTTP only when REQUIRE_SSL is "false"', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const insecure = buildAuthorizerLambda(environment({ REQUIRE_SSL: 'false' }));
    const plain = {
      authorization: bearerAuthorization(issued.access_token),
      headers: { 'X-Forwarded-Proto': 'http' },
    };
    expect((await authorizeWith(plain, insecure)).policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
    });
    await expectUnauthorized(authorizeWith(plain));
    await expectUnauthorized(
      authorizeWith({
        authorization: bearerAuthorization(issued.access_token),
        headers: { 'X-Forwarded-Proto': undefined },
      }),
    );
  });
});

describe('authorizer: refusals are Error("Unauthorized")', () => {
  it('refuses a missing Authorization header', async () => {
    await expectUnauthorized(authorizeWith({}));
  });

  it.each([
    ['an empty header', ''],
    ['Bearer without a token', 'Bearer'],
    ['Bearer and spaces', 'Bearer    '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['two tokens', 'Bearer a.b c.d'],
    ['a token list', 'Bearer a.b,c.d'],
    ['no dot', 'Bearer abcdefghijklmnop'],
    ['non-base64url characters', 'Bearer abc.d+e/f'],
    ['a huge token', `Bearer ${'a'.repeat(300)}.${'b'.repeat(300)}`],
    ['an unknown well-formed token', bearerAuthorization(wellFormedUnknownToken())],
  ])('refuses %s', async (_name, authorization) => {
    await expectUnauthorized(authorizeWith({ authorization }));
  });

  it('refuses a valid token without the Bearer scheme, or base64-encoded as the original required', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    await expectUnauthorized(authorizeWith({ authorization: issued.access_token }));
    await expectUnauthorized(
      authorizeWith({
        authorization: bearerAuthorization(Buffer.from(issued.access_token).toString('base64')),
      }),
    );
  });

  it('refuses the right grant id with a wrong secret', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const grantId = issued.access_token.slice(0, issued.access_token.indexOf('.'));
    await expectUnauthorized(bearer(`${grantId}.${randomBytes(32).toString('base64url')}`));
    expect((await bearer(issued.access_token)).context).toMatchObject({ user_id: '1234' });
  });

  it('refuses a refresh token used as a bearer token', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    await expectUnauthorized(bearer(issued.refresh_token as string));
  });

  it('refuses an access token rotated away by a refresh', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const refreshed = await token(
      client,
      { grant_type: 'refresh_token', refresh_token: issued.refresh_token as string },
      USER_TOKEN_KEYS,
    );
    await expectUnauthorized(bearer(issued.access_token));
    expect((await bearer(refreshed.access_token)).principalId).toBe('1234');
  });

  it('refuses every token of a user whose tokens were revoked, and only those', async () => {
    const client = await registerClient();
    const other = await registerClient();
    const erinHere = await passwordGrant(client, ERIN);
    const erinThere = await passwordGrant(other, ERIN);
    const bob = await passwordGrant(client, BOB);
    expect(await runAdmin({ action: 'revoke-user-tokens', user_id: ERIN.userId })).toEqual({
      user_id: ERIN.userId,
      revoked_grants: 2,
    });
    await expectUnauthorized(bearer(erinHere.access_token));
    await expectUnauthorized(bearer(erinThere.access_token));
    expect((await bearer(bob.access_token)).principalId).toBe('u-1');
  });

  it('refuses tokens of a client disabled through the admin function, at once despite the client cache', async () => {
    const client = await registerClient();
    const issued = await passwordGrant(client);
    const cc = await token(client, { grant_type: 'client_credentials' }, CLIENT_TOKEN_KEYS);
    // Warm the authorizer's client cache first.
    expect((await bearer(issued.access_token)).principalId).toBe('1234');
    expect((await bearer(cc.access_token)).principalId).toBe(client.client_id);
    expect(await runAdmin({ action: 'disable-client', client_id: client.client_id })).toMatchObject({
      disabled: true,
      revoked_grants: 2,
    });
    await expectUnauthorized(bearer(issued.access_token));
    await expectUnauthorized(bearer(cc.access_token));
  });

  it('refuses a token whose client is disabled even when its grant was not revoked', async () => {
    const uncached = buildAuthorizerLambda(environment({ CLIENT_CACHE_TTL_SECONDS: '0' }));
    const client = await registerClient();
    const issued = await passwordGrant(client);
    expect((await bearer(issued.access_token, uncached)).principalId).toBe('1234');
    const clients = new DynamoDbClientStore(dynamo.doc, tables.clients);
    expect(await clients.disableClient(client.client_id, Math.floor(Date.now() / 1000))).toBe(true);
    await expectUnauthorized(bearer(issued.access_token, uncached));
  });

  it('refuses an expired access token (controlled clock)', async () => {
    let now = Date.UTC(2032, 5, 1);
    const clock = () => now;
    const logger = createServiceLogger('authorizer-test', 'SILENT');
    const clients = new DynamoDbClientStore(dynamo.doc, tables.clients);
    const grants = new DynamoDbGrantStore(dynamo.doc, tables.grants);
    const frozenToken = createTokenHandler(
      { ...DEFAULT_TOKEN_ENDPOINT_CONFIG, accessTokenTtlSeconds: 300 },
      {
        clients,
        grants,
        lockouts: new DynamoDbLockoutStore(dynamo.doc, tables.grants),
        lockoutKeySecret: testLockoutKeySecret,
        authCheck: createHttpAuthCheck({
          url: parseAuthCheckUrl(hook.url),
          clock: Date.now,
          secret: hook.secret,
        }),
        clock,
        random: randomBytes,
        audit: noAudit,
      },
      logger,
    ) as unknown as TokenHandler;
    const frozenAuthorizer = createAuthorizerHandler(
      { requireSsl: true, realm: 'oauth2' },
      { grants, clients, clock },
      logger,
    ) as unknown as AuthorizerHandler;
    const client = await registerClient();
    const issued = await passwordGrant(client, ALICE, frozenToken);
    now += 299_000;
    expect((await bearer(issued.access_token, frozenAuthorizer)).principalId).toBe('1234');
    now += 1_000;
    await expectUnauthorized(bearer(issued.access_token, frozenAuthorizer));
  });
});

describe('authorizer: store failures', () => {
  const failingEnvironment = (endpoint: string) =>
    environment({ DYNAMODB_ENDPOINT: endpoint, DYNAMODB_MAX_ATTEMPTS: '1', DYNAMODB_TIMEOUT_MS: '300' });

  it('throws Error("temporarily_unavailable") when the store is unreachable', async () => {
    const authorizer = buildAuthorizerLambda(failingEnvironment(await closedPortEndpoint()));
    const error = await refusal(bearer(wellFormedUnknownToken(), authorizer));
    expect(error.message).toBe('temporarily_unavailable');
  });

  it('throws Error("temporarily_unavailable") when the store answers an error', async () => {
    const endpoint = await listen((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'x' }),
        );
      });
    });
    const authorizer = buildAuthorizerLambda(failingEnvironment(endpoint));
    const error = await refusal(bearer(wellFormedUnknownToken(), authorizer));
    expect(error.message).toBe('temporarily_unavailable');
  });

  it('throws Error("temporarily_unavailable") when the store does not answer in time', async () => {
    const endpoint = await listen((request) => {
      request.resume();
    });
    const authorizer = buildAuthorizerLambda(failingEnvironment(endpoint));
    const started = Date.now();
    const error = await refusal(bearer(wellFormedUnknownToken(), authorizer));
    expect(error.message).toBe('temporarily_unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still refuses a malformed token as Unauthorized without touching the store', async () => {
    const authorizer = buildAuthorizerLambda(failingEnvironment(await closedPortEndpoint()));
    await expectUnauthorized(authorizeWith({ authorization: 'Bearer not-a-token' }, authorizer));
  });
});

describe('authorizer: route requirements from stage variables (403 by a Deny policy)', () => {
  const ORDERS = 'orders:read orders:write';
  const ORDERS_API = `arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod`;
  const userToken = async (scope?: string) => {
    const client = await registerClient(ALL_GRANTS, ORDERS);
    const issued = await token(
      client,
      {
        grant_type: 'password',
        username: ALICE.username,
        password: ALICE.password,
        ...(scope === undefined ? {} : { scope }),
      },
      SCOPED_USER_TOKEN_KEYS,
    );
    return { client, accessToken: issued.access_token };
  };
  const clientToken = async () => {
    const client = await registerClient(['client_credentials'], ORDERS);
    const issued = await token(client, { grant_type: 'client_credentials' }, [...CLIENT_TOKEN_KEYS, 'scope']);
    return { client, accessToken: issued.access_token };
  };
  const check = (
    accessToken: string,
    route: { method: string; resource: string; path?: string },
    vars = {},
  ) =>
    authorizeWith({
      authorization: bearerAuthorization(accessToken),
      method: route.method,
      path: route.path ?? route.resource,
      resource: route.resource,
      stageVariables: vars,
    });
  const expectDenied = (result: APIGatewayAuthorizerResult, resource: string, reason: string) => {
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: resource },
    ]);
    expect(result.context).toEqual({ error: 'insufficient_scope', reason });
  };

  it('by default accepts user tokens only: a client_credentials token is denied GET /me', async () => {
    const { accessToken } = await clientToken();
    expectDenied(await bearer(accessToken), ME_ROUTE_ARN, 'user_required');
  });

  it('requires every scope a route names; the token’s other scopes do not help', async () => {
    const vars = {
      [routeRequirementsVariable('GET', '/orders/{id}')]: formatRouteRequirements({
        scopes: ['orders:read'],
        allowClientTokens: false,
      }),
      [routeRequirementsVariable('POST', '/orders')]: 'tokens=user&scope=orders:read,orders:write',
    };
    const readOnly = await userToken('orders:read');
    const get = { method: 'GET', resource: '/orders/{id}', path: '/orders/7' };
    const post = { method: 'POST', resource: '/orders' };
    expect((await check(readOnly.accessToken, get, vars)).policyDocument.Statement[0]).toEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Allow',
      Resource: `${ORDERS_API}/GET/orders/*`,
    });
    expectDenied(
      await check(readOnly.accessToken, post, vars),
      `${ORDERS_API}/POST/orders`,
      'insufficient_scope',
    );
    const both = await userToken();
    expect((await check(both.accessToken, post, vars)).policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: `${ORDERS_API}/POST/orders`,
    });
  });

  it('lets a route replace the API-wide requirements, with ANY as the route’s fallback method', async () => {
    const vars = {
      [API_REQUIREMENTS_VARIABLE]: 'tokens=user&scope=orders:write',
      [routeRequirementsVariable('ANY', '/health')]: 'tokens=any',
    };
    const machine = await clientToken();
    const health = await check(machine.accessToken, { method: 'PUT', resource: '/health' }, vars);
    expect(health.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: `${ORDERS_API}/PUT/health`,
    });
    expectDenied(
      await check(machine.accessToken, { method: 'GET', resource: '/orders' }, vars),
      `${ORDERS_API}/GET/orders`,
      'user_required',
    );
    const reader = await userToken('orders:read');
    expectDenied(
      await check(reader.accessToken, { method: 'GET', resource: '/orders' }, vars),
      `${ORDERS_API}/GET/orders`,
      'insufficient_scope',
    );
  });

  it('accepts only the listed clients when a route names them', async () => {
    const allowed = await userToken();
    const other = await userToken();
    const vars = {
      [API_REQUIREMENTS_VARIABLE]: formatRouteRequirements({
        scopes: [],
        clientIds: [allowed.client.client_id],
        allowClientTokens: false,
      }),
    };
    const route = { method: 'GET', resource: '/orders' };
    expect((await check(allowed.accessToken, route, vars)).policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
    });
    expectDenied(
      await check(other.accessToken, route, vars),
      `${ORDERS_API}/GET/orders`,
      'client_not_accepted',
    );
  });

  it('refuses an opaque token (no audience) where a route requires an audience', async () => {
    const { accessToken } = await userToken();
    const vars = { [API_REQUIREMENTS_VARIABLE]: 'tokens=user&aud=https://orders.example.com' };
    expectDenied(
      await check(accessToken, { method: 'GET', resource: '/orders' }, vars),
      `${ORDERS_API}/GET/orders`,
      'audience_not_accepted',
    );
  });

  it('refuses (never allows) when the requirements variable is malformed', async () => {
    const { accessToken } = await userToken();
    for (const value of [
      'tokens=maybe',
      'scope=orders:read',
      'tokens=user&tokens=any',
      'tokens=user&scopes=x',
    ]) {
      expectDenied(
        await check(
          accessToken,
          { method: 'GET', resource: '/orders' },
          { [API_REQUIREMENTS_VARIABLE]: value },
        ),
        `${ORDERS_API}/GET/orders`,
        'insufficient_scope',
      );
    }
  });

  it('still answers an invalid token with Unauthorized (401), before any requirement', async () => {
    await expectUnauthorized(
      authorizeWith({
        authorization: bearerAuthorization(wellFormedUnknownToken()),
        stageVariables: { [API_REQUIREMENTS_VARIABLE]: 'tokens=any' },
      }),
    );
  });
});
