import type { UserId } from './auth-check';

/**
 * One item per grant (a password or client_credentials grant and every token descended from it).
 * Tokens are `<grantId>.<secret>`; only SHA-256 hashes of the secrets are stored. Times are epoch seconds.
 */
export interface GrantRecord {
  readonly grantId: string;
  readonly clientId: string;
  readonly grantType: 'password' | 'client_credentials';
  /** Absent for client_credentials grants. */
  readonly userId?: UserId;
  /** Scope granted originally; a refresh may narrow the access token's scope, never this one. */
  readonly scope: readonly string[];
  /** Scope of the current access token. */
  readonly accessScope: readonly string[];
  readonly createdAt: number;
  /** Issue time of the current access token (and refresh token). */
  readonly issuedAt: number;
  readonly accessHash: string;
  readonly accessExpiresAt: number;
  readonly refreshHash?: string;
  readonly refreshExpiresAt?: number;
  /** Hashes of refresh tokens already exchanged, oldest first; a second use is a breach signal. */
  readonly consumedRefreshHashes: readonly string[];
  /** When the last refresh happened; with the grace window, decides whether a replay is a breach. */
  readonly rotatedAt?: number;
  readonly revokedAt?: number;
  /** DynamoDB TTL attribute: when every token of the grant has expired. */
  readonly expiresAt: number;
}

/** What a successful refresh writes, replacing the current tokens in one conditional update. */
export interface GrantRotation {
  readonly accessHash: string;
  readonly accessExpiresAt: number;
  readonly accessScope: readonly string[];
  readonly refreshHash: string;
  readonly refreshExpiresAt: number;
  readonly consumedRefreshHashes: readonly string[];
  readonly issuedAt: number;
  readonly rotatedAt: number;
  readonly expiresAt: number;
}

/** Storage port for grants. Adapters throw `DependencyUnavailable` on any backend failure. */
export interface GrantStore {
  /** Throws `DependencyUnavailable` on failure; a new grant id never collides (128 random bits). */
  createGrant(grant: GrantRecord): Promise<void>;
  /** Strongly consistent read. */
  getGrant(grantId: string): Promise<GrantRecord | undefined>;
  /**
   * Replaces the current tokens only if the grant still has `expectedRefreshHash` and is not revoked;
   * otherwise throws `GrantAlreadyRotated` and writes nothing. This is what makes a refresh single-use.
   */
  rotateGrant(grantId: string, expectedRefreshHash: string, rotation: GrantRotation): Promise<void>;
  /**
   * Marks the grant revoked (all its tokens die at once). Returns true only when this call revoked
   * it: false if it did not exist or was revoked already (the first revocation time is kept).
   */
  revokeGrant(grantId: string, revokedAt: number): Promise<boolean>;
  /**
   * Revokes the grant in one conditional write, only if `tokenHash` is the hash of its current access
   * or refresh token and it was issued to `clientId` (RFC 7009 §2.1). True when this call revoked it;
   * false for no such grant, another client's grant, a token that is not current, or a grant that was
   * revoked already.
   */
  revokeGrantByToken(
    grantId: string,
    clientId: string,
    tokenHash: string,
    revokedAt: number,
  ): Promise<boolean>;
  /** Every grant id of a user (by `userKeyOf`), whichever client it was issued to. */
  listGrantIdsByUser(userKey: string): Promise<string[]>;
  listGrantIdsByClient(clientId: string): Promise<string[]>;
}

/** The conditional rotation lost: the refresh token was consumed concurrently or the grant revoked. */
export class GrantAlreadyRotated extends Error {
  constructor(readonly grantId: string) {
    super('grant was already rotated or revoked');
    this.name = 'GrantAlreadyRotated';
  }
}
