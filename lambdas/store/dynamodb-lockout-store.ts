import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  freshLockoutState,
  type LockoutState,
  type LockoutStore,
  type Reservation,
  type ReservationTerms,
} from '../core/password-lockout';
import type { DocumentSender } from './cached-document-sender';
import { type Item, ItemReader, isConditionFailure, storeFailure } from './item-attributes';
import { GRANTS_PARTITION_KEY, LOCKOUT_KEY_PREFIX } from './table-definitions';

// Defined beside the table layout (which the CDK package ships); re-exported for the store's users.
export { LOCKOUT_KEY_PREFIX };

const NAMES = {
  '#reserved': 'reserved',
  '#limit': 'limit',
  '#failures': 'failures',
  '#lockedUntil': 'lockedUntil',
  '#lastFailureAt': 'lastFailureAt',
  '#reservedAt': 'reservedAt',
  '#expiresAt': 'expiresAt',
} as const;

/** Only the names an expression uses: DynamoDB refuses unused ones. */
const namesOf = (...names: (keyof typeof NAMES)[]) =>
  Object.fromEntries(names.map((name) => [name, NAMES[name]]));

/** Items of the earlier format (failures only, no `reserved`) are read as expired: replaced once. */
const fromItem = (item: Item, operation: string): LockoutState => {
  const read = new ItemReader(item, operation);
  if (item.reserved === undefined) {
    return {
      reserved: 0,
      limit: 0,
      failures: 0,
      lockedUntil: 0,
      lastFailureAt: 0,
      reservedAt: 0,
      expiresAt: 0,
    };
  }
  return {
    reserved: read.number('reserved'),
    limit: read.number('limit'),
    failures: read.number('failures'),
    lockedUntil: read.number('lockedUntil'),
    lastFailureAt: read.number('lastFailureAt'),
    reservedAt: read.number('reservedAt'),
    expiresAt: read.number('expiresAt'),
  };
};

/** A reservation may race other writers: after this many lost races it answers `full` (wait, retry). */
const RESERVE_ROUNDS = 3;

/**
 * `LockoutStore` on the grants table (see `LOCKOUT_KEY_PREFIX`). The sign-in path costs one
 * conditional `UpdateItem` to reserve (a `GetItem` too only when it is refused), then one write
 * after the AuthCheck: the success's release, or the failure's count (+ the lock's write when the
 * count reaches the threshold).
 */
export class DynamoDbLockoutStore implements LockoutStore {
  constructor(
    private readonly doc: DocumentSender,
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

  async reserveAttempt(key: string, at: number, terms: ReservationTerms): Promise<Reservation> {
    for (let round = 0; round < RESERVE_ROUNDS; round += 1) {
      try {
        // The whole check is the condition: a new item, or one that is live, unlocked and has a
        // free slot. `reserved < limit` compares two attributes of the item itself.
        const output = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.keyOf(key),
            UpdateExpression:
              'SET #limit = if_not_exists(#limit, :threshold), #failures = if_not_exists(#failures, :zero), ' +
              '#lockedUntil = if_not_exists(#lockedUntil, :zero), #lastFailureAt = if_not_exists(#lastFailureAt, :zero), ' +
              '#reservedAt = :at, #expiresAt = :expiresAt ADD #reserved :one',
            ConditionExpression:
              'attribute_not_exists(#failures) OR (#reserved < #limit AND #lockedUntil <= :at AND #expiresAt > :at)',
            ExpressionAttributeNames: namesOf(
              '#reserved',
              '#limit',
              '#failures',
              '#lockedUntil',
              '#lastFailureAt',
              '#reservedAt',
              '#expiresAt',
            ),
            ExpressionAttributeValues: {
              ':threshold': terms.threshold,
              ':zero': 0,
              ':one': 1,
              ':at': at,
              ':expiresAt': terms.expiresAt,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { outcome: 'reserved', state: fromItem(output.Attributes ?? {}, 'reserveAttempt') };
      } catch (error) {
        if (!isConditionFailure(error)) throw storeFailure('reserveAttempt', error);
      }
      // Refused: one read tells why (dynalite does not return the item with the condition failure).
      const state = await this.getLockout(key);
      if (state === undefined) continue; // unlocked meanwhile: try again
      if (state.expiresAt <= at) {
        const fresh = await this.replaceExpired(key, at, terms);
        if (fresh !== undefined) return { outcome: 'reserved', state: fresh };
        continue;
      }
      if (state.lockedUntil > at) return { outcome: 'locked', lockedUntil: state.lockedUntil };
      if (state.reserved < state.limit) continue; // a slot came free meanwhile
      if (state.reservedAt > terms.staleBefore) return { outcome: 'full' };
      const recovered = await this.recoverLeaked(key, at, terms, state);
      if (recovered !== undefined) return { outcome: 'reserved', state: recovered };
    }
    return { outcome: 'full' };
  }

  /** State past its expiry (not yet deleted by TTL) or of the earlier format: a fresh start. */
  private async replaceExpired(
    key: string,
    at: number,
    terms: ReservationTerms,
  ): Promise<LockoutState | undefined> {
    const fresh = freshLockoutState(at, terms);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.keyOf(key), ...fresh },
          ConditionExpression: 'attribute_not_exists(#reserved) OR #expiresAt <= :at',
          ExpressionAttributeNames: namesOf('#reserved', '#expiresAt'),
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return fresh;
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure('reserveAttempt', error);
      return undefined;
    }
  }

