import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizePath,
  codeRequest,
  createPublicClient,
  exchangeCode,
  obtainCode,
  openSignInPage,
  type PublicClient,
  pkcePair,
  postSignIn,
  REDIRECT_URI,
  rawRequest,
  redirectParams,
} from './authorize-flow';
import {
  basic,
  basicOf,
  type HttpAnswer,
  type RegisteredClient,
  type ServiceUnderTest,
  startServiceUnderTest,
  USER,
} from './service-under-test';

let service: ServiceUnderTest;
let app: PublicClient;
let otherApp: PublicClient;
let twoUris: PublicClient;
let withQuery: PublicClient;
let confidential: RegisteredClient;
let passwordOnly: RegisteredClient;

beforeAll(async () => {
  // disable-client answers at once here (no second sweep): nothing in this file races it.
  service = await startServiceUnderTest({ DISABLE_CLIENT_SECOND_SWEEP_SECONDS: '0' });
  app = await createPublicClient(service, { scope: 'read write' });
  otherApp = await createPublicClient(service, { scope: 'read write' });
  twoUris = await createPublicClient(service, {
    redirect_uris: [REDIRECT_URI, 'https://client.example/other'],
  });
  withQuery = await createPublicClient(service, {
    redirect_uris: ['https://client.example/cb?tenant=a%20b'],
  });
  confidential = await service.createClient({
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
  });
  passwordOnly = await service.createClient({ grant_types: ['password'] });
});

afterAll(() => service?.close());

/** §4.1.2.1: shown to the user, never redirected; not cached. */
function expectErrorPage(answer: HttpAnswer): void {
  expect(answer.status).toBe(400);
  expect(answer.headers.get('location')).toBeNull();
  expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
}

