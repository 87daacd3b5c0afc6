import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  basicOf,
  type RegisteredClient,
  type ServiceUnderTest,
  startServiceUnderTest,
  USER,
} from './service-under-test';

let service: ServiceUnderTest;
let web: RegisteredClient;
let other: RegisteredClient;
let resourceServer: RegisteredClient;

beforeAll(async () => {
  service = await startServiceUnderTest();
  web = await service.createClient({ grant_types: ['password', 'refresh_token'], scope: 'read write' });
  other = await service.createClient({ grant_types: ['password'] });
  resourceServer = await service.createClient({ grant_types: ['client_credentials'], resource_server: true });
});

afterAll(() => service?.close());

const introspect = (form: Record<string, string>, client: RegisteredClient = web) =>
  service.post('/oauth2/introspect', form, { Authorization: basicOf(client) });

describe('RFC 7662 §2.1 introspection request', () => {
  it('§2.1 takes token by POST, form-encoded; token_type_hint is optional', async () => {
    const tokens = await service.passwordTokens(web);
    const hints: Record<string, string>[] = [
      {},
      { token_type_hint: 'access_token' },
      { token_type_hint: 'refresh_token' },
    ];
    for (const form of hints) {
      const answer = await introspect({ token: String(tokens.access_token), ...form });
      expect(answer.status).toBe(200);
      expect(answer.json?.active).toBe(true);
    }
  });

  it('§2.1 requires authorization of the caller: 401 invalid_client without valid client credentials', async () => {
    const tokens = await service.passwordTokens(web);
    const callers: Record<string, string>[] = [{}, { Authorization: basic(web.client_id, 'wrong') }];
    for (const headers of callers) {
      const answer = await service.post(
        '/oauth2/introspect',
        { token: String(tokens.access_token) },
        headers,
      );
      expect(answer.status).toBe(401);
      expect(answer.json?.error).toBe('invalid_client');
    }
  });

  it('§2.1 requires the token parameter (invalid_request)', async () => {
    const answer = await introspect({});
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_request');
  });
});

describe('RFC 7662 §2.2 introspection response', () => {
  it('§2.2 an active access token: active, scope, client_id, token_type, exp, iat (+ user_id), JSON', async () => {
    const tokens = await service.passwordTokens(web, { scope: 'read' });
    const answer = await introspect({ token: String(tokens.access_token) });
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const body = answer.json ?? {};
    expect(body).toMatchObject({
      active: true,
      scope: 'read',
      client_id: web.client_id,
      user_id: USER.userId,
      token_type: expect.any(String),
    });
    expect(Number.isInteger(body.exp) && Number.isInteger(body.iat)).toBe(true);
    expect(Number(body.exp) - Number(body.iat)).toBe(3600);
  });

  it('§2.2 a refresh token is introspectable too', async () => {
    const tokens = await service.passwordTokens(web);
    const body = (await introspect({ token: String(tokens.refresh_token) })).json;
    expect(body).toMatchObject({ active: true, client_id: web.client_id, token_type: 'refresh_token' });
  });

  it('§2.2 inactive, unknown or revoked tokens answer {"active":false} and nothing else', async () => {
    const tokens = await service.passwordTokens(web);
    await service.post(
      '/oauth2/revoke',
      { token: String(tokens.access_token) },
      { Authorization: basicOf(web) },
    );
    for (const token of [String(tokens.access_token), 'garbage', 'AAAAAAAAAAAAAAAAAAAAAA.BBBB']) {
      const answer = await introspect({ token });
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ active: false });
    }
  });

  it('§2.2 a caller not allowed to introspect a token gets {"active":false}', async () => {
    const tokens = await service.passwordTokens(web);
    expect((await introspect({ token: String(tokens.access_token) }, other)).json).toEqual({ active: false });
  });

  it('§2.1 / §4 a protected resource (resource server client) may introspect any client’s token', async () => {
    const tokens = await service.passwordTokens(web);
    expect((await introspect({ token: String(tokens.access_token) }, resourceServer)).json).toMatchObject({
      active: true,
      client_id: web.client_id,
    });
  });
});

describe('RFC 7662 §4 security considerations', () => {
  it('§4 requires TLS', async () => {
    const tokens = await service.passwordTokens(web);
    const answer = await service.post(
      '/oauth2/introspect',
      { token: String(tokens.access_token) },
      { Authorization: basicOf(web), 'X-Forwarded-Proto': 'http' },
    );
    expect(answer.status).toBe(400);
    expect(answer.json).not.toHaveProperty('active');
  });
});
