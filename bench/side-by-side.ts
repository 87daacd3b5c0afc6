import { join } from 'node:path';
import { startBenchBackend } from './bench-backend';
import { type LoadOperation, type LoadOptions, type LoadResult, runLoadScenario } from './load-scenario';
import { type ServiceKind, startBenchService } from './start-bench-service';
import { median, ratio, round } from './stats';

export const LOAD_OPERATIONS: readonly LoadOperation[] = ['password', 'refresh_token', 'me'];

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
  readonly operation: LoadOperation;
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
 * hook) and runs one side then the other in their own processes, alternating which goes first. With
 * `cpuProfileDir`, each server process leaves a CPU profile in `<dir>/<side>-round<n>/`.
 */
export async function measureSideBySide(
  rounds: number,
  load: LoadOptions,
  cpuProfileDir?: string,
): Promise<SideBySideOperation[]> {
  const results = new Map<LoadOperation, Array<Partial<Record<ServiceKind, LoadResult>>>>(
    LOAD_OPERATIONS.map((operation) => [operation, []]),
  );
  for (let round = 0; round < rounds; round += 1) {
    const backend = await startBenchBackend();
    try {
      const order: ServiceKind[] = round % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
      for (const kind of order) {
        const service = await startBenchService(
          kind,
          backend,
          cpuProfileDir === undefined
            ? {}
            : { cpuProfileDir: join(cpuProfileDir, `${kind}-round${round + 1}`) },
        );
        try {
          for (const operation of LOAD_OPERATIONS) {
            const result = await runLoadScenario(
              { ...service, backendCpuMicros: backend.cpuMicros },
              operation,
              load,
            );
            const perRound = results.get(operation) as Array<Partial<Record<ServiceKind, LoadResult>>>;
            perRound[round] = { ...perRound[round], [kind]: result };
            console.log(
              `  round ${round + 1} ${kind.padEnd(4)} ${operation.padEnd(13)} ${String(result.rps).padStart(6)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms`,
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
  return LOAD_OPERATIONS.map((operation) => {
    const paired = (results.get(operation) ?? []).map((r) => ({
      ours: r.ours as LoadResult,
      peer: r.peer as LoadResult,
    }));
    const summary = (side: 'ours' | 'peer'): SideSummary => {
      const runs = paired.map((pair) => pair[side]);
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
    return {
      operation,
      ours: summary('ours'),
      peer: summary('peer'),
      rpsRatio: median(paired.map((pair) => ratio(pair.ours.rps, pair.peer.rps))),
      p50Ratio: median(paired.map((pair) => ratio(pair.ours.p50Ms, pair.peer.p50Ms))),
      p99Ratio: median(paired.map((pair) => ratio(pair.ours.p99Ms, pair.peer.p99Ms))),
      rounds: paired,
    };
  });
}
