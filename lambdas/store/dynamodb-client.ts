import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CachedDocumentSender, type DocumentSender } from './cached-document-sender';

export interface DynamoDbClientOptions {
  /** Defaults to the SDK's resolution (AWS_REGION in Lambda); `us-east-1` when only an endpoint is given. */
  readonly region?: string;
  /** A DynamoDB-compatible server (dynalite, DynamoDB Local); omit for AWS. */
  readonly endpoint?: string;
  /** Defaults to the SDK's provider chain, or to dummy static credentials when `endpoint` is set. */
  readonly credentials?: DynamoDBClientConfig['credentials'];
  /**
   * Upper bound for one attempt, connection included (default 1500 ms). A single-item DynamoDB call
   * normally answers in single-digit milliseconds, so this only cuts off a stuck connection.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Attempts per call, first one included (default 3). Worst case per call is `maxAttempts ×
   * requestTimeoutMs` plus the SDK's backoff (25 + 50 ms for transient errors, up to 1 + 2 s for
   * throttling): 4.6 s when every attempt times out, 7.5 s when every attempt is throttled just before
   * its timeout. A request makes up to 3–5 such calls in a row; the Lambda timeouts are set for that
   * (see infra), and a request still running a second before its Lambda's deadline is answered 503.
   */
  readonly maxAttempts?: number;
}

export interface DynamoDbClients {
  /** Built with `cacheMiddleware: true`: never add middleware to it after its first call. */
  readonly client: DynamoDBClient;
  /** The stores' document client, sending on `client` (see `CachedDocumentSender`). */
  readonly doc: DocumentSender;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 1500;
/** A TCP connect to the regional endpoint takes milliseconds; longer means the network is broken. */
const CONNECTION_TIMEOUT_MS = 500;
const DEFAULT_MAX_ATTEMPTS = 3;
const LOCAL_REGION = 'us-east-1';
/** Local DynamoDB-compatible servers do not verify signatures, but the SDK refuses to sign without keys. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const requirePositiveInteger = (name: string, value: number) => {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
};

/**
 * How every document client of ours marshals: the stores already leave absent optional fields out;
 * this keeps a stray undefined from failing a write.
 */
export const MARSHALL_OPTIONS = Object.freeze({ removeUndefinedValues: true });

/**
 * The client settings every DynamoDB client of ours uses: timeouts and retries chosen for a request
 * path (see the option docs), keep-alive connections, and dummy credentials for a local endpoint.
 */
export const dynamoDbClientConfig = (options: DynamoDbClientOptions = {}): DynamoDBClientConfig => {
  const requestTimeout = requirePositiveInteger(
    'requestTimeoutMs',
    options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  );
  const maxAttempts = requirePositiveInteger('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const local = options.endpoint !== undefined;
  return {
    region: options.region ?? (local ? LOCAL_REGION : undefined),
    endpoint: options.endpoint,
    credentials: options.credentials ?? (local ? LOCAL_CREDENTIALS : undefined),
    maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout,
      // Without this, this smithy version only logs a warning when requestTimeout is exceeded.
      throwOnRequestTimeout: true,
      // Reusing connections saves a TLS handshake on every warm invocation.
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 50 }),
    }),
  };
};

/**
 * Builds the DynamoDB client and the document client every store uses. Call once per process, at
 * module scope.
 */
export const createDynamoDbDocumentClient = (options: DynamoDbClientOptions = {}): DynamoDbClients => {
  // The resolved middleware handler is kept per command class instead of rebuilt on every call.
  const client = new DynamoDBClient({ ...dynamoDbClientConfig(options), cacheMiddleware: true });
  const doc = new CachedDocumentSender(client, MARSHALL_OPTIONS);
  return { client, doc };
};
