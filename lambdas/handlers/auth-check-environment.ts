import { type HookObserver, observeHook } from '../auth-check/hook-failure';
import {
  createHttpUserIdHook,
  type HookSigningKey,
  parseAuthCheckUrl,
  type UserIdHook,
} from '../auth-check/http-auth-check';
import { createLambdaUserIdHook } from '../auth-check/lambda-auth-check';
import type { AuthCheck } from '../core/auth-check';
import type { Clock } from '../core/clock';
import type { SessionCheck } from '../core/session-check';
import { awsClientLocation } from './aws-client-location';
import { ConfigurationError } from './configuration-error';
import type { EnvironmentReader } from './environment-reader';

type HookPrefix = 'AUTH_CHECK' | 'SESSION_CHECK';
/** The signing secret from Secrets Manager (with its version), overriding `<PREFIX>_SECRET`. */
type SecretSource = () => Promise<HookSigningKey | undefined>;

/**
 * A `{"user_id"}` hook configured by `<PREFIX>_URL` (HTTP; `<PREFIX>_SECRET` signs the requests,
 * `<PREFIX>_ALLOW_INSECURE_HTTP=true` allows plain http beyond loopback) or
 * `<PREFIX>_FUNCTION_NAME` (Lambda; `<PREFIX>_LAMBDA_ENDPOINT` only for emulators), never both;
 * `<PREFIX>_TIMEOUT_MS` (default 3000) bounds either. `secret` overrides `<PREFIX>_SECRET`
 * (Secrets Manager). Undefined when neither is set.
 */
function buildUserIdHook(
  reader: EnvironmentReader,
  prefix: HookPrefix,
  clock: Clock,
  secret?: SecretSource,
): UserIdHook | undefined {
  const url = reader.optional(`${prefix}_URL`);
  const functionName = reader.optional(`${prefix}_FUNCTION_NAME`);
  const timeoutMs = reader.integer(`${prefix}_TIMEOUT_MS`, 3000, { min: 100, max: 25_000 });
  if (url !== undefined && functionName !== undefined) {
    throw new ConfigurationError(`Set only one of ${prefix}_URL or ${prefix}_FUNCTION_NAME`);
  }
  const label = prefix === 'AUTH_CHECK' ? 'AuthCheck' : 'SessionCheck';
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = parseAuthCheckUrl(url, {
        allowInsecureHttp: reader.boolean(`${prefix}_ALLOW_INSECURE_HTTP`, false),
      });
    } catch (error) {
      throw new ConfigurationError(
        `${prefix}_URL: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return createHttpUserIdHook({
      url: parsed,
      timeoutMs,
      clock,
      label,
      secret: secret ?? reader.optional(`${prefix}_SECRET`),
    });
  }
  if (functionName === undefined) return undefined;
  const endpoint = reader.optional(`${prefix}_LAMBDA_ENDPOINT`);
  const region = reader.optional('AWS_REGION');
  // Imported only here: a container whose hook is HTTP never loads the Lambda SDK (cold start). The
  // import starts now, so the client is still built once, during init, not on the first request.
  const lambda = import('../auth-check/lambda-sdk').then(
    ({ LambdaClient }) =>
      new LambdaClient({
        // One attempt: the timeout covers the whole call, and a retried password check doubles the latency.
        maxAttempts: 1,
        ...awsClientLocation({ endpoint, region }),
      }),
  );
  return createLambdaUserIdHook({ lambda, functionName, timeoutMs });
}

/** The token Lambda's AuthCheck: exactly one of `AUTH_CHECK_URL` or `AUTH_CHECK_FUNCTION_NAME`. */
export function buildAuthCheck(
  reader: EnvironmentReader,
  clock: Clock,
  secret?: SecretSource,
  /** Hears every call's latency and outcome (metrics). */
  observe?: HookObserver,
): AuthCheck {
  const built = buildUserIdHook(reader, 'AUTH_CHECK', clock, secret);
  if (built === undefined)
    throw new ConfigurationError('Set exactly one of AUTH_CHECK_URL or AUTH_CHECK_FUNCTION_NAME');
  const hook = observe === undefined ? built : observeHook(built, observe);
  return {
    checkCredentials: (request) =>
      hook({ username: request.username, password: request.password, client_id: request.clientId }),
  };
}

/** The authorizer's optional cookie-session check: `SESSION_CHECK_URL` or `SESSION_CHECK_FUNCTION_NAME`. */
export function buildSessionCheck(
  reader: EnvironmentReader,
  clock: Clock,
  secret?: SecretSource,
): SessionCheck | undefined {
  const hook = buildUserIdHook(reader, 'SESSION_CHECK', clock, secret);
  return hook === undefined ? undefined : { checkSession: (cookie) => hook({ cookie }) };
}
