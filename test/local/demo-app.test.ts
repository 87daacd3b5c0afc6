import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_APP_CLIENT_NAME } from '../../lambdas/local/demo-app';
import { DEMO_USER, type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { launchChromium } from '../support/headless-chromium';
import { invokeLocalAdmin } from '../support/local-admin-invoke';
import { spawnNpmStart } from '../support/npm-start';

// The "done when": a newcomer runs `npm start`, opens /demo, signs in as the demo user and
// sees tokens and /me answer. Real parts throughout: the local stack with its embedded dynalite and
// demo AuthCheck, the authorize endpoint's sign-in page, and headless Chromium.

const QUIET = { LOG_LEVEL: 'SILENT' };

/** What a step's box shows after `HTTP <status>`: the JSON body the page received. */
async function stepAnswer(
  page: Page,
  step: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = (await page.locator(`[data-step="${step}"] pre`).textContent()) ?? '';
  const match = /HTTP (\d{3})\n([\s\S]*)$/.exec(text);
  if (match === null) throw new Error(`no HTTP answer in step ${step}: ${text}`);
  return { status: Number(match[1]), body: JSON.parse(match[2] as string) as Record<string, unknown> };
}

/** The newcomer's clicks: open /demo, Sign in, type the demo user on the service's page, submit. */
async function signInThroughDemo(page: Page, demoUrl: string): Promise<void> {
  await page.goto(demoUrl);
  await page.locator('#sign-in').click();
  await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
  // The service's own page, naming the app the user is signing in to.
  expect(await page.textContent('main')).toContain(DEMO_APP_CLIENT_NAME);
  await page.getByLabel(/user ?name/i).fill(DEMO_USER.username);
  await page.getByLabel(/password/i).fill(DEMO_USER.password);
  await page.getByLabel(/password/i).press('Enter');
  await page.waitForURL((url) => url.pathname === '/demo/callback');
  await page.locator('[data-step="me"]').waitFor();
}

async function adminClients(stack: LocalStack): Promise<Array<Record<string, unknown>>> {
  const response = await invokeLocalAdmin(stack.url, { action: 'list-clients' });
  return ((await response.json()) as { clients: Array<Record<string, unknown>> }).clients;
}

describe('the /demo app, end to end in headless Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    problems = [];
    // A CSP violation (for instance a form-action that blocks the redirect) or a script error on
    // any page of the flow lands here.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(String(error)));
  });
  afterEach(async () => {
    await context.close();
  });

  describe('after npm start', () => {
    let child: ChildProcess | undefined;
    afterAll(() => {
      // npm → node (package.json execs one process): the group, so nothing outlives the test.
      if (child?.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    });

    it('a newcomer opens the /demo URL from the banner, signs in as the demo user, and sees tokens and /me answer', async () => {
      const started = await spawnNpmStart();
      child = started.child;
      const output = started.output();
      const demoUrl = /demo app:\s+(\S+)/.exec(output)?.[1] as string;
      expect(demoUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/demo$/);

      await signInThroughDemo(page, demoUrl);

      for (const step of ['before-sign-in', 'callback', 'token', 'me']) {
        expect(await page.locator(`[data-step="${step}"]`).getAttribute('data-status'), step).toBe('ok');
      }
      const token = await stepAnswer(page, 'token');
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({
        token_type: 'bearer',
        user_id: DEMO_USER.userId,
        scope: 'profile email',
      });
      expect(token.body.access_token).toEqual(expect.any(String));
      expect(token.body.refresh_token).toEqual(expect.any(String));
      const me = await stepAnswer(page, 'me');
      expect(me).toEqual({
        status: 200,
        body: { user_id: DEMO_USER.userId, client_id: expect.any(String), scope: 'profile email' },
      });
      // The code left the address bar; nothing on any page broke the CSP or threw.
      expect(page.url()).toBe(demoUrl.replace(/\/demo$/, '/demo/callback'));
      expect(problems).toEqual([]);
    }, 60_000);
  });

  describe('on a local stack', () => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await startLocalStack({ port: 0, environment: QUIET });
    });
    afterAll(() => stack?.close());

    it('registers the demo app as a public client for its own /demo/callback, code + refresh only', async () => {
      const demoApp = stack.demoApp as { url: string; clientId: string };
      expect(demoApp.url).toBe(`${stack.url}/demo`);
      const client = (await adminClients(stack)).find((c) => c.client_id === demoApp.clientId);
      expect(client).toMatchObject({
        name: DEMO_APP_CLIENT_NAME,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        // Port-less loopback URIs: any port matches (RFC 8252 §7.3).
        redirect_uris: [
          'http://127.0.0.1/demo/callback',
          'http://[::1]/demo/callback',
          'http://localhost/demo/callback',
        ],
        disabled: false,
      });
    });

    it('refreshes as a public client from the page: new tokens, and /me answers the new access token', async () => {
      await signInThroughDemo(page, (stack.demoApp as { url: string }).url);
      const first = await stepAnswer(page, 'token');
      await page.locator('#refresh').click();
      await page.locator('[data-step="me"]').nth(1).waitFor();
      const refreshed = await stepAnswer(page, 'refresh');
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refresh_token).not.toBe(first.body.refresh_token);
      expect(refreshed.body.access_token).not.toBe(first.body.access_token);
      const secondMe = (await page.locator('[data-step="me"]').nth(1).textContent()) ?? '';
      expect(secondMe).toContain(String(refreshed.body.access_token));
      expect(secondMe).toContain('HTTP 200');
      // Rotation: the first access token no longer works.
      const old = await fetch(`${stack.url}/me`, {
        headers: { Authorization: `Bearer ${first.body.access_token}` },
      });
      expect(old.status).toBe(401);
      expect(problems).toEqual([]);
    });
  });

  describe('with DATA_DIR across restarts', () => {
    let dataDir: string;
    let stack: LocalStack | undefined;
    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'demo-app-'));
    });
    afterAll(async () => {
      await stack?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps one demo client across restarts, and the authorize endpoint takes its callback on the new port', async () => {
      stack = await startLocalStack({ port: 0, dataDir, environment: QUIET });
      const first = stack.demoApp?.clientId as string;
      await stack.close();
      stack = await startLocalStack({ port: 0, dataDir, environment: QUIET });
      expect(stack.demoApp?.clientId).toBe(first);
      expect((await adminClients(stack)).filter((c) => c.name === DEMO_APP_CLIENT_NAME)).toHaveLength(1);
      const authorize = new URL(`${stack.url}/oauth2/authorize`);
      for (const [key, value] of Object.entries({
        response_type: 'code',
        client_id: first,
        redirect_uri: `${stack.url}/demo/callback`,
        state: 's',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'S256',
      }))
        authorize.searchParams.set(key, value);
      const page = await fetch(authorize);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(DEMO_APP_CLIENT_NAME);
    }, 60_000);
  });
});
