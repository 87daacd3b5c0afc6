import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { noAudit } from '../../lambdas/core/audit-event';
import type { AuthCheck } from '../../lambdas/core/auth-check';
import type { ClientRecord } from '../../lambdas/core/client-store';
import type { GrantType } from '../../lambdas/core/grant-type';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG } from '../../lambdas/core/token-endpoint-config';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { createAdminHandler } from '../../lambdas/http/admin-handler';
import { createAuthorizerHandler } from '../../lambdas/http/authorizer-handler';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { createTokenHandler } from '../../lambdas/http/token-handler';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../../lambdas/store/in-memory-grant-store';
import { InMemoryLockoutStore } from '../../lambdas/store/in-memory-lockout-store';
import {
  authorizerRequest,
  basicAuthorization,
  basicAuthorizationOfBytes,
  ME_ROUTE_ARN,
  PREVIOUS_SECRET_STATUS_KEYS,
  PRINTABLE_DESCRIPTION,
  TOKEN_ERROR_CODES,
  type TokenBody,
  tokenRequest,
} from '../support/api-gateway-events';
import {
  anyString,
  type BodyChoice,
  formEndpointEventArb,
  nonFormBodyArb,
  percentGarbage,
  protoArb,
} from '../support/fuzz-arbitraries';
import { testLockoutKeySecret } from '../support/lockout-key-secret';

const NUM_RUNS = 300;
const logger = createServiceLogger('fuzz', 'SILENT');
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

/** A real AuthCheck, in process: two users, one per JSON type of user id. */
const authCheck: AuthCheck = {
  async checkCredentials({ username, password }) {
    if (username === 'alice' && password === 'alice-pw') return 1234;
    if (username === 'bob' && password === 'bob-pw') return 'u-1';
    return null;
  },
};

interface Fixture {
  readonly clients: InMemoryClientStore;
  readonly grants: InMemoryGrantStore;
}

const CLIENTS = {
  full: {
    id: 'client-full',
    secret: 'secret-full-0123456789',
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scope: [],
  },
  scoped: {
    id: 'client-scoped',
    secret: 'secret-scoped-0123456789',
    grantTypes: ['password', 'refresh_token'],
    scope: ['read', 'write'],
  },
  service: {
    id: 'client-service',
    secret: 'secret-service-0123456789',
    grantTypes: ['client_credentials'],
    scope: [],
  },
  disabled: {
    id: 'client-disabled',
    secret: 'secret-disabled-0123456789',
    grantTypes: ['password', 'client_credentials'],
    scope: [],
    disabled: true,
  },
} as const satisfies Record<
  string,
  {
    id: string;
    secret: string;
    grantTypes: readonly GrantType[];
    scope: readonly string[];
    disabled?: boolean;
  }
>;

async function fixture(): Promise<Fixture> {
  const clients = new InMemoryClientStore();
  for (const client of Object.values(CLIENTS)) {
    const record: ClientRecord = {
      clientId: client.id,
      name: client.id,
      secretHash: hashSecret(client.secret),
      grantTypes: client.grantTypes,
      scope: client.scope,
      disabled: 'disabled' in client && client.disabled,
      resourceServer: false,
      createdAt: 1_700_000_000,
      updatedAt: 1_700_000_000,
    };
    await clients.createClient(record);
  }
  return { clients, grants: new InMemoryGrantStore() };
}

const tokenHandlerFor = ({ clients, grants }: Fixture) =>
  createTokenHandler(
    DEFAULT_TOKEN_ENDPOINT_CONFIG,
    {
      clients,
      grants,
      lockouts: new InMemoryLockoutStore(),
      lockoutKeySecret: testLockoutKeySecret,
      authCheck,
      clock: Date.now,
      random: randomBytes,
      audit: noAudit,
    },
    logger,
  );

