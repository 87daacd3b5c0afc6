import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ClientAlreadyExists } from '../../lambdas/core/client-store';
import { DependencyUnavailable } from '../../lambdas/core/dependency-unavailable';
import type { RefreshRedemption } from '../../lambdas/core/grant-store';
import { DynamoDbClientStore } from '../../lambdas/store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../../lambdas/store/dynamodb-grant-store';
import { aClient, aClientCredentialsGrant, aPasswordGrant } from './store-contract';

// The one place the document client is faked: to pin the request shapes that carry the guarantees
// (consistency, conditions, a single write per rotation). Behaviour is tested against dynalite.

interface SentCommand {
  readonly input: Record<string, unknown>;
}

const fakeDoc = (answer: (command: SentCommand, index: number) => unknown = () => ({})) => {
  const sent: SentCommand[] = [];
  const doc = {
    send: async (command: SentCommand) => {
      sent.push(command);
      const result = answer(command, sent.length - 1);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, sent };
};

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const redemption: RefreshRedemption = {
  clientId: 'client-a',
  presentedHash: 'refresh-hash-1',
  now: 100,
  userKey: '1234',
  scope: ['read'],
  accessHash: 'access-2',
  accessExpiresAt: 200,
  refreshHash: 'refresh-2',
  refreshExpiresAt: 300,
  maxLifetimeSeconds: 1000,
  expiresAt: 300,
};

/** `SET #a = :a, #b = :b` resolved through the name and value maps: `{ a: value, b: value }`. */
const setAssignments = (input: Record<string, unknown>) => {
  const expression = String(input.UpdateExpression);
  const names = input.ExpressionAttributeNames as Record<string, string>;
  const values = input.ExpressionAttributeValues as Record<string, unknown>;
  expect(expression.startsWith('SET ')).toBe(true);
  return Object.fromEntries(
    expression
      .slice(4)
      .split(',')
      .map((assignment) => {
        const [name = '', value = ''] = assignment.split('=').map((part) => part.trim());
        return [names[name], values[value]];
      }),
  );
};

describe('DynamoDbClientStore command shapes', () => {
  it('getClient is one strongly consistent GetItem by key', async () => {
    const { doc, sent } = fakeDoc(() => ({ Item: aClient() }));
    await new DynamoDbClientStore(doc, 'clients').getClient('client-a');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(GetCommand);
    expect(sent[0]?.input).toEqual({
      TableName: 'clients',
      Key: { clientId: 'client-a' },
      ConsistentRead: true,
    });
  });

  it('createClient is one PutItem that refuses to overwrite', async () => {
    const { doc, sent } = fakeDoc();
    await new DynamoDbClientStore(doc, 'clients').createClient(aClient());
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(PutCommand);
    expect(sent[0]?.input).toEqual({
      TableName: 'clients',
      Item: aClient(),
      ConditionExpression: 'attribute_not_exists(#clientId)',
      ExpressionAttributeNames: { '#clientId': 'clientId' },
    });
  });

  it('createClient maps a condition failure to ClientAlreadyExists after one consistent re-read', async () => {
    const { doc, sent } = fakeDoc((command) => (command instanceof GetCommand ? {} : conditionFailed()));
    await expect(new DynamoDbClientStore(doc, 'clients').createClient(aClient())).rejects.toBeInstanceOf(
      ClientAlreadyExists,
    );
    expect(sent.map((command) => command.constructor.name)).toEqual(['PutCommand', 'GetCommand']);
    expect(sent[1]?.input).toMatchObject({ ConsistentRead: true, Key: { clientId: aClient().clientId } });
  });

  it.each([
    [false, 'SET #secretHash = :secretHash, #updatedAt = :updatedAt REMOVE #previous, #previousUntil'],
    [
      true,
      'SET #previous = #secretHash, #previousUntil = :until, #secretHash = :secretHash, #updatedAt = :updatedAt',
    ],
  ])(
    'updateClientSecret (keeping the previous: %s) is one conditional UpdateItem',
    async (keep, expression) => {
      const { doc, sent } = fakeDoc();
      const store = new DynamoDbClientStore(doc, 'clients');
      expect(await store.updateClientSecret('client-a', 'h2', 9, keep ? 69 : undefined)).toBe(true);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.input).toEqual({
        TableName: 'clients',
        Key: { clientId: 'client-a' },
        UpdateExpression: expression,
        ConditionExpression: 'attribute_exists(#clientId)',
        ExpressionAttributeNames: {
          '#clientId': 'clientId',
          '#secretHash': 'secretHash',
          '#updatedAt': 'updatedAt',
          '#previous': 'previousSecretHash',
          '#previousUntil': 'previousSecretExpiresAt',
        },
        ExpressionAttributeValues: {
          ':secretHash': 'h2',
          ':updatedAt': 9,
          ...(keep ? { ':until': 69 } : {}),
        },
      });
      const failing = fakeDoc(() => conditionFailed());
      expect(
        await new DynamoDbClientStore(failing.doc, 'clients').updateClientSecret('client-a', 'h2', 9),
      ).toBe(false);
    },
  );

  it.each([
    [
      'disableClient',
      (store: DynamoDbClientStore) => store.disableClient('client-a', 9),
      { disabled: true, updatedAt: 9 },
    ],
  ] as const)('%s is one UpdateItem conditional on the client existing', async (_, call, assignments) => {
    const { doc, sent } = fakeDoc();
    expect(await call(new DynamoDbClientStore(doc, 'clients'))).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(UpdateCommand);
    expect(sent[0]?.input).toMatchObject({
      TableName: 'clients',
      Key: { clientId: 'client-a' },
      ConditionExpression: 'attribute_exists(#clientId)',
      ExpressionAttributeNames: { '#clientId': 'clientId' },
    });
    expect(setAssignments(sent[0]?.input ?? {})).toEqual(assignments);

    const failing = fakeDoc(() => conditionFailed());
    expect(await call(new DynamoDbClientStore(failing.doc, 'clients'))).toBe(false);
  });

  it('listClients follows LastEvaluatedKey with consistent scans', async () => {
    const { doc, sent } = fakeDoc((_, index) =>
      index === 0
        ? { Items: [aClient({ clientId: 'a' })], LastEvaluatedKey: { clientId: 'a' } }
        : { Items: [aClient({ clientId: 'b' })] },
    );
    const listed = await new DynamoDbClientStore(doc, 'clients').listClients();
    expect(listed.map((client) => client.clientId)).toEqual(['a', 'b']);
    expect(sent).toHaveLength(2);
    expect(sent.every((command) => command instanceof ScanCommand)).toBe(true);
    expect(sent[0]?.input).toEqual({
      TableName: 'clients',
      ConsistentRead: true,
      ExclusiveStartKey: undefined,
    });
    expect(sent[1]?.input).toEqual({
      TableName: 'clients',
      ConsistentRead: true,
      ExclusiveStartKey: { clientId: 'a' },
    });
  });
});

