import type { AdminCommand } from './admin-command';
import type { AuditSink } from './audit-event';
import { type UserId, userKeyOf } from './auth-check';
import { type ClientRecord, type ClientStore, isPublicClient } from './client-store';
import { type Clock, toEpochSeconds } from './clock';
import type { GrantStore } from './grant-store';
import type { GrantType, TokenEndpointAuthMethod } from './grant-type';
import { InvalidRequest } from './oauth-errors';
import { type LockoutStore, lockoutKeyOf } from './password-lockout';
import type { RandomSource } from './random-source';
import {
  type PublicKeyStore,
  type RotationOutcome,
  type RotationPolicy,
  rotateSigningKeys,
  type SigningKeyStore,
} from './signing-keys';
import type { AccessTokenFormat } from './token-endpoint-config';
import { generateId, generateSecret, hashSecret } from './token-secrets';

export interface AdminDeps {
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly lockouts: LockoutStore;
  /** The token Lambda's lockout key secret, so unlock-username clears the key it counts under. */
  readonly lockoutKeySecret: () => Promise<string>;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly audit: AuditSink;
  /** Waits `ms` milliseconds (a port, like the clock, so tests need not wait). */
  readonly sleep: (ms: number) => Promise<void>;
  readonly config: AdminConfig;
  /** JWT signing keys (private set, public set, rotation policy); absent: rotate-signing-key is refused. */
  readonly signingKeys?: {
    readonly privateKeys: SigningKeyStore;
    readonly publicKeys: PublicKeyStore;
    readonly policy: RotationPolicy;
  };
}

export interface AdminConfig {
  /**
   * disable-client sweeps the client's grants, waits this long, and sweeps again. A token request
   * that read the client before the disable may still write its grant after the first sweep, but
   * never after its own Lambda's timeout: set this above the token (and authorize) functions'
   * timeouts and the second sweep finds every such grant. So once disable-client has answered, no
   * token of the client works; during the call, a grant minted in the race lives at most this long.
   */
  readonly disableClientSecondSweepSeconds: number;
  /**
   * Security-relevant: how long API Gateway may cache an authorizer decision (0 = off, the default).
   * A per-client access-token lifetime below it is refused: a cached Allow would outlive the token.
   */
  readonly authorizerCacheTtlSeconds?: number;
}

/** A client as the admin sees it: never the secret, never its hash. */
export interface ClientView {
  readonly clientId: string;
  readonly name: string;
  readonly grantTypes: readonly GrantType[];
  readonly scope: readonly string[];
  readonly defaultScope?: readonly string[];
  readonly accessTokenTtlSeconds?: number;
  readonly refreshTokenTtlSeconds?: number;
  readonly disabled: boolean;
  readonly resourceServer: boolean;
  readonly accessTokenFormat?: AccessTokenFormat;
  readonly audiences?: readonly string[];
  readonly redirectUris: readonly string[];
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly createdAt: number;
  /** Set while a rotated-away secret still authenticates: when it stops (epoch seconds). */
  readonly previousSecretExpiresAt?: number;
}

export type AdminResult =
  /** No `clientSecret` for a public client: it has none. */
  | { action: 'create-client'; client: ClientView; clientSecret?: string }
  | { action: 'list-clients'; clients: ClientView[] }
  | {
      action: 'rotate-secret';
      clientId: string;
      clientSecret: string;
      rotatedAt: number;
      /** When the replaced secret stops working; absent: it already has. */
      previousSecretExpiresAt?: number;
    }
  | { action: 'disable-client'; clientId: string; revokedGrants: number }
  | { action: 'revoke-user-tokens'; userId: UserId; revokedGrants: number }
  | { action: 'unlock-username'; username: string }
  | {
      action: 'rotate-signing-key';
      outcome: RotationOutcome;
      /** The new key's kid; it signs from `signsFrom` (epoch seconds). */
      kid?: string;
      signsFrom?: number;
      /** The kid signing now, and every kid in the JWKS. */
      signingKid?: string;
      publishedKids: string[];
    };

/** Revocations run a few at a time: fast for a user with many grants, gentle on the table. */
const REVOKE_CONCURRENCY = 8;

