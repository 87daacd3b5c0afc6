import { createServer } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lambdas/core/audit-event';
import { API_REQUIREMENTS_VARIABLE } from '../../lambdas/core/route-requirements';
import { ConfigurationError } from '../../lambdas/handlers/configuration-error';
import { buildRevocationLambda } from '../../lambdas/handlers/revocation-lambda';
import { createRevocationHandler } from '../../lambdas/http/revocation-handler';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { DynamoDbClientStore } from '../../lambdas/store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../../lambdas/store/dynamodb-grant-store';
import {
  basicAuthorizationOfBytes,
  expectNoStoreJson,
  expectOAuthError,
  type FormFields,
  type HeaderOverrides,
  type TokenBody,
} from '../support/api-gateway-events';
import {
  type Client,
  formPost,
  type ProxyHandler,
  startTokenServiceFixture,
  type TokenServiceFixture,
  withContext,
} from '../support/token-service-fixture';

const ALICE = { username: 'alice', password: 'alice-Pw-revoke-1', userId: 1234 } as const;
const BOB = { username: 'bob', password: 'bob-Pw-revoke-2', userId: 'u-1' } as const;

let svc: TokenServiceFixture;

beforeAll(async () => {
  svc = await startTokenServiceFixture('revocation', { alice: ALICE, bob: BOB });
});

afterAll(async () => {
  await svc?.stop();
});

afterEach(() => {
  svc.proxy.clear();
});

// ---- helpers --------------------------------------------------------------------------------------

const revoke = (
  client: Client | undefined,
  body: FormFields | string,
  headers: HeaderOverrides = {},
  handler: ProxyHandler = svc.revocation,
): Promise<APIGatewayProxyResult> => handler(formPost('/oauth2/revoke', client, body, headers));

/** RFC 7009 §2.2: 200, here with an empty JSON object and the no-store headers of every answer. */
function expectRevocationOk(result: APIGatewayProxyResult): void {
  expect(result.statusCode, result.body).toBe(200);
  expect(expectNoStoreJson(result)).toEqual({});
}

const refreshTokenOf = (body: TokenBody): string => {
  expect(body.refresh_token).toEqual(expect.any(String));
  return body.refresh_token as string;
};

const grantIdOf = (token: string): string => token.slice(0, token.indexOf('.'));

const storedGrant = async (grantId: string) =>
  (
    await svc.dynamo.doc.send(
      new GetCommand({ TableName: svc.tables.grants, Key: { grantId }, ConsistentRead: true }),
    )
  ).Item;

/** The access token still works and its grant is not revoked (so the refresh token works too). */
async function expectGrantAlive(issued: TokenBody): Promise<void> {
  expect(await svc.authorize(issued.access_token)).toBe('Allow');
  expect((await storedGrant(grantIdOf(issued.access_token)))?.revokedAt).toBeUndefined();
}

/** The access token is refused at once and the refresh token gives invalid_grant. */
async function expectGrantDead(client: Client, issued: TokenBody): Promise<void> {
  expect(await svc.authorize(issued.access_token)).toBe('Unauthorized');
  expectOAuthError(await svc.refresh(client, refreshTokenOf(issued)), 400, 'invalid_grant');
}

async function closedPortEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

// ---- request shape and client authentication ---------------------------------------------------------

