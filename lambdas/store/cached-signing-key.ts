import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import {
  type ActiveSigningKey,
  type CurrentSigningKey,
  privateKeyOf,
  type SigningKeyEntry,
  type SigningKeyStore,
  selectSigningKey,
} from '../core/signing-keys';

/**
 * The signing function's key cache: the private key set is read once, kept in memory (parsed into
 * `KeyObject`s) and re-read every `ttlMs`, so a rotation (published `publishAheadSeconds` before it
 * signs) reaches every warm instance long before its key activates. Which key signs is decided per
 * token by `selectSigningKey`, so the switch happens at the planned second without a re-read. When a
 * re-read fails, the cached set keeps signing (it holds the next key already).
 */
export function cachedSigningKey(store: SigningKeyStore, ttlMs: number, clock: Clock): CurrentSigningKey {
  let cached: { entries: readonly SigningKeyEntry[]; until: number } | undefined;
  let loading: Promise<void> | undefined;
  const parsed = new Map<string, KeyObject>();

  const reload = async () => {
    const keys = await store.loadSigningKeys();
    cached = { entries: keys?.keys ?? [], until: clock() + ttlMs };
    for (const kid of parsed.keys()) if (!cached.entries.some((key) => key.kid === kid)) parsed.delete(kid);
  };

  return async (now: number): Promise<ActiveSigningKey> => {
    if (cached === undefined || cached.until <= clock()) {
      loading ??= reload().finally(() => {
        loading = undefined;
      });
      try {
        await loading;
      } catch (error) {
        if (cached === undefined) throw error;
      }
    }
    const entry = selectSigningKey(cached?.entries ?? [], now);
    if (entry === undefined) throw new DependencyUnavailable('secrets', 'no active signing key');
    let privateKey = parsed.get(entry.kid);
    if (privateKey === undefined) {
      privateKey = privateKeyOf(entry);
      parsed.set(entry.kid, privateKey);
    }
    return { kid: entry.kid, privateKey };
  };
}
