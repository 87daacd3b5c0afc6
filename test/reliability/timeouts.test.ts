import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHORIZER_TIMEOUT_SECONDS,
  FORM_ENDPOINT_TIMEOUT_SECONDS,
  TOKEN_TIMEOUT_SECONDS,
} from '../../infra/oauth2-token-service';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildIntrospectionLambda } from '../../lambdas/handlers/introspection-lambda';
import { buildRevocationLambda } from '../../lambdas/handlers/revocation-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { LAMBDA_DEADLINE } from '../../lambdas/http/lambda-deadline';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { TableNames } from '../../lambdas/store/table-definitions';
import { authorizerRequest, bearerAuthorization } from '../support/api-gateway-events';
import type { HookUser } from '../support/auth-check-hook-server';
import {
  type FaultDynamoDbProxy,
  type ProxiedRequest,
  startFaultDynamoDbProxy,
} from '../support/fault-dynamodb-proxy';
import { type LambdaInvokeServer, startLambdaInvokeServer } from '../support/fault-hook-servers';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';
import { type Client, formPost, withContext } from '../support/token-service-fixture';

/**
 * The time budget of each Lambda: the documented defaults are measured (attempts per store call,
 * the per-attempt store timeout, the AuthCheck timeout), the store calls per request are counted on
 * the wire, the Lambda timeouts are read from infra/, and the worst cases are checked against the
 * Lambda timeouts and API Gateway's 29 s integration limit.
 */

// The documented defaults (README "Lambda environment"); the first describe measures each of them.
const STORE_TIMEOUT_MS = 1_500;
const STORE_ATTEMPTS = 3;
const AUTH_CHECK_TIMEOUT_MS = 3_000;
/**
 * The installed SDK's retry backoff (@smithy/core retry, "v2026" settings, as DynamoDBClient
 * configures them): retry n (0-based) waits random × base × 2^n, base 25 ms for transient errors
 * and 1 000 ms for throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded).
 */
const TRANSIENT_BACKOFF_BASE_MS = 25;
const THROTTLING_BACKOFF_BASE_MS = 1_000;
/** API Gateway REST API's maximum integration timeout. */
const API_GATEWAY_LIMIT_MS = 29_000;

const backoffCap = (base: number) =>
  Array.from({ length: STORE_ATTEMPTS - 1 }, (_, retry) => base * 2 ** retry).reduce((a, b) => a + b, 0);
/** One store call, every attempt timing out: what the README calls "≈ 6 s". */
const STORE_CALL_TIMEOUTS_MS = STORE_ATTEMPTS * STORE_TIMEOUT_MS + backoffCap(TRANSIENT_BACKOFF_BASE_MS);
/** One store call at its worst: each attempt answered (throttled) just before its timeout. */
const STORE_CALL_WORST_MS = STORE_ATTEMPTS * STORE_TIMEOUT_MS + backoffCap(THROTTLING_BACKOFF_BASE_MS);

/** The Lambda timeouts the stack sets (test/infra pins that each function uses its constant). */
function lambdaTimeoutMs(id: 'Token' | 'Revocation' | 'Introspection' | 'Authorizer'): number {
  const seconds = {
    Token: TOKEN_TIMEOUT_SECONDS,
    Revocation: FORM_ENDPOINT_TIMEOUT_SECONDS,
    Introspection: FORM_ENDPOINT_TIMEOUT_SECONDS,
    Authorizer: AUTHORIZER_TIMEOUT_SECONDS,
  }[id];
  return seconds * 1000;
}

const tables: TableNames = { clients: 'timeouts-clients', grants: 'timeouts-grants' };
const users: Record<string, HookUser> = {
  'to-user-1': { password: 'to-password-1', userId: 1 },
  'to-user-2': { password: 'to-password-2', userId: 2 },
  'to-user-3': { password: 'to-password-3', userId: 3 },
};
const login = (username: string) => ({ username, password: users[username]?.password ?? '' });

let backend: ServiceBackend;
let proxy: FaultDynamoDbProxy;
let lambda: LambdaInvokeServer;
let client: Client;
const servers: Server[] = [];

const environment = (route: string, extra: Environment = {}) =>
  backend.environment({ DYNAMODB_ENDPOINT: `${proxy.endpoint}/${route}`, ...extra });
const tokenLambda = (route: string, extra: Environment = {}) =>
  withContext(buildTokenLambda(environment(route, extra)), 'token');