/** §4.1.2.1: a redirect to the client with the error, the state and iss (RFC 9207). */
function expectErrorRedirect(answer: HttpAnswer, error: string, state = 'xyz'): URLSearchParams {
  expect(answer.status).toBe(302);
  const location = new URL(answer.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(location.searchParams.get('error')).toBe(error);
  expect(location.searchParams.get('error_description')).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
  expect(location.searchParams.get('state')).toBe(state);
  expect(location.searchParams.get('iss')).toBeTruthy();
  expect(location.searchParams.get('code')).toBeNull();
  return location.searchParams;
}

const get = (params: Record<string, string> | ReadonlyArray<readonly [string, string]>) =>
  rawRequest(service, authorizePath(params));

describe('RFC 6749 §4.1.2.1 errors that must not redirect', () => {
  it('§4.1.2.1 a missing client_id is a 400 page, no redirect', async () => {
    const { client_id: _, ...rest } = codeRequest(app, pkcePair(), { state: 'xyz' });
    expectErrorPage(await get(rest));
  });

  it('§4.1.2.1 an unknown client_id is a 400 page, no redirect', async () => {
    expectErrorPage(await get(codeRequest({ client_id: 'no-such-client' }, pkcePair(), { state: 'xyz' })));
  });

  it('§4.1.2.1 a disabled client is a 400 page, no redirect', async () => {
    const doomed = await createPublicClient(service);
    await service.admin({ action: 'disable-client', client_id: doomed.client_id });
    expectErrorPage(await get(codeRequest(doomed, pkcePair(), { state: 'xyz' })));
  });

  it('§4.1.2.1 / §3.1.2.3 a redirect_uri that is not registered is a 400 page, no redirect', async () => {
    for (const uri of ['https://evil.example/callback', `${REDIRECT_URI}/x`, `${REDIRECT_URI}?a=1`]) {
      expectErrorPage(await get(codeRequest(app, pkcePair(), { redirect_uri: uri, state: 'xyz' })));
    }
  });

  it('§3.1.2.3 a missing redirect_uri is a 400 page when the client has several registered', async () => {
    const { redirect_uri: _, ...rest } = codeRequest(twoUris, pkcePair());
    expectErrorPage(await get(rest));
  });

  it('§3.1.2.3 a missing redirect_uri uses the only registered one', async () => {
    const { redirect_uri: _, ...rest } = codeRequest(app, pkcePair());
    const answer = await get(rest);
    expect(answer.status).toBe(200);
  });

  it('§3.1.2.1 / RFC 9700 §2.6: TLS is required (REQUIRE_SSL): a plain-http request is a 400 page', async () => {
    const answer = await rawRequest(service, authorizePath(codeRequest(app, pkcePair())), {
      headers: { 'X-Forwarded-Proto': 'http' },
    });
    expectErrorPage(answer);
  });
});

describe('RFC 6749 §4.1.2.1 errors redirected to the client', () => {
  it('§4.1.2.1 response_type=token is unsupported_response_type', async () => {
    expectErrorRedirect(
      await get(codeRequest(app, pkcePair(), { response_type: 'token', state: 'xyz' })),
      'unsupported_response_type',
    );
  });

  it('§4.1.2.1 an unknown response_type is unsupported_response_type', async () => {
    expectErrorRedirect(
      await get(codeRequest(app, pkcePair(), { response_type: 'code id_token', state: 'xyz' })),
      'unsupported_response_type',
    );
  });

  it('§4.1.2.1 a missing response_type is invalid_request', async () => {
    const { response_type: _, ...rest } = codeRequest(app, pkcePair(), { state: 'xyz' });
    expectErrorRedirect(await get(rest), 'invalid_request');
  });

  it('§4.1.2.1 a client without authorization_code is unauthorized_client', async () => {
    // Registered redirect URIs but no authorization_code grant.
    const lacking = await createPublicClient(service, { grant_types: ['refresh_token'] });
    expectErrorRedirect(await get(codeRequest(lacking, pkcePair(), { state: 'xyz' })), 'unauthorized_client');
  });

  it('§4.1.2.1 a scope outside the client’s is invalid_scope', async () => {
    expectErrorRedirect(
      await get(codeRequest(app, pkcePair(), { scope: 'read admin', state: 'xyz' })),
      'invalid_scope',
    );
  });

  it('§3.1 a repeated parameter is invalid_request', async () => {
    const pairs: Array<[string, string]> = [
      ...Object.entries(codeRequest(app, pkcePair(), { state: 'xyz' })),
      ['scope', 'read'],
      ['scope', 'write'],
    ];
    expectErrorRedirect(await get(pairs), 'invalid_request');
  });

  it('§3.1.2 the redirect URI’s own query is kept exactly, and the error added to it', async () => {
    const answer = await get(
      codeRequest(withQuery, pkcePair(), {
        redirect_uri: 'https://client.example/cb?tenant=a%20b',
        response_type: 'token',
        state: 'xyz',
      }),
    );
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toMatch(
      /^https:\/\/client\.example\/cb\?tenant=a%20b&error=unsupported_response_type&/,
    );
  });
});

describe('RFC 6749 §4.1.1 / §4.1.2 the sign-in page and the code', () => {
  it('§4.1.1 a valid request with nobody signed in answers the sign-in page (200 text/html, no-store)', async () => {
    const answer = await get(codeRequest(app, pkcePair(), { state: 'xyz' }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = answer.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(csp).toContain("default-src 'none'");
    expect(answer.text).toMatch(/<form method="post" action="authorize">/);
    expect(answer.text).toMatch(/<input type="text" id="username" name="username" autocomplete="username"/);
    expect(answer.text).toMatch(
      /<input type="password" id="password" name="password" autocomplete="current-password"/,
    );
    expect(answer.text).toContain('<label for="username">');
    expect(answer.text).toContain('<label for="password">');
  });

  it('§4.1.2 right credentials: 302 to the redirect URI with code, state exactly as sent, and iss', async () => {
    const state = 'a b&c=d/é?#';
    const { params } = await obtainCode(service, app, pkcePair(), { state });
    expect(params.get('state')).toBe(state);
    expect(params.get('code')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(params.get('iss')).toBeTruthy();
  });

  it('§4.1.2 / §10.10 the code carries at least 256 random bits and is stored only as a hash', async () => {
    const { code } = await obtainCode(service, app, pkcePair());
    expect(Buffer.from(code, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(await service.dumpStore()).not.toContain(code);
  });

  it('§4.1.2 wrong credentials: the page again with a message, no redirect, no code', async () => {
    const page = await openSignInPage(service, codeRequest(app, pkcePair(), { state: 'xyz' }));
    const answer = await postSignIn(service, page, { username: USER.username, password: 'wrong' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.text).toContain('The username or password is incorrect');
    expect(answer.text).toMatch(/<form method="post" action="authorize">/);
  });

  it('§10.12 a post without the anti-forgery value, or with another browser’s cookie, is refused (403)', async () => {
    const page = await openSignInPage(service, codeRequest(app, pkcePair(), { state: 'xyz' }));
    const withoutToken = page.fields.filter(([name]) => name !== 'form_token');
    expect((await postSignIn(service, page, USER, { fields: withoutToken })).status).toBe(403);
    const otherBrowser = await openSignInPage(service, codeRequest(app, pkcePair(), { state: 'xyz' }));
    expect((await postSignIn(service, page, USER, { cookie: otherBrowser.cookie })).status).toBe(403);
    expect((await postSignIn(service, page, USER, { cookie: 'x=y' })).status).toBe(403);
  });

  it('§10.12 a post whose request was edited (another redirect_uri or scope) is refused (403)', async () => {
    const page = await openSignInPage(service, codeRequest(app, pkcePair(), { scope: 'read', state: 'xyz' }));
    const widened = page.fields.map(([name, value]): [string, string] =>
      name === 'scope' ? [name, 'read write'] : [name, value],
    );
    expect((await postSignIn(service, page, USER, { fields: widened })).status).toBe(403);
  });
});

describe('RFC 6749 §4.1.3 / §4.1.4 the code at the token endpoint', () => {
  it('§4.1.4 a code exchange answers like the password grant (access, refresh, user_id, scope)', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce, { scope: 'read' });
    const answer = await exchangeCode(service, app, code, pkce.verifier);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.json).toMatchObject({ token_type: 'bearer', scope: 'read', user_id: USER.userId });
    expect(answer.json?.access_token).toEqual(expect.any(String));
    expect(answer.json?.refresh_token).toEqual(expect.any(String));
    expect(answer.json?.expires_in).toEqual(expect.any(Number));
    expect((await service.me(`Bearer ${answer.json?.access_token}`)).status).toBe(200);
  });

  it('§4.1.3 a missing code or code_verifier is invalid_request', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    expect((await exchangeCode(service, app, '', pkce.verifier)).json?.error).toBe('invalid_request');
    expect((await exchangeCode(service, app, code, '')).json?.error).toBe('invalid_request');
  });

  it('§4.1.3 an unknown code is invalid_grant', async () => {
    const answer = await exchangeCode(service, app, 'A'.repeat(43), pkcePair().verifier);
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_grant');
  });

  it('§4.1.3 a code issued to another client is invalid_grant (and stays usable by its own)', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    expect((await exchangeCode(service, otherApp, code, pkce.verifier)).json?.error).toBe('invalid_grant');
    expect((await exchangeCode(service, app, code, pkce.verifier)).status).toBe(200);
  });

  it('§4.1.3 a redirect_uri that differs from the authorization request’s is invalid_grant', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, twoUris, pkce);
    const answer = await exchangeCode(service, twoUris, code, pkce.verifier, {
      redirect_uri: 'https://client.example/other',
    });
    expect(answer.json?.error).toBe('invalid_grant');
  });

  it('§4.1.3 redirect_uri is required when the authorization request carried it', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    expect((await exchangeCode(service, app, code, pkce.verifier, { redirect_uri: '' })).json?.error).toBe(
      'invalid_grant',
    );
  });

  it('§4.1.3 redirect_uri may be left out when the authorization request left it out too', async () => {
    const pkce = pkcePair();
    const { redirect_uri: _, ...request } = codeRequest(app, pkce);
    const page = await openSignInPage(service, request);
    const code = redirectParams(await postSignIn(service, page)).get('code') as string;
    expect((await exchangeCode(service, app, code, pkce.verifier, { redirect_uri: '' })).status).toBe(200);
  });

  it('§4.1.2 a code is refused after AUTHORIZATION_CODE_TTL_SECONDS', async () => {
    const shortLived = await startServiceUnderTest({ AUTHORIZATION_CODE_TTL_SECONDS: '1' });
    try {
      const client = await createPublicClient(shortLived);
      const pkce = pkcePair();
      const { code } = await obtainCode(shortLived, client, pkce);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await exchangeCode(shortLived, client, code, pkce.verifier)).json?.error).toBe('invalid_grant');
    } finally {
      await shortLived.close();
    }
  });

  it('§4.1.2 / §10.5 a code used twice: the second use is invalid_grant and the first use’s tokens are revoked', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    const first = await exchangeCode(service, app, code, pkce.verifier);
    expect(first.status).toBe(200);
    const second = await exchangeCode(service, app, code, pkce.verifier);
    expect(second.status).toBe(400);
    expect(second.json?.error).toBe('invalid_grant');
    expect((await service.me(`Bearer ${first.json?.access_token}`)).status).toBe(401);
    const refreshed = await service.post('/oauth2/token', {
      grant_type: 'refresh_token',
      client_id: app.client_id,
      refresh_token: String(first.json?.refresh_token),
    });
    expect(refreshed.json?.error).toBe('invalid_grant');
  });

  it('§4.1.3 a confidential client authenticates with its secret for the code exchange', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, confidential, pkce);
    const withoutSecret = await exchangeCode(service, confidential, code, pkce.verifier);
    expect(withoutSecret.status).toBe(401);
    expect(withoutSecret.json?.error).toBe('invalid_client');
    const answer = await service.post(
      '/oauth2/token',
      { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: REDIRECT_URI },
      { Authorization: basicOf(confidential) },
    );
    expect(answer.status).toBe(200);
  });

  it('§5.2 a client without authorization_code in grant_types is unauthorized_client at the token endpoint', async () => {
    const answer = await service.post(
      '/oauth2/token',
      { grant_type: 'authorization_code', code: 'x', code_verifier: pkcePair().verifier },
      { Authorization: basicOf(passwordOnly) },
    );
    expect(answer.json?.error).toBe('unauthorized_client');
  });
});

