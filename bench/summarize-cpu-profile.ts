import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface CpuProfileSummary {
  readonly totalMs: number;
  /** Self time (ms) per function, highest first. */
  readonly topFunctions: ReadonlyArray<{
    readonly name: string;
    readonly selfMs: number;
    readonly share: number;
  }>;
  /** Self time per package (`node_modules/<name>`), project folder (`lambdas/http` …) or `node:` internals. */
  readonly byOrigin: ReadonlyArray<{
    readonly origin: string;
    readonly selfMs: number;
    readonly share: number;
  }>;
  /** Inclusive time (ms) of frames whose function name matches one of `inclusive`. */
  readonly inclusive: ReadonlyArray<{
    readonly name: string;
    readonly totalMs: number;
    readonly share: number;
  }>;
}

const originOf = (url: string): string => {
  if (url === '') return '(native: syscalls, GC, VM)';
  if (url.startsWith('node:')) return 'node: internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] as string;
  const project = /\/(lambdas\/[^/]+|bench|test\/[^/]+)\//.exec(url);
  return project === null ? url : (project[1] as string);
};

/**
 * Reads a V8 `.cpuprofile` (`node --cpu-prof`) and sums self time per function and per origin, plus
 * the inclusive time of the named functions, so a missed target can be explained from the profile.
 */
export async function summarizeCpuProfile(
  file: string,
  options: { readonly top?: number; readonly inclusive?: readonly string[] } = {},
): Promise<CpuProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const share = (us: number) => Math.round((us / Math.max(totalUs, 1)) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;

  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = (nodes.get(id) as ProfileNode).callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(lambdas|bench|test)\//, '$1/')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const origin = frame.functionName === '(idle)' ? '(idle)' : originOf(frame.url);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }

  // Inclusive time: each sample counts once for every distinct matching function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const wanted = options.inclusive ?? [];
  const inclusiveUs = new Map<string, number>(wanted.map((name) => [name, 0]));
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = (nodes.get(at) as ProfileNode).callFrame.functionName;
      if (inclusiveUs.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + us);
      }
    }
  }

  const ranked = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: ms(totalUs),
    topFunctions: ranked(byFunction)
      .slice(0, options.top ?? 15)
      .map(([name, us]) => ({ name, selfMs: ms(us), share: share(us) })),
    byOrigin: ranked(byOrigin)
      .slice(0, options.top ?? 15)
      .map(([origin, us]) => ({ origin, selfMs: ms(us), share: share(us) })),
    inclusive: [...inclusiveUs].map(([name, us]) => ({ name, totalMs: ms(us), share: share(us) })),
  };
}
