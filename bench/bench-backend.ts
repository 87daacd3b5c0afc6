import { forkBenchChild } from './child-process';

export interface BackendReady {
  readonly type: 'ready';
  readonly dynamodbEndpoint: string;
  readonly hookUrl: string;
  readonly hookSecret: string;
}

export interface BackendUsage {
  readonly type: 'usage';
  /** CPU time (user + system) of the backend process so far, µs. */
  readonly cpuMicros: number;
}

export interface BenchBackend extends Omit<BackendReady, 'type'> {
  /** CPU time dynalite and the hook have used so far, µs. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a fresh dynalite and AuthCheck hook in their own process (see `backend-process.ts`). */
export async function startBenchBackend(): Promise<BenchBackend> {
  const child = await forkBenchChild<BackendReady>('./backend-process.ts');
  const { dynamodbEndpoint, hookUrl, hookSecret } = child.ready;
  return {
    dynamodbEndpoint,
    hookUrl,
    hookSecret,
    cpuMicros: async () => (await child.ask<BackendUsage>({ type: 'usage' }, 'usage')).cpuMicros,
    stop: () => child.stop(),
  };
}
