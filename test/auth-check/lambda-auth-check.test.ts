import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLambdaAuthCheck } from '../../lambdas/auth-check/lambda-auth-check';
import type { AuthCheckRequest } from '../../lambdas/core/auth-check';
import { DependencyUnavailable } from '../../lambdas/core/dependency-unavailable';

const PASSWORD = 'pw-Lambda-91b2-do-not-log';
const CREDENTIALS: AuthCheckRequest = { username: 'bob', password: PASSWORD, clientId: 'mobile' };
const EXPECTED_PAYLOAD = `{"username":"bob","password":"${PASSWORD}","client_id":"mobile"}`;
const FUNCTION_NAME = 'deployer-auth-check';

interface Invocation {
  readonly method: string | undefined;
  readonly functionName: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly payload: string;
}

type LambdaFunction = (res: ServerResponse) => void;

/** What the Invoke API sends back for a function that returned `body`. */
const returns =
  (body: string): LambdaFunction =>
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
    res.end(body);
  };

/** What the Invoke API sends back when the function threw: still 200, flagged by a header. */
const throws =
  (errorMessage: string): LambdaFunction =>
  (res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-amz-executed-version': '$LATEST',
      'x-amz-function-error': 'Unhandled',
    });
    res.end(JSON.stringify({ errorType: 'Error', errorMessage, trace: [] }));
  };

/** A service-level error (unknown function …), as the Lambda API answers it. */
const serviceError =
  (status: number, type: string): LambdaFunction =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ Type: 'User', message: `${type} for ${FUNCTION_NAME}` }));
  };

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/;

let lambdaFunction: LambdaFunction;
let invocations: Invocation[] = [];
let server: Server;
let lambda: LambdaClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const match = INVOKE_PATH.exec(req.url ?? '');
      invocations.push({
        method: req.method,
        functionName: match?.[1] === undefined ? undefined : decodeURIComponent(match[1]),
        headers: req.headers,
        payload: Buffer.concat(chunks).toString('utf8'),
      });
      if (req.method !== 'POST' || match === null) {
        serviceError(404, 'UnknownOperationException')(res);
        return;
      }
      lambdaFunction(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-key' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  lambda.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  invocations = [];
  lambdaFunction = returns('{"user_id":"user-1"}');
});

const authCheck = (timeoutMs?: number) =>
  createLambdaAuthCheck({
    lambda,
    functionName: FUNCTION_NAME,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });

const errorChainText = (error: unknown): string => {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current !== undefined; depth++) {
    parts.push(String(current));
    if (current instanceof Error) parts.push(current.message, current.stack ?? '');
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
};

const expectUnavailable = async (promise: Promise<unknown>): Promise<DependencyUnavailable> => {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DependencyUnavailable);
  const unavailable = error as DependencyUnavailable;
  expect(unavailable.dependency).toBe('auth-check');
  expect(unavailable.message).not.toContain(PASSWORD);
  expect(String(unavailable.cause)).not.toContain(PASSWORD);
  expect(errorChainText(unavailable)).not.toContain(PASSWORD);
  return unavailable;
};

describe('createLambdaAuthCheck', () => {
  it('invokes the function synchronously with the exact JSON payload', async () => {
    await authCheck().checkCredentials(CREDENTIALS);
    expect(invocations).toHaveLength(1);
    const [invocation] = invocations;
    expect(invocation?.method).toBe('POST');
    expect(invocation?.functionName).toBe(FUNCTION_NAME);
    expect(invocation?.headers['x-amz-invocation-type']).toBe('RequestResponse');
    expect(invocation?.payload).toBe(EXPECTED_PAYLOAD);
    expect(Object.keys(JSON.parse(invocation?.payload ?? '{}'))).toEqual([
      'username',
      'password',
      'client_id',
    ]);
  });

  it('returns a string user id', async () => {
    lambdaFunction = returns('{"user_id":"user-42"}');
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe('user-42');
  });

  it('keeps a number user id a number, 0 included', async () => {
    lambdaFunction = returns('{"user_id":1234}');
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe(1234);
    lambdaFunction = returns('{"user_id":0}');
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe(0);
  });

  it('returns null for invalid credentials', async () => {
    lambdaFunction = returns('{"user_id":null}');
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBeNull();
  });

  it('fails on a function error without quoting its payload', async () => {
    lambdaFunction = throws(`could not check password ${PASSWORD}`);
    const error = await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
    expect(error.message).toContain('Unhandled');
  });

  it.each([
    ['malformed JSON echoing the password', `{"user_id":"${PASSWORD}`],
    ['an empty payload', ''],
    ['a JSON string', '"user-1"'],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['no user_id key', `{"userId":"u","event":{"password":"${PASSWORD}"}}`],
    ['user_id true', '{"user_id":true}'],
    ['user_id an object', `{"user_id":{"password":"${PASSWORD}"}}`],
    ['user_id an empty string', '{"user_id":""}'],
  ])('fails on %s', async (_, payload) => {
    lambdaFunction = returns(payload);
    await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
  });

  it.each([
    [404, 'ResourceNotFoundException'],
    [429, 'TooManyRequestsException'],
    [500, 'ServiceException'],
  ])('fails on an SDK error: %i %s', async (status, type) => {
    lambdaFunction = serviceError(status, type);
    const error = await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
    expect(error.message).toContain(type);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('gives up on a function slower than the timeout, quickly', async () => {
    lambdaFunction = (res) => {
      setTimeout(() => returns('{"user_id":"late"}')(res), 5000).unref();
    };
    const started = performance.now();
    const error = await expectUnavailable(authCheck(150).checkCredentials(CREDENTIALS));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error.message).toContain('150 ms');
  });

  it('gives up on an answer whose body stalls after the headers', async () => {
    lambdaFunction = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"user_id":');
    };
    const started = performance.now();
    const error = await expectUnavailable(authCheck(150).checkCredentials(CREDENTIALS));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error.message).toContain('150 ms');
  });

  it('takes a promise of the client (loaded lazily) and uses it for every call', async () => {
    const check = createLambdaAuthCheck({ lambda: Promise.resolve(lambda), functionName: FUNCTION_NAME });
    expect(await check.checkCredentials(CREDENTIALS)).toBe('user-1');
    expect(await check.checkCredentials(CREDENTIALS)).toBe('user-1');
    expect(invocations).toHaveLength(2);
  });

  it('fails each call, not the start-up, when the client could not be built', async () => {
    const check = createLambdaAuthCheck({
      lambda: Promise.reject(new Error('Cannot find module @aws-sdk/client-lambda')),
      functionName: FUNCTION_NAME,
    });
    // Let the rejection settle: it must not be reported as unhandled before anyone asks.
    await new Promise((resolve) => setImmediate(resolve));
    const error = await expectUnavailable(check.checkCredentials(CREDENTIALS));
    expect(error.message).toContain('could not be invoked');
    expect(invocations).toHaveLength(0);
  });

  it('rejects bad configuration when built', () => {
    expect(() => createLambdaAuthCheck({ lambda, functionName: '' })).toThrow(/functionName/);
    expect(() => createLambdaAuthCheck({ lambda, functionName: FUNCTION_NAME, timeoutMs: -1 })).toThrow(
      /timeoutMs/,
    );
  });
});
