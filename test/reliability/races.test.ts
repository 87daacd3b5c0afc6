import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_REQUIREMENTS_VARIABLE } from '../../lambdas/core/route-requirements';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildIntrospectionLambda } from '../../lambdas/handlers/introspection-lambda';
import { buildRevocationLambda } from '../../lambdas/handlers/revocation-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { TableNames } from '../../lambdas/store/table-definitions';
import { authorizerRequest, bearerAuthorization } from '../support/api-gateway-events';
import type { HookUser } from '../support/auth-check-hook-server';
import {
  type FaultDynamoDbProxy,
  type FaultPlan,
  isRevocation,
  isRotation,
  type ProxiedRequest,
  startFaultDynamoDbProxy,
} from '../support/fault-dynamodb-proxy';
import { Tally } from '../support/fault-random';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';
import { type Client, formPost, type ProxyHandler, withContext } from '../support/token-service-fixture';

/**
 * Races between requests that touch one grant or one client, each repeated for many rounds, some
 * left to the scheduler and some pinned to one interleaving by holding store requests in the proxy
 * (e.g. "the revocation reads the grant, then the refresh rotates it, then the revocation writes").
 * After every round: no token is usable that the interleaving should have killed.
 */

const ROUNDS = 20;
/** The concurrent-refresh races are the heaviest (8 refreshes and a revocation sweep per round). */
const REFRESH_ROUNDS = 12;
const CONCURRENT_REFRESHES = 8;
/** A forced order that never happens within this long fails the round instead of hanging it. */
const ORDER_TIMEOUT_MS = 5_000;

const tables: TableNames = { clients: 'races-clients', grants: 'races-grants' };
const users: Record<string, HookUser> = Object.fromEntries(
  Array.from({ length: 6 }, (_, index) => [
    `race-user-${index}`,
    { password: `race-password-${index}`, userId: index % 2 === 0 ? 9100 + index : `race-${index}` },
  ]),
);
const userOf = (round: number) => {
  const index = round % 6;
  return { username: `race-user-${index}`, password: `race-password-${index}` };
};

let backend: ServiceBackend;
let proxy: FaultDynamoDbProxy;

/**
 * Each Lambda reaches the store through its own proxy route, so the proxy can order their steps. The
 * longest per-attempt timeout: a held request must not time out and come back as a retry the order
 * does not hold.
 */
const environment = (route: string, extra: Environment = {}) =>
  backend.environment({
    DYNAMODB_ENDPOINT: `${proxy.endpoint}/${route}`,
    DYNAMODB_TIMEOUT_MS: '10000',
    ...extra,
  });

let token: ProxyHandler;
let tokenWithGrace: ProxyHandler;
let revocation: ProxyHandler;
let introspection: ProxyHandler;
let adminHandler: ReturnType<typeof buildAdminLambda>;
let authorizeHandler: ReturnType<typeof buildAuthorizerLambda>;
/** The deployed setting: the client record cached for 30 s. */
let warmAuthorizeHandler: ReturnType<typeof buildAuthorizerLambda>;
/** Introspects anyone's tokens without side effects (a refresh would consume them). */
let inspector: Client;

