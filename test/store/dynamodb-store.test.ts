import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailable } from '../../lambdas/core/dependency-unavailable';
import { DynamoDbAuthorizationCodeStore } from '../../lambdas/store/dynamodb-authorization-code-store';
import { createDynamoDbDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbClientStore } from '../../lambdas/store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../../lambdas/store/dynamodb-grant-store';
import { DynamoDbLockoutStore } from '../../lambdas/store/dynamodb-lockout-store';
import { createTablesIfMissing, type TableNames } from '../../lambdas/store/table-definitions';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';
import { aClient, aClientCredentialsGrant, aPasswordGrant, describeStoreContract } from './store-contract';

let server: DynaliteServer;
let dynamo: DynamoDbClients;
let tableCount = 0;

/** Fresh, empty tables for each test on one shared dynalite. */
const freshTables = async (): Promise<TableNames> => {
  tableCount += 1;
  const names = { clients: `clients-${tableCount}`, grants: `grants-${tableCount}` };
  await createTablesIfMissing(dynamo.client, names);
  return names;
};

beforeAll(async () => {
  server = await startDynalite();
  // A generous per-call timeout: the lockout bursts put dozens of calls on one item at once, which
  // dynalite serialises, on a machine shared with other test runs.
  dynamo = createDynamoDbDocumentClient({ endpoint: server.endpoint, requestTimeoutMs: 10_000 });
});

afterAll(async () => {
  dynamo.client.destroy();
  await server.stop();
});

describeStoreContract('DynamoDB on dynalite', async () => {
  const names = await freshTables();
  return {
    clients: new DynamoDbClientStore(dynamo.doc, names.clients),
    grants: new DynamoDbGrantStore(dynamo.doc, names.grants),
    lockouts: new DynamoDbLockoutStore(dynamo.doc, names.grants),
    codes: new DynamoDbAuthorizationCodeStore(dynamo.doc, names.grants),
  };
});

describe('createTablesIfMissing', () => {
  it('creates the tables as defined and is idempotent', async () => {
    const names = await freshTables();
    await createTablesIfMissing(dynamo.client, names);

    const { Table: grants } = await dynamo.client.send(new DescribeTableCommand({ TableName: names.grants }));
    expect(grants?.TableStatus).toBe('ACTIVE');
    expect(grants?.KeySchema).toEqual([{ AttributeName: 'grantId', KeyType: 'HASH' }]);
    expect(grants?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const indexes = (grants?.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      key: index.KeySchema,
      projection: index.Projection?.ProjectionType,
    }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      { name: 'byClient', key: [{ AttributeName: 'clientId', KeyType: 'HASH' }], projection: 'KEYS_ONLY' },
      { name: 'byUser', key: [{ AttributeName: 'userKey', KeyType: 'HASH' }], projection: 'KEYS_ONLY' },
    ]);

    const { Table: clients } = await dynamo.client.send(
      new DescribeTableCommand({ TableName: names.clients }),
    );
    expect(clients?.KeySchema).toEqual([{ AttributeName: 'clientId', KeyType: 'HASH' }]);
  });
});

