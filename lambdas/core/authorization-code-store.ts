import type { UserId } from './auth-check';

/**
 * One authorization code (RFC 6749 §4.1.2), stored under the SHA-256 hash of the code only. Bound to
 * the client, the redirect URI, the PKCE challenge (RFC 7636 §4.4), the user and the scope. Times are
 * epoch seconds.
 */
export interface AuthorizationCodeRecord {
  readonly codeHash: string;
  readonly clientId: string;
  /** The redirect URI the code was sent to (the one the request named, or the only registered one). */
  readonly redirectUri: string;
  /** True when the authorization request carried `redirect_uri`: the token request must repeat it (§4.1.3). */
  readonly redirectUriSent: boolean;
  /** BASE64URL(SHA-256(code_verifier)); only S256 is accepted. */
  readonly codeChallenge: string;
  readonly userId: UserId;
  readonly scope: readonly string[];
  readonly issuedAt: number;
  /** The code is refused from this second on. */
  readonly codeExpiresAt: number;
  /** Set by the one redemption that succeeded. */
  readonly redeemedAt?: number;
  /** The grant the redemption issued: revoked when the code comes back (§4.1.2). */
  readonly grantId?: string;
  /** Set when a used code came back; the first use checks it after writing its grant. */
  readonly replayedAt?: number;
  /** When the item may be deleted (DynamoDB TTL): the code's expiry, then the issued tokens' expiry. */
  readonly expiresAt: number;
}

/** A code presented at the token endpoint, and what its redemption writes. */
export interface CodeRedemption {
  readonly clientId: string;
  /** BASE64URL(SHA-256(code_verifier)) of the presented verifier. */
  readonly codeChallenge: string;
  /** The token request's `redirect_uri`; absent when it sent none. */
  readonly redirectUri?: string;
  readonly now: number;
  /** Id of the grant about to be issued from this code. */
  readonly grantId: string;
  /** The item is kept this long, so a replay is recognised while any issued token lives. */
  readonly expiresAt: number;
}

/** Storage port for authorization codes. Adapters throw `DependencyUnavailable` on any backend failure. */
export interface AuthorizationCodeStore {
  createCode(code: AuthorizationCodeRecord): Promise<void>;
  /** Strongly consistent read. */
  getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * Redeems a code in one conditional write that is also the whole check: the code exists, belongs to
   * `clientId`, has this challenge, is unexpired at `now`, was never redeemed, and the redirect URI
   * agrees (equal when the redemption names one; else the authorization request must not have sent
   * one). Sets `redeemedAt`, `grantId` and `expiresAt`. Answers the code as written, or undefined
   * when any condition failed (nothing was written). Of concurrent redemptions exactly one succeeds.
   */
  redeemCode(codeHash: string, redemption: CodeRedemption): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * Marks a redeemed code as presented again (keeps the first time). Answers the code as it is now,
   * or undefined when there is no such code.
   */
  markReplayed(codeHash: string, at: number): Promise<AuthorizationCodeRecord | undefined>;
}

/** The conditions of `redeemCode`, in one place for every adapter that checks them in code. */
export function redemptionAllowed(code: AuthorizationCodeRecord, redemption: CodeRedemption): boolean {
  return (
    code.clientId === redemption.clientId &&
    code.codeChallenge === redemption.codeChallenge &&
    code.codeExpiresAt > redemption.now &&
    code.redeemedAt === undefined &&
    (redemption.redirectUri === undefined
      ? !code.redirectUriSent
      : redemption.redirectUri === code.redirectUri)
  );
}
