import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { noAudit } from '../../lambdas/core/audit-event';
import type { AuthCheck } from '../../lambdas/core/auth-check';
import type { GrantType } from '../../lambdas/core/grant-type';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG } from '../../lambdas/core/token-endpoint-config';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { createIntrospectionHandler } from '../../lambdas/http/introspection-handler';
import { createRevocationHandler } from '../../lambdas/http/revocation-handler';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { createTokenHandler } from '../../lambdas/http/token-handler';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../../lambdas/store/in-memory-grant-store';
import { InMemoryLockoutStore } from '../../lambdas/store/in-memory-lockout-store';
import {
  basicAuthorization,
  basicAuthorizationOfBytes,
  PRINTABLE_DESCRIPTION,
  type TokenBody,
  tokenRequest,
} from '../support/api-gateway-events';
import {
  anyString,
  type BodyChoice,
  formEndpointEventArb,
  nonFormBodyArb,
} from '../support/fuzz-arbitraries';
import { testLockoutKeySecret } from '../support/lockout-key-secret';
import { type ProxyHandler, withContext } from '../support/token-service-fixture';

const NUM_RUNS = 300;
const logger = createServiceLogger('fuzz', 'SILENT');

const authCheck: AuthCheck = {
  async checkCredentials({ username, password }) {
    if (username === 'alice' && password === 'alice-pw') return 1234;
    if (username === 'bob' && password === 'bob-pw') return 'u-1';
    return null;
  },
};

interface FuzzClient {
  readonly id: string;
  readonly secret: string;
  readonly grantTypes: readonly GrantType[];
  readonly scope: readonly string[];
  readonly disabled: boolean;
  readonly resourceServer: boolean;
}

const CLIENTS: readonly FuzzClient[] = [
  {
    id: 'client-web',
    secret: 'secret-web-0123456789',
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scope: ['read', 'write'],
    disabled: false,
    resourceServer: false,
  },
  {
    id: 'client-mobile',
    secret: 'secret-mobile-0123456789',
    grantTypes: ['password', 'refresh_token'],
    scope: [],
    disabled: false,
    resourceServer: false,
  },
  {
    id: 'client-api',
    secret: 'secret-api-0123456789',
    grantTypes: ['client_credentials'],
    scope: [],
    disabled: false,
    resourceServer: true,
  },
  {
    id: 'client-off',
    secret: 'secret-off-0123456789',
    grantTypes: ['client_credentials'],
    scope: [],
    disabled: true,
    resourceServer: true,
  },
];
const ISSUERS = CLIENTS.filter((client) => !client.disabled && client.grantTypes.includes('password'));

interface Service {
  readonly token: ProxyHandler;
  readonly revocation: ProxyHandler;
  readonly introspection: ProxyHandler;
  /** Real tokens of the enabled password clients, with the client they were issued to. */
  readonly issued: ReadonlyArray<{ readonly clientId: string; readonly body: TokenBody }>;
}

async function startService(): Promise<Service> {
  const clients = new InMemoryClientStore();
  for (const client of CLIENTS) {
    await clients.createClient({
      clientId: client.id,
      name: client.id,
      secretHash: hashSecret(client.secret),
      grantTypes: client.grantTypes,
      scope: client.scope,
      disabled: client.disabled,
      resourceServer: client.resourceServer,
      createdAt: 1_700_000_000,
      updatedAt: 1_700_000_000,
    });
  }
  const grants = new InMemoryGrantStore();
  const config = DEFAULT_TOKEN_ENDPOINT_CONFIG;
  const clock = Date.now;
  const token = withContext(
    createTokenHandler(
      config,
      {
        clients,
        grants,
        lockouts: new InMemoryLockoutStore(),
        lockoutKeySecret: testLockoutKeySecret,
        authCheck,
        clock,
        random: randomBytes,
        audit: noAudit,
      },
      logger,
    ),
    'token',
  );
  const issued: Array<{ clientId: string; body: TokenBody }> = [];
  for (let i = 0; i < 8; i++) {
    const client = ISSUERS[i % ISSUERS.length] as FuzzClient;
    const result = await token(
      tokenRequest({
        headers: { Authorization: basicAuthorization(client.id, client.secret) },
        body: {
          grant_type: 'password',
          username: i % 2 === 0 ? 'alice' : 'bob',
          password: i % 2 === 0 ? 'alice-pw' : 'bob-pw',
        },
      }),
    );
    expect(result.statusCode).toBe(200);
    issued.push({ clientId: client.id, body: JSON.parse(result.body) as TokenBody });
  }
  return {
    token,
    revocation: withContext(
      createRevocationHandler(config, { clients, grants, clock, audit: noAudit }, logger),
      'revocation',
    ),
    introspection: withContext(
      createIntrospectionHandler(config, { clients, grants, clock }, logger),
      'introspection',
    ),
    issued,
  };
}

