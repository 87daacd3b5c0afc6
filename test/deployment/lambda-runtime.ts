import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionModel } from './deployment-model';

const BOOTSTRAP = fileURLToPath(new URL('./lambda-runtime-bootstrap.cjs', import.meta.url));
const PROJECT_NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
/** The package scopes the Node.js Lambda runtime puts on the module path (/var/runtime/node_modules). */
export const RUNTIME_SCOPES = ['@aws-sdk', '@smithy'] as const;

/** Environment variable names Lambda reserves: a template that sets one is refused by Lambda. */
export const RESERVED_ENVIRONMENT = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

/**
 * A directory holding only the SDK scopes (symlinks into this project's node_modules), used as the
 * functions' NODE_PATH: the bundle resolves `@aws-sdk/*` there, as on Lambda, and nothing else.
 */
export function createRuntimeModulePath(directory: string): string {
  mkdirSync(directory, { recursive: true });
  for (const scope of RUNTIME_SCOPES) {
    const target = join(PROJECT_NODE_MODULES, scope);
    if (existsSync(target) && !existsSync(join(directory, scope)))
      symlinkSync(target, join(directory, scope), 'dir');
  }
  return directory;
}

/**
 * The bare module names the asset's JavaScript files `require`/`import` that are neither Node.js
 * built-ins nor relative: on Lambda only the runtime's SDK scopes can satisfy those.
 */
