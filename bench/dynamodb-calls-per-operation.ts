import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '../lambdas/handlers/environment-reader';
import { createDynamoDbDocumentClient } from '../lambdas/store/dynamodb-client';
import { createTablesIfMissing } from '../lambdas/store/table-definitions';
import type { BenchBackend } from './bench-backend';
import { BENCH_USER, SERVICE_TABLES } from './bench-users';
import {
  DynamoDbCallCounter,
  type DynamoDbCallCounts,
  describeCalls,
  type RoundTrips,
  sequentialRoundTrips,
} from './dynamodb-call-counter';
import {
  buildInProcessLambdas,
  type ClientCredentials,
  createBenchClient,
  type InProcessLambdas,
  jsonBody,
} from './in-process-lambdas';
import { instrumentDynamoDbClients } from './instrument-dynamodb-clients';

export type CountedOperation =
  | 'password'
  | 'password_lockout_off'
  | 'password_wrong'
  | 'refresh_token'
  | 'client_credentials'
  | 'authorizer'
  | 'authorizer_jwt'
  | 'revocation';

export interface OperationCalls {
  readonly operation: CountedOperation;
  /** The first call of a freshly built handler (empty caches, new SDK client). */
  readonly cold: DynamoDbCallCounts;
  /** The most frequent count among the calls after the first. */
  readonly warm: DynamoDbCallCounts;
  readonly warmSamples: number;
  /** False when the warm calls did not all cost the same. */
  readonly warmStable: boolean;
  /** Round trips in a row on the warm request's critical path (DynamoDB and the AuthCheck hook). */
  readonly warmRoundTrips: RoundTrips;
}

interface Scenario<Prepared> {
  readonly operation: CountedOperation;
  /** Settings of the Lambdas under measurement on top of the defaults. */
  readonly environment?: Environment;
  /** Prepare with Lambdas built with these settings too (JWT mode: the tokens it checks are JWTs). */
  readonly prepareInMode?: boolean;
  /** Uncounted set-up for call `i` (issuing the token it will use). */
  prepare(setup: InProcessLambdas, i: number): Promise<Prepared>;
  /** The counted call; throws unless it had the expected outcome. */
  run(lambdas: InProcessLambdas, prepared: Prepared): Promise<void>;
}

const expectStatus = async (call: Promise<{ statusCode: number; body: string }>, status: number) => {
  const result = await call;
  if (result.statusCode !== status) {
    throw new Error(`expected ${status}, got ${result.statusCode} ${result.body.slice(0, 200)}`);
  }
  return result;
};

/**
 * DynamoDB calls per operation, counted by a middleware on the handlers' own SDK clients
 * (`instrumentDynamoDbClients`). Each operation gets freshly built Lambdas: call 0 is cold, the
 * next `warmSamples` are warm.
 */
export async function measureDynamoDbCallsPerOperation(
  backend: Pick<BenchBackend, 'dynamodbEndpoint' | 'hookUrl' | 'hookSecret'>,
  warmSamples: number,
): Promise<OperationCalls[]> {
  const env: Environment = {
    CLIENTS_TABLE: SERVICE_TABLES.clients,
    GRANTS_TABLE: SERVICE_TABLES.grants,
    DYNAMODB_ENDPOINT: backend.dynamodbEndpoint,
    AUTH_CHECK_URL: backend.hookUrl,
    AUTH_CHECK_SECRET: backend.hookSecret,
    LOCKOUT_KEY_SECRET: 'bench-lockout-key-secret-0123456789abcdef',
    REQUIRE_SSL: 'false',
    LOG_LEVEL: 'SILENT',
  };
  const { client } = createDynamoDbDocumentClient({ endpoint: backend.dynamodbEndpoint });
  await createTablesIfMissing(client, SERVICE_TABLES);
  client.destroy();

  const counter = new DynamoDbCallCounter();
  const uninstall = instrumentDynamoDbClients(counter);
  // The HTTP AuthCheck's requests (node:http) are timed too, for the round trips on the critical
  // path: from Node's http client diagnostics channels, matched on the hook's host.
  const stopTimingHook = timeHookRequests(new URL(backend.hookUrl).host, counter);
  let keysDir: string | undefined;
  try {
    const setup = buildInProcessLambdas(env);
    const credentials = await createBenchClient(setup);
    // JWT mode: the private key set in a 0600 file, as the local stack keeps it; the first key made
    // and its public half published by the admin's rotate-signing-key, as a deployer would.
    keysDir = await mkdtemp(join(tmpdir(), 'bench-signing-keys-'));
    const jwtEnvironment: Environment = {
      ACCESS_TOKEN_FORMAT: 'jwt',
      ISSUER: 'http://127.0.0.1:3000',
      SIGNING_KEYS_FILE: join(keysDir, 'signing-keys.json'),
    };
    const rotated = await buildInProcessLambdas({ ...env, ...jwtEnvironment }).admin({
      action: 'rotate-signing-key',
    });
    if (typeof rotated.kid !== 'string')
      throw new Error(`rotate-signing-key failed: ${JSON.stringify(rotated)}`);
    const results: OperationCalls[] = [];
    for (const scenario of scenarios(credentials, jwtEnvironment)) {
      results.push(await measure(scenario as Scenario<unknown>, env, setup, counter, warmSamples));
    }
    return results;
  } finally {
    stopTimingHook();
    uninstall();
    if (keysDir !== undefined) await rm(keysDir, { recursive: true, force: true });
  }
}

