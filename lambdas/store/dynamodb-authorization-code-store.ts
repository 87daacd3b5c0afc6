import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isValidUserId, type UserId } from '../core/auth-check';
import type {
  AuthorizationCodeRecord,
  AuthorizationCodeStore,
  CodeRedemption,
} from '../core/authorization-code-store';
import type { DocumentSender } from './cached-document-sender';
import { type Item, ItemReader, isConditionFailure, storeFailure } from './item-attributes';
import { GRANTS_PARTITION_KEY } from './table-definitions';

/**
 * Code items share the grants table (its TTL attribute deletes them), keyed `code#<hash>`. `#` never
 * occurs in a grant id (base64url), so no token can address one. The client is stored as
 * `codeClientId` and the user without `userKey`: neither index sees a code, so no grant listing
 * (disable-client, revoke-user-tokens) mistakes one for a grant.
 */
export const CODE_KEY_PREFIX = 'code#';

const toItem = (code: AuthorizationCodeRecord): Item => ({
  [GRANTS_PARTITION_KEY]: `${CODE_KEY_PREFIX}${code.codeHash}`,
  codeClientId: code.clientId,
  redirectUri: code.redirectUri,
  redirectUriSent: code.redirectUriSent,
  codeChallenge: code.codeChallenge,
  userId: code.userId,
  scope: [...code.scope],
  issuedAt: code.issuedAt,
  codeExpiresAt: code.codeExpiresAt,
  ...(code.redeemedAt !== undefined && { redeemedAt: code.redeemedAt }),
  ...(code.grantId !== undefined && { issuedGrantId: code.grantId }),
  ...(code.replayedAt !== undefined && { replayedAt: code.replayedAt }),
  expiresAt: code.expiresAt,
});

const fromItem = (item: Item, operation: string): AuthorizationCodeRecord => {
  const read = new ItemReader(item, operation);
  const key = read.string(GRANTS_PARTITION_KEY);
  const userId: unknown = item.userId;
  if (!isValidUserId(userId)) throw read.malformed('userId');
  const redeemedAt = read.optionalNumber('redeemedAt');
  const grantId = read.optionalString('issuedGrantId');
  const replayedAt = read.optionalNumber('replayedAt');
  return {
    codeHash: key.slice(CODE_KEY_PREFIX.length),
    clientId: read.string('codeClientId'),
    redirectUri: read.string('redirectUri'),
    redirectUriSent: read.boolean('redirectUriSent'),
    codeChallenge: read.string('codeChallenge'),
    userId: userId as UserId,
    scope: read.stringList('scope'),
    issuedAt: read.number('issuedAt'),
    codeExpiresAt: read.number('codeExpiresAt'),
    ...(redeemedAt !== undefined && { redeemedAt }),
    ...(grantId !== undefined && { grantId }),
    ...(replayedAt !== undefined && { replayedAt }),
    expiresAt: read.number('expiresAt'),
  };
};

/** `AuthorizationCodeStore` on the grants table (see `CODE_KEY_PREFIX`). */
export class DynamoDbAuthorizationCodeStore implements AuthorizationCodeStore {
  constructor(
    private readonly doc: DocumentSender,
    private readonly tableName: string,
  ) {}

  private keyOf(codeHash: string) {
    return { [GRANTS_PARTITION_KEY]: `${CODE_KEY_PREFIX}${codeHash}` };
  }

  async createCode(code: AuthorizationCodeRecord): Promise<void> {
    try {
      // 256 random bits never collide; an SDK retry of this put writes the same item again.
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: toItem(code) }));
    } catch (error) {
      throw storeFailure('createCode', error);
    }
  }

  async getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    let item: Item | undefined;
    try {
      const output = await this.doc.send(
        // Consistent: a redemption by another Lambda instance a moment ago must be seen.
        new GetCommand({ TableName: this.tableName, Key: this.keyOf(codeHash), ConsistentRead: true }),
      );
      item = output.Item;
    } catch (error) {
      throw storeFailure('getCode', error);
    }
    return item === undefined ? undefined : fromItem(item, 'getCode');
  }

  async redeemCode(
    codeHash: string,
    redemption: CodeRedemption,
  ): Promise<AuthorizationCodeRecord | undefined> {
    const redirectCondition =
      redemption.redirectUri === undefined ? '#redirectUriSent = :false' : '#redirectUri = :redirectUri';
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(codeHash),
          UpdateExpression: 'SET #redeemedAt = :now, #issuedGrantId = :grantId, #expiresAt = :expiresAt',
          // The whole check in one write: this is what makes a code single-use.
          ConditionExpression: [
            'attribute_exists(#key)',
            'attribute_not_exists(#redeemedAt)',
            '#codeClientId = :clientId',
            '#codeChallenge = :codeChallenge',
            '#codeExpiresAt > :now',
            redirectCondition,
          ].join(' AND '),
          ExpressionAttributeNames: {
            '#key': GRANTS_PARTITION_KEY,
            '#redeemedAt': 'redeemedAt',
            '#issuedGrantId': 'issuedGrantId',
            '#expiresAt': 'expiresAt',
            '#codeClientId': 'codeClientId',
            '#codeChallenge': 'codeChallenge',
            '#codeExpiresAt': 'codeExpiresAt',
            ...(redemption.redirectUri === undefined
              ? { '#redirectUriSent': 'redirectUriSent' }
              : { '#redirectUri': 'redirectUri' }),
          },
          ExpressionAttributeValues: {
            ':now': redemption.now,
            ':grantId': redemption.grantId,
            ':expiresAt': redemption.expiresAt,
            ':clientId': redemption.clientId,
            ':codeChallenge': redemption.codeChallenge,
            ...(redemption.redirectUri === undefined
              ? { ':false': false }
              : { ':redirectUri': redemption.redirectUri }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(output.Attributes ?? {}, 'redeemCode');
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw storeFailure('redeemCode', error);
    }
  }

  async markReplayed(codeHash: string, at: number): Promise<AuthorizationCodeRecord | undefined> {
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(codeHash),
          UpdateExpression: 'SET #replayedAt = if_not_exists(#replayedAt, :at)',
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#replayedAt': 'replayedAt', '#key': GRANTS_PARTITION_KEY },
          ExpressionAttributeValues: { ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(output.Attributes ?? {}, 'markReplayed');
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw storeFailure('markReplayed', error);
    }
  }
}