/** `now` (epoch seconds) decides whether a rotated-away secret is still live; without it none is shown. */
export const toClientView = (client: ClientRecord, now?: number): ClientView => ({
  clientId: client.clientId,
  name: client.name,
  grantTypes: client.grantTypes,
  scope: client.scope,
  ...(client.defaultScope !== undefined && { defaultScope: client.defaultScope }),
  ...(client.accessTokenTtlSeconds !== undefined && { accessTokenTtlSeconds: client.accessTokenTtlSeconds }),
  ...(client.refreshTokenTtlSeconds !== undefined && {
    refreshTokenTtlSeconds: client.refreshTokenTtlSeconds,
  }),
  disabled: client.disabled,
  resourceServer: client.resourceServer,
  ...(client.accessTokenFormat !== undefined && { accessTokenFormat: client.accessTokenFormat }),
  ...(client.audiences !== undefined && { audiences: client.audiences }),
  redirectUris: client.redirectUris ?? [],
  tokenEndpointAuthMethod: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
  createdAt: client.createdAt,
  ...(now !== undefined &&
    client.previousSecretHash !== undefined &&
    client.previousSecretExpiresAt !== undefined &&
    now < client.previousSecretExpiresAt && { previousSecretExpiresAt: client.previousSecretExpiresAt }),
});