// ---- arbitraries --------------------------------------------------------------------------------------

const clientArb = fc.constantFrom(...CLIENTS);

const authorizationArb = fc.oneof(
  { weight: 20, arbitrary: clientArb.map((client) => basicAuthorization(client.id, client.secret)) },
  clientArb.map((client) => basicAuthorization(client.id, `${client.secret}x`)),
  fc.tuple(anyString(20), anyString(30)).map(([id, secret]) => basicAuthorization(id, secret)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => basicAuthorizationOfBytes(bytes)),
  fc.constantFrom('Basic', 'Basic ', 'basic =', 'Basic Og==', 'Bearer x.y'),
  anyString(60),
  fc.constant(undefined),
);

/** A token from the pool (access or refresh), mangled now and then, or anything at all. */
const tokenValueArb = (service: () => Service) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(fc.nat(), fc.boolean()).map(([i, refresh]) => {
        const { issued } = service();
        const body = issued[i % issued.length]?.body;
        return (refresh ? body?.refresh_token : body?.access_token) ?? '';
      }),
    },
    fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('A', '_', '-', '.', '=', '%', ' ')).map(([i, at, char]) => {
      const { issued } = service();
      const value = issued[i % issued.length]?.body.access_token ?? 'a.b';
      const index = at % value.length;
      return `${value.slice(0, index)}${char}${value.slice(index + 1)}`;
    }),
    anyString(80),
  );

const PARAM_NAMES = ['token', 'token_type_hint', 'client_id', 'client_secret', 'grant_type'] as const;

const formBodyArb = (service: () => Service): fc.Arbitrary<BodyChoice> =>
  fc
    .tuple(
      tokenValueArb(service),
      fc.option(fc.oneof(fc.constantFrom('access_token', 'refresh_token', 'id_token', ''), anyString(20)), {
        nil: undefined,
      }),
      fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...PARAM_NAMES), anyString(10)),
          fc.oneof(tokenValueArb(service), anyString(20)),
        ),
        { maxLength: 3 },
      ),
      fc.boolean(),
    )
    .map(([token, hint, extra, base64]) => {
      const pairs: [string, string][] = [['token', token]];
      if (hint !== undefined) pairs.push(['token_type_hint', hint]);
      pairs.push(...extra);
      const body = new URLSearchParams(pairs).toString();
      return base64
        ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }
        : { body, isBase64Encoded: false };
    });

const eventArb = (path: string, service: () => Service) =>
  formEndpointEventArb(
    path,
    authorizationArb,
    fc.oneof({ weight: 5, arbitrary: formBodyArb(service) }, nonFormBodyArb),
  );

// ---- shared expectations --------------------------------------------------------------------------------

const ERROR_CODES = ['invalid_request', 'invalid_client', 'temporarily_unavailable'];

