import type { BenchBackend } from './bench-backend';
import { forkBenchChild } from './child-process';
import type { DynamoDbCallCounts } from './dynamodb-call-counter';
import type { ClientCredentials } from './in-process-lambdas';

/** `ours`: the local stack (the Lambda handlers behind API Gateway emulation); `peer`: oauth2-server. */
export type ServiceKind = 'ours' | 'peer';

export interface ServiceReady {
  readonly type: 'ready';
  readonly url: string;
  readonly client: ClientCredentials;
}

export interface ServiceCounts {
  readonly type: 'counts';
  readonly counts: DynamoDbCallCounts;
  /** CPU time (user + system) the server process has used so far, in µs. */
  readonly cpuMicros: number;
  /** Of which in the kernel (system), µs: on loopback that includes the TCP stack's work. */
  readonly systemCpuMicros: number;
}

export interface ServiceUsage {
  readonly dynamoDbCalls: DynamoDbCallCounts;
  readonly cpuMicros: number;
  readonly systemCpuMicros: number;
}

export interface BenchService {
  readonly kind: ServiceKind;
  readonly url: string;
  readonly client: ClientCredentials;
  /** DynamoDB calls the server has made, and the CPU time it has used, since it started. */
  usage(): Promise<ServiceUsage>;
  stop(): Promise<void>;
}

/**
 * Starts one side in its own process (see `service-process.ts`) on `backend`; with `cpuProfileDir`, the
 * process writes a V8 CPU profile there when it stops.
 */
export async function startBenchService(
  kind: ServiceKind,
  backend: BenchBackend,
  options: {
    readonly cpuProfileDir?: string;
    /** Lambda settings for our side (the local stack's environment), e.g. `LOCKOUT_THRESHOLD`. */
    readonly environment?: Readonly<Record<string, string>>;
  } = {},
): Promise<BenchService> {
  const child = await forkBenchChild<ServiceReady>('./service-process.ts', [kind], {
    ...process.env,
    ...(options.cpuProfileDir === undefined ? {} : { BENCH_CPU_PROFILE_DIR: options.cpuProfileDir }),
    BENCH_DYNAMODB_ENDPOINT: backend.dynamodbEndpoint,
    BENCH_HOOK_URL: backend.hookUrl,
    BENCH_HOOK_SECRET: backend.hookSecret,
    BENCH_SERVICE_ENVIRONMENT: JSON.stringify(options.environment ?? {}),
  });
  return {
    kind,
    url: child.ready.url,
    client: child.ready.client,
    usage: async () => {
      const { counts, cpuMicros, systemCpuMicros } = await child.ask<ServiceCounts>(
        { type: 'counts' },
        'counts',
      );
      return { dynamoDbCalls: counts, cpuMicros, systemCpuMicros };
    },
    stop: () => child.stop(),
  };
}