describe('DynamoDbGrantStore command shapes', () => {
  it('getGrant is one strongly consistent GetItem by key', async () => {
    const { doc, sent } = fakeDoc(() => ({ Item: aPasswordGrant() }));
    await new DynamoDbGrantStore(doc, 'grants').getGrant('grant-1');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(GetCommand);
    expect(sent[0]?.input).toEqual({
      TableName: 'grants',
      Key: { grantId: 'grant-1' },
      ConsistentRead: true,
    });
  });

  it('createGrant is one PutItem that refuses to overwrite and carries the user key', async () => {
    const { doc, sent } = fakeDoc();
    await new DynamoDbGrantStore(doc, 'grants').createGrant(aPasswordGrant({ userId: 1234 }));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(PutCommand);
    expect(sent[0]?.input).toStrictEqual({
      TableName: 'grants',
      Item: { ...aPasswordGrant({ userId: 1234 }), userKey: '1234' },
      ConditionExpression: 'attribute_not_exists(#grantId)',
      ExpressionAttributeNames: { '#grantId': 'grantId' },
    });
  });

  it('createGrant gives a grant without a user no userKey (the byUser index is sparse)', async () => {
    const { doc, sent } = fakeDoc();
    await new DynamoDbGrantStore(doc, 'grants').createGrant(aClientCredentialsGrant());
    expect(sent[0]?.input.Item).toStrictEqual(aClientCredentialsGrant());
  });

  it('redeemRefreshToken is a single UpdateItem whose condition is the whole check', async () => {
    const { doc, sent } = fakeDoc(() => ({ Attributes: { ...aPasswordGrant() } }));
    await new DynamoDbGrantStore(doc, 'grants').redeemRefreshToken('grant-1', redemption);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(UpdateCommand);
    expect(sent[0]?.input).toEqual({
      TableName: 'grants',
      Key: { grantId: 'grant-1' },
      UpdateExpression:
        'SET #accessHash = :accessHash, #accessExpiresAt = :accessExpiresAt, #accessScope = :accessScope, ' +
        '#refreshHash = :refreshHash, #refreshExpiresAt = :refreshExpiresAt, ' +
        '#issuedAt = :now, #rotatedAt = :now, #expiresAt = :expiresAt, ' +
        '#consumed = list_append(if_not_exists(#consumed, :noHashes), :presentedHashes)',
      ConditionExpression:
        '#clientId = :clientId AND attribute_not_exists(#revokedAt) AND #refreshHash = :presentedHash AND ' +
        '#refreshExpiresAt > :now AND #createdAt >= :uncappedFloor AND ' +
        '(attribute_not_exists(#fence) OR #fence <> :refreshHash) AND ' +
        '#userKey = :userKey AND contains(#scope, :scope0)',
      ExpressionAttributeNames: {
        '#clientId': 'clientId',
        '#revokedAt': 'revokedAt',
        '#refreshHash': 'refreshHash',
        '#refreshExpiresAt': 'refreshExpiresAt',
        '#createdAt': 'createdAt',
        '#fence': 'fencedRefreshHash',
        '#accessHash': 'accessHash',
        '#accessExpiresAt': 'accessExpiresAt',
        '#accessScope': 'accessScope',
        '#scope': 'scope',
        '#issuedAt': 'issuedAt',
        '#rotatedAt': 'rotatedAt',
        '#expiresAt': 'expiresAt',
        '#consumed': 'consumedRefreshHashes',
        '#userKey': 'userKey',
      },
      ExpressionAttributeValues: {
        ':clientId': 'client-a',
        ':presentedHash': 'refresh-hash-1',
        ':now': 100,
        // The new expiry (300) is inside the cap when createdAt >= 300 - 1000.
        ':uncappedFloor': -700,
        ':refreshExpiresAt': 300,
        ':accessHash': 'access-2',
        ':accessExpiresAt': 200,
        ':accessScope': ['read'],
        ':refreshHash': 'refresh-2',
        ':expiresAt': 300,
        ':noHashes': [],
        ':presentedHashes': ['refresh-hash-1'],
        ':userKey': '1234',
        ':scope0': 'read',
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('redeemRefreshToken without scope or user_id copies the grant scope and checks no user', async () => {
    const { doc, sent } = fakeDoc(() => ({ Attributes: { ...aPasswordGrant() } }));
    const { userKey: _u, scope: _s, ...plain } = redemption;
    await new DynamoDbGrantStore(doc, 'grants').redeemRefreshToken('grant-1', plain);
    const input = sent[0]?.input as Record<string, string>;
    expect(input.UpdateExpression).toContain('#accessScope = #scope');
    expect(input.ConditionExpression).not.toMatch(/userKey|contains/);
  });

  it('redeemRefreshToken answers undefined for a condition failure, without reading (the caller does)', async () => {
    const { doc, sent } = fakeDoc(() => conditionFailed());
    expect(
      await new DynamoDbGrantStore(doc, 'grants').redeemRefreshToken('grant-1', redemption),
    ).toBeUndefined();
    // The usual write, then the one that caps the new expiry at the grant's creation + max.
    expect(sent.map((command) => command.constructor.name)).toEqual(['UpdateCommand', 'UpdateCommand']);
    const capped = sent[1]?.input as Record<string, unknown>;
    expect(capped.UpdateExpression).toContain('#refreshExpiresAt = #createdAt + :maxLifetime');
    expect(capped.ConditionExpression).toContain(
      '#createdAt > :createdAfter AND #createdAt < :uncappedFloor',
    );
    expect(capped.ExpressionAttributeValues).toMatchObject({
      ':createdAfter': 100 - 1000,
      ':maxLifetime': 1000,
      ':uncappedFloor': -700,
    });
    expect(capped.ExpressionAttributeValues).not.toHaveProperty(':refreshExpiresAt');
  });

  it('redeemRefreshToken settles a write that failed without an answer: fences the new hash, then reads', async () => {
    const unavailable = Object.assign(new Error('service unavailable'), { name: 'InternalServerError' });
    // The write fails; the fence is accepted: the old token was still current, so nothing happened.
    const { doc, sent } = fakeDoc((_command, index) => (index === 0 ? unavailable : {}));
    await expect(
      new DynamoDbGrantStore(doc, 'grants').redeemRefreshToken('grant-1', redemption),
    ).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(sent.map((command) => command.constructor.name)).toEqual(['UpdateCommand', 'UpdateCommand']);
    expect(sent[1]?.input).toEqual({
      TableName: 'grants',
      Key: { grantId: 'grant-1' },
      UpdateExpression: 'SET #fence = :newRefreshHash',
      ConditionExpression: '#refreshHash = :expectedRefreshHash',
      ExpressionAttributeNames: { '#fence': 'fencedRefreshHash', '#refreshHash': 'refreshHash' },
      ExpressionAttributeValues: { ':newRefreshHash': 'refresh-2', ':expectedRefreshHash': 'refresh-hash-1' },
    });

    // The fence finds the token moved on and the read finds our write: the refresh succeeded.
    const landed = fakeDoc((command, index) =>
      index === 0
        ? unavailable
        : command instanceof GetCommand
          ? { Item: { ...aPasswordGrant(), refreshHash: 'refresh-2' } }
          : conditionFailed(),
    );
    const settled = await new DynamoDbGrantStore(landed.doc, 'grants').redeemRefreshToken(
      'grant-1',
      redemption,
    );
    expect(settled?.refreshHash).toBe('refresh-2');
    expect(landed.sent.map((command) => command.constructor.name)).toEqual([
      'UpdateCommand',
      'UpdateCommand',
      'GetCommand',
    ]);
  });

  it('revokeGrant keeps the first revocation time and never creates a grant', async () => {
    const { doc, sent } = fakeDoc();
    expect(await new DynamoDbGrantStore(doc, 'grants').revokeGrant('grant-1', 77)).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(UpdateCommand);
    expect(sent[0]?.input).toEqual({
      TableName: 'grants',
      Key: { grantId: 'grant-1' },
      UpdateExpression: 'SET #revokedAt = if_not_exists(#revokedAt, :revokedAt)',
      ConditionExpression: 'attribute_exists(#grantId)',
      ExpressionAttributeNames: { '#revokedAt': 'revokedAt', '#grantId': 'grantId' },
      ExpressionAttributeValues: { ':revokedAt': 77 },
      ReturnValues: 'UPDATED_OLD',
    });
  });

  it.each([
    [
      'listGrantIdsByUser',
      'byUser',
      'userKey',
      (store: DynamoDbGrantStore) => store.listGrantIdsByUser('1234'),
    ],
    [
      'listGrantIdsByClient',
      'byClient',
      'clientId',
      (store: DynamoDbGrantStore) => store.listGrantIdsByClient('1234'),
    ],
  ] as const)('%s queries the %s index page by page', async (_, indexName, keyAttribute, call) => {
    const { doc, sent } = fakeDoc((_command, index) =>
      index === 0
        ? { Items: [{ grantId: 'g1' }], LastEvaluatedKey: { grantId: 'g1', [keyAttribute]: '1234' } }
        : { Items: [{ grantId: 'g2' }] },
    );
    expect(await call(new DynamoDbGrantStore(doc, 'grants'))).toEqual(['g1', 'g2']);
    expect(sent).toHaveLength(2);
    expect(sent.every((command) => command instanceof QueryCommand)).toBe(true);
    const query = {
      TableName: 'grants',
      IndexName: indexName,
      KeyConditionExpression: '#key = :key',
      ProjectionExpression: '#grantId',
      ExpressionAttributeNames: { '#key': keyAttribute, '#grantId': 'grantId' },
      ExpressionAttributeValues: { ':key': '1234' },
    };
    expect(sent[0]?.input).toEqual({ ...query, ExclusiveStartKey: undefined });
    expect(sent[1]?.input).toEqual({
      ...query,
      ExclusiveStartKey: { grantId: 'g1', [keyAttribute]: '1234' },
    });
    // A GSI cannot be read consistently; asking would be a ValidationException on real DynamoDB.
    expect(sent[0]?.input).not.toHaveProperty('ConsistentRead');
  });
});
