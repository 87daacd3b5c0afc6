import { join } from 'node:path';
import { startBenchBackend } from './bench-backend';
import { type LoadOperation, type LoadOptions, type LoadResult, runLoadScenario } from './load-scenario';
import { type ServiceKind, startBenchService } from './start-bench-service';
import { median, ratio, round } from './stats';

export const LOAD_OPERATIONS: readonly LoadOperation[] = [
  'password',
  'client_credentials',
  'refresh_token',
  'me',
];

/**
 * A row of the side-by-side: `password` is ours with the lockout off (`LOCKOUT_THRESHOLD=0`, the same
 * work as the peer, which has no lockout); `password_lockout` is ours with the lockout on (the deployed
 * default) against the same peer figures, so the lockout's cost shows on its own line.
 */
export type SideBySideRow = LoadOperation | 'password_lockout' | 'password_jwt' | 'me_jwt';
export const SIDE_BY_SIDE_ROWS: readonly SideBySideRow[] = [
  'password',
  'password_lockout',
  'client_credentials',
  'refresh_token',
  'me',
  'password_jwt',
  'me_jwt',
];

/** Which side and operation supply a row's "ours" figures (the peer's are always its own operation). */
const ROW_SOURCES: Readonly<Record<SideBySideRow, { side: string; operation: LoadOperation }>> = {
  password: { side: 'ours', operation: 'password' },
  password_lockout: { side: 'ours_lockout', operation: 'password' },
  client_credentials: { side: 'ours', operation: 'client_credentials' },
  refresh_token: { side: 'ours', operation: 'refresh_token' },
  me: { side: 'ours', operation: 'me' },
  // JWT mode, lockout off: the password row's work plus an RS256 signature, and a bearer check that
  // verifies the signature in memory instead of reading the grant.
  password_jwt: { side: 'ours_jwt', operation: 'password' },
  me_jwt: { side: 'ours_jwt', operation: 'me' },
};

/** The sides measured in each round: which service, its settings, and which rows it supplies. */
const SIDES: ReadonlyArray<{
  readonly side: 'ours' | 'ours_lockout' | 'ours_jwt' | 'peer';
  readonly kind: ServiceKind;
  readonly environment?: Readonly<Record<string, string>>;
  readonly operations: readonly LoadOperation[];
}> = [
  { side: 'ours', kind: 'ours', environment: { LOCKOUT_THRESHOLD: '0' }, operations: LOAD_OPERATIONS },
  { side: 'ours_lockout', kind: 'ours', operations: ['password'] },
  {
    side: 'ours_jwt',
    kind: 'ours',
    environment: { LOCKOUT_THRESHOLD: '0', ACCESS_TOKEN_FORMAT: 'jwt' },
    operations: ['password', 'me'],
  },
  { side: 'peer', kind: 'peer', operations: LOAD_OPERATIONS },
];

export interface SideSummary {
  /** Medians over the rounds. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverCpuUsPerRequest: number;
  /** dynalite + AuthCheck hook. */
  readonly backendCpuUsPerRequest: number;
  readonly dynamoDbCallsPerRequest: number;
  /** Breakdown from the last round. */
  readonly dynamoDbCalls: Readonly<Record<string, number>>;
  readonly failures: number;
}

export interface SideBySideOperation {
  readonly operation: SideBySideRow;
  readonly ours: SideSummary;
  readonly peer: SideSummary;
  /** Median over the rounds of ours/peer within the round (same backend, minutes apart). */
  readonly rpsRatio: number;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  readonly rounds: ReadonlyArray<{ readonly ours: LoadResult; readonly peer: LoadResult }>;
}

/**
 * Both services under the same load, `rounds` times. Each round starts a fresh backend (dynalite and
 * hook) and runs each side (`SIDES`) in its own process, alternating which goes first. With
 * `cpuProfileDir`, each server process leaves a CPU profile in `<dir>/<side>-round<n>/`.
 */
export async function measureSideBySide(
  rounds: number,
  load: LoadOptions,
  cpuProfileDir?: string,
): Promise<SideBySideOperation[]> {
  /** results[side][operation][round] */
  const results = new Map<string, LoadResult[]>();
  const key = (side: string, operation: LoadOperation) => `${side} ${operation}`;
  for (let round = 0; round < rounds; round += 1) {
    const backend = await startBenchBackend();
    try {
      const order = round % 2 === 0 ? SIDES : [...SIDES].reverse();
      for (const { side, kind, environment, operations } of order) {
        const service = await startBenchService(kind, backend, {
          ...(environment === undefined ? {} : { environment }),
          ...(cpuProfileDir === undefined
            ? {}
            : { cpuProfileDir: join(cpuProfileDir, `${side}-round${round + 1}`) }),
        });
        try {
          for (const operation of operations) {
            const result = await runLoadScenario(
              { ...service, backendCpuMicros: backend.cpuMicros },
              operation,
              load,
            );
            results.set(key(side, operation), [...(results.get(key(side, operation)) ?? []), result]);
            console.log(
              `  round ${round + 1} ${side.padEnd(12)} ${operation.padEnd(18)} ${String(result.rps).padStart(6)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms`,
            );
          }
        } finally {
          await service.stop();
        }
      }
    } finally {
      await backend.stop();
    }
  }
  const summary = (runs: readonly LoadResult[]): SideSummary => {
    const last = runs.at(-1) as LoadResult;
    return {
      rps: round(median(runs.map((r) => r.rps))),
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      serverCpuUsPerRequest: round(median(runs.map((r) => r.serverCpuUsPerRequest))),
      backendCpuUsPerRequest: round(median(runs.map((r) => r.backendCpuUsPerRequest))),
      dynamoDbCallsPerRequest: median(runs.map((r) => r.dynamoDbCallsPerRequest.calls)),
      dynamoDbCalls: last.dynamoDbCallsPerRequest.byOperation,
      failures: runs.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
    };
  };
  return SIDE_BY_SIDE_ROWS.map((row) => {
    const { side, operation } = ROW_SOURCES[row];
    const ours = results.get(key(side, operation)) ?? [];
    const peer = results.get(key('peer', operation)) ?? [];
    const paired = ours.map((result, index) => ({ ours: result, peer: peer[index] as LoadResult }));
    return {
      operation: row,
      ours: summary(ours),
      peer: summary(peer),
      rpsRatio: median(paired.map((pair) => ratio(pair.ours.rps, pair.peer.rps))),
      p50Ratio: median(paired.map((pair) => ratio(pair.ours.p50Ms, pair.peer.p50Ms))),
      p99Ratio: median(paired.map((pair) => ratio(pair.ours.p99Ms, pair.peer.p99Ms))),
      rounds: paired,
    };
  });
}
