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

  it('drops the cached entry when the client is written through it', async () => {
    const t = await setup();
    await t.cache.getClient('client-a');
    await t.cache.disableClient('client-a', START_MS / 1000 + 1);
    expect((await t.cache.getClient('client-a'))?.disabled).toBe(true);
    expect(t.reads()).toBe(2);
  });
});
