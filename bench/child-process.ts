import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A forked bench process (under the same tsx loader) and its IPC channel. */
export interface BenchChild<Ready> {
  readonly ready: Ready;
  readonly pid: number;
  /** Sends `request` and resolves with the first message whose `type` is `answerType`. */
  ask<Answer>(request: { type: string }, answerType: string): Promise<Answer>;
  /** Asks it to stop, and kills it (this pid only) if it has not exited in time. */
  stop(): Promise<void>;
}

/** Forks `bench/<file>` with `args` and waits for its `{type:'ready'}` message. */
export async function forkBenchChild<Ready extends { type: 'ready' }>(
  file: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<BenchChild<Ready>> {
  const profileDir = env.BENCH_CPU_PROFILE_DIR;
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [...args], {
    env,
    // `--profile` in run-bench: a V8 CPU profile of each server process, written when it exits.
    ...(profileDir === undefined
      ? {}
      : { execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in time`)), START_TIMEOUT_MS);
    child.on('message', (message: { type?: unknown }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message as Ready);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready`));
    });
  }).catch(async (error: unknown) => {
    await kill(child, exited);
    throw error;
  });
  return {
    ready,
    pid: child.pid as number,
    ask: <Answer>(request: { type: string }, answerType: string) =>
      new Promise<Answer>((resolve, reject) => {
        const onMessage = (message: { type?: unknown }) => {
          if (message.type !== answerType) return;
          child.off('message', onMessage);
          resolve(message as Answer);
        };
        child.on('message', onMessage);
        child.send(request, (error) => {
          if (error) {
            child.off('message', onMessage);
            reject(error);
          }
        });
      }),
    stop: () => kill(child, exited),
  };
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
