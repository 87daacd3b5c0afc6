import { CreateTableCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSdkDocumentClient } from '../../bench/create-sdk-document-client';
import { CachedDocumentSender } from '../../lambdas/store/cached-document-sender';
import { createDynamoDbDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';

// The sender must be a drop-in for lib-dynamodb's DynamoDBDocumentClient: every command the stores
// send is sent both ways on dynalite and the answers compared.

let server: DynaliteServer;
let ours: DynamoDbClients;
let reference: DynamoDBDocumentClient;
let referenceClient: DynamoDBClient;
const TABLE = 'sender-items';

beforeAll(async () => {
  server = await startDynalite();
  ours = createDynamoDbDocumentClient({ endpoint: server.endpoint, requestTimeoutMs: 10_000 });
  // lib-dynamodb's own document client on the same settings: the one the bench's peer uses.
  ({ client: referenceClient, doc: reference } = createSdkDocumentClient({ endpoint: server.endpoint }));
  await ours.client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
});

afterAll(async () => {
  ours.client.destroy();
  referenceClient.destroy();
  await server.stop();
});

/** The shapes our items hold: strings, numbers (integer user ids, epoch seconds), booleans, lists, maps, null. */
const anItem = (pk: string, sk: number) => ({
  pk,
  sk,
  name: 'ünïcode ✓',
  userId: 1234,
  fraction: 0.5,
  negative: -42,
  enabled: false,
  scope: ['read', 'write'],
  empty: [],
  nested: { list: [1, 'two', { three: true }], nothing: null },
  dropped: undefined,
});

describe('CachedDocumentSender', () => {
  it('refuses a client without cacheMiddleware (the reason it exists)', () => {
    expect(() => new CachedDocumentSender(referenceClient)).toThrow(/cacheMiddleware: true/);
  });

  it('resolves the middleware stack once per command class, and still sends each call its own input', async () => {
    const resolve = vi.spyOn(GetItemCommand.prototype, 'resolveMiddleware');
    try {
      const { client, doc } = createDynamoDbDocumentClient({ endpoint: server.endpoint });
      await doc.send(new PutCommand({ TableName: TABLE, Item: anItem('cache-a', 1) }));
      await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'cache-b', sk: 1, name: 'b' } }));
      const first = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cache-a', sk: 1 } }));
      const second = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cache-b', sk: 1 } }));
      const third = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cache-missing', sk: 1 } }));
      expect(first.Item?.pk).toBe('cache-a');
      expect(second.Item).toEqual({ pk: 'cache-b', sk: 1, name: 'b' });
      expect(third.Item).toBeUndefined();
      expect(resolve).toHaveBeenCalledTimes(1);
      client.destroy();
    } finally {
      resolve.mockRestore();
    }
  });

  it('Put then Get: the same item back as the SDK document client reads it, undefined left out', async () => {
    await ours.doc.send(new PutCommand({ TableName: TABLE, Item: anItem('put-get', 1) }));
    const key = { pk: 'put-get', sk: 1 };
    const mine = await ours.doc.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
    const theirs = await reference.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
    expect(mine.Item).toEqual(theirs.Item);
    const { dropped: _dropped, ...stored } = anItem('put-get', 1);
    expect(mine.Item).toEqual(stored);
    expect(Object.keys(mine.Item ?? {})).not.toContain('dropped');
  });

  it('round-trips any JSON-shaped item exactly as the SDK document client does', async () => {
    const values = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.oneof(fc.string({ minLength: 1 }), fc.integer()), { maxLength: 4 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string(), fc.integer()), {
        maxKeys: 4,
      }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,11}$/), values, { maxKeys: 6 }),
        async (fields) => {
          n += 1;
          const item = { ...fields, pk: 'prop', sk: n };
          await ours.doc.send(new PutCommand({ TableName: TABLE, Item: item }));
          const key = { pk: 'prop', sk: n };
          const mine = await ours.doc.send(
            new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }),
          );
          const theirs = await reference.send(
            new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }),
          );
          expect(mine.Item).toEqual(theirs.Item);
          expect(mine.Item).toEqual(item);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('Update: conditions, SET/ADD values and ReturnValues answer as with the SDK document client', async () => {
    const update = (pk: string) =>
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk, sk: 1 },
        UpdateExpression: 'SET #scope = :scope, #meta = :meta ADD #count :one',
        ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
        ExpressionAttributeNames: { '#scope': 'scope', '#meta': 'meta', '#count': 'count' },
        ExpressionAttributeValues: { ':scope': ['a'], ':meta': { at: 5, by: 'x' }, ':one': 1, ':limit': 2 },
        ReturnValues: 'ALL_NEW',
      });
    const mine = [await ours.doc.send(update('update-ours')), await ours.doc.send(update('update-ours'))];
    const theirs = [await reference.send(update('update-ref')), await reference.send(update('update-ref'))];
    expect(mine.map((output) => ({ ...output.Attributes, pk: '' }))).toEqual(
      theirs.map((output) => ({ ...output.Attributes, pk: '' })),
    );
    expect(mine[1]?.Attributes).toEqual({
      pk: 'update-ours',
      sk: 1,
      scope: ['a'],
      meta: { at: 5, by: 'x' },
      count: 2,
    });

    // The third is refused by the condition: the same error class the stores look for.
    await expect(ours.doc.send(update('update-ours'))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    await expect(reference.send(update('update-ref'))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
  });

  it('Put with a condition and ReturnValues ALL_OLD', async () => {
    const put = (name: string) =>
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'put-cond', sk: 1, name },
        ConditionExpression: 'attribute_not_exists(pk) OR #name <> :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': name },
        ReturnValues: 'ALL_OLD',
      });
    expect((await ours.doc.send(put('first'))).Attributes).toBeUndefined();
    expect((await ours.doc.send(put('second'))).Attributes).toEqual({ pk: 'put-cond', sk: 1, name: 'first' });
    await expect(ours.doc.send(put('second'))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
  });

  it('Delete with a condition, returning the old item', async () => {
    await ours.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'delete', sk: 1, n: 3 } }));
    const refused = ours.doc.send(
      new DeleteCommand({
        TableName: TABLE,
        Key: { pk: 'delete', sk: 1 },
        ConditionExpression: '#n = :n',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':n': 4 },
      }),
    );
    await expect(refused).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const deleted = await ours.doc.send(
      new DeleteCommand({ TableName: TABLE, Key: { pk: 'delete', sk: 1 }, ReturnValues: 'ALL_OLD' }),
    );
    expect(deleted.Attributes).toEqual({ pk: 'delete', sk: 1, n: 3 });
    const gone = await ours.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'delete', sk: 1 } }));
    expect(gone.Item).toBeUndefined();
  });

  it('Query and Scan: items, filters and pages (LastEvaluatedKey back into ExclusiveStartKey)', async () => {
    for (let sk = 1; sk <= 5; sk += 1) {
      await ours.doc.send(
        new PutCommand({ TableName: TABLE, Item: { pk: 'query', sk, even: sk % 2 === 0 } }),
      );
    }
    const pages = async (sender: {
      send(command: QueryCommand): Promise<{ Items?: unknown[]; LastEvaluatedKey?: Record<string, unknown> }>;
    }) => {
      const seen: unknown[][] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await sender.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk AND sk >= :from',
            ExpressionAttributeValues: { ':pk': 'query', ':from': 2 },
            Limit: 2,
            ExclusiveStartKey: start,
          }),
        );
        seen.push(page.Items ?? []);
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return seen;
    };
    const mine = await pages(ours.doc);
    expect(mine).toEqual(await pages(reference));
    expect(mine.flat().map((item) => (item as { sk: number }).sk)).toEqual([2, 3, 4, 5]);

    const scan = new ScanCommand({
      TableName: TABLE,
      FilterExpression: 'pk = :pk AND #even = :even',
      ExpressionAttributeNames: { '#even': 'even' },
      ExpressionAttributeValues: { ':pk': 'query', ':even': true },
    });
    const scanned = await ours.doc.send(scan);
    expect(scanned.Items?.map((item) => item.sk).sort()).toEqual([2, 4]);
    expect(scanned.Items).toEqual((await reference.send(scan)).Items);
  });
});
