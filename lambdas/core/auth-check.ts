/** The user id as the AuthCheck returned it; its JSON type is preserved end to end. */
export type UserId = string | number;

export interface AuthCheckRequest {
  readonly username: string;
  readonly password: string;
  readonly clientId: string;
}

/**
 * The deployer's own credential check (the original's IAuthCheck).
 * Resolves to the user id when the credentials are valid and to `null` when they are not;
 * rejects with `DependencyUnavailable` when the check itself failed, timed out or answered
 * something malformed. Implementations must never put the password in an error or a log.
 */
export interface AuthCheck {
  checkCredentials(request: AuthCheckRequest): Promise<UserId | null>;
}

/** A user id we accept from an AuthCheck: a non-empty string (≤ 256 chars) or a finite safe number. */
export const isValidUserId = (value: unknown): value is UserId =>
  (typeof value === 'string' && value.length > 0 && value.length <= 256) ||
  (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER);

/** One key per user whatever JSON type the AuthCheck used: 1234 and "1234" are the same user. */
export const userKeyOf = (userId: UserId): string => String(userId);