beforeAll(async () => {
  [backend, lambda] = await Promise.all([
    startServiceBackend({ tables, hookSecret: 'timeouts-hook-secret', users }),
    startLambdaInvokeServer(),
  ]);
  proxy = await startFaultDynamoDbProxy(backend.dynalite.endpoint);
  const admin = buildAdminLambda(backend.environment());
  client = (await admin(
    {
      action: 'create-client',
      name: 'timeouts',
      grant_types: ['password', 'refresh_token', 'client_credentials'],
      resource_server: true,
    },
    localLambdaContext('admin'),
  )) as unknown as Client;
});

afterAll(async () => {
  await Promise.all([
    proxy?.stop(),
    backend?.stop(),
    lambda?.stop(),
    ...servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  ]);
});

const statusOf = (result: APIGatewayProxyResult) =>
  result.statusCode === 200 ? '200' : `${result.statusCode}-${String(JSON.parse(result.body).error)}`;
const onRoute = (route: string, operation: string, table: string) => (request: ProxiedRequest) =>
  request.route === route && request.operation === operation && request.table === table;

describe('the documented defaults, measured', () => {
  it(`a store call is tried ${STORE_ATTEMPTS} times (DYNAMODB_MAX_ATTEMPTS), then the answer is 503`, async () => {
    let attempts = 0;
    const clientRead = onRoute('attempts', 'GetItem', tables.clients);
    proxy.setPlan((request) => {
      if (!clientRead(request)) return undefined;
      attempts += 1;
      return { kind: 'error', error: 'InternalServerError' };
    });
    try {
      const token = tokenLambda('attempts');
      const result = await token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' }));
      expect(statusOf(result)).toBe('503-temporarily_unavailable');
    } finally {
      proxy.setPlan(undefined);
    }
    expect(attempts).toBe(STORE_ATTEMPTS);
  });

  it('throttling is retried like any transient error', async () => {
    let attempts = 0;
    let written = false;
    const clientRead = onRoute('throttled', 'GetItem', tables.clients);
    proxy.setPlan((request) => {
      // Count the client read that authenticates; the read after the grant's PutItem is another call.
      if (request.route === 'throttled' && request.operation === 'PutItem') written = true;
      if (written || !clientRead(request)) return undefined;
      attempts += 1;
      return attempts === 1 ? { kind: 'error', error: 'ProvisionedThroughputExceededException' } : undefined;
    });
    try {
      const token = tokenLambda('throttled');
      const result = await token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' }));
      expect(statusOf(result)).toBe('200');
    } finally {
      proxy.setPlan(undefined);
    }
    expect(attempts).toBe(2);
  });

  it(`an attempt is abandoned after ${STORE_TIMEOUT_MS} ms (DYNAMODB_TIMEOUT_MS) and retried`, async () => {
    const clientRead = onRoute('store-timeout', 'GetItem', tables.clients);
    const arrivals: number[] = [];
    let written = false;
    proxy.setPlan((request) => {
      if (request.route === 'store-timeout' && request.operation === 'PutItem') written = true;
      if (written || !clientRead(request)) return undefined;
      arrivals.push(performance.now());
      return arrivals.length === 1
        ? { kind: 'stall', ms: STORE_TIMEOUT_MS + 3_000, apply: false }
        : undefined;
    });
    try {
      const token = tokenLambda('store-timeout');
      const result = await token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' }));
      expect(statusOf(result)).toBe('200');
    } finally {
      proxy.setPlan(undefined);
    }
    expect(arrivals).toHaveLength(2);
    const [first = 0, second = 0] = arrivals;
    // Only the timeout can have ended the first attempt: the stall outlasts it by 3 s.
    expect(second - first).toBeGreaterThanOrEqual(STORE_TIMEOUT_MS - 50);
    expect(second - first).toBeLessThan(STORE_TIMEOUT_MS + 2_500);
  });

  it(`the HTTP AuthCheck is abandoned after ${AUTH_CHECK_TIMEOUT_MS} ms (AUTH_CHECK_TIMEOUT_MS): 503`, async () => {
    backend.hook.answerWith({ delayMs: AUTH_CHECK_TIMEOUT_MS + 5_000, answer: { json: { user_id: 1 } } });
    try {
      const token = tokenLambda('hook-timeout');
      const started = performance.now();
      const result = await token(
        formPost('/oauth2/token', client, { grant_type: 'password', ...login('to-user-1') }),
      );
      const elapsed = performance.now() - started;
      expect(statusOf(result)).toBe('503-temporarily_unavailable');
      expect(elapsed).toBeGreaterThanOrEqual(AUTH_CHECK_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(AUTH_CHECK_TIMEOUT_MS + 4_000);
    } finally {
      backend.hook.reset();
    }
  });

  it('the Lambda AuthCheck is invoked once per login, never retried (its timeout covers the whole call)', async () => {
    lambda.answerWith(() => ({ kind: 'service-error', status: 500, type: 'ServiceException' }));
    const before = lambda.invocations.length;
    const token = tokenLambda('lambda-hook', {
      AUTH_CHECK_URL: undefined,
      AUTH_CHECK_SECRET: undefined,
      AUTH_CHECK_FUNCTION_NAME: 'timeouts-auth-check',
      AUTH_CHECK_LAMBDA_ENDPOINT: lambda.endpoint,
    });
    const result = await token(
      formPost('/oauth2/token', client, { grant_type: 'password', ...login('to-user-2') }),
    );
    expect(statusOf(result)).toBe('503-temporarily_unavailable');
    expect(lambda.invocations.length - before).toBe(1);
  });

  /**
   * The Secrets Manager client that loads the hook secret (the deployed wiring: AUTH_CHECK_SECRET_ARN)
   * gives up after 2 attempts of 1 s each: a Secrets Manager that accepts the connection and never
   * answers costs a bounded ~2 s and a 503, not the Lambda's whole timeout.
   */
  it('a silent Secrets Manager (hook secret) is answered 503 within its 2 × 1 s budget', async () => {
    const silent = createServer((request) => request.resume());
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const secretsBudgetMs = 2 * 1_000;
    const token = tokenLambda('silent-secrets', {
      AUTH_CHECK_SECRET: undefined,
      AUTH_CHECK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timeouts-hook-AbCdEf',
      SECRETS_MANAGER_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    });
    const answer = await Promise.race([
      token(formPost('/oauth2/token', client, { grant_type: 'password', ...login('to-user-3') })).then(
        statusOf,
      ),
      new Promise<string>((resolve) =>
        setTimeout(() => resolve('no answer'), secretsBudgetMs + 2_000).unref(),
      ),
    ]);
    expect(answer).toBe('503-temporarily_unavailable');
  });
});

/** Sequential store calls per request on the happy path, counted on the wire. */
const calls: Record<string, number> = {};

describe('the worst case of every Lambda', () => {
  beforeAll(async () => {
    let forwarded = 0;
    const count = async (name: string, action: () => Promise<unknown>) => {
      forwarded = 0;
      proxy.setPlan((request) => {
        if (request.route === 'count') forwarded += 1;
        return undefined;
      });
      try {
        await action();
      } finally {
        proxy.setPlan(undefined);
      }
      calls[name] = forwarded;
    };
    const token = tokenLambda('count');
    const issued = JSON.parse(
      (await token(formPost('/oauth2/token', client, { grant_type: 'password', ...login('to-user-1') })))
        .body,
    ) as Record<string, string>;
    const other = JSON.parse(
      (await token(formPost('/oauth2/token', client, { grant_type: 'password', ...login('to-user-2') })))
        .body,
    ) as Record<string, string>;
    const revocation = withContext(buildRevocationLambda(environment('count')), 'revocation');
    const introspection = withContext(buildIntrospectionLambda(environment('count')), 'introspection');
    const authorizer = buildAuthorizerLambda(environment('count', { CLIENT_CACHE_TTL_SECONDS: '0' }));
    await count('password', () =>
      token(formPost('/oauth2/token', client, { grant_type: 'password', ...login('to-user-3') })),
    );
    await count('client_credentials', () =>
      token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' })),
    );
    await count('refresh', () =>
      token(
        formPost('/oauth2/token', client, {
          grant_type: 'refresh_token',
          refresh_token: issued.refresh_token ?? '',
        }),
      ),
    );
    await count('introspection', () =>
      introspection(formPost('/oauth2/introspect', client, { token: other.access_token ?? '' })),
    );
    await count('authorizer', () =>
      authorizer(
        authorizerRequest({ authorization: bearerAuthorization(other.access_token ?? '') }),
        localLambdaContext('authorizer'),
      ),
    );
    await count('revocation', () =>
      revocation(formPost('/oauth2/revoke', client, { token: other.access_token ?? '' })),
    );
    console.log(`[timeouts] store calls per request (happy path): ${JSON.stringify(calls)}`);
  });

  /**
   * Worst case of one request: its store calls one after another, each at `perCallMs`, plus the
   * AuthCheck for a password grant. Extra calls on rarer paths are added by the caller.
   */
  const worstMs = (name: string, perCallMs: number, extraCalls = 0) =>
    ((calls[name] ?? Number.NaN) + extraCalls) * perCallMs +
    (name === 'password' ? AUTH_CHECK_TIMEOUT_MS : 0);

  it('README: one store call (attempts × timeout) plus the AuthCheck timeout fits the token Lambda and API Gateway', () => {
    const total = STORE_ATTEMPTS * STORE_TIMEOUT_MS + AUTH_CHECK_TIMEOUT_MS;
    console.log(
      `[timeouts] store call: ${STORE_ATTEMPTS} × ${STORE_TIMEOUT_MS} ms (+ backoff: ${backoffCap(TRANSIENT_BACKOFF_BASE_MS)} ms transient, ${backoffCap(THROTTLING_BACKOFF_BASE_MS)} ms throttled) = ${STORE_CALL_TIMEOUTS_MS} / ${STORE_CALL_WORST_MS} ms; AuthCheck ${AUTH_CHECK_TIMEOUT_MS} ms; ` +
        `Lambda timeouts: token ${lambdaTimeoutMs('Token')}, revocation ${lambdaTimeoutMs('Revocation')}, introspection ${lambdaTimeoutMs('Introspection')}, authorizer ${lambdaTimeoutMs('Authorizer')}`,
    );
    expect(total).toBeLessThan(lambdaTimeoutMs('Token'));
    expect(lambdaTimeoutMs('Token')).toBeLessThan(API_GATEWAY_LIMIT_MS);
  });

  it('every route but the password grant at its worst (each call throttled to its last attempt) stays under 29 s', () => {
    for (const name of ['client_credentials', 'refresh', 'revocation', 'introspection', 'authorizer']) {
      expect(worstMs(name, STORE_CALL_WORST_MS), name).toBeLessThan(API_GATEWAY_LIMIT_MS);
    }
  });

  it('token Lambda: a password grant whose store calls all time out fits its timeout', () => {
    expect(worstMs('password', STORE_CALL_TIMEOUTS_MS)).toBeLessThanOrEqual(lambdaTimeoutMs('Token'));
  });

  it('token Lambda: a refresh or a client_credentials grant at its worst (every call throttled) fits its timeout', () => {
    expect(worstMs('refresh', STORE_CALL_WORST_MS)).toBeLessThanOrEqual(lambdaTimeoutMs('Token'));
    expect(worstMs('client_credentials', STORE_CALL_WORST_MS)).toBeLessThanOrEqual(lambdaTimeoutMs('Token'));
  });

  it('revocation Lambda: its store calls at their worst fit its timeout', () => {
    expect(worstMs('revocation', STORE_CALL_WORST_MS)).toBeLessThanOrEqual(lambdaTimeoutMs('Revocation'));
  });

  it('introspection Lambda: a resource server asking about another client’s token (one more read) fits its timeout', () => {
    expect(worstMs('introspection', STORE_CALL_WORST_MS, 1)).toBeLessThanOrEqual(
      lambdaTimeoutMs('Introspection'),
    );
  });

  /**
   * A refresh whose rotation write fails settles it (a fence write and a read, 2 more calls): at its
   * very worst that outlasts any Lambda timeout API Gateway allows. What bounds it is the deadline:
   * every handler answers 503 `LAMBDA_DEADLINE` before its Lambda's timeout, always inside 29 s
   * (test/http/dependency-failures.test.ts runs a handler into its deadline).
   */
  it('beyond the timeouts, the deadline answers 503 before API Gateway’s 29 s for every route', () => {
    // A refresh that settles its write, or a password grant whose 4 calls are all throttled to their
    // last attempt (a table throttling that hard answers most requests 503 anyway).
    expect(worstMs('refresh', STORE_CALL_WORST_MS, 2)).toBeGreaterThan(lambdaTimeoutMs('Token'));
    expect(worstMs('password', STORE_CALL_WORST_MS)).toBeGreaterThan(lambdaTimeoutMs('Token'));
    for (const id of ['Token', 'Revocation', 'Introspection', 'Authorizer'] as const) {
      expect(lambdaTimeoutMs(id) - LAMBDA_DEADLINE.timeoutEarlyInMillis, id).toBeLessThan(
        API_GATEWAY_LIMIT_MS,
      );
      expect(LAMBDA_DEADLINE.timeoutEarlyInMillis).toBeGreaterThanOrEqual(500);
    }
  });

  it.each([
    ['client_credentials', 'Token'],
    ['refresh', 'Token'],
    ['authorizer', 'Authorizer'],
  ] as const)(
    '%s: its store calls, every attempt timing out, fit the %s Lambda timeout',
    (name, lambdaId) => {
      expect(worstMs(name, STORE_CALL_TIMEOUTS_MS)).toBeLessThanOrEqual(lambdaTimeoutMs(lambdaId));
    },
  );
});
