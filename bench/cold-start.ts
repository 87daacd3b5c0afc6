import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { LAMBDA_ENTRIES } from '../infra/service-function';
import { median, round } from './stats';

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

export interface BundleColdStart {
  readonly lambda: LambdaName;
  /** The minified bundle (index.js) as deployed, without its source map. */
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  readonly gzipBytes: number;
  /**
   * Median wall time of `node index.js` (load + module-scope init, with the `--enable-source-maps`
   * the stack sets) minus the median of a bare `node -e 0`.
   */
  readonly initMs: number;
  /** Packages left outside the bundle that it `require`s (the runtime's SDK), `node:` built-ins aside. */
  readonly externals: readonly string[];
  /** Diagnosis (`diagnose` option): the same init without `--enable-source-maps`… */
  readonly initWithoutSourceMapsMs?: number;
  /** …and a process that only `require`s this bundle's externals, minus the baseline. */
  readonly externalsOnlyMs?: number;
  readonly runs: number;
  /** Set when the bundle failed to initialise. */
  readonly error?: string;
  /**
   * The other way to ship it: the AWS SDK bundled in (and minified) instead of left to the runtime.
   * Size and load + init measured the same way, with the runtime's SDK still on the module path.
   */
  readonly sdkBundled?: { readonly bundleBytes: number; readonly initMs: number; readonly error?: string };
}

export interface ColdStartResult {
  readonly baselineMs: number;
  /**
   * The floor under every DynamoDB Lambda: `require` of the external `@aws-sdk/client-dynamodb` and
   * `@aws-sdk/lib-dynamodb` alone, minus the baseline.
   */
  readonly sdkFloorMs: number;
  readonly runs: number;
  readonly bundles: readonly BundleColdStart[];
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What a Lambda gets at cold start that the handlers read (no network is touched at init): table
 * names, an https AuthCheck, the runtime's region and the `NODE_OPTIONS` the stack sets.
 */
const LAMBDA_ENVIRONMENT: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NODE_OPTIONS: '--enable-source-maps',
  CLIENTS_TABLE: 'oauth2-clients',
  GRANTS_TABLE: 'oauth2-grants',
  AUTH_CHECK_URL: 'https://auth-check.example.com/check',
  AUTH_CHECK_SECRET: 'bench-hook-secret',
  LOCKOUT_KEY_SECRET: 'bench-lockout-key-secret-0123456789abcdef',
  REQUIRE_SSL: 'true',
  LOG_LEVEL: 'INFO',
  // Set by the stack for every function that reads them (the metadata refuses to start without).
  ISSUER: 'https://auth.example.com',
  AUTHORIZE_FORM_SECRET: 'bench-authorize-form-secret-0123456789abcdef',
  SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-signing-keys-AbCdEf',
};

/**
 * Bundles every Lambda entry as the CDK stack does (`infra/service-function.ts`: esbuild, CJS,
 * minified, source maps, target node22, `@aws-sdk/*` external) into a temporary directory whose
 * `node_modules` links to the project's (the runtime provides the SDK in Lambda), then starts each
 * bundle `runs` times in a fresh `node` process, interleaved with bare `node -e 0` runs and with a
 * process that only loads the SDK.
 */
