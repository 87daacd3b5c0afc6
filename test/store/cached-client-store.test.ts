import { describe, expect, it } from 'vitest';
import type { ClientStore } from '../../lambdas/core/client-store';
import { CachedClientStore } from '../../lambdas/store/cached-client-store';
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

  it('reads again for a token issued after (or within the clock slack of) the cached read', async () => {
    const t = await setup();
    await t.cache.getClient('client-a'); // fetched at START
    t.advanceMs(10_000);
    const startSeconds = START_MS / 1000;
    // Issued well before the fetch: the cached record is newer than the token.
    await t.cache.getClient('client-a', { freshSince: startSeconds - 10 });
    expect(t.reads()).toBe(1);
    // Issued after the fetch (a disable in between would be invisible to the cached record).
    await t.inner.disableClient('client-a', startSeconds + 5);
    const fresh = await t.cache.getClient('client-a', { freshSince: startSeconds + 5 });
    expect(t.reads()).toBe(2);
    expect(fresh?.disabled).toBe(true);
  });

  it('treats a token issued within the slack before the fetch as possibly newer', async () => {
    const t = await setup();
    await t.cache.getClient('client-a');
    await t.cache.getClient('client-a', { freshSince: START_MS / 1000 - 2 });
    expect(t.reads()).toBe(2);
  });
});
