import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_LOCKOUT_KEY_SECRET } from '../support/lockout-key-secret';

/**
 * The SDK clients cost tens of milliseconds of cold start each: a Lambda loads them only when its
 * configuration uses them. Checked on the bundles as deployed (esbuild, CJS, `@aws-sdk/*` external,
 * see infra/service-function.ts), each started in a fresh `node` with a Lambda's environment.
 */

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRIES = { token: 'lambdas/handlers/token.ts', authorizer: 'lambdas/handlers/authorizer.ts' } as const;
type Entry = keyof typeof ENTRIES;

const LAMBDA_SDK = '@aws-sdk/client-lambda';
const SECRETS_SDK = '@aws-sdk/client-secrets-manager';

const BASE_ENVIRONMENT: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  CLIENTS_TABLE: 'oauth2-clients',
  GRANTS_TABLE: 'oauth2-grants',
  LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
  REQUIRE_SSL: 'true',
  LOG_LEVEL: 'SILENT',
};
const HTTP_AUTH_CHECK = {
  AUTH_CHECK_URL: 'https://auth-check.example.com/check',
  AUTH_CHECK_SECRET: 'lazy-sdk-hook-secret',
};

// Loads the bundle, lets the microtasks it queued run (an `import()` started during init would
// have required its package by then), and prints which `@aws-sdk/*` packages are in the cache.
const PROBE = String.raw`
require(process.argv[1]);
setImmediate(() => {
  const loaded = new Set();
  for (const file of Object.keys(require.cache)) {
    const match = /\/node_modules\/(@aws-sdk\/[^/]+)\//.exec(file);
    if (match) loaded.add(match[1]);
  }
  process.stdout.write(JSON.stringify([...loaded].sort()));
  process.exit(0);
});
`;

let dir: string;
const bundles = new Map<Entry, string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oauth2-lazy-sdk-'));
  // The runtime provides the SDK in Lambda; here it comes from the project's node_modules.
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}\n');
  await Promise.all(
    (Object.keys(ENTRIES) as Entry[]).map(async (entry) => {
      const outfile = join(dir, `${entry}.js`);
      await build({
        entryPoints: [join(PROJECT_ROOT, ENTRIES[entry])],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node22',
        minify: true,
        external: ['@aws-sdk/*'],
        logLevel: 'silent',
      });
      bundles.set(entry, outfile);
    }),
  );
}, 30_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function sdkPackagesLoadedBy(entry: Entry, environment: NodeJS.ProcessEnv): Promise<string[]> {
  const bundle = bundles.get(entry);
  if (bundle === undefined) throw new Error(`${entry} was not bundled`);
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', PROBE, bundle], {
    cwd: dir,
    env: { ...BASE_ENVIRONMENT, ...environment },
    timeout: 15_000,
  });
  return JSON.parse(stdout) as string[];
}

describe('SDK clients a Lambda does not use are not loaded', () => {
  it('token with an HTTP AuthCheck and a plain AUTH_CHECK_SECRET: neither Lambda nor Secrets Manager', async () => {
    const loaded = await sdkPackagesLoadedBy('token', HTTP_AUTH_CHECK);
    expect(loaded).toContain('@aws-sdk/client-dynamodb');
    expect(loaded).not.toContain(LAMBDA_SDK);
    expect(loaded).not.toContain(SECRETS_SDK);
  });

  it('token in opaque mode with the signing-key secret configured (as the stack deploys it): no Secrets Manager', async () => {
    const loaded = await sdkPackagesLoadedBy('token', {
      ...HTTP_AUTH_CHECK,
      ACCESS_TOKEN_FORMAT: 'opaque',
      SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys-AbCdEf',
    });
    expect(loaded).toContain('@aws-sdk/client-dynamodb');
    expect(loaded).not.toContain(SECRETS_SDK);
  });

  it('authorizer without a session check: neither', async () => {
    const loaded = await sdkPackagesLoadedBy('authorizer', {});
    expect(loaded).toContain('@aws-sdk/client-dynamodb');
    expect(loaded).not.toContain(LAMBDA_SDK);
    expect(loaded).not.toContain(SECRETS_SDK);
  });

  it('authorizer with an HTTP session check and a plain SESSION_CHECK_SECRET: neither', async () => {
    const loaded = await sdkPackagesLoadedBy('authorizer', {
      SESSION_CHECK_URL: 'https://session-check.example.com/check',
      SESSION_CHECK_SECRET: 'lazy-sdk-session-secret',
    });
    expect(loaded).not.toContain(LAMBDA_SDK);
    expect(loaded).not.toContain(SECRETS_SDK);
  });
});

// The probe sees a package that is loaded: without these, the tests above could pass on a probe
// that sees nothing.
describe('SDK clients a Lambda uses are loaded during init', () => {
  it('token with AUTH_CHECK_FUNCTION_NAME: the Lambda client only', async () => {
    const loaded = await sdkPackagesLoadedBy('token', { AUTH_CHECK_FUNCTION_NAME: 'deployer-auth-check' });
    expect(loaded).toContain(LAMBDA_SDK);
    expect(loaded).not.toContain(SECRETS_SDK);
  });

  it('token with AUTH_CHECK_SECRET_ARN: the Secrets Manager client only', async () => {
    const loaded = await sdkPackagesLoadedBy('token', {
      AUTH_CHECK_URL: HTTP_AUTH_CHECK.AUTH_CHECK_URL,
      AUTH_CHECK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf',
      // The prefetch starts during init; nothing listens there, and the probe exits before it ends.
      SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(loaded).toContain(SECRETS_SDK);
    expect(loaded).not.toContain(LAMBDA_SDK);
  });

  it('authorizer with SESSION_CHECK_FUNCTION_NAME: the Lambda client only', async () => {
    const loaded = await sdkPackagesLoadedBy('authorizer', {
      SESSION_CHECK_FUNCTION_NAME: 'deployer-session-check',
    });
    expect(loaded).toContain(LAMBDA_SDK);
    expect(loaded).not.toContain(SECRETS_SDK);
  });
});
