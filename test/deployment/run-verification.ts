import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesizeAssembly, VARIANTS } from './synthesize-assembly';
import { type VerificationLine, verifyDeployment } from './verify-deployment';

/**
 * `npm run verify:deployment [-- --variant default --variant all-features] [--assembly cdk.out] [--keep]`:
 * synthesises each variant into a temp dir, verifies it, prints one line per step and
 * `N passed, N failed`; exits 1 on any failure.
 */
async function main(): Promise<number> {
  // The verifier's own SDK client (table creation) would warn on Node 20; the functions set it too.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', multiple: true },
      assembly: { type: 'string' },
      stack: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const print = (line: VerificationLine) => console.log(`${line.status} ${line.text}`);
  let passed = 0;
  let failed = 0;
  const count = (result: { passed: number; failed: number }) => {
    passed += result.passed;
    failed += result.failed;
  };
  if (values.assembly !== undefined) {
    count(
      await verifyDeployment({
        assemblyDir: values.assembly,
        label: 'assembly',
        ...(values.stack === undefined ? {} : { stackName: values.stack }),
        onLine: print,
      }),
    );
  } else {
    for (const variant of values.variant ?? Object.keys(VARIANTS)) {
      const outdir = mkdtempSync(join(tmpdir(), `verify-${variant}-cdk-out-`));
      try {
        const started = performance.now();
        let stackName: string;
        try {
          stackName = await synthesizeAssembly(variant, outdir);
        } catch (error) {
          print({
            status: 'FAIL',
            text: `[${variant}] synth: ${error instanceof Error ? error.message : String(error)}`,
          });
          failed += 1;
          continue;
        }
        print({
          status: 'PASS',
          text: `[${variant}] synth ${stackName} as cdk deploy would (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        });
        passed += 1;
        count(await verifyDeployment({ assemblyDir: outdir, label: variant, stackName, onLine: print }));
      } finally {
        if (values.keep) console.log(`INFO [${variant}] cloud assembly kept in ${outdir}`);
        else rmSync(outdir, { recursive: true, force: true });
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
