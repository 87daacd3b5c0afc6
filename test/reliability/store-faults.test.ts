import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_REQUIREMENTS_VARIABLE } from '../../lambdas/core/route-requirements';
import { hashSecret, parseToken } from '../../lambdas/core/token-secrets';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildRevocationLambda } from '../../lambdas/handlers/revocation-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { TableNames } from '../../lambdas/store/table-definitions';
import { authorizerRequest, bearerAuthorization, PRINTABLE_DESCRIPTION } from '../support/api-gateway-events';
import type { HookUser } from '../support/auth-check-hook-server';
import {
  type DynamoDbErrorName,
  type FaultDynamoDbProxy,
  type ProxiedRequest,
  type StoreFault,
  startFaultDynamoDbProxy,
} from '../support/fault-dynamodb-proxy';
import { pickOne, pickWeighted, type SeededRandom, seededRandom, Tally } from '../support/fault-random';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';
import { type Client, formPost, type ProxyHandler, withContext } from '../support/token-service-fixture';

/**
 * Store faults injected on the wire between the Lambdas and dynalite (DynamoDB's error answers,
 * resets before and after a write, answers later than the SDK's timeout) over many password,
 * refresh, client_credentials, revocation and authorizer calls. Every answer must be the tokens or
 * 503 temporarily_unavailable; once the faults clear, every token ever returned works (unless the
 * client itself rotated or revoked it), and a store failure never looks like a dead token.
 */

const SEED = Number(process.env.FAULT_SEED ?? 60_061);
/**
 * Per-attempt SDK timeout while faults are injected (stalls last longer). Where every attempt fails
 * anyway, and in the random run, a short one (a healthy call that is slow on a busy machine is one
 * more fault there); where the retry after one fault must succeed, the default.
 */
const TIMEOUT_MS = 300;
/** The Lambdas' default (DYNAMODB_TIMEOUT_MS unset). */
const DEFAULT_TIMEOUT_MS = 1500;
const WORKERS = 6;
const STEPS_PER_WORKER = 10;
/** Share of store requests that meet a fault during the random run. */
const FAULT_RATE = 0.35;

const tables: TableNames = { clients: 'store-faults-clients', grants: 'store-faults-grants' };
const users: Record<string, HookUser> = Object.fromEntries(
  Array.from({ length: WORKERS + 2 }, (_, index) => [
    `sf-user-${index}`,
    { password: `sf-password-${index}`, userId: index % 2 === 0 ? 7000 + index : `sf-${index}` },
  ]),
);
const userOf = (index: number) => ({ username: `sf-user-${index}`, password: `sf-password-${index}` });

let backend: ServiceBackend;
let proxy: FaultDynamoDbProxy;
let client: Client;
/** Healthy handlers (generous default timeouts, no faults) for setup and the checks after the faults. */
let healthy: Handlers;

/** The Lambdas one simulated client uses, all reaching the store through one proxy route. */
interface Handlers {
  readonly token: ProxyHandler;
  readonly revocation: ProxyHandler;
  authorize(accessToken: string): Promise<string>;
}

