import autocannon from 'autocannon';
import { benchUser } from './bench-users';
import { type DynamoDbCallCounts, perRequest, subtractCounts } from './dynamodb-call-counter';
import { basicAuthorization } from './in-process-lambdas';
import type { BenchService, ServiceUsage } from './start-bench-service';
import { round } from './stats';

export type LoadOperation = 'password' | 'client_credentials' | 'refresh_token' | 'me';

export interface LoadOptions {
  readonly connections: number;
  readonly durationSeconds: number;
  /** An unmeasured run of the same operation first (JIT, connection pools, caches). */
  readonly warmupSeconds: number;
}

export interface LoadResult {
  readonly operation: LoadOperation;
  /** Successful (2xx) responses per second over the measured run. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationSeconds: number;
  /** DynamoDB calls per request, counted in the server during the measured run. */
  readonly dynamoDbCallsPerRequest: DynamoDbCallCounts;
  /** CPU time the server process used per request (user + system), µs. */
  readonly serverCpuUsPerRequest: number;
  /** The kernel's part of it (socket I/O on loopback), µs. */
  readonly serverSystemCpuUsPerRequest: number;
  /** CPU time dynalite and the AuthCheck hook used per request, µs: the store's side of the cost. */
  readonly backendCpuUsPerRequest: number;
}

/** The part of a running service a load needs: where it is, a client, and what it has used. */
export type LoadTarget = Pick<BenchService, 'url' | 'client' | 'usage'> & {
  /** The backend's CPU so far (dynalite + hook), µs. */
  readonly backendCpuMicros: () => Promise<number>;
};

const FORM = 'application/x-www-form-urlencoded';
/** Tokens issued before a run so that every request presents a token nobody else is using. */
const REFRESH_TOKENS_PER_CONNECTION = 4;
const ACCESS_TOKEN_POOL = 64;

/**
 * One operation at fixed concurrency for a fixed time with autocannon, from this process to the
 * service's process over loopback:
 * - `password`: password grants, each for the next of `BENCH_USER_COUNT` users in turn (AuthCheck hook
 *   on every request), as real traffic is spread over users;
 * - `client_credentials`: the client's own token, again and again (no hook, no refresh token);
 * - `refresh_token`: every request presents a refresh token that is current at that moment. A pool of
 *   tokens is issued before the run (not measured); each successful answer's new refresh token goes back
 *   into the pool, so the chains rotate as real clients' would, and a failed refresh costs its chain;
 * - `me`: `GET /me` with one of 64 pre-issued access tokens, round robin (the bearer check).
 */
export async function runLoadScenario(
  target: LoadTarget,
  operation: LoadOperation,
  options: LoadOptions,
): Promise<LoadResult> {
  const requests = await requestsFor(target, operation, options.connections);
  if (options.warmupSeconds > 0) {
    await autocannon({
      url: target.url,
      connections: options.connections,
      duration: options.warmupSeconds,
      requests,
    });
  }
  const before = await settledUsage(target);
  const backendBefore = await target.backendCpuMicros();
  const result = await autocannon({
    url: target.url,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests,
  });
  // Requests still in flight when autocannon stops are served anyway: wait for them, then count per
  // request sent (answered or not), so the window's calls and requests match.
  const after = await settledUsage(target);
  const backendAfter = await target.backendCpuMicros();
  const sent = result.requests.sent;
  const perSent = (micros: number) => (sent > 0 ? Math.round(micros / sent) : Number.NaN);
  return {
    operation,
    rps: round(result['2xx'] / result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: round(result.duration),
    dynamoDbCallsPerRequest: perRequest(subtractCounts(after.dynamoDbCalls, before.dynamoDbCalls), sent),
    serverCpuUsPerRequest: perSent(after.cpuMicros - before.cpuMicros),
    serverSystemCpuUsPerRequest: perSent(after.systemCpuMicros - before.systemCpuMicros),
    backendCpuUsPerRequest: perSent(backendAfter - backendBefore),
  };
}

const SETTLE_POLL_MS = 100;
const SETTLE_MAX_MS = 3_000;

/** The service's usage once its DynamoDB call count has stopped moving (no request left in flight). */
async function settledUsage(target: LoadTarget): Promise<ServiceUsage> {
  let last = await target.usage();
  for (let waited = 0; waited < SETTLE_MAX_MS; waited += SETTLE_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const now = await target.usage();
    if (now.dynamoDbCalls.calls === last.dynamoDbCalls.calls) return now;
    last = now;
  }
  return last;
}

async function requestsFor(
  target: LoadTarget,
  operation: LoadOperation,
  connections: number,
): Promise<autocannon.Request[]> {
  const tokenHeaders = { 'content-type': FORM, authorization: basicAuthorization(target.client) };
  if (operation === 'password') {
    let nextUser = 0;
    return [
      {
        method: 'POST',
        path: '/oauth2/token',
        headers: tokenHeaders,
        setupRequest: (request) => {
          const user = benchUser(nextUser++);
          return {
            ...request,
            body: new URLSearchParams({
              grant_type: 'password',
              username: user.username,
              password: user.password,
            }).toString(),
          };
        },
      },
    ];
  }
  if (operation === 'client_credentials') {
    const body = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
    return [{ method: 'POST', path: '/oauth2/token', headers: tokenHeaders, body }];
  }
  const issued = await issueTokens(
    target,
    operation === 'me' ? ACCESS_TOKEN_POOL : connections * REFRESH_TOKENS_PER_CONNECTION,
  );
  if (operation === 'me') {
    const accessTokens = issued.map((token) => token.access_token);
    let next = 0;
    return [
      {
        method: 'GET',
        path: '/me',
        setupRequest: (request) => {
          next = (next + 1) % accessTokens.length;
          return { ...request, headers: { authorization: `Bearer ${accessTokens[next]}` } };
        },
      },
    ];
  }
  const pool = issued.map((token) => token.refresh_token);
  return [
    {
      method: 'POST',
      path: '/oauth2/token',
      headers: tokenHeaders,
      setupRequest: (request) => ({
        ...request,
        // An empty pool would mean most refreshes failed: send a token that fails visibly (non-2xx).
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: pool.shift() ?? 'exhausted.pool',
        }).toString(),
      }),
      onResponse: (status, body) => {
        if (status !== 200) return;
        const refreshToken = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
        if (typeof refreshToken === 'string') pool.push(refreshToken);
      },
    },
  ];
}

interface IssuedTokens {
  readonly access_token: string;
  readonly refresh_token: string;
}

/** `count` password grants, eight at a time (set-up, not measured). */
async function issueTokens(target: LoadTarget, count: number): Promise<IssuedTokens[]> {
  const issued: IssuedTokens[] = [];
  let nextUser = 0;
  const one = async (): Promise<void> => {
    // Spread over the users: one user logging in from every connection would meet its lockout budget.
    const user = benchUser(nextUser++);
    const response = await fetch(`${target.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': FORM, authorization: basicAuthorization(target.client) },
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.username,
        password: user.password,
      }),
    });
    const body = (await response.json()) as Partial<IssuedTokens>;
    if (!response.ok || typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
      throw new Error(
        `password grant failed while preparing tokens: ${response.status} ${JSON.stringify(body)}`,
      );
    }
    issued.push({ access_token: body.access_token, refresh_token: body.refresh_token });
  };
  for (let done = 0; done < count; done += 8) {
    await Promise.all(Array.from({ length: Math.min(8, count - done) }, one));
  }
  return issued;
}
