import { userKeyOf } from '../core/auth-check';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import {
  CONSUMED_REFRESH_HASHES,
  type GrantRecord,
  type GrantStore,
  type RefreshRedemption,
} from '../core/grant-store';

/**
 * A fresh copy with exactly the record's fields; optional fields that are undefined are dropped, as
 * the DynamoDB store's marshaller drops them.
 */
const copyGrant = (grant: GrantRecord): GrantRecord => ({
  grantId: grant.grantId,
  clientId: grant.clientId,
  grantType: grant.grantType,
  ...(grant.userId !== undefined && { userId: grant.userId }),
  scope: [...grant.scope],
  accessScope: [...grant.accessScope],
  createdAt: grant.createdAt,
  issuedAt: grant.issuedAt,
  accessHash: grant.accessHash,
  accessExpiresAt: grant.accessExpiresAt,
  ...(grant.refreshHash !== undefined && { refreshHash: grant.refreshHash }),
  ...(grant.refreshExpiresAt !== undefined && { refreshExpiresAt: grant.refreshExpiresAt }),
  consumedRefreshHashes: [...grant.consumedRefreshHashes],
  ...(grant.rotatedAt !== undefined && { rotatedAt: grant.rotatedAt }),
  ...(grant.revokedAt !== undefined && { revokedAt: grant.revokedAt }),
  expiresAt: grant.expiresAt,
});

/**
 * `GrantStore` in a Map, for unit tests. Held to the same contract suite as `DynamoDbGrantStore`:
 * each method checks and writes without awaiting in between, which gives it the atomicity of
 * DynamoDB's conditional writes. Unlike DynamoDB it never deletes expired grants. Its trimming of
 * consumed hashes happens in the same step; DynamoDB's is a follow-up write with the same result.
 */
export class InMemoryGrantStore implements GrantStore {
  private readonly grants = new Map<string, GrantRecord>();

  async createGrant(grant: GrantRecord): Promise<void> {
    if (this.grants.has(grant.grantId)) {
      throw new DependencyUnavailable('store', 'createGrant failed', {
        cause: new Error(`grant id collision: ${grant.grantId}`),
      });
    }
    this.grants.set(grant.grantId, copyGrant(grant));
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const grant = this.grants.get(grantId);
    return grant === undefined ? undefined : copyGrant(grant);
  }

  async redeemRefreshToken(grantId: string, r: RefreshRedemption): Promise<GrantRecord | undefined> {
    const grant = this.grants.get(grantId);
    if (
      grant === undefined ||
      grant.clientId !== r.clientId ||
      grant.revokedAt !== undefined ||
      grant.refreshHash !== r.presentedHash ||
      (grant.refreshExpiresAt ?? 0) <= r.now ||
      grant.createdAt + r.maxLifetimeSeconds <= r.now ||
      (r.userKey !== undefined && (grant.userId === undefined || userKeyOf(grant.userId) !== r.userKey)) ||
      (r.scope !== undefined && !r.scope.every((token) => grant.scope.includes(token)))
    ) {
      return undefined;
    }
    const consumed = [...grant.consumedRefreshHashes, r.presentedHash];
    const redeemed: GrantRecord = {
      ...grant,
      accessHash: r.accessHash,
      accessExpiresAt: r.accessExpiresAt,
      accessScope: [...(r.scope ?? grant.scope)],
      refreshHash: r.refreshHash,
      refreshExpiresAt: Math.min(r.refreshExpiresAt, grant.createdAt + r.maxLifetimeSeconds),
      consumedRefreshHashes:
        consumed.length >= CONSUMED_REFRESH_HASHES.TRIM_AT
          ? consumed.slice(-CONSUMED_REFRESH_HASHES.KEPT)
          : consumed,
      issuedAt: r.now,
      rotatedAt: r.now,
      expiresAt: r.expiresAt,
    };
    this.grants.set(grantId, redeemed);
    return copyGrant(redeemed);
  }

  async revokeGrant(grantId: string, revokedAt: number): Promise<boolean> {
    const grant = this.grants.get(grantId);
    if (grant === undefined || grant.revokedAt !== undefined) return false;
    this.grants.set(grantId, { ...grant, revokedAt });
    return true;
  }

  async revokeGrantByToken(
    grantId: string,
    clientId: string,
    tokenHash: string,
    revokedAt: number,
  ): Promise<boolean> {
    const grant = this.grants.get(grantId);
    if (grant === undefined || grant.clientId !== clientId || grant.revokedAt !== undefined) return false;
    if (grant.accessHash !== tokenHash && grant.refreshHash !== tokenHash) return false;
    this.grants.set(grantId, { ...grant, revokedAt });
    return true;
  }

  async listGrantIdsByUser(userKey: string): Promise<string[]> {
    return [...this.grants.values()]
      .filter((grant) => grant.userId !== undefined && userKeyOf(grant.userId) === userKey)
      .map((grant) => grant.grantId);
  }

  async listGrantIdsByClient(clientId: string): Promise<string[]> {
    return [...this.grants.values()]
      .filter((grant) => grant.clientId === clientId)
      .map((grant) => grant.grantId);
  }
}
