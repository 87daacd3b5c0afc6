import type { InvokeCommandInput, InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { AuthCheck, AuthCheckRequest } from '../core/auth-check';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { HookUnavailable } from './hook-failure';
import type { UserIdHook } from './http-auth-check';
import { parseAuthCheckAnswer } from './parse-auth-check-answer';

const DEFAULT_TIMEOUT_MS = 3000;

export interface LambdaAuthCheckOptions {
  /**
   * Build it once at module scope; give it `maxAttempts` that fit inside `timeoutMs`. A promise of
   * the client lets the composition root load the SDK (`import('./lambda-sdk')`) only when a
   * Lambda hook is configured; a rejected promise fails each call with `DependencyUnavailable`.
   */
  readonly lambda: LambdaClient | Promise<LambdaClient>;
  /** Name, ARN or partial ARN of the deployer's AuthCheck function. */
  readonly functionName: string;
  /** Budget for the whole invocation, retries included, in milliseconds. Defaults to 3000. */
  readonly timeoutMs?: number;
}

/**
 * An `AuthCheck` that invokes the deployer's Lambda (RequestResponse) with
 * `{"username","password","client_id"}` and reads `{"user_id": id | null}` back. A function error,
 * an unparsable or wrongly shaped payload, an SDK error or no answer within `timeoutMs` rejects
 * with `DependencyUnavailable`.
 */
export const createLambdaAuthCheck = (options: LambdaAuthCheckOptions): AuthCheck => {
  const hook = createLambdaUserIdHook(options);
  return {
    checkCredentials: (request: AuthCheckRequest) =>
      hook({ username: request.username, password: request.password, client_id: request.clientId }),
  };
};

/** Invokes a function with `payload` and reads `{"user_id"}` back with the AuthCheck's rules. */
export const createLambdaUserIdHook = (options: LambdaAuthCheckOptions): UserIdHook => {
  const { lambda, functionName } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (functionName.length === 0) throw new Error('AuthCheck functionName must not be empty');
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error('AuthCheck timeoutMs must be a positive integer');
  }
  // `InvokeCommand` is a value: importing it statically would load the SDK in every bundle that
  // links this module, hook configured or not. Loaded once, when the hook is built.
  const sdk = import('./lambda-sdk');
  // Failures are reported by each call (invokeWithin), not as an unhandled rejection at start-up.
  for (const loading of [sdk, lambda]) if (loading instanceof Promise) loading.catch(() => undefined);
  const encoder = new TextEncoder();

  return async (payload) => {
    const input: InvokeCommandInput = {
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: encoder.encode(JSON.stringify(payload)),
    };

    const output = await invokeWithin(sdk, lambda, input, timeoutMs, functionName);

    if (output.FunctionError !== undefined) {
      // The error payload is not quoted: a failing function may have put the event, password and
      // all, into its error message.
      throw new HookUnavailable(
        'error_status',
        `AuthCheck Lambda ${functionName} failed (FunctionError: ${output.FunctionError})`,
      );
    }
    if (output.StatusCode !== undefined && output.StatusCode !== 200) {
      throw new HookUnavailable(
        'error_status',
        `AuthCheck Lambda ${functionName} answered status ${output.StatusCode}`,
      );
    }
    // No cause on purpose: JSON.parse errors quote the text, which may echo the password.
    let json: unknown;
    try {
      json = JSON.parse(
        new TextDecoder('utf-8', { fatal: true }).decode(output.Payload ?? new Uint8Array(0)),
      );
    } catch {
      throw new HookUnavailable(
        'bad_answer',
        `AuthCheck Lambda ${functionName} returned a payload that is not JSON`,
      );
    }
    return parseAuthCheckAnswer(json);
  };
};

// The abort signal stops the SDK's request; the race guarantees the deadline even if some stage of
// the SDK (credentials, body collection) does not watch the signal.
const invokeWithin = async (
  sdk: Promise<typeof import('./lambda-sdk')>,
  lambda: LambdaClient | Promise<LambdaClient>,
  input: InvokeCommandInput,
  timeoutMs: number,
  functionName: string,
): Promise<InvokeCommandOutput> => {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HookUnavailable(
        'timeout',
        `AuthCheck Lambda ${functionName} did not answer within ${timeoutMs} ms`,
      );
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const invoke = async () => {
    const [{ InvokeCommand }, client] = await Promise.all([sdk, lambda]);
    return client.send(new InvokeCommand(input), { abortSignal: controller.signal });
  };
  try {
    return await Promise.race([invoke(), deadline]);
  } catch (error) {
    if (error instanceof DependencyUnavailable) throw error;
    throw new HookUnavailable(
      'unreachable',
      `AuthCheck Lambda ${functionName} could not be invoked (${error instanceof Error ? error.name : 'unknown error'})`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
};
