import type { ClientRecord, ClientStore, GrantRef, NewClientRecord } from '../core/client-store';
import type { Clock } from '../core/clock';

/**
 * A grant is written at most this long after its `issuedAt` (read when its token request started):
 * the token Lambda's 28 s timeout plus clock skew between Lambda instances.
 */
export const GRANT_WRITE_WINDOW_SECONDS = 30;

/** The cached record was read after `grant` was written, so it cannot miss a disable before that write. */
const readAfterWriteOf = (grant: GrantRef, entry: CacheEntry): boolean =>
  entry.grantsSeen.has(grant.grantId) || (grant.issuedAt + GRANT_WRITE_WINDOW_SECONDS) * 1000 < entry.readAt;

interface CacheEntry {
  readonly client: ClientRecord;
  readonly until: number;
  /** Epoch ms of the read. */
  readonly readAt: number;
  /** Grants known to have been written before this record was read (their reads came first). */
  readonly grantsSeen: ReadonlySet<string>;
}

/** Bounds the per-entry memory of grants already checked against it. */
const MAX_GRANTS_SEEN = 1000;

/**
 * Absorbs the client read on the authorizer's hot path. Only found clients are cached, for `ttlMs`.
 * Disabling a client revokes the grants it finds; a grant written after that sweep (its request read
 * the client just before the disable) may be newer than the cached record. So a caller passing
 * `freshFor` (its token's grant, read just before) gets the cached record only if it was read after
 * that grant was written: more than `GRANT_WRITE_WINDOW_SECONDS` after the token's issue, or in a
 * re-read made for that very grant. Writes pass through and drop the cached entry.
 */
export class CachedClientStore implements ClientStore {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly inner: ClientStore,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    /** Bounds memory if a warm container sees many clients. */
    private readonly maxEntries = 1000,
  ) {}

  async getClient(clientId: string, options: { readonly freshFor?: GrantRef } = {}) {
    const now = this.clock();
    const hit = this.cache.get(clientId);
    const grant = options.freshFor;
    if (hit !== undefined && hit.until > now && (grant === undefined || readAfterWriteOf(grant, hit))) {
      return hit.client;
    }
    const client = await this.inner.getClient(clientId);
    this.cache.delete(clientId);
    if (client !== undefined && this.ttlMs > 0) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      // Grants seen before stay covered: they were written before the earlier read, so before this one.
      const seen = new Set(hit !== undefined && hit.grantsSeen.size < MAX_GRANTS_SEEN ? hit.grantsSeen : []);
      // The caller read its grant before this read, so this record postdates the grant's write.
      if (grant !== undefined) seen.add(grant.grantId);
      this.cache.set(clientId, { client, until: now + this.ttlMs, readAt: now, grantsSeen: seen });
    }
    return client;
  }

  createClient(client: NewClientRecord): Promise<void> {
    this.cache.delete(client.clientId);
    return this.inner.createClient(client);
  }

  updateClientSecret(clientId: string, secretHash: string, updatedAt: number): Promise<boolean> {
    this.cache.delete(clientId);
    return this.inner.updateClientSecret(clientId, secretHash, updatedAt);
  }

  disableClient(clientId: string, updatedAt: number): Promise<boolean> {
    this.cache.delete(clientId);
    return this.inner.disableClient(clientId, updatedAt);
  }

  listClients(): Promise<ClientRecord[]> {
    return this.inner.listClients();
  }
}
