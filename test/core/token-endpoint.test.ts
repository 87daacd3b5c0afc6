import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lambdas/core/audit-event';
import type { AuthCheck } from '../../lambdas/core/auth-check';
import type { GrantType } from '../../lambdas/core/grant-type';
import { OAuthError } from '../../lambdas/core/oauth-errors';
import { issueToken, type TokenHttpRequest } from '../../lambdas/core/token-endpoint';
import {
  DEFAULT_TOKEN_ENDPOINT_CONFIG,
  type TokenEndpointConfig,
} from '../../lambdas/core/token-endpoint-config';
import { hashSecret } from '../../lambdas/core/token-secrets';
import { verifyAccessToken } from '../../lambdas/core/verify-access-token';
import { InMemoryClientStore } from '../../lambdas/store/in-memory-client-store';
import { InMemoryGrantStore } from '../../lambdas/store/in-memory-grant-store';

const CLIENT_ID = 'client-1';
const CLIENT_SECRET = 'secret-1';

/** A frozen clock the test moves by hand. */
function frozenClock(startMs = Date.UTC(2026, 10, 28)) {
  let now = startMs;
  const clock = () => now;
  return Object.assign(clock, { advance: (seconds: number) => (now += seconds * 1000) });
}

const users: AuthCheck = {
  checkCredentials: async ({ username, password }) =>
    username === 'alice' && password === 'pw' ? 1234 : null,
};

function setup(overrides: Partial<TokenEndpointConfig> = {}) {
  const clients = new InMemoryClientStore();
  const grants = new InMemoryGrantStore();
  const clock = frozenClock();
  const audit: AuditEvent[] = [];
  const config = { ...DEFAULT_TOKEN_ENDPOINT_CONFIG, ...overrides };
  const deps = {
    clients,
    grants,
    authCheck: users,
    clock,
    random: randomBytes,
    audit: (e: AuditEvent) => audit.push(e),
  };
  const post = (form: Record<string, string>): TokenHttpRequest => ({
    method: 'POST',
    secure: true,
    contentType: 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    hasQueryParameters: false,
    body: () => new URLSearchParams(form).toString(),
  });
  const token = (form: Record<string, string>) => issueToken(post(form), config, deps);
  const login = () => token({ grant_type: 'password', username: 'alice', password: 'pw' });
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
  const isValid = (accessToken: string) =>
    verifyAccessToken(accessToken, { grants, clients, clock }, 'oauth2').then(
      () => true,
      () => false,
    );
  return { clients, grants, clock, audit, token, login, refresh, isValid };
}

const registerClient = (t: ReturnType<typeof setup>, grantTypes: GrantType[], scope: string[]) =>
  t.clients.createClient({
    clientId: CLIENT_ID,
    name: 'web',
    secretHash: hashSecret(CLIENT_SECRET),
    grantTypes,
    scope,
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
  });

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof OAuthError ? error.code : `unexpected: ${String(error)}`),
  );

