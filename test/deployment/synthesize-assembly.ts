import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The fixed environment of the verification's synth: `cdk deploy` with this account and region. */
export const VERIFY_ACCOUNT = '123456789012';
export const VERIFY_REGION = 'eu-west-1';

interface CdkJson {
  readonly app: string;
  readonly context: Record<string, unknown> & { readonly oauth2: Record<string, unknown> };
}

const cdkJson = (): CdkJson => JSON.parse(readFileSync(`${PROJECT_ROOT}cdk.json`, 'utf8')) as CdkJson;

/**
 * The stage settings each verified variant deploys: cdk.json's as they are, and one with every
 * optional feature on (add new features here as they land).
 */
export const VARIANTS: Readonly<
  Record<string, (oauth2: Record<string, unknown>) => Record<string, unknown>>
> = {
  default: (oauth2) => oauth2,
  'all-features': (oauth2) => ({
    ...oauth2,
    stackName: `${String(oauth2.stackName ?? 'OAuth2TokenService')}AllFeatures`,
    // JWT access tokens: the deploy-time first key, the JWKS, and the authorizer checking signatures.
    accessTokenFormat: 'jwt',
    authCheck: {
      kind: 'lambda',
      functionArn: `arn:aws:lambda:${VERIFY_REGION}:${VERIFY_ACCOUNT}:function:auth-check`,
    },
    sessionCheck: { kind: 'http', url: 'https://sessions.example.com/check' },
    customDomain: {
      domainName: 'auth.example.com',
      certificateArn: `arn:aws:acm:${VERIFY_REGION}:${VERIFY_ACCOUNT}:certificate/0b7c9f1e-1111-2222-3333-444455556666`,
    },
  }),
};

/**
 * Synthesises the app as the CDK CLI does for `cdk deploy`: cdk.json's `app` command, run in the
 * project with CDK_OUTDIR, CDK_CONTEXT_JSON (cdk.json's context, the variant's `oauth2`) and the
 * default account/region set. Resolves with the stack name; the cloud assembly is in `outdir`.
 */
export async function synthesizeAssembly(variant: string, outdir: string): Promise<string> {
  const config = cdkJson();
  const shape = VARIANTS[variant];
  if (shape === undefined)
    throw new Error(`unknown variant ${variant}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const oauth2 = shape(config.context.oauth2);
  const context = { ...config.context, oauth2 };
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(config.app, {
      cwd: PROJECT_ROOT,
      shell: true,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify(context),
        CDK_DEFAULT_ACCOUNT: VERIFY_ACCOUNT,
        CDK_DEFAULT_REGION: VERIFY_REGION,
        CDK_DISABLE_VERSION_CHECK: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0)
    throw new Error(`synth (${config.app}) exited with ${code}: ${output.join('').slice(-2000)}`);
  return String(oauth2.stackName ?? 'OAuth2TokenService');
}
