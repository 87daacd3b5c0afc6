import { LambdaClient } from '@aws-sdk/client-lambda';
import { createHttpAuthCheck, parseAuthCheckUrl } from '../auth-check/http-auth-check';
import { createLambdaAuthCheck } from '../auth-check/lambda-auth-check';
import type { AuthCheck } from '../core/auth-check';
import type { Clock } from '../core/clock';
import { ConfigurationError } from './configuration-error';
import type { EnvironmentReader } from './environment-reader';

/**
 * Exactly one of `AUTH_CHECK_URL` (HTTP hook; `AUTH_CHECK_SECRET` signs its requests,
 * `AUTH_CHECK_ALLOW_INSECURE_HTTP=true` allows plain http beyond loopback) or
 * `AUTH_CHECK_FUNCTION_NAME` (Lambda; `AUTH_CHECK_LAMBDA_ENDPOINT` only for emulators).
 * `AUTH_CHECK_TIMEOUT_MS` (default 3000) bounds either.
 * `secret` overrides `AUTH_CHECK_SECRET`, e.g. with a Secrets Manager lookup.
 */
export function buildAuthCheck(
  reader: EnvironmentReader,
  clock: Clock,
  secret?: () => Promise<string | undefined>,
): AuthCheck {
  const url = reader.optional('AUTH_CHECK_URL');
  const functionName = reader.optional('AUTH_CHECK_FUNCTION_NAME');
  const timeoutMs = reader.integer('AUTH_CHECK_TIMEOUT_MS', 3000, { min: 100, max: 25_000 });
  if ((url === undefined) === (functionName === undefined)) {
    throw new ConfigurationError('Set exactly one of AUTH_CHECK_URL or AUTH_CHECK_FUNCTION_NAME');
  }
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = parseAuthCheckUrl(url, {
        allowInsecureHttp: reader.boolean('AUTH_CHECK_ALLOW_INSECURE_HTTP', false),
      });
    } catch (error) {
      throw new ConfigurationError(
        `AUTH_CHECK_URL: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const staticSecret = reader.optional('AUTH_CHECK_SECRET');
    return createHttpAuthCheck({ url: parsed, timeoutMs, clock, secret: secret ?? staticSecret });
  }
  const endpoint = reader.optional('AUTH_CHECK_LAMBDA_ENDPOINT');
  const region = reader.optional('AWS_REGION');
  const lambda = new LambdaClient({
    // One attempt: the timeout covers the whole call, and a retried password check doubles the latency.
    maxAttempts: 1,
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined
      ? {}
      : {
          endpoint,
          region: region ?? 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
  });
  return createLambdaAuthCheck({ lambda, functionName: functionName as string, timeoutMs });
}
