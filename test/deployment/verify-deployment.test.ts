import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asList, type CfnTemplate, isRecord } from './cfn-template';
import { loadDeploymentModel, readAssembly } from './deployment-model';
import { LIFE_CYCLE_STEPS } from './life-cycle';
import { synthesizeAssembly } from './synthesize-assembly';
import { type VerificationResult, verifyDeployment } from './verify-deployment';

// Two synths (esbuild bundles every function) and several full runs of the bundles.
const SLOW_MS = 240_000;
/** Both synths in one beforeAll: esbuild on a loaded two-core machine took 190 s once. */
const SYNTH_MS = 600_000;

/** Every step but disable-client, which waits DISABLE_CLIENT_SECOND_SWEEP_SECONDS (30 s) between sweeps. */
const QUICK_STEPS = LIFE_CYCLE_STEPS.filter((step) => !step.name.includes('disable-client'));

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

let defaultAssembly = '';
let defaultStack = '';
let allFeaturesAssembly = '';
let allFeaturesStack = '';

beforeAll(async () => {
  defaultAssembly = tempDir('verify-test-default-');
  defaultStack = await synthesizeAssembly('default', defaultAssembly);
  allFeaturesAssembly = tempDir('verify-test-all-features-');
  allFeaturesStack = await synthesizeAssembly('all-features', allFeaturesAssembly);
}, SYNTH_MS);

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const failures = (result: VerificationResult) =>
  result.lines.filter((line) => line.status === 'FAIL').map((line) => line.text);
const passes = (result: VerificationResult) =>
  result.lines.filter((line) => line.status === 'PASS').map((line) => line.text);

/**
 * A copy of the default cloud assembly with `mutate` applied to its template (and assets), verified
 * with the quick steps. The repository and the shared synth stay untouched.
 */
async function verifyBroken(
  label: string,
  mutate: (
    template: CfnTemplate,
    ids: { token: string; tokenPolicy: string; grantsTable: string; metadataAsset: string },
  ) => void,
): Promise<VerificationResult> {
  const copy = tempDir(`verify-test-${label}-`);
  cpSync(defaultAssembly, copy, { recursive: true });
  const model = loadDeploymentModel(copy, defaultStack);
  const templateFile = join(copy, `${defaultStack}.template.json`);
  const template = readAssembly(copy, defaultStack).template;
  const token = model.routes.find((route) => route.path === '/oauth2/token')?.functionLogicalId as string;
  const tokenRole = model.functions.find((fn) => fn.logicalId === token)?.roleLogicalId;
  const [tokenPolicy] = Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::IAM::Policy' &&
      asList(resource.Properties?.Roles).some((role) => isRecord(role) && role.Ref === tokenRole),
  ) ?? [''];
  const grantsTable = model.tables.find((table) => table.hashKey === 'grantId')?.logicalId as string;
  const metadata = model.routes.find(
    (route) => route.path === '/.well-known/oauth-authorization-server',
  )?.functionLogicalId;
  const metadataAsset = model.functions.find((fn) => fn.logicalId === metadata)?.assetDir as string;
  mutate(template, { token, tokenPolicy, grantsTable, metadataAsset });
  writeFileSync(templateFile, JSON.stringify(template));
  return verifyDeployment({ assemblyDir: copy, label, stackName: defaultStack, steps: QUICK_STEPS });
}

/** Raw template JSON, edited in place by the mutations below (shapes as CDK synthesises them). */
const propertiesOf = (template: CfnTemplate, logicalId: string) =>
  // biome-ignore lint/suspicious/noExplicitAny: a test edits the synthesised JSON of known shape
  template.Resources[logicalId]?.Properties as Record<string, any>;

