import type middy from '@middy/core';
import type { HookSigningKey } from '../auth-check/http-auth-check';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { EnvironmentReader } from './environment-reader';

export interface HookSecret {
  /** For the hook adapter: the secret (and its Secrets Manager version) loaded for the current invocation. */
  readonly secret: () => Promise<HookSigningKey>;
  /** Add to the handler's middy chain: fetches (cached across invocations) before each request. */
  readonly middlewares: readonly middy.MiddlewareObj[];
}

/**
 * The hooks' HMAC secret from Secrets Manager (`AWSCURRENT`, with its `VersionId`, which each signed
 * call names in `X-OAuth2-Signature-Version`): prefetched at cold start, cached 5 minutes, read in a
 * middleware before each request so a failed read is answered 503 before anything else happens.
 * `endpoint` is for emulators (moto) only.
 *
 * The SDK client is loaded with `import()`, so only a Lambda configured with a secret ARN pays for it
 * at cold start. The import starts here, during init, so the secret is still prefetched before the
 * first request.
 */
export function secretsManagerHookSecret(
  secretArn: string,
  options: { endpoint?: string; region?: string } = {},
  /** Names the secret in error messages (`hookSecret`, `lockoutKeySecret`). */
  contextKey = 'hookSecret',
): HookSecret {
  let current: HookSigningKey | undefined;
  const loading = import('./hook-secret-fetch').then(({ createHookSecretFetch }) =>
    createHookSecretFetch(secretArn, options),
  );
  // A failed import is reported by each request (below), not as an unhandled rejection at init.
  loading.catch(() => undefined);
  const fetch: middy.MiddlewareObj = {
    before: async () => {
      current = undefined;
      let read: Awaited<typeof loading>;
      try {
        read = await loading;
      } catch (error) {
        throw new DependencyUnavailable('secrets', 'Secrets Manager client could not be loaded', {
          cause: error,
        });
      }
      current = await read();
    },
  };
  return {
    secret: async () => {
      if (current === undefined) throw new DependencyUnavailable('secrets', `${contextKey} was not loaded`);
      return current;
    },
    middlewares: [fetch],
  };
}

/** The secret from Secrets Manager when `<name>` holds its ARN (`contextKey` names it in errors). */
export function secretsManagerSecretFor(reader: EnvironmentReader, name: string, contextKey = 'hookSecret') {
  const arn = reader.optional(name);
  if (arn === undefined) return undefined;
  const endpoint = reader.optional('SECRETS_MANAGER_ENDPOINT');
  const region = reader.optional('AWS_REGION');
  return secretsManagerHookSecret(
    arn,
    {
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(region === undefined ? {} : { region }),
    },
    contextKey,
  );
}