describe('DynamoDB items', () => {
  it('store userKey only for grants with a user, and never leak it into records', async () => {
    const names = await freshTables();
    const grants = new DynamoDbGrantStore(dynamo.doc, names.grants);
    await grants.createGrant(aPasswordGrant({ userId: 1234 }));
    await grants.createGrant(aClientCredentialsGrant());

    const raw = (grantId: string) =>
      dynamo.doc.send(new GetCommand({ TableName: names.grants, Key: { grantId }, ConsistentRead: true }));
    expect((await raw('grant-1')).Item).toMatchObject({ userId: 1234, userKey: '1234' });
    expect((await raw('grant-cc')).Item).not.toHaveProperty('userKey');
    expect(await grants.getGrant('grant-1')).not.toHaveProperty('userKey');
  });

  it('keep lockout state in the grants table under lockout#<key>, invisible to grant reads and listings', async () => {
    const names = await freshTables();
    const grants = new DynamoDbGrantStore(dynamo.doc, names.grants);
    const lockouts = new DynamoDbLockoutStore(dynamo.doc, names.grants);
    await grants.createGrant(aPasswordGrant());
    await lockouts.reserveAttempt('abc', 1_700_000_000, {
      threshold: 5,
      expiresAt: 1_700_001_800,
      staleBefore: 1_699_999_940,
    });
    await lockouts.recordFailure('abc', 1_700_000_000, { threshold: 5, expiresAt: 1_700_001_800 });

    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: names.grants, Key: { grantId: 'lockout#abc' }, ConsistentRead: true }),
    );
    // The table's TTL attribute removes it; no index attribute, so no listing meets it.
    expect(Item).toStrictEqual({
      grantId: 'lockout#abc',
      reserved: 1,
      limit: 5,
      failures: 1,
      lockedUntil: 0,
      lastFailureAt: 1_700_000_000,
      reservedAt: 1_700_000_000,
      expiresAt: 1_700_001_800,
    });
    expect(await grants.listGrantIdsByUser('user-1')).toEqual(['grant-1']);
    expect(await grants.listGrantIdsByClient('client-a')).toEqual(['grant-1']);
  });

  it('replace a lockout item of the earlier format (failures only) by fresh state on the next reservation', async () => {
    const names = await freshTables();
    const lockouts = new DynamoDbLockoutStore(dynamo.doc, names.grants);
    await dynamo.doc.send(
      new PutCommand({
        TableName: names.grants,
        Item: { grantId: 'lockout#old', failures: 3, lastFailureAt: 1_700_000_000, expiresAt: 1_700_001_800 },
      }),
    );
    const reservation = await lockouts.reserveAttempt('old', 1_700_000_010, {
      threshold: 5,
      expiresAt: 1_700_001_810,
      staleBefore: 1_699_999_950,
    });
    expect(reservation).toMatchObject({ outcome: 'reserved', state: { reserved: 1, failures: 0, limit: 5 } });
  });

  it('ignore unknown extra attributes', async () => {
    const names = await freshTables();
    await dynamo.doc.send(
      new PutCommand({ TableName: names.clients, Item: { ...aClient(), legacyField: 'x', ttl: 5 } }),
    );
    expect(await new DynamoDbClientStore(dynamo.doc, names.clients).getClient('client-a')).toStrictEqual(
      aClient(),
    );
  });

  it('load a client item written before resourceServer existed as an ordinary client', async () => {
    const names = await freshTables();
    const { resourceServer: _absent, ...legacy } = aClient();
    await dynamo.doc.send(new PutCommand({ TableName: names.clients, Item: legacy }));
    const store = new DynamoDbClientStore(dynamo.doc, names.clients);
    expect(await store.getClient('client-a')).toStrictEqual(aClient({ resourceServer: false }));
    expect(await store.listClients()).toStrictEqual([aClient({ resourceServer: false })]);
  });

  it('write resourceServer as a boolean attribute, false when the record leaves it out', async () => {
    const names = await freshTables();
    const store = new DynamoDbClientStore(dynamo.doc, names.clients);
    const { resourceServer: _absent, ...withoutFlag } = aClient();
    await store.createClient(withoutFlag);
    await store.createClient(aClient({ clientId: 'api', resourceServer: true }));
    const raw = async (clientId: string) =>
      (await dynamo.doc.send(new GetCommand({ TableName: names.clients, Key: { clientId } }))).Item;
    expect(await raw('client-a')).toMatchObject({ resourceServer: false });
    expect(await raw('api')).toMatchObject({ resourceServer: true });
  });

  it('turn a malformed item into DependencyUnavailable', async () => {
    const names = await freshTables();
    await dynamo.doc.send(
      new PutCommand({
        TableName: names.clients,
        Item: { ...aClient(), disabled: 'no', grantTypes: ['implicit'] },
      }),
    );
    await dynamo.doc.send(
      new PutCommand({ TableName: names.grants, Item: { ...aPasswordGrant(), userId: { nested: true } } }),
    );
    await expect(
      new DynamoDbClientStore(dynamo.doc, names.clients).getClient('client-a'),
    ).rejects.toBeInstanceOf(DependencyUnavailable);
    await expect(new DynamoDbClientStore(dynamo.doc, names.clients).listClients()).rejects.toMatchObject({
      message: 'listClients failed',
    });
    await dynamo.doc.send(
      new PutCommand({
        TableName: names.clients,
        Item: { ...aClient({ clientId: 'rs' }), resourceServer: 'yes' },
      }),
    );
    await expect(new DynamoDbClientStore(dynamo.doc, names.clients).getClient('rs')).rejects.toBeInstanceOf(
      DependencyUnavailable,
    );
    await expect(new DynamoDbGrantStore(dynamo.doc, names.grants).getGrant('grant-1')).rejects.toMatchObject({
      name: 'DependencyUnavailable',
      message: 'getGrant failed',
    });
  });
});
