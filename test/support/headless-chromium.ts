import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's `chromium` package; `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a quiet, deterministic headless run as root in a container: no sandbox (root),
 * no GPU, and nothing that phones home (QUIC, component updates, sync, background fetches),
 * so the only network traffic is the test's own loopback requests.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Debian Chromium through playwright-core. Not a persistent context: Playwright
 * gives the browser a fresh temporary profile and deletes it on `browser.close()`, so each test
 * starts with no cookies and leaves nothing behind. Close the browser in afterAll.
 *
 * Throws (never skips) when Chromium is missing: a browser test that silently skips in CI would
 * let a broken page pass.
 */
export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's package (apt-get update && apt-get install -y chromium); .ci/run does this in CI`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
};
