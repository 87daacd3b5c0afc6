import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  basicOf,
  type RegisteredClient,
  type ServiceUnderTest,
  startServiceUnderTest,
} from './service-under-test';

let service: ServiceUnderTest;
let web: RegisteredClient;
let other: RegisteredClient;

beforeAll(async () => {
  service = await startServiceUnderTest();
  web = await service.createClient({ grant_types: ['password', 'refresh_token'] });
  other = await service.createClient({ grant_types: ['password', 'refresh_token'] });
});

afterAll(() => service?.close());

const revoke = (form: Record<string, string>, client: RegisteredClient = web) =>
  service.post('/oauth2/revoke', form, { Authorization: basicOf(client) });
const works = async (accessToken: unknown) => (await service.me(`Bearer ${accessToken}`)).status === 200;
const refreshes = async (refreshToken: unknown) =>
  (
    await service.post(
      '/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: String(refreshToken) },
      { Authorization: basicOf(web) },
    )
  ).status === 200;

describe('RFC 7009 §2.1 revocation request', () => {
  it('§2.1 takes token (required) by POST, form-encoded, with client authentication', async () => {
    const tokens = await service.passwordTokens(web);
    const answer = await revoke({ token: String(tokens.access_token) });
    expect(answer.status).toBe(200);
    expect(await works(tokens.access_token)).toBe(false);
  });

  it('§2.1 requires the token parameter (invalid_request)', async () => {
    const answer = await revoke({ token_type_hint: 'access_token' });
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_request');
  });

  it('§2.1 authenticates the client: a wrong secret is 401 invalid_client and revokes nothing', async () => {
    const tokens = await service.passwordTokens(web);
    const answer = await service.post(
      '/oauth2/revoke',
      { token: String(tokens.access_token) },
      { Authorization: basic(web.client_id, `${web.client_secret}x`) },
    );
    expect(answer.status).toBe(401);
    expect(answer.json?.error).toBe('invalid_client');
    expect(await works(tokens.access_token)).toBe(true);
  });

  it('§2.1 revoking a refresh token also invalidates the access tokens of the same grant', async () => {
    const tokens = await service.passwordTokens(web);
    expect(
      (await revoke({ token: String(tokens.refresh_token), token_type_hint: 'refresh_token' })).status,
    ).toBe(200);
    expect(await works(tokens.access_token)).toBe(false);
    expect(await refreshes(tokens.refresh_token)).toBe(false);
  });

  it('§2.1 a wrong token_type_hint does not stop the search across token types', async () => {
    const tokens = await service.passwordTokens(web);
    expect(
      (await revoke({ token: String(tokens.refresh_token), token_type_hint: 'access_token' })).status,
    ).toBe(200);
    expect(await refreshes(tokens.refresh_token)).toBe(false);
  });

  it('§2.1 an unknown token_type_hint value is ignored', async () => {
    const tokens = await service.passwordTokens(web);
    expect((await revoke({ token: String(tokens.access_token), token_type_hint: 'id_token' })).status).toBe(
      200,
    );
    expect(await works(tokens.access_token)).toBe(false);
  });

  it('§2.1 a token issued to another client is not revoked', async () => {
    const tokens = await service.passwordTokens(web);
    // The contract: 200 with no effect, so the answer tells the caller nothing.
    expect((await revoke({ token: String(tokens.access_token) }, other)).status).toBe(200);
    expect(await works(tokens.access_token)).toBe(true);
  });
});

describe('RFC 7009 §2.2 revocation response', () => {
  it('§2.2 answers 200 for an invalid, unknown or already revoked token', async () => {
    const tokens = await service.passwordTokens(web);
    await revoke({ token: String(tokens.access_token) });
    for (const token of ['garbage', 'AAAAAAAAAAAAAAAAAAAAAA.BBBB', String(tokens.access_token)]) {
      const answer = await revoke({ token });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('§2.2.1 errors use the RFC 6749 §5.2 format (405 for other methods, still JSON)', async () => {
    const answer = await service.request('/oauth2/revoke', {
      method: 'GET',
      headers: { Authorization: basicOf(web) },
    });
    expect(answer.status).toBe(405);
    expect(answer.json?.error).toBe('invalid_request');
    expect(typeof answer.json?.error_description).toBe('string');
  });
});

describe('RFC 7009 §5 security considerations', () => {
  it('§5 requires TLS', async () => {
    const tokens = await service.passwordTokens(web);
    const answer = await service.post(
      '/oauth2/revoke',
      { token: String(tokens.access_token) },
      { Authorization: basicOf(web), 'X-Forwarded-Proto': 'http' },
    );
    expect(answer.status).toBe(400);
    expect(await works(tokens.access_token)).toBe(true);
  });
});
