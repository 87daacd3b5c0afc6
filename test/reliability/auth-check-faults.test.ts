import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import type { TableNames } from '../../lambdas/store/table-definitions';
import {
  authorizerRequest,
  bearerAuthorization,
  expectOAuthError,
  expectTokenResponse,
  type TokenBody,
  USER_TOKEN_KEYS,
} from '../support/api-gateway-events';
import {
  type AuthCheckHookServer,
  type HookAnswer,
  type HookRequest,
  startAuthCheckHookServer,
} from '../support/auth-check-hook-server';
import { capturingOutput } from '../support/captured-output';
import {
  closedPortUrl,
  type FaultHook,
  type LambdaBehaviour,
  type LambdaInvokeServer,
  opensslAvailable,
  startLambdaInvokeServer,
  startResettingHook,
  startSelfSignedTlsHook,
  startStallingBodyHook,
} from '../support/fault-hook-servers';
import { pickWeighted, seededRandom, Tally } from '../support/fault-random';
import { invokeLocalAdmin } from '../support/local-admin-invoke';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';
import { type Client, formPost } from '../support/token-service-fixture';

/**
 * The AuthCheck failing in every way a hook can (slow, 5xx, malformed, refused, untrusted TLS, a
 * Lambda function error), through the token Lambda at LOG_LEVEL=DEBUG: always 503
 * temporarily_unavailable, never a token or a stored grant, never the password in a log line, an
 * answer or the tables; and the same warm Lambda issues tokens again once the hook recovers.
 */

/**
 * Short, so the slow-hook cases stay quick, yet long enough for a healthy loopback hook on a busy
 * machine (the recovery checks and the flapping test need those answers); "slow" hooks wait far longer.
 */
const TIMEOUT_MS = 800;
const SLOW_MS = 2_500;
const LAMBDA_FUNCTION = 'acf-auth-check';
const SEED = Number(process.env.FAULT_SEED ?? 60_062);

const tables: TableNames = { clients: 'acf-clients', grants: 'acf-grants' };
let backend: ServiceBackend;
let client: Client;
let lambda: LambdaInvokeServer;
const faultHooks: FaultHook[] = [];
/** Every password sent during this file: none may be stored anywhere. */
const passwords: string[] = [];
const outcomes = new Tally();

/** A fresh user per case, so no username collects failures (the password lockout counts them). */
let userCount = 0;
function newUser() {
  userCount += 1;
  const password = `acf-pw-${randomBytes(12).toString('base64url')}-never-log`;
  passwords.push(password);
  return { username: `acf-user-${userCount}`, password, userId: 8000 + userCount };
}
type User = ReturnType<typeof newUser>;

beforeAll(async () => {
  [backend, lambda] = await Promise.all([
    // The hook's answers are scripted per user below.
    startServiceBackend({ tables, hookSecret: 'acf-hook-secret', users: {} }),
    startLambdaInvokeServer(),
  ]);
  const admin = buildAdminLambda(backend.environment());
  client = (await admin(
    { action: 'create-client', name: 'acf', grant_types: ['password', 'refresh_token'] },
    localLambdaContext('admin'),
  )) as unknown as Client;
  expect(client.client_secret).toEqual(expect.any(String));
});

afterAll(async () => {
  console.log(`[auth-check-faults] outcomes: ${outcomes}`);
  await Promise.all([backend?.stop(), lambda?.stop(), ...faultHooks.map((hook) => hook.stop())]);
});

/** The token Lambda at DEBUG with a short AuthCheck timeout; `hook` overrides AUTH_CHECK_*. */
const tokenLambda = (hook: Environment) =>
  buildTokenLambda(
    backend.environment({ LOG_LEVEL: 'DEBUG', AUTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS), ...hook }),
  );

const lambdaHook: Environment = {
  AUTH_CHECK_URL: undefined,
  AUTH_CHECK_SECRET: undefined,
  AUTH_CHECK_FUNCTION_NAME: LAMBDA_FUNCTION,
  AUTH_CHECK_LAMBDA_ENDPOINT: '',
};

const passwordRequest = (user: User) =>
  formPost('/oauth2/token', client, {
    grant_type: 'password',
    username: user.username,
    password: user.password,
  });

async function grantCount(): Promise<number> {
  const { Items = [] } = await backend.dynamo.doc.send(
    new ScanCommand({ TableName: tables.grants, ConsistentRead: true }),
  );
  return Items.filter((item) => item.clientId === client.client_id).length;
}

