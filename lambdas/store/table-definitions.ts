import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * Lockout items share the grants table (its TTL attribute deletes them): one small item per username
 * that signed in recently. `#` never occurs in a grant id (base64url), so no token can address one,
 * and they carry neither index attribute, so no grant listing sees them.
 */
export const LOCKOUT_KEY_PREFIX = 'lockout#';

/** Physical table names; they differ per stage and come from configuration. */
export interface TableNames {
  readonly clients: string;
  readonly grants: string;
}

export const CLIENTS_PARTITION_KEY = 'clientId';
export const GRANTS_PARTITION_KEY = 'grantId';
/** GSI of the grants table keyed by `userKey` (= `userKeyOf(userId)`); sparse: client_credentials grants have no user. */
export const GRANTS_BY_USER_INDEX = 'byUser';
export const GRANTS_USER_KEY_ATTRIBUTE = 'userKey';
export const GRANTS_BY_CLIENT_INDEX = 'byClient';
export const GRANTS_CLIENT_ID_ATTRIBUTE = 'clientId';
/**
 * The public JWT signing keys live in this one item of the grants table, which every verifier can
 * already read. `#` never occurs in a grant id (base64url), so no token addresses it; it has no index
 * attribute and no TTL. The JWKS function's role may read only this key (IAM `dynamodb:LeadingKeys`).
 */
export const PUBLIC_KEYS_ITEM_KEY = 'signing-keys#public';
/** TTL attribute of the grants table, epoch seconds; DynamoDB deletes a grant some time after it. */
export const GRANTS_TTL_ATTRIBUTE = 'expiresAt';

/** Clients table: one item per client, looked up by id only. */
export const clientsTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: CLIENTS_PARTITION_KEY, AttributeType: 'S' }],
  KeySchema: [{ AttributeName: CLIENTS_PARTITION_KEY, KeyType: 'HASH' }],
});

/**
 * Grants table: one item per grant. Both indexes are KEYS_ONLY because they only answer "which grant
 * ids" (to revoke them); the grant itself is then read from the table with a consistent read.
 */
export const grantsTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: GRANTS_PARTITION_KEY, AttributeType: 'S' },
    { AttributeName: GRANTS_USER_KEY_ATTRIBUTE, AttributeType: 'S' },
    { AttributeName: GRANTS_CLIENT_ID_ATTRIBUTE, AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: GRANTS_PARTITION_KEY, KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: GRANTS_BY_USER_INDEX,
      KeySchema: [{ AttributeName: GRANTS_USER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
    {
      IndexName: GRANTS_BY_CLIENT_INDEX,
      KeySchema: [{ AttributeName: GRANTS_CLIENT_ID_ATTRIBUTE, KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  ],
});

const errorName = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);

const createTableIfMissing = async (client: DynamoDBClient, definition: CreateTableCommandInput) => {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    // Another process (or an earlier run) created it first; the waiter below still checks it is usable.
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 5, maxWaitTime: 120 },
    { TableName: definition.TableName },
  );
};

const enableTimeToLiveIfPossible = async (client: DynamoDBClient, tableName: string) => {
  try {
    const current = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = current.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: GRANTS_TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite implements neither UpdateTimeToLive (UnknownOperationException) nor expiry, and its
    // DescribeTimeToLive always says DISABLED. Expired grants are rejected by their own expiry times,
    // so TTL is housekeeping only; a local table without it is still correct.
    if (errorName(error) === 'UnknownOperationException') return;
    // Lost a race with a concurrent caller that enabled it between our describe and update.
    if (errorName(error) === 'ValidationException' && /already enabled/i.test((error as Error).message))
      return;
    throw error;
  }
};

/**
 * Creates the clients and grants tables when they do not exist, waits until they are ACTIVE and
 * enables TTL on the grants table where the server supports it. Meant for the local stack and tests;
 * deployed tables are created by CDK from the same constants.
 */
export const createTablesIfMissing = async (client: DynamoDBClient, names: TableNames): Promise<void> => {
  await Promise.all([
    createTableIfMissing(client, clientsTableDefinition(names.clients)),
    createTableIfMissing(client, grantsTableDefinition(names.grants)),
  ]);
  await enableTimeToLiveIfPossible(client, names.grants);
};