/** Runs one admin command. Store failures propagate as `DependencyUnavailable`. */
export async function runAdminCommand(command: AdminCommand, deps: AdminDeps): Promise<AdminResult> {
  const now = toEpochSeconds(deps.clock());
  switch (command.action) {
    case 'create-client': {
      const cacheTtl = deps.config.authorizerCacheTtlSeconds ?? 0;
      if (command.accessTokenTtlSeconds !== undefined && command.accessTokenTtlSeconds < cacheTtl) {
        throw new InvalidRequest(
          `access_token_ttl_seconds must be at least the authorizer cache TTL (${cacheTtl} s): a cached decision would outlive the token`,
        );
      }
      const isPublic = command.tokenEndpointAuthMethod === 'none';
      const clientSecret = isPublic ? undefined : generateSecret(deps.random);
      const client: ClientRecord = {
        clientId: generateId(deps.random),
        name: command.name,
        ...(clientSecret !== undefined && { secretHash: hashSecret(clientSecret) }),
        grantTypes: command.grantTypes,
        scope: command.scope,
        ...(command.defaultScope !== undefined && { defaultScope: command.defaultScope }),
        ...(command.accessTokenTtlSeconds !== undefined && {
          accessTokenTtlSeconds: command.accessTokenTtlSeconds,
        }),
        ...(command.refreshTokenTtlSeconds !== undefined && {
          refreshTokenTtlSeconds: command.refreshTokenTtlSeconds,
        }),
        disabled: false,
        resourceServer: command.resourceServer,
        ...(command.accessTokenFormat !== undefined && { accessTokenFormat: command.accessTokenFormat }),
        ...(command.audiences !== undefined && { audiences: command.audiences }),
        redirectUris: command.redirectUris,
        tokenEndpointAuthMethod: command.tokenEndpointAuthMethod,
        createdAt: now,
        updatedAt: now,
      };
      await deps.clients.createClient(client);
      deps.audit({ type: 'admin_action', action: command.action, clientId: client.clientId });
      return {
        action: command.action,
        client: toClientView(client),
        ...(clientSecret !== undefined && { clientSecret }),
      };
    }
    case 'list-clients': {
      const clients = await deps.clients.listClients();
      deps.audit({ type: 'admin_action', action: command.action, count: clients.length });
      return {
        action: command.action,
        clients: clients
          .map((client) => toClientView(client, now))
          .sort((a, b) => a.createdAt - b.createdAt || cmp(a.clientId, b.clientId)),
      };
    }
    case 'rotate-secret': {
      const existing = await deps.clients.getClient(command.clientId);
      if (existing !== undefined && isPublicClient(existing)) {
        throw new InvalidRequest('A public client has no secret to rotate');
      }
      const clientSecret = generateSecret(deps.random);
      const keepUntil =
        command.keepPreviousSeconds === undefined ? undefined : now + command.keepPreviousSeconds;
      if (
        !(await deps.clients.updateClientSecret(command.clientId, hashSecret(clientSecret), now, keepUntil))
      ) {
        throw new InvalidRequest('No client with this client_id');
      }
      deps.audit({
        type: 'admin_action',
        action: command.action,
        clientId: command.clientId,
        ...(keepUntil !== undefined && { previousSecretExpiresAt: keepUntil }),
      });
      return {
        action: command.action,
        clientId: command.clientId,
        clientSecret,
        rotatedAt: now,
        ...(keepUntil !== undefined && { previousSecretExpiresAt: keepUntil }),
      };
    }
    case 'disable-client': {
      if (!(await deps.clients.disableClient(command.clientId, now))) {
        throw new InvalidRequest('No client with this client_id');
      }
      // Revoking the grants makes existing tokens die at once, even where a client cache is still warm.
      let revokedGrants = await revokeClientGrants(command.clientId, deps, now);
      // The second sweep catches grants written by token requests that read the client before the
      // disable (see AdminConfig); it keeps that race off the issuance path.
      if (deps.config.disableClientSecondSweepSeconds > 0) {
        await deps.sleep(deps.config.disableClientSecondSweepSeconds * 1000);
      }
      revokedGrants += await revokeClientGrants(command.clientId, deps, toEpochSeconds(deps.clock()));
      deps.audit({
        type: 'admin_action',
        action: command.action,
        clientId: command.clientId,
        count: revokedGrants,
      });
      return { action: command.action, clientId: command.clientId, revokedGrants };
    }
    case 'revoke-user-tokens': {
      const revokedGrants = await revokeAll(
        await deps.grants.listGrantIdsByUser(userKeyOf(command.userId)),
        deps,
        now,
      );
      deps.audit({
        type: 'admin_action',
        action: command.action,
        userId: command.userId,
        count: revokedGrants,
      });
      return { action: command.action, userId: command.userId, revokedGrants };
    }
    case 'unlock-username': {
      // The same key the password grant counts under, so case and Unicode variants unlock together.
      const lockoutKey = lockoutKeyOf(command.username, await deps.lockoutKeySecret());
      await deps.lockouts.clearLockout(lockoutKey);
      deps.audit({ type: 'admin_action', action: command.action, lockoutKey });
      return { action: command.action, username: command.username };
    }
    case 'rotate-signing-key': {
      if (deps.signingKeys === undefined) throw new InvalidRequest('JWT signing keys are not configured');
      const { privateKeys, publicKeys, policy } = deps.signingKeys;
      const rotation = await rotateSigningKeys(
        { signingKeys: privateKeys, publicKeys, random: deps.random },
        policy,
        now,
        { force: true },
      );
      // kids are public (they are in the JWKS); no key material reaches the audit log.
      deps.audit({ type: 'admin_action', action: command.action, count: rotation.publishedKids.length });
      return {
        action: command.action,
        outcome: rotation.outcome,
        ...(rotation.kid === undefined
          ? {}
          : {
              kid: rotation.kid,
              signsFrom: rotation.outcome === 'rotated' ? now + policy.publishAheadSeconds : now,
            }),
        ...(rotation.signingKid === undefined ? {} : { signingKid: rotation.signingKid }),
        publishedKids: rotation.publishedKids,
      };
    }
  }
}

const revokeClientGrants = async (clientId: string, deps: AdminDeps, now: number): Promise<number> =>
  revokeAll(await deps.grants.listGrantIdsByClient(clientId), deps, now);

async function revokeAll(grantIds: readonly string[], deps: AdminDeps, now: number): Promise<number> {
  let revoked = 0;
  for (let start = 0; start < grantIds.length; start += REVOKE_CONCURRENCY) {
    const batch = grantIds.slice(start, start + REVOKE_CONCURRENCY);
    const results = await Promise.all(batch.map((grantId) => deps.grants.revokeGrant(grantId, now)));
    revoked += results.filter(Boolean).length;
  }
  return revoked;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