async function authorize(accessToken: string): Promise<string> {
  const authorizer = buildAuthorizerLambda(backend.environment({ CLIENT_CACHE_TTL_SECONDS: '0' }));
  try {
    const result = await authorizer(
      authorizerRequest({ authorization: bearerAuthorization(accessToken) }),
      localLambdaContext('authorizer'),
    );
    return result.policyDocument.Statement.length > 0 ? 'Allow' : 'no statement';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** 503 temporarily_unavailable with nothing in it, and nothing secret in it or in the logs. */
function expectUnavailable(result: APIGatewayProxyResult, output: string, user: User): void {
  expectOAuthError(result, 503, 'temporarily_unavailable');
  expect(result.body).not.toContain('access_token');
  expect(result.body.includes(user.password)).toBe(false);
  // The failure was logged (so the capture works) at DEBUG, without the password or the hook secret.
  expect(output).toContain('temporarily_unavailable');
  expect(output.includes(user.password), 'the password reached a log line').toBe(false);
  expect(output.includes(backend.hook.secret), 'the hook secret reached a log line').toBe(false);
}

/** One failing AuthCheck: how to reach it, and how to tell that it was reached. */
interface FaultCase {
  /** Token Lambda settings for this hook; `user` is the case's own user. */
  readonly hook: (user: User) => Promise<Environment>;
  /** True when the hook saw the request (the password travelled); false when it must not have. */
  readonly reached: (user: User) => boolean;
  /** Makes the same hook healthy again, for the recovery check (absent: the hook stays broken). */
  readonly recover?: (user: User) => void;
}

const httpHookSaw = (hook: AuthCheckHookServer, user: User) =>
  hook.requests.some((request) => request.username === user.username && request.password === user.password);
const lambdaSaw = (user: User) =>
  lambda.invocations.some(
    (invocation) => invocation.functionName === LAMBDA_FUNCTION && invocation.payload.includes(user.password),
  );
const echoOf = (request: HookRequest) =>
  JSON.stringify({ username: request.username, password: request.password });

/** The loopback HTTP hook answering `answer` to this case's user (and null to anyone else). */
function scriptedHook(answer: (request: HookRequest) => HookAnswer): FaultCase {
  const forUser = (user: User) =>
    backend.hook.answerWith((request) =>
      request.username === user.username ? answer(request) : { json: { user_id: null } },
    );
  return {
    hook: async (user) => {
      forUser(user);
      return {};
    },
    reached: (user) => httpHookSaw(backend.hook, user),
    recover: (user) =>
      backend.hook.answerWith((request) => ({
        json: {
          user_id:
            request.username === user.username && request.password === user.password ? user.userId : null,
        },
      })),
  };
}

/** The emulated Lambda answering `behaviour` to this case's user. */
function scriptedLambda(behaviour: (event: Record<string, unknown>) => LambdaBehaviour): FaultCase {
  return {
    hook: async () => {
      lambda.answerWith(behaviour);
      return { ...lambdaHook, AUTH_CHECK_LAMBDA_ENDPOINT: lambda.endpoint };
    },
    reached: lambdaSaw,
    recover: (user) =>
      lambda.answerWith((event) => ({
        kind: 'return',
        payload: JSON.stringify({ user_id: event.password === user.password ? user.userId : null }),
      })),
  };
}

/** A hook at a URL of its own that stays broken. */
function brokenHookAt(
  start: () => Promise<FaultHook | string>,
  reached: (hook: FaultHook) => boolean,
): FaultCase {
  let hook: FaultHook | undefined;
  return {
    hook: async () => {
      const started = await start();
      if (typeof started === 'string') return { AUTH_CHECK_URL: started };
      hook = started;
      faultHooks.push(started);
      return { AUTH_CHECK_URL: started.url };
    },
    reached: () => (hook === undefined ? false : reached(hook)),
  };
}

const HTTP_CASES: Record<string, FaultCase> = {
  'is slower than AUTH_CHECK_TIMEOUT_MS': scriptedHook(() => ({
    delayMs: SLOW_MS,
    answer: { json: { user_id: 1 } },
  })),
  'answers 500 echoing the request': scriptedHook((request) => ({
    text: `internal error for ${echoOf(request)}`,
    status: 500,
  })),
  'answers 503': scriptedHook(() => ({ json: { error: 'unavailable' }, status: 503 })),
  'answers malformed JSON echoing the password': scriptedHook((request) => ({
    text: `{"user_id": ${String(request.password)}`,
    status: 200,
    contentType: 'application/json',
  })),
  'answers JSON without user_id, echoing the request': scriptedHook((request) => ({
    json: { received: { username: request.username, password: request.password } },
  })),
  'drops the connection': scriptedHook(() => ({ hangUp: true })),
  'sends headers, then stalls the body': brokenHookAt(startStallingBodyHook, (hook) => hook.requests > 0),
  'refuses the connection': brokenHookAt(
    () => closedPortUrl(),
    () => false,
  ),
};

const TLS_CASES: Record<string, FaultCase> = {
  'presents a self-signed certificate (https)': brokenHookAt(
    startSelfSignedTlsHook,
    (hook) => hook.requests > 0,
  ),
  'speaks plain HTTP on an https URL': {
    hook: async () => ({ AUTH_CHECK_URL: backend.hook.url.replace('http:', 'https:') }),
    reached: (user) => httpHookSaw(backend.hook, user),
  },
  'resets the TLS handshake': brokenHookAt(startResettingHook, (hook) => hook.requests > 0),
};

const LAMBDA_CASES: Record<string, FaultCase> = {
  'FunctionError Unhandled, echoing the event': scriptedLambda((event) => ({
    kind: 'function-error',
    errorType: 'Unhandled',
    payload: JSON.stringify({
      errorType: 'Error',
      errorMessage: `bad event ${JSON.stringify(event)}`,
      trace: [],
    }),
  })),
  'FunctionError Handled': scriptedLambda(() => ({
    kind: 'function-error',
    errorType: 'Handled',
    payload: JSON.stringify({ errorType: 'UserStoreDown', errorMessage: 'user store unreachable' }),
  })),
  'is slower than AUTH_CHECK_TIMEOUT_MS': scriptedLambda(() => ({
    kind: 'delay',
    ms: SLOW_MS,
    answer: { kind: 'return', payload: '{"user_id":1}' },
  })),
  'is throttled by the Lambda service (429)': scriptedLambda(() => ({
    kind: 'service-error',
    status: 429,
    type: 'TooManyRequestsException',
  })),
  'fails in the Lambda service (500)': scriptedLambda(() => ({
    kind: 'service-error',
    status: 500,
    type: 'ServiceException',
  })),
  'returns a payload that is not JSON, echoing the event': scriptedLambda((event) => ({
    kind: 'return',
    payload: `user_id=${String(event.password)}`,
  })),
};

/** The case, end to end: 503, no grant, nothing leaked; then, if the hook recovers, a working token. */
async function runCase(kind: string, name: string, fault: FaultCase, expectReached: boolean) {
  const user = newUser();
  const handler = tokenLambda(await fault.hook(user));
  const before = await grantCount();
  const { result, output } = await capturingOutput(() =>
    handler(passwordRequest(user), localLambdaContext('token')),
  );
  outcomes.add(`${kind}:${result.statusCode}`);
  expectUnavailable(result, output, user);
  expect(await grantCount(), 'a grant was stored').toBe(before);
  expect(
    fault.reached(user),
    expectReached ? 'the hook never saw the request' : 'the password was sent',
  ).toBe(expectReached);
  if (fault.recover === undefined) return;
  fault.recover(user);
  const recovered = await capturingOutput(() => handler(passwordRequest(user), localLambdaContext('token')));
  const body = expectTokenResponse(recovered.result, USER_TOKEN_KEYS);
  expect(recovered.output.includes(user.password)).toBe(false);
  expect(await authorize(body.access_token), `${name}: the token after recovery`).toBe('Allow');
  outcomes.add(`${kind}:recovered`);
}

describe('HTTP AuthCheck failures', () => {
  it.each(Object.entries(HTTP_CASES))(
    '503, no token, no password in the logs when the hook %s',
    async (name, fault) => {
      await runCase('http', name, fault, name !== 'refuses the connection');
    },
  );
});

describe('TLS failures of an https AuthCheck', () => {
  it.skipIf(!opensslAvailable()).each(Object.entries(TLS_CASES))(
    '503 when the hook %s, and the password never leaves for an untrusted peer',
    async (name, fault) => {
      await runCase('tls', name, fault, false);
    },
  );
});

describe('Lambda AuthCheck failures', () => {
  it.each(Object.entries(LAMBDA_CASES))(
    '503, no token, no password in the logs when the function %s',
    async (name, fault) => {
      await runCase('lambda', name, fault, true);
    },
  );

  it('refuses the connection: 503 as well', async () => {
    const user = newUser();
    const handler = tokenLambda({ ...lambdaHook, AUTH_CHECK_LAMBDA_ENDPOINT: await closedPortUrl('') });
    const { result, output } = await capturingOutput(() =>
      handler(passwordRequest(user), localLambdaContext('token')),
    );
    outcomes.add(`lambda:${result.statusCode}`);
    expectUnavailable(result, output, user);
  });
});

describe('a flapping hook under concurrent logins (seeded)', () => {
  it('answers each login with its tokens exactly when the hook said yes, 503 otherwise, and stores nothing else', async () => {
    const random = seededRandom(SEED);
    const kinds = [
      ['ok', 4],
      ['500', 1],
      ['slow', 1],
      ['malformed', 1],
      ['hang-up', 1],
      ['invalid', 1],
    ] as const;
    const plan = Array.from({ length: 16 }, () => ({ user: newUser(), kind: pickWeighted(random, kinds) }));
    const byName = new Map(plan.map((entry) => [entry.user.username, entry]));
    backend.hook.answerWith((request): HookAnswer => {
      const entry = byName.get(String(request.username));
      if (entry === undefined || request.password !== entry.user.password) return { json: { user_id: null } };
      switch (entry.kind) {
        case 'ok':
          return { json: { user_id: entry.user.userId } };
        case 'invalid':
          return { json: { user_id: null } };
        case '500':
          return { text: `failed for ${echoOf(request)}`, status: 500 };
        case 'slow':
          return { delayMs: SLOW_MS, answer: { json: { user_id: entry.user.userId } } };
        case 'malformed':
          return { text: `{"user_id":${String(request.password)}`, status: 200 };
        case 'hang-up':
          return { hangUp: true };
      }
    });
    const handler = tokenLambda({});
    const before = await grantCount();
    const { result: results, output } = await capturingOutput(() =>
      Promise.all(plan.map((entry) => handler(passwordRequest(entry.user), localLambdaContext('token')))),
    );
    const tally = new Tally();
    const issued: TokenBody[] = [];
    plan.forEach((entry, index) => {
      const result = results[index] as APIGatewayProxyResult;
      tally.add(`${entry.kind}:${result.statusCode}`);
      expect(result.body.includes(entry.user.password)).toBe(false);
      if (entry.kind === 'ok') issued.push(expectTokenResponse(result, USER_TOKEN_KEYS));
      else if (entry.kind === 'invalid') expectOAuthError(result, 400, 'invalid_grant');
      else expectOAuthError(result, 503, 'temporarily_unavailable');
    });
    console.log(`[auth-check-faults] flapping hook, 16 concurrent logins: ${tally}`);
    for (const entry of plan)
      expect(output.includes(entry.user.password), 'a password reached a log line').toBe(false);
    expect(await grantCount()).toBe(before + issued.length);
    for (const body of issued) expect(await authorize(body.access_token)).toBe('Allow');
    expect(tally.sum('ok:200')).toBeGreaterThan(0);
    expect(
      tally.get('500:503') + tally.get('slow:503') + tally.get('malformed:503') + tally.get('hang-up:503'),
    ).toBeGreaterThan(0);
  });
});

describe('over HTTP, through the local stack', () => {
  let stack: LocalStack;
  let hook: AuthCheckHookServer;
  let stackClient: { client_id: string; client_secret: string };

  beforeAll(async () => {
    hook = await startAuthCheckHookServer({ secret: 'acf-stack-hook-secret', users: {} });
    // Set-up logs (DEBUG) are swallowed; the cases below capture and read theirs.
    const { result } = await capturingOutput(async () => {
      stack = await startLocalStack({
        port: 0,
        authCheckUrl: hook.url,
        authCheckSecret: hook.secret,
        demoClient: false,
        environment: { LOG_LEVEL: 'DEBUG', AUTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) },
      });
      const created = await invokeLocalAdmin(stack.url, {
        action: 'create-client',
        name: 'acf-stack',
        grant_types: ['password'],
      });
      return (await created.json()) as typeof stackClient;
    });
    stackClient = result;
  });

  afterAll(async () => {
    await stack?.close();
    await hook?.stop();
  });

  it.each<[string, HookAnswer]>([
    ['slow', { delayMs: SLOW_MS, answer: { json: { user_id: 1 } } }],
    ['500', { text: 'internal error', status: 500 }],
    ['malformed', { text: '{"user_id":', status: 200 }],
  ])('answers a %s hook with HTTP 503 JSON, no-store, and logs no password', async (_name, answer) => {
    const user = newUser();
    hook.answerWith(answer);
    const { result: response, output } = await capturingOutput(async () => {
      const sent = await fetch(`${stack.url}/oauth2/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(`${stackClient.client_id}:${stackClient.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: user.username,
          password: user.password,
        }),
      });
      return {
        status: sent.status,
        cacheControl: sent.headers.get('cache-control'),
        body: await sent.text(),
      };
    });
    outcomes.add(`local-stack:${response.status}`);
    expect(response.status).toBe(503);
    expect(response.cacheControl).toBe('no-store');
    expect(JSON.parse(response.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(response.body.includes(user.password)).toBe(false);
    expect(output.includes(user.password), 'the password reached a log line').toBe(false);
    expect(hook.requests.some((request) => request.password === user.password)).toBe(true);
  });
});

describe('after every case above', () => {
  it('no password is stored in either table', async () => {
    const stored = await Promise.all(
      [tables.clients, tables.grants].map((TableName) =>
        backend.dynamo.doc.send(new ScanCommand({ TableName, ConsistentRead: true })),
      ),
    );
    const dump = JSON.stringify(stored.map((page) => page.Items ?? []));
    expect(passwords.length).toBeGreaterThan(20);
    for (const password of passwords) expect(dump.includes(password)).toBe(false);
  });
});
