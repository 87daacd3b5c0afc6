import { createPublicKey, randomBytes } from 'node:crypto';
import { noAudit } from '../lambdas/core/audit-event';
import type { AuthCheck } from '../lambdas/core/auth-check';
import { verifyJwtAccessToken } from '../lambdas/core/jwt-access-token';
import { generateSigningKey, privateKeyOf, publicJwkOf } from '../lambdas/core/signing-keys';
import { issueToken, type TokenHttpRequest } from '../lambdas/core/token-endpoint';
import { DEFAULT_TOKEN_ENDPOINT_CONFIG, type TokenEndpointDeps } from '../lambdas/core/token-endpoint-config';
import { hashSecret } from '../lambdas/core/token-secrets';
import { verifyAccessToken } from '../lambdas/core/verify-access-token';
import { createPooledRandomSource } from '../lambdas/handlers/pooled-random-source';
import { CachedClientStore } from '../lambdas/store/cached-client-store';
import { InMemoryClientStore } from '../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../lambdas/store/in-memory-grant-store';
import { InMemoryLockoutStore } from '../lambdas/store/in-memory-lockout-store';
import { BENCH_USER } from './bench-users';
import { basicAuthorization } from './in-process-lambdas';
import { mean, percentile, round } from './stats';

export type CoreOperation =
  | 'issue_password'
  | 'issue_client_credentials'
  | 'issue_refresh'
  | 'verify_access_token'
  | 'issue_password_jwt'
  | 'verify_jwt_access_token';

export interface CoreLatency {
  readonly operation: CoreOperation;
  readonly iterations: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

const CLIENT = { clientId: 'bench-client', clientSecret: 'bench-client-secret-0123456789abcdef' };
/** Round-robin pools: many grants, as a warm Lambda would see, rather than one hot item. */
const POOL = 256;

/** Answers at once: the AuthCheck's network call is I/O, which this measurement leaves out. */
const instantAuthCheck: AuthCheck = {
  checkCredentials: async ({ username, password }) =>
    username === BENCH_USER.username && password === BENCH_USER.password ? BENCH_USER.userId : null,
};

/**
 * The core alone: `issueToken` and `verifyAccessToken` in-process against the in-memory stores, the
 * real CSPRNG (drawn a pool at a time, as the token function does) and SHA-256, no HTTP, no DynamoDB, no logging. Each of `iterations` calls is timed on its
 * own (after `iterations / 5` untimed warm-up calls), so p99 includes GC pauses.
 */
export async function measureCoreLatency(iterations: number): Promise<CoreLatency[]> {
  const clients = new InMemoryClientStore();
  const grants = new InMemoryGrantStore();
  await clients.createClient({
    clientId: CLIENT.clientId,
    name: 'bench',
    secretHash: hashSecret(CLIENT.clientSecret),
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scope: [],
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
  });
  const deps: TokenEndpointDeps = {
    clients,
    grants,
    lockouts: new InMemoryLockoutStore(),
    lockoutKeySecret: async () => 'bench-lockout-key-secret-0123456789abcdef',
    authCheck: instantAuthCheck,
    clock: Date.now,
    // The token and authorize functions' source: the CSPRNG drawn a pool at a time.
    random: createPooledRandomSource(),
    audit: noAudit,
  };
  const config = DEFAULT_TOKEN_ENDPOINT_CONFIG;
  const authorization = basicAuthorization(CLIENT);
  const post = (form: Record<string, string>): TokenHttpRequest => {
    const body = new URLSearchParams(form).toString();
    return {
      method: 'POST',
      secure: true,
      contentType: 'application/x-www-form-urlencoded',
      authorization,
      hasQueryParameters: false,
      body: () => body,
    };
  };
  const passwordForm = {
    grant_type: 'password',
    username: BENCH_USER.username,
    password: BENCH_USER.password,
  };
  const login = () => issueToken(post(passwordForm), config, deps);

  const refreshTokens = await Promise.all(
    Array.from({ length: POOL }, async () => (await login()).refresh_token),
  );
  const accessTokens = await Promise.all(
    Array.from({ length: POOL }, async () => (await login()).access_token),
  );
  // As in the authorizer Lambda: the client read is absorbed by the short in-memory cache.
  const verifyDeps = { grants, clients: new CachedClientStore(clients, 30_000, Date.now), clock: Date.now };

  // JWT mode: the same grant with an RS256 signature (the key cached in memory, as the token Lambda
  // keeps it), and the local verification our authorizer does (RS256, typ, iss, exp; key by kid).
  const ISSUER = 'https://auth.example.com';
  const key = generateSigningKey(randomBytes, 0, 0);
  const active = { kid: key.kid, privateKey: privateKeyOf(key) };
  const publicKey = createPublicKey({ key: { ...publicJwkOf(key.kid, key.privateKeyPem) }, format: 'jwk' });
  const jwtConfig = { ...config, accessTokenFormat: 'jwt' as const, issuer: ISSUER };
  const jwtDeps: TokenEndpointDeps = { ...deps, signingKey: async () => active };
  const jwtLogin = () => issueToken(post(passwordForm), jwtConfig, jwtDeps);
  const jwts = await Promise.all(Array.from({ length: POOL }, async () => (await jwtLogin()).access_token));
  const lookup = async (kid: string) => (kid === key.kid ? publicKey : undefined);

  const results: CoreLatency[] = [];
  results.push(await time('issue_password', iterations, () => login()));
  results.push(
    await time('issue_client_credentials', iterations, () =>
      issueToken(post({ grant_type: 'client_credentials' }), config, deps),
    ),
  );
  results.push(
    await time('issue_refresh', iterations, async (i) => {
      const slot = i % POOL;
      const answer = await issueToken(
        post({ grant_type: 'refresh_token', refresh_token: String(refreshTokens[slot]) }),
        config,
        deps,
      );
      refreshTokens[slot] = answer.refresh_token;
    }),
  );
  results.push(
    await time('verify_access_token', iterations, (i) =>
      verifyAccessToken(accessTokens[i % POOL], verifyDeps, 'oauth2'),
    ),
  );
  results.push(await time('issue_password_jwt', iterations, () => jwtLogin()));
  results.push(
    await time('verify_jwt_access_token', iterations, (i) =>
      verifyJwtAccessToken(String(jwts[i % POOL]), lookup, { issuer: ISSUER }, Math.floor(Date.now() / 1000)),
    ),
  );
  return results;
}

async function time(
  operation: CoreOperation,
  iterations: number,
  call: (i: number) => Promise<unknown>,
): Promise<CoreLatency> {
  const warmup = Math.ceil(iterations / 5);
  for (let i = 0; i < warmup; i += 1) await call(i);
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i += 1) {
    const started = process.hrtime.bigint();
    await call(warmup + i);
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  const list = Array.from(samples);
  return {
    operation,
    iterations,
    p50Us: round(percentile(list, 50)),
    p99Us: round(percentile(list, 99)),
    meanUs: round(mean(list)),
  };
}
