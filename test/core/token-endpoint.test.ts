import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../lambdas/core/admin-actions';
import type { AuditEvent } from '../../lambdas/core/audit-event';
import type { AuthCheck } from '../../lambdas/core/auth-check';
import type { ClientRecord } from '../../lambdas/core/client-store';
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
import { InMemoryLockoutStore } from '../../lambdas/store/in-memory-lockout-store';
import { testLockoutKeySecret } from '../support/lockout-key-secret';
import { tokenFormRequest } from '../support/token-form-request';

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
  const checked: string[] = [];
  const authCheck: AuthCheck = {
    checkCredentials: (request) => {
      checked.push(request.username);
      return users.checkCredentials(request);
    },
  };
  const clients = new InMemoryClientStore();
  const grants = new InMemoryGrantStore();
  const clock = frozenClock();
  const audit: AuditEvent[] = [];
  const config = { ...DEFAULT_TOKEN_ENDPOINT_CONFIG, ...overrides };
  const deps = {
    clients,
    grants,
    lockouts: new InMemoryLockoutStore(),
    lockoutKeySecret: testLockoutKeySecret,
    authCheck,
    clock,
    random: randomBytes,
    audit: (e: AuditEvent) => audit.push(e),
  };
  const post = (form: Record<string, string>): TokenHttpRequest =>
    tokenFormRequest({ id: CLIENT_ID, secret: CLIENT_SECRET }, form);
  const token = (form: Record<string, string>) => issueToken(post(form), config, deps);
  const login = () => token({ grant_type: 'password', username: 'alice', password: 'pw' });
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
  const isValid = (accessToken: string) =>
    verifyAccessToken(accessToken, { grants, clients, clock }, 'oauth2').then(
      () => true,
      () => false,
    );
  /** Every username the AuthCheck was asked about, in order. */
  return { clients, grants, clock, audit, checked, deps, token, login, refresh, isValid };
}

const registerClient = (
  t: ReturnType<typeof setup>,
  grantTypes: GrantType[],
  scope: string[],
  extra: Partial<ClientRecord> = {},
) =>
  t.clients.createClient({
    clientId: CLIENT_ID,
    name: 'web',
    secretHash: hashSecret(CLIENT_SECRET),
    grantTypes,
    scope,
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  });

/** The OAuth error a promise rejected with (fails the test if it resolved or threw anything else). */
const oauthErrorOf = (promise: Promise<unknown>): Promise<OAuthError> =>
  promise.then(
    () => expect.fail('expected an OAuth error'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(OAuthError);
      return error as OAuthError;
    },
  );

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

describe('a client disabled while a grant is being issued', () => {
  /**
   * The token request reads the client (enabled), then disable-client runs its first sweep, and only
   * then is the grant written. The issuance path no longer re-reads the client (issue 13): the grant
   * is caught by disable-client's second sweep, which waits past the token function's timeout.
   */
  async function race(secondSweepSeconds: number) {
    const t = setup();
    await registerClient(t, ['password'], []);
    let releaseAuthCheck: () => void = () => {};
    const authCheckHeld = new Promise<void>((resolve) => {
      releaseAuthCheck = resolve;
    });
    const slowCheck: AuthCheck = {
      checkCredentials: async (request) => {
        await authCheckHeld;
        return users.checkCredentials(request);
      },
    };
    const slept: number[] = [];
    const body = new URLSearchParams({
      grant_type: 'password',
      username: 'alice',
      password: 'pw',
    }).toString();
    const issuing = issueToken(
      {
        method: 'POST',
        secure: true,
        contentType: 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        hasQueryParameters: false,
        body: () => body,
      },
      DEFAULT_TOKEN_ENDPOINT_CONFIG,
      { ...t.deps, authCheck: slowCheck },
    );
    const disabling = runAdminCommand(
      { action: 'disable-client', clientId: CLIENT_ID },
      {
        clients: t.clients,
        grants: t.grants,
        lockouts: new InMemoryLockoutStore(),
        lockoutKeySecret: testLockoutKeySecret,
        clock: t.clock,
        random: randomBytes,
        audit: () => {},
        config: { disableClientSecondSweepSeconds: secondSweepSeconds },
        // While disable-client waits between its sweeps, the token request writes its grant.
        sleep: async (ms) => {
          slept.push(ms);
          releaseAuthCheck();
          await issuing.catch(() => undefined);
        },
      },
    );
    const disabled = await disabling;
    releaseAuthCheck();
    const issued = await issuing;
    const [grantId] = await t.grants.listGrantIdsByClient(CLIENT_ID);
    const revoked = (await t.grants.getGrant(grantId ?? ''))?.revokedAt !== undefined;
    return { t, issued, disabled, slept, revoked };
  }

  it('revokes the grant written after the first sweep before disable-client answers', async () => {
    const { t, issued, disabled, slept, revoked } = await race(30);
    expect(slept).toEqual([30_000]);
    expect(disabled).toMatchObject({ action: 'disable-client', revokedGrants: 1 });
    expect(revoked).toBe(true);
    expect(await t.isValid(issued.access_token)).toBe(false);
  });

  it('without the wait the grant written in the race escapes both sweeps (why the wait is there)', async () => {
    const { slept, revoked } = await race(0);
    expect(slept).toEqual([]);
    expect(revoked).toBe(false);
  });
});