describe('npm run verify:deployment', () => {
  it(
    'passes for cdk.json’s deployment and for the one with every optional feature, and says what it ran',
    async () => {
      const [byDefault, allFeatures] = await Promise.all([
        verifyDeployment({ assemblyDir: defaultAssembly, label: 'default', stackName: defaultStack }),
        verifyDeployment({
          assemblyDir: allFeaturesAssembly,
          label: 'all-features',
          stackName: allFeaturesStack,
        }),
      ]);
      expect(failures(byDefault)).toEqual([]);
      expect(failures(allFeatures)).toEqual([]);
      for (const result of [byDefault, allFeatures]) {
        const passed = passes(result).join('\n');
        expect(passed).toMatch(/step: POST \/oauth2\/token password grant through the signed AuthCheck hook/);
        expect(passed).toMatch(/step: GET \/me with the access token through the template authorizer/);
        expect(passed).toMatch(/step: admin invoke disable-client/);
        expect(passed).toMatch(
          /step: GET and POST \/oauth2\/authorize: a public client signs the user in with PKCE/,
        );
        expect(passed).toMatch(/IAM: function \w*Token\w*: \d+ AWS calls, all allowed by its role/);
        expect(passed).toMatch(/GSIs byUser, byClient/);
        expect(result.lines.map((line) => line.text).join('\n')).toMatch(/Timeout 28 s, MemorySize 512 MB/);
      }
      // The variant's own features ran: cookie sessions, the Lambda AuthCheck, the custom domain's issuer.
      const allText = allFeatures.lines.map((line) => `${line.status} ${line.text}`).join('\n');
      expect(allText).toMatch(/PASS \[all-features\] step: GET \/me with a session cookie/);
      expect(allText).toMatch(
        /AUTH_CHECK_FUNCTION_NAME arn:aws:lambda:[^ ]+:function:auth-check → answered by the emulated Lambda Invoke API/,
      );
      expect(allText).toMatch(/as auth\.example\.com/);
      // JWT mode: CloudFormation's run of the custom resource made the first key, and the access
      // token verified against the published JWKS (the step checks signature, typ, iss and claims).
      expect(allText).toMatch(
        /PASS \[all-features\] custom resource \w*FirstKey\w* \(Custom::SigningKeys\): created/,
      );
      expect(allText).toMatch(
        /PASS \[all-features\] step: GET \/\.well-known\/jwks\.json publishes the signing key/,
      );
      expect(allText).toMatch(
        /IAM: function \w*SigningKeysRotation\w*: \d+ AWS calls, all allowed by its role \([^)]*secretsmanager:PutSecretValue×1/,
      );
      expect(allText).toMatch(
        /WARN \[all-features\] table \w+: TTL on expiresAt is not verified: dynalite does not support it/,
      );
    },
    SLOW_MS,
  );

  it(
    'fails, naming the variable, when the token function’s environment renames CLIENTS_TABLE',
    async () => {
      const result = await verifyBroken('renamed-env', (template, { token }) => {
        const variables = propertiesOf(template, token).Environment.Variables;
        variables.CLIENT_TABLE = variables.CLIENTS_TABLE;
        delete variables.CLIENTS_TABLE;
      });
      expect(result.failed).toBeGreaterThan(0);
      expect(failures(result).join('\n')).toMatch(
        /function \w*Token\w*: init failed: ConfigurationError: CLIENTS_TABLE is required/,
      );
    },
    SLOW_MS,
  );

  it(
    'fails, naming the index, when the grants table loses its byUser GSI',
    async () => {
      const result = await verifyBroken('dropped-gsi', (template, { grantsTable }) => {
        const table = propertiesOf(template, grantsTable);
        table.GlobalSecondaryIndexes = table.GlobalSecondaryIndexes.filter(
          (index: { IndexName: string }) => index.IndexName !== 'byUser',
        );
      });
      expect(result.failed).toBeGreaterThan(0);
      expect(failures(result).join('\n')).toMatch(
        /step: admin invoke revoke-user-tokens.*dynamodb:Query on [^ ]+\/index\/byUser: ValidationException: The table does not have the specified index: byUser/,
      );
    },
    SLOW_MS,
  );

  it(
    'fails, naming function, action and resource, when the token role loses dynamodb:PutItem',
    async () => {
      const result = await verifyBroken('removed-action', (template, { tokenPolicy }) => {
        const document = propertiesOf(template, tokenPolicy).PolicyDocument;
        for (const statement of document.Statement) {
          statement.Action = asList(statement.Action).filter((action) => action !== 'dynamodb:PutItem');
        }
      });
      expect(result.failed).toBeGreaterThan(0);
      const text = failures(result).join('\n');
      expect(text).toMatch(
        /IAM: function \w*Token\w* called dynamodb:PutItem on arn:aws:dynamodb:eu-west-1:123456789012:table\/\S*GrantsTable\S*, which its role \w+ does not allow/,
      );
      // The deployed function would get AccessDenied too: the password grant answers 503.
      expect(text).toMatch(/step: POST \/oauth2\/token password grant[^\n]*503[^\n]*AccessDeniedException/);
    },
    SLOW_MS,
  );

  it(
    'fails, naming the handler, when the token function’s Handler changes',
    async () => {
      const result = await verifyBroken('changed-handler', (template, { token }) => {
        propertiesOf(template, token).Handler = 'index.main';
      });
      expect(result.failed).toBeGreaterThan(0);
      expect(failures(result).join('\n')).toMatch(
        /function \w*Token\w*: init failed: Runtime\.HandlerNotFound: index\.main is undefined or not exported/,
      );
    },
    SLOW_MS,
  );

  it(
    'fails when a bundle needs a package the Lambda runtime does not have (only the SDK is on the module path)',
    async () => {
      const result = await verifyBroken('foreign-require', (_template, { metadataAsset }) => {
        // `jose` is in this project's node_modules, so only the runtime-like module path makes this fail.
        appendFileSync(join(metadataAsset, 'index.js'), '\nrequire("jose");\n');
      });
      const text = failures(result).join('\n');
      expect(text).toMatch(
        /function \w*Metadata\w*: the bundle requires jose, which the Lambda runtime does not provide/,
      );
      expect(text).toMatch(
        /function \w*Metadata\w*: init failed: Runtime\.ImportModuleError: Error: Cannot find module 'jose'/,
      );
    },
    SLOW_MS,
  );

  it(
    'fails when the signing-key custom resource cannot make the first key, and when a bundle import()s the SDK',
    async () => {
      const result = await verifyBroken('signing-keys', (template, { metadataAsset }) => {
        const rotation = Object.entries(template.Resources).find(
          ([id, resource]) => resource.Type === 'AWS::Lambda::Function' && /SigningKeysRotation/.test(id),
        )?.[0] as string;
        // The rotation function loses the secret's ARN: it cannot store the key and answers FAILED.
        propertiesOf(template, rotation).Environment.Variables.SIGNING_KEYS_SECRET_ARN =
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:elsewhere-AbCdEf';
        appendFileSync(
          join(metadataAsset, 'index.js'),
          '\nconst lazy = () => import("@aws-sdk/client-secrets-manager");\n',
        );
      });
      const text = failures(result).join('\n');
      expect(text).toMatch(
        /custom resource \w*FirstKey\w*: \w*SigningKeysRotation\w* answered PUT [^\n]*"Status":"FAILED"/,
      );
      expect(text).toMatch(
        /function \w*Metadata\w*: the bundle loads @aws-sdk\/client-secrets-manager with import\(\)/,
      );
    },
    SLOW_MS,
  );

  it('leaves the shared synth untouched by the broken copies', () => {
    const template = readFileSync(join(defaultAssembly, `${defaultStack}.template.json`), 'utf8');
    expect(template).toContain('"CLIENTS_TABLE"');
    expect(template).toContain('"byUser"');
    expect(template).not.toContain('index.main');
  });
});
