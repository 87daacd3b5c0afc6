/**
 * Child process: dynalite and the signed loopback AuthCheck hook, shared by both sides of a run.
 * Kept out of the measured server's process so a server's CPU is its own, as in production.
 */
import { randomBytes } from 'node:crypto';
import { startEmbeddedDynalite } from '../lambdas/local/embedded-dynalite';
import { startAuthCheckHookServer } from '../test/support/auth-check-hook-server';
import type { BackendReady, BackendUsage } from './bench-backend';
import { benchHookUsers } from './bench-users';

const HOOK_LOG_RESET_MS = 5_000;

const [dynalite, hook] = await Promise.all([
  startEmbeddedDynalite(),
  startAuthCheckHookServer({
    secret: randomBytes(32).toString('base64url'),
    users: benchHookUsers(),
  }),
]);
// The test hook remembers every request; forget them so a long run does not grow the heap.
const forget = setInterval(() => hook.reset(), HOOK_LOG_RESET_MS);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(forget);
  await Promise.all([dynalite.stop(), hook.stop()]).catch(() => {});
  if (process.connected) process.disconnect();
};
process.on('message', (message: { type?: unknown }) => {
  if (message.type === 'stop') void stop();
  if (message.type === 'usage') {
    const { user, system } = process.cpuUsage();
    const answer: BackendUsage = { type: 'usage', cpuMicros: user + system };
    process.send?.(answer);
  }
});
process.on('disconnect', () => void stop());

const ready: BackendReady = {
  type: 'ready',
  dynamodbEndpoint: dynalite.endpoint,
  hookUrl: hook.url,
  hookSecret: hook.secret,
};
process.send?.(ready);