describe('request shape (as at the token endpoint)', () => {
  it.each(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'post'])(
    'answers %s with 405, Allow: POST and an OAuth error body',
    async (method) => {
      const client = await svc.registerClient();
      const issued = await svc.login(client, ALICE);
      const result = await svc.revocation({
        ...formPost('/oauth2/revoke', client, { token: issued.access_token }),
        httpMethod: method,
      });
      expectOAuthError(result, 405, 'invalid_request');
      expect(result.headers?.Allow).toBe('POST');
      await expectGrantAlive(issued);
    },
  );

  it.each([
    ['no Content-Type', undefined],
    ['application/json', 'application/json'],
    ['text/plain', 'text/plain'],
  ])('refuses a body sent as %s with 400 invalid_request', async (_name, contentType) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectOAuthError(
      await revoke(client, { token: issued.access_token }, { 'Content-Type': contentType }),
      400,
      'invalid_request',
    );
    await expectGrantAlive(issued);
  });

  it('accepts a UTF-8 charset parameter on the form content type', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectRevocationOk(
      await revoke(
        client,
        { token: issued.access_token },
        { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      ),
    );
    expect(await svc.authorize(issued.access_token)).toBe('Unauthorized');
  });

  it('refuses any query parameter with 400 invalid_request, even the token itself, and revokes nothing', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    for (const query of [{ token: issued.access_token }, { utm_source: 'mail' }]) {
      const event = { ...formPost('/oauth2/revoke', client, { token: issued.access_token }) };
      const result = await svc.revocation({
        ...event,
        queryStringParameters: query,
        multiValueQueryStringParameters: Object.fromEntries(
          Object.entries(query).map(([name, value]) => [name, [value]]),
        ),
      });
      expectOAuthError(result, 400, 'invalid_request');
    }
    await expectGrantAlive(issued);
  });

  it.each<[string, (issued: TokenBody) => FormFields | string]>([
    [
      'token',
      (issued) => [
        ['token', issued.access_token],
        ['token', issued.access_token],
      ],
    ],
    [
      'token_type_hint',
      (issued) => [
        ['token', issued.access_token],
        ['token_type_hint', 'access_token'],
        ['token_type_hint', 'access_token'],
      ],
    ],
    ['token (once %-encoded)', (issued) => `token=${issued.access_token}&tok%65n=${issued.access_token}`],
  ])('refuses a repeated %s with 400 invalid_request', async (_name, body) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectOAuthError(await revoke(client, body(issued)), 400, 'invalid_request');
    await expectGrantAlive(issued);
  });

  it('answers a malformed %-escape with 400 invalid_request', async () => {
    const client = await svc.registerClient();
    expectOAuthError(await revoke(client, 'token=%E0%A4%A'), 400, 'invalid_request');
  });

  it.each([
    ['without X-Forwarded-Proto', undefined],
    ['with X-Forwarded-Proto: http', 'http'],
  ])('refuses a request %s with 400 invalid_request by default', async (_name, proto) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectOAuthError(
      await revoke(client, { token: issued.access_token }, { 'X-Forwarded-Proto': proto }),
      400,
      'invalid_request',
    );
    await expectGrantAlive(issued);
  });

  it('allows plain HTTP only when REQUIRE_SSL is exactly "false"', async () => {
    const insecure = withContext(
      buildRevocationLambda(svc.environment({ REQUIRE_SSL: 'false' })),
      'revocation',
    );
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectRevocationOk(
      await revoke(client, { token: issued.access_token }, { 'X-Forwarded-Proto': 'http' }, insecure),
    );
    expect(await svc.authorize(issued.access_token)).toBe('Unauthorized');
    for (const value of ['False', '0', '', 'no']) {
      expect(() => buildRevocationLambda(svc.environment({ REQUIRE_SSL: value }))).toThrow(
        ConfigurationError,
      );
    }
  });
});