export function externalRequires(assetDir: string): string[] {
  const found = new Set<string>();
  const builtins = new Set(builtinModules);
  for (const file of readdirSync(assetDir, { recursive: true }) as string[]) {
    if (!/\.(c|m)?js$/.test(file)) continue;
    const source = readFileSync(join(assetDir, file), 'utf8');
    for (const match of source.matchAll(/\b(?:require\(|import\(|from\s*)\s*["']([^"'./][^"']*)["']/g)) {
      const name = match[1] as string;
      const bare = name.replace(/^node:/, '');
      if (name.startsWith('node:') || builtins.has(bare) || builtins.has(bare.split('/')[0] as string))
        continue;
      found.add(name);
    }
  }
  return [...found].sort();
}

export const allowedOnRuntime = (name: string): boolean =>
  RUNTIME_SCOPES.some((scope) => name.startsWith(`${scope}/`));

export interface InvocationResult {
  readonly result?: unknown;
  /** `{errorType, errorMessage}` as Lambda reports a failed invocation. */
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  readonly durationMs: number;
}

export interface RunningFunction {
  readonly model: FunctionModel;
  invoke(event: unknown): Promise<InvocationResult>;
  /** Starts the execution environment (cold start) and reports an init error, if any. */
  init(): Promise<{ readonly errorType: string; readonly errorMessage: string } | undefined>;
  /** How many invocations ran. */
  readonly invocations: number;
  /** Everything the function wrote to stdout/stderr (its CloudWatch log stream). */
  readonly logs: string[];
  stop(): Promise<void>;
}

/**
 * One function, run like the Lambda runtime runs it: a separate Node.js process whose working
 * directory is the asset, with `_HANDLER`, the reserved AWS variables, the template's environment and
 * only the SDK on NODE_PATH. Invocations are serial (one execution environment); one exceeding the
 * template's Timeout is killed and answered `Task timed out`, and the next starts a fresh environment.
 */
export function startFunction(options: {
  readonly model: FunctionModel;
  readonly environment: Readonly<Record<string, string>>;
  readonly region: string;
  readonly awsEndpoint: string;
  readonly modulePath: string;
}): RunningFunction {
  const { model } = options;
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let ready: Promise<{ type: string; error?: { errorType: string; errorMessage: string } }> | undefined;

  const spawnChild = () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      NODE_PATH: options.modulePath,
      LAMBDA_TASK_ROOT: model.assetDir ?? '/nonexistent',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      _HANDLER: model.handler,
      AWS_REGION: options.region,
      AWS_DEFAULT_REGION: options.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${model.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: model.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(model.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${model.name}`,
      // The role's credentials: the access key id names the function, so the emulated AWS endpoint
      // knows whose role policies to check a call against.
      AWS_ACCESS_KEY_ID: model.logicalId,
      AWS_SECRET_ACCESS_KEY: 'verification',
      AWS_SESSION_TOKEN: 'verification',
      AWS_ENDPOINT_URL: options.awsEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...options.environment,
    };
    const started = fork(BOOTSTRAP, [], {
      cwd: model.assetDir ?? process.cwd(),
      env,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const collect = (chunk: Buffer) => {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      if (logs.length > 2000) logs.splice(0, logs.length - 2000);
    };
    started.stdout?.on('data', collect);
    started.stderr?.on('data', collect);
    ready = new Promise((resolve) => {
      const onMessage = (message: { type: string; error?: { errorType: string; errorMessage: string } }) => {
        if (message.type === 'ready' || message.type === 'init-error') {
          started.off('message', onMessage);
          resolve(message);
        }
      };
      started.on('message', onMessage);
      started.once('exit', (code) =>
        resolve({
          type: 'init-error',
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `exited with ${code} during init: ${logs.slice(-3).join(' | ')}`,
          },
        }),
      );
    });
    child = started;
  };

  const kill = () => {
    child?.kill('SIGKILL');
    child = undefined;
    ready = undefined;
  };

  const invokeOnce = async (event: unknown): Promise<InvocationResult> => {
    const startedAt = performance.now();
    if (child === undefined || child.exitCode !== null) spawnChild();
    const current = child as ChildProcess;
    const init = await (ready as NonNullable<typeof ready>);
    if (init.type === 'init-error') {
      // Lambda retries the init on the next invocation; so does this.
      kill();
      return {
        error: init.error ?? { errorType: 'Runtime.Unknown', errorMessage: 'init failed' },
        durationMs: performance.now() - startedAt,
      };
    }
    const id = randomUUID();
    const timeoutMs = model.timeoutSeconds * 1000;
    return new Promise<InvocationResult>((resolve) => {
      const finish = (outcome: Omit<InvocationResult, 'durationMs'>) => {
        clearTimeout(timer);
        current.off('message', onMessage);
        current.off('exit', onExit);
        resolve({ ...outcome, durationMs: performance.now() - startedAt });
      };
      const onMessage = (message: {
        type: string;
        id?: string;
        result?: unknown;
        error?: { errorType: string; errorMessage: string };
      }) => {
        if (message.id !== id) return;
        finish(
          message.type === 'result'
            ? { result: message.result }
            : { error: message.error ?? { errorType: 'Error', errorMessage: '' } },
        );
      };
      const onExit = (code: number | null) => {
        child = undefined;
        finish({
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${id} Error: Runtime exited with error: exit status ${code}`,
          },
        });
      };
      const timer = setTimeout(() => {
        kill();
        finish({
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${model.timeoutSeconds.toFixed(2)} seconds`,
          },
        });
      }, timeoutMs);
      current.on('message', onMessage);
      current.once('exit', onExit);
      current.send({ id, event, timeoutMs, requestId: id, functionArn: model.arn });
    });
  };

  let invocations = 0;
  return {
    model,
    logs,
    get invocations() {
      return invocations;
    },
    async init() {
      if (child === undefined || child.exitCode !== null) spawnChild();
      const outcome = await (ready as NonNullable<typeof ready>);
      if (outcome.type !== 'init-error') return undefined;
      kill();
      return outcome.error ?? { errorType: 'Runtime.Unknown', errorMessage: 'init failed' };
    },
    invoke(event) {
      invocations += 1;
      const next = queue.then(() => invokeOnce(event));
      queue = next.catch(() => undefined);
      return next;
    },
    async stop() {
      const running = child;
      if (running === undefined || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGTERM');
      });
      child = undefined;
    },
  };
}