/** Builds each Lambda on first use: most scenarios need only one of them. */
function handlersOn(route: string, extra: Environment = {}): Handlers {
  const environment = backend.environment({
    DYNAMODB_ENDPOINT: `${proxy.endpoint}/${route}`,
    CLIENT_CACHE_TTL_SECONDS: '0',
    ...extra,
  });
  let token: ProxyHandler | undefined;
  let revocation: ProxyHandler | undefined;
  let authorizer: ReturnType<typeof buildAuthorizerLambda> | undefined;
  return {
    token: (event) => {
      token ??= withContext(buildTokenLambda(environment), 'token');
      return token(event);
    },
    revocation: (event) => {
      revocation ??= withContext(buildRevocationLambda(environment), 'revocation');
      return revocation(event);
    },
    async authorize(accessToken) {
      authorizer ??= buildAuthorizerLambda(environment);
      try {
        const result = await authorizer(
          // A route that accepts client tokens too: only the token's validity decides.
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
    },
  };
}

const faultyHandlers = (route: string, timeoutMs = TIMEOUT_MS) =>
  handlersOn(route, timeoutMs === DEFAULT_TIMEOUT_MS ? {} : { DYNAMODB_TIMEOUT_MS: String(timeoutMs) });

beforeAll(async () => {
  backend = await startServiceBackend({ tables, hookSecret: 'store-faults-hook-secret', users });
  proxy = await startFaultDynamoDbProxy(backend.dynalite.endpoint);
  const admin = buildAdminLambda(backend.environment());
  client = (await admin(
    {
      action: 'create-client',
      name: 'store-faults',
      grant_types: ['password', 'refresh_token', 'client_credentials'],
    },
    localLambdaContext('admin'),
  )) as unknown as Client;
  expect(client.client_secret).toEqual(expect.any(String));
  healthy = handlersOn('healthy');
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

// ---- requests and answers -------------------------------------------------------------------------

type GrantKind = 'password' | 'client_credentials';

const passwordGrant = (handlers: Handlers, userIndex: number) =>
  handlers.token(formPost('/oauth2/token', client, { grant_type: 'password', ...userOf(userIndex) }));
const clientCredentialsGrant = (handlers: Handlers) =>
  handlers.token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' }));
const refreshGrant = (handlers: Handlers, refreshToken: string) =>
  handlers.token(
    formPost('/oauth2/token', client, { grant_type: 'refresh_token', refresh_token: refreshToken }),
  );
const revoke = (handlers: Handlers, token: string) =>
  handlers.revocation(formPost('/oauth2/revoke', client, { token }));

type Answer =
  | { readonly kind: 'tokens'; readonly accessToken: string; readonly refreshToken?: string }
  | { readonly kind: 'revoked' }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'refused'; readonly status: number; readonly error: string }
  | { readonly kind: 'unexpected'; readonly detail: string };

const parseJson = (body: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** Sorts a token or revocation answer into what a client may see; anything else is `unexpected`. */
function classify(result: APIGatewayProxyResult, expectRefreshToken: boolean): Answer {
  const body = parseJson(result.body);
  const noStore = result.headers?.['Cache-Control'] === 'no-store';
  const detail = `${result.statusCode} ${result.body.slice(0, 200)}`;
  if (body === undefined || !noStore) return { kind: 'unexpected', detail };
  if (result.statusCode === 200 && Object.keys(body).length === 0) return { kind: 'revoked' };
  if (result.statusCode === 200) {
    const { access_token: accessToken, refresh_token: refreshToken, token_type: tokenType } = body;
    if (typeof accessToken !== 'string' || tokenType !== 'bearer') return { kind: 'unexpected', detail };
    if (expectRefreshToken && typeof refreshToken !== 'string') return { kind: 'unexpected', detail };
    return typeof refreshToken === 'string'
      ? { kind: 'tokens', accessToken, refreshToken }
      : { kind: 'tokens', accessToken };
  }
  const error = body.error;
  const described =
    typeof body.error_description === 'string' && PRINTABLE_DESCRIPTION.test(body.error_description);
  if (typeof error !== 'string' || !described || JSON.stringify(body).includes('access_token'))
    return { kind: 'unexpected', detail };
  if (result.statusCode === 503 && error === 'temporarily_unavailable') return { kind: 'unavailable' };
  return { kind: 'refused', status: result.statusCode, error };
}

const outcomeOf = (answer: Answer): string =>
  answer.kind === 'tokens'
    ? '200'
    : answer.kind === 'revoked'
      ? '200'
      : answer.kind === 'unavailable'
        ? '503'
        : answer.kind === 'refused'
          ? `${answer.status}-${answer.error}`
          : 'unexpected';

// ---- the client's view of its tokens, and the checks once the store is healthy ---------------------

type ChainState = 'live' | 'revoked' | 'refresh-503' | 'revoke-503';

/** One grant as its client knows it: every access token it got, the refresh token it holds. */
interface Chain {
  readonly grantId: string;
  readonly kind: GrantKind;
  readonly accessTokens: string[];
  refreshToken: string | undefined;
  state: ChainState;
}

const newChain = (kind: GrantKind, answer: { accessToken: string; refreshToken?: string }): Chain => ({
  grantId: answer.accessToken.split('.')[0] ?? '',
  kind,
  accessTokens: [answer.accessToken],
  refreshToken: answer.refreshToken,
  state: 'live',
});

const secretHash = (token: string): string => hashSecret(parseToken(token)?.secret ?? '');

async function storedGrant(grantId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await backend.dynamo.doc.send(
    new GetCommand({ TableName: tables.grants, Key: { grantId }, ConsistentRead: true }),
  );
  return Item;
}

/**
 * What the faults did to a chain whose last request was answered 503: the store says whether the
 * write behind the 503 was applied after all (answer lost, or applied after the SDK gave up).
 */
async function resolveChain(chain: Chain): Promise<'alive' | 'dead' | 'consumed-behind-503' | 'missing'> {
  if (chain.state === 'live') return 'alive';
  if (chain.state === 'revoked') return 'dead';
  const grant = await storedGrant(chain.grantId);
  if (grant === undefined) return 'missing';
  if (chain.state === 'revoke-503') return grant.revokedAt === undefined ? 'alive' : 'dead';
  const untouched =
    grant.revokedAt === undefined && grant.refreshHash === secretHash(chain.refreshToken ?? '');
  return untouched ? 'alive' : 'consumed-behind-503';
}

/**
 * With the store healthy again: the chain's current tokens work exactly when nothing the client did
 * (rotation, revocation) ended them. Returns what went wrong, for the violation list.
 */
async function verifyChain(chain: Chain, tally: Tally): Promise<string[]> {
  const problems: string[] = [];
  const expected = await resolveChain(chain);
  tally.add(`after:${chain.state}:${expected}`);
  if (expected === 'missing')
    return [`${chain.grantId} (${chain.state}): the grant of an answered token is not stored`];
  // A 503 promises the old tokens still work: the store settles an unknown rotation before answering.
  if (expected === 'consumed-behind-503')
    problems.push(`${chain.grantId}: a refresh answered 503 consumed the refresh token`);
  const current = chain.accessTokens.at(-1) ?? '';
  const earlier = chain.accessTokens.slice(0, -1);
  for (const old of earlier) {
    const decision = await healthy.authorize(old);
    if (decision !== 'Unauthorized')
      problems.push(`${chain.grantId}: a rotated-away access token got ${decision}`);
  }
  const decision = await healthy.authorize(current);
  const wanted = expected === 'alive' ? 'Allow' : 'Unauthorized';
  if (decision !== wanted) {
    problems.push(`${chain.grantId} (${chain.state}, ${expected}): current access token got ${decision}`);
  }
  if (chain.kind === 'password' && chain.refreshToken !== undefined) {
    const answer = classify(await refreshGrant(healthy, chain.refreshToken), true);
    if (expected === 'alive') {
      if (answer.kind !== 'tokens') {
        problems.push(`${chain.grantId} (${chain.state}): its refresh token got ${outcomeOf(answer)}`);
      } else if ((await healthy.authorize(answer.accessToken)) !== 'Allow') {
        problems.push(`${chain.grantId}: the access token of a healthy refresh does not work`);
      }
    } else {
      tally.add(`after:${expected}:refresh-${outcomeOf(answer)}`);
      if (outcomeOf(answer) !== '400-invalid_grant') {
        problems.push(
          `${chain.grantId} (${chain.state}, ${expected}): a dead refresh token got ${outcomeOf(answer)}`,
        );
      }
    }
  }
  return problems;
}

async function grantIdsOfClient(): Promise<Map<string, Record<string, unknown>>> {
  const { Items = [] } = await backend.dynamo.doc.send(
    new ScanCommand({ TableName: tables.grants, ConsistentRead: true }),
  );
  return new Map(
    Items.filter((item) => item.clientId === client.client_id).map((item) => [String(item.grantId), item]),
  );
}

// ---- faults ----------------------------------------------------------------------------------------

const ERROR_NAMES: readonly DynamoDbErrorName[] = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'InternalServerError',
];

/** Every fault kind the proxy injects, by name; stalls outlast `timeoutMs`. */
const faultsFor = (timeoutMs: number): Readonly<Record<string, (random: SeededRandom) => StoreFault>> => ({
  ...Object.fromEntries(
    ERROR_NAMES.map((error) => [error, (): StoreFault => ({ kind: 'error', error })] as const),
  ),
  drop: () => ({ kind: 'drop' }),
  'lose-answer': () => ({ kind: 'lose-answer' }),
  'stall-then-apply': (random) => ({ kind: 'stall', ms: timeoutMs + 100 + random() * 200, apply: true }),
  'stall-never-apply': (random) => ({ kind: 'stall', ms: timeoutMs + 100 + random() * 200, apply: false }),
});
const FAULT_NAMES = Object.keys(faultsFor(TIMEOUT_MS));
/** Throttling costs the SDK's 1 s-based backoff per retry: drawn less often, to keep the run short. */
const RANDOM_FAULT_WEIGHTS = FAULT_NAMES.map(
  (name) => [name, name.includes('Throughput') || name.includes('Throttling') ? 0.5 : 1] as const,
);
/** Faults after which the write may have been applied though the caller saw a failure. */
const MAY_APPLY = new Set(['lose-answer', 'stall-then-apply']);

describe('each store fault, on the write that matters', () => {
  type Operation = 'password' | 'client_credentials' | 'refresh' | 'revoke';
  /** The write each operation must get right: the grant's PutItem, the rotation, the revocation. */
  const writeOf = (operation: Operation) =>
    operation === 'password' || operation === 'client_credentials' ? 'PutItem' : 'UpdateItem';

  interface Scenario {
    readonly fault: string;
    readonly operation: Operation;
    readonly route: string;
    readonly timeoutMs: number;
  }

  const scenarios = (mode: string, operations: readonly Operation[], timeoutMs: number): Scenario[] =>
    FAULT_NAMES.flatMap((fault) =>
      operations.map((operation) => ({
        fault,
        operation,
        route: `${mode}-${fault}-${operation}`,
        timeoutMs,
      })),
    );

  /** Faults the write of each scenario's route: every attempt, or only the first one. */
  function planFor(list: readonly Scenario[], everyAttempt: boolean) {
    const byRoute = new Map(list.map((scenario) => [scenario.route, scenario]));
    const random = seededRandom(SEED);
    const faulted = new Set<string>();
    return (request: ProxiedRequest): StoreFault | undefined => {
      const scenario = byRoute.get(request.route);
      if (scenario === undefined || request.table !== tables.grants) return undefined;
      if (request.operation !== writeOf(scenario.operation)) return undefined;
      if (!everyAttempt && faulted.has(scenario.route)) return undefined;
      faulted.add(scenario.route);
      return faultsFor(scenario.timeoutMs)[scenario.fault]?.(random);
    };
  }

  /** Runs one scenario on its own route; returns the answer and the chain it acted on (if any). */
  async function run(scenario: Scenario, userIndex: number): Promise<{ answer: Answer; chain?: Chain }> {
    const handlers = faultyHandlers(scenario.route, scenario.timeoutMs);
    switch (scenario.operation) {
      case 'password':
        return { answer: classify(await passwordGrant(handlers, userIndex), true) };
      case 'client_credentials':
        return { answer: classify(await clientCredentialsGrant(handlers), false) };
      case 'refresh':
      case 'revoke': {
        const issued = classify(await passwordGrant(healthy, userIndex), true);
        if (issued.kind !== 'tokens') throw new Error(`setup login failed: ${outcomeOf(issued)}`);
        const chain = newChain('password', issued);
        const answer =
          scenario.operation === 'refresh'
            ? classify(await refreshGrant(handlers, issued.refreshToken ?? ''), true)
            : classify(await revoke(handlers, issued.refreshToken ?? ''), false);
        return { answer, chain };
      }
    }
  }

  it('answers 503 and issues, consumes and revokes nothing when every attempt of the write fails (tokens applied behind a lost answer aside)', async () => {
    // client_credentials writes its grant exactly as the password grant does.
    const list = scenarios('all', ['password', 'refresh', 'revoke'], TIMEOUT_MS);
    proxy.setPlan(planFor(list, true));
    const tally = new Tally();
    const problems: string[] = [];
    const before = await grantIdsOfClient();
    let results: Array<{ scenario: Scenario; answer: Answer; chain?: Chain }>;
    try {
      results = await Promise.all(
        list.map(async (scenario, index) => ({ scenario, ...(await run(scenario, index % WORKERS)) })),
      );
    } finally {
      proxy.setPlan(undefined);
    }
    await proxy.settle();
    const setupChains = new Set(results.flatMap(({ chain }) => (chain === undefined ? [] : [chain.grantId])));
    for (const { scenario, answer, chain } of results) {
      tally.add(`${scenario.operation}:${scenario.fault}:${outcomeOf(answer)}`);
      // A rotation that landed although no answer came back is settled by a read: then the refresh
      // completes after all, and its new tokens must work exactly like a plain 200's.
      if (
        answer.kind === 'tokens' &&
        scenario.operation === 'refresh' &&
        MAY_APPLY.has(scenario.fault) &&
        chain !== undefined
      ) {
        chain.accessTokens.push(answer.accessToken);
        chain.refreshToken = answer.refreshToken;
        problems.push(...(await verifyChain(chain, tally)));
        continue;
      }
      if (answer.kind !== 'unavailable') {
        problems.push(`${scenario.route}: answered ${outcomeOf(answer)} instead of 503`);
        continue;
      }
      if (chain === undefined) continue;
      chain.state = scenario.operation === 'refresh' ? 'refresh-503' : 'revoke-503';
      const outcome = await resolveChain(chain);
      tally.add(`after:${scenario.operation}:${scenario.fault}:${outcome}`);
      // Nothing applied unless the fault lets the write through; what was applied is checked below.
      if (!MAY_APPLY.has(scenario.fault) && outcome !== 'alive') {
        problems.push(
          `${scenario.route}: a write that never reached the store changed the grant (${outcome})`,
        );
      }
      // A refresh answered 503 must have consumed nothing, whatever the fault (the fence sees to it).
      if (scenario.operation === 'refresh' && outcome !== 'alive') {
        problems.push(`${scenario.route}: a refresh answered 503 changed the grant (${outcome})`);
      }
      if (outcome === 'alive') problems.push(...(await verifyChain(chain, tally)));
    }
    // A grant stored behind a 503 holds hashes of secrets nobody received: count it, check it was never used.
    const after = await grantIdsOfClient();
    for (const [grantId, item] of after) {
      if (before.has(grantId) || setupChains.has(grantId)) continue;
      tally.add('after:grant-stored-behind-503');
      if (item.rotatedAt !== undefined || (item.consumedRefreshHashes as unknown[]).length > 0)
        problems.push(`grant ${grantId} stored behind a 503 was used`);
    }
    console.log(`[store-faults] every attempt faulted: ${tally}`);
    expect(problems).toEqual([]);
  }, 30_000);

  it('hides a fault on the first attempt behind the SDK retry, a retried write meeting its own applied write included: 200, and the tokens work', async () => {
    // The two writes a retry can meet already applied: the new grant and the rotation.
    const list = scenarios('first', ['password', 'refresh'], DEFAULT_TIMEOUT_MS);
    proxy.setPlan(planFor(list, false));
    const tally = new Tally();
    const problems: string[] = [];
    let results: Array<{ scenario: Scenario; answer: Answer; chain?: Chain }>;
    try {
      results = await Promise.all(
        list.map(async (scenario, index) => ({ scenario, ...(await run(scenario, index % WORKERS)) })),
      );
    } finally {
      proxy.setPlan(undefined);
    }
    await proxy.settle();
    for (const { scenario, answer, chain } of results) {
      tally.add(`${scenario.operation}:${outcomeOf(answer)}`);
      if (answer.kind === 'tokens') {
        const issued = newChain(
          scenario.operation === 'client_credentials' ? 'client_credentials' : 'password',
          answer,
        );
        problems.push(...(await verifyChain(issued, tally)));
        if (chain !== undefined && (await healthy.authorize(chain.accessTokens[0] ?? '')) !== 'Unauthorized')
          problems.push(`${scenario.route}: the access token before the refresh still works`);
      } else if (answer.kind === 'revoked' && chain !== undefined) {
        chain.state = 'revoked';
        problems.push(...(await verifyChain(chain, tally)));
      } else {
        problems.push(`${scenario.route}: answered ${outcomeOf(answer)} though only one attempt failed`);
      }
    }
    console.log(`[store-faults] first attempt faulted: ${tally}`);
    expect(problems).toEqual([]);
  }, 30_000);
});

describe('random store faults over mixed traffic (seeded)', () => {
  it('answers only tokens or 503, and every token it answered works once the faults clear', async () => {
    const faultRandom = new Map<string, SeededRandom>();
    const faults = faultsFor(TIMEOUT_MS);
    // Each simulated client has its own route and fault stream: its schedule depends only on the seed
    // and its own requests (a healthy call slower than the timeout on a busy machine aside).
    proxy.resetCounts();
    proxy.setPlan((request) => {
      if (!request.route.startsWith('random-')) return undefined;
      let random = faultRandom.get(request.route);
      if (random === undefined) {
        random = seededRandom(SEED + Number(request.route.slice('random-'.length)) * 7919);
        faultRandom.set(request.route, random);
      }
      if (random() >= FAULT_RATE) return undefined;
      return faults[pickWeighted(random, RANDOM_FAULT_WEIGHTS)]?.(random);
    });

    const tally = new Tally();
    const violations: string[] = [];
    const chains: Chain[] = [];
    const before = await grantIdsOfClient();

    const worker = async (index: number) => {
      const random = seededRandom(SEED * 31 + index);
      const handlers = faultyHandlers(`random-${index}`);
      const mine: Chain[] = [];
      const record = (action: string, answer: Answer) => {
        tally.add(`${action}:${outcomeOf(answer)}`);
        if (answer.kind === 'unexpected' || answer.kind === 'refused') {
          violations.push(
            `worker ${index} ${action}: ${answer.kind === 'unexpected' ? answer.detail : outcomeOf(answer)}`,
          );
        }
      };
      for (let step = 0; step < STEPS_PER_WORKER; step++) {
        const live = mine.filter((chain) => chain.state === 'live');
        const refreshable = live.filter((chain) => chain.kind === 'password');
        const action =
          live.length === 0
            ? 'password'
            : pickWeighted(random, [
                ['password', 2],
                ['client_credentials', 1],
                ['refresh', refreshable.length === 0 ? 0 : 4],
                ['revoke', 1],
                ['authorize', 3],
              ] as const);
        if (action === 'password' || action === 'client_credentials') {
          const answer =
            action === 'password'
              ? classify(await passwordGrant(handlers, index), true)
              : classify(await clientCredentialsGrant(handlers), false);
          record(action, answer);
          if (answer.kind === 'tokens') mine.push(newChain(action, answer));
        } else if (action === 'refresh') {
          const chain = pickOne(random, refreshable);
          const answer = classify(await refreshGrant(handlers, chain.refreshToken ?? ''), true);
          record(action, answer);
          if (answer.kind === 'tokens') {
            chain.accessTokens.push(answer.accessToken);
            chain.refreshToken = answer.refreshToken;
          } else if (answer.kind === 'unavailable') {
            // The client would retry later; it leaves the chain alone until the faults clear.
            chain.state = 'refresh-503';
          }
        } else if (action === 'revoke') {
          const chain = pickOne(random, live);
          const token =
            chain.refreshToken !== undefined && random() < 0.5
              ? chain.refreshToken
              : (chain.accessTokens.at(-1) ?? '');
          const answer = classify(await revoke(handlers, token), false);
          record(action, answer);
          if (answer.kind === 'revoked') chain.state = 'revoked';
          else if (answer.kind === 'unavailable') chain.state = 'revoke-503';
        } else {
          // A store failure must never look like a dead token, nor a dead token like a live one.
          const chain = pickOne(random, live);
          const decision = await handlers.authorize(chain.accessTokens.at(-1) ?? '');
          tally.add(`authorize-current:${decision}`);
          if (decision !== 'Allow' && decision !== 'temporarily_unavailable')
            violations.push(`worker ${index}: a live access token got ${decision} during faults`);
          const earlier = chain.accessTokens.at(-2);
          if (earlier !== undefined) {
            const old = await handlers.authorize(earlier);
            tally.add(`authorize-rotated-away:${old}`);
            if (old !== 'Unauthorized' && old !== 'temporarily_unavailable')
              violations.push(`worker ${index}: a rotated-away access token got ${old} during faults`);
          }
        }
      }
      chains.push(...mine);
    };

    try {
      await Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index)));
    } finally {
      proxy.setPlan(undefined);
    }
    const injected = Object.fromEntries(proxy.counts);
    await proxy.settle();

    for (const chain of chains) violations.push(...(await verifyChain(chain, tally)));
    // Stored, but answered 503: nobody holds its tokens, so nobody can have used it.
    const answered = new Set(chains.map((chain) => chain.grantId));
    for (const [grantId, item] of await grantIdsOfClient()) {
      if (before.has(grantId) || answered.has(grantId)) continue;
      tally.add('after:grant-stored-behind-503');
      if (item.rotatedAt !== undefined || (item.consumedRefreshHashes as unknown[]).length > 0) {
        violations.push(`grant ${grantId} that no client was answered has been used`);
      }
    }

    console.log(
      `[store-faults] seed=${SEED} faults: ${JSON.stringify(injected)}\n[store-faults] answers: ${tally}`,
    );
    expect(violations).toEqual([]);
    // The run exercised what it claims to: every fault kind, answers of both kinds.
    for (const name of [...ERROR_NAMES.map((error) => `error:${error}`), 'drop', 'lose-answer']) {
      expect(injected[name] ?? 0, name).toBeGreaterThan(0);
    }
    expect((injected['stall:applied'] ?? 0) + (injected['stall:dropped'] ?? 0)).toBeGreaterThan(0);
    expect(tally.sum('password:200') + tally.sum('refresh:200')).toBeGreaterThan(10);
    expect(
      tally.get('password:503') +
        tally.get('refresh:503') +
        tally.get('revoke:503') +
        tally.get('client_credentials:503'),
    ).toBeGreaterThan(0);
  }, 60_000);
});

