import { DynamoDbAuthorizationCodeStore } from '../store/dynamodb-authorization-code-store';
import { createDynamoDbDocumentClient } from '../store/dynamodb-client';
import { DynamoDbClientStore } from '../store/dynamodb-client-store';
import { DynamoDbGrantStore } from '../store/dynamodb-grant-store';
import { DynamoDbLockoutStore } from '../store/dynamodb-lockout-store';
import { DynamoDbPublicKeyStore } from '../store/dynamodb-public-key-store';
import type { EnvironmentReader } from './environment-reader';

/**
 * `CLIENTS_TABLE`, `GRANTS_TABLE` (required); `DYNAMODB_ENDPOINT` for a DynamoDB-compatible
 * server (local stack, tests); `DYNAMODB_TIMEOUT_MS`, `DYNAMODB_MAX_ATTEMPTS` tune the request path.
 */
export function buildStores(reader: EnvironmentReader) {
  const tables = { clients: reader.required('CLIENTS_TABLE'), grants: reader.required('GRANTS_TABLE') };
  const endpoint = reader.optional('DYNAMODB_ENDPOINT');
  const region = reader.optional('AWS_REGION');
  const { doc } = createDynamoDbDocumentClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    requestTimeoutMs: reader.integer('DYNAMODB_TIMEOUT_MS', 1500, { min: 50, max: 10_000 }),
    maxAttempts: reader.integer('DYNAMODB_MAX_ATTEMPTS', 3, { min: 1, max: 10 }),
  });
  return {
    tables,
    clients: new DynamoDbClientStore(doc, tables.clients),
    grants: new DynamoDbGrantStore(doc, tables.grants),
    lockouts: new DynamoDbLockoutStore(doc, tables.grants),
    /** The public JWKS item (verifiers and the JWKS route read it; only the key rotation writes it). */
    publicKeys: new DynamoDbPublicKeyStore(doc, tables.grants),
    codes: new DynamoDbAuthorizationCodeStore(doc, tables.grants),
  };
}
