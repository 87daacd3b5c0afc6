import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  ClientAlreadyExists,
  type ClientRecord,
  type ClientStore,
  type NewClientRecord,
} from '../core/client-store';
import { isGrantType, TOKEN_ENDPOINT_AUTH_METHODS } from '../core/grant-type';
import { ACCESS_TOKEN_FORMATS } from '../core/token-endpoint-config';
import type { DocumentSender } from './cached-document-sender';
import { type Item, ItemReader, isConditionFailure, storeFailure } from './item-attributes';

const toItem = (client: NewClientRecord): Item => ({
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

const fromItem = (item: Item, operation: string): ClientRecord => {
  const read = new ItemReader(item, operation);
  const grantTypes = read.stringList('grantTypes');
  if (!grantTypes.every(isGrantType)) throw read.malformed('grantTypes');
  const defaultScope = read.optionalStringList('defaultScope');
  const accessTokenTtlSeconds = read.optionalNumber('accessTokenTtlSeconds');
  const refreshTokenTtlSeconds = read.optionalNumber('refreshTokenTtlSeconds');
  const accessTokenFormat =
    read.optionalString('accessTokenFormat') === undefined
      ? undefined
      : read.oneOf('accessTokenFormat', ACCESS_TOKEN_FORMATS);
  const audiences = read.optionalStringList('audiences');
  const previousSecretHash = read.optionalString('previousSecretHash');
  const previousSecretExpiresAt = read.optionalNumber('previousSecretExpiresAt');
  const secretHash = read.optionalString('secretHash');
  const redirectUris = read.optionalStringList('redirectUris');
  const tokenEndpointAuthMethod =
    item.tokenEndpointAuthMethod === undefined
      ? undefined
      : read.oneOf('tokenEndpointAuthMethod', TOKEN_ENDPOINT_AUTH_METHODS);
  return {
    clientId: read.string('clientId'),
    name: read.string('name'),
    ...(secretHash !== undefined && { secretHash }),
    ...(previousSecretHash !== undefined && { previousSecretHash }),
    ...(previousSecretExpiresAt !== undefined && { previousSecretExpiresAt }),
    ...(redirectUris !== undefined && { redirectUris }),
    ...(tokenEndpointAuthMethod !== undefined && { tokenEndpointAuthMethod }),
    grantTypes,
    scope: read.stringList('scope'),
    ...(defaultScope !== undefined && { defaultScope }),
    ...(accessTokenTtlSeconds !== undefined && { accessTokenTtlSeconds }),
    ...(refreshTokenTtlSeconds !== undefined && { refreshTokenTtlSeconds }),
    ...(accessTokenFormat !== undefined && { accessTokenFormat }),
    ...(audiences !== undefined && { audiences }),
    disabled: read.boolean('disabled'),
    // Items written before the flag existed have no attribute: they are ordinary clients.
    resourceServer: read.optionalBoolean('resourceServer') ?? false,
    createdAt: read.number('createdAt'),
    updatedAt: read.number('updatedAt'),
  };
};

/** `ClientStore` on a DynamoDB table keyed by `clientId` (see `clientsTableDefinition`). */
export class DynamoDbClientStore implements ClientStore {
  constructor(
    private readonly doc: DocumentSender,
    private readonly tableName: string,
  ) {}

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    let item: Item | undefined;
    try {
      const output = await this.doc.send(
        // Consistent so that a rotated secret or a disabled client is honoured on the very next request.
        new GetCommand({ TableName: this.tableName, Key: { clientId }, ConsistentRead: true }),
      );
      item = output.Item;
    } catch (error) {
      throw storeFailure('getClient', error);
    }
    return item === undefined ? undefined : fromItem(item, 'getClient');
  }

  async createClient(client: NewClientRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(client),
          ConditionExpression: 'attribute_not_exists(#clientId)',
          ExpressionAttributeNames: { '#clientId': 'clientId' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        // A retried put whose first answer was lost meets its own write: that is success.
        if ((await this.getClient(client.clientId))?.secretHash === client.secretHash) return;
        throw new ClientAlreadyExists(client.clientId);
      }
      throw storeFailure('createClient', error);
    }
  }

  async updateClientSecret(
    clientId: string,
    secretHash: string,
    updatedAt: number,
    keepPreviousUntil?: number,
  ): Promise<boolean> {
    // One write either way. Every SET reads the item as it was before the update, so the replaced
    // hash moves to previousSecretHash in the same request that writes the new one.
    const keep = keepPreviousUntil !== undefined;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { clientId },
          UpdateExpression: keep
            ? 'SET #previous = #secretHash, #previousUntil = :until, #secretHash = :secretHash, #updatedAt = :updatedAt'
            : 'SET #secretHash = :secretHash, #updatedAt = :updatedAt REMOVE #previous, #previousUntil',
          ConditionExpression: 'attribute_exists(#clientId)',
          ExpressionAttributeNames: {
            '#clientId': 'clientId',
            '#secretHash': 'secretHash',
            '#updatedAt': 'updatedAt',
            '#previous': 'previousSecretHash',
            '#previousUntil': 'previousSecretExpiresAt',
          },
          ExpressionAttributeValues: {
            ':secretHash': secretHash,
            ':updatedAt': updatedAt,
            ...(keep && { ':until': keepPreviousUntil }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure('updateClientSecret', error);
    }
  }

  disableClient(clientId: string, updatedAt: number): Promise<boolean> {
    return this.updateExisting('disableClient', clientId, { disabled: true, updatedAt });
  }

  async listClients(): Promise<ClientRecord[]> {
    const clients: ClientRecord[] = [];
    let startKey: Item | undefined;
    do {
      let page: { Items?: Item[]; LastEvaluatedKey?: Item };
      try {
        page = await this.doc.send(
          new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
        );
      } catch (error) {
        throw storeFailure('listClients', error);
      }
      for (const item of page.Items ?? []) clients.push(fromItem(item, 'listClients'));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return clients;
  }

  /** SETs `changes` on an existing client only; the condition keeps an unknown id from being created. */
  private async updateExisting(
    operation: string,
    clientId: string,
    changes: Record<string, unknown>,
  ): Promise<boolean> {
    const names = Object.keys(changes);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { clientId },
          UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(#clientId)',
          ExpressionAttributeNames: Object.fromEntries([
            ['#clientId', 'clientId'],
            ...names.map((name) => [`#${name}`, name]),
          ]),
          ExpressionAttributeValues: Object.fromEntries(names.map((name) => [`:${name}`, changes[name]])),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure(operation, error);
    }
  }
}
