import { describe, expect, it } from 'vitest';
import type { ClientStore } from '../../lambdas/core/client-store';
import { CachedClientStore, GRANT_WRITE_WINDOW_SECONDS } from '../../lambdas/store/cached-client-store';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { aClient } from './store-contract';

const START_MS = Date.UTC(2026, 10, 28);

async function setup() {
  const inner = new InMemoryClientStore();
  await inner.createClient(aClient());
  let reads = 0;
  const counting: ClientStore = Object.assign(Object.create(inner) as ClientStore, {
    getClient: (clientId: string) => {
      reads += 1;
      return inner.getClient(clientId);
    },
  });
  let now = START_MS;
  const cache = new CachedClientStore(counting, 30_000, () => now);
  return {
    inner,
    cache,
    reads: () => reads,
    advanceMs: (ms: number) => {
      now += ms;
    },
  };
}

describe('CachedClientStore', () => {
  it('answers from the cache for its TTL, then reads again', async () => {
    const t = await setup();
    await t.cache.getClient('client-a');
    t.advanceMs(29_999);
    await t.cache.getClient('client-a');
    expect(t.reads()).toBe(1);
    t.advanceMs(1);
    await t.cache.getClient('client-a');
    expect(t.reads()).toBe(2);
  });

  it('reads again, once per grant, for a token whose grant may postdate the cached record', async () => {
    const t = await setup();
    const startSeconds = START_MS / 1000;
    const grant = (grantId: string, issuedAt: number) => ({ freshFor: { grantId, issuedAt } });
    await t.cache.getClient('client-a'); // read at START
    t.advanceMs(10_000);
    // Issued more than the write window before the read: its grant was written before it.
    await t.cache.getClient('client-a', grant('old', startSeconds - GRANT_WRITE_WINDOW_SECONDS - 1));
    expect(t.reads()).toBe(1);

    // Issued 5 s after the read: its grant may have been written after a disable the record missed.
    await t.inner.disableClient('client-a', startSeconds + 5);
    const fresh = await t.cache.getClient('client-a', grant('new', startSeconds + 5));
    expect(t.reads()).toBe(2);
    expect(fresh?.disabled).toBe(true);

    // That re-read came after grant "new" was read, so it covers "new" from now on, not others.
    await t.cache.getClient('client-a', grant('new', startSeconds + 5));
    expect(t.reads()).toBe(2);
    await t.cache.getClient('client-a', grant('same-second', startSeconds + 5));
    expect(t.reads()).toBe(3);
    await t.cache.getClient('client-a', grant('new', startSeconds + 5));
    expect(t.reads()).toBe(3);
  });

  it('treats a token issued within the grant write window before the read as possibly newer', async () => {
    const t = await setup();
    await t.cache.getClient('client-a');
    const issuedAt = START_MS / 1000 - GRANT_WRITE_WINDOW_SECONDS + 1;
    await t.cache.getClient('client-a', { freshFor: { grantId: 'g', issuedAt } });
    expect(t.reads()).toBe(2);
  });
});
