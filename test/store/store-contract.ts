import { beforeEach, describe, expect, it } from 'vitest';
import { noAudit } from '../../lambdas/core/audit-event';
import type { AuthCheck } from '../../lambdas/core/auth-check';
import { userKeyOf } from '../../lambdas/core/auth-check';
import type {
  AuthorizationCodeRecord,
  AuthorizationCodeStore,
} from '../../lambdas/core/authorization-code-store';
import { checkCredentials } from '../../lambdas/core/check-credentials';
import { ClientAlreadyExists, type ClientRecord, type ClientStore } from '../../lambdas/core/client-store';
import { DependencyUnavailable } from '../../lambdas/core/dependency-unavailable';
import type { GrantRecord, GrantStore, RefreshRedemption } from '../../lambdas/core/grant-store';
import { OAuthError } from '../../lambdas/core/oauth-errors';
import {
  type LockoutStore,
  lockoutKeyOf,
  STALE_RESERVATION_SECONDS,
} from '../../lambdas/core/password-lockout';

export interface Stores {
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly lockouts: LockoutStore;
  readonly codes: AuthorizationCodeStore;
}

export const aCode = (overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
  codeHash: 'code-hash-1',
  clientId: 'client-a',
  redirectUri: 'https://client.example/cb',
  redirectUriSent: true,
  codeChallenge: 'challenge-1',
  userId: 1234,
  scope: ['read'],
  issuedAt: NOW,
  codeExpiresAt: NOW + 60,
  expiresAt: NOW + 60,
  ...overrides,
});

const NOW = 1_700_000_000;

export const aClient = (overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId: 'client-a',
  name: 'Client A',
  secretHash: 'secret-hash-1',
  grantTypes: ['password', 'refresh_token'],
  scope: ['read', 'write'],
  disabled: false,
  resourceServer: false,
  createdAt: NOW,
  updatedAt: NOW,
  ...overrides,
});

export const aPasswordGrant = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  grantId: 'grant-1',
  clientId: 'client-a',
  grantType: 'password',
  userId: 'user-1',
  scope: ['read', 'write'],
  accessScope: ['read'],
  createdAt: NOW,
  issuedAt: NOW,
  accessHash: 'access-hash-1',
  accessExpiresAt: NOW + 3600,
  refreshHash: 'refresh-hash-1',
  refreshExpiresAt: NOW + 86_400,
  consumedRefreshHashes: [],
  expiresAt: NOW + 86_400,
  ...overrides,
});

/** A client_credentials grant: no user, no refresh token, so none of those keys at all. */
export const aClientCredentialsGrant = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  grantId: 'grant-cc',
  clientId: 'client-a',
  grantType: 'client_credentials',
  scope: [],
  accessScope: [],
  createdAt: NOW,
  issuedAt: NOW,
  accessHash: 'access-hash-cc',
  accessExpiresAt: NOW + 3600,
  consumedRefreshHashes: [],
  expiresAt: NOW + 3600,
  ...overrides,
});

/** The n-th redemption: presents the original refresh token unless told otherwise. */
const aRedemption = (n: number, overrides: Partial<RefreshRedemption> = {}): RefreshRedemption => ({
  clientId: 'client-a',
  presentedHash: 'refresh-hash-1',
  now: NOW + n,
  accessHash: `access-hash-r${n}`,
  accessExpiresAt: NOW + n + 3600,
  refreshHash: `refresh-hash-r${n}`,
  refreshExpiresAt: NOW + n + 86_400,
  maxLifetimeSeconds: 90 * 86_400,
  expiresAt: NOW + n + 86_400,
  ...overrides,
});

/** What the n-th redemption of the original token writes over `aPasswordGrant()`. */
const redeemedFields = (n: number) => ({
  accessHash: `access-hash-r${n}`,
  accessExpiresAt: NOW + n + 3600,
  accessScope: ['read', 'write'],
  refreshHash: `refresh-hash-r${n}`,
  refreshExpiresAt: NOW + n + 86_400,
  consumedRefreshHashes: ['refresh-hash-1'],
  issuedAt: NOW + n,
  rotatedAt: NOW + n,
  expiresAt: NOW + n + 86_400,
});

const present = <T>(value: T | undefined): T => {
  expect(value).toBeDefined();
  return value as T;
};

const sorted = (values: readonly string[]) => [...values].sort();

/**
 * The behaviour every `ClientStore`/`GrantStore` pair must have, whatever the backend. `setup` is
 * called before each test and must return empty stores.
 */
