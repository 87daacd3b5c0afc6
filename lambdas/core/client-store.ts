import type { GrantType, TokenEndpointAuthMethod } from './grant-type';
import type { AccessTokenFormat } from './token-endpoint-config';

/** A registered client. Only the hash of its secret is ever stored. Times are epoch seconds. */
export interface ClientRecord {
  readonly clientId: string;
  readonly name: string;
  /** Absent for a public client (`tokenEndpointAuthMethod` `none`): it has no secret. */
  readonly secretHash?: string;
  /**
   * The secret replaced by a `rotate-secret` with `keep_previous_seconds`: it still authenticates
   * until `previousSecretExpiresAt` (epoch seconds), checked on every request; absent: none.
   */
  readonly previousSecretHash?: string;
  readonly previousSecretExpiresAt?: number;
  readonly grantTypes: readonly GrantType[];
  /** Scopes the client may request; empty means the client is unscoped. */
  readonly scope: readonly string[];
  /** Issued when a request names no scope (RFC 6749 §3.3); a subset of `scope`. Absent: all of `scope`. */
  readonly defaultScope?: readonly string[];
  /** Lifetimes overriding the service's defaults for this client's tokens; absent: the defaults. */
  readonly accessTokenTtlSeconds?: number;
  readonly refreshTokenTtlSeconds?: number;
  /** Overrides the service's access-token format for this client; absent: the service's. */
  readonly accessTokenFormat?: AccessTokenFormat;
  /** RFC 8707 resources this client may ask JWTs for; the first is the default `aud`. */
  readonly audiences?: readonly string[];
  readonly disabled: boolean;
  /**
   * Where the authorize endpoint may send the user back (exact match; a loopback `http` URI's port may
   * differ, RFC 8252 §7.3). Absent: none, as for clients stored before the field existed.
   */
  readonly redirectUris?: readonly string[];
  /** Absent: `client_secret_basic` (Basic or body credentials), as for clients stored before the field. */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /**
   * Security-relevant: a resource server may introspect tokens issued to *other* clients (RFC 7662
   * §2.1); every other client sees only its own. False unless an admin said so at creation.
   */
  readonly resourceServer: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * A client as handed to `createClient`: `resourceServer` may be left out and then means false,
 * the same rule that makes items stored before the flag existed load as ordinary clients.
 */
export type NewClientRecord = Omit<ClientRecord, 'resourceServer'> & { readonly resourceServer?: boolean };

/** Storage port for clients. Adapters throw `DependencyUnavailable` on any backend failure. */
export interface ClientStore {
  /** Strongly consistent: a rotated secret or a disabled client takes effect on the next request. */
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  /** Throws `ClientAlreadyExists` when the id is taken. */
  createClient(client: NewClientRecord): Promise<void>;
  /**
   * Replaces the secret's hash; returns false when no such client exists (nothing is created).
   * With `keepPreviousUntil` the replaced hash stays valid until then (epoch seconds), in the same
   * write; without it any previous secret is dropped too.
   */
  updateClientSecret(
    clientId: string,
    secretHash: string,
    updatedAt: number,
    keepPreviousUntil?: number,
  ): Promise<boolean>;
  /** Returns false when no such client exists (nothing is created). */
  disableClient(clientId: string, updatedAt: number): Promise<boolean>;
  listClients(): Promise<ClientRecord[]>;
}

export class ClientAlreadyExists extends Error {
  constructor(readonly clientId: string) {
    super('client already exists');
    this.name = 'ClientAlreadyExists';
  }
}

/** A public client authenticates with its `client_id` alone and never has a secret. */
export const isPublicClient = (client: Pick<ClientRecord, 'tokenEndpointAuthMethod'>): boolean =>
  client.tokenEndpointAuthMethod === 'none';