export async function measureColdStart(
  runs: number,
  options: { readonly diagnose?: readonly LambdaName[] } = {},
): Promise<ColdStartResult> {
  const dir = await mkdtemp(join(tmpdir(), 'oauth2-bench-bundles-'));
  try {
    await symlink(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}\n');
    const names = Object.keys(LAMBDA_ENTRIES) as LambdaName[];
    const bundles = await Promise.all(names.map((name) => bundle(name, dir, 'external')));
    // The SDK bundled and minified, for the Lambdas that load it (issue 13: measure both ways).
    const withSdk = await Promise.all(
      bundles.filter(({ externals }) => externals.length > 0).map(({ name }) => bundle(name, dir, 'bundled')),
    );
    const { NODE_OPTIONS: _sourceMaps, ...withoutSourceMaps } = LAMBDA_ENVIRONMENT;
    const probes: Probe[] = [
      { id: 'baseline', args: ['-e', '0'], env: LAMBDA_ENVIRONMENT },
      { id: 'sdk', args: ['-e', SDK_REQUIRES], env: LAMBDA_ENVIRONMENT },
      ...bundles.map(({ name, file }) => ({ id: name, args: [file], env: LAMBDA_ENVIRONMENT })),
      ...withSdk.map(({ name, file }) => ({
        id: `${name}-sdk-bundled`,
        args: [file],
        env: LAMBDA_ENVIRONMENT,
      })),
      ...bundles
        .filter(({ name }) => options.diagnose?.includes(name))
        .flatMap(({ name, file, externals }) => [
          { id: `${name}-nosm`, args: [file], env: withoutSourceMaps },
          { id: `${name}-externals`, args: ['-e', requiresOf(externals)], env: LAMBDA_ENVIRONMENT },
        ]),
    ];

    // Interleaved, so a slow spell on a shared machine hits every probe alike.
    const times = new Map<string, number[]>(probes.map((probe) => [probe.id, []]));
    const errors = new Map<string, string>();
    for (let run = 0; run < runs; run += 1) {
      for (const probe of probes) {
        if (errors.has(probe.id)) continue;
        const timed = await timeNode(probe, dir);
        if (timed.code !== 0) errors.set(probe.id, `exit ${timed.code}: ${timed.stderr.slice(0, 300)}`);
        else times.get(probe.id)?.push(timed.ms);
      }
    }
    const baselineMs = median(times.get('baseline') ?? []);
    const initOf = (id: string) => round(median(times.get(id) ?? []) - baselineMs);
    const sdkBundledOf = (name: LambdaName) => {
      const built = withSdk.find((entry) => entry.name === name);
      if (built === undefined) return {};
      const error = errors.get(`${name}-sdk-bundled`);
      return {
        sdkBundled: {
          bundleBytes: built.bundleBytes,
          initMs: error === undefined ? initOf(`${name}-sdk-bundled`) : Number.NaN,
          ...(error === undefined ? {} : { error }),
        },
      };
    };
    return {
      baselineMs: round(baselineMs),
      sdkFloorMs: initOf('sdk'),
      runs,
      bundles: bundles.map(({ name, bundleBytes, sourceMapBytes, gzipBytes, externals }) => {
        const error = errors.get(name);
        return {
          lambda: name,
          bundleBytes,
          sourceMapBytes,
          gzipBytes,
          externals,
          initMs: error === undefined ? initOf(name) : Number.NaN,
          ...(times.get(`${name}-nosm`)?.length ? { initWithoutSourceMapsMs: initOf(`${name}-nosm`) } : {}),
          ...(times.get(`${name}-externals`)?.length ? { externalsOnlyMs: initOf(`${name}-externals`) } : {}),
          runs: times.get(name)?.length ?? 0,
          ...(error === undefined ? {} : { error }),
          ...sdkBundledOf(name),
        };
      }),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Probe {
  readonly id: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

const requiresOf = (packages: readonly string[]) => packages.map((name) => `require('${name}');`).join('');
const SDK_REQUIRES = requiresOf(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);

async function bundle(name: LambdaName, dir: string, sdk: 'external' | 'bundled') {
  const outdir = join(dir, sdk === 'external' ? name : `${name}-sdk-bundled`);
  await mkdir(outdir);
  const file = join(outdir, 'index.js');
  const result = await build({
    entryPoints: [join(PROJECT_ROOT, LAMBDA_ENTRIES[name])],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    sourcemap: true,
    external: sdk === 'external' ? ['@aws-sdk/*'] : [],
    logLevel: 'warning',
    write: false,
    metafile: true,
  });
  const externals = [
    ...new Set(
      Object.values(result.metafile.outputs).flatMap((output) =>
        output.imports
          .filter((entry) => entry.external && !entry.path.startsWith('node:'))
          .map((entry) => entry.path),
      ),
    ),
  ].sort();
  let bundleBytes = 0;
  let sourceMapBytes = 0;
  let gzipBytes = 0;
  for (const output of result.outputFiles) {
    await writeFile(output.path, output.contents);
    if (output.path.endsWith('.map')) sourceMapBytes = output.contents.byteLength;
    else {
      bundleBytes = output.contents.byteLength;
      gzipBytes = gzipSync(output.contents).byteLength;
    }
  }
  if (bundleBytes !== (await stat(file)).size) throw new Error(`bundle of ${name} was not written`);
  return { name, file, bundleBytes, sourceMapBytes, gzipBytes, externals };
}

function timeNode(probe: Probe, cwd: string): Promise<{ ms: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...probe.args], {
      cwd,
      env: probe.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, stderr });
    });
  });
}