/** Records an interval of kind `hook` for every http client request to `host`, until the returned stop. */
function timeHookRequests(host: string, counter: DynamoDbCallCounter): () => void {
  const started = new WeakMap<ClientRequest, number>();
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (request.getHeader('host') === host) started.set(request, performance.now());
  };
  const onFinish = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const start = started.get(request);
    if (start !== undefined) counter.intervals.push({ kind: 'hook', start, end: performance.now() });
  };
  diagnosticsChannel.subscribe('http.client.request.start', onStart);
  diagnosticsChannel.subscribe('http.client.response.finish', onFinish);
  return () => {
    diagnosticsChannel.unsubscribe('http.client.request.start', onStart);
    diagnosticsChannel.unsubscribe('http.client.response.finish', onFinish);
  };
}

async function measure<Prepared>(
  scenario: Scenario<Prepared>,
  env: Environment,
  setup: InProcessLambdas,
  counter: DynamoDbCallCounter,
  warmSamples: number,
): Promise<OperationCalls> {
  const lambdas = buildInProcessLambdas({ ...env, ...scenario.environment });
  const preparer =
    scenario.prepareInMode === true ? buildInProcessLambdas({ ...env, ...scenario.environment }) : setup;
  const samples: DynamoDbCallCounts[] = [];
  const roundTrips: RoundTrips[] = [];
  for (let i = 0; i <= warmSamples; i += 1) {
    const prepared = await scenario.prepare(preparer, i);
    counter.reset();
    await scenario.run(lambdas, prepared).catch((error: unknown) => {
      throw new Error(`${scenario.operation}: ${error instanceof Error ? error.message : String(error)}`);
    });
    samples.push(counter.snapshot());
    roundTrips.push(sequentialRoundTrips(counter.intervals));
  }
  const [cold, ...warm] = samples as [DynamoDbCallCounts, ...DynamoDbCallCounts[]];
  const byShape = new Map<string, { counts: DynamoDbCallCounts; n: number }>();
  for (const sample of warm) {
    const key = describeCalls(sample);
    const entry = byShape.get(key) ?? { counts: sample, n: 0 };
    entry.n += 1;
    byShape.set(key, entry);
  }
  const mode = [...byShape.values()].sort((a, b) => b.n - a.n)[0];
  return {
    operation: scenario.operation,
    cold,
    warm: mode?.counts ?? cold,
    warmSamples: warm.length,
    warmStable: byShape.size <= 1,
    warmRoundTrips: mostFrequent(roundTrips.slice(1)) ?? { dynamodb: 0, hook: 0 },
  };
}

const mostFrequent = (values: readonly RoundTrips[]): RoundTrips | undefined => {
  const counted = new Map<string, { value: RoundTrips; n: number }>();
  for (const value of values) {
    const key = `${value.dynamodb}/${value.hook}`;
    counted.set(key, { value, n: (counted.get(key)?.n ?? 0) + 1 });
  }
  return [...counted.values()].sort((a, b) => b.n - a.n)[0]?.value;
};

function scenarios(client: ClientCredentials, jwtEnvironment: Environment): Scenario<unknown>[] {
  const login = async (setup: InProcessLambdas) =>
    jsonBody(
      await expectStatus(
        setup.token(
          { grant_type: 'password', username: BENCH_USER.username, password: BENCH_USER.password },
          client,
        ),
        200,
      ),
    );
  const none = async () => undefined;
  const password: Scenario<undefined> = {
    operation: 'password',
    prepare: none,
    run: async (lambdas) => {
      await expectStatus(
        lambdas.token(
          { grant_type: 'password', username: BENCH_USER.username, password: BENCH_USER.password },
          client,
        ),
        200,
      );
    },
  };
  const passwordLockoutOff: Scenario<undefined> = {
    ...password,
    operation: 'password_lockout_off',
    environment: { LOCKOUT_THRESHOLD: '0' },
  };
  const wrongPassword: Scenario<string> = {
    operation: 'password_wrong',
    // A new username each time: one user's failures would reach the lockout threshold.
    prepare: async (_setup, i) => `unknown-user-${process.pid}-${i}-${Date.now()}`,
    run: async (lambdas, username) => {
      await expectStatus(lambdas.token({ grant_type: 'password', username, password: 'wrong' }, client), 400);
    },
  };
  const refresh: Scenario<string> = {
    operation: 'refresh_token',
    prepare: async (setup) => String((await login(setup)).refresh_token),
    run: async (lambdas, refreshToken) => {
      await expectStatus(
        lambdas.token({ grant_type: 'refresh_token', refresh_token: refreshToken }, client),
        200,
      );
    },
  };
  const clientCredentials: Scenario<undefined> = {
    operation: 'client_credentials',
    prepare: none,
    run: async (lambdas) => {
      await expectStatus(lambdas.token({ grant_type: 'client_credentials' }, client), 200);
    },
  };
  const authorizer: Scenario<string> = {
    operation: 'authorizer',
    prepare: async (setup) => String((await login(setup)).access_token),
    run: async (lambdas, accessToken) => {
      if (!(await lambdas.authorize(accessToken))) throw new Error('authorizer denied a valid token');
    },
  };
  // JWT mode: the authorizer checks the signature with the public key it keeps in memory; the
  // first (cold) call reads the published key item once.
  const authorizerJwt: Scenario<string> = {
    ...authorizer,
    operation: 'authorizer_jwt',
    environment: jwtEnvironment,
    prepareInMode: true,
  };
  const revocation: Scenario<string> = {
    operation: 'revocation',
    prepare: async (setup) => String((await login(setup)).refresh_token),
    run: async (lambdas, refreshToken) => {
      await expectStatus(
        lambdas.revoke({ token: refreshToken, token_type_hint: 'refresh_token' }, client),
        200,
      );
    },
  };
  return [
    password,
    passwordLockoutOff,
    wrongPassword,
    refresh,
    clientCredentials,
    authorizer,
    authorizerJwt,
    revocation,
  ] as Scenario<unknown>[];
}
