import type { AuditSink } from './audit-event';
import type { AuthCheck } from './auth-check';
import type { FormEndpointConfig } from './authenticated-form-request';
import type { AuthorizationCodeStore } from './authorization-code-store';
import type { ClientStore } from './client-store';
import type { Clock } from './clock';
import type { GrantStore } from './grant-store';
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy, type LockoutStore } from './password-lockout';
import type { RandomSource } from './random-source';
import type { CurrentSigningKey } from './signing-keys';

/** Opaque `<grant id>.<secret>` tokens (one read per check) or RFC 9068 JWTs (checked with no read). */
export type AccessTokenFormat = 'opaque' | 'jwt';
export const ACCESS_TOKEN_FORMATS: readonly AccessTokenFormat[] = Object.freeze(['opaque', 'jwt']);
export const isAccessTokenFormat = (value: unknown): value is AccessTokenFormat =>
  value === 'opaque' || value === 'jwt';

/** `requireSsl` and `realm` (see `FormEndpointConfig`) plus the token lifetimes. */
export interface TokenEndpointConfig extends FormEndpointConfig {
  readonly accessTokenTtlSeconds: number;
  /** Each refresh token lives this long from its issue; every refresh issues a new one. */
  readonly refreshTokenTtlSeconds: number;
  /**
   * The absolute cap of a login: no refresh token of a grant works, or is issued to work, past the
   * grant's creation plus this, however often it was refreshed (the user signs in again).
   */
  readonly refreshTokenMaxLifetimeSeconds: number;
  /**
   * A refresh token replayed within this many seconds after it was exchanged is refused without
   * revoking the grant (tolerates a client's own duplicate requests). 0 = every replay is a breach
   * and revokes the grant (RFC 9700 §4.14.2).
   */
  readonly refreshReuseGraceSeconds: number;
  /** Per-username lockout of the password grant. */
  readonly lockout: LockoutPolicy;
  /** The service's access-token format; a client's `accessTokenFormat` overrides it. */
  readonly accessTokenFormat: AccessTokenFormat;
  /**
   * Default lifetime of a JWT access token (a client's own lifetime wins). Short, because a JWT lives
   * until `exp` at a checker that reads nothing: 900 s unless configured.
   */
  readonly jwtAccessTokenTtlSeconds: number;
  /** `aud` of a JWT when neither `resource` nor the client names one; absent: the issuer. */
  readonly accessTokenAudience?: string;
  /** `iss` of JWTs (the metadata's issuer); absent: the base URL the request reached. */
  readonly issuer?: string;
}

export interface TokenEndpointDeps {
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly authCheck: AuthCheck;
  readonly lockouts: LockoutStore;
  /** Authorization codes; absent: every code is refused (`invalid_grant`). The Lambdas always pass it. */
  readonly codes?: AuthorizationCodeStore;
  /** The HMAC secret of lockout keys (see `lockoutKeyOf`); read per request, may be fetched. */
  readonly lockoutKeySecret: () => Promise<string>;
  /** Waits between lockout reservation tries; a timer unless a test replaces it. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly audit: AuditSink;
  /** The key that signs JWT access tokens now; absent: no client may have JWTs (503 if one does). */
  readonly signingKey?: CurrentSigningKey;
}

const DAY = 24 * 3600;

/** Allowed token lifetimes, service-wide (environment) and per client (admin) alike. */
export const TOKEN_LIFETIME_BOUNDS = Object.freeze({
  access: Object.freeze({ min: 60, max: DAY }),
  refresh: Object.freeze({ min: 60, max: 365 * DAY }),
  /** The absolute cap of a grant's refresh tokens (`refreshTokenMaxLifetimeSeconds`). */
  refreshMax: Object.freeze({ min: 60, max: 10 * 365 * DAY }),
});

export const DEFAULT_TOKEN_ENDPOINT_CONFIG: TokenEndpointConfig = Object.freeze({
  requireSsl: true,
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
  refreshTokenMaxLifetimeSeconds: 90 * 24 * 3600,
  refreshReuseGraceSeconds: 0,
  lockout: DEFAULT_LOCKOUT_POLICY,
  realm: 'oauth2',
  accessTokenFormat: 'opaque',
  jwtAccessTokenTtlSeconds: 900,
});

/** JWT mode's default access-token lifetime. */
export const DEFAULT_JWT_ACCESS_TOKEN_TTL_SECONDS = 900;
