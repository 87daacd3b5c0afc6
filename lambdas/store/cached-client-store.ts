import type { ClientRecord, ClientStore, NewClientRecord } from '../core/client-store';
import type { Clock } from '../core/clock';

/**
 * Clocks of different Lambda instances (and `issuedAt`'s whole seconds) may disagree by this much;
 * a record fetched within it of a token's issue is treated as possibly older than the token.
 */
const ISSUE_TIME_SLACK_MS = 2000;

/**
 * Absorbs the client read on the authorizer's hot path. Only found clients are cached, for `ttlMs`.
 * Disabling a client revokes the grants it finds; a grant written after that sweep (its request read
 * the client just before the disable) is newer than any record cached before the disable, and a
 * caller passing `freshSince` (the token's issue time) gets a fresh read for it. Writes pass through
 * and drop the cached entry.
 */
export class CachedClientStore implements ClientStore {
  private readonly cache = new Map<string, { client: ClientRecord; fetchedAt: number; until: number }>();

  constructor(
    private readonly inner: ClientStore,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    /** Bounds memory if a warm container sees many clients. */
    private readonly maxEntries = 1000,
  ) {}

  async getClient(clientId: string, options: { readonly freshSince?: number } = {}) {
    const now = this.clock();
    const hit = this.cache.get(clientId);
    const fetchedAfterIssue =
      options.freshSince === undefined ||
      (hit !== undefined && hit.fetchedAt > options.freshSince * 1000 + 1000 + ISSUE_TIME_SLACK_MS);
    if (hit !== undefined && hit.until > now && fetchedAfterIssue) return hit.client;
    const client = await this.inner.getClient(clientId);
    this.cache.delete(clientId);
    if (client !== undefined && this.ttlMs > 0) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(clientId, { client, fetchedAt: now, until: now + this.ttlMs });
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
