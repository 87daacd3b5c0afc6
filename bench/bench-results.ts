import type { ColdStartResult } from './cold-start';
import type { CoreLatency } from './core-latency';
import type { CostRow } from './cost-per-million';
import type { MachineDescription } from './describe-machine';
import type { OperationCalls } from './dynamodb-calls-per-operation';
import type { ScalingResult } from './scaling';
import type { SideBySideOperation } from './side-by-side';
import type { CpuProfileSummary } from './summarize-cpu-profile';

export type BenchSection = 'dynamoDbCalls' | 'coreLatency' | 'sideBySide' | 'coldStart' | 'scaling';

export interface TargetResult {
  readonly section: BenchSection;
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** null: the section did not run. */
  readonly pass: boolean | null;
  /** What the measurements say about a miss. */
  readonly note?: string;
}

/** Everything one `npm run bench` measured; written as `bench/results/latest.json`. */
export interface BenchResults {
  readonly command: string;
  readonly mode: 'full' | 'quick';
  readonly date: string;
  readonly durationSeconds: number;
  readonly machine: MachineDescription & { readonly loadAverageAtEnd: number };
  readonly settings: Readonly<Record<string, unknown>>;
  readonly dynamoDbCalls?: readonly OperationCalls[];
  readonly coreLatency?: readonly CoreLatency[];
  readonly sideBySide?: readonly SideBySideOperation[];
  readonly coldStart?: ColdStartResult;
  readonly scaling?: ScalingResult;
  /** `--profile`: where each server process spent its CPU, per side (first round). */
  readonly profiles?: Readonly<Record<string, CpuProfileSummary>>;
  /** Sections that failed, with the error. */
  readonly errors: Readonly<Partial<Record<BenchSection, string>>>;
  readonly targets: readonly TargetResult[];
  /** Dollars per million requests, built from the measurements and public prices (`cost-per-million.ts`). */
  readonly costs?: readonly CostRow[];
}
