import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LockoutState, LockoutStore } from '../core/password-lockout';
import { type Item, ItemReader, isConditionFailure, storeFailure } from './item-attributes';
import { GRANTS_PARTITION_KEY } from './table-definitions';

/**
 * Lockout items share the grants table (its TTL attribute deletes them): one small item per username
 * with recent failures. `#` never occurs in a grant id (base64url), so no token can address one,
 * and they carry neither index attribute, so no grant listing sees them.
 */
export const LOCKOUT_KEY_PREFIX = 'lockout#';

const fromItem = (item: Item, operation: string): LockoutState => {
  const read = new ItemReader(item, operation);
  return {
    failures: read.number('failures'),
    lastFailureAt: read.number('lastFailureAt'),
    expiresAt: read.number('expiresAt'),
  };
};

/** `LockoutStore` on the grants table (see `LOCKOUT_KEY_PREFIX`). */
export class DynamoDbLockoutStore implements LockoutStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private keyOf(key: string) {
    return { [GRANTS_PARTITION_KEY]: `${LOCKOUT_KEY_PREFIX}${key}` };
  }

  async getLockout(key: string): Promise<LockoutState | undefined> {
    let item: Item | undefined;
    try {
      const output = await this.doc.send(
        // Consistent: a lock written by another Lambda instance a moment ago must hold now.
        new GetCommand({ TableName: this.tableName, Key: this.keyOf(key), ConsistentRead: true }),
      );
      item = output.Item;
    } catch (error) {
      throw storeFailure('getLockout', error);
    }
    return item === undefined ? undefined : fromItem(item, 'getLockout');
  }

  async recordFailure(key: string, at: number, expiresAt: number): Promise<LockoutState> {
    // Two rounds at most: a stale item is replaced, unless a concurrent failure replaced it first.
    for (let round = 0; round < 2; round += 1) {
      try {
        // ADD counts every concurrent failure. An SDK retry after a lost answer may count one twice;
        // erring towards locking is the safe direction.
        const output = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.keyOf(key),
            UpdateExpression: 'SET #lastFailureAt = :at, #expiresAt = :expiresAt ADD #failures :one',
            ConditionExpression: 'attribute_not_exists(#failures) OR #expiresAt > :at',
            ExpressionAttributeNames: {
              '#failures': 'failures',
              '#lastFailureAt': 'lastFailureAt',
              '#expiresAt': 'expiresAt',
            },
            ExpressionAttributeValues: { ':at': at, ':expiresAt': expiresAt, ':one': 1 },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return fromItem(output.Attributes ?? {}, 'recordFailure');
      } catch (error) {
        if (!isConditionFailure(error)) throw storeFailure('recordFailure', error);
      }
      // The item is expired but not yet deleted by TTL: start a fresh count.
      try {
        const fresh: LockoutState = { failures: 1, lastFailureAt: at, expiresAt };
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.keyOf(key), ...fresh },
            ConditionExpression: '#expiresAt <= :at',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':at': at },
          }),
        );
        return fresh;
      } catch (error) {
        if (!isConditionFailure(error)) throw storeFailure('recordFailure', error);
      }
    }
    throw storeFailure('recordFailure', new Error('lockout item kept changing under concurrent failures'));
  }

  async clearLockout(key: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.keyOf(key) }));
    } catch (error) {
      throw storeFailure('clearLockout', error);
    }
  }
}
