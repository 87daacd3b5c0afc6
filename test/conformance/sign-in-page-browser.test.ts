import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { type AuthCheckHookServer, startAuthCheckHookServer } from '../support/auth-check-hook-server';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';
import { launchChromium } from '../support/headless-chromium';
import { invokeLocalAdmin } from '../support/local-admin-invoke';

// The hosted sign-in page in headless Chromium, against the local stack on plain loopback http,
// behind a small proxy that adds API Gateway's stage prefix (/prod): the page's relative form action
// must stay under it. The client's redirect URI is a real loopback server that records what arrives.

const USER = { username: 'alice', password: 'correct horse', userId: 'u-42' };
const STAGE = '/prod';

let dynalite: DynaliteServer;
let hook: AuthCheckHookServer;
let stack: LocalStack;
let proxy: Server;
let base: string;
let callback: Server;
let callbackUrl: string;
let arrived: URL[];
let browser: Browser;
let clientId: string;
let scriptedClientId: string;

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const close = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    if (server === undefined) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });

/** /prod/<path> → the local stack's /<path>, as API Gateway's execute-api hostname would. */
function stagePrefixProxy(target: string): Server {
  return createServer((incoming: IncomingMessage, outgoing) => {
    const url = incoming.url ?? '/';
    if (!url.startsWith(`${STAGE}/`)) {
      outgoing.writeHead(403).end('{"message":"Forbidden"}');
      return;
    }
    const upstream = httpRequest(
      `${target}${url.slice(STAGE.length)}`,
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    incoming.pipe(upstream);
  });
}

const admin = async (payload: Record<string, unknown>) =>
  (await (await invokeLocalAdmin(stack.url, payload)).json()) as Record<string, unknown>;

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

const authorizeUrl = (params: Record<string, string>) =>
  `${base}${STAGE}/oauth2/authorize?${new URLSearchParams(params).toString()}`;

const codeRequest = (extra: Record<string, string> = {}, id = clientId) => ({
  response_type: 'code',
  client_id: id,
  redirect_uri: callbackUrl,
  code_challenge: pkce().challenge,
  code_challenge_method: 'S256',
  ...extra,
});

beforeAll(async () => {
  dynalite = await startDynalite();
  hook = await startAuthCheckHookServer({
    secret: randomBytes(32).toString('base64url'),
    users: { [USER.username]: { password: USER.password, userId: USER.userId } },
  });
  stack = await startLocalStack({
    port: 0,
    dynamodbEndpoint: dynalite.endpoint,
    authCheckUrl: hook.url,
    authCheckSecret: hook.secret,
    demoClient: false,
    environment: { LOG_LEVEL: 'SILENT', LOCKOUT_THRESHOLD: '3' },
  });
  proxy = stagePrefixProxy(stack.url);
  base = `http://127.0.0.1:${await listen(proxy)}`;
  arrived = [];
  callback = createServer((incoming, outgoing) => {
    arrived.push(new URL(incoming.url ?? '/', 'http://127.0.0.1'));
    outgoing
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end('<!doctype html><title>Callback</title>arrived');
  });
  // Registered without a port: a loopback http redirect URI may use any port (RFC 8252 §7.3).
  callbackUrl = `http://127.0.0.1:${await listen(callback)}/callback`;
  const created = await admin({
    action: 'create-client',
    name: 'Photo Printer',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
    scope: 'read write',
  });
  clientId = String(created.client_id);
  const scripted = await admin({
    action: 'create-client',
    name: '<script>alert(1)</script>',
    grant_types: ['authorization_code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
  });
  scriptedClientId = String(scripted.client_id);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([close(proxy), close(callback)]);
  await stack?.close();
  await hook?.stop();
  await dynalite?.stop();
});

let context: BrowserContext;
let page: Page;
let dialogs: string[];

beforeEach(async () => {
  // JavaScript off: the page must work as a plain HTML form.
  context = await browser.newContext({ javaScriptEnabled: false });
  page = await context.newPage();
  dialogs = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  arrived.length = 0;
  hook.reset();
});

afterEach(() => context?.close());

async function signIn(username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

describe('the sign-in page in headless Chromium (JavaScript off, under the /prod stage prefix)', () => {
  it('a raw authorize URL: wrong credentials show the page again with a message, right ones reach the redirect URI with code, state and iss', async () => {
    const state = 'st&te "with" <odd> chars/é';
    await page.goto(authorizeUrl(codeRequest({ state })));
    await expect(page.title()).resolves.toBe('Sign in');
    expect(await page.locator('.client').textContent()).toBe('Photo Printer');

    await signIn(USER.username, 'wrong password');
    expect(new URL(page.url()).pathname).toBe(`${STAGE}/oauth2/authorize`);
    expect(await page.getByRole('alert').textContent()).toBe('The username or password is incorrect');
    expect(arrived).toHaveLength(0);

    await signIn(USER.username, USER.password);
    // Reaching the callback at all proves the CSP form-action lets the post's 302 through (Chromium
    // applies form-action to that redirect: 'self' alone would leave the browser on our page).
    expect(arrived).toHaveLength(1);
    const landed = arrived[0] as URL;
    expect(landed.pathname).toBe('/callback');
    expect(landed.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(landed.searchParams.get('state')).toBe(state);
    expect(landed.searchParams.get('iss')).toBeTruthy();
    expect(new URL(page.url()).origin).toBe(new URL(callbackUrl).origin);
    expect(hook.requests.map((request) => request.password)).toEqual(['wrong password', USER.password]);
  });

  it('the form posts to a relative action that stays under the stage prefix', async () => {
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
    });
    await page.goto(authorizeUrl(codeRequest()));
    expect(await page.locator('form').getAttribute('action')).toBe('authorize');
    await signIn(USER.username, USER.password);
    expect(posts).toEqual([`${STAGE}/oauth2/authorize`]);
  });

  it('the lockout message appears after LOCKOUT_THRESHOLD failures, and the AuthCheck is no longer asked', async () => {
    const name = `locked-${randomBytes(4).toString('hex')}`;
    await page.goto(authorizeUrl(codeRequest()));
    for (let attempt = 0; attempt < 3; attempt += 1) await signIn(name, 'guess');
    await signIn(name, 'guess again');
    expect(await page.getByRole('alert').textContent()).toBe(
      'Too many failed sign-in attempts for this username; try again later',
    );
    expect(hook.requests.filter((request) => request.username === name)).toHaveLength(3);
    expect(arrived).toHaveLength(0);
  });

  it('a forged post from another page is refused (403) and never reaches the AuthCheck', async () => {
    // An attacker's page on another origin that posts a complete-looking form to the endpoint.
    const fields = { ...codeRequest(), username: USER.username, password: USER.password, form_token: '1.x' };
    const attacker = createServer((_incoming, outgoing) => {
      const inputs = Object.entries(fields)
        .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
        .join('');
      outgoing
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><form method="post" action="${base}${STAGE}/oauth2/authorize">${inputs}<button>Win a prize</button></form>`,
        );
    });
    const port = await listen(attacker);
    try {
      // First a real page in this browser, so its anti-forgery cookie exists: a forgery must fail anyway.
      await page.goto(authorizeUrl(codeRequest()));
      await page.goto(`http://localhost:${port}/`);
      const [answer] = await Promise.all([
        page.waitForResponse((response) => response.url().includes('/oauth2/authorize')),
        page.getByRole('button', { name: 'Win a prize' }).click(),
      ]);
      expect(answer.status()).toBe(403);
      expect(hook.requests).toHaveLength(0);
      expect(arrived).toHaveLength(0);
    } finally {
      await close(attacker);
    }
  });

  it('error redirects: response_type=token lands on the redirect URI with the error, state and iss', async () => {
    await page.goto(authorizeUrl(codeRequest({ response_type: 'token', state: 'keep-me' })));
    expect(arrived).toHaveLength(1);
    const landed = arrived[0] as URL;
    expect(landed.searchParams.get('error')).toBe('unsupported_response_type');
    expect(landed.searchParams.get('state')).toBe('keep-me');
    expect(landed.searchParams.get('iss')).toBeTruthy();
  });

  it('error redirects: a missing PKCE challenge lands on the redirect URI with invalid_request', async () => {
    const { code_challenge: _, ...request } = codeRequest({ state: 's1' });
    await page.goto(authorizeUrl(request));
    expect(arrived[0]?.searchParams.get('error')).toBe('invalid_request');
    expect(arrived[0]?.searchParams.get('state')).toBe('s1');
  });

  it('an unregistered redirect URI stays on an error page of ours (no redirect)', async () => {
    const answer = await page.goto(authorizeUrl(codeRequest({ redirect_uri: 'https://evil.example/cb' })));
    expect(answer?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(base);
    expect(await page.getByRole('alert').textContent()).toContain('redirect_uri');
  });

  it('a client named <script>alert(1)</script> is shown as text, and nothing runs (JavaScript on)', async () => {
    const scripted = await browser.newContext();
    try {
      const tab = await scripted.newPage();
      const alerts: string[] = [];
      tab.on('dialog', (dialog) => {
        alerts.push(dialog.message());
        void dialog.dismiss();
      });
      await tab.goto(authorizeUrl(codeRequest({}, scriptedClientId)));
      expect(await tab.locator('.client').textContent()).toBe('<script>alert(1)</script>');
      expect(alerts).toEqual([]);
    } finally {
      await scripted.close();
    }
    expect(dialogs).toEqual([]);
  });
});

describe('the CSP form-action trap, shown on this Chromium', () => {
  it("a page whose CSP says form-action 'self' cannot follow its post's 302 to another origin", async () => {
    // The premise of the check above: with 'self' alone, Chromium blocks the redirect after the post.
    const trap = createServer((incoming, outgoing) => {
      if (incoming.method === 'POST') {
        outgoing.writeHead(302, { Location: `${callbackUrl}?from=trap` }).end();
        return;
      }
      outgoing
        .writeHead(200, { 'Content-Type': 'text/html', 'Content-Security-Policy': "form-action 'self'" })
        .end('<!doctype html><form method="post" action="/"><button>Go</button></form>');
    });
    const port = await listen(trap);
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      const [violation] = await Promise.all([
        page.waitForEvent('console', (message) => message.text().includes('form-action')),
        page.getByRole('button', { name: 'Go' }).click(),
      ]);
      expect(violation.text()).toContain("form-action 'self'");
      expect(arrived).toHaveLength(0);
    } finally {
      await close(trap);
    }
  });
});
