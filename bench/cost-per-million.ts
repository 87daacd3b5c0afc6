import type { BenchResults } from './bench-results';
import type { DynamoDbCallCounts } from './dynamodb-call-counter';
import type { CountedOperation } from './dynamodb-calls-per-operation';
import type { SideBySideRow } from './side-by-side';

/**
 * Public on-demand prices, US East (N. Virginia), as read on 2026-12-02 from stored copies of the AWS
 * pricing pages (aws.amazon.com/api-gateway/pricing, /lambda/pricing, /dynamodb/pricing/on-demand,
 * /cognito/pricing). Change them here when they change; the README quotes this table.
 */
export const PRICES = Object.freeze({
  readOn: '2026-12-02',
  /** REST API, first 333 million requests a month. */
  apiGatewayRestPerMillion: 3.5,
  lambdaRequestsPerMillion: 0.2,
  /** arm64. */
  lambdaPerGbSecond: 0.0000133334,
  dynamoDbPerMillionWrites: 0.625,
  dynamoDbPerMillionReads: 0.125,
  /** Machine-to-machine (client_credentials) token requests, first tier, plus $6 per app client a month. */
  cognitoM2mPerMillionTokens: 2250,
});

/**
 * What the bench cannot measure here, stated: an in-region DynamoDB call and the deployer's AuthCheck
 * take time in Lambda that dynalite on loopback does not. Billed duration = the server CPU the bench
 * measured per request + these waits for each round trip on the critical path.
 */
export const ASSUMPTIONS = Object.freeze({
  dynamoDbRoundTripMs: 5,
  authCheckRoundTripMs: 20,
  /** Memory the stack gives each function (infra/oauth2-token-service.ts). */
  tokenMemoryGb: 0.5,
  authorizerMemoryGb: 0.25,
  /**
   * Write units of a refresh: its conditional write is billed on the larger of the item before and
   * after; the item carries the last 64–128 consumed refresh hashes (~45 bytes each) besides ~450
   * bytes of fields, so a grant refreshed for weeks is ~3–6 KB: 5 WRU on average.
   */
  refreshWriteUnits: 5,
});

export interface CostRow {
  readonly operation: string;
  readonly apiGateway: number;
  readonly lambda: number;
  readonly dynamoDb: number;
  readonly total: number;
  /** How the figure was built, for the reader. */
  readonly basis: string;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Read and write units of one warm request's calls. */
function unitsOf(operation: CountedOperation, calls: DynamoDbCallCounts): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const [key, count] of Object.entries(calls.byOperation)) {
    const [command = '', table = ''] = key.split(' ');
    if (command === 'GetItem') reads += count * (key.endsWith(' consistent') ? 1 : 0.5);
    else if (command === 'PutItem' && !table.includes('#')) {
      // A new grant: the item (≤ 1 KB) plus its entries in the byClient and (user grants) byUser indexes.
      writes += count * (operation === 'client_credentials' ? 2 : 3);
    } else if (command === 'UpdateItem' && operation === 'refresh_token' && !table.includes('#')) {
      writes += count * ASSUMPTIONS.refreshWriteUnits;
    } else writes += count;
  }
  return { reads, writes };
}

/**
 * Dollars per million requests of each operation, from the measured warm DynamoDB calls, round trips
 * and server CPU, and the prices above; beside Amazon Cognito's price for the same client_credentials.
 */
export function costPerMillion(results: Omit<BenchResults, 'targets'>): CostRow[] {
  const calls = new Map((results.dynamoDbCalls ?? []).map((entry) => [entry.operation, entry]));
  const sideBySide = new Map((results.sideBySide ?? []).map((entry) => [entry.operation, entry]));
  const rows: CostRow[] = [];
  const add = (
    label: string,
    operation: CountedOperation,
    row: SideBySideRow,
    memoryGb: number,
    behindApiGateway: boolean,
  ) => {
    const measured = calls.get(operation);
    const cpuUs = sideBySide.get(row)?.ours.serverCpuUsPerRequest;
    if (measured === undefined || cpuUs === undefined) return;
    const trips = measured.warmRoundTrips;
    const durationMs =
      cpuUs / 1000 +
      trips.dynamodb * ASSUMPTIONS.dynamoDbRoundTripMs +
      trips.hook * ASSUMPTIONS.authCheckRoundTripMs;
    const units = unitsOf(operation, measured.warm);
    const apiGateway = behindApiGateway ? PRICES.apiGatewayRestPerMillion : 0;
    const lambda =
      PRICES.lambdaRequestsPerMillion + (durationMs / 1000) * memoryGb * 1e6 * PRICES.lambdaPerGbSecond;
    const dynamoDb =
      units.reads * PRICES.dynamoDbPerMillionReads + units.writes * PRICES.dynamoDbPerMillionWrites;
    rows.push({
      operation: label,
      apiGateway: round2(apiGateway),
      lambda: round2(lambda),
      dynamoDb: round2(dynamoDb),
      total: round2(apiGateway + lambda + dynamoDb),
      basis:
        `${Math.round(durationMs)} ms × ${memoryGb * 1024} MB ` +
        `(${Math.round(cpuUs / 100) / 10} ms CPU + ${trips.dynamodb} DynamoDB × ${ASSUMPTIONS.dynamoDbRoundTripMs} ms` +
        `${trips.hook > 0 ? ` + ${trips.hook} AuthCheck × ${ASSUMPTIONS.authCheckRoundTripMs} ms` : ''}); ` +
        `${units.reads} RRU + ${units.writes} WRU`,
    });
  };
  add('password grant (lockout on)', 'password', 'password_lockout', ASSUMPTIONS.tokenMemoryGb, true);
  add('password grant (lockout off)', 'password_lockout_off', 'password', ASSUMPTIONS.tokenMemoryGb, true);
  add('client_credentials', 'client_credentials', 'client_credentials', ASSUMPTIONS.tokenMemoryGb, true);
  add('refresh', 'refresh_token', 'refresh_token', ASSUMPTIONS.tokenMemoryGb, true);
  // The authorizer runs in front of someone else's API: their API Gateway request is theirs to pay.
  add('authorizer check, opaque (cache off)', 'authorizer', 'me', ASSUMPTIONS.authorizerMemoryGb, false);
  add(
    'password grant, JWT (lockout off)',
    'password_lockout_off',
    'password_jwt',
    ASSUMPTIONS.tokenMemoryGb,
    true,
  );
  add('authorizer check, JWT (cache off)', 'authorizer_jwt', 'me_jwt', ASSUMPTIONS.authorizerMemoryGb, false);
  rows.push({
    operation: 'HTTP API JWT authorizer check (no code of ours)',
    apiGateway: 0,
    lambda: 0,
    dynamoDb: 0,
    total: 0,
    basis:
      'API Gateway checks the signature itself: no Lambda, no read; only the HTTP API request, which the downstream API pays anyway',
  });
  rows.push({
    operation: 'Amazon Cognito, client_credentials (M2M)',
    apiGateway: 0,
    lambda: 0,
    dynamoDb: 0,
    total: PRICES.cognitoM2mPerMillionTokens,
    basis: '$2.25 per 1,000 token requests (first tier) + $6 per app client a month',
  });
  return rows;
}