/** Issues a few real token pairs through the handler, so the fuzz can replay and mangle them. */
async function issueTokens(handler: ReturnType<typeof tokenHandlerFor>, count: number): Promise<TokenBody[]> {
  const issued: TokenBody[] = [];
  for (let i = 0; i < count; i++) {
    const result = await handler(
      tokenRequest({
        headers: { Authorization: basicAuthorization(CLIENTS.full.id, CLIENTS.full.secret) },
        body: {
          grant_type: 'password',
          username: i % 2 === 0 ? 'alice' : 'bob',
          password: i % 2 === 0 ? 'alice-pw' : 'bob-pw',
        },
      }),
      localLambdaContext('token'),
    );
    expect(result.statusCode).toBe(200);
    issued.push(JSON.parse(result.body) as TokenBody);
  }
  return issued;
}

// ---- arbitraries --------------------------------------------------------------------------------------

const clientArb = fc.constantFrom(...Object.values(CLIENTS));

const authorizationArb = (tokens: () => readonly TokenBody[]) =>
  fc.oneof(
    { weight: 24, arbitrary: clientArb.map((client) => basicAuthorization(client.id, client.secret)) },
    fc.tuple(anyString(20), anyString(30)).map(([id, secret]) => basicAuthorization(id, secret)),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => basicAuthorizationOfBytes(bytes)),
    anyString(40).map((text) => `Basic ${text}`),
    fc.constantFrom('Basic', 'Basic ', 'basic =', 'Basic ====', 'Basic Og==', 'Basic YTo=', 'Basic OmI='),
    fc.nat().map((i) => `Bearer ${tokens()[i % Math.max(tokens().length, 1)]?.access_token ?? ''}`),
    anyString(80),
    fc.constant(undefined),
  );

const paramValueArb = (tokens: () => readonly TokenBody[]) =>
  fc.oneof(
    fc.constantFrom(
      'password',
      'refresh_token',
      'client_credentials',
      'refresh',
      'alice',
      'bob',
      'alice-pw',
      'bob-pw',
    ),
    fc.constantFrom('read', 'write', 'read write', 'admin', ' ', 'read  write', '1234', 'u-1'),
    fc.constantFrom(CLIENTS.full.id, CLIENTS.full.secret, CLIENTS.scoped.id, CLIENTS.scoped.secret),
    fc.nat().map((i) => tokens()[i % Math.max(tokens().length, 1)]?.refresh_token ?? ''),
    fc.nat().map((i) => tokens()[i % Math.max(tokens().length, 1)]?.access_token ?? ''),
    anyString(40),
  );

const PARAM_NAMES = [
  'grant_type',
  'username',
  'password',
  'refresh_token',
  'scope',
  'user_id',
  'client_id',
  'client_secret',
] as const;

/** Mostly plausible form bodies, with repeats and garbage mixed in. */
const formBodyArb = (tokens: () => readonly TokenBody[]) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), anyString(10)), paramValueArb(tokens)), {
        maxLength: 8,
      }),
      fc.boolean(),
      fc.option(percentGarbage, { nil: undefined }),
    )
    .map(([pairs, repeatFirst, garbage]) => {
      const all = repeatFirst && pairs[0] !== undefined ? [...pairs, pairs[0]] : pairs;
      const encoded = new URLSearchParams(all).toString();
      return garbage === undefined ? encoded : `${encoded}&${garbage}`;
    });

/** `undefined` three times out of four. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const poolPick = (tokens: () => readonly TokenBody[], pick: (token: TokenBody) => string | undefined) =>
  fc
    .nat()
    .map(
      (i) =>
        pick(
          tokens()[i % Math.max(tokens().length, 1)] ?? { access_token: '', token_type: '', expires_in: 0 },
        ) ?? '',
    );

/** Bodies of real grant requests (most succeed for some client), sometimes with a scope, user_id or stray field. */
const grantBodyArb = (tokens: () => readonly TokenBody[]) =>
  fc
    .tuple(
      fc.oneof(
        fc.constant({ grant_type: 'client_credentials' }),
        fc
          .constantFrom(['alice', 'alice-pw'], ['bob', 'bob-pw'], ['alice', 'wrong'], ['mallory', 'x'])
          .map(([username = '', password = '']) => ({ grant_type: 'password', username, password })),
        poolPick(tokens, (token) => token.refresh_token).map((refresh_token) => ({
          grant_type: 'refresh_token',
          refresh_token,
        })),
      ),
      rarely(fc.constantFrom('read', 'write', 'read write', 'admin', 'read  write')),
      rarely(fc.constantFrom('1234', 'u-1', '999')),
      rarely(fc.tuple(anyString(8), anyString(20))),
    )
    .map(([fields, scope, userId, stray]) => {
      const all: [string, string][] = Object.entries(fields);
      if (scope !== undefined) all.push(['scope', scope]);
      if (userId !== undefined) all.push(['user_id', userId]);
      if (stray !== undefined) all.push(stray);
      return new URLSearchParams(all).toString();
    });

