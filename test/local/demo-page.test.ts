import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildMetadataLambda } from '../../lambdas/handlers/metadata-lambda';
import {
  localLambdaContext,
  readRawRequest,
  toProxyEvent,
  writeProxyResult,
} from '../../lambdas/local/api-gateway-emulation';
import {
  DEMO_APP_CSP,
  type DemoAppConfig,
  demoAppCallbackUris,
  demoAppResponse,
} from '../../lambdas/local/demo-app';
import { launchChromium } from '../support/headless-chromium';

// The /demo page's own checks, in a real browser, with no authorize endpoint needed: the page is
// served by its real module next to the real metadata handler, and every other path is a 404,
// so the browser's requests show what the page would send. The end-to-end flow against the
// local stack is in demo-app.test.ts.

const METADATA_PATH = '/.well-known/oauth-authorization-server';
const CLIENT_ID = 'demo-page-test-client';
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

describe('the /demo page in headless Chromium', () => {
  let server: Server;
  let base: string;
  let config: DemoAppConfig;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let requests: Request[];
  let problems: string[];

  beforeAll(async () => {
    // The metadata's issuer is configured, never taken from Host: set once the port is known.
    let metadata: ((event: unknown, context: Context) => Promise<APIGatewayProxyResult>) | undefined;
    server = createServer((request, response) => {
      void (async () => {
        const raw = await readRawRequest(request, 1024 * 1024);
        if (raw === 'too-large') throw new Error('unexpected large request');
        const result =
          demoAppResponse(raw, config) ??
          (raw.path === METADATA_PATH && metadata !== undefined
            ? await metadata(toProxyEvent(raw, METADATA_PATH), localLambdaContext('metadata'))
            : {
                statusCode: 404,
                headers: { 'Content-Type': 'application/json' },
                body: '{"message":"Not Found"}',
              });
        writeProxyResult(response, result);
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    metadata = buildMetadataLambda({
      ISSUER: base,
      REQUIRE_SSL: 'false',
      LOG_LEVEL: 'SILENT',
    }) as unknown as typeof metadata;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => {
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  beforeEach(async () => {
    config = {
      clientId: CLIENT_ID,
      redirectUris: demoAppCallbackUris(base),
      demoUser: { username: 'demo', password: 'demo-password' },
    };
    context = await browser.newContext();
    page = await context.newPage();
    requests = [];
    problems = [];
    page.on('request', (request) => requests.push(request));
    // A CSP violation or a script error shows up here; the page must produce neither.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(String(error)));
  });

  afterEach(async () => {
    await context.close();
  });

  /** Opens /demo and returns what its first steps show and where its sign-in link points. */
  async function startFlow() {
    await page.goto(`${base}/demo`);
    await page.locator('#sign-in').waitFor();
    const pkce = JSON.parse((await page.locator('[data-step="pkce"] pre').textContent()) ?? '') as Record<
      string,
      string
    >;
    const href = new URL((await page.locator('#sign-in').getAttribute('href')) as string);
    return { pkce, href, state: href.searchParams.get('state') as string };
  }

  const tokenRequests = () =>
    requests.filter((request) => new URL(request.url()).pathname === '/oauth2/token');

  it('is served with CSP (script and style by hash, nothing external), no framing, no-store', async () => {
    const response = await fetch(`${base}/demo`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(DEMO_APP_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    const html = await response.text();
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    const post = await fetch(`${base}/demo`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('makes a PKCE S256 challenge of a fresh 43-character verifier, and an authorize URL carrying it', async () => {
    const first = await startFlow();
    expect(first.pkce.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.pkce.code_challenge).toBe(s256(first.pkce.code_verifier as string));
    expect(first.pkce.code_challenge_method).toBe('S256');
    expect(first.href.origin + first.href.pathname).toBe(`${base}/oauth2/authorize`);
    expect(Object.fromEntries(first.href.searchParams)).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${base}/demo/callback`,
      scope: 'profile email',
      state: first.state,
      code_challenge: first.pkce.code_challenge,
      code_challenge_method: 'S256',
    });
    expect(first.state).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await page.locator('#actions').textContent()).toContain('demo-password');

    const second = await startFlow();
    expect(second.pkce.code_verifier).not.toBe(first.pkce.code_verifier);
    expect(second.state).not.toBe(first.state);
    expect(problems).toEqual([]);
  });

  it('RFC 6749 §10.12: a callback whose state is not the one this tab sent is ignored (no token request)', async () => {
    await startFlow();
    await page.goto(`${base}/demo/callback?code=stolen-code&state=forged&iss=${encodeURIComponent(base)}`);
    const step = page.locator('[data-step="callback"]');
    await step.waitFor();
    expect(await step.getAttribute('data-status')).toBe('error');
    expect(await step.textContent()).toContain('state that came back is not the one this tab sent');
    expect(tokenRequests()).toEqual([]);
    // The code is taken out of the address bar and history.
    expect(page.url()).toBe(`${base}/demo/callback`);
    expect(problems).toEqual([]);
  });

  it('RFC 9207: a callback whose iss is not this service is ignored (no token request)', async () => {
    const { state } = await startFlow();
    await page.goto(
      `${base}/demo/callback?code=c&state=${state}&iss=${encodeURIComponent('https://evil.example')}`,
    );
    const step = page.locator('[data-step="callback"]');
    await step.waitFor();
    expect(await step.getAttribute('data-status')).toBe('error');
    expect(await step.textContent()).toContain('RFC 9207');
    expect(tokenRequests()).toEqual([]);
  });

  it('shows an error redirect (error, error_description) and makes no token request', async () => {
    const { state } = await startFlow();
    const query = new URLSearchParams({
      error: 'access_denied',
      error_description: 'nope',
      state,
      iss: base,
    });
    await page.goto(`${base}/demo/callback?${query}`);
    const step = page.locator('[data-step="callback"]');
    await step.waitFor();
    expect(await step.getAttribute('data-status')).toBe('error');
    expect(await step.textContent()).toContain('access_denied');
    expect(tokenRequests()).toEqual([]);
  });

  it('a reload of the callback (or a callback this tab did not start) makes no token request', async () => {
    await page.goto(`${base}/demo/callback?code=c&state=s&iss=${encodeURIComponent(base)}`);
    const step = page.locator('[data-step="callback"]');
    await step.waitFor();
    expect(await step.getAttribute('data-status')).toBe('error');
    expect(await step.textContent()).toContain('started no sign-in');
    expect(tokenRequests()).toEqual([]);
  });

  it('exchanges the code as a public client: client_id, code_verifier and redirect_uri in the body, no secret', async () => {
    const { pkce, state } = await startFlow();
    await page.goto(`${base}/demo/callback?code=the-code&state=${state}&iss=${encodeURIComponent(base)}`);
    await page.locator('[data-step="token"]').waitFor();
    const [exchange] = tokenRequests();
    expect(exchange?.method()).toBe('POST');
    expect(await exchange?.allHeaders()).not.toHaveProperty('authorization');
    expect(Object.fromEntries(new URLSearchParams(exchange?.postData() ?? ''))).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      code_verifier: pkce.code_verifier,
      redirect_uri: `${base}/demo/callback`,
      client_id: CLIENT_ID,
    });
    // This server has no token endpoint: the page says the exchange failed and stops there.
    expect(await page.locator('[data-step="token"]').getAttribute('data-status')).toBe('error');
    expect(await page.locator('[data-step="me"]').count()).toBe(0);
    // The verifier is gone from the tab once used.
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('opened on an address the client has not registered, it says where to open it instead', async () => {
    config = { clientId: CLIENT_ID, redirectUris: ['http://127.0.0.1:9/demo/callback'] };
    await page.goto(`${base}/demo`);
    const step = page.locator('[data-step="origin"]');
    await step.waitFor();
    expect(await step.textContent()).toContain('http://127.0.0.1:9/demo');
    expect(await page.locator('#sign-in').count()).toBe(0);
  });

  it('shows every server value as text: markup in the client id is not interpreted', async () => {
    config = { ...config, clientId: '<img src=x onerror=alert(1)></script><b>x' };
    const { href } = await startFlow();
    expect(await page.locator('#client-id').textContent()).toBe('<img src=x onerror=alert(1)></script><b>x');
    expect(href.searchParams.get('client_id')).toBe('<img src=x onerror=alert(1)></script><b>x');
    expect(await page.locator('img, b').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