beforeAll(async () => {
  backend = await startServiceBackend({ tables, hookSecret: 'races-hook-secret', users });
  proxy = await startFaultDynamoDbProxy(backend.dynalite.endpoint);
  token = withContext(buildTokenLambda(environment('token')), 'token');
  tokenWithGrace = withContext(
    buildTokenLambda(environment('token', { REFRESH_REUSE_GRACE_SECONDS: '60' })),
    'token',
  );
  revocation = withContext(buildRevocationLambda(environment('revoke')), 'revocation');
  introspection = withContext(buildIntrospectionLambda(environment('introspect')), 'introspection');
  // The second sweep of disable-client waits past every token request in flight (30 s deployed);
  // here a request takes milliseconds, so one second is already "past the token timeout".
  adminHandler = buildAdminLambda(environment('admin', { DISABLE_CLIENT_SECOND_SWEEP_SECONDS: '1' }));
  authorizeHandler = buildAuthorizerLambda(environment('authorize', { CLIENT_CACHE_TTL_SECONDS: '0' }));
  warmAuthorizeHandler = buildAuthorizerLambda(environment('authorize-warm'));
  inspector = await registerClient(['client_credentials'], true);
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

// ---- calls ---------------------------------------------------------------------------------------

const admin = async (payload: unknown) =>
  (await adminHandler(payload, localLambdaContext('admin'))) as Record<string, unknown>;

async function registerClient(
  grantTypes: readonly string[] = ['password', 'refresh_token', 'client_credentials'],
  resourceServer = false,
): Promise<Client> {
  const created = await admin({
    action: 'create-client',
    name: 'races',
    grant_types: grantTypes,
    ...(resourceServer ? { resource_server: true } : {}),
  });
  if (typeof created.client_secret !== 'string')
    throw new Error(`create-client failed: ${JSON.stringify(created)}`);
  return created as unknown as Client;
}

interface Tokens {
  readonly access: string;
  readonly refresh: string;
}

const body = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, unknown>;
/** `200`, or `<status>-<error>` for an OAuth error. */
const outcome = (result: APIGatewayProxyResult): string =>
  result.statusCode === 200 ? '200' : `${result.statusCode}-${String(body(result).error)}`;

const tokensOf = (result: APIGatewayProxyResult): Tokens => {
  if (result.statusCode !== 200) throw new Error(`expected tokens, got ${result.statusCode} ${result.body}`);
  const { access_token: access, refresh_token: refresh } = body(result);
  return { access: String(access), refresh: String(refresh ?? '') };
};

const passwordGrant = (client: Client, round: number, handler = token) =>
  handler(formPost('/oauth2/token', client, { grant_type: 'password', ...userOf(round) }));
const clientCredentials = (client: Client) =>
  token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' }));
const refreshGrant = (client: Client, refreshToken: string, handler = token) =>
  handler(formPost('/oauth2/token', client, { grant_type: 'refresh_token', refresh_token: refreshToken }));
const revoke = (client: Client, value: string) =>
  revocation(formPost('/oauth2/revoke', client, { token: value }));

async function login(client: Client, round: number, handler = token): Promise<Tokens> {
  return tokensOf(await passwordGrant(client, round, handler));
}

async function decide(
  handler: ReturnType<typeof buildAuthorizerLambda>,
  accessToken: string,
): Promise<string> {
  try {
    const result = await handler(
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
}
const authorize = (accessToken: string) => decide(authorizeHandler, accessToken);

/** Is this (refresh or access) token alive, asked without consuming it. */
async function active(value: string): Promise<boolean> {
  const result = await introspection(formPost('/oauth2/introspect', inspector, { token: value }));
  if (result.statusCode !== 200) throw new Error(`introspection failed: ${result.statusCode} ${result.body}`);
  return body(result).active === true;
}

async function revokedInStore(value: string): Promise<boolean> {
  const grantId = value.split('.')[0];
  const { Item } = await backend.dynamo.doc.send(
    new GetCommand({ TableName: tables.grants, Key: { grantId }, ConsistentRead: true }),
  );
  return Item?.revokedAt !== undefined;
}

// ---- pinning an interleaving ------------------------------------------------------------------------

const sleep = (ms: number) =>
  new Promise<'timed out'>((resolve) => {
    setTimeout(() => resolve('timed out'), ms).unref();
  });

const on =
  (route: string, test: (request: ProxiedRequest) => boolean) =>
  (request: ProxiedRequest): boolean =>
    request.route === route && test(request);
const clientRead = (request: ProxiedRequest) =>
  request.operation === 'GetItem' && request.table === tables.clients;
const clientWrite = (request: ProxiedRequest) =>
  request.operation === 'UpdateItem' && request.table === tables.clients;
const grantPut = (request: ProxiedRequest) =>
  request.operation === 'PutItem' && request.table === tables.grants;
const grantListing = (request: ProxiedRequest) =>
  request.operation === 'Query' && request.table === tables.grants;

/**
 * "Hold the first request matching `held` until a request matching `after` has been answered": a
 * step of a forced interleaving. `forced()` is false if `after` never came (the order did not happen).
 */
interface Step {
  readonly held: (request: ProxiedRequest) => boolean;
  readonly after: (request: ProxiedRequest) => boolean;
}

async function withOrder<T>(
  steps: readonly Step[],
  race: () => Promise<T>,
): Promise<{ result: T; forced: boolean }> {
  let forced = true;
  const gates = steps.map((step) => ({
    step,
    used: false,
    until: Promise.race([proxy.answered(step.after), sleep(ORDER_TIMEOUT_MS)]).then((value) => {
      if (value === 'timed out') forced = false;
    }),
  }));
  const plan: FaultPlan = (request) => {
    const gate = gates.find((candidate) => !candidate.used && candidate.step.held(request));
    if (gate === undefined) return undefined;
    gate.used = true;
    return { kind: 'hold', until: gate.until };
  };
  proxy.setPlan(plan);
  try {
    const result = await race();
    return { result, forced: forced && gates.every((gate) => gate.used) };
  } finally {
    proxy.setPlan(undefined);
    await proxy.settle();
  }
}

// ---- concurrent refreshes -------------------------------------------------------------------------

/**
 * Holds the first `count` redemption writes on the token route until all of them have arrived, then
 * lets them go together: only the write's condition can then stop all but one.
 */
function gateAllWrites(count: number) {
  let writes = 0;
  let release: () => void = () => undefined;
  const allArrived = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    plan: (request: ProxiedRequest) => {
      if (!on('token', isRotation)(request) || writes >= count) return undefined;
      writes += 1;
      if (writes === count) release();
      return { kind: 'hold', until: Promise.race([allArrived, sleep(ORDER_TIMEOUT_MS)]) } as const;
    },
    get forced() {
      return writes >= count;
    },
  };
}

describe(`${CONCURRENT_REFRESHES} concurrent refreshes with one refresh token, ${REFRESH_ROUNDS} rounds`, () => {
  let client: Client;
  beforeAll(async () => {
    client = await registerClient(['password', 'refresh_token']);
  });

  /**
   * One round: a login, `round % 3` ordinary refreshes first (so the reuse check also meets a
   * history of consumed tokens), then the race. In odd rounds every racer's write is held until all
   * have arrived, so they reach the table together and only the write's condition can stop them.
   */
  async function race(round: number, handler: ProxyHandler, extraPlan?: FaultPlan) {
    let current = await login(client, round, handler);
    const original = current;
    for (let step = 0; step < round % 3; step++)
      current = tokensOf(await refreshGrant(client, current.refresh, handler));
    const gate = round % 2 === 1 ? gateAllWrites(CONCURRENT_REFRESHES) : undefined;
    proxy.setPlan((request) => gate?.plan(request) ?? extraPlan?.(request));
    let results: APIGatewayProxyResult[];
    try {
      const refresh = current.refresh;
      results = await Promise.all(
        Array.from({ length: CONCURRENT_REFRESHES }, () => refreshGrant(client, refresh, handler)),
      );
    } finally {
      proxy.setPlan(undefined);
      await proxy.settle();
    }
    const winners = results.filter((result) => result.statusCode === 200);
    const losers = results.filter((result) => result.statusCode !== 200).map(outcome);
    return { original, current, winners, losers, forced: gate?.forced ?? true };
  }

  it('grace 0: exactly one wins, the others get invalid_grant, and the grant (winner included) is revoked', async () => {
    const tally = new Tally();
    for (let round = 0; round < REFRESH_ROUNDS; round++) {
      const { original, current, winners, losers, forced } = await race(round, token);
      tally.add(`winners=${winners.length}`);
      expect(forced, `round ${round}: the forced interleaving did not happen`).toBe(true);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(new Set(losers), `round ${round}`).toEqual(new Set(['400-invalid_grant']));
      const won = tokensOf(winners[0] as APIGatewayProxyResult);
      expect(await revokedInStore(won.access), `round ${round}: grant revoked`).toBe(true);
      for (const dead of [won.access, current.access, original.access])
        expect(await authorize(dead)).toBe('Unauthorized');
      expect(await active(won.refresh)).toBe(false);
      expect(outcome(await refreshGrant(client, won.refresh))).toBe('400-invalid_grant');
    }
    console.log(`[races] concurrent refreshes, grace 0: ${tally}`);
  }, 60_000);

  it('grace 60 s: exactly one wins, the others get invalid_grant, and the winner keeps working', async () => {
    const tally = new Tally();
    for (let round = 0; round < REFRESH_ROUNDS; round++) {
      const { original, current, winners, losers, forced } = await race(round, tokenWithGrace);
      tally.add(`winners=${winners.length}`);
      expect(forced, `round ${round}: the forced interleaving did not happen`).toBe(true);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(new Set(losers), `round ${round}`).toEqual(new Set(['400-invalid_grant']));
      const won = tokensOf(winners[0] as APIGatewayProxyResult);
      expect(await revokedInStore(won.access), `round ${round}: grant revoked`).toBe(false);
      expect(await authorize(won.access)).toBe('Allow');
      expect(await authorize(current.access)).toBe('Unauthorized');
      expect(await authorize(original.access)).toBe('Unauthorized');
      const next = tokensOf(await refreshGrant(client, won.refresh, tokenWithGrace));
      expect(await authorize(next.access)).toBe('Allow');
    }
    console.log(`[races] concurrent refreshes, grace 60: ${tally}`);
  }, 60_000);

  it('self-check: against a store whose rotation ignores its condition, the same race has several winners', async () => {
    // Proves the race reaches the table concurrently: only the write's condition keeps it to one winner.
    let rewritten = 0;
    const { winners } = await race(0, token, (request) => {
      if (!(request.route === 'token' && isRotation(request))) return undefined;
      rewritten += 1;
      const condition = String(request.body.ConditionExpression);
      return {
        kind: 'rewrite',
        body: { ...request.body, ConditionExpression: `(${condition}) OR attribute_exists(grantId)` },
      };
    });
    expect(rewritten).toBeGreaterThan(1);
    expect(winners.length).toBeGreaterThan(1);
  });
});

// ---- revoke vs refresh ----------------------------------------------------------------------------

describe(`revocation vs refresh of one grant, ${ROUNDS} rounds`, () => {
  let client: Client;
  beforeAll(async () => {
    client = await registerClient(['password', 'refresh_token']);
  });

  type Order = 'free' | 'refresh-first' | 'revoke-first';
  const ORDERS: readonly Order[] = ['free', 'refresh-first', 'revoke-first'];

  /**
   * The steps pinning each order. Both sides are one conditional UpdateItem each (the revocation's
   * condition names the token's current hash, the rotation's the presented refresh hash and no
   * revocation), so the order of the two writes decides everything.
   */
  const stepsOf = (order: Order): Step[] => {
    switch (order) {
      case 'free':
        return [];
      case 'refresh-first':
        return [{ held: on('revoke', isRevocation), after: on('token', isRotation) }];
      case 'revoke-first':
        return [{ held: on('token', isRotation), after: on('revoke', isRevocation) }];
    }
  };

  it('leaves the old pair dead, and the new pair alive only if the revocation came after the rotation', async () => {
    const tally = new Tally();
    for (let round = 0; round < ROUNDS; round++) {
      const order = ORDERS[round % ORDERS.length] as Order;
      const before = await login(client, round);
      // Logout with the refresh token in even rounds, the access token in odd ones.
      const revoked = Math.floor(round / ORDERS.length) % 2 === 0 ? before.refresh : before.access;
      const { result, forced } = await withOrder(stepsOf(order), () =>
        Promise.all([refreshGrant(client, before.refresh), revoke(client, revoked)]),
      );
      const [refreshed, revocationAnswer] = result;
      const context = `round ${round} (${order})`;
      expect(forced, `${context}: the forced order did not happen`).toBe(true);
      expect(outcome(revocationAnswer), context).toBe('200');
      const grantRevoked = await revokedInStore(before.access);
      tally.add(`${order}:refresh-${outcome(refreshed)}:${grantRevoked ? 'revoked' : 'alive'}`);

      // Whatever the order: the pair the client presented is dead.
      expect(await authorize(before.access), context).toBe('Unauthorized');
      expect(await active(before.refresh), context).toBe(false);
      if (refreshed.statusCode === 200) {
        const after = tokensOf(refreshed);
        // The new pair lives exactly when the grant survived.
        expect(await authorize(after.access), context).toBe(grantRevoked ? 'Unauthorized' : 'Allow');
        expect(await active(after.refresh), context).toBe(!grantRevoked);
      } else {
        expect(outcome(refreshed), context).toBe('400-invalid_grant');
        expect(grantRevoked, `${context}: a refused refresh must mean the revocation won`).toBe(true);
      }
      // The orders that leave no choice.
      if (order === 'revoke-first')
        expect({ refresh: outcome(refreshed), grantRevoked }).toEqual({
          refresh: '400-invalid_grant',
          grantRevoked: true,
        });
      // Revoking a token that was rotated away by then changes nothing (README): the new pair lives.
      if (order === 'refresh-first')
        expect({ refresh: outcome(refreshed), grantRevoked }).toEqual({
          refresh: '200',
          grantRevoked: false,
        });
    }
    console.log(`[races] revoke vs refresh: ${tally}`);
  }, 60_000);
});

// ---- disable-client vs grant --------------------------------------------------------------------------

describe(`disable-client vs grants, ${ROUNDS} rounds`, () => {
  /**
   * The grant request reads the client (still enabled), the admin disables it and lists its grants,
   * and only then is the new grant written: it escapes the first revocation sweep. The issuance path
   * does not re-read the client (issue 13); disable-client's second sweep, after the wait, finds it.
   */
  const grantAfterSweep = (): Step[] => [
    { held: on('admin', clientWrite), after: on('token', clientRead) },
    { held: on('token', grantPut), after: on('admin', grantListing) },
  ];

  async function round(index: number, forced: boolean, warm?: string) {
    const client = await registerClient();
    const before = await login(client, index);
    if (warm !== undefined) expect(await decide(warmAuthorizeHandler, before.access)).toBe('Allow');
    const grant = index % 2 === 0 ? () => passwordGrant(client, index) : () => clientCredentials(client);
    const { result, forced: happened } = await withOrder(forced ? grantAfterSweep() : [], () =>
      Promise.all([
        admin({ action: 'disable-client', client_id: client.client_id }),
        grant(),
        ...(forced ? [] : [refreshGrant(client, before.refresh), clientCredentials(client)]),
      ]),
    );
    const [disabled, ...answers] = result;
    return { client, before, disabled, answers: answers as APIGatewayProxyResult[], happened };
  }

  it('leaves no token of the disabled client usable, whichever step came first', async () => {
    const tally = new Tally();
    for (let index = 0; index < ROUNDS; index++) {
      const forced = index % 2 === 1;
      const { client, before, disabled, answers, happened } = await round(index, forced);
      const context = `round ${index} (${forced ? 'grant written after the sweep' : 'free'})`;
      expect(happened, `${context}: the forced order did not happen`).toBe(true);
      expect(disabled, context).toMatchObject({ disabled: true });
      const issued: Tokens[] = [before];
      for (const answer of answers) {
        tally.add(`${forced ? 'forced' : 'free'}:${outcome(answer)}`);
        expect(['200', '401-invalid_client', '400-invalid_grant'], context).toContain(outcome(answer));
        if (answer.statusCode === 200) issued.push(tokensOf(answer));
      }
      // The grant written after the first sweep was answered (200), and the second sweep revoked it
      // before disable-client answered: the bound the README states (dead once disable-client answered).
      if (forced) expect(outcome(answers[0] as APIGatewayProxyResult), context).toBe('200');
      for (const { access, refresh } of issued) {
        expect(await authorize(access), `${context}: an access token of a disabled client works`).toBe(
          'Unauthorized',
        );
        for (const value of refresh === '' ? [access] : [access, refresh]) {
          expect(await active(value), `${context}: a token of a disabled client is active`).toBe(false);
        }
      }
      expect(outcome(await clientCredentials(client)), context).toBe('401-invalid_client');
    }
    console.log(`[races] disable-client vs grants: ${tally}`);
  }, 60_000);

  /**
   * With the authorizer's client cache warm (CLIENT_CACHE_TTL_SECONDS, 30 s as deployed) and still
   * saying "enabled": the grant written after the first sweep was revoked by the second one, and the
   * token issued before the disable by the first, so once disable-client answered nothing gets Allow.
   */
  it('leaves no token of the disabled client usable at a warm authorizer either', async () => {
    const { before, answers, happened } = await round(0, true, 'warm');
    expect(happened).toBe(true);
    const raced = answers[0] as APIGatewayProxyResult;
    expect(outcome(raced)).toBe('200');
    expect(await decide(warmAuthorizeHandler, tokensOf(raced).access)).toBe('Unauthorized');
    expect(await decide(warmAuthorizeHandler, before.access)).toBe('Unauthorized');
  });
});

// ---- rotate-secret vs grant -----------------------------------------------------------------------------

describe(`rotate-secret vs grants with the old secret, ${ROUNDS} rounds`, () => {
  /** The grant request authenticates with the old secret before the rotation and writes its grant after. */
  const issuedAfterRotation = (): Step[] => [
    { held: on('admin', clientWrite), after: on('token', clientRead) },
    { held: on('token', grantPut), after: on('admin', clientWrite) },
  ];

  it('refuses the old secret everywhere once the rotation answered; what it issued before stays valid, by design', async () => {
    const tally = new Tally();
    for (let index = 0; index < ROUNDS; index++) {
      const forced = index % 2 === 1;
      const client = await registerClient();
      const before = await login(client, index);
      const { result, forced: happened } = await withOrder(forced ? issuedAfterRotation() : [], () =>
        Promise.all([
          admin({ action: 'rotate-secret', client_id: client.client_id }),
          index % 4 < 2 ? passwordGrant(client, index) : clientCredentials(client),
          ...(forced ? [] : [refreshGrant(client, before.refresh)]),
        ]),
      );
      const [rotated, ...answers] = result as [Record<string, unknown>, ...APIGatewayProxyResult[]];
      const context = `round ${index} (${forced ? 'authenticated before, issued after the rotation' : 'free'})`;
      expect(happened, `${context}: the forced order did not happen`).toBe(true);
      const renewed: Client = { client_id: client.client_id, client_secret: String(rotated.client_secret) };
      expect(renewed.client_secret).not.toBe(client.client_secret);
      for (const answer of answers) {
        tally.add(`${forced ? 'forced' : 'free'}:${outcome(answer)}`);
        expect(['200', '401-invalid_client'], context).toContain(outcome(answer));
      }
      if (forced) expect(outcome(answers[0] as APIGatewayProxyResult), context).toBe('200');

      // After the rotation: the old secret opens nothing, the new one works.
      expect(outcome(await clientCredentials(client)), context).toBe('401-invalid_client');
      expect(outcome(await revoke(client, before.access)), context).toBe('401-invalid_client');
      expect(
        outcome(await introspection(formPost('/oauth2/introspect', client, { token: before.access }))),
        context,
      ).toBe('401-invalid_client');
      expect(outcome(await clientCredentials(renewed)), context).toBe('200');
      // Tokens are not tied to the secret: those issued in the race work, and refresh with the new secret only.
      for (const answer of answers.filter((candidate) => candidate.statusCode === 200)) {
        const issued = tokensOf(answer);
        expect(await authorize(issued.access), context).toBe('Allow');
        if (issued.refresh !== '') {
          expect(outcome(await refreshGrant(client, issued.refresh)), context).toBe('401-invalid_client');
          expect(outcome(await refreshGrant(renewed, issued.refresh)), context).toBe('200');
        }
      }
    }
    console.log(`[races] rotate-secret vs grants: ${tally}`);
  }, 60_000);
});
