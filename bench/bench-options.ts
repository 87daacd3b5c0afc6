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
  /** `--save`: a full, complete run replaces the committed bench/results/latest.* (or profiled.*). */
  readonly save: boolean;
  /** `--out=dir`: where any other run writes its results; default a fresh directory under the temp dir. */
  readonly outDir?: string;
}

const CONNECTIONS = 8;

/**
 * `--quick` (under 2 minutes: one round, short runs, smaller tables), `--profile[=dir]`, `--save`,
 * `--out=dir`; full otherwise.
 */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const unknown = argv.filter(
    (arg) =>
      arg !== '--quick' && arg !== '--save' && !/^--profile(=.+)?$/.test(arg) && !/^--out=.+$/.test(arg),
  );
  if (unknown.length > 0)
    throw new Error(
      `unknown option(s): ${unknown.join(' ')} (use --quick, --profile[=dir], --save, --out=dir)`,
    );
  const save = argv.includes('--save');
  if (save && argv.includes('--quick'))
    throw new Error('--save replaces the committed results and needs a full run: drop --quick');
  const out = argv.find((arg) => arg.startsWith('--out='));
  const profile = argv.find((arg) => arg.startsWith('--profile'));
  // Profiles are large: outside the repository unless a directory is named.
  const profileDir =
    profile === undefined
      ? undefined
      : resolve(profile.split('=')[1] ?? join(tmpdir(), `oauth2-bench-profiles-${Date.now()}`));
  const common = {
    save,
    ...(profileDir === undefined ? {} : { profileDir }),
    ...(out === undefined ? {} : { outDir: resolve(out.slice('--out='.length)) }),
  };
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

/**
 * Where a run's results go. The committed `bench/results/latest.*` (`profiled.*` with `--profile`)
 * change only for a full run asked to `--save` them in which every section completed; a quick,
 * partial or unsaved run writes to `--out` or a fresh directory under the temp directory, so the
 * working tree stays clean.
 */
export function resultsDestination(
  options: Pick<BenchOptions, 'mode' | 'save' | 'outDir' | 'profileDir'>,
  sectionErrors: number,
  committedDir: string,
  now: Date = new Date(),
): { readonly dir: string; readonly name: string; readonly committed: boolean } {
  const name = options.profileDir === undefined ? 'latest' : 'profiled';
  if (options.mode === 'full' && options.save && sectionErrors === 0) {
    return { dir: committedDir, name, committed: true };
  }
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    dir: options.outDir ?? join(tmpdir(), `oauth2-bench-${options.mode}-${stamp}`),
    name,
    committed: false,
  };
}
