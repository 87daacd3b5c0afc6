import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './headless-chromium';

// The browser tests of every page depend on this helper: prove it launches Debian's Chromium,
// runs script and reaches a loopback server, so a broken install fails here first and plainly.
describe('launchChromium', () => {
  let browser: Browser;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>probe</title><p id="out"></p><script>out.textContent = 6 * 7</script>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('opens a loopback page in headless Chromium and runs its script', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    expect(await page.textContent('#out')).toBe('42');
  });
});
