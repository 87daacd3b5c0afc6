import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  basicOf,
  FORM,
  type HttpAnswer,
  type RegisteredClient,
  type ServiceUnderTest,
  startServiceUnderTest,
  USER,
} from './service-under-test';

/** RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E only. */
const ERROR_CHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

let service: ServiceUnderTest;
let web: RegisteredClient;
let other: RegisteredClient;
let machine: RegisteredClient;

beforeAll(async () => {
  service = await startServiceUnderTest();
  web = await service.createClient({
    grant_types: ['password', 'refresh_token', 'client_credentials'],
    scope: 'read write',
    default_scope: 'read',
  });
  other = await service.createClient({ grant_types: ['password', 'refresh_token'], scope: 'read write' });
  machine = await service.createClient({ grant_types: ['client_credentials'] });
});

afterAll(() => service?.close());

const token = (form: Record<string, string>, client: RegisteredClient = web) =>
  service.post('/oauth2/token', form, { Authorization: basicOf(client) });

const password = (extra: Record<string, string> = {}, client: RegisteredClient = web) =>
  token({ grant_type: 'password', username: USER.username, password: USER.password, ...extra }, client);

/** §5.2: status, JSON body with an error code from the RFC, printable description, no-store. */
function expectError(answer: HttpAnswer, status: number, error: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.json?.error).toBe(error);
  expect(String(answer.json?.error_description ?? 'x')).toMatch(ERROR_CHARS);
  expect(answer.headers.get('cache-control')).toBe('no-store');
}

