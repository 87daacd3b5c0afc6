import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isValidUserId, type UserId, userKeyOf } from '../core/auth-check';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import {
  CONSUMED_REFRESH_HASHES,
  type GrantRecord,
  type GrantStore,
  type RefreshRedemption,
} from '../core/grant-store';
import type { DocumentSender } from './cached-document-sender';
import { type Item, ItemReader, isConditionFailure, storeFailure } from './item-attributes';
import {
  GRANTS_BY_CLIENT_INDEX,
  GRANTS_BY_USER_INDEX,
  GRANTS_CLIENT_ID_ATTRIBUTE,
  GRANTS_USER_KEY_ATTRIBUTE,
} from './table-definitions';

const GRANT_TYPES: readonly GrantRecord['grantType'][] = [
  'password',
  'client_credentials',
  'authorization_code',
];

/**
 * Names the refresh hash of a rotation whose outcome was unknown and that must never land from now
 * on (see `settleRedemption`). Every redemption's condition refuses to write the hash fenced here.
 */
const FENCE_ATTRIBUTE = 'fencedRefreshHash';
/** Consistent reads (each with the SDK's own retries) that settle an unknown rotation. */
const SETTLE_READS = 2;

/** Optional fields are left out rather than set to undefined, whatever the marshaller's options. */
const toItem = (grant: GrantRecord): Item => ({
  grantId: grant.grantId,
  clientId: grant.clientId,
  grantType: grant.grantType,
  // userId keeps its JSON type; the index key is its string form so 1234 and "1234" meet.
  ...(grant.userId !== undefined && {
    userId: grant.userId,
    [GRANTS_USER_KEY_ATTRIBUTE]: userKeyOf(grant.userId),
  }),
  scope: [...grant.scope],
  accessScope: [...grant.accessScope],
  createdAt: grant.createdAt,
  issuedAt: grant.issuedAt,
  accessHash: grant.accessHash,
  accessExpiresAt: grant.accessExpiresAt,
  ...(grant.refreshHash !== undefined && { refreshHash: grant.refreshHash }),
  ...(grant.refreshExpiresAt !== undefined && { refreshExpiresAt: grant.refreshExpiresAt }),
  consumedRefreshHashes: [...grant.consumedRefreshHashes],
  ...(grant.rotatedAt !== undefined && { rotatedAt: grant.rotatedAt }),
  ...(grant.revokedAt !== undefined && { revokedAt: grant.revokedAt }),
  expiresAt: grant.expiresAt,
});

const fromItem = (item: Item, operation: string): GrantRecord => {
  const read = new ItemReader(item, operation);
  const userId: unknown = item.userId;
  if (userId !== undefined && !isValidUserId(userId)) throw read.malformed('userId');
  const refreshHash = read.optionalString('refreshHash');
  const refreshExpiresAt = read.optionalNumber('refreshExpiresAt');
  const rotatedAt = read.optionalNumber('rotatedAt');
  const revokedAt = read.optionalNumber('revokedAt');
  return {
    grantId: read.string('grantId'),
    clientId: read.string('clientId'),
    grantType: read.oneOf('grantType', GRANT_TYPES),
    ...(userId !== undefined && { userId: userId as UserId }),
    scope: read.stringList('scope'),
    accessScope: read.stringList('accessScope'),
    createdAt: read.number('createdAt'),
    issuedAt: read.number('issuedAt'),
    accessHash: read.string('accessHash'),
    accessExpiresAt: read.number('accessExpiresAt'),
    ...(refreshHash !== undefined && { refreshHash }),
    ...(refreshExpiresAt !== undefined && { refreshExpiresAt }),
    consumedRefreshHashes: read.stringList('consumedRefreshHashes'),
    ...(rotatedAt !== undefined && { rotatedAt }),
    ...(revokedAt !== undefined && { revokedAt }),
    expiresAt: read.number('expiresAt'),
  };
};

/** `GrantStore` on the grants table (see `grantsTableDefinition`). */
export class DynamoDbGrantStore implements GrantStore {
  constructor(
    private readonly doc: DocumentSender,
    private readonly tableName: string,
  ) {}