describe('client authentication (as at the token endpoint)', () => {
  it('accepts client_id and client_secret in the body', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectRevocationOk(
      await revoke(undefined, {
        token: issued.access_token,
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
    );
    await expectGrantDead(client, issued);
  });

  it('refuses Basic and body credentials at once with 400 invalid_request', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectOAuthError(
      await revoke(client, { token: issued.access_token, client_id: client.client_id }),
      400,
      'invalid_request',
    );
    await expectGrantAlive(issued);
  });

  it('gives the same 401 invalid_client with a Basic challenge whichever check failed, and revokes nothing', async () => {
    const client = await svc.registerClient();
    const disabled = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const disabledIssued = await svc.login(disabled, ALICE);
    expect(await svc.admin({ action: 'disable-client', client_id: disabled.client_id })).toMatchObject({
      disabled: true,
    });
    const token = { token: issued.access_token };
    const failures: Array<[string, Promise<APIGatewayProxyResult>]> = [
      ['no credentials', revoke(undefined, token)],
      ['unknown client', revoke({ client_id: 'no-such-client', client_secret: 'x' }, token)],
      ['wrong secret', revoke({ ...client, client_secret: `${client.client_secret}x` }, token)],
      [
        'wrong secret in the body',
        revoke(undefined, { ...token, client_id: client.client_id, client_secret: 'nope' }),
      ],
      ['only client_id in the body', revoke(undefined, { ...token, client_id: client.client_id })],
      ['disabled client', revoke(disabled, { token: disabledIssued.access_token })],
      ['a malformed Basic header', revoke(undefined, token, { Authorization: 'Basic !!!' })],
      [
        'Basic without a colon',
        revoke(undefined, token, { Authorization: basicAuthorizationOfBytes('abc') }),
      ],
      ['a Bearer header', revoke(undefined, token, { Authorization: `Bearer ${issued.access_token}` })],
    ];
    for (const [name, pending] of failures) {
      const result = await pending;
      const body = expectOAuthError(result, 401, 'invalid_client');
      expect(result.headers?.['WWW-Authenticate'], name).toMatch(/^Basic realm="oauth2"/);
      expect(body.error_description).toBe('Client authentication failed');
    }
    await expectGrantAlive(issued);
  });

  it.each<[string, FormFields]>([
    ['no token parameter', {}],
    ['an empty token', { token: '' }],
    ['only a hint', { token_type_hint: 'access_token' }],
  ])('answers %s with 400 invalid_request', async (_name, body) => {
    const client = await svc.registerClient();
    const result = await revoke(client, body);
    expectOAuthError(result, 400, 'invalid_request');
    expect(result.headers?.['Cache-Control']).toBe('no-store');
  });
});

// ---- revocation ----------------------------------------------------------------------------------------

/** A route that takes client tokens too (the default takes user tokens only). */
const CLIENT_TOKENS_ROUTE = { [API_REQUIREMENTS_VARIABLE]: 'tokens=any' };

describe('revoking', () => {
  it('a refresh token revokes its whole grant: the access token is refused at once, refreshing is invalid_grant', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expect(await svc.authorize(issued.access_token)).toBe('Allow');
    expectRevocationOk(await revoke(client, { token: refreshTokenOf(issued) }));
    await expectGrantDead(client, issued);
  });

  it('an access token stops it at once and takes the refresh token with it', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, BOB);
    expectRevocationOk(await revoke(client, { token: issued.access_token }));
    await expectGrantDead(client, issued);
  });

  it('a rotated pair: the current tokens die, and so does every older one', async () => {
    const client = await svc.registerClient();
    const first = await svc.login(client, ALICE);
    const second = expectNoStoreJson(await svc.refresh(client, refreshTokenOf(first))) as TokenBody;
    expectRevocationOk(await revoke(client, { token: second.access_token }));
    await expectGrantDead(client, second);
    expect(await svc.authorize(first.access_token)).toBe('Unauthorized');
  });

  it('a client_credentials access token', async () => {
    const client = await svc.registerClient({ grantTypes: ['client_credentials'] });
    const issued = expectNoStoreJson(
      await svc.token(formPost('/oauth2/token', client, { grant_type: 'client_credentials' })),
    ) as TokenBody;
    expect(await svc.authorize(issued.access_token, CLIENT_TOKENS_ROUTE)).toBe('Allow');
    expectRevocationOk(await revoke(client, { token: issued.access_token }));
    expect(await svc.authorize(issued.access_token, CLIENT_TOKENS_ROUTE)).toBe('Unauthorized');
  });

  it.each([
    ['a matching hint', 'refresh_token', 'refresh'],
    ['the other hint', 'access_token', 'refresh'],
    ['the other hint (access token)', 'refresh_token', 'access'],
    ['an unknown hint', 'id_token', 'access'],
    ['a made-up hint', 'something else entirely', 'refresh'],
  ] as const)('with %s (token_type_hint=%s) still revokes: hints are ignored', async (_name, hint, which) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const token = which === 'refresh' ? refreshTokenOf(issued) : issued.access_token;
    const result = await revoke(client, { token, token_type_hint: hint });
    expectRevocationOk(result);
    expect(result.body).not.toContain('unsupported_token_type');
    await expectGrantDead(client, issued);
  });

  it('leaves the same user’s other grants alone, and the user may log in again', async () => {
    const client = await svc.registerClient();
    const revoked = await svc.login(client, ALICE);
    const other = await svc.login(client, ALICE);
    expectRevocationOk(await revoke(client, { token: revoked.access_token }));
    await expectGrantDead(client, revoked);
    await expectGrantAlive(other);
    const again = await svc.login(client, ALICE);
    expect(await svc.authorize(again.access_token)).toBe('Allow');
  });

  it('twice answers 200 both times', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectRevocationOk(await revoke(client, { token: issued.access_token }));
    expectRevocationOk(await revoke(client, { token: issued.access_token }));
    expectRevocationOk(await revoke(client, { token: refreshTokenOf(issued) }));
    await expectGrantDead(client, issued);
  });
});