export const describeStoreContract = (name: string, setup: () => Promise<Stores>): void => {
  describe(`${name}: store contract`, () => {
    let clients: ClientStore;
    let grants: GrantStore;
    let lockouts: LockoutStore;
    let codes: AuthorizationCodeStore;

    beforeEach(async () => {
      ({ clients, grants, lockouts, codes } = await setup());
    });

    describe('AuthorizationCodeStore', () => {
      const redemption = {
        clientId: 'client-a',
        codeChallenge: 'challenge-1',
        redirectUri: 'https://client.example/cb',
        now: NOW + 10,
        grantId: 'grant-from-code',
        expiresAt: NOW + 86_400,
      };

      it('stores a code and reads it back exactly', async () => {
        await codes.createCode(aCode());
        expect(await codes.getCode('code-hash-1')).toStrictEqual(aCode());
        expect(await codes.getCode('other')).toBeUndefined();
      });

      it('redeems a code once: records the grant id and the new item expiry; a second redemption fails', async () => {
        await codes.createCode(aCode());
        expect(await codes.redeemCode('code-hash-1', redemption)).toStrictEqual(
          aCode({ redeemedAt: NOW + 10, grantId: 'grant-from-code', expiresAt: NOW + 86_400 }),
        );
        expect(await codes.redeemCode('code-hash-1', { ...redemption, grantId: 'second' })).toBeUndefined();
        expect((await codes.getCode('code-hash-1'))?.grantId).toBe('grant-from-code');
      });

      it('of concurrent redemptions exactly one succeeds', async () => {
        await codes.createCode(aCode());
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) => codes.redeemCode('code-hash-1', { ...redemption, grantId: `g${n}` })),
        );
        expect(results.filter((result) => result !== undefined)).toHaveLength(1);
      });

      it('refuses (and leaves unredeemed) another client, another challenge, an expired code, a mismatched redirect URI', async () => {
        await codes.createCode(aCode());
        for (const refused of [
          { ...redemption, clientId: 'client-b' },
          { ...redemption, codeChallenge: 'challenge-2' },
          { ...redemption, now: NOW + 60 },
          { ...redemption, redirectUri: 'https://client.example/other' },
          { ...redemption, redirectUri: undefined },
        ]) {
          expect(await codes.redeemCode('code-hash-1', refused)).toBeUndefined();
        }
        expect(await codes.redeemCode('unknown', redemption)).toBeUndefined();
        expect((await codes.getCode('code-hash-1'))?.redeemedAt).toBeUndefined();
      });

      it('redeems without a redirect URI only when the authorization request sent none', async () => {
        await codes.createCode(aCode({ redirectUriSent: false }));
        const { redirectUri: _, ...withoutUri } = redemption;
        expect(await codes.redeemCode('code-hash-1', withoutUri)).toBeDefined();
      });

      it('marks a replay once (the first time is kept) and answers undefined for no such code', async () => {
        await codes.createCode(aCode());
        expect((await codes.markReplayed('code-hash-1', NOW + 20))?.replayedAt).toBe(NOW + 20);
        expect((await codes.markReplayed('code-hash-1', NOW + 30))?.replayedAt).toBe(NOW + 20);
        expect(await codes.markReplayed('unknown', NOW)).toBeUndefined();
      });
    });

    describe('ClientStore', () => {
      it('returns undefined for an unknown client', async () => {
        expect(await clients.getClient('nobody')).toBeUndefined();
      });

      it('round-trips a client exactly', async () => {
        const client = aClient({ grantTypes: ['password', 'refresh_token', 'client_credentials'] });
        await clients.createClient(client);
        expect(await clients.getClient('client-a')).toStrictEqual(client);
      });

      it('round-trips an unscoped client with a single grant type', async () => {
        const client = aClient({ clientId: 'machine', grantTypes: ['client_credentials'], scope: [] });
        await clients.createClient(client);
        expect(await clients.getClient('machine')).toStrictEqual(client);
      });

      it('round-trips per-client default scope and token lifetimes', async () => {
        const client = aClient({
          defaultScope: ['read'],
          accessTokenTtlSeconds: 300,
          refreshTokenTtlSeconds: 7200,
        });
        await clients.createClient(client);
        expect(await clients.getClient('client-a')).toStrictEqual(client);
        expect(await clients.listClients()).toStrictEqual([client]);
      });

      it('round-trips an empty default scope (the client gets no scope unless it asks)', async () => {
        const client = aClient({ defaultScope: [] });
        await clients.createClient(client);
        expect(await clients.getClient('client-a')).toStrictEqual(client);
      });

      it('round-trips a disabled client', async () => {
        const client = aClient({ disabled: true });
        await clients.createClient(client);
        expect(await clients.getClient('client-a')).toStrictEqual(client);
      });

      it('round-trips a resource server', async () => {
        const client = aClient({ clientId: 'api', grantTypes: ['client_credentials'], resourceServer: true });
        await clients.createClient(client);
        expect(await clients.getClient('api')).toStrictEqual(client);
        expect(await clients.listClients()).toStrictEqual([client]);
      });

      it('reads a client created without resourceServer as an ordinary client', async () => {
        const { resourceServer: _omitted, ...withoutFlag } = aClient();
        await clients.createClient(withoutFlag);
        expect(await clients.getClient('client-a')).toStrictEqual(aClient({ resourceServer: false }));
      });

      it('keeps the resource-server flag through a secret rotation and a disable', async () => {
        await clients.createClient(aClient({ resourceServer: true }));
        await clients.updateClientSecret('client-a', 'secret-hash-2', NOW + 1);
        await clients.disableClient('client-a', NOW + 2);
        expect(await clients.getClient('client-a')).toMatchObject({ resourceServer: true, disabled: true });
      });

      it('refuses a duplicate id with ClientAlreadyExists and keeps the original', async () => {
        await clients.createClient(aClient());
        const duplicate = clients.createClient(aClient({ name: 'Impostor', secretHash: 'other' }));
        await expect(duplicate).rejects.toBeInstanceOf(ClientAlreadyExists);
        await expect(duplicate).rejects.toMatchObject({ clientId: 'client-a' });
        expect(await clients.getClient('client-a')).toStrictEqual(aClient());
      });

      it('replaces the secret hash and is read back at once', async () => {
        await clients.createClient(aClient());
        expect(await clients.updateClientSecret('client-a', 'secret-hash-2', NOW + 5)).toBe(true);
        expect(await clients.getClient('client-a')).toStrictEqual(
          aClient({ secretHash: 'secret-hash-2', updatedAt: NOW + 5 }),
        );
      });

      it('keeps the replaced hash as the previous one, with its end, in the same update', async () => {
        await clients.createClient(aClient());
        expect(await clients.updateClientSecret('client-a', 'secret-hash-2', NOW + 5, NOW + 65)).toBe(true);
        expect(await clients.getClient('client-a')).toStrictEqual(
          aClient({
            secretHash: 'secret-hash-2',
            previousSecretHash: 'secret-hash-1',
            previousSecretExpiresAt: NOW + 65,
            updatedAt: NOW + 5,
          }),
        );
        // A second overlapping rotation keeps only the secret it replaced.
        await clients.updateClientSecret('client-a', 'secret-hash-3', NOW + 6, NOW + 66);
        expect(await clients.getClient('client-a')).toMatchObject({
          secretHash: 'secret-hash-3',
          previousSecretHash: 'secret-hash-2',
          previousSecretExpiresAt: NOW + 66,
        });
        // A rotation without an overlap drops any previous secret.
        await clients.updateClientSecret('client-a', 'secret-hash-4', NOW + 7);
        expect(await clients.getClient('client-a')).toStrictEqual(
          aClient({ secretHash: 'secret-hash-4', updatedAt: NOW + 7 }),
        );
      });

      it('updates the secret of an unknown client to false, creating nothing', async () => {
        expect(await clients.updateClientSecret('nobody', 'secret-hash-2', NOW)).toBe(false);
        expect(await clients.getClient('nobody')).toBeUndefined();
        expect(await clients.listClients()).toEqual([]);
      });

      it('disables a client and is read back at once; disabling again still succeeds', async () => {
        await clients.createClient(aClient());
        expect(await clients.disableClient('client-a', NOW + 7)).toBe(true);
        expect(await clients.getClient('client-a')).toStrictEqual(
          aClient({ disabled: true, updatedAt: NOW + 7 }),
        );
        expect(await clients.disableClient('client-a', NOW + 9)).toBe(true);
        expect(await clients.getClient('client-a')).toMatchObject({ disabled: true });
      });

      it('disables an unknown client to false, creating nothing', async () => {
        expect(await clients.disableClient('nobody', NOW)).toBe(false);
        expect(await clients.getClient('nobody')).toBeUndefined();
        expect(await clients.listClients()).toEqual([]);
      });

      it('lists nothing when empty and every client otherwise', async () => {
        expect(await clients.listClients()).toEqual([]);
        const created = Array.from({ length: 12 }, (_, i) =>
          aClient({ clientId: `client-${String(i).padStart(2, '0')}`, name: `Client ${i}` }),
        );
        await Promise.all(created.map((client) => clients.createClient(client)));
        await clients.disableClient('client-03', NOW + 1);
        const listed = await clients.listClients();
        expect([...listed].sort((a, b) => a.clientId.localeCompare(b.clientId))).toStrictEqual(
          created.map((client) =>
            client.clientId === 'client-03' ? { ...client, disabled: true, updatedAt: NOW + 1 } : client,
          ),
        );
      });

      it('hands out copies: changing a returned or a passed-in record changes nothing stored', async () => {
        const input = aClient();
        await clients.createClient(input);
        (input.scope as string[]).push('admin');
        (input.grantTypes as string[]).push('client_credentials');

        const read = await clients.getClient('client-a');
        (present(read).scope as string[]).push('admin');
        const [listed] = await clients.listClients();
        (present(listed).grantTypes as string[]).length = 0;

        expect(await clients.getClient('client-a')).toStrictEqual(aClient());
      });
    });

    describe('GrantStore', () => {
      it('returns undefined for an unknown grant', async () => {
        expect(await grants.getGrant('nope')).toBeUndefined();
      });

      it('round-trips a password grant with a string user id, read back at once', async () => {
        const grant = aPasswordGrant();
        await grants.createGrant(grant);
        expect(await grants.getGrant('grant-1')).toStrictEqual(grant);
      });

      it('keeps a numeric user id a number', async () => {
        await grants.createGrant(aPasswordGrant({ userId: 1234 }));
        const read = await grants.getGrant('grant-1');
        expect(read?.userId).toBe(1234);
        expect(read).toStrictEqual(aPasswordGrant({ userId: 1234 }));
      });

      it('round-trips every optional field when present', async () => {
        const grant = aPasswordGrant({
          consumedRefreshHashes: ['old-1', 'old-2'],
          rotatedAt: NOW + 10,
          revokedAt: NOW + 20,
        });
        await grants.createGrant(grant);
        expect(await grants.getGrant('grant-1')).toStrictEqual(grant);
      });

      it('round-trips a client_credentials grant without user or refresh fields (keys absent)', async () => {
        const grant = aClientCredentialsGrant();
        await grants.createGrant(grant);
        const read = await grants.getGrant('grant-cc');
        expect(read).toStrictEqual(grant);
        for (const key of ['userId', 'refreshHash', 'refreshExpiresAt', 'rotatedAt', 'revokedAt']) {
          expect(read).not.toHaveProperty(key);
        }
      });

      it('drops optional fields passed explicitly as undefined', async () => {
        await grants.createGrant({ ...aClientCredentialsGrant(), userId: undefined, refreshHash: undefined });
        expect(await grants.getGrant('grant-cc')).toStrictEqual(aClientCredentialsGrant());
      });

      it('rejects a grant id collision with DependencyUnavailable and keeps the original', async () => {
        await grants.createGrant(aPasswordGrant());
        await expect(grants.createGrant(aPasswordGrant({ accessHash: 'other' }))).rejects.toBeInstanceOf(
          DependencyUnavailable,
        );
        expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant());
      });

      describe('redeemRefreshToken', () => {
        it('replaces the tokens when every condition holds, keeping the rest, and answers the grant', async () => {
          await grants.createGrant(aPasswordGrant({ userId: 42 }));
          const redeemed = await grants.redeemRefreshToken('grant-1', aRedemption(1));
          const expected = { ...aPasswordGrant({ userId: 42 }), ...redeemedFields(1) };
          expect(redeemed).toStrictEqual(expected);
          expect(await grants.getGrant('grant-1')).toStrictEqual(expected);
        });

        it('narrows the access scope within the grant, and checks the user when asked', async () => {
          await grants.createGrant(aPasswordGrant({ userId: 42 }));
          const narrowed = await grants.redeemRefreshToken(
            'grant-1',
            aRedemption(1, { scope: ['write'], userKey: '42' }),
          );
          expect(narrowed?.accessScope).toEqual(['write']);
          expect(narrowed?.scope).toEqual(['read', 'write']);
        });

        it('chains: the new refresh hash redeems again, the old one no longer does', async () => {
          await grants.createGrant(aPasswordGrant());
          await grants.redeemRefreshToken('grant-1', aRedemption(1));
          const second = await grants.redeemRefreshToken(
            'grant-1',
            aRedemption(2, { presentedHash: 'refresh-hash-r1' }),
          );
          expect(second?.consumedRefreshHashes).toEqual(['refresh-hash-1', 'refresh-hash-r1']);
          expect(await grants.redeemRefreshToken('grant-1', aRedemption(3))).toBeUndefined();
          expect(await grants.getGrant('grant-1')).toStrictEqual(second);
        });

        it.each<[string, Partial<RefreshRedemption>]>([
          ['a wrong hash', { presentedHash: 'refresh-hash-other' }],
          ['another client', { clientId: 'client-b' }],
          ['an expired refresh token', { now: NOW + 86_400 }],
          ['another user', { userKey: '43' }],
          ['a scope beyond the grant', { scope: ['read', 'admin'] }],
        ])('answers undefined and changes nothing for %s', async (_name, overrides) => {
          await grants.createGrant(aPasswordGrant({ userId: 42 }));
          expect(await grants.redeemRefreshToken('grant-1', aRedemption(1, overrides))).toBeUndefined();
          expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant({ userId: 42 }));
        });

        it('answers undefined for a revoked grant even with the right hash', async () => {
          await grants.createGrant(aPasswordGrant());
          await grants.revokeGrant('grant-1', NOW + 1);
          expect(await grants.redeemRefreshToken('grant-1', aRedemption(1))).toBeUndefined();
          expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant({ revokedAt: NOW + 1 }));
        });

        it('answers undefined for an unknown grant and creates nothing', async () => {
          expect(await grants.redeemRefreshToken('nope', aRedemption(1))).toBeUndefined();
          expect(await grants.getGrant('nope')).toBeUndefined();
        });

        it('answers undefined for a grant that has no refresh token', async () => {
          await grants.createGrant(aClientCredentialsGrant());
          expect(
            await grants.redeemRefreshToken('grant-cc', aRedemption(1, { presentedHash: '' })),
          ).toBeUndefined();
          expect(await grants.getGrant('grant-cc')).toStrictEqual(aClientCredentialsGrant());
        });

        it('lets exactly one of 8 concurrent redemptions of the same token win', async () => {
          await grants.createGrant(aPasswordGrant());
          const results = await Promise.all(
            Array.from({ length: 8 }, (_, i) => grants.redeemRefreshToken('grant-1', aRedemption(i + 1))),
          );
          const winners = results.flatMap((result, i) => (result === undefined ? [] : [i + 1]));
          expect(winners).toHaveLength(1);
          expect(await grants.getGrant('grant-1')).toStrictEqual({
            ...aPasswordGrant(),
            ...redeemedFields(winners[0] ?? 0),
          });
        });

        it('keeps the consumed hashes bounded: the last 64 at least, never 128 or more', async () => {
          await grants.createGrant(aPasswordGrant());
          let presented = 'refresh-hash-1';
          for (let n = 1; n <= 130; n += 1) {
            const redeemed = await grants.redeemRefreshToken(
              'grant-1',
              aRedemption(n, { presentedHash: presented }),
            );
            expect(redeemed).toBeDefined();
            presented = `refresh-hash-r${n}`;
          }
          const consumed = (await grants.getGrant('grant-1'))?.consumedRefreshHashes ?? [];
          expect(consumed.length).toBeGreaterThanOrEqual(64);
          expect(consumed.length).toBeLessThan(128);
          expect(consumed.at(-1)).toBe('refresh-hash-r129');
          expect(consumed.slice(-64)).toEqual(
            Array.from({ length: 64 }, (_, i) => `refresh-hash-r${66 + i}`),
          );
        });
      });

      describe('revokeGrant', () => {
        it('marks the grant revoked, keeps the first time when repeated, and says which call revoked it', async () => {
          await grants.createGrant(aPasswordGrant());
          expect(await grants.revokeGrant('grant-1', NOW + 5)).toBe(true);
          expect(await grants.revokeGrant('grant-1', NOW + 50)).toBe(false);
          expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant({ revokedAt: NOW + 5 }));
        });

        it('returns false for an unknown grant and creates nothing', async () => {
          expect(await grants.revokeGrant('nope', NOW)).toBe(false);
          expect(await grants.getGrant('nope')).toBeUndefined();
        });
      });

      describe('revokeGrantByToken', () => {
        it('revokes by the current access or refresh hash of the owning client, once', async () => {
          await grants.createGrant(aPasswordGrant());
          await grants.createGrant(aPasswordGrant({ grantId: 'grant-2' }));
          expect(await grants.revokeGrantByToken('grant-1', 'client-a', 'access-hash-1', NOW + 5)).toBe(true);
          expect(await grants.revokeGrantByToken('grant-1', 'client-a', 'refresh-hash-1', NOW + 50)).toBe(
            false,
          );
          expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant({ revokedAt: NOW + 5 }));
          expect(await grants.revokeGrantByToken('grant-2', 'client-a', 'refresh-hash-1', NOW + 7)).toBe(
            true,
          );
          expect((await grants.getGrant('grant-2'))?.revokedAt).toBe(NOW + 7);
        });

        it('leaves the grant alone for another client, a stale or forged hash, or an unknown grant', async () => {
          await grants.createGrant(aPasswordGrant());
          expect(await grants.revokeGrantByToken('grant-1', 'client-b', 'access-hash-1', NOW)).toBe(false);
          expect(await grants.revokeGrantByToken('grant-1', 'client-a', 'refresh-hash-0', NOW)).toBe(false);
          expect(await grants.revokeGrantByToken('nope', 'client-a', 'access-hash-1', NOW)).toBe(false);
          expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant());
          expect(await grants.getGrant('nope')).toBeUndefined();
        });

        it('matches a client_credentials grant (no refresh token) by its access hash only', async () => {
          await grants.createGrant(aClientCredentialsGrant());
          expect(await grants.revokeGrantByToken('grant-cc', 'client-a', 'access-hash-cc', NOW)).toBe(true);
        });
      });

      describe('listing', () => {
        beforeEach(async () => {
          await Promise.all([
            grants.createGrant(aPasswordGrant({ grantId: 'g-num', clientId: 'client-a', userId: 1234 })),
            grants.createGrant(aPasswordGrant({ grantId: 'g-str', clientId: 'client-b', userId: '1234' })),
            grants.createGrant(aPasswordGrant({ grantId: 'g-other', clientId: 'client-a', userId: '12345' })),
            grants.createGrant(aPasswordGrant({ grantId: 'g-revoked', clientId: 'client-b', userId: 1234 })),
            grants.createGrant(aClientCredentialsGrant({ grantId: 'g-cc', clientId: 'client-a' })),
          ]);
          await grants.revokeGrant('g-revoked', NOW);
        });

        it('lists a user’s grants across clients, treating 1234 and "1234" as one user', async () => {
          const expected = ['g-num', 'g-revoked', 'g-str'];
          expect(sorted(await grants.listGrantIdsByUser(userKeyOf(1234)))).toEqual(expected);
          expect(sorted(await grants.listGrantIdsByUser(userKeyOf('1234')))).toEqual(expected);
          expect(await grants.listGrantIdsByUser('12345')).toEqual(['g-other']);
        });

        it('lists nothing for an unknown user', async () => {
          expect(await grants.listGrantIdsByUser('nobody')).toEqual([]);
          expect(await grants.listGrantIdsByUser('123')).toEqual([]);
        });

        it('lists a client’s grants, client_credentials ones included', async () => {
          expect(sorted(await grants.listGrantIdsByClient('client-a'))).toEqual(['g-cc', 'g-num', 'g-other']);
          expect(sorted(await grants.listGrantIdsByClient('client-b'))).toEqual(['g-revoked', 'g-str']);
          expect(await grants.listGrantIdsByClient('client-z')).toEqual([]);
        });
      });

      it('hands out copies: changing a returned, passed-in or redemption record changes nothing stored', async () => {
        const input = aPasswordGrant();
        await grants.createGrant(input);
        (input.scope as string[]).push('admin');
        (input.consumedRefreshHashes as string[]).push('x');

        const read = await grants.getGrant('grant-1');
        (present(read).accessScope as string[]).push('admin');
        expect(await grants.getGrant('grant-1')).toStrictEqual(aPasswordGrant());

        const redemption = aRedemption(1, { scope: ['read'] });
        const redeemed = await grants.redeemRefreshToken('grant-1', redemption);
        (redemption.scope as string[]).push('admin');
        (present(redeemed).consumedRefreshHashes as string[]).length = 0;
        expect(await grants.getGrant('grant-1')).toStrictEqual({
          ...aPasswordGrant(),
          ...redeemedFields(1),
          accessScope: ['read'],
        });
      });
    });

    describe('GrantStore: the absolute cap of a grant (issue 10, finding 5)', () => {
      const MAX = 90 * 86_400;

      it('refuses a redemption once the grant is createdAt + max old, and writes nothing', async () => {
        await grants.createGrant(
          aPasswordGrant({ refreshExpiresAt: NOW + MAX + 10, expiresAt: NOW + MAX + 10 }),
        );
        expect(
          await grants.redeemRefreshToken('grant-1', aRedemption(MAX, { maxLifetimeSeconds: MAX })),
        ).toBeUndefined();
        expect(await grants.getGrant('grant-1')).toStrictEqual(
          aPasswordGrant({ refreshExpiresAt: NOW + MAX + 10, expiresAt: NOW + MAX + 10 }),
        );
        expect(
          await grants.redeemRefreshToken('grant-1', aRedemption(MAX - 1, { maxLifetimeSeconds: MAX })),
        ).toBeDefined();
      });

      it('never gives the new refresh token an expiry past the cap', async () => {
        await grants.createGrant(aPasswordGrant({ refreshExpiresAt: NOW + MAX, expiresAt: NOW + MAX }));
        // The usual lifetime (one day) would end a day after the cap: the token ends at the cap.
        const late = present(
          await grants.redeemRefreshToken('grant-1', aRedemption(MAX - 100, { maxLifetimeSeconds: MAX })),
        );
        expect(late.refreshExpiresAt).toBe(NOW + MAX);
        expect(late.refreshHash).toBe(`refresh-hash-r${MAX - 100}`);
      });

      it('keeps the usual expiry while it is inside the cap', async () => {
        await grants.createGrant(aPasswordGrant());
        const early = present(
          await grants.redeemRefreshToken('grant-1', aRedemption(5, { maxLifetimeSeconds: MAX })),
        );
        expect(early.refreshExpiresAt).toBe(NOW + 5 + 86_400);
      });
    });

    describe('LockoutStore', () => {
      const terms = (at: number, threshold = 3) => ({
        threshold,
        expiresAt: at + 1800,
        staleBefore: at - STALE_RESERVATION_SECONDS,
      });
      const reserve = (at = NOW, threshold = 3) => lockouts.reserveAttempt('key-a', at, terms(at, threshold));
      const fail = (at = NOW, threshold = 3) => lockouts.recordFailure('key-a', at, terms(at, threshold));
      const reserved = async (at = NOW, threshold = 3) => {
        const reservation = await reserve(at, threshold);
        expect(reservation.outcome).toBe('reserved');
        return reservation.outcome === 'reserved' ? reservation.state : expect.unreachable();
      };

      it('has no state for a key that never tried', async () => {
        expect(await lockouts.getLockout('key-a')).toBeUndefined();
      });

      it('reserves into fresh state: the threshold as the limit, nothing failed, unlocked', async () => {
        expect(await reserve()).toStrictEqual({
          outcome: 'reserved',
          state: {
            reserved: 1,
            limit: 3,
            failures: 0,
            lockedUntil: 0,
            lastFailureAt: 0,
            reservedAt: NOW,
            expiresAt: NOW + 1800,
          },
        });
        expect(await lockouts.getLockout('key-b')).toBeUndefined();
      });

      it('grants no more reservations than the limit, however many arrive at once', async () => {
        const outcomes = await Promise.all(Array.from({ length: 12 }, () => reserve()));
        expect(outcomes.filter((r) => r.outcome === 'reserved')).toHaveLength(3);
        expect(outcomes.filter((r) => r.outcome === 'full')).toHaveLength(9);
        expect((await lockouts.getLockout('key-a'))?.reserved).toBe(3);
      });

      it('counts a failure, keeping its reservation as the failure', async () => {
        await reserved();
        expect(await fail(NOW + 5)).toStrictEqual({
          reserved: 1,
          limit: 3,
          failures: 1,
          lockedUntil: 0,
          lastFailureAt: NOW + 5,
          reservedAt: NOW,
          expiresAt: NOW + 1805,
        });
      });

      it('counts every one of concurrent failures', async () => {
        await Promise.all(Array.from({ length: 3 }, () => reserved()));
        await Promise.all(Array.from({ length: 3 }, () => fail()));
        expect((await lockouts.getLockout('key-a'))?.failures).toBe(3);
      });

      it('locks only on the failure count it saw, with one more slot than failures', async () => {
        await Promise.all(Array.from({ length: 3 }, () => reserved()));
        await Promise.all(Array.from({ length: 3 }, () => fail()));
        expect(await lockouts.lock('key-a', 2, NOW + 60)).toBe(false);
        expect(await lockouts.lock('key-a', 3, NOW + 60)).toBe(true);
        expect(await lockouts.getLockout('key-a')).toMatchObject({
          lockedUntil: NOW + 60,
          limit: 4,
          reserved: 3,
        });
        expect(await reserve(NOW + 59)).toStrictEqual({ outcome: 'locked', lockedUntil: NOW + 60 });
        // When the lock ends, exactly one probe.
        const probes = await Promise.all(Array.from({ length: 5 }, () => reserve(NOW + 60)));
        expect(probes.filter((r) => r.outcome === 'reserved')).toHaveLength(1);
        expect(probes.filter((r) => r.outcome === 'full')).toHaveLength(4);
      });

      it('a success resets the failures it saw and releases them with its reservation', async () => {
        await Promise.all([reserved(), reserved()]);
        await Promise.all([fail(), fail()]);
        const seen = await reserved(NOW + 1);
        expect(seen.failures).toBe(2);
        await lockouts.recordSuccess('key-a', seen.failures, 3);
        expect(await lockouts.getLockout('key-a')).toMatchObject({
          reserved: 0,
          failures: 0,
          limit: 3,
          lockedUntil: 0,
        });
      });

      it('a success never erases failures it did not see: it releases only its own reservation', async () => {
        const early = await reserved();
        await reserved();
        await fail(NOW + 1);
        await lockouts.recordSuccess('key-a', early.failures, 3);
        expect(await lockouts.getLockout('key-a')).toMatchObject({ reserved: 1, failures: 1 });

        const seenOne = await reserved(NOW + 2);
        await reserved(NOW + 2);
        await fail(NOW + 3);
        await lockouts.recordSuccess('key-a', seenOne.failures, 3);
        expect(await lockouts.getLockout('key-a')).toMatchObject({ reserved: 2, failures: 2 });
      });

      it('gives a reservation back, never below zero and never into a new item', async () => {
        await reserved();
        await lockouts.releaseAttempt('key-a');
        await lockouts.releaseAttempt('key-a');
        expect(await lockouts.getLockout('key-a')).toMatchObject({ reserved: 0, failures: 0 });
        await lockouts.releaseAttempt('never-tried');
        await lockouts.recordSuccess('never-tried', 0, 3);
        expect(await lockouts.getLockout('never-tried')).toBeUndefined();
      });

      it(`recovers reservations leaked by a dead Lambda only after ${STALE_RESERVATION_SECONDS} s without a reservation`, async () => {
        await Promise.all(Array.from({ length: 3 }, () => reserved()));
        await fail(NOW + 1);
        expect((await reserve(NOW + STALE_RESERVATION_SECONDS - 1)).outcome).toBe('full');
        const recovered = await reserved(NOW + STALE_RESERVATION_SECONDS);
        // The failure stays counted; the two leaked slots are gone, this attempt holds one.
        expect(recovered).toMatchObject({
          reserved: 2,
          failures: 1,
          reservedAt: NOW + STALE_RESERVATION_SECONDS,
        });
      });

      it('starts fresh over expired state that was not deleted yet', async () => {
        await Promise.all(Array.from({ length: 3 }, () => reserved()));
        await Promise.all(Array.from({ length: 3 }, () => fail()));
        await lockouts.lock('key-a', 3, NOW + 60);
        expect(await reserved(NOW + 1800)).toMatchObject({
          reserved: 1,
          failures: 0,
          lockedUntil: 0,
          limit: 3,
        });
      });

      it('a failure after an unlock (item deleted in flight) still counts, as its own reservation', async () => {
        await reserved();
        await lockouts.clearLockout('key-a');
        expect(await fail()).toMatchObject({ reserved: 1, failures: 1, limit: 3 });
      });

      it('clears a key, and clearing an unknown key is harmless', async () => {
        await reserved();
        await lockouts.reserveAttempt('key-b', NOW, terms(NOW));
        await lockouts.clearLockout('key-a');
        await lockouts.clearLockout('never-tried');
        expect(await lockouts.getLockout('key-a')).toBeUndefined();
        expect((await lockouts.getLockout('key-b'))?.reserved).toBe(1);
      });

      describe('checkCredentials over this store (issue 10, finding 1)', () => {
        const POLICY = { threshold: 5, baseSeconds: 60, maxSeconds: 900 };
        const calls: string[] = [];
        /** Answers after a few ms, like a real hook, so attempts overlap. */
        const authCheck: AuthCheck = {
          async checkCredentials({ password }) {
            calls.push(password);
            await new Promise((resolve) => setTimeout(resolve, 5));
            return password === 'right' ? 'user-1' : null;
          },
        };
        const deps = () => ({
          authCheck,
          lockouts,
          audit: noAudit,
          lockoutKeySecret: async () => 'contract-lockout-key-secret-0123456789',
          sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms / 5)),
        });
        const attempt = async (password: string, at = NOW): Promise<string> => {
          try {
            const { settled } = await checkCredentials(
              { username: 'victim', password, clientId: 'client-a' },
              POLICY,
              deps(),
              at,
            );
            await settled;
            return 'ok';
          } catch (error) {
            if (error instanceof OAuthError)
              return error.description.startsWith('Too many') ? 'locked' : error.code;
            throw error;
          }
        };
        const burst = (n: number, password: string, at = NOW) =>
          Promise.all(Array.from({ length: n }, () => attempt(password, at)));
        const count = (outcomes: string[], outcome: string) => outcomes.filter((o) => o === outcome).length;

        beforeEach(() => {
          calls.length = 0;
        });

        it('a burst of 40 concurrent wrong passwords reaches the AuthCheck at most 5 times and locks the username', async () => {
          const outcomes = await burst(40, 'wrong');
          expect(calls.length).toBeLessThanOrEqual(5);
          expect(count(outcomes, 'invalid_grant')).toBe(calls.length);
          expect(
            count(outcomes, 'invalid_grant') +
              count(outcomes, 'locked') +
              count(outcomes, 'temporarily_unavailable'),
          ).toBe(40);
          expect(await attempt('right', NOW + 1)).toBe('locked');
          expect(calls.length).toBeLessThanOrEqual(5);
        });

        it('30 wrong passwords and the right one together: at most 5 wrong guesses are checked, and the lock holds', async () => {
          const outcomes = await Promise.all([
            ...Array.from({ length: 15 }, () => attempt('wrong')),
            attempt('right'),
            ...Array.from({ length: 15 }, () => attempt('wrong')),
          ]);
          expect(calls.filter((p) => p === 'wrong').length).toBeLessThanOrEqual(5);
          expect(calls.length).toBeLessThanOrEqual(6);
          expect(
            outcomes.every((o) => ['ok', 'invalid_grant', 'locked', 'temporarily_unavailable'].includes(o)),
          ).toBe(true);
          expect(await attempt('right', NOW + 1)).toBe('locked');
        });

        it('after a lock ends, a burst gets exactly one guess through and locks again for twice as long', async () => {
          await burst(10, 'wrong');
          const until =
            (await lockouts.getLockout(lockoutKeyOf('victim', 'contract-lockout-key-secret-0123456789')))
              ?.lockedUntil ?? 0;
          expect(until).toBe(NOW + 60);
          calls.length = 0;
          const outcomes = await burst(25, 'wrong', until);
          expect(calls).toHaveLength(1);
          expect(count(outcomes, 'invalid_grant')).toBe(1);
          const state = await lockouts.getLockout(
            lockoutKeyOf('victim', 'contract-lockout-key-secret-0123456789'),
          );
          expect(state?.lockedUntil).toBe(until + 120);
        });

        it('30 concurrent right-password sign-ins mostly succeed, each answered ok or 503, none refused as locked', async () => {
          const outcomes = await burst(30, 'right');
          expect(count(outcomes, 'ok') + count(outcomes, 'temporarily_unavailable')).toBe(30);
          expect(count(outcomes, 'ok')).toBeGreaterThanOrEqual(20);
          const state = await lockouts.getLockout(
            lockoutKeyOf('victim', 'contract-lockout-key-secret-0123456789'),
          );
          expect(state).toMatchObject({ reserved: 0, failures: 0, lockedUntil: 0 });
        });

        it('an AuthCheck outage gives the reservation back and counts nothing', async () => {
          const down = {
            ...deps(),
            authCheck: {
              checkCredentials: () => Promise.reject(new DependencyUnavailable('auth-check', 'down')),
            },
          };
          for (let i = 0; i < 8; i += 1) {
            await expect(
              checkCredentials(
                { username: 'victim', password: 'x', clientId: 'client-a' },
                POLICY,
                down,
                NOW,
              ),
            ).rejects.toBeInstanceOf(DependencyUnavailable);
          }
          const state = await lockouts.getLockout(
            lockoutKeyOf('victim', 'contract-lockout-key-secret-0123456789'),
          );
          expect(state).toMatchObject({ reserved: 0, failures: 0 });
          expect(await attempt('right')).toBe('ok');
        });
      });
    });
  });
};
