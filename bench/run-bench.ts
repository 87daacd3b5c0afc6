/**
 * `npm run bench [-- --quick] [-- --profile[=dir]] [-- --save] [-- --out=dir]`: measures this service and the peer on this
 * machine. A full run with `--save` in which every section completed writes the committed
 * bench/results/latest.json and latest.md (`profiled.*` with `--profile`, which also
 * leaves V8 CPU profiles of the core loop and of each server process). A missed target prints MISS; it
 * never makes the exit status non-zero (a section that crashes does). Any other run (quick, partial,
 * not --save) writes to `--out=dir` or a fresh directory under the temp directory.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchBackend } from './bench-backend';
import { parseBenchOptions, resultsDestination } from './bench-options';
import type { BenchResults, BenchSection } from './bench-results';
import { measureColdStart } from './cold-start';
import { measureCoreLatency } from './core-latency';
import { costPerMillion } from './cost-per-million';
import { describeMachine } from './describe-machine';
import { describeCalls } from './dynamodb-call-counter';
import { measureDynamoDbCallsPerOperation } from './dynamodb-calls-per-operation';
import { evaluateTargets } from './evaluate-targets';
import { profileInProcess } from './profile-in-process';
import { renderMarkdown } from './render-markdown';
import { measureScaling } from './scaling';
import { measureSideBySide } from './side-by-side';
import { type CpuProfileSummary, summarizeCpuProfile } from './summarize-cpu-profile';

// The SDK warns once per process that Node < 22 loses support in 2027; the JSON records the version.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const args = process.argv.slice(2);
const options = parseBenchOptions(args);
const { profileDir } = options;
const started = Date.now();
const machine = describeMachine();
const errors: Partial<Record<BenchSection, string>> = {};
console.log(
  `bench (${options.mode}): Node ${machine.node}, ${machine.cpuModel} × ${machine.cores}, load average ${machine.loadAverageAtStart}`,
);

async function section<T>(name: BenchSection, title: string, run: () => Promise<T>): Promise<T | undefined> {
  const at = Date.now();
  console.log(`\n▶ ${title}`);
  try {
    const result = await run();
    console.log(`  (${((Date.now() - at) / 1000).toFixed(1)} s)`);
    return result;
  } catch (error) {
    errors[name] = error instanceof Error ? error.message : String(error);
    console.error(`  ${name} failed:`, error);
    process.exitCode = 1;
    return undefined;
  }
}

const profiles: Record<string, CpuProfileSummary> = {};
if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });

const coreLatency = await section(
  'coreLatency',
  `core latency, ${options.coreIterations} iterations each`,
  async () => {
    const measure = () => measureCoreLatency(options.coreIterations);
    const coreProfile = profileDir === undefined ? undefined : join(profileDir, 'core.cpuprofile');
    const result = coreProfile === undefined ? await measure() : await profileInProcess(coreProfile, measure);
    if (coreProfile !== undefined) profiles.core = await summarizeCpuProfile(coreProfile, { top: 20 });
    for (const e of result) console.log(`  ${e.operation.padEnd(26)} p50 ${e.p50Us} µs  p99 ${e.p99Us} µs`);
    return result;
  },
);

const dynamoDbCalls = await section(
  'dynamoDbCalls',
  'DynamoDB calls per operation (cold / warm)',
  async () => {
    const backend = await startBenchBackend();
    try {
      const result = await measureDynamoDbCallsPerOperation(backend, options.callSamples);
      for (const e of result) {
        console.log(
          `  ${e.operation.padEnd(19)} cold ${describeCalls(e.cold)}\n  ${''.padEnd(19)} warm ${describeCalls(e.warm)}`,
        );
      }
      return result;
    } finally {
      await backend.stop();
    }
  },
);

const sideBySide = await section('sideBySide', 'end to end, ours vs peer', () =>
  measureSideBySide(options.sideBySide.rounds, options.sideBySide.load, profileDir),
);

if (profileDir !== undefined && sideBySide !== undefined) {
  for (const side of ['ours', 'peer']) {
    const file = await mainThreadProfile(join(profileDir, `${side}-round1`));
    if (file !== undefined) profiles[side] = await summarizeCpuProfile(file, { top: 20 });
  }
  console.log(`  CPU profiles in ${profileDir}`);
}

const scaling = await section(
  'scaling',
  `stored grants ${options.scaling.sizes.join(' / ')} (ours)${options.mode === 'quick' ? ', smaller than the full run' : ''}`,
  () => measureScaling(options.scaling.sizes, options.scaling.load, options.scaling.seedBudgetMs),
);

const coldStart = await section(
  'coldStart',
  `bundles and cold start, ${options.coldStart.runs} runs each`,
  async () => {
    const result = await measureColdStart(options.coldStart.runs, { diagnose: options.coldStart.diagnose });
    for (const b of result.bundles) {
      console.log(
        `  ${b.lambda.padEnd(14)} ${(b.bundleBytes / 1000).toFixed(1).padStart(6)} kB  init ${b.initMs} ms`,
      );
    }
    return result;
  },
);

const measured: Omit<BenchResults, 'targets'> = {
  command: ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
  mode: options.mode,
  date: new Date(started).toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: { ...machine, loadAverageAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
  settings: {
    coreIterations: options.coreIterations,
    callSamples: options.callSamples,
    sideBySide: options.sideBySide,
    scaling: options.scaling,
    coldStart: options.coldStart,
  },
  ...(dynamoDbCalls && { dynamoDbCalls }),
  ...(coreLatency && { coreLatency }),
  ...(sideBySide && { sideBySide }),
  ...(coldStart && { coldStart }),
  ...(scaling && { scaling }),
  ...(Object.keys(profiles).length > 0 && { profiles }),
  errors,
};
const results: BenchResults = {
  ...measured,
  targets: evaluateTargets(measured),
  costs: costPerMillion(measured),
};
const markdown = renderMarkdown(results);
// A profiled run's timings are perturbed by the profiler: it never replaces the published figures.
// Only a complete full run with --save replaces the committed ones; anything else goes elsewhere.
const destination = resultsDestination(options, Object.keys(errors).length, RESULTS_DIR);
await mkdir(destination.dir, { recursive: true });
const written = join(destination.dir, destination.name);
await writeFile(`${written}.json`, `${JSON.stringify(results, null, 2)}\n`);
await writeFile(`${written}.md`, markdown);
console.log(`\n${markdown}`);
const missed = results.targets.filter((t) => t.pass === false).length;
console.log(
  `${results.targets.length - missed} target(s) PASS, ${missed} MISS; written to ${written}.json and .md (${results.durationSeconds} s)${destination.committed ? '' : ' — the committed bench/results/ are unchanged (a full run with --save replaces them)'}`,
);

// Everything started above has been stopped; should a stray handle remain, do not hang the terminal.
setTimeout(() => {
  console.error('bench: a handle was still open 10 s after the results were written; exiting');
  process.exit();
}, 10_000).unref();

/** The largest `.cpuprofile` in `dir`: the server's main thread (tsx's loader thread writes a small one). */
async function mainThreadProfile(dir: string): Promise<string | undefined> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  const sized = await Promise.all(files.map(async (f) => ({ f, size: (await stat(join(dir, f))).size })));
  const largest = sized.sort((a, b) => b.size - a.size)[0];
  return largest === undefined ? undefined : join(dir, largest.f);
}