describe('token endpoint core (in-memory stores, frozen clock)', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await registerClient(t, ['password', 'refresh_token', 'client_credentials'], ['profile', 'email']);
  });

  it('access tokens expire exactly at expires_in, judged by the injected clock', async () => {
    const issued = await t.login();
    t.clock.advance(3599);
    expect(await t.isValid(issued.access_token)).toBe(true);
    t.clock.advance(1);
    expect(await t.isValid(issued.access_token)).toBe(false);
  });

  it('refresh tokens expire after REFRESH_TOKEN_TTL_SECONDS (each new one gets a full lifetime)', async () => {
    t = setup({ refreshTokenTtlSeconds: 600 });
    await registerClient(t, ['password', 'refresh_token'], []);
    const first = await t.login();
    t.clock.advance(599);
    const second = await t.refresh(first.refresh_token as string);
    t.clock.advance(599);
    const third = await t.refresh(second.refresh_token as string);
    t.clock.advance(600);
    expect(await errorCode(t.refresh(third.refresh_token as string))).toBe('invalid_grant');
  });

  it('rotation: new pair each time, the old access token dies at once, user_id keeps its type', async () => {
    const first = await t.login();
    const second = await t.refresh(first.refresh_token as string, { user_id: '1234' });
    expect(second.user_id).toBe(1234);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await t.isValid(first.access_token)).toBe(false);
    expect(await t.isValid(second.access_token)).toBe(true);
  });

  it('replaying a consumed refresh token revokes every token of the grant (grace 0)', async () => {
    const first = await t.login();
    const second = await t.refresh(first.refresh_token as string);
    const third = await t.refresh(second.refresh_token as string);
    expect(await errorCode(t.refresh(first.refresh_token as string))).toBe('invalid_grant');
    expect(await t.isValid(third.access_token)).toBe(false);
    expect(await errorCode(t.refresh(third.refresh_token as string))).toBe('invalid_grant');
    expect(t.audit).toContainEqual(expect.objectContaining({ type: 'refresh_token_reused', revoked: true }));
  });

  it('a replay inside the grace window is refused without revoking; after it, it revokes', async () => {
    t = setup({ refreshReuseGraceSeconds: 10 });
    await registerClient(t, ['password', 'refresh_token'], []);
    const first = await t.login();
    const second = await t.refresh(first.refresh_token as string);
    t.clock.advance(10);
    expect(await errorCode(t.refresh(first.refresh_token as string))).toBe('invalid_grant');
    expect(await t.isValid(second.access_token)).toBe(true);
    t.clock.advance(1);
    expect(await errorCode(t.refresh(first.refresh_token as string))).toBe('invalid_grant');
    expect(await t.isValid(second.access_token)).toBe(false);
  });

  it('exactly one of N concurrent refreshes wins; with grace 0 the losers revoke the grant', async () => {
    const first = await t.login();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => errorCode(t.refresh(first.refresh_token as string))),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'invalid_grant')).toHaveLength(5);
  });

  it('scope on refresh narrows within the original grant, never beyond it', async () => {
    const first = await t.login();
    expect(first.scope).toBe('profile email');
    const narrowed = await t.refresh(first.refresh_token as string, { scope: 'email' });
    expect(narrowed.scope).toBe('email');
    // The grant keeps its original scope: the next refresh may widen back to it.
    const back = await t.refresh(narrowed.refresh_token as string);
    expect(back.scope).toBe('profile email');
    expect(await errorCode(t.refresh(back.refresh_token as string, { scope: 'admin' }))).toBe(
      'invalid_scope',
    );
  });

  it('a wrong user_id leaves the refresh token usable (nothing is consumed by a refused request)', async () => {
    const first = await t.login();
    expect(await errorCode(t.refresh(first.refresh_token as string, { user_id: '999' }))).toBe(
      'invalid_grant',
    );
    expect(await errorCode(t.refresh(first.refresh_token as string, { user_id: ' 1234' }))).toBe(
      'invalid_grant',
    );
    expect(await errorCode(t.refresh(first.refresh_token as string))).toBe('ok');
  });

  it('a client_credentials access token cannot be refreshed and has no user', async () => {
    const cc = await t.token({ grant_type: 'client_credentials' });
    expect(cc).not.toHaveProperty('refresh_token');
    expect(cc).not.toHaveProperty('user_id');
    expect(await errorCode(t.refresh(cc.access_token))).toBe('invalid_grant');
  });

  it('an access token presented as a refresh token is refused and does not revoke the grant', async () => {
    const first = await t.login();
    expect(await errorCode(t.refresh(first.access_token))).toBe('invalid_grant');
    expect(await t.isValid(first.access_token)).toBe(true);
  });

  it('audits issue and refusal with ids only', async () => {
    await t.login();
    await errorCode(t.token({ grant_type: 'password', username: 'alice', password: 'wrong-pw-value' }));
    expect(t.audit.map((e) => e.type)).toEqual(['token_issued', 'token_refused']);
    expect(JSON.stringify(t.audit)).not.toContain('wrong-pw-value');
    expect(JSON.stringify(t.audit)).not.toContain(CLIENT_SECRET);
  });
});
