import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicOf,
  type RegisteredClient,
  type ServiceUnderTest,
  startServiceUnderTest,
  USER,
} from './service-under-test';

const WELL_KNOWN = '/.well-known/oauth-authorization-server';

let service: ServiceUnderTest;
let web: RegisteredClient;
let metadata: Record<string, unknown>;

beforeAll(async () => {
  service = await startServiceUnderTest();
  web = await service.createClient({ grant_types: ['password', 'refresh_token', 'client_credentials'] });
  metadata = (await service.request(WELL_KNOWN)).json ?? {};
});

afterAll(() => service?.close());

/** The path of an advertised endpoint on the server under test. */
const pathOf = (key: string): string => new URL(String(metadata[key])).pathname;

describe('RFC 8414 §3 obtaining the metadata', () => {
  it('§3 / §3.1 is served by GET at /.well-known/oauth-authorization-server', async () => {
    const answer = await service.request(WELL_KNOWN);
    expect(answer.status).toBe(200);
  });

  it('§3.2 answers 200 with application/json, an object of the metadata', async () => {
    const answer = await service.request(WELL_KNOWN);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof answer.json).toBe('object');
  });

  it('§3.3 the issuer is the URL the metadata was fetched under, minus the well-known suffix', async () => {
    const issuer = String(metadata.issuer);
    const fetchedAt = `${service.url.replace(/^http:/, 'https:')}${WELL_KNOWN}`;
    expect(`${issuer}${WELL_KNOWN}`).toBe(fetchedAt);
  });
});

describe('RFC 8414 §2 authorization server metadata', () => {
  it('§2 issuer (REQUIRED) is an https URL without query or fragment', () => {
    const issuer = new URL(String(metadata.issuer));
    expect(issuer.protocol).toBe('https:');
    expect(issuer.search).toBe('');
    expect(issuer.hash).toBe('');
  });

  it('§2 response_types_supported (REQUIRED) is present', () => {
    expect(Array.isArray(metadata.response_types_supported)).toBe(true);
  });

  it('§2 token_endpoint is advertised and issues tokens', async () => {
    const answer = await service.post(
      pathOf('token_endpoint'),
      { grant_type: 'password', username: USER.username, password: USER.password },
      { Authorization: basicOf(web) },
    );
    expect(answer.status).toBe(200);
  });

  it('§2 every grant type in grant_types_supported is accepted by the token endpoint', async () => {
    const supported = metadata.grant_types_supported as string[];
    expect(supported).toEqual(expect.arrayContaining(['password', 'refresh_token', 'client_credentials']));
    for (const grantType of supported) {
      const answer = await service.post(
        pathOf('token_endpoint'),
        { grant_type: grantType },
        { Authorization: basicOf(web) },
      );
      expect(answer.json?.error).not.toBe('unsupported_grant_type');
    }
  });

  it('§2 every token_endpoint_auth_methods_supported value authenticates a client', async () => {
    const methods = metadata.token_endpoint_auth_methods_supported as string[];
    expect(methods).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    const basicAnswer = await service.post(
      pathOf('token_endpoint'),
      { grant_type: 'client_credentials' },
      { Authorization: basicOf(web) },
    );
    const postAnswer = await service.post(pathOf('token_endpoint'), {
      grant_type: 'client_credentials',
      client_id: web.client_id,
      client_secret: web.client_secret,
    });
    expect([basicAnswer.status, postAnswer.status]).toEqual([200, 200]);
  });

  it('§2 revocation_endpoint (RFC 7009) and introspection_endpoint (RFC 7662) are advertised and work', async () => {
    const tokens = await service.passwordTokens(web);
    const introspected = await service.post(
      pathOf('introspection_endpoint'),
      { token: String(tokens.access_token) },
      { Authorization: basicOf(web) },
    );
    expect(introspected.json?.active).toBe(true);
    const revoked = await service.post(
      pathOf('revocation_endpoint'),
      { token: String(tokens.access_token) },
      { Authorization: basicOf(web) },
    );
    expect(revoked.status).toBe(200);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'none',
    ]);
    expect(metadata.introspection_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
    ]);
  });

  it('§2 authorization_endpoint is advertised and serves the authorize endpoint', async () => {
    expect(pathOf('authorization_endpoint')).toBe('/oauth2/authorize');
    // No client_id: the endpoint itself answers its own error page (not a 404 from the router).
    const answer = await service.request(pathOf('authorization_endpoint'));
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('§2 response_types_supported is ["code"] and code_challenge_methods_supported is ["S256"] (RFC 7636 §6.2)', () => {
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('§2 grant_types_supported includes authorization_code', () => {
    expect(metadata.grant_types_supported).toContain('authorization_code');
  });
});
