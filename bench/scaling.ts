import { startBenchBackend } from './bench-backend';
import { SERVICE_TABLES } from './bench-users';
import { createSdkDocumentClient } from './create-sdk-document-client';
import { seedGrants } from './grant-seeder';
import { type LoadOptions, type LoadResult, runLoadScenario } from './load-scenario';
import { LOAD_OPERATIONS } from './side-by-side';
import { startBenchService } from './start-bench-service';

export interface ScalingPoint {
  /** The size asked for. */
  readonly targetGrants: number;
  /** Grant items in the table when the measurement started: seeded plus those the bench issued. */
  readonly storedGrants: number;
  readonly results: readonly LoadResult[];
}

export interface ScalingResult {
  readonly points: readonly ScalingPoint[];
  /** True when seeding hit its time budget before the largest size. */
  readonly bounded: boolean;
  readonly seedSeconds: number;
}

/**
 * Our service (local stack, own process) on one dynalite whose grants table grows through `sizes`:
 * before each size, grant items are written straight into the table with BatchWriteItem, then each
 * load operation runs. Seeding stops at `seedBudgetMs` in total; the sizes reached are reported.
 */
export async function measureScaling(
  sizes: readonly number[],
  load: LoadOptions,
  seedBudgetMs: number,
): Promise<ScalingResult> {
  const backend = await startBenchBackend();
  const { client, doc } = createSdkDocumentClient({ endpoint: backend.dynamodbEndpoint });
  const points: ScalingPoint[] = [];
  let seeded = 0;
  let seedMs = 0;
  let bounded = false;
  try {
    const service = await startBenchService('ours', backend);
    try {
      const deadline = Date.now() + seedBudgetMs;
      const issuedByService = async () =>
        (await service.usage()).dynamoDbCalls.byOperation[`PutItem ${SERVICE_TABLES.grants}`] ?? 0;
      for (const size of sizes) {
        const missing = size - seeded - (await issuedByService());
        const started = Date.now();
        if (missing > 0) seeded += await seedGrants(doc, SERVICE_TABLES.grants, missing, deadline);
        seedMs += Date.now() - started;
        const storedGrants = seeded + (await issuedByService());
        if (storedGrants < size) bounded = true;
        const results: LoadResult[] = [];
        for (const operation of LOAD_OPERATIONS)
          results.push(
            await runLoadScenario({ ...service, backendCpuMicros: backend.cpuMicros }, operation, load),
          );
        console.log(
          `  ${storedGrants} grants: ${results.map((r) => `${r.operation} ${r.rps} req/s, ${r.dynamoDbCallsPerRequest.calls} calls`).join('; ')}`,
        );
        points.push({ targetGrants: size, storedGrants, results });
        if (bounded) break;
      }
    } finally {
      await service.stop();
    }
  } finally {
    client.destroy();
    await backend.stop();
  }
  return { points, bounded, seedSeconds: Math.round(seedMs / 100) / 10 };
}
