import type middy from '@middy/core';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { EnvironmentReader } from './environment-reader';

export interface HookSecret {
  /** For the hook adapter: the secret loaded for the current invocation. */
  readonly secret: () => Promise<string | undefined>;
  /** Add to the handler's middy chain: fetches (cached across invocations) before each request. */
  readonly middlewares: readonly middy.MiddlewareObj[];
}

/**
 * The hooks' HMAC secret from Secrets Manager, through middy's secrets-manager middleware
 * (prefetched at cold start, cached 5 minutes). `endpoint` is for emulators (moto) only.
 * A failed fetch surfaces as middy's "Failed to resolve internal values", answered as 503.
 *
 * The middleware and the SDK client are loaded with `import()`, so only a Lambda configured with a
 * secret ARN pays for them at cold start. The import starts here, during init, so the secret is
 * still prefetched before the first request.
 */
export function secretsManagerHookSecret(
  secretArn: string,
  options: { endpoint?: string; region?: string } = {},
  contextKey = 'hookSecret',
): HookSecret {
  let current: string | undefined;
  const loading = import('./hook-secret-fetch').then(({ createHookSecretFetch }) =>
    createHookSecretFetch(secretArn, options, contextKey),
  );
  // A failed import is reported by each request (below), not as an unhandled rejection at init.
  loading.catch(() => undefined);
  const fetch: middy.MiddlewareObj = {
    before: async (request) => {
      let middleware: middy.MiddlewareObj;
      try {
        middleware = await loading;
      } catch (error) {
        throw new DependencyUnavailable('secrets', 'Secrets Manager client could not be loaded', {
          cause: error,
        });
      }
      await middleware.before?.(request);
    },
  };
  const capture: middy.MiddlewareObj = {
    before: (request) => {
      const value = (request.context as unknown as Record<string, unknown>)[contextKey];
      current = typeof value === 'string' && value !== '' ? value : undefined;
    },
  };
  return {
    secret: async () => {
      if (current === undefined)
        throw new DependencyUnavailable('secrets', `${contextKey} is not a non-empty string`);
      return current;
    },
    middlewares: [fetch, capture],
  };
}

/** The secret from Secrets Manager when `<name>` holds its ARN, on `context[contextKey]`. */
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
