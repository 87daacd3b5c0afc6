import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { createDynamoDbDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { createTablesIfMissing, type TableNames } from '../../lambdas/store/table-definitions';
import {
  authorizerRequest,
  basicAuthorization,
  bearerAuthorization,
  expectOAuthError,
  expectTokenResponse,
  PRINTABLE_DESCRIPTION,
  type TokenBody,
  tokenRequest,
  USER_TOKEN_KEYS,
} from '../support/api-gateway-events';
import {
  type AuthCheckHookServer,
  type HookAnswer,
  startAuthCheckHookServer,
} from '../support/auth-check-hook-server';
import { capturingOutput } from '../support/captured-output';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';
import { type DynamoDbProxy, startDynamoDbProxy } from '../support/dynamodb-proxy';
import { TEST_LOCKOUT_KEY_SECRET } from '../support/lockout-key-secret';

/** Changes per test so a leak cannot hide behind an earlier test's output. */
let password = '';
const USERNAME = 'ivy';

let dynalite: DynaliteServer;
let dynamo: DynamoDbClients;
let hook: AuthCheckHookServer;
const tables: TableNames = { clients: 'failure-clients', grants: 'failure-grants' };
const servers: Server[] = [];
let client: { client_id: string; client_secret: string };

/** In front of dynalite: fails chosen operations, or applies them and loses the answer. */
let proxy: DynamoDbProxy;
let proxyEndpoint: string;

const environment = (extra: Environment = {}): Environment => ({
  CLIENTS_TABLE: tables.clients,
  GRANTS_TABLE: tables.grants,
  DYNAMODB_ENDPOINT: dynalite.endpoint,
  AUTH_CHECK_URL: hook.url,
  AUTH_CHECK_SECRET: hook.secret,
  LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
  // INFO, so that the leak checks below see everything the handlers log.
  LOG_LEVEL: 'INFO',
  ...extra,
});

/** Store settings that fail fast: one attempt, a short timeout. */
const fastFailingStore = (endpoint: string): Environment => ({
  DYNAMODB_ENDPOINT: endpoint,
  DYNAMODB_MAX_ATTEMPTS: '1',
  DYNAMODB_TIMEOUT_MS: '300',
});

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
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

const dynamoError = (response: ServerResponse, status: number, type: string) => {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  response.end(
    JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'injected failure' }),
  );
};

beforeAll(async () => {
  [dynalite, hook] = await Promise.all([
    startDynalite(),
    // The hook's users are scripted per test through answerWith.
    startAuthCheckHookServer({ secret: 'failure-hook-secret', users: {} }),
  ]);
  dynamo = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
  await createTablesIfMissing(dynamo.client, tables);
  proxy = await startDynamoDbProxy(dynalite.endpoint);
  proxyEndpoint = proxy.endpoint;
  const admin = buildAdminLambda(environment({ LOG_LEVEL: 'SILENT' }));
  client = (await admin(
    {
      action: 'create-client',
      name: 'failure-test',
      grant_types: ['password', 'refresh_token', 'client_credentials'],
    },
    localLambdaContext('admin'),
  )) as typeof client;
  expect(client.client_secret).toEqual(expect.any(String));
});

afterAll(async () => {
  await proxy?.stop();
  dynamo?.client.destroy();
  await Promise.all([
    dynalite?.stop(),
    hook?.stop(),
    ...servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  ]);
});

beforeEach(() => {
  password = `pw-${randomBytes(9).toString('base64url')}-never-log`;
  proxy.clear();
  hook.reset();
});

/** The hook knows ivy with the current password, as user 9001. */
const ivyAnswer = (request: { username: unknown; password: unknown }): HookAnswer => ({
  json: { user_id: request.username === USERNAME && request.password === password ? 9001 : null },
});

const passwordRequest = () =>
  tokenRequest({
    headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
    body: { grant_type: 'password', username: USERNAME, password },
  });

const refreshRequest = (refreshToken: string) =>
  tokenRequest({
    headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
    body: { grant_type: 'refresh_token', refresh_token: refreshToken },
  });

async function grantsOfClient(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await dynamo.doc.send(
    new ScanCommand({ TableName: tables.grants, ConsistentRead: true }),
  );
  return Items.filter((item) => item.clientId === client.client_id);
}

