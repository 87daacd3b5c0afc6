import type { GrantType } from './grant-type';
import type { AccessTokenFormat } from './token-endpoint-config';

/** A registered client. Only the hash of its secret is ever stored. Times are epoch seconds. */
export interface ClientRecord {
  readonly clientId: string;
  readonly name: string;
  readonly secretHash: string;
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
  /** Returns false when no such client exists (nothing is created). */
  updateClientSecret(clientId: string, secretHash: string, updatedAt: number): Promise<boolean>;
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
