import { formatLoadReport, MAX_DURATION_SECONDS, runLoad } from './load-run';

/**
 * `npm run load [-- --duration N] [--connections N]`: the bounded load run against a local stack on
 * loopback (default 30 s, at most 60). Prints the figures; exits 1 if an invariant broke, 2 on bad usage.
 */
function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const inline = process.argv.find((argument) => argument.startsWith(`--${name}=`));
  const raw = inline?.slice(name.length + 3) ?? (index >= 0 ? process.argv[index + 1] : undefined);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new RangeError(`--${name} must be a whole number, got ${raw}`);
  return value;
}

let durationSeconds: number;
let connections: number;
try {
  durationSeconds = option('duration', 30);
  connections = option('connections', 8);
  if (durationSeconds < 1 || durationSeconds > MAX_DURATION_SECONDS)
    throw new RangeError(`--duration must be from 1 to ${MAX_DURATION_SECONDS} seconds`);
  if (connections < 1 || connections > 64) throw new RangeError('--connections must be from 1 to 64');
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}

const report = await runLoad({ durationSeconds, connections });
console.log(formatLoadReport(report));
process.exitCode = report.ok ? 0 : 1;
