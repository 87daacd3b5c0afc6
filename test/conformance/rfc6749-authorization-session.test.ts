import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuthorizeLambda } from '../../lambdas/handlers/authorize-lambda';
import {
  authorizePath,
  codeRequest,
  createPublicClient,
  exchangeCode,
  type PublicClient,
  pkcePair,
  rawRequest,
  redirectParams,
} from './authorize-flow';
import { type ServiceUnderTest, startServiceUnderTest } from './service-under-test';

// The original's behaviour (a signed-in user of the host application gets a code for the client at
// once), with the deployer's session-check hook; and the optional loginUrl for users without one.

const LOGIN_URL = 'https://app.example/login?from=oauth';

let hook: Server;
let sessionUrl: string;
let plain: ServiceUnderTest;
let withLogin: ServiceUnderTest;
let app: PublicClient;
let appOnLogin: PublicClient;

beforeAll(async () => {
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const { cookie } = JSON.parse(body) as { cookie: string };
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ user_id: cookie.includes('session=good') ? 'cookie-user' : null }));
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  sessionUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/session`;
  plain = await startServiceUnderTest({ SESSION_CHECK_URL: sessionUrl });
  withLogin = await startServiceUnderTest({ SESSION_CHECK_URL: sessionUrl, AUTHORIZE_LOGIN_URL: LOGIN_URL });
  app = await createPublicClient(plain);
  appOnLogin = await createPublicClient(withLogin);
});

afterAll(async () => {
  await Promise.all([plain?.close(), withLogin?.close()]);
  await new Promise<void>((resolve) => {
    if (hook === undefined) return resolve();
    hook.close(() => resolve());
    hook.closeAllConnections();
  });
});

describe('RFC 6749 §4.1.1 "authenticates the resource owner" with the deployer’s session', () => {
  it('a cookie the session check accepts gets its code at once (302, no form), redeemable for that user', async () => {
    const pkce = pkcePair();
    const answer = await rawRequest(plain, authorizePath(codeRequest(app, pkce, { state: 'sso' })), {
      headers: { Cookie: 'theme=dark; session=good' },
    });
    expect(answer.status).toBe(302);
    const params = redirectParams(answer);
    expect(params.get('state')).toBe('sso');
    const tokens = await exchangeCode(plain, app, params.get('code') as string, pkce.verifier);
    expect(tokens.json?.user_id).toBe('cookie-user');
  });

  it('a cookie the session check refuses gets the sign-in page', async () => {
    const answer = await rawRequest(plain, authorizePath(codeRequest(app, pkcePair())), {
      headers: { Cookie: 'session=bad' },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('<form method="post" action="authorize">');
  });

  it('with AUTHORIZE_LOGIN_URL, a user without a session is sent there with return_to = the authorize URL', async () => {
    const path = authorizePath(codeRequest(appOnLogin, pkcePair(), { state: 'back' }));
    const answer = await rawRequest(withLogin, path);
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://app.example/login');
    expect(location.searchParams.get('from')).toBe('oauth');
    const returnTo = new URL(location.searchParams.get('return_to') ?? '');
    expect(returnTo.pathname).toBe('/oauth2/authorize');
    expect(returnTo.searchParams.get('client_id')).toBe(appOnLogin.client_id);
    expect(returnTo.searchParams.get('state')).toBe('back');
    // Back from the login page with a session: the code at once.
    const back = await rawRequest(withLogin, `${returnTo.pathname}${returnTo.search}`, {
      headers: { Cookie: 'session=good' },
    });
    expect(redirectParams(back).get('code')).toBeTruthy();
  });

  it('AUTHORIZE_LOGIN_URL is validated like a redirect URI when the Lambda is built', () => {
    const env = {
      CLIENTS_TABLE: 'c',
      GRANTS_TABLE: 'g',
      AUTH_CHECK_URL: 'https://auth.example/check',
      SESSION_CHECK_URL: 'https://sessions.example/check',
      AUTHORIZE_FORM_SECRET: 'x'.repeat(32),
      LOCKOUT_KEY_SECRET: 'k'.repeat(32),
    };
    for (const bad of ['http://app.example/login', 'https://app.example/login#x', 'login']) {
      expect(() => buildAuthorizeLambda({ ...env, AUTHORIZE_LOGIN_URL: bad })).toThrow(/AUTHORIZE_LOGIN_URL/);
    }
    expect(() => buildAuthorizeLambda({ ...env, AUTHORIZE_FORM_SECRET: 'short' })).toThrow(
      /AUTHORIZE_FORM_SECRET/,
    );
    expect(() => buildAuthorizeLambda({ ...env, AUTHORIZATION_CODE_TTL_SECONDS: '601' })).toThrow(
      /AUTHORIZATION_CODE_TTL_SECONDS/,
    );
    expect(() => buildAuthorizeLambda({ ...env, AUTHORIZE_LOGIN_URL: LOGIN_URL })).not.toThrow();
  });
});
