import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App, type PolicyValidationPluginReport, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { DownstreamApiStack } from '../../infra/examples/downstream-api-stack';
import { OAuth2TokenServiceStack } from '../../infra/oauth2-token-service-stack';
import { PROJECT_ROOT } from '../../infra/service-function';
import { parseStageConfig, type StageConfig } from '../../infra/stage-config';

/** Synthesis bundles every Lambda with esbuild: a describe/beforeAll that synthesises gets this long. */
// Generous: on a shared 2-core machine esbuild's bundles have taken over two minutes.
export const SYNTH_TIMEOUT_MS = 300_000;

/**
 * cdk.json's `context`: feature flags (e.g. `@aws-cdk/aws-iam:minimizePolicies` changes how policy
 * statements are merged) and the `oauth2` stage settings, exactly what `npx cdk synth` sees.
 */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = JSON.parse(
  readFileSync(`${PROJECT_ROOT}cdk.json`, 'utf8'),
).context;

export const AUTH_CHECK_FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:auth-check';
export const SESSION_CHECK_URL = 'https://sessions.example.com/check';
export const CUSTOM_DOMAIN_NAME = 'auth.example.com';
export const CERTIFICATE_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0b7c9f1e-1111-2222-3333-444455556666';

/**
 * Every option turned away from its default in one `oauth2` context, so one synth covers them.
 * `demoRoute` stays true: `demoRoute: false` does not synthesise (see token-service-options.test.ts).
 */
export const CUSTOMISED_OAUTH2 = {
  stackName: 'OAuth2Custom',
  authCheck: { kind: 'lambda', functionArn: AUTH_CHECK_FUNCTION_ARN },
  sessionCheck: { kind: 'http', url: SESSION_CHECK_URL },
  customDomain: { domainName: CUSTOM_DOMAIN_NAME, certificateArn: CERTIFICATE_ARN },
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 86_400,
  refreshTokenMaxLifetimeSeconds: 604_800,
  refreshReuseGraceSeconds: 10,
  lockoutThreshold: 3,
  lockoutBaseSeconds: 30,
  lockoutMaxSeconds: 600,
  authorizerCacheTtlSeconds: 120,
  retainData: false,
  demoRoute: true,
  throttle: { rateLimit: 7, burstLimit: 13 },
  endpointThrottles: {
    token: { rateLimit: 3, burstLimit: 6 },
    authorize: { rateLimit: 2, burstLimit: 4 },
    revokeIntrospect: { rateLimit: 1, burstLimit: 2 },
  },
  tokenReservedConcurrency: 20,
  waf: { perIpRateLimit: 500 },
  adminInvokerArns: [
    'arn:aws:iam::123456789012:role/oauth2-support',
    'arn:aws:iam::210987654321:role/oauth2-ops',
  ],
  logLevel: 'WARN',
} as const;

export interface SynthOptions {
  /** The `oauth2` context, as `-c oauth2='{...}'` would pass it; default: cdk.json's. */
  readonly oauth2?: unknown;
  /**
   * Run esbuild for every function (default true). The stage settings do not change what is bundled,
   * so the extra configurations skip it (`aws:cdk:bundling-stacks: []`, as `cdk deploy OtherStack`
   * does); only the asset hashes differ.
   */
  readonly bundle?: boolean;
}

export interface Synthesized<S extends Stack> {
  readonly app: App;
  readonly stack: S;
  readonly template: Template;
  /** cdk-nag's AwsSolutions pack over the whole app (also registered as a plugin, as bin does). */
  readonly nag: PolicyValidationPluginReport;
  /** Wall time of construction + synthesis, bundling included; recorded, never asserted. */
  readonly synthMs: number;
  /** The synthesized assembly (manifest and stack messages, in memory: its directory is removed). */
  readonly assembly: CloudAssembly;
}

export interface TokenServiceSynth extends Synthesized<OAuth2TokenServiceStack> {
  readonly config: StageConfig;
}

function newApp(options: SynthOptions): App {
  return new App({
    outdir: synthOutdir(),
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.oauth2 === undefined ? {} : { oauth2: options.oauth2 }),
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
}

/**
 * The app as bin/oauth2-token-service.ts builds it: stage config read from the `oauth2` context by
 * parseStageConfig, the AwsSolutions pack registered with `Validations.of(app).addPlugins`, so a
 * cdk-nag finding fails this synth just as it fails `npx cdk synth`.
 */
export function synthTokenServiceStack(options: SynthOptions = {}): TokenServiceSynth {
  const started = performance.now();
  const app = newApp(options);
  const config = parseStageConfig(app.node.tryGetContext('oauth2'));
  const stack = new OAuth2TokenServiceStack(app, config.stackName, { config });
  return { config, ...finish(app, stack, started) };
}

/** bin's `-c exampleDownstream=true` stack, alone: the authorizer ARN comes from the token stack's export. */
export function synthDownstreamStack(): Synthesized<DownstreamApiStack> {
  const started = performance.now();
  const app = newApp({});
  const { stackName } = parseStageConfig(app.node.tryGetContext('oauth2'));
  const stack = new DownstreamApiStack(app, `${stackName}-ExampleDownstream`, {
    tokenServiceStackName: stackName,
  });
  return finish(app, stack, started);
}

function finish<S extends Stack>(app: App, stack: S, started: number): Synthesized<S> {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  const synthMs = performance.now() - started;
  const assembly = app.synth();
  return { app, stack, template, nag: new AwsSolutionsChecks().validateScope(app), synthMs, assembly };
}

/**
 * An App without `outdir` synthesizes into a fresh `cdk.out*` of the temp directory (bundles
 * included, megabytes each) and never removes it. Every App here gets its own directory instead,
 * removed after the test file that made it: vitest imports this module once per test file, so the
 * `afterAll` below is registered in each file that synthesizes. (Assertions such as
 * `Annotations.fromStack` synthesize again, so the directory must live until the file is done.)
 */
const synthOutdirs: string[] = [];
afterAll(() => {
  for (const dir of synthOutdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh output directory for an App, removed after the current test file. */
export function synthOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oauth2-synth-'));
  synthOutdirs.push(dir);
  return dir;
}

export interface RecordedAcknowledgement {
  /** Construct path below the stack (`TokenService/Api`). */
  readonly path: string;
  readonly id: string;
  readonly reason: unknown;
}

/** Every `Validations.of(x).acknowledge(...)` in `stack`, read back from construct metadata. */
export function acknowledgementsIn(stack: Stack): RecordedAcknowledgement[] {
  const prefix = `${stack.node.path}/`;
  return stack.node.findAll().flatMap((construct: IConstruct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries((entry.data ?? {}) as Record<string, unknown>).map(([id, reason]) => ({
          path: construct === stack ? '.' : construct.node.path.replace(prefix, ''),
          id,
          reason,
        })),
      ),
  );
}
