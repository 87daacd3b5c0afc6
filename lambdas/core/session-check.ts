import type { UserId } from './auth-check';

/**
 * The deployer's cookie-session check (the original's OauthTktAuthenticationPolicy, cookie half):
 * resolves to the user id of a valid session and `null` otherwise; rejects with
 * `DependencyUnavailable` when the check itself failed.
 */
export interface SessionCheck {
  checkSession(cookie: string): Promise<UserId | null>;
}