describe('password grant lockout per username (Cognito-like)', () => {
  let t: ReturnType<typeof setup>;
  const attempt = (password: string, username = 'alice') =>
    t.token({ grant_type: 'password', username, password });
  const fail = (times: number, username = 'alice') =>
    Promise.all(Array.from({ length: times }, () => errorCode(attempt('wrong', username))));

  beforeEach(async () => {
    t = setup();
    await registerClient(t, ['password', 'refresh_token'], []);
  });

  it('after 5 consecutive failures refuses even the right password, without asking the AuthCheck', async () => {
    for (let i = 0; i < 5; i += 1) {
      const error = await oauthErrorOf(attempt('wrong'));
      expect([error.code, error.description]).toEqual([
        'invalid_grant',
        'The username or password is incorrect',
      ]);
    }
    expect(t.checked).toHaveLength(5);

    const right = await oauthErrorOf(attempt('pw'));
    const wrong = await oauthErrorOf(attempt('wrong'));
    // The same answer either way: nothing tells a guesser that the password was right.
    for (const error of [right, wrong]) {
      expect(error.code).toBe('invalid_grant');
      expect(error.status).toBe(400);
      expect(error.description).toBe('Too many failed sign-in attempts for this username; try again later');
      expect(error.headers).toEqual({ 'Retry-After': '60' });
    }
    expect(t.checked).toHaveLength(5);
  });

  it('locks for 60 s, doubling per further failure, capped at 15 minutes', async () => {
    await fail(5);
    const windows: string[] = [];
    for (let round = 0; round < 7; round += 1) {
      const refused = await oauthErrorOf(attempt('pw'));
      const seconds = Number(refused.headers['Retry-After']);
      windows.push(String(seconds));
      t.clock.advance(seconds - 1);
      expect((await oauthErrorOf(attempt('pw'))).description).toMatch(/^Too many/);
      t.clock.advance(1);
      await fail(1); // asked again, wrong again: one more failure
    }
    expect(windows).toEqual(['60', '120', '240', '480', '900', '900', '900']);
    expect(t.checked).toHaveLength(5 + 7);
  });

  it('a success resets the count', async () => {
    await fail(4);
    expect((await t.login()).access_token).toBeDefined();
    await fail(4);
    expect((await t.login()).access_token).toBeDefined();

    await fail(5);
    t.clock.advance(60);
    expect((await t.login()).access_token).toBeDefined();
    await fail(4);
    expect((await t.login()).access_token).toBeDefined();
  });

  it('forgets failures after twice the cap without one (30 minutes by default)', async () => {
    await fail(4);
    t.clock.advance(1800);
    await fail(1);
    expect((await t.login()).access_token).toBeDefined();
  });

  it('counts per username; case and Unicode variants of one name share a counter', async () => {
    await fail(5, 'bob');
    expect((await t.login()).access_token).toBeDefined();
    await fail(2, 'ALICE');
    await fail(2, 'Alice');
    await fail(1, 'ａｌｉｃｅ'); // fullwidth: NFKC folds it to alice
    expect((await oauthErrorOf(attempt('pw'))).description).toMatch(/^Too many/);
  });

  // Before issue 10 all 8 reached the AuthCheck and counted (a 480 s lock); now each attempt reserves
  // a slot first, so no more than the threshold are checked, and the rest are refused unchecked.
  it('lets no more than the threshold of concurrent failures reach the AuthCheck, and locks', async () => {
    const codes = await fail(8);
    expect(t.checked).toHaveLength(5);
    expect(codes.every((code) => code === 'invalid_grant' || code === 'temporarily_unavailable')).toBe(true);
    expect((await oauthErrorOf(attempt('pw'))).headers).toEqual({ 'Retry-After': '60' });
    expect(t.checked).toHaveLength(5);
  });

  it('audits the lock with the username hash, never the name or the password', async () => {
    await fail(5);
    const locked = t.audit.filter((event) => event.type === 'username_locked');
    expect(locked).toEqual([
      {
        type: 'username_locked',
        clientId: CLIENT_ID,
        lockoutKey: expect.any(String),
        failures: 5,
        lockedSeconds: 60,
      },
    ]);
    expect(JSON.stringify(t.audit)).not.toMatch(/alice|wrong/);
  });

  it('follows its configuration; threshold 0 turns it off', async () => {
    t = setup({ lockout: { threshold: 2, baseSeconds: 5, maxSeconds: 7 } });
    await registerClient(t, ['password'], []);
    await fail(2);
    expect((await oauthErrorOf(attempt('pw'))).headers).toEqual({ 'Retry-After': '5' });
    t.clock.advance(5);
    await fail(1);
    expect((await oauthErrorOf(attempt('pw'))).headers).toEqual({ 'Retry-After': '7' });

    t = setup({ lockout: { threshold: 0, baseSeconds: 60, maxSeconds: 900 } });
    await registerClient(t, ['password'], []);
    await fail(20);
    expect((await t.login()).access_token).toBeDefined();
  });
});

