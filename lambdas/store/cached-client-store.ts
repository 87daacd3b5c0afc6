import type { ClientRecord, ClientStore, NewClientRecord } from '../core/client-store';
import type { Clock } from '../core/clock';

/**
 * Absorbs the client read on the authorizer's hot path. Only found clients are cached, for `ttlMs`.
 * Disabling a client revokes its grants, and a grant written while that happens is revoked by its
 * own token request (`issueGrant` reads the client again after the write), so no live token of a
 * disabled client depends on this cache being fresh. Writes pass through and drop the cached entry.
 */
export class CachedClientStore implements ClientStore {
  private readonly cache = new Map<string, { client: ClientRecord; until: number }>();

  constructor(
    private readonly inner: ClientStore,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    /** Bounds memory if a warm container sees many clients. */
    private readonly maxEntries = 1000,
  ) {}

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const now = this.clock();
    const hit = this.cache.get(clientId);
    if (hit !== undefined && hit.until > now) return hit.client;
    const client = await this.inner.getClient(clientId);
    this.cache.delete(clientId);
    if (client !== undefined && this.ttlMs > 0) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(clientId, { client, until: now + this.ttlMs });
    }
    return client;
  }

  createClient(client: NewClientRecord): Promise<void> {
    this.cache.delete(client.clientId);
    return this.inner.createClient(client);
  }

  updateClientSecret(
    clientId: string,
    secretHash: string,
    updatedAt: number,
    keepPreviousUntil?: number,
  ): Promise<boolean> {
    this.cache.delete(clientId);
    return this.inner.updateClientSecret(clientId, secretHash, updatedAt, keepPreviousUntil);
  }

  disableClient(clientId: string, updatedAt: number): Promise<boolean> {
    this.cache.delete(clientId);
    return this.inner.disableClient(clientId, updatedAt);
  }

  listClients(): Promise<ClientRecord[]> {
    return this.inner.listClients();
  }
}