/** 503 temporarily_unavailable, no-store, no token anywhere in the answer, no password in it or in the logs. */
function expectUnavailable(result: APIGatewayProxyResult, output: string): void {
  const body = expectOAuthError(result, 503, 'temporarily_unavailable');
  expect(body.error_description).toMatch(PRINTABLE_DESCRIPTION);
  expect(result.body).not.toContain('access_token');
  expect(result.body.includes(password)).toBe(false);
  // The handler did log the failure (so the capture works), without the password.
  expect(output).toContain('temporarily_unavailable');
  expect(output.includes(password)).toBe(false);
}

async function issueWithHealthyStack(): Promise<TokenBody> {
  hook.answerWith(ivyAnswer);
  const healthy = buildTokenLambda(environment({ LOG_LEVEL: 'SILENT' }));
  return expectTokenResponse(await healthy(passwordRequest(), localLambdaContext('token')), USER_TOKEN_KEYS);
}

describe('store failures at the token endpoint', () => {
  it.each<[string, () => Promise<string>]>([
    ['unreachable (closed port)', closedPortEndpoint],
    [
      'answering InternalServerError',
      () =>
        listen((request, response) =>
          request.resume().on('end', () => dynamoError(response, 500, 'InternalServerError')),
        ),
    ],
    [
      'throttling',
      () =>
        listen((request, response) =>
          request
            .resume()
            .on('end', () => dynamoError(response, 400, 'ProvisionedThroughputExceededException')),
        ),
    ],
    [
      'answering HTML',
      () =>
        listen((request, response) =>
          request.resume().on('end', () => response.writeHead(502).end('<html>bad gateway</html>')),
        ),
    ],
    ['never answering', () => listen((request) => request.resume())],
  ])('answers 503 when the store is %s, and does not ask the AuthCheck', async (_name, endpoint) => {
    const handler = buildTokenLambda(environment(fastFailingStore(await endpoint())));
    hook.answerWith(ivyAnswer);
    const before = (await grantsOfClient()).length;
    const started = Date.now();
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expectUnavailable(result, output);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hook.requests).toEqual([]);
    expect((await grantsOfClient()).length).toBe(before);
  });

  it('issues nothing when writing the grant fails after the AuthCheck said yes', async () => {
    proxy.fail(`PutItem ${tables.grants}`);
    const handler = buildTokenLambda(environment(fastFailingStore(proxyEndpoint)));
    hook.answerWith(ivyAnswer);
    const before = await grantsOfClient();
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expectUnavailable(result, output);
    expect(hook.requests).toHaveLength(1);
    expect(await grantsOfClient()).toEqual(before);
  });

  it('issues nothing for client_credentials when writing the grant fails', async () => {
    proxy.fail(`PutItem ${tables.grants}`);
    const handler = buildTokenLambda(environment(fastFailingStore(proxyEndpoint)));
    const before = await grantsOfClient();
    const event = tokenRequest({
      headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
      body: { grant_type: 'client_credentials' },
    });
    const { result, output } = await capturingOutput(() => handler(event, localLambdaContext('token')));
    expect(output).toContain('temporarily_unavailable');
    expectOAuthError(result, 503, 'temporarily_unavailable');
    expect(await grantsOfClient()).toEqual(before);
  });

  it('consumes nothing when the rotation write fails: the refresh token and access token still work', async () => {
    const issued = await issueWithHealthyStack();
    const grantsBefore = await grantsOfClient();
    proxy.fail(`UpdateItem ${tables.grants}`);
    const handler = buildTokenLambda(environment(fastFailingStore(proxyEndpoint)));
    const { result, output } = await capturingOutput(() =>
      handler(refreshRequest(issued.refresh_token as string), localLambdaContext('token')),
    );
    expectUnavailable(result, output);
    expect(await grantsOfClient()).toEqual(grantsBefore);

    proxy.clear();
    const authorizer = buildAuthorizerLambda(environment({ LOG_LEVEL: 'SILENT' }));
    const decision = await authorizer(
      authorizerRequest({ authorization: bearerAuthorization(issued.access_token) }),
      localLambdaContext('authorizer'),
    );
    expect(decision.principalId).toBe('9001');
    const healthy = buildTokenLambda(environment({ LOG_LEVEL: 'SILENT' }));
    expectTokenResponse(
      await healthy(refreshRequest(issued.refresh_token as string), localLambdaContext('token')),
      USER_TOKEN_KEYS,
    );
  });

  it('never turns a rotation whose answer was lost (and retried by the SDK) into invalid_grant and a revocation', async () => {
    const issued = await issueWithHealthyStack();
    proxy.loseNextAnswer(`UpdateItem ${tables.grants}`);
    // Default DYNAMODB_MAX_ATTEMPTS (3): the SDK retries the conditional update after the reset.
    const handler = buildTokenLambda(
      environment({ DYNAMODB_ENDPOINT: proxyEndpoint, DYNAMODB_TIMEOUT_MS: '500' }),
    );
    const { result } = await capturingOutput(() =>
      handler(refreshRequest(issued.refresh_token as string), localLambdaContext('token')),
    );
    expect(proxy.pendingLostAnswers).toBe(0);
    // Either our own write is recognised (200 with the new tokens) or the store is reported unavailable (503);
    // a transport hiccup is not a replay, so the grant must not be revoked.
    const grantId = issued.access_token.split('.')[0];
    const grant = (await grantsOfClient()).find((item) => item.grantId === grantId);
    expect(grant).toBeDefined();
    expect({
      status: result.statusCode,
      body: JSON.parse(result.body),
      revoked: grant?.revokedAt !== undefined,
    }).toEqual({
      status: expect.toSatisfy((status: number) => status === 200 || status === 503),
      body: expect.anything(),
      revoked: false,
    });
  });

  it('answers a password grant whose grant write lost its answer with 503 (or the tokens), never anything else', async () => {
    hook.answerWith(ivyAnswer);
    proxy.loseNextAnswer(`PutItem ${tables.grants}`);
    const handler = buildTokenLambda(
      environment({ DYNAMODB_ENDPOINT: proxyEndpoint, DYNAMODB_TIMEOUT_MS: '500' }),
    );
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expect(proxy.pendingLostAnswers).toBe(0);
    if (result.statusCode === 200) expectTokenResponse(result, USER_TOKEN_KEYS);
    else expectUnavailable(result, output);
  });

  it('answers an admin create-client whose write lost its answer with the client or temporarily_unavailable', async () => {
    proxy.loseNextAnswer(`PutItem ${tables.clients}`);
    const admin = buildAdminLambda(
      environment({ DYNAMODB_ENDPOINT: proxyEndpoint, DYNAMODB_TIMEOUT_MS: '500', LOG_LEVEL: 'SILENT' }),
    );
    const result = (await admin(
      { action: 'create-client', name: 'lost-answer', grant_types: ['client_credentials'] },
      localLambdaContext('admin'),
    )) as Record<string, unknown>;
    expect(proxy.pendingLostAnswers).toBe(0);
    if ('error' in result) expect(result).toMatchObject({ error: 'temporarily_unavailable' });
    else expect(result).toMatchObject({ name: 'lost-answer', client_secret: expect.any(String) });
  });

  it('answers 503 when reading the grant to explain a refused refresh fails, and consumes nothing', async () => {
    const issued = await issueWithHealthyStack();
    // A user_id that does not match makes the write's condition fail; the grant read that explains
    // the refusal then fails too.
    proxy.fail(`GetItem ${tables.grants}`);
    const handler = buildTokenLambda(environment(fastFailingStore(proxyEndpoint)));
    const mismatched = tokenRequest({
      headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
      body: {
        grant_type: 'refresh_token',
        refresh_token: issued.refresh_token as string,
        user_id: 'someone-else',
      },
    });
    const { result, output } = await capturingOutput(() => handler(mismatched, localLambdaContext('token')));
    expectUnavailable(result, output);
    proxy.clear();
    const healthy = buildTokenLambda(environment());
    const again = await healthy(refreshRequest(issued.refresh_token as string), localLambdaContext('token'));
    expect(again.statusCode).toBe(200);
  });

  it('answers the admin function with {"error":"temporarily_unavailable"} when the store fails', async () => {
    const admin = buildAdminLambda(environment(fastFailingStore(await closedPortEndpoint())));
    const { result, output } = await capturingOutput(
      async () =>
        (await admin({ action: 'list-clients' }, localLambdaContext('admin'))) as Record<string, unknown>,
    );
    expect(result).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.stringMatching(PRINTABLE_DESCRIPTION),
    });
    expect(output).toContain('temporarily_unavailable');
  });
});

