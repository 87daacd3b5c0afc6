import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/service-function';

const run = promisify(execFile);
/** `npm pack` runs `prepack` (tsc) and the app bundles seven Lambdas: minutes on a loaded 2-core machine. */
const PACK_TIMEOUT_MS = 600_000;

const ownPackage = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/**
 * A CDK app in another repository: it depends on the packed tarball only, and synthesizes both the
 * token service stack (bundling the Lambdas from the installed package) and a downstream API that
 * attaches our authorizer the two documented ways (SSM parameter, exported ARN).
 */
const CONSUMER_APP = `
import { App, Fn, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { OAuth2Authorizer, OAuth2TokenServiceStack, parseStageConfig } from '${ownPackage.name}';

const app = new App({ outdir: 'cdk.out' });
const config = parseStageConfig({
  stackName: 'Auth',
  authCheck: { kind: 'lambda', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:auth-check' },
  retainData: false,
});
new OAuth2TokenServiceStack(app, 'Auth', { config });

const orders = new Stack(app, 'Orders');
const api = new apigateway.RestApi(orders, 'OrdersApi', { cloudWatchRole: false });
const integration = new apigateway.MockIntegration();
api.root.addResource('orders').addMethod('GET', integration, {
  authorizer: OAuth2Authorizer.fromSsm(orders, 'ViaSsm', { parameterName: config.ssmParameters.authorizerFunctionArn }),
});
api.root.addResource('invoices').addMethod('GET', integration, {
  authorizer: OAuth2Authorizer.fromFunctionArn(orders, 'ViaExport', Fn.importValue('Auth-AuthorizerArn')),
});
app.synth();
`;

describe('the packed construct, installed into a CDK app outside the repository (issue 14, item 1)', () => {
  let scratch: string;
  let tarball: string;
  let entries: string[];
  const distExisted = existsSync(join(PROJECT_ROOT, 'dist'));

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'oauth2-consumer-'));
    await run('npm', ['pack', '--pack-destination', scratch, '--silent'], {
      cwd: PROJECT_ROOT,
      timeout: PACK_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    const packed = readdirSync(scratch).filter((name) => name.endsWith('.tgz'));
    expect(packed).toHaveLength(1);
    tarball = join(scratch, packed[0] as string);
    entries = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
  }, PACK_TIMEOUT_MS);

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    // `npm pack` built dist/ through prepack; leave the worktree as the test found it.
    if (!distExisted) rmSync(join(PROJECT_ROOT, 'dist'), { recursive: true, force: true });
  });

  it('npm pack ships the built JS and .d.ts, and the Lambda sources the construct bundles', () => {
    for (const file of [
      'package/package.json',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/infra/oauth2-token-service.js',
      'package/dist/infra/oauth2-authorizer.d.ts',
      'package/lambdas/handlers/token.ts',
      'package/lambdas/handlers/authorizer.ts',
    ]) {
      expect(entries).toContain(file);
    }
    // Not the local stack, the CLI, the tests or the TypeScript sources of infra/.
    expect(
      entries.filter((entry) => /^package\/(test|bin|bench|infra|lambdas\/local|lambdas\/cli)\//.test(entry)),
    ).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    expect(manifest).not.toHaveProperty('private');
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(Object.keys(manifest.peerDependencies)).toEqual(
      expect.arrayContaining(['aws-cdk-lib', 'constructs']),
    );
    expect(manifest.dependencies).not.toHaveProperty('aws-cdk-lib');
    expect(manifest.dependencies).not.toHaveProperty('constructs');
  });

  it(
    'synthesizes the service and a downstream API that attaches the authorizer by SSM and by export',
    async () => {
      const app = join(scratch, 'app');
      const modules = join(app, 'node_modules');
      const installed = join(modules, ownPackage.name);
      mkdirSync(installed, { recursive: true });
      await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
      // Offline and fast: the app's direct dependencies are this repository's installed copies
      // (the package's dependencies and peers only, so a missing dependency fails here too).
      for (const name of [
        ...Object.keys(ownPackage.dependencies),
        ...Object.keys(ownPackage.peerDependencies),
      ]) {
        const target = join(modules, name);
        mkdirSync(dirname(target), { recursive: true });
        symlinkSync(realpathSync(join(PROJECT_ROOT, 'node_modules', name)), target);
      }
      mkdirSync(join(modules, '.bin'));
      symlinkSync(
        realpathSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild')),
        join(modules, '.bin', 'esbuild'),
      );
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: 'orders', private: true, type: 'module' }),
      );
      writeFileSync(
        join(app, 'package-lock.json'),
        JSON.stringify({ name: 'orders', lockfileVersion: 3, requires: true, packages: {} }),
      );
      writeFileSync(join(app, 'app.mjs'), CONSUMER_APP);

      await run(process.execPath, ['app.mjs'], {
        cwd: app,
        timeout: PACK_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      });

      const template = (name: string) =>
        JSON.parse(readFileSync(join(app, 'cdk.out', `${name}.template.json`), 'utf8')) as {
          Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
          Parameters?: Record<string, { Type: string; Default?: string }>;
          Outputs: Record<string, unknown>;
        };
      const auth = template('Auth');
      const functions = Object.values(auth.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      // Seven handlers, the authorize endpoint, the hook secret's rotation function, the JWKS
      // function and the signing-key rotation function.
      expect(functions).toHaveLength(11);
      // Every function's code is an esbuild bundle built from the installed package's lambdas/.
      const bundles = readdirSync(join(app, 'cdk.out')).filter((name) => name.startsWith('asset.'));
      const bundled = bundles.filter((dir) => existsSync(join(app, 'cdk.out', dir, 'index.js')));
      expect(bundled.length).toBeGreaterThanOrEqual(7);
      expect(auth.Outputs).toHaveProperty('TokenUrl');
      expect(
        Object.values(auth.Resources)
          .filter((r) => r.Type === 'AWS::SSM::Parameter')
          .map((r) => r.Properties.Name)
          .sort(),
      ).toEqual(['/Auth/authorizer-function-arn', '/Auth/issuer']);

      const orders = template('Orders');
      const authorizers = Object.values(orders.Resources).filter(
        (r) => r.Type === 'AWS::ApiGateway::Authorizer',
      );
      expect(authorizers).toHaveLength(2);
      const ssmParameter = Object.entries(orders.Parameters ?? {}).find(
        ([, p]) => p.Default === '/Auth/authorizer-function-arn',
      );
      expect(ssmParameter?.[1].Type).toBe('AWS::SSM::Parameter::Value<String>');
      const uris = JSON.stringify(authorizers.map((a) => a.Properties.AuthorizerUri));
      expect(uris).toContain(`{"Ref":"${ssmParameter?.[0]}"}`);
      expect(uris).toContain('{"Fn::ImportValue":"Auth-AuthorizerArn"}');
      const methods = Object.values(orders.Resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
      expect(methods.map((m) => m.Properties.AuthorizationType)).toEqual(['CUSTOM', 'CUSTOM']);
    },
    PACK_TIMEOUT_MS,
  );
});
