import type { KeyObject } from 'node:crypto';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { isValidUserId, type UserId } from './auth-check';
import { type ActiveSigningKey, JWT_ALG, JWT_TYP } from './signing-keys';

/** At most this much clock skew between us and a verifier (exp, nbf, iat). */
export const JWT_CLOCK_TOLERANCE_SECONDS = 60;

/** The RFC 9068 claims of one access token. Times are epoch seconds. */
export interface JwtAccessTokenClaims {
  readonly issuer: string;
  /** The user id as a string for user grants, the client id for client_credentials (RFC 9068 §2.2). */
  readonly subject: string;
  readonly clientId: string;
  readonly audience: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly jti: string;
  readonly scope: readonly string[];
  /** With its JSON type, for user grants only. */
  readonly userId?: UserId;
}

/** Signs an access token: RS256, header `alg`, `kid`, `typ: at+jwt` (RFC 9068 §2.1). */
export async function signAccessToken(claims: JwtAccessTokenClaims, key: ActiveSigningKey): Promise<string> {
  const payload: JWTPayload = {
    client_id: claims.clientId,
    ...(claims.scope.length === 0 ? {} : { scope: claims.scope.join(' ') }),
    ...(claims.userId === undefined ? {} : { user_id: claims.userId }),
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: JWT_ALG, kid: key.kid, typ: JWT_TYP })
    .setIssuer(claims.issuer)
    .setSubject(claims.subject)
    .setAudience(claims.audience.length === 1 ? (claims.audience[0] as string) : [...claims.audience])
    .setIssuedAt(claims.issuedAt)
    .setExpirationTime(claims.expiresAt)
    .setJti(claims.jti)
    .sign(key.privateKey);
}

/** A JWS compact serialization: three base64url parts (our opaque tokens have two). */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export const isJwtShaped = (token: string): boolean => token.length <= 8192 && JWS_COMPACT.test(token);

/**
 * The jti is `<grant id>.<256 random bits>`: it names the grant (for introspection, revocation and the
 * optional revocation check) and the grant stores only its hash. It is not an opaque token: the grant
 * stores `hashSecret(jti)`, never the hash of its second part, so presenting it as one fails.
 */
export const formatJti = (grantId: string, secret: string): string => `${grantId}.${secret}`;

export function grantIdOfJti(jti: string): string | undefined {
  const dot = jti.indexOf('.');
  if (dot <= 0 || jti.length > 256) return undefined;
  const grantId = jti.slice(0, dot);
  return /^[A-Za-z0-9_-]+$/.test(grantId) ? grantId : undefined;
}

/** What a verified JWT says, as our authorizer and introspection use it. */
export interface VerifiedJwtAccessToken {
  readonly jti: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly subject: string;
  readonly userId?: UserId;
  readonly scope: readonly string[];
  /** `aud` as a list, so route requirements can compare it. */
  readonly audiences: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly kid: string;
}

/** Public key lookup by `kid` (the verifier's cache); undefined for an unknown or removed kid. */
export type PublicKeyLookup = (kid: string) => Promise<KeyObject | undefined>;

export interface JwtVerificationOptions {
  /** Must equal `iss` exactly. */
  readonly issuer: string;
  /** When set, `aud` must contain one of these. */
  readonly audience?: readonly string[];
}

/** Why a JWT was refused (for the log only; the client hears `invalid_token`). */
export class JwtRejected extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'JwtRejected';
  }
}

/**
 * Verifies an access token locally: RS256 only (so `none` and HS256-with-the-public-key fail before
 * any key is used), the key chosen by `kid`, `typ` at+jwt, `iss`, `exp`/`nbf` with at most 60 s skew,
 * `aud` when configured, and the claims RFC 9068 requires. Throws `JwtRejected` for any failure.
 */
export async function verifyJwtAccessToken(
  token: string,
  lookup: PublicKeyLookup,
  options: JwtVerificationOptions,
  now: number,
): Promise<VerifiedJwtAccessToken> {
  let kid = '';
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header) => {
        if (header.alg !== JWT_ALG) throw new JwtRejected(`algorithm ${String(header.alg)} refused`);
        if (typeof header.kid !== 'string' || header.kid === '') throw new JwtRejected('no kid');
        kid = header.kid;
        const key = await lookup(header.kid);
        if (key === undefined) throw new JwtRejected('unknown kid');
        return key;
      },
      {
        algorithms: [JWT_ALG],
        typ: JWT_TYP,
        issuer: options.issuer,
        ...(options.audience === undefined || options.audience.length === 0
          ? {}
          : { audience: [...options.audience] }),
        clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now * 1000),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      },
    ));
  } catch (error) {
    if (error instanceof JwtRejected) throw error;
    throw new JwtRejected(error instanceof Error ? `${error.name}: ${error.message}` : 'invalid JWT', {
      cause: error,
    });
  }
  const { jti, sub, client_id: clientId, scope, user_id: userId, aud, iat, exp } = payload;
  const grantId = typeof jti === 'string' ? grantIdOfJti(jti) : undefined;
  if (grantId === undefined || typeof jti !== 'string') throw new JwtRejected('malformed jti');
  if (typeof clientId !== 'string' || typeof sub !== 'string') throw new JwtRejected('malformed client_id');
  if (scope !== undefined && typeof scope !== 'string') throw new JwtRejected('malformed scope');
  if (userId !== undefined && !isValidUserId(userId)) throw new JwtRejected('malformed user_id');
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new JwtRejected('malformed iat/exp');
  return {
    jti,
    grantId,
    clientId,
    subject: sub,
    ...(userId === undefined ? {} : { userId }),
    scope: scope === undefined || scope === '' ? [] : scope.split(' '),
    audiences: typeof aud === 'string' ? [aud] : [...(aud ?? [])],
    issuedAt: iat,
    expiresAt: exp,
    kid,
  };
}
