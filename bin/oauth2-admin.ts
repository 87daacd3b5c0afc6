#!/usr/bin/env node
import { runAdminCli } from '../lambdas/cli/admin-cli';

// The CLI's output is JSON for scripts; the SDK's Node 20 upgrade notice would only get in the way.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `oauth2-admin <command> [options]`: see `--help`. The logic lives in lambdas/cli/admin-cli.ts. */
runAdminCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    // exitCode, not exit(): lets a piped stdout drain before the process ends.
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `oauth2-admin: unexpected error: ${error instanceof Error ? error.name : 'unknown'}\n`,
    );
    process.exitCode = 3;
  },
);
