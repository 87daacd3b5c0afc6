import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The Lambda entry files, named by path: infra never imports handler code. */
export const LAMBDA_ENTRIES = {
  token: 'lambdas/handlers/token.ts',
  authorize: 'lambdas/handlers/authorize.ts',
  revocation: 'lambdas/handlers/revocation.ts',
  introspection: 'lambdas/handlers/introspection.ts',
  metadata: 'lambdas/handlers/metadata.ts',
  authorizer: 'lambdas/handlers/authorizer.ts',
  admin: 'lambdas/handlers/admin.ts',
  me: 'lambdas/handlers/me.ts',
  jwks: 'lambdas/handlers/jwks.ts',
  signingKeyRotation: 'lambdas/handlers/signing-key-rotation.ts',
  hookSecretRotation: 'lambdas/handlers/hook-secret-rotation.ts',
} as const;

/**
 * The package root (with a trailing slash): the directory of the nearest package.json above this
 * file. That is the repository when run from source (`infra/`), and the installed package when
 * run from its build (`node_modules/oauth2-token-service/dist/infra/`), which ships `lambdas/`.
 */
export const PROJECT_ROOT = packageRootAbove(fileURLToPath(new URL('.', import.meta.url)));

function packageRootAbove(directory: string): string {
  for (let dir = directory; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir.endsWith('/') ? dir : `${dir}/`;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${directory}`);
  }
}

/**
 * In this repository, its own lock file and root. Installed as a package there is none (npm never
 * packs a lock file): then CDK finds the consuming app's lock file from the working directory, and
 * that app's root contains `node_modules/oauth2-token-service/lambdas/` and every dependency.
 */
const OWN_LOCK_FILE = `${PROJECT_ROOT}package-lock.json`;
const BUNDLING_ROOT = existsSync(OWN_LOCK_FILE)
  ? { projectRoot: PROJECT_ROOT, depsLockFilePath: OWN_LOCK_FILE }
  : {};

export interface ServiceFunctionProps {
  readonly entry: keyof typeof LAMBDA_ENTRIES;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memorySize?: number;
  readonly timeout: Duration;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * House defaults for every function of the service: Node.js 24 on arm64, bundled by the local
 * esbuild (minified, source maps), its own log group and a role that may write only there. Callers
 * add exactly the table actions they need with `allow()`.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to any log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (least privilege)`,
    });
    logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}${LAMBDA_ENTRIES[props.entry]}`,
      ...BUNDLING_ROOT,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        logLevel: LogLevel.WARNING,
        target: 'node22',
        format: OutputFormat.CJS,
        // The Node.js 22+ runtimes ship AWS SDK v3: not bundling it keeps each bundle small (cold start).
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}