describe('RFC 6749 §2.3.1 client password authentication', () => {
  it('§2.3.1 accepts HTTP Basic with the client_id and secret form-urlencoded before base64', async () => {
    // Every character percent-encoded is still the same id once form-decoded.
    const allEncoded = (value: string) =>
      [...value].map((char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const answer = await service.post(
      '/oauth2/token',
      { grant_type: 'client_credentials' },
      { Authorization: basic(web.client_id, web.client_secret, allEncoded) },
    );
    expect(answer.status).toBe(200);
  });

  it('§2.3.1 accepts client_id and client_secret in the request body instead', async () => {
    const answer = await service.post('/oauth2/token', {
      grant_type: 'client_credentials',
      client_id: web.client_id,
      client_secret: web.client_secret,
    });
    expect(answer.status).toBe(200);
  });

  it('§2.3.1 refuses more than one authentication method in one request with invalid_request', async () => {
    const answer = await token({
      grant_type: 'client_credentials',
      client_id: web.client_id,
      client_secret: web.client_secret,
    });
    expectError(answer, 400, 'invalid_request');
  });

  it('§2.3.1 / §3.2 refuses a request that did not arrive over TLS', async () => {
    const answer = await service.post(
      '/oauth2/token',
      { grant_type: 'client_credentials' },
      { Authorization: basicOf(web), 'X-Forwarded-Proto': 'http' },
    );
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_request');
  });

  it('§2.3.1 / §5.2 answers a failed client authentication with 401 invalid_client and a Basic challenge', async () => {
    for (const authorization of [
      basic(web.client_id, `${web.client_secret}x`),
      basic('no-such-client', 'secret'),
      'Basic %%%',
    ]) {
      const answer = await service.post(
        '/oauth2/token',
        { grant_type: 'client_credentials' },
        { Authorization: authorization },
      );
      expectError(answer, 401, 'invalid_client');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
    }
  });

  it('§10.10 client secrets are at least 256 bits and only their hashes are stored', async () => {
    expect(Buffer.from(web.client_secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    const stored = await service.admin({ action: 'list-clients' });
    expect(JSON.stringify(stored)).not.toContain(web.client_secret);
  });
});

describe('RFC 6749 §3.2 token endpoint requests', () => {
  it('§3.2 accepts only POST (405 with Allow: POST otherwise)', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await service.request('/oauth2/token', {
        method,
        headers: { Authorization: basicOf(web) },
      });
      expect(answer.status).toBe(405);
      expect(answer.headers.get('allow')).toBe('POST');
      expect(answer.json?.error).toBe('invalid_request');
    }
  });

  it('§3.2 takes parameters only as application/x-www-form-urlencoded', async () => {
    const answer = await service.request('/oauth2/token', {
      method: 'POST',
      headers: { Authorization: basicOf(web), 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expectError(answer, 400, 'invalid_request');
  });

  it('§3.2 refuses a parameter included more than once', async () => {
    const answer = await service.post(
      '/oauth2/token',
      [
        ['grant_type', 'client_credentials'],
        ['scope', 'read'],
        ['scope', 'write'],
      ],
      { Authorization: basicOf(web) },
    );
    expectError(answer, 400, 'invalid_request');
  });

  it('§3.2 treats a parameter sent without a value as omitted', async () => {
    const answer = await password({ scope: '' });
    expect(answer.status).toBe(200);
    expect(answer.json?.scope).toBe('read'); // the client's default, as if no scope was sent
    expectError(
      await token({ grant_type: 'password', username: '', password: USER.password }),
      400,
      'invalid_request',
    );
  });

  it('§3.2 ignores unrecognised request parameters', async () => {
    expect((await password({ favourite_colour: 'green' })).status).toBe(200);
  });

  it('§3.2 (and the original README) refuses credentials in the URL query', async () => {
    const answer = await service.request(`/oauth2/token?client_secret=${web.client_secret}`, {
      method: 'POST',
      headers: { Authorization: basicOf(web), 'Content-Type': FORM },
      body: 'grant_type=client_credentials',
    });
    expectError(answer, 400, 'invalid_request');
  });
});

describe('RFC 6749 §3.3 access token scope', () => {
  it('§3.3 issues the pre-defined default scope when none is requested, and says so in the response', async () => {
    const answer = await password();
    expect(answer.json?.scope).toBe('read');
  });

  it('§3.3 issues a requested subset of the allowed scope (space-delimited, order kept)', async () => {
    expect((await password({ scope: 'write read' })).json?.scope).toBe('write read');
  });

  it('§3.3 / §5.2 answers a scope beyond the client’s with invalid_scope', async () => {
    expectError(await password({ scope: 'read admin' }), 400, 'invalid_scope');
  });

  it('§3.3 scope tokens are case-sensitive', async () => {
    expectError(await password({ scope: 'READ' }), 400, 'invalid_scope');
  });
});

describe('RFC 6749 §4.3 resource owner password credentials grant', () => {
  it('§4.3.2 requires username and password (invalid_request without either)', async () => {
    expectError(await token({ grant_type: 'password', username: USER.username }), 400, 'invalid_request');
    expectError(await token({ grant_type: 'password', password: USER.password }), 400, 'invalid_request');
  });

  it('§4.3.2 / §5.2 answers wrong resource owner credentials with invalid_grant', async () => {
    expectError(await password({ password: 'not-the-password' }), 400, 'invalid_grant');
  });

  it('§4.3.2 protects the endpoint against brute force: a username is locked after repeated failures', async () => {
    const attempt = (pw: string) =>
      token({ grant_type: 'password', username: 'brute-force-target', password: pw });
    for (let i = 0; i < 5; i += 1) expectError(await attempt(`guess-${i}`), 400, 'invalid_grant');
    const locked = await attempt('another-guess');
    expectError(locked, 400, 'invalid_grant');
    expect(locked.json?.error_description).toMatch(/Too many failed sign-in attempts/);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('§4.3.3 answers access_token, token_type, expires_in and refresh_token (plus user_id)', async () => {
    const answer = await password();
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: expect.any(String),
      user_id: USER.userId,
    });
  });
});

describe('RFC 6749 §4.4 client credentials grant', () => {
  it('§4.4.2 issues an access token to the authenticated client', async () => {
    const answer = await token({ grant_type: 'client_credentials' }, machine);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ access_token: expect.any(String), token_type: 'bearer' });
  });

  it('§4.4.3 includes no refresh token', async () => {
    const answer = await token({ grant_type: 'client_credentials' }, machine);
    expect(answer.json).not.toHaveProperty('refresh_token');
  });
});

describe('RFC 6749 §5 token responses', () => {
  it('§5.1 answers 200 application/json with Cache-Control: no-store and Pragma: no-cache', async () => {
    const answer = await password();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('pragma')).toBe('no-cache');
  });

  it('§5.1 expires_in is a number of seconds; token_type is a case-insensitive "bearer"', async () => {
    const body = (await password()).json ?? {};
    expect(Number.isInteger(body.expires_in)).toBe(true);
    expect(String(body.token_type).toLowerCase()).toBe('bearer');
  });

  it('§5.2 errors carry no-store too, and a JSON body with error and error_description', async () => {
    const answer = await token({ grant_type: 'password' });
    expectError(answer, 400, 'invalid_request');
    expect(answer.headers.get('pragma')).toBe('no-cache');
  });

  it('§5.2 invalid_request when grant_type is missing', async () => {
    expectError(await token({ username: USER.username }), 400, 'invalid_request');
  });

  it('§5.2 unsupported_grant_type for a grant type the server does not know', async () => {
    for (const grantType of ['refresh', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      expectError(await token({ grant_type: grantType }), 400, 'unsupported_grant_type');
    }
  });

  it('§5.2 unauthorized_client for a grant type this client may not use', async () => {
    expectError(
      await token({ grant_type: 'password', username: USER.username, password: USER.password }, machine),
      400,
      'unauthorized_client',
    );
  });
});

describe('RFC 6749 §6 refreshing an access token', () => {
  const refresh = (refreshToken: unknown, extra: Record<string, string> = {}, client = web) =>
    token({ grant_type: 'refresh_token', refresh_token: String(refreshToken), ...extra }, client);

  it('§6 issues a new access token (and here a new refresh token) for a valid refresh token', async () => {
    const first = await service.passwordTokens(web);
    const answer = await refresh(first.refresh_token);
    expect(answer.status).toBe(200);
    expect(answer.json?.access_token).not.toBe(first.access_token);
    expect(answer.json?.refresh_token).not.toBe(first.refresh_token);
  });

  it('§6 requires client authentication', async () => {
    const first = await service.passwordTokens(web);
    const answer = await service.post('/oauth2/token', {
      grant_type: 'refresh_token',
      refresh_token: String(first.refresh_token),
    });
    expectError(answer, 401, 'invalid_client');
  });

  it('§6 refuses a refresh token issued to another client with invalid_grant', async () => {
    const first = await service.passwordTokens(web);
    expectError(await refresh(first.refresh_token, {}, other), 400, 'invalid_grant');
    expect((await refresh(first.refresh_token)).status).toBe(200); // still the owner's
  });

  it('§6 refuses a requested scope not originally granted with invalid_scope', async () => {
    const first = await service.passwordTokens(web, { scope: 'read' });
    expectError(await refresh(first.refresh_token, { scope: 'read write' }), 400, 'invalid_scope');
  });

  it('§6 a narrower scope is allowed; the new refresh token keeps the original scope', async () => {
    const first = await service.passwordTokens(web, { scope: 'read write' });
    const narrowed = await refresh(first.refresh_token, { scope: 'write' });
    expect(narrowed.json?.scope).toBe('write');
    const widenedBack = await refresh(narrowed.json?.refresh_token);
    expect(widenedBack.json?.scope).toBe('read write');
  });

  it('§6 / §10.4 the old refresh token is revoked after rotation (RFC 9700 §4.14.2)', async () => {
    const first = await service.passwordTokens(web);
    const second = await refresh(first.refresh_token);
    expectError(await refresh(first.refresh_token), 400, 'invalid_grant');
    // Replaying it was a breach signal: the whole grant is gone.
    expect((await service.me(`Bearer ${second.json?.access_token}`)).status).toBe(401);
  });

  it('§5.2 invalid_grant for a malformed or unknown refresh token', async () => {
    for (const value of ['nonsense', 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']) {
      expectError(await refresh(value), 400, 'invalid_grant');
    }
  });
});

describe('RFC 6749 §10 security considerations', () => {
  it('§10.10 tokens carry at least 256 random bits and are URL-safe', async () => {
    const body = await service.passwordTokens(web);
    for (const value of [body.access_token, body.refresh_token]) {
      const secret = String(value).split('.')[1] ?? '';
      expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    }
  });

  it('§10.3 / §10.4 / §2.3.1 tokens and client secrets are kept confidential in storage (hashes only)', async () => {
    const body = await service.passwordTokens(web);
    const dump = await service.dumpStore();
    const secrets = [
      String(body.access_token).split('.')[1] ?? '',
      String(body.refresh_token).split('.')[1] ?? '',
      web.client_secret,
    ];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(40);
      expect(dump).not.toContain(secret);
    }
    // What is stored is the SHA-256 of each secret: useless to present, enough to compare.
    expect(dump).toContain(
      createHash('sha256')
        .update(secrets[0] ?? '')
        .digest('base64url'),
    );
  });
});