const bodyArb = (tokens: () => readonly TokenBody[]): fc.Arbitrary<BodyChoice> =>
  fc.oneof(
    { weight: 14, arbitrary: grantBodyArb(tokens).map((body) => ({ body, isBase64Encoded: false })) },
    { weight: 4, arbitrary: formBodyArb(tokens).map((body) => ({ body, isBase64Encoded: false })) },
    formBodyArb(tokens).map((body) => ({
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    })),
    { weight: 7, arbitrary: nonFormBodyArb },
  );

const tokenEventArb = (tokens: () => readonly TokenBody[]): fc.Arbitrary<APIGatewayProxyEvent> =>
  formEndpointEventArb('/oauth2/token', authorizationArb(tokens), bodyArb(tokens));

// ---- shared expectations ------------------------------------------------------------------------------

const TOKEN_KEY_ORDER = ['access_token', 'token_type', 'expires_in', 'refresh_token', 'user_id', 'scope'];

/** Any answer of the token endpoint: never a 5xx, always JSON and no-store, a token or an RFC error. */
function expectWellFormedAnswer(result: APIGatewayProxyResult): void {
  expect(result.statusCode, result.body).toBeLessThan(500);
  expect(result.headers).toMatchObject({
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  });
  const body = JSON.parse(result.body) as Record<string, unknown>;
  if (result.statusCode === 200) {
    const keys = Object.keys(body);
    expect(keys.slice(0, 3)).toEqual(['access_token', 'token_type', 'expires_in']);
    // Wire order kept whatever optional keys are present.
    expect(keys).toEqual(TOKEN_KEY_ORDER.filter((key) => keys.includes(key)));
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.access_token).toMatch(TOKEN_FORMAT);
    if (body.refresh_token !== undefined) expect(body.refresh_token).toMatch(TOKEN_FORMAT);
    return;
  }
  expect(Object.keys(body)).toEqual(['error', 'error_description']);
  expect(TOKEN_ERROR_CODES).toContain(body.error);
  expect(body.error_description).toMatch(PRINTABLE_DESCRIPTION);
  expect([400, 401, 405, 413]).toContain(result.statusCode);
  if (result.statusCode === 401) {
    expect(body.error).toBe('invalid_client');
    expect(result.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="/);
  }
  if (result.statusCode === 405) expect(result.headers?.Allow).toBe('POST');
}

// ---- properties ---------------------------------------------------------------------------------------