/** 200, an RFC 6749 error 4xx, or 503: always JSON with the no-store headers. Returns the parsed body. */
function expectWellFormed(result: APIGatewayProxyResult): Record<string, unknown> {
  expect([200, 400, 401, 405, 413, 503], result.body).toContain(result.statusCode);
  expect(result.headers).toMatchObject({
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  });
  const body = JSON.parse(result.body) as Record<string, unknown>;
  if (result.statusCode !== 200) {
    expect(Object.keys(body)).toEqual(['error', 'error_description']);
    expect(ERROR_CODES).toContain(body.error);
    expect(body.error_description).toMatch(PRINTABLE_DESCRIPTION);
    if (result.statusCode === 401) {
      expect(body.error).toBe('invalid_client');
      expect(result.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="oauth2"/);
    }
    if (result.statusCode === 405) expect(result.headers?.Allow).toBe('POST');
    if (result.statusCode === 503) expect(body.error).toBe('temporarily_unavailable');
  }
  return body;
}

/** The client a request authenticated as, when it did: Basic with one of our clients' exact credentials. */
function callerOf(authorization: string | undefined): FuzzClient | undefined {
  return CLIENTS.find((client) => authorization === basicAuthorization(client.id, client.secret));
}

/** The header as the handler sees it after middy's header normalizer: the last spelling wins. */
const effectiveHeader = (
  headers: Record<string, string | undefined> | null,
  name: string,
): string | undefined => {
  const key = Object.keys(headers ?? {}).findLast((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : (headers?.[key] ?? undefined);
};

// ---- properties ---------------------------------------------------------------------------------------

describe('revocation endpoint fuzz', () => {
  let service: Service;
  beforeAll(async () => {
    service = await startService();
  });

  it('answers any request with 200 {}, an RFC 6749 error or 503: never a throw, never another 5xx, always no-store', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        eventArb('/oauth2/revoke', () => service),
        async (event) => {
          const result = await service.revocation(event);
          statuses.add(result.statusCode);
          const body = expectWellFormed(result);
          if (result.statusCode === 200) expect(body).toEqual({});
        },
      ),
      { numRuns: NUM_RUNS },
    );
    expect(statuses).toContain(200);
    expect(statuses).toContain(400);
    expect(statuses).toContain(401);
  });
});

describe('introspection endpoint fuzz', () => {
  let service: Service;
  beforeAll(async () => {
    service = await startService();
  });

  it('answers any request with {"active":…}, an RFC 6749 error or 503; never shows a client another client’s token', async () => {
    let active = 0;
    let inactive = 0;
    await fc.assert(
      fc.asyncProperty(
        eventArb('/oauth2/introspect', () => service),
        async (event) => {
          const caller = callerOf(effectiveHeader(event.headers, 'authorization'));
          const result = await service.introspection(event);
          const body = expectWellFormed(result);
          if (result.statusCode !== 200) return;
          if (body.active === false) {
            inactive += 1;
            expect(body).toEqual({ active: false });
            return;
          }
          active += 1;
          expect(body.active).toBe(true);
          const keys = Object.keys(body);
          expect(keys).toEqual(
            ['active', 'client_id', 'user_id', 'scope', 'exp', 'iat', 'token_type'].filter((key) =>
              keys.includes(key),
            ),
          );
          expect(['bearer', 'refresh_token']).toContain(body.token_type);
          expect(body.exp as number).toBeGreaterThan(body.iat as number);
          expect(typeof body.scope).toBe('string');
          // Never a false positive: only an enabled client with its exact Basic credentials gets an
          // active answer (the bodies never carry a valid secret), an ordinary one only for its own tokens.
          expect(caller).toBeDefined();
          expect(caller?.disabled).toBe(false);
          if (caller?.resourceServer === false) expect(body.client_id).toBe(caller.id);
          expect(service.issued.map((entry) => entry.clientId)).toContain(body.client_id);
        },
      ),
      { numRuns: NUM_RUNS },
    );
    expect(active).toBeGreaterThan(0);
    expect(inactive).toBeGreaterThan(0);
  });
});
