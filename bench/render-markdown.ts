import type { BenchResults } from './bench-results';
import { ASSUMPTIONS, PRICES } from './cost-per-million';
import { describeCalls } from './dynamodb-call-counter';
import { ratio } from './stats';

const table = (header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n');

/** `null`: not measured in this run, or (with a measurement) a figure the issue asks to report, not to meet. */
const verdict = (pass: boolean | null, measured: string) =>
  pass === null ? (measured === '–' ? 'not run' : 'reported') : pass ? 'PASS' : '**MISS**';
const kb = (bytes: number) => (bytes / 1000).toFixed(1);

/** The short report: every table of `latest.json`, with the command and the machine. */
export function renderMarkdown(results: BenchResults): string {
  const { machine } = results;
  const out: string[] = [
    `# Benchmark: ${results.date}`,
    '',
    `\`${results.command}\` (${results.mode} mode, ${results.durationSeconds} s). Node ${machine.node}, ${machine.os}, ` +
      `${machine.cpuModel} × ${machine.cores} cores, ${machine.memoryGiB} GiB; load average ` +
      `${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd} at end.`,
    '',
    'Medians; a ratio is the median over the rounds of ours / peer within a round (each round’s own ratio in brackets). ' +
      'Everything runs on this one machine over loopback: ' +
      'the load generator, the server under test and the backend (dynalite + AuthCheck hook) each in its own process.',
    '',
  ];

  if (results.targets.length > 0) {
    out.push('## Targets', '');
    out.push(
      table(
        ['target', 'goal', 'measured', 'verdict'],
        results.targets.map((t) => [
          t.name,
          t.target,
          t.note ? `${t.measured} (${t.note})` : t.measured,
          verdict(t.pass, t.measured),
        ]),
      ),
      '',
    );
  }

  if (results.sideBySide !== undefined) {
    const { rounds, load } = results.settings.sideBySide as { rounds: number; load: Record<string, number> };
    out.push(
      '## End to end: ours (local stack) vs @node-oauth/oauth2-server 5.3.0',
      '',
      `${rounds} round(s) × ${load.durationSeconds} s per operation and side, ${load.connections} connections (autocannon), after ${load.warmupSeconds} s warm-up.`,
      '',
      table(
        [
          'operation',
          'ours req/s',
          'peer req/s',
          'ratio',
          'ours p50 / p99 ms',
          'peer p50 / p99 ms',
          'CPU µs/req server (ours / peer)',
          'CPU µs/req dynalite + hook (ours / peer)',
          'DynamoDB calls/req (ours / peer)',
          'failed',
        ],
        results.sideBySide.map((e) => [
          e.operation,
          e.ours.rps,
          e.peer.rps,
          e.rounds.length > 1
            ? `${e.rpsRatio}× (rounds: ${e.rounds.map((r) => ratio(r.ours.rps, r.peer.rps)).join(', ')})`
            : `${e.rpsRatio}×`,
          `${e.ours.p50Ms} / ${e.ours.p99Ms}`,
          `${e.peer.p50Ms} / ${e.peer.p99Ms}`,
          `${e.ours.serverCpuUsPerRequest} / ${e.peer.serverCpuUsPerRequest}`,
          `${e.ours.backendCpuUsPerRequest} / ${e.peer.backendCpuUsPerRequest}`,
          `${e.ours.dynamoDbCallsPerRequest} / ${e.peer.dynamoDbCallsPerRequest}`,
          `${e.ours.failures} / ${e.peer.failures}`,
        ]),
      ),
      '',
    );
  }

  if (results.dynamoDbCalls !== undefined) {
    out.push(
      '## DynamoDB calls per operation',
      '',
      'Counted by a middleware on the handlers’ own SDK clients; cold = first call of a freshly built Lambda.',
      '',
      table(
        ['operation', 'cold', 'warm', 'round trips in a row (warm)'],
        results.dynamoDbCalls.map((e) => [
          e.operation,
          `${e.cold.calls}: ${describeCalls(e.cold)}`,
          `${e.warm.calls}: ${describeCalls(e.warm)}${e.warmStable ? '' : ' (varies)'}`,
          e.warmRoundTrips === undefined
            ? '–'
            : `${e.warmRoundTrips.dynamodb} DynamoDB + ${e.warmRoundTrips.hook} AuthCheck`,
        ]),
      ),
      '',
    );
  }

  if (results.coreLatency !== undefined) {
    out.push(
      '## Core without I/O (in-memory stores, in-process)',
      '',
      table(
        ['operation', 'p50 µs', 'p99 µs', 'mean µs', 'iterations'],
        results.coreLatency.map((e) => [e.operation, e.p50Us, e.p99Us, e.meanUs, e.iterations]),
      ),
      '',
    );
  }

  if (results.coldStart !== undefined) {
    const cold = results.coldStart;
    out.push(
      '## Lambda bundles and cold start proxy',
      '',
      `esbuild as the CDK stack bundles them; init = median of ${cold.runs} \`node index.js\` runs minus bare \`node -e 0\` ` +
        `(${cold.baselineMs} ms). Loading the DynamoDB SDK alone: ${cold.sdkFloorMs} ms.`,
      '',
      table(
        [
          'Lambda',
          'bundle kB',
          'gzip kB',
          'init ms (runtime SDK, as deployed)',
          'SDK bundled + minified: kB / init ms',
          'SDK packages loaded',
        ],
        cold.bundles.map((b) => [
          b.lambda,
          kb(b.bundleBytes),
          kb(b.gzipBytes),
          b.error === undefined ? b.initMs : `failed: ${b.error}`,
          b.sdkBundled === undefined
            ? '–'
            : `${kb(b.sdkBundled.bundleBytes)} / ${b.sdkBundled.error === undefined ? b.sdkBundled.initMs : 'failed'}`,
          b.externals.join(', ') || '–',
        ]),
      ),
      '',
    );
  }

  if (results.costs !== undefined && results.costs.length > 0) {
    out.push(
      '## Cost per million (US East, on-demand)',
      '',
      `Prices read on ${PRICES.readOn}: API Gateway REST $${PRICES.apiGatewayRestPerMillion} per million requests; ` +
        `Lambda $${PRICES.lambdaRequestsPerMillion} per million requests + $${PRICES.lambdaPerGbSecond} per GB-second (arm64); ` +
        `DynamoDB $${PRICES.dynamoDbPerMillionWrites} per million write units, $${PRICES.dynamoDbPerMillionReads} per million read units. ` +
        `Billed duration = measured server CPU + ${ASSUMPTIONS.dynamoDbRoundTripMs} ms per DynamoDB round trip and ` +
        `${ASSUMPTIONS.authCheckRoundTripMs} ms per AuthCheck round trip on the critical path (assumed: dynalite on loopback is not DynamoDB).`,
      '',
      table(
        ['operation', 'API Gateway $', 'Lambda $', 'DynamoDB $', 'total $ per million', 'basis'],
        results.costs.map((c) => [c.operation, c.apiGateway, c.lambda, c.dynamoDb, c.total, c.basis]),
      ),
      '',
    );
  }

  if (results.scaling !== undefined) {
    const operations = results.scaling.points[0]?.results.map((r) => r.operation) ?? [];
    out.push(
      '## Stored grants vs throughput (ours)',
      '',
      `Grants seeded with BatchWriteItem (${results.scaling.seedSeconds} s)` +
        (results.mode === 'quick' ? '; quick mode uses smaller tables than the full run (1k/10k/100k)' : '') +
        (results.scaling.bounded
          ? '; seeding hit its time budget, so the largest size was not reached'
          : '') +
        '.',
      '',
      table(
        ['stored grants', ...operations.map((op) => `${op} req/s (calls/req)`)],
        results.scaling.points.map((p) => [
          p.storedGrants,
          ...p.results.map((r) => `${r.rps} (${r.dynamoDbCallsPerRequest.calls})`),
        ]),
      ),
      '',
    );
  }

  if (results.profiles !== undefined) {
    out.push(
      '## Where the CPU went (`--profile`: self time, share of the profiled process)',
      '',
      '`core` is the in-process core loop; `ours` and `peer` the server processes of round 1 (start-up included).',
      '',
    );
    for (const [name, summary] of Object.entries(results.profiles)) {
      out.push(
        `**${name}** by origin: ${summary.byOrigin
          .slice(0, 10)
          .map((o) => `${o.origin} ${o.share}%`)
          .join(', ')}`,
        '',
        `**${name}** top functions: ${summary.topFunctions
          .slice(0, 10)
          .map((f) => `\`${f.name}\` ${f.share}%`)
          .join(', ')}`,
        '',
      );
    }
  }

  const errors = Object.entries(results.errors);
  if (errors.length > 0) {
    out.push(
      '## Sections that failed',
      '',
      ...errors.map(([section, error]) => `- ${section}: ${error}`),
      '',
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
