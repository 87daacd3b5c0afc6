import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsClientLocation } from './aws-client-location';

// Imported with `import()` by hook-secret.ts, only when a secret ARN is configured: this module is
// what loads the Secrets Manager SDK. esbuild turns `import()` of a bundled file into a lazy
// `require` of the external SDK, resolved like every other require (the runtime's NODE_PATH too).

/** Re-read at most this often, so a rotated secret reaches warm containers within minutes. */
const CACHE_MS = 5 * 60 * 1000;
/**
 * A GetSecretValue answers in milliseconds; a silent endpoint must not hold the request until the
 * Lambda's deadline. 2 attempts × 1 s (+ backoff) stays inside the AuthCheck's own 3 s budget.
 */
const SECRETS_REQUEST_TIMEOUT_MS = 1000;
const SECRETS_CONNECTION_TIMEOUT_MS = 500;

/**
 * middy's secrets-manager middleware putting the secret `secretArn` on `context[contextKey]`
 * (`hookSecret` unless told): prefetched as soon as it is created, cached `CACHE_MS`. `endpoint` is
 * for emulators (moto) only.
 */
export function createHookSecretFetch(
  secretArn: string,
  options: { endpoint?: string; region?: string },
  contextKey = 'hookSecret',
): middy.MiddlewareObj {
  return secretsManager({
    AwsClient: SecretsManagerClient,
    awsClientOptions: {
      maxAttempts: 2,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: SECRETS_CONNECTION_TIMEOUT_MS,
        requestTimeout: SECRETS_REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      }),
      ...awsClientLocation(options),
    },
    fetchData: { [contextKey]: secretArn },
    // middy's cache is process-wide: key it by where the secret comes from, not one fixed name.
    cacheKey: `${contextKey}:${options.endpoint ?? 'aws'}:${secretArn}`,
    setToContext: true,
    cacheExpiry: CACHE_MS,
  }) as middy.MiddlewareObj;
}
