import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock';
import type { PublicKeyLookup } from '../core/jwt-access-token';
import type { PublicKeyStore, PublishedKeySet } from '../core/signing-keys';

/** An unknown kid makes an instance re-read the public keys at most this often. */
export const UNKNOWN_KID_RELOAD_MS = 10_000;
/** Even without an unknown kid, the set is re-read this often (learns an emergency key removal). */
export const PUBLIC_KEYS_MAX_AGE_MS = 3600_000;

/**
 * Verifiers' view of the public keys, in memory: warm, a known kid costs no read. An unknown kid
 * reloads at most once per `UNKNOWN_KID_RELOAD_MS` (a forged kid cannot turn every request into a
 * read); a key past its `removeAt` is refused without a read. Only public keys ever pass through here.
 */
export class PublicKeyCache {
  private keys = new Map<string, { key: KeyObject; removeAt?: number }>();
  private loadedAt: number | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: PublicKeyStore,
    private readonly clock: Clock,
  ) {}

  /** The `PublicKeyLookup` for `verifyJwtAccessToken`. */
  readonly lookup: PublicKeyLookup = async (kid) => {
    const now = this.clock();
    const stale = this.loadedAt === undefined || now - this.loadedAt >= PUBLIC_KEYS_MAX_AGE_MS;
    const unknown = !this.keys.has(kid);
    const mayReload = this.loadedAt === undefined || now - this.loadedAt >= UNKNOWN_KID_RELOAD_MS;
    if (stale || (unknown && mayReload)) {
      try {
        await this.reload();
      } catch (error) {
        // A failed refresh keeps the keys we have; with none at all the caller answers 503.
        if (this.loadedAt === undefined) throw error;
      }
    }
    const found = this.keys.get(kid);
    if (found === undefined) return undefined;
    if (found.removeAt !== undefined && found.removeAt * 1000 <= now) return undefined;
    return found.key;
  };

  private reload(): Promise<void> {
    this.loading ??= this.store
      .loadPublicKeys()
      .then((set) => this.replace(set))
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private replace(set: PublishedKeySet | undefined): void {
    const next = new Map<string, { key: KeyObject; removeAt?: number }>();
    for (const published of set?.keys ?? []) {
      const previous = this.keys.get(published.jwk.kid);
      const key = previous?.key ?? createPublicKey({ key: { ...published.jwk }, format: 'jwk' });
      next.set(published.jwk.kid, {
        key,
        ...(published.removeAt === undefined ? {} : { removeAt: published.removeAt }),
      });
    }
    this.keys = next;
    this.loadedAt = this.clock();
  }
}
