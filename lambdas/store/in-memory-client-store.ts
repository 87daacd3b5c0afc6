import {
  ClientAlreadyExists,
  type ClientRecord,
  type ClientStore,
  type NewClientRecord,
} from '../core/client-store';

/** A fresh copy with exactly the record's fields, as if it had made a round trip through DynamoDB. */
const copyClient = (client: NewClientRecord): ClientRecord => ({
  clientId: client.clientId,
  name: client.name,
  ...(client.secretHash !== undefined && { secretHash: client.secretHash }),
  ...(client.previousSecretHash !== undefined && { previousSecretHash: client.previousSecretHash }),
  ...(client.previousSecretExpiresAt !== undefined && {
    previousSecretExpiresAt: client.previousSecretExpiresAt,
  }),
  grantTypes: [...client.grantTypes],
  scope: [...client.scope],
  ...(client.defaultScope !== undefined && { defaultScope: [...client.defaultScope] }),
  ...(client.accessTokenTtlSeconds !== undefined && { accessTokenTtlSeconds: client.accessTokenTtlSeconds }),
  ...(client.refreshTokenTtlSeconds !== undefined && {
    refreshTokenTtlSeconds: client.refreshTokenTtlSeconds,
  }),
  ...(client.accessTokenFormat !== undefined && { accessTokenFormat: client.accessTokenFormat }),
  ...(client.audiences !== undefined && { audiences: [...client.audiences] }),
  disabled: client.disabled,
  resourceServer: client.resourceServer ?? false,
  ...(client.redirectUris !== undefined && { redirectUris: [...client.redirectUris] }),
  ...(client.tokenEndpointAuthMethod !== undefined && {
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
  }),
  createdAt: client.createdAt,
  updatedAt: client.updatedAt,
});

/**
 * `ClientStore` in a Map, for unit tests. Held to the same contract suite as
 * `DynamoDbClientStore`; records are copied in and out so callers cannot change stored state.
 */
export class InMemoryClientStore implements ClientStore {
  private readonly clients = new Map<string, ClientRecord>();

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const client = this.clients.get(clientId);
    return client === undefined ? undefined : copyClient(client);
  }

  async createClient(client: NewClientRecord): Promise<void> {
    if (this.clients.has(client.clientId)) throw new ClientAlreadyExists(client.clientId);
    this.clients.set(client.clientId, copyClient(client));
  }

  async updateClientSecret(
    clientId: string,
    secretHash: string,
    updatedAt: number,
    keepPreviousUntil?: number,
  ): Promise<boolean> {
    const client = this.clients.get(clientId);
    if (client === undefined) return false;
    const { previousSecretHash: _hash, previousSecretExpiresAt: _until, ...rest } = client;
    this.clients.set(clientId, {
      ...rest,
      secretHash,
      updatedAt,
      ...(keepPreviousUntil !== undefined && {
        previousSecretHash: client.secretHash,
        previousSecretExpiresAt: keepPreviousUntil,
      }),
    });
    return true;
  }

  async disableClient(clientId: string, updatedAt: number): Promise<boolean> {
    return this.updateExisting(clientId, { disabled: true, updatedAt });
  }

  async listClients(): Promise<ClientRecord[]> {
    return [...this.clients.values()].map(copyClient);
  }

  private updateExisting(clientId: string, changes: Partial<ClientRecord>): boolean {
    const client = this.clients.get(clientId);
    if (client === undefined) return false;
    this.clients.set(clientId, { ...client, ...changes });
    return true;
  }
}