describe('a refresh whose rotation outcome is unknown', () => {
  /**
   * The rotation's UpdateItem is applied but every answer is lost: the store settles the outcome
   * with a fence write and a consistent read, finds its own rotation, and the refresh completes.
   */
  it('is answered with the new tokens when the rotation landed but every answer was lost', async () => {
    const issued = classify(await passwordGrant(healthy, WORKERS), true);
    if (issued.kind !== 'tokens') throw new Error('setup login failed');
    proxy.setPlan((request) =>
      request.route === 'lost-rotation' && request.operation === 'UpdateItem'
        ? { kind: 'lose-answer' }
        : undefined,
    );
    let answer: Answer;
    try {
      answer = classify(await refreshGrant(faultyHandlers('lost-rotation'), issued.refreshToken ?? ''), true);
    } finally {
      proxy.setPlan(undefined);
    }
    await proxy.settle();
    if (answer.kind !== 'tokens')
      throw new Error(`expected the settled refresh to answer 200, got ${outcomeOf(answer)}`);
    expect(await healthy.authorize(answer.accessToken)).toBe('Allow');
    expect(await healthy.authorize(issued.accessToken)).toBe('Unauthorized');
    expect(outcomeOf(classify(await refreshGrant(healthy, answer.refreshToken ?? ''), true))).toBe('200');
  });

  /**
   * Every rotation attempt is held past the SDK's timeout and applied only later: the fence lands
   * first, so the late rotation fails its condition. The 503 is then true: the old tokens work.
   */
  it('is answered 503 and consumes nothing when the rotation is applied only after the fence', async () => {
    const issued = classify(await passwordGrant(healthy, WORKERS), true);
    if (issued.kind !== 'tokens') throw new Error('setup login failed');
    let rotations = 0;
    proxy.setPlan((request) => {
      if (request.route !== 'late-rotation' || request.operation !== 'UpdateItem') return undefined;
      rotations += 1;
      // The SDK's 3 attempts of the rotation are held for 6 s, then applied; the fence passes.
      return rotations <= 3 ? { kind: 'stall', ms: 6_000, apply: true } : undefined;
    });
    let answer: Answer;
    try {
      answer = classify(await refreshGrant(faultyHandlers('late-rotation'), issued.refreshToken ?? ''), true);
    } finally {
      proxy.setPlan(undefined);
    }
    await proxy.settle();
    expect(outcomeOf(answer)).toBe('503');
    expect(rotations).toBeGreaterThan(3);
    expect(await healthy.authorize(issued.accessToken)).toBe('Allow');
    expect(outcomeOf(classify(await refreshGrant(healthy, issued.refreshToken ?? ''), true))).toBe('200');
  }, 30_000);
});
