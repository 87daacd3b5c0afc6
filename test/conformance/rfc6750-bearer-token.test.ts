import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RegisteredClient,
  type ServiceUnderTest,
  startServiceUnderTest,
  USER,
} from './service-under-test';

/** RFC 6750 at the authorizer, seen through the demo resource `GET /me`. */
let service: ServiceUnderTest;
let web: RegisteredClient;

beforeAll(async () => {
  service = await startServiceUnderTest();
  web = await service.createClient({ grant_types: ['password', 'refresh_token'], scope: 'read' });
});

afterAll(() => service?.close());

describe('RFC 6750 §2 presenting a bearer token', () => {
  it('§2.1 accepts the raw token in "Authorization: Bearer <token>" (b64token syntax)', async () => {
    const tokens = await service.passwordTokens(web);
    expect(String(tokens.access_token)).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
    const answer = await service.me(`Bearer ${tokens.access_token}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ user_id: USER.userId, client_id: web.client_id, scope: 'read' });
  });

  it('§2.1 the auth-scheme is case-insensitive (RFC 7235 §2.1)', async () => {
    const tokens = await service.passwordTokens(web);
    for (const scheme of ['bearer', 'BEARER']) {
      expect((await service.me(`${scheme} ${tokens.access_token}`)).status).toBe(200);
    }
  });

  it('§2.3 a token in the URI query is not accepted (the service supports the header method only)', async () => {
    const tokens = await service.passwordTokens(web);
    const answer = await service.request(
      `/me?access_token=${encodeURIComponent(String(tokens.access_token))}`,
    );
    expect(answer.status).toBe(401);
  });
});

describe('RFC 6750 §3 the WWW-Authenticate response header', () => {
  it('§3 answers a request without a token with 401 and a Bearer challenge with a realm', async () => {
    const answer = await service.me();
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+"/);
  });

  it('§3.1 answers an unknown, malformed, or non-Bearer credential with 401 invalid_token', async () => {
    for (const authorization of ['Bearer not-a-token', 'Bearer a.b', 'Bearer ', 'Basic dXNlcjpwYXNz']) {
      const answer = await service.me(authorization);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
      expect(answer.json?.error).toBe('invalid_token');
    }
  });

  it('§3.1 invalid_token for a revoked token (and an access token stops at once when refreshed)', async () => {
    const first = await service.passwordTokens(web);
    const refreshed = await service.post(
      '/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: String(first.refresh_token) },
      { Authorization: `Basic ${Buffer.from(`${web.client_id}:${web.client_secret}`).toString('base64')}` },
    );
    expect(refreshed.status).toBe(200);
    expect((await service.me(`Bearer ${first.access_token}`)).status).toBe(401);
    expect((await service.me(`Bearer ${refreshed.json?.access_token}`)).status).toBe(200);
  });
});

describe('RFC 6750 §4 / §5 token lifetime', () => {
  it('§5.3 issues short-lived bearer tokens: expires_in is stated and at most one hour by default', async () => {
    const tokens = await service.passwordTokens(web);
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.expires_in).toBeLessThanOrEqual(3600);
  });
});
