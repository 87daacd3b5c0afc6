import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type DynamoDbClientOptions,
  dynamoDbClientConfig,
  MARSHALL_OPTIONS,
} from '../lambdas/store/dynamodb-client';

/**
 * `lib-dynamodb`'s own `DynamoDBDocumentClient`, the way its documentation builds one, on our client
 * settings (same keep-alive agent, timeouts and retries). The peer's model uses it, as a deployer of
 * `@node-oauth/oauth2-server` would; the grant seeder uses it for `BatchWriteItem`, which our stores'
 * `CachedDocumentSender` does not send.
 */
export function createSdkDocumentClient(options: DynamoDbClientOptions): {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
} {
  const client = new DynamoDBClient(dynamoDbClientConfig(options));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { ...MARSHALL_OPTIONS } });
  return { client, doc };
}
