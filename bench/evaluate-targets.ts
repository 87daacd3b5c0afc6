import type { BenchResults, TargetResult } from './bench-results';
import { SERVICE_TABLES } from './bench-users';
import { type DynamoDbCallCounts, describeCalls } from './dynamodb-call-counter';
import type { CountedOperation } from './dynamodb-calls-per-operation';
import type { LoadOperation } from './load-scenario';
import { ratio } from './stats';

const KB = 1000;
/** Throughput at the largest table may be this much lower than at the smallest and still count as flat. */
const FLAT_RPS_FLOOR = 0.8;

const readsOutsideClients = (counts: DynamoDbCallCounts): string[] =>
  Object.entries(counts.byOperation)
    .filter(([key]) => {
      const [operation, table] = key.split(' ');
      return (
        ['GetItem', 'Query', 'Scan', 'BatchGetItem'].includes(operation as string) &&
        table !== SERVICE_TABLES.clients
      );
    })
    .map(([key, n]) => (n === 1 ? key : `${key} ×${n}`));

/**
 * The targets, judged from the measurements. A miss is reported, never fatal. The call budget
 * is the token-service issue's: at most one write per warm grant, besides reads a short in-memory client
 * cache can absorb (client reads).
 */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): TargetResult[] {
  const targets: TargetResult[] = [];
  const calls = new Map((results.dynamoDbCalls ?? []).map((entry) => [entry.operation, entry]));
  const grantBudget = (operation: CountedOperation, label: string) => {
    const warm = calls.get(operation)?.warm;
    const extra = warm === undefined ? [] : readsOutsideClients(warm);
    const pass = warm === undefined ? null : warm.writes === 1 && extra.length === 0;
    targets.push({
      section: 'dynamoDbCalls',
      name: `${label}: DynamoDB calls (warm)`,
      target: '1 write + client reads only',
      measured: warm === undefined ? '–' : describeCalls(warm),
      pass,
      ...(pass === false && {
        note: `${warm?.writes} write(s); reads a client cache cannot absorb: ${extra.join(', ') || 'none'}`,
      }),
    });
  };
  grantBudget('password', 'password grant');
  grantBudget('refresh_token', 'refresh');
  grantBudget('client_credentials', 'client_credentials');
  const authorizer = calls.get('authorizer')?.warm;
  targets.push({
    section: 'dynamoDbCalls',
    name: 'authorizer: DynamoDB calls (warm)',
    target: '1 strongly consistent read',
    measured: authorizer === undefined ? '–' : describeCalls(authorizer),
    pass:
      authorizer === undefined
        ? null
        : authorizer.calls === 1 &&
          Object.keys(authorizer.byOperation).every((key) => key.endsWith(' consistent')),
  });
  const revocation = calls.get('revocation')?.warm;
  targets.push({
    section: 'dynamoDbCalls',
    name: 'revocation: DynamoDB calls (warm)',
    target: '≤ 2 calls',
    measured: revocation === undefined ? '–' : `${revocation.calls}: ${describeCalls(revocation)}`,
    pass: revocation === undefined ? null : revocation.calls <= 2,
  });

  for (const entry of results.coreLatency ?? []) {
    const limit = entry.operation === 'verify_access_token' ? 20 : 50;
    targets.push({
      section: 'coreLatency',
      name: `core ${entry.operation} p50 (in-memory store)`,
      target: `≤ ${limit} µs`,
      measured: `${entry.p50Us} µs (p99 ${entry.p99Us} µs)`,
      pass: entry.p50Us <= limit,
    });
  }

  const sideBySide = new Map((results.sideBySide ?? []).map((entry) => [entry.operation, entry]));
  const peerRatio = (operation: LoadOperation, label: string, floor: number) => {
    const entry = sideBySide.get(operation);
    const pass = entry === undefined ? null : entry.rpsRatio >= floor;
    targets.push({
      section: 'sideBySide',
      name: `${label}: throughput ours/peer`,
      target: `≥ ${floor}×`,
      measured:
        entry === undefined ? '–' : `${entry.rpsRatio}× (${entry.ours.rps} vs ${entry.peer.rps} req/s)`,
      pass,
      ...(pass === false &&
        entry !== undefined && {
          note:
            `CPU per request: server ${entry.ours.serverCpuUsPerRequest} µs (ours) vs ${entry.peer.serverCpuUsPerRequest} µs (peer), ` +
            `dynalite + hook ${entry.ours.backendCpuUsPerRequest} vs ${entry.peer.backendCpuUsPerRequest} µs; ` +
            `DynamoDB calls per request ${entry.ours.dynamoDbCallsPerRequest} vs ${entry.peer.dynamoDbCallsPerRequest}`,
        }),
    });
  };
  peerRatio('refresh_token', 'refresh', 1.5);
  peerRatio('me', 'bearer check (GET /me)', 1.5);
  peerRatio('password', 'password grant', 1);

  const bundles = new Map((results.coldStart?.bundles ?? []).map((entry) => [entry.lambda, entry]));
  for (const [lambda, limitKb] of [
    ['token', 500],
    ['authorizer', 300],
  ] as const) {
    const bundle = bundles.get(lambda);
    targets.push({
      section: 'coldStart',
      name: `${lambda} bundle size`,
      target: `≤ ${limitKb} kB`,
      measured: bundle === undefined ? '–' : `${(bundle.bundleBytes / KB).toFixed(1)} kB`,
      pass: bundle === undefined ? null : bundle.bundleBytes <= limitKb * KB,
    });
  }
  for (const lambda of ['token', 'authorizer'] as const) {
    const bundle = bundles.get(lambda);
    const pass = bundle === undefined ? null : bundle.initMs <= 150;
    const floor = results.coldStart?.sdkFloorMs;
    targets.push({
      section: 'coldStart',
      name: `${lambda} load + init`,
      target: '≤ 150 ms',
      measured: bundle === undefined ? '–' : `${bundle.initMs} ms`,
      pass,
      ...(pass === false && {
        note:
          `loading @aws-sdk/client-dynamodb + lib-dynamodb alone takes ${floor} ms here` +
          (bundle?.externalsOnlyMs === undefined
            ? ''
            : `; this bundle's externals (${bundle.externals.join(', ')}) alone ${bundle.externalsOnlyMs} ms`) +
          (bundle?.initWithoutSourceMapsMs === undefined
            ? ''
            : `; without --enable-source-maps ${bundle.initWithoutSourceMapsMs} ms`),
      }),
    });
  }

  const points = results.scaling?.points ?? [];
  const first = points[0];
  const last = points.at(-1);
  for (const operation of ['password', 'refresh_token', 'me'] as const) {
    const at = (point: typeof first) => point?.results.find((r) => r.operation === operation);
    const small = at(first);
    const large = at(last);
    const measurable = small !== undefined && large !== undefined && first !== last;
    const rpsRatio = measurable ? ratio(large.rps, small.rps) : Number.NaN;
    const callsFlat =
      measurable &&
      Math.abs(large.dynamoDbCallsPerRequest.calls - small.dynamoDbCallsPerRequest.calls) <= 0.1;
    const pass = measurable ? callsFlat && rpsRatio >= FLAT_RPS_FLOOR : null;
    targets.push({
      section: 'scaling',
      name: `${operation}: flat from ${first?.storedGrants ?? '?'} to ${last?.storedGrants ?? '?'} grants`,
      target: `same calls/request, ≥ ${FLAT_RPS_FLOOR}× throughput`,
      measured: measurable
        ? `calls ${small.dynamoDbCallsPerRequest.calls} → ${large.dynamoDbCallsPerRequest.calls}, ${small.rps} → ${large.rps} req/s (${rpsRatio}×)`
        : '–',
      pass,
    });
  }
  return targets;
}
