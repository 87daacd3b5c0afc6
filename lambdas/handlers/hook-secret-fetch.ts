import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HookSigningKey } from '../auth-check/http-auth-check';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { awsClientLocation } from './aws-client-location';

// Imported with `import()` by hook-secret.ts, only when a secret ARN is configured: this module is
// what loads the Secrets Manager SDK. esbuild turns `import()` of a bundled file into a lazy
// `require` of the external SDK, resolved like every other require (the runtime's NODE_PATH too).

/**
 * Re-read at most this often, so a rotated secret reaches warm containers within minutes. The hook
 * rotation steps in the README wait longer than this before a hook may forget the old secret.
 */
export const HOOK_SECRET_CACHE_MS = 5 * 60 * 1000;
/**
 * A GetSecretValue answers in milliseconds; a silent endpoint must not hold the request until the
 * Lambda's deadline. 2 attempts × 1 s (+ backoff) stays inside the AuthCheck's own 3 s budget.
 */
const SECRETS_REQUEST_TIMEOUT_MS = 1000;
const SECRETS_CONNECTION_TIMEOUT_MS = 500;

export type HookSecretFetch = () => Promise<HookSigningKey>;

/**
 * Reads the `AWSCURRENT` version of `secretArn` with its `VersionId` (one GetSecretValue, which
 * answers both), prefetched as soon as it is created and cached `HOOK_SECRET_CACHE_MS`. Concurrent
 * callers share one read; a failed read is not cached. `endpoint` is for emulators (moto) only.
 */
export function createHookSecretFetch(
  secretArn: string,
  options: { endpoint?: string; region?: string },
  now: () => number = Date.now,
): HookSecretFetch {
  const client = new SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: SECRETS_CONNECTION_TIMEOUT_MS,
      requestTimeout: SECRETS_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    }),
    ...awsClientLocation(options),
  });
  let cached: { key: Promise<HookSigningKey>; until: number } | undefined;
  const read = async (): Promise<HookSigningKey> => {
    let output: { SecretString?: string; VersionId?: string };
    try {
      output = await client.send(
        new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' }),
      );
    } catch (error) {
      throw new DependencyUnavailable('secrets', 'hook secret could not be read from Secrets Manager', {
        cause: error,
      });
    }
    if (typeof output.SecretString !== 'string' || output.SecretString === '') {
      throw new DependencyUnavailable('secrets', 'hook secret is not a non-empty string');
    }
    return {
      secret: output.SecretString,
      ...(output.VersionId === undefined ? {} : { version: output.VersionId }),
    };
  };
  const fetch: HookSecretFetch = () => {
    const at = now();
    if (cached === undefined || cached.until <= at) {
      const key = read();
      const entry = { key, until: at + HOOK_SECRET_CACHE_MS };
      cached = entry;
      // A failure is reported to its callers and forgotten, so the next request reads again.
      key.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.key;
  };
  // Prefetch at cold start; the first request awaits the same read.
  fetch().catch(() => undefined);
  return fetch;
}