describe('tokens it cannot or will not revoke: 200 and no effect', () => {
  it.each([
    ['a well-formed token of no grant', 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'],
    ['garbage', 'not a token at all'],
    ['a dot only', '.'],
    ['no secret', 'abc.'],
    ['characters outside base64url', 'ab$c.d!ef'],
    ['a very long value', `${'a'.repeat(300)}.${'b'.repeat(300)}`],
    ['non-ASCII', 'Ünïcödé.tökén'],
  ])('%s', async (_name, token) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    expectRevocationOk(await revoke(client, { token }));
    await expectGrantAlive(issued);
  });

  it('the right grant id with a wrong secret', async () => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const forged = `${grantIdOf(issued.access_token)}.${'x'.repeat(43)}`;
    expectRevocationOk(await revoke(client, { token: forged }));
    await expectGrantAlive(issued);
  });

  it('a token of another client: its owner keeps using it', async () => {
    const owner = await svc.registerClient();
    const stranger = await svc.registerClient();
    const issued = await svc.login(owner, ALICE);
    expectRevocationOk(await revoke(stranger, { token: issued.access_token }));
    expectRevocationOk(await revoke(stranger, { token: refreshTokenOf(issued) }));
    await expectGrantAlive(issued);
    expect((await svc.refresh(owner, refreshTokenOf(issued))).statusCode).toBe(200);
  });

  it('a token of another client, even when the caller is a resource server', async () => {
    const owner = await svc.registerClient();
    const api = await svc.registerClient({ grantTypes: ['client_credentials'], resourceServer: true });
    const issued = await svc.login(owner, ALICE);
    expectRevocationOk(await revoke(api, { token: issued.access_token }));
    await expectGrantAlive(issued);
  });

  it('a rotated-away refresh or access token: the current pair keeps working', async () => {
    const client = await svc.registerClient();
    const first = await svc.login(client, ALICE);
    const second = expectNoStoreJson(await svc.refresh(client, refreshTokenOf(first))) as TokenBody;
    expectRevocationOk(await revoke(client, { token: refreshTokenOf(first) }));
    expectRevocationOk(await revoke(client, { token: first.access_token }));
    await expectGrantAlive(second);
    expect((await svc.refresh(client, refreshTokenOf(second))).statusCode).toBe(200);
  });
});

// ---- audit, DynamoDB calls, failures -------------------------------------------------------------------