describe('AuthCheck failures at the token endpoint', () => {
  const echo = (): string => JSON.stringify({ received: { username: USERNAME, password } });

  it.each<[string, () => HookAnswer]>([
    ['answers 500 echoing the request', () => ({ text: `Internal error for ${echo()}`, status: 500 })],
    ['answers 500 with JSON', () => ({ json: { user_id: 9001 }, status: 500 })],
    ['answers 404', () => ({ text: 'not found', status: 404 })],
    ['answers 429', () => ({ json: { error: 'slow down' }, status: 429 })],
    ['redirects', () => ({ text: '', status: 302 })],
    [
      'answers text that is not JSON and echoes the password',
      () => ({ text: `{"user_id": ${password}`, status: 200 }),
    ],
    ['answers a JSON array', () => ({ json: [9001] })],
    ['answers an object without user_id', () => ({ json: { id: 9001 } })],
    ['answers user_id true', () => ({ json: { user_id: true } })],
    ['answers an empty user_id', () => ({ json: { user_id: '' } })],
    ['answers a user_id echoing the password in an object', () => ({ json: { user_id: { password } } })],
    ['answers an unsafe integer user_id', () => ({ json: { user_id: 2 ** 60 } })],
    ['answers a 300-character user_id', () => ({ json: { user_id: 'u'.repeat(300) } })],
    ['drops the connection', () => ({ hangUp: true })],
    ['is slower than AUTH_CHECK_TIMEOUT_MS', () => ({ delayMs: 2_000, answer: { json: { user_id: 9001 } } })],
  ])('answers 503 and issues nothing when the AuthCheck %s', async (_name, answer) => {
    const handler = buildTokenLambda(environment({ AUTH_CHECK_TIMEOUT_MS: '300' }));
    hook.answerWith(answer());
    const before = await grantsOfClient();
    const started = Date.now();
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expectUnavailable(result, output);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(hook.requests).toHaveLength(1);
    expect(await grantsOfClient()).toEqual(before);
  });

  it('answers 503 before the Lambda times out when a dependency outlasts the invocation', async () => {
    // AuthCheck allowed 10 s, but the invocation has 1.6 s left: middy gives up 1 s before the end.
    const handler = buildTokenLambda(environment({ AUTH_CHECK_TIMEOUT_MS: '10000' }));
    hook.answerWith({ delayMs: 4_000, answer: { json: { user_id: 9001 } } });
    const before = await grantsOfClient();
    const started = Date.now();
    const context = { ...localLambdaContext('token'), getRemainingTimeInMillis: () => 1_600 };
    const { result, output } = await capturingOutput(() => handler(passwordRequest(), context));
    expectUnavailable(result, output);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(1_600);
    expect(await grantsOfClient()).toEqual(before);
  });

  it('answers 503 when the AuthCheck is down', async () => {
    const handler = buildTokenLambda(
      environment({ AUTH_CHECK_URL: `${await closedPortEndpoint()}/auth-check` }),
    );
    const before = await grantsOfClient();
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expectUnavailable(result, output);
    expect(await grantsOfClient()).toEqual(before);
  });

  it('answers 503 when the hook refuses our signature (wrong shared secret)', async () => {
    // No override: the hook checks signatures and answers 400 to a request it cannot verify.
    const handler = buildTokenLambda(environment({ AUTH_CHECK_SECRET: 'not-the-hook-secret' }));
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expectUnavailable(result, output);
    expect(hook.requests).toEqual([expect.objectContaining({ signed: false })]);
  });

  it('still answers bad credentials with invalid_grant, and logs no password then either', async () => {
    const handler = buildTokenLambda(environment());
    hook.answerWith({ json: { user_id: null } });
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    expectOAuthError(result, 400, 'invalid_grant');
    expect(output).toContain('invalid_grant');
    expect(output.includes(password)).toBe(false);
  });

  it('logs no password on success either', async () => {
    const handler = buildTokenLambda(environment());
    hook.answerWith(ivyAnswer);
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(), localLambdaContext('token')),
    );
    const body = expectTokenResponse(result, USER_TOKEN_KEYS);
    expect(output).toContain('token_issued');
    for (const secret of [password, body.access_token, body.refresh_token as string, client.client_secret]) {
      expect(output.includes(secret)).toBe(false);
    }
  });
});
