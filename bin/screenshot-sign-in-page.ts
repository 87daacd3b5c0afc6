#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEMO_USER, startLocalStack } from '../lambdas/local/local-stack';
import { launchChromium } from '../test/support/headless-chromium';

/**
 * `npm run screenshot`: the README's pictures, taken from a real run. Starts an in-memory local
 * stack, opens /demo in headless Chromium, and saves the service's sign-in page
 * (docs/sign-in-page.png) and the demo app after signing in (docs/demo-app.png).
 */
const SIGN_IN_PNG = resolve('docs/sign-in-page.png');
const DEMO_APP_PNG = resolve('docs/demo-app.png');

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stack = await startLocalStack({ port: 0, environment: { LOG_LEVEL: 'SILENT' } });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await stack.close();
    throw error;
  });
  try {
    if (stack.demoApp === undefined) throw new Error('the local stack registered no demo app');
    const page = await browser.newPage({ viewport: { width: 760, height: 560 }, colorScheme: 'light' });
    await page.goto(stack.demoApp.url);
    await page.locator('#sign-in').click();
    await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
    await page.getByLabel(/user ?name/i).fill(DEMO_USER.username);
    mkdirSync(dirname(SIGN_IN_PNG), { recursive: true });
    await page.screenshot({ path: SIGN_IN_PNG });
    await page.getByLabel(/password/i).fill(DEMO_USER.password);
    await page.getByLabel(/password/i).press('Enter');
    await page.waitForURL((url) => url.pathname === '/demo/callback');
    await page.locator('[data-step="me"]').waitFor();
    await page.setViewportSize({ width: 900, height: 900 });
    await page.screenshot({ path: DEMO_APP_PNG, fullPage: true });
    console.log(`saved ${SIGN_IN_PNG}\nsaved ${DEMO_APP_PNG}`);
  } finally {
    await browser.close();
    await stack.close();
  }
}

main().catch((error: unknown) => {
  console.error(`screenshot failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
