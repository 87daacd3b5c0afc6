import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LambdaName } from './cold-start';
import type { LoadOptions } from './load-scenario';

export interface BenchOptions {
  readonly mode: 'full' | 'quick';
  /** Write a V8 CPU profile of each server process of the side-by-side runs (`--profile`). */
  readonly profileDir?: string;
  readonly coreIterations: number;
  readonly callSamples: number;
  readonly sideBySide: { readonly rounds: number; readonly load: LoadOptions };
  readonly scaling: {
    readonly sizes: readonly number[];
    readonly load: LoadOptions;
    readonly seedBudgetMs: number;
  };
  readonly coldStart: { readonly runs: number; readonly diagnose: readonly LambdaName[] };
}

const CONNECTIONS = 8;

/** `--quick` (under 2 minutes: one round, short runs, smaller tables), `--profile[=dir]`; full otherwise. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const unknown = argv.filter((arg) => arg !== '--quick' && !/^--profile(=.+)?$/.test(arg));
  if (unknown.length > 0)
    throw new Error(`unknown option(s): ${unknown.join(' ')} (use --quick, --profile[=dir])`);
  const profile = argv.find((arg) => arg.startsWith('--profile'));
  // Profiles are large: outside the repository unless a directory is named.
  const profileDir =
    profile === undefined
      ? undefined
      : resolve(profile.split('=')[1] ?? join(tmpdir(), `oauth2-bench-profiles-${Date.now()}`));
  const common = profileDir === undefined ? {} : { profileDir };
  if (argv.includes('--quick')) {
    return {
      ...common,
      mode: 'quick',
      coreIterations: 10_000,
      callSamples: 5,
      sideBySide: { rounds: 1, load: { connections: CONNECTIONS, durationSeconds: 3, warmupSeconds: 1 } },
      scaling: {
        sizes: [1_000, 3_000, 10_000],
        load: { connections: CONNECTIONS, durationSeconds: 2, warmupSeconds: 0 },
        seedBudgetMs: 30_000,
      },
      coldStart: { runs: 10, diagnose: [] },
    };
  }
  return {
    ...common,
    mode: 'full',
    coreIterations: 20_000,
    callSamples: 20,
    sideBySide: { rounds: 3, load: { connections: CONNECTIONS, durationSeconds: 10, warmupSeconds: 2 } },
    scaling: {
      sizes: [1_000, 10_000, 100_000],
      load: { connections: CONNECTIONS, durationSeconds: 5, warmupSeconds: 1 },
      seedBudgetMs: 150_000,
    },
    coldStart: { runs: 15, diagnose: ['token', 'authorizer'] },
  };
}
