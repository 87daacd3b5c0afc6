import type { UserId } from './auth-check';

/**
 * One item per grant (a password or client_credentials grant and every token descended from it).
 * Tokens are `<grantId>.<secret>`; only SHA-256 hashes of the secrets are stored. Times are epoch seconds.
 */
export interface GrantRecord {
  readonly grantId: string;
  readonly clientId: string;
  readonly grantType: 'password' | 'client_credentials' | 'authorization_code';
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

/**
 * A refresh token presented for redemption and the tokens that replace it. The store writes them in
 * one conditional update that is also the whole check: the grant exists, belongs to `clientId`, is
 * not revoked, has `presentedHash` as its current refresh hash, unexpired at `now`, and, when given,
 * belongs to `userKey` and contains every token of `scope`. This is what makes a refresh single-use.
 */
export interface RefreshRedemption {
  readonly clientId: string;
  readonly presentedHash: string;
  readonly now: number;
  /** `userKeyOf` the request's `user_id`, when it sent one. */
  readonly userKey?: string;
  /** The narrowed scope of the new access token, when the request asked; absent: the grant's scope. */
  readonly scope?: readonly string[];
  readonly accessHash: string;
  readonly accessExpiresAt: number;
  readonly refreshHash: string;
  /** The new refresh token's expiry, before the cap below. */
  readonly refreshExpiresAt: number;
  /**
   * The absolute cap of the grant's refresh tokens, from its `createdAt`: the redemption is refused
   * once `createdAt + maxLifetimeSeconds <= now` (in the write's condition), and the new refresh
   * token's expiry is `min(refreshExpiresAt, createdAt + maxLifetimeSeconds)`.
   */
  readonly maxLifetimeSeconds: number;
  readonly expiresAt: number;
}

/**
 * Consumed refresh hashes kept for reuse detection: a list that reaches `TRIM_AT` is cut back to the
 * last `KEPT` (one extra write every 64 refreshes instead of one per refresh). Enough history to
 * recognise any replay in practice while keeping the item small (< 6 KB).
 */
export const CONSUMED_REFRESH_HASHES = Object.freeze({ KEPT: 64, TRIM_AT: 128 });

/** Storage port for grants. Adapters throw `DependencyUnavailable` on any backend failure. */
export interface GrantStore {
  /** Throws `DependencyUnavailable` on failure; a new grant id never collides (128 random bits). */
  createGrant(grant: GrantRecord): Promise<void>;
  /** Strongly consistent read. */
  getGrant(grantId: string): Promise<GrantRecord | undefined>;
  /**
   * Redeems a refresh token (see `RefreshRedemption`): sets the new hashes and lifetimes, the access
   * scope, `issuedAt` = `rotatedAt` = `now`, and appends the presented hash to the consumed ones.
   * Answers the grant as written, or undefined when any condition failed: nothing was written, or an
   * SDK retry met this redemption's own earlier write (its answer lost). The caller reads the grant
   * to tell which, and why. Of concurrent redemptions of one token exactly one succeeds.
   */
  redeemRefreshToken(grantId: string, redemption: RefreshRedemption): Promise<GrantRecord | undefined>;
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