describe('the absolute cap of a login (issue 10, finding 5)', () => {
  const DAY = 86_400;
  // 30-day refresh tokens, 90 days at most from the login, however often refreshed.
  const config = { refreshTokenTtlSeconds: 30 * DAY, refreshTokenMaxLifetimeSeconds: 90 * DAY };

  it('refuses a refresh once the grant is 90 days old, even with a fresh refresh token', async () => {
    const t = setup(config);
    await registerClient(t, ['password', 'refresh_token'], []);
    let body = await t.login();
    const grantId = String(body.refresh_token).split('.')[0] ?? '';
    // Refresh every 20 days: each new token would live 30 more days.
    for (let day = 20; day < 90; day += 20) {
      t.clock.advance(20 * DAY);
      body = await t.refresh(String(body.refresh_token));
      const grant = await t.grants.getGrant(grantId);
      // Never past the cap: day 80's token ends at day 90, not day 110.
      expect(grant?.refreshExpiresAt).toBe((grant?.createdAt ?? 0) + Math.min(day + 30, 90) * DAY);
    }
    t.clock.advance(10 * DAY); // day 90
    const refused = await oauthErrorOf(t.refresh(String(body.refresh_token)));
    expect([refused.code, refused.status]).toEqual(['invalid_grant', 400]);
    expect(refused.description).toBe('The refresh token is invalid, expired or revoked');
  });

  it('refuses a replay of a token older than the remembered rotations, but does not see it as reuse', async () => {
    const t = setup();
    await registerClient(t, ['password', 'refresh_token'], []);
    const first = await t.login();
    let body = first;
    // 128 rotations: the list of consumed hashes reaches 128 and is cut back to the last 64.
    for (let i = 0; i < 128; i += 1) body = await t.refresh(String(body.refresh_token));
    const replay = await oauthErrorOf(t.refresh(String(first.refresh_token)));
    expect(replay.code).toBe('invalid_grant');
    expect(t.audit.filter((event) => event.type === 'refresh_token_reused')).toEqual([]);
    // Not revoked: the current pair still works.
    expect(await t.isValid(String(body.access_token))).toBe(true);
    expect((await t.refresh(String(body.refresh_token))).access_token).toBeDefined();
  });

  it('caps the first refresh token too, for a client whose own refresh lifetime is longer', async () => {
    const t = setup(config);
    await registerClient(t, ['password', 'refresh_token'], [], { refreshTokenTtlSeconds: 365 * DAY });
    const body = await t.login();
    const grant = await t.grants.getGrant(String(body.refresh_token).split('.')[0] ?? '');
    expect((grant?.refreshExpiresAt ?? 0) - (grant?.createdAt ?? 0)).toBe(90 * DAY);
  });
});

describe('per-client scope and lifetimes', () => {
  let t: ReturnType<typeof setup>;

  it('no scope requested: the client default scope; outside the allowed list: invalid_scope', async () => {
    t = setup();
    await registerClient(t, ['password', 'client_credentials'], ['profile', 'email', 'admin'], {
      defaultScope: ['profile'],
    });
    expect((await t.login()).scope).toBe('profile');
    expect((await t.token({ grant_type: 'client_credentials' })).scope).toBe('profile');
    const wider = await t.token({
      grant_type: 'password',
      username: 'alice',
      password: 'pw',
      scope: 'email admin',
    });
    expect(wider.scope).toBe('email admin');
    expect(
      await errorCode(
        t.token({ grant_type: 'password', username: 'alice', password: 'pw', scope: 'profile root' }),
      ),
    ).toBe('invalid_scope');
    expect(await errorCode(t.token({ grant_type: 'client_credentials', scope: 'root' }))).toBe(
      'invalid_scope',
    );
  });

  it('an empty default scope issues an unscoped token unless a scope is asked for', async () => {
    t = setup();
    await registerClient(t, ['password'], ['profile'], { defaultScope: [] });
    expect(await t.login()).not.toHaveProperty('scope');
    expect(
      (await t.token({ grant_type: 'password', username: 'alice', password: 'pw', scope: 'profile' })).scope,
    ).toBe('profile');
  });

  it('per-client lifetimes override the service defaults for every grant and every refresh', async () => {
    t = setup();
    await registerClient(t, ['password', 'refresh_token', 'client_credentials'], [], {
      accessTokenTtlSeconds: 300,
      refreshTokenTtlSeconds: 900,
    });
    const first = await t.login();
    expect(first.expires_in).toBe(300);
    expect((await t.token({ grant_type: 'client_credentials' })).expires_in).toBe(300);
    t.clock.advance(299);
    expect(await t.isValid(first.access_token)).toBe(true);
    t.clock.advance(1);
    expect(await t.isValid(first.access_token)).toBe(false);

    const second = await t.refresh(first.refresh_token as string);
    expect(second.expires_in).toBe(300);
    t.clock.advance(900);
    expect(await errorCode(t.refresh(second.refresh_token as string))).toBe('invalid_grant');
  });
});