describe('audit', () => {
  it('records grant_revoked with reason revocation_endpoint, ids only, once; nothing for a no-op', async () => {
    const NOW_MS = Date.UTC(2031, 5, 1, 8, 0, 0);
    const events: AuditEvent[] = [];
    const handler = withContext(
      createRevocationHandler(
        { requireSsl: true, realm: 'oauth2' },
        {
          clients: new DynamoDbClientStore(svc.dynamo.doc, svc.tables.clients),
          grants: new DynamoDbGrantStore(svc.dynamo.doc, svc.tables.grants),
          clock: () => NOW_MS,
          audit: (event) => events.push(event),
        },
        createServiceLogger('revocation-test', 'SILENT'),
      ),
      'revocation',
    );
    const client = await svc.registerClient();
    const stranger = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const grantId = grantIdOf(issued.access_token);

    expectRevocationOk(await revoke(stranger, { token: issued.access_token }, {}, handler));
    expectRevocationOk(await revoke(client, { token: 'garbage' }, {}, handler));
    expect(events).toEqual([]);

    expectRevocationOk(await revoke(client, { token: refreshTokenOf(issued) }, {}, handler));
    expectRevocationOk(await revoke(client, { token: issued.access_token }, {}, handler));
    expect(events).toEqual([
      { type: 'grant_revoked', grantId, clientId: client.client_id, reason: 'revocation_endpoint' },
    ]);
    expect((await storedGrant(grantId))?.revokedAt).toBe(NOW_MS / 1000);
    const logged = JSON.stringify(events);
    expect(logged).not.toContain(issued.access_token.split('.')[1]);
    expect(logged).not.toContain(refreshTokenOf(issued).split('.')[1]);
    expect(logged).not.toContain(client.client_secret);
  });
});

describe('DynamoDB calls', () => {
  it('a revocation is the client GetItem + one conditional UpdateItem; a malformed token skips the write', async () => {
    const client = await svc.registerClient();
    const other = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    const { clients, grants } = svc.tables;

    svc.proxy.clear();
    expectRevocationOk(await revoke(client, { token: issued.access_token }));
    expect(svc.proxy.operations).toEqual([`GetItem ${clients}`, `UpdateItem ${grants}`]);

    // Repeating it, or another client trying, is the same single write that changes nothing.
    svc.proxy.clear();
    expectRevocationOk(await revoke(client, { token: issued.access_token }));
    expectRevocationOk(await revoke(other, { token: issued.refresh_token ?? '' }));
    expect(svc.proxy.operations).toEqual([
      `GetItem ${clients}`,
      `UpdateItem ${grants}`,
      `GetItem ${clients}`,
      `UpdateItem ${grants}`,
    ]);

    svc.proxy.clear();
    expectRevocationOk(await revoke(client, { token: 'not-a-token' }));
    expect(svc.proxy.operations).toEqual([`GetItem ${clients}`]);
  });
});

describe('store failures', () => {
  let fastFailing: ProxyHandler;

  beforeAll(() => {
    fastFailing = withContext(
      buildRevocationLambda(svc.environment({ DYNAMODB_MAX_ATTEMPTS: '1', DYNAMODB_TIMEOUT_MS: '500' })),
      'revocation',
    );
  });

  const expectUnavailable = (result: APIGatewayProxyResult) => {
    expectOAuthError(result, 503, 'temporarily_unavailable');
    expect(result.headers?.['Retry-After']).toBe('1');
  };

  it.each([
    ['the client read', (tables: TokenServiceFixture['tables']) => `GetItem ${tables.clients}`],
    ['the revoking write', (tables: TokenServiceFixture['tables']) => `UpdateItem ${tables.grants}`],
  ])('%s failing answers 503 temporarily_unavailable and revokes nothing', async (_name, operation) => {
    const client = await svc.registerClient();
    const issued = await svc.login(client, ALICE);
    svc.proxy.fail(operation(svc.tables));
    expectUnavailable(await revoke(client, { token: issued.access_token }, {}, fastFailing));
    svc.proxy.clear();
    await expectGrantAlive(issued);
  });

  it('an unreachable DynamoDB answers 503, never a 500', async () => {
    const handler = withContext(
      buildRevocationLambda(
        svc.environment({
          DYNAMODB_ENDPOINT: await closedPortEndpoint(),
          DYNAMODB_MAX_ATTEMPTS: '1',
          DYNAMODB_TIMEOUT_MS: '300',
        }),
      ),
      'revocation',
    );
    const client = await svc.registerClient();
    expectUnavailable(await revoke(client, { token: 'a.b' }, {}, handler));
  });
});
