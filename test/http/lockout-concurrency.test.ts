import { createHash, createHmac } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { basicAuthorization, expectNoStoreJson, type HeaderOverrides } from '../support/api-gateway-events';
import { TEST_LOCKOUT_KEY_SECRET } from '../support/lockout-key-secret';
import {
  type Client,
  formPost,
  type ProxyHandler,
  startTokenServiceFixture,
  type TokenServiceFixture,
  withContext,
} from '../support/token-service-fixture';

// Issue 10, findings 1 and 4, over the token Lambda as deployed: dynalite behind the recording proxy,
// a real loopback AuthCheck hook that counts every call it gets.

const THRESHOLD = 5;
const USERS = {
  alice: { password: 'alice-right-password', userId: 'u-alice' },
  carol: { password: 'carol-right-password', userId: 'u-carol' },
  dave: { password: 'dave-right-password', userId: 'u-dave' },
  erin: { password: 'erin-right-password', userId: 'u-erin' },
  frank: { password: 'frank-right-password', userId: 'u-frank' },
  'seq-user': { password: 'seq-right-password', userId: 'u-seq' },
};

let svc: TokenServiceFixture;
let client: Client;
let token: ProxyHandler;
/**
 * The token Lambda with a generous per-call DynamoDB timeout: a burst puts dozens of calls on one
 * item at once, which dynalite serialises, on a machine shared with other test runs.
 */
const tokenLambda = (extra: Record<string, string> = {}) =>
  withContext(buildTokenLambda(svc.environment({ DYNAMODB_TIMEOUT_MS: '10000', ...extra })), 'token');

beforeAll(async () => {
  svc = await startTokenServiceFixture('lockout-concurrency', USERS);
  client = await svc.registerClient({ grantTypes: ['password', 'refresh_token'] });
  token = tokenLambda();
}, 60_000);

afterAll(async () => {
  await svc?.stop();
});

beforeEach(() => {
  svc.hook.reset();
});

const signIn = (username: string, password: string, headers: HeaderOverrides = {}) =>
  token(formPost('/oauth2/token', client, { grant_type: 'password', username, password }, headers));

type Outcome = 'ok' | 'wrong' | 'locked' | 'unavailable' | 'invalid_client';

const outcomeOf = (result: APIGatewayProxyResult): Outcome => {
  const body = expectNoStoreJson(result) as { error?: string; error_description?: string };
  if (result.statusCode === 200) return 'ok';
  if (result.statusCode === 503 && body.error === 'temporarily_unavailable') {
    expect(result.headers?.['Retry-After']).toBe('1');
    return 'unavailable';
  }
  if (result.statusCode === 401 && body.error === 'invalid_client') return 'invalid_client';
  expect([result.statusCode, body.error]).toEqual([400, 'invalid_grant']);
  if (body.error_description?.startsWith('Too many failed sign-in attempts')) {
    expect(Number(result.headers?.['Retry-After'])).toBeGreaterThan(0);
    return 'locked';
  }
  expect(body.error_description).toBe('The username or password is incorrect');
  return 'wrong';
};

const count = (outcomes: readonly Outcome[], outcome: Outcome) =>
  outcomes.filter((o) => o === outcome).length;
const hookCalls = (username: string, password?: string) =>
  svc.hook.requests.filter(
    (r) => r.username === username && (password === undefined || r.password === password),
  ).length;

const lockoutItems = async () => {
  const { Items = [] } = await svc.dynamo.doc.send(
    new ScanCommand({ TableName: svc.tables.grants, ConsistentRead: true }),
  );
  return Items.filter((item) => String(item.grantId).startsWith('lockout#'));
};
const keyOf = (canonical: string) =>
  `lockout#${createHmac('sha256', TEST_LOCKOUT_KEY_SECRET).update(canonical, 'utf8').digest('base64url')}`;
const lockoutItem = async (canonical: string) =>
  (await lockoutItems()).find((item) => item.grantId === keyOf(canonical));

