import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { awsClientLocation } from './aws-client-location';
import type { EnvironmentReader } from './environment-reader';

/** Re-read at most this often, so a rotated secret reaches warm containers within minutes. */
const CACHE_MS = 5 * 60 * 1000;
/**
 * A GetSecretValue answers in milliseconds; a silent endpoint must not hold the request until the
 * Lambda's deadline. 2 attempts × 1 s (+ backoff) stays inside the AuthCheck's own 3 s budget.
 */
const SECRETS_REQUEST_TIMEOUT_MS = 1000;
const SECRETS_CONNECTION_TIMEOUT_MS = 500;

export interface HookSecret {
  /** For the hook adapter: the secret loaded for the current invocation. */
  readonly secret: () => Promise<string | undefined>;
  /** Add to the handler's middy chain: fetches (cached across invocations) before each request. */
  readonly middlewares: readonly middy.MiddlewareObj[];
}

/**
 * The hooks' HMAC secret from Secrets Manager, through middy's secrets-manager middleware
 * (prefetched at cold start, cached `CACHE_MS`). `endpoint` is for emulators (moto) only.
 * A failed fetch surfaces as middy's "Failed to resolve internal values", answered as 503.
 */
export function secretsManagerHookSecret(
  secretArn: string,
  options: { endpoint?: string; region?: string } = {},
): HookSecret {
  let current: string | undefined;
  const fetch = secretsManager({
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
    fetchData: { hookSecret: secretArn },
    // middy's cache is process-wide: key it by where the secret comes from, not one fixed name.
    cacheKey: `hook-secret:${options.endpoint ?? 'aws'}:${secretArn}`,
    setToContext: true,
    cacheExpiry: CACHE_MS,
  });
  const capture: middy.MiddlewareObj = {
    before: (request) => {
      const value = (request.context as unknown as Record<string, unknown>).hookSecret;
      current = typeof value === 'string' && value !== '' ? value : undefined;
    },
  };
  return {
    secret: async () => {
      if (current === undefined)
        throw new DependencyUnavailable('secrets', 'hook secret is not a non-empty string');
      return current;
    },
    middlewares: [fetch as middy.MiddlewareObj, capture],
  };
}

/** The hook secret from Secrets Manager when `<name>` holds its ARN. */
export function secretsManagerSecretFor(reader: EnvironmentReader, name: string) {
  const arn = reader.optional(name);
  if (arn === undefined) return undefined;
  const endpoint = reader.optional('SECRETS_MANAGER_ENDPOINT');
  const region = reader.optional('AWS_REGION');
  return secretsManagerHookSecret(arn, {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
  });
}