  async createGrant(grant: GrantRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(grant),
          // Ids are 128 random bits, so this never fires in practice; if it does, never overwrite a grant.
          ConditionExpression: 'attribute_not_exists(#grantId)',
          ExpressionAttributeNames: { '#grantId': 'grantId' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        // The SDK retries a write whose answer was lost; the retry then fails its own condition.
        if ((await this.getGrant(grant.grantId))?.accessHash === grant.accessHash) return;
        throw new DependencyUnavailable('store', 'createGrant failed', {
          cause: new Error(`grant id collision: ${grant.grantId}`),
        });
      }
      throw storeFailure('createGrant', error);
    }
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    let item: Item | undefined;
    try {
      const output = await this.doc.send(
        // Consistent so a refresh sees the previous rotation and a revocation is honoured immediately.
        new GetCommand({ TableName: this.tableName, Key: { grantId }, ConsistentRead: true }),
      );
      item = output.Item;
    } catch (error) {
      throw storeFailure('getGrant', error);
    }
    return item === undefined ? undefined : fromItem(item, 'getGrant');
  }

  async redeemRefreshToken(grantId: string, r: RefreshRedemption): Promise<GrantRecord | undefined> {
    let attributes: Item | undefined;
    try {
      // One conditional write is the whole check and the whole single-use guarantee: of concurrent
      // refreshes with the same token exactly one matches the stored hash; the others write nothing.
      // DynamoDB has no min(): the usual write is the one whose new expiry is inside the grant's cap;
      // only in the last refresh lifetime before the cap does a refused write try the capped one.
      try {
        attributes = (await this.doc.send(this.redemptionCommand(grantId, r, false))).Attributes;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        attributes = (await this.doc.send(this.redemptionCommand(grantId, r, true))).Attributes;
      }
    } catch (error) {
      // Refused, or an SDK retry meeting its own earlier write (first answer lost): the caller reads
      // the grant once and tells which.
      if (isConditionFailure(error)) return undefined;
      const settled = await this.settleRedemption(grantId, r.presentedHash, r.refreshHash);
      if (settled !== undefined) return settled;
      throw storeFailure('redeemRefreshToken', error);
    }
    const redeemed = fromItem(attributes ?? {}, 'redeemRefreshToken');
    if (redeemed.consumedRefreshHashes.length >= CONSUMED_REFRESH_HASHES.TRIM_AT) {
      await this.trimConsumedHashes(grantId, redeemed);
    }
    return redeemed;
  }

  /**
   * The redemption's write. `capped` false: the new expiry is `refreshExpiresAt`, on condition that
   * it is within the grant's cap. `capped` true: the new expiry is the cap itself (`createdAt` + max),
   * on condition that the cap is still ahead and before `refreshExpiresAt`.
   */
  private redemptionCommand(grantId: string, r: RefreshRedemption, capped: boolean): UpdateCommand {
    const scopeTokens = r.scope ?? [];
    const conditions = [
      '#clientId = :clientId',
      'attribute_not_exists(#revokedAt)',
      '#refreshHash = :presentedHash',
      '#refreshExpiresAt > :now',
      capped ? '#createdAt > :createdAfter AND #createdAt < :uncappedFloor' : '#createdAt >= :uncappedFloor',
      // A fenced hash is one an earlier, unanswered attempt wrote: it must never land late.
      '(attribute_not_exists(#fence) OR #fence <> :refreshHash)',
      ...(r.userKey === undefined ? [] : ['#userKey = :userKey']),
      ...scopeTokens.map((_, index) => `contains(#scope, :scope${index})`),
    ];
    return new UpdateCommand({
      TableName: this.tableName,
      Key: { grantId },
      UpdateExpression:
        'SET #accessHash = :accessHash, #accessExpiresAt = :accessExpiresAt, ' +
        `#accessScope = ${r.scope === undefined ? '#scope' : ':accessScope'}, ` +
        `#refreshHash = :refreshHash, #refreshExpiresAt = ${capped ? '#createdAt + :maxLifetime' : ':refreshExpiresAt'}, ` +
        '#issuedAt = :now, #rotatedAt = :now, #expiresAt = :expiresAt, ' +
        '#consumed = list_append(if_not_exists(#consumed, :noHashes), :presentedHashes)',
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: {
        '#clientId': 'clientId',
        '#revokedAt': 'revokedAt',
        '#refreshHash': 'refreshHash',
        '#refreshExpiresAt': 'refreshExpiresAt',
        '#createdAt': 'createdAt',
        '#fence': FENCE_ATTRIBUTE,
        '#accessHash': 'accessHash',
        '#accessExpiresAt': 'accessExpiresAt',
        '#accessScope': 'accessScope',
        '#scope': 'scope',
        '#issuedAt': 'issuedAt',
        '#rotatedAt': 'rotatedAt',
        '#expiresAt': 'expiresAt',
        '#consumed': 'consumedRefreshHashes',
        ...(r.userKey === undefined ? {} : { '#userKey': GRANTS_USER_KEY_ATTRIBUTE }),
      },
      ExpressionAttributeValues: {
        ':clientId': r.clientId,
        ':presentedHash': r.presentedHash,
        ':now': r.now,
        ':uncappedFloor': r.refreshExpiresAt - r.maxLifetimeSeconds,
        ...(capped
          ? { ':createdAfter': r.now - r.maxLifetimeSeconds, ':maxLifetime': r.maxLifetimeSeconds }
          : { ':refreshExpiresAt': r.refreshExpiresAt }),
        ':accessHash': r.accessHash,
        ':accessExpiresAt': r.accessExpiresAt,
        ...(r.scope === undefined ? {} : { ':accessScope': [...r.scope] }),
        ':refreshHash': r.refreshHash,
        // Keeps the item at least as long as the uncapped expiry: TTL is clean-up only.
        ':expiresAt': r.expiresAt,
        ':noHashes': [],
        ':presentedHashes': [r.presentedHash],
        ...(r.userKey === undefined ? {} : { ':userKey': r.userKey }),
        ...Object.fromEntries(scopeTokens.map((token, index) => [`:scope${index}`, token])),
      },
      ReturnValues: 'ALL_NEW',
    });
  }

  /**
   * Cuts the consumed hashes back to the last `KEPT`, only while the grant is still as just written.
   * Best effort: a failure leaves a longer list, which the next redemption trims.
   */
  private async trimConsumedHashes(grantId: string, grant: GrantRecord): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { grantId },
          UpdateExpression: 'SET #consumed = :kept',
          ConditionExpression: '#refreshHash = :refreshHash',
          ExpressionAttributeNames: { '#consumed': 'consumedRefreshHashes', '#refreshHash': 'refreshHash' },
          ExpressionAttributeValues: {
            ':kept': grant.consumedRefreshHashes.slice(-CONSUMED_REFRESH_HASHES.KEPT),
            ':refreshHash': grant.refreshHash,
          },
        }),
      );
    } catch {
      // Nothing to undo: the list is only longer than it needs to be.
    }
  }

  /**
   * The redemption failed without an answer (timeouts, lost answers, 5xx after every retry): it may
   * have landed, or may still land. Before the client is told 503, settle it so that the 503 is true:
   * fence the new hash out (a late copy of the write then fails its condition) and read the grant.
   * Answers the grant when the redemption did land, so the caller can hand out the new tokens after
   * all. When neither the fence nor the read gets through, the outcome stays unknown (undefined).
   */
  private async settleRedemption(
    grantId: string,
    expectedRefreshHash: string,
    newRefreshHash: string,
  ): Promise<GrantRecord | undefined> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { grantId },
          UpdateExpression: 'SET #fence = :newRefreshHash',
          ConditionExpression: '#refreshHash = :expectedRefreshHash',
          ExpressionAttributeNames: { '#fence': FENCE_ATTRIBUTE, '#refreshHash': 'refreshHash' },
          ExpressionAttributeValues: {
            ':newRefreshHash': newRefreshHash,
            ':expectedRefreshHash': expectedRefreshHash,
          },
        }),
      );
      // Fenced while the old token was still current: the redemption never happened and never will.
      return undefined;
    } catch {
      // The condition failed (the token moved on: ours or another redemption) or the outcome is
      // unknown again; the read decides.
    }
    // The read is what tells a client's tokens apart from tokens nobody holds: worth a second try.
    for (let read = 0; read < SETTLE_READS; read += 1) {
      try {
        const current = await this.getGrant(grantId);
        return current?.refreshHash === newRefreshHash && current.revokedAt === undefined
          ? current
          : undefined;
      } catch {
        // Still failing: read again, or give up with the outcome unknown.
      }
    }
    return undefined;
  }

  async revokeGrant(grantId: string, revokedAt: number): Promise<boolean> {
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { grantId },
          // The first revocation time is evidence for the log; repeating a revoke must not move it.
          UpdateExpression: 'SET #revokedAt = if_not_exists(#revokedAt, :revokedAt)',
          ConditionExpression: 'attribute_exists(#grantId)',
          ExpressionAttributeNames: { '#revokedAt': 'revokedAt', '#grantId': 'grantId' },
          ExpressionAttributeValues: { ':revokedAt': revokedAt },
          // The old revokedAt comes back only if there was one: then this call revoked nothing new.
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return output.Attributes?.revokedAt === undefined;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure('revokeGrant', error);
    }
  }

  async revokeGrantByToken(
    grantId: string,
    clientId: string,
    tokenHash: string,
    revokedAt: number,
  ): Promise<boolean> {
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { grantId },
          UpdateExpression: 'SET #revokedAt = if_not_exists(#revokedAt, :revokedAt)',
          // Comparing hashes (not secrets) in the condition leaks nothing about the token.
          ConditionExpression:
            '#clientId = :clientId AND (#accessHash = :tokenHash OR #refreshHash = :tokenHash)',
          ExpressionAttributeNames: {
            '#revokedAt': 'revokedAt',
            '#clientId': 'clientId',
            '#accessHash': 'accessHash',
            '#refreshHash': 'refreshHash',
          },
          ExpressionAttributeValues: {
            ':revokedAt': revokedAt,
            ':clientId': clientId,
            ':tokenHash': tokenHash,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return output.Attributes?.revokedAt === undefined;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure('revokeGrantByToken', error);
    }
  }

  listGrantIdsByUser(userKey: string): Promise<string[]> {
    return this.queryGrantIds('listGrantIdsByUser', GRANTS_BY_USER_INDEX, GRANTS_USER_KEY_ATTRIBUTE, userKey);
  }

  listGrantIdsByClient(clientId: string): Promise<string[]> {
    return this.queryGrantIds(
      'listGrantIdsByClient',
      GRANTS_BY_CLIENT_INDEX,
      GRANTS_CLIENT_ID_ATTRIBUTE,
      clientId,
    );
  }

  /**
   * GSI reads are eventually consistent (DynamoDB offers nothing else on a GSI); a grant created a
   * moment ago may be missing. Callers revoke what they find, and the grant's own checks do the rest.
   */
  private async queryGrantIds(
    operation: string,
    indexName: string,
    keyAttribute: string,
    keyValue: string,
  ): Promise<string[]> {
    const grantIds: string[] = [];
    let startKey: Item | undefined;
    do {
      let page: { Items?: Item[]; LastEvaluatedKey?: Item };
      try {
        page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: indexName,
            KeyConditionExpression: '#key = :key',
            ProjectionExpression: '#grantId',
            ExpressionAttributeNames: { '#key': keyAttribute, '#grantId': 'grantId' },
            ExpressionAttributeValues: { ':key': keyValue },
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw storeFailure(operation, error);
      }
      for (const item of page.Items ?? []) grantIds.push(new ItemReader(item, operation).string('grantId'));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return grantIds;
  }
}