describe('the lockout under concurrency (issue 10, finding 1)', () => {
  it('a burst of 40 concurrent wrong passwords reaches the AuthCheck at most 5 times, and the username is locked', async () => {
    const outcomes = (await Promise.all(Array.from({ length: 40 }, () => signIn('alice', 'guess')))).map(
      outcomeOf,
    );
    expect(hookCalls('alice')).toBeLessThanOrEqual(THRESHOLD);
    expect(count(outcomes, 'wrong')).toBe(hookCalls('alice'));
    expect(count(outcomes, 'wrong') + count(outcomes, 'locked') + count(outcomes, 'unavailable')).toBe(40);

    expect(outcomeOf(await signIn('alice', USERS.alice.password))).toBe('locked');
    expect(hookCalls('alice')).toBeLessThanOrEqual(THRESHOLD);
  });

  it('30 wrong passwords and the right one together: at most 5 guesses checked, and the lock is not cleared', async () => {
    const attempts = Array.from({ length: 31 }, (_, i) =>
      signIn('carol', i === 15 ? USERS.carol.password : `guess-${i}`),
    );
    const outcomes = (await Promise.all(attempts)).map(outcomeOf);
    expect(hookCalls('carol') - hookCalls('carol', USERS.carol.password)).toBeLessThanOrEqual(THRESHOLD);
    expect(count(outcomes, 'ok')).toBeLessThanOrEqual(1);
    expect(outcomeOf(await signIn('carol', USERS.carol.password))).toBe('locked');
  });

  it('after a lock ends, a burst of 25 gets exactly one guess through and locks again for twice as long', async () => {
    // A 1 s first lock, so the test can wait it out; the burst then runs on the default policy
    // (60 s doubling), so its own lock cannot end while stragglers of the burst still arrive.
    const shortLock = tokenLambda({ LOCKOUT_BASE_SECONDS: '1', LOCKOUT_MAX_SECONDS: '60' });
    const attempt = (handler: ProxyHandler) =>
      handler(formPost('/oauth2/token', client, { grant_type: 'password', username: 'dave', password: 'x' }));
    for (let i = 0; i < THRESHOLD; i += 1) expect(outcomeOf(await attempt(shortLock))).toBe('wrong');
    const first = await lockoutItem('dave');
    expect(first).toMatchObject({ failures: THRESHOLD, limit: THRESHOLD + 1 });
    const lockedUntil = Number(first?.lockedUntil);
    // Wait out the lock (at most about a second).
    while (Date.now() / 1000 < lockedUntil) await new Promise((resolve) => setTimeout(resolve, 100));

    svc.hook.reset();
    const outcomes = (await Promise.all(Array.from({ length: 25 }, () => attempt(token)))).map(outcomeOf);
    expect(hookCalls('dave')).toBe(1);
    expect(count(outcomes, 'wrong')).toBe(1);
    const second = await lockoutItem('dave');
    expect(second).toMatchObject({ failures: THRESHOLD + 1, limit: THRESHOLD + 2 });
    // The 6th failure: twice the base lock of 60 s.
    expect(Number(second?.lockedUntil) - Number(second?.lastFailureAt)).toBe(120);
  });

  it('30 concurrent right-password sign-ins of one user mostly succeed; each gets 200 or 503, none is refused as locked', async () => {
    const outcomes = (
      await Promise.all(Array.from({ length: 30 }, () => signIn('erin', USERS.erin.password)))
    ).map(outcomeOf);
    expect(count(outcomes, 'ok') + count(outcomes, 'unavailable')).toBe(30);
    expect(count(outcomes, 'ok')).toBeGreaterThanOrEqual(20);
    // Every reservation was given back: the user is not a step closer to a lock.
    expect(await lockoutItem('erin')).toMatchObject({ reserved: 0, failures: 0, lockedUntil: 0 });
  });

  it('a request whose client did not authenticate never touches lockout state (table dump)', async () => {
    const before = await lockoutItems();
    const badSecret = { Authorization: basicAuthorization(client.client_id, 'not-the-secret') };
    const outcomes = (
      await Promise.all(Array.from({ length: 20 }, () => signIn('frank', 'guess', badSecret)))
    ).map(outcomeOf);
    expect(outcomes.every((o) => o === 'invalid_client')).toBe(true);
    expect(hookCalls('frank')).toBe(0);
    expect(await lockoutItems()).toStrictEqual(before);
    expect(await lockoutItem('frank')).toBeUndefined();
  });
});

describe('lockout keys (issue 10, finding 4)', () => {
  it('variants of one username (spaces at the ends, U+200B, U+00AD, case, full width) share one counter', async () => {
    const variants = ['seq-user ', ' seq-user', 'seq-user\u200B', 'seq-us\u00ADer', 'SEQ-USER'];
    for (const variant of variants) expect(outcomeOf(await signIn(variant, 'guess'))).toBe('wrong');
    expect(outcomeOf(await signIn('ｓｅｑ-user', USERS['seq-user'].password))).toBe('locked');
    expect(outcomeOf(await signIn('seq-user', USERS['seq-user'].password))).toBe('locked');
    expect(await lockoutItem('seq-user')).toMatchObject({ failures: 5 });
  });

  it('stores an HMAC of the name under the secret, not a plain SHA-256 anyone can recompute', async () => {
    const plain = `lockout#${createHash('sha256').update('seq-user', 'utf8').digest('base64url')}`;
    const keys = (await lockoutItems()).map((item) => String(item.grantId));
    expect(keys).toContain(keyOf('seq-user'));
    expect(keys).not.toContain(plain);
    expect(JSON.stringify(await lockoutItems())).not.toMatch(/seq-user|alice|carol/);
  });
});