describe('RFC 6749 §2.1 / §2.3 / §6 public clients (token_endpoint_auth_method none)', () => {
  it('§2.1 create-client issues no secret for a public client and list-clients shows its settings', async () => {
    const created = await service.admin({
      action: 'create-client',
      name: 'spa',
      grant_types: ['authorization_code'],
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'none',
    });
    expect(created).not.toHaveProperty('client_secret');
    const listed = (await service.admin({ action: 'list-clients' })).clients as Array<
      Record<string, unknown>
    >;
    expect(listed.find((client) => client.client_id === created.client_id)).toMatchObject({
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'none',
    });
  });

  it('§2.1 / RFC 9700 §2.4 a public client may only have authorization_code and refresh_token', async () => {
    for (const grant of ['password', 'client_credentials']) {
      const answer = await service.admin({
        action: 'create-client',
        name: 'bad',
        grant_types: ['authorization_code', grant],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      });
      expect(answer.error).toBe('invalid_request');
    }
  });

  it('§3.1.2 create-client refuses a redirect URI that is not https or loopback http, or has a fragment', async () => {
    for (const uri of [
      'http://client.example/cb',
      'https://client.example/cb#x',
      'cb',
      'javascript:alert(1)',
    ]) {
      const answer = await service.admin({
        action: 'create-client',
        name: 'bad',
        grant_types: ['authorization_code'],
        redirect_uris: [uri],
        token_endpoint_auth_method: 'none',
      });
      expect(answer.error).toBe('invalid_request');
    }
    const none = await service.admin({
      action: 'create-client',
      name: 'bad',
      grant_types: ['authorization_code'],
    });
    expect(none.error).toBe('invalid_request');
  });

  it('§2.3 credentials sent for a public client are invalid_client', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    const withSecret = await exchangeCode(service, app, code, pkce.verifier, { client_secret: 'anything' });
    expect(withSecret.status).toBe(401);
    expect(withSecret.json?.error).toBe('invalid_client');
    const withBasic = await service.post(
      '/oauth2/token',
      { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: REDIRECT_URI },
      { Authorization: basic(app.client_id, 'anything') },
    );
    expect(withBasic.json?.error).toBe('invalid_client');
  });

  it('§6 / RFC 9700 §4.14.2 a public client refreshes with client_id in the body; tokens rotate, reuse revokes', async () => {
    const pkce = pkcePair();
    const { code } = await obtainCode(service, app, pkce);
    const tokens = (await exchangeCode(service, app, code, pkce.verifier)).json ?? {};
    const refresh = (refreshToken: unknown) =>
      service.post('/oauth2/token', {
        grant_type: 'refresh_token',
        client_id: app.client_id,
        refresh_token: String(refreshToken),
      });
    const rotated = await refresh(tokens.refresh_token);
    expect(rotated.status).toBe(200);
    expect(rotated.json?.refresh_token).not.toBe(tokens.refresh_token);
    expect((await refresh(tokens.refresh_token)).json?.error).toBe('invalid_grant');
    expect((await refresh(rotated.json?.refresh_token)).json?.error).toBe('invalid_grant');
    expect((await service.me(`Bearer ${rotated.json?.access_token}`)).status).toBe(401);
  });
});