describe('token endpoint fuzz', () => {
  let handler: ReturnType<typeof tokenHandlerFor>;
  let tokens: TokenBody[] = [];

  beforeAll(async () => {
    handler = tokenHandlerFor(await fixture());
    tokens = await issueTokens(handler, 6);
  });

  it('answers any request with a token or an RFC 6749 error: never a throw, never a 5xx, always no-store', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        tokenEventArb(() => tokens),
        async (event) => {
          const result = await handler(event, localLambdaContext('token'));
          statuses.add(result.statusCode);
          expectWellFormedAnswer(result);
          if (result.statusCode === 200) {
            // Keep the pool fresh: rotated refresh tokens replace the consumed ones.
            tokens.push(JSON.parse(result.body) as TokenBody);
            tokens = tokens.slice(-12);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
    // The generators reached past the first checks: some requests succeeded, some failed.
    expect(statuses).toContain(200);
    expect(statuses).toContain(400);
    expect(statuses).toContain(401);
  });

  it('answers well-formed requests with any parameter values the same way', async () => {
    await fc.assert(
      fc.asyncProperty(
        clientArb,
        fc.dictionary(
          fc.constantFrom(...PARAM_NAMES),
          paramValueArb(() => tokens),
          { maxKeys: 6 },
        ),
        async (client, fields) => {
          const { client_id: _id, client_secret: _secret, ...params } = fields;
          const event = tokenRequest({
            headers: { Authorization: basicAuthorization(client.id, client.secret) },
            body: params,
          });
          expectWellFormedAnswer(await handler(event, localLambdaContext('token')));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('authorizer fuzz', () => {
  let authorizer: ReturnType<typeof createAuthorizerHandler>;
  let valid: TokenBody[] = [];

  beforeAll(async () => {
    const stores = await fixture();
    // Its own stores: nothing here rotates or revokes, so the valid tokens stay valid.
    valid = await issueTokens(tokenHandlerFor(stores), 4);
    authorizer = createAuthorizerHandler(
      { requireSsl: true, realm: 'oauth2' },
      { grants: stores.grants, clients: stores.clients, clock: Date.now },
      logger,
    );
  });

  const mangle = (token: string, index: number, char: string) => {
    const at = index % token.length;
    return `${token.slice(0, at)}${char}${token.slice(at + 1)}`;
  };

  const headerArb = fc.oneof(
    fc.nat().map((i) => ({ header: `Bearer ${valid[i % valid.length]?.access_token}`, valid: true })),
    fc
      .tuple(
        fc.nat(),
        fc.constantFrom('bearer', 'BEARER', 'Bearer'),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
      )
      .map(([i, scheme, before, after]) => ({
        header: `${scheme}${' '.repeat(before)}${valid[i % valid.length]?.access_token}${' '.repeat(after)}`,
        valid: true,
      })),
    fc
      .tuple(fc.nat(), fc.nat(), fc.constantFrom('A', '_', '-', '.', '=', '~', '+', '/', ' '))
      .map(([i, at, char]) => ({
        header: `Bearer ${mangle(valid[i % valid.length]?.access_token ?? '', at, char)}`,
        valid: false,
      })),
    fc.nat().map((i) => ({ header: `Bearer ${valid[i % valid.length]?.refresh_token}`, valid: false })),
    anyString(100).map((text) => ({ header: `Bearer ${text}`, valid: false })),
    anyString(100).map((header) => ({ header, valid: false })),
    fc
      .uint8Array({ maxLength: 80 })
      .map((bytes) => ({ header: `Bearer ${Buffer.from(bytes).toString('base64')}`, valid: false })),
    fc.constant({ header: undefined, valid: false }),
  );

  it('answers any Authorization header with an Allow for a valid token or Error("Unauthorized"), nothing else', async () => {
    const validTokens = new Set(valid.map((token) => token.access_token));
    let allowed = 0;
    await fc.assert(
      fc.asyncProperty(headerArb, protoArb, async ({ header, valid: isValid }, proto) => {
        const event = authorizerRequest({
          ...(header === undefined ? {} : { authorization: header }),
          headers: { 'X-Forwarded-Proto': proto },
        });
        const outcome = await authorizer(event, localLambdaContext('authorizer')).then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
        const secure = proto?.split(',')[0]?.trim().toLowerCase() === 'https';
        if ('result' in outcome) {
          allowed += 1;
          expect(outcome.result.policyDocument.Statement).toEqual([
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ME_ROUTE_ARN },
          ]);
          // Never a false accept: only a known valid token over TLS gets in.
          expect(secure).toBe(true);
          expect(validTokens).toContain(header?.trim().split(/ +/)[1]);
        } else {
          expect(outcome.error).toBeInstanceOf(Error);
          expect((outcome.error as Error).message).toBe('Unauthorized');
          // Never a false refusal of a valid token over TLS.
          expect(isValid && secure).toBe(false);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(allowed).toBeGreaterThan(0);
  });
});

describe('admin fuzz', () => {
  let admin: ReturnType<typeof createAdminHandler>;

  beforeAll(async () => {
    const { clients, grants } = await fixture();
    admin = createAdminHandler(
      {
        clients,
        grants,
        lockouts: new InMemoryLockoutStore(),
        lockoutKeySecret: testLockoutKeySecret,
        clock: Date.now,
        random: randomBytes,
        audit: noAudit,
        sleep: async () => {},
        config: { disableClientSecondSweepSeconds: 0 },
      },
      logger,
    );
  });

  const ACTIONS = [
    'create-client',
    'list-clients',
    'rotate-secret',
    'disable-client',
    'revoke-user-tokens',
  ] as const;
  const fieldValueArb = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      'name',
      'read write',
      'a  b',
      '',
      ' ',
      CLIENTS.full.id,
      CLIENTS.service.id,
      1234,
      'u-1',
      -0,
      1.5,
    ),
    fc.subarray(['password', 'refresh_token', 'client_credentials', 'implicit', 'password']),
    anyString(30),
  );
  const commandArb = fc.record(
    {
      action: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ACTIONS) }, anyString(15)),
      name: fieldValueArb,
      grant_types: fieldValueArb,
      scope: fieldValueArb,
      client_id: fieldValueArb,
      user_id: fieldValueArb,
      resource_server: fc.oneof(fc.boolean(), fieldValueArb),
    },
    { requiredKeys: ['action'] },
  );
  const ids = fc.constantFrom(CLIENTS.full.id, CLIENTS.scoped.id, CLIENTS.service.id, 'no-such-client');
  const wellShapedArb = fc.oneof(
    fc.record(
      {
        action: fc.constant('create-client'),
        name: fc.oneof(anyString(30), fieldValueArb),
        grant_types: fc.oneof(
          fc.subarray(['password', 'refresh_token', 'client_credentials']),
          fieldValueArb,
        ),
        scope: fc.oneof(fc.constantFrom('', 'read write', 'a'), anyString(20), fieldValueArb),
        resource_server: fc.oneof(fc.boolean(), fieldValueArb),
      },
      { requiredKeys: ['action', 'name', 'grant_types'] },
    ),
    fc.constant({ action: 'list-clients' }),
    fc.record({
      action: fc.constantFrom('rotate-secret', 'disable-client'),
      client_id: fc.oneof(ids, fieldValueArb),
    }),
    fc.record({
      action: fc.constant('revoke-user-tokens'),
      user_id: fc.oneof(fc.constantFrom(1234, 'u-1', '1234', 0, -1.5), fieldValueArb),
    }),
  );
  const payloadArb = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    { weight: 3, arbitrary: commandArb },
    { weight: 4, arbitrary: wellShapedArb },
    // Unknown (or prototype-named) fields next to a plausible command, as JSON.parse would create them.
    fc
      .tuple(
        commandArb,
        fc.dictionary(fc.oneof(anyString(8), fc.constantFrom('__proto__', 'toString')), fieldValueArb, {
          maxKeys: 2,
        }),
      )
      .map(([command, extra]) => JSON.parse(JSON.stringify({ ...command, ...extra })) as unknown),
  );

  it('answers any JSON payload with a result or {"error":"invalid_request","error_description"}', async () => {
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(payloadArb, async (payload) => {
        const result = (await admin(payload, localLambdaContext('admin'))) as Record<string, unknown>;
        expect(typeof result).toBe('object');
        if ('error' in result) {
          outcomes.add('error');
          expect(Object.keys(result)).toEqual(['error', 'error_description']);
          expect(result.error).toBe('invalid_request');
          expect(result.error_description).toMatch(PRINTABLE_DESCRIPTION);
          return;
        }
        outcomes.add('result');
        const text = JSON.stringify(result);
        if ('clients' in result) {
          for (const client of result.clients as Record<string, unknown>[]) {
            expect(
              Object.keys(client).filter(
                (key) => /secret|hash/i.test(key) && !PREVIOUS_SECRET_STATUS_KEYS.includes(key),
              ),
            ).toEqual([]);
          }
          for (const { secret } of Object.values(CLIENTS))
            expect(text.includes(hashSecret(secret))).toBe(false);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(outcomes).toEqual(new Set(['error', 'result']));
  });
});