  /**
   * A full budget with no reservation for `STALE_RESERVATION_SECONDS`: no live attempt can hold one
   * that long, so the slots beyond the failures were leaked by Lambdas that died. Conditioned on the
   * state as read, so two recoveries cannot both succeed.
   */
  private async recoverLeaked(
    key: string,
    at: number,
    terms: ReservationTerms,
    seen: LockoutState,
  ): Promise<LockoutState | undefined> {
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(key),
          UpdateExpression:
            'SET #reserved = :reserved, #limit = :limit, #reservedAt = :at, #expiresAt = :expiresAt',
          ConditionExpression:
            '#reserved = :seenReserved AND #reservedAt = :seenReservedAt AND #failures = :seenFailures',
          ExpressionAttributeNames: namesOf('#reserved', '#limit', '#reservedAt', '#expiresAt', '#failures'),
          ExpressionAttributeValues: {
            ':reserved': seen.failures + 1,
            ':limit': Math.max(seen.limit, seen.failures + 1),
            ':at': at,
            ':expiresAt': terms.expiresAt,
            ':seenReserved': seen.reserved,
            ':seenReservedAt': seen.reservedAt,
            ':seenFailures': seen.failures,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(output.Attributes ?? {}, 'reserveAttempt');
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure('reserveAttempt', error);
      return undefined;
    }
  }

  async recordFailure(
    key: string,
    at: number,
    terms: Omit<ReservationTerms, 'staleBefore'>,
  ): Promise<LockoutState> {
    try {
      // ADD counts every concurrent failure. The if_not_exists parts only matter when an admin
      // unlock deleted the item while this attempt was in flight: the failure still counts, as its
      // own reservation. An SDK retry after a lost answer may count one twice: towards locking.
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(key),
          UpdateExpression:
            'SET #lastFailureAt = :at, #expiresAt = :expiresAt, #reserved = if_not_exists(#reserved, :one), ' +
            '#limit = if_not_exists(#limit, :threshold), #lockedUntil = if_not_exists(#lockedUntil, :zero), ' +
            '#reservedAt = if_not_exists(#reservedAt, :at) ADD #failures :one',
          ExpressionAttributeNames: namesOf(
            '#lastFailureAt',
            '#expiresAt',
            '#reserved',
            '#limit',
            '#lockedUntil',
            '#reservedAt',
            '#failures',
          ),
          ExpressionAttributeValues: {
            ':at': at,
            ':expiresAt': terms.expiresAt,
            ':one': 1,
            ':zero': 0,
            ':threshold': terms.threshold,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(output.Attributes ?? {}, 'recordFailure');
    } catch (error) {
      throw storeFailure('recordFailure', error);
    }
  }

  async lock(key: string, failures: number, lockedUntil: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(key),
          UpdateExpression: 'SET #lockedUntil = :lockedUntil, #limit = :limit',
          ConditionExpression: '#failures = :failures',
          ExpressionAttributeNames: namesOf('#lockedUntil', '#limit', '#failures'),
          ExpressionAttributeValues: {
            ':lockedUntil': lockedUntil,
            ':limit': failures + 1,
            ':failures': failures,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure('lock', error);
    }
  }

  async recordSuccess(key: string, seenFailures: number, threshold: number): Promise<void> {
    if (seenFailures > 0) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.keyOf(key),
            UpdateExpression:
              'SET #failures = :zero, #limit = :threshold, #lockedUntil = :zero ADD #reserved :release',
            // Only the failures this attempt saw may be erased; any newer one keeps the count.
            ConditionExpression: '#failures = :seen AND #reserved >= :held',
            ExpressionAttributeNames: namesOf('#failures', '#limit', '#lockedUntil', '#reserved'),
            ExpressionAttributeValues: {
              ':zero': 0,
              ':threshold': threshold,
              ':release': -(seenFailures + 1),
              ':seen': seenFailures,
              ':held': seenFailures + 1,
            },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw storeFailure('recordSuccess', error);
      }
    }
    await this.releaseAttempt(key);
  }

  async releaseAttempt(key: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(key),
          UpdateExpression: 'ADD #reserved :minusOne',
          // Never below zero, and never an item re-created by the release itself (after an unlock).
          ConditionExpression: '#reserved > :zero',
          ExpressionAttributeNames: namesOf('#reserved'),
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure('releaseAttempt', error);
    }
  }

  async clearLockout(key: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.keyOf(key) }));
    } catch (error) {
      throw storeFailure('clearLockout', error);
    }
  }
}
