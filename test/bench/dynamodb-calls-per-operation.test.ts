import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchHookUsers } from '../../bench/bench-users';
import {
  measureDynamoDbCallsPerOperation,
  type OperationCalls,
} from '../../bench/dynamodb-calls-per-operation';
import { startAuthCheckHookServer } from '../support/auth-check-hook-server';
import { startDynalite } from '../support/dynalite-server';

// The bench's call and round-trip counts are targets of issue 13: this pins that they see what the
// handlers really do, the AuthCheck's own HTTP request included (a change of HTTP client once hid it).

let stop: () => Promise<unknown>;
let results: readonly OperationCalls[];

beforeAll(async () => {
  // The bench's backend (dynalite and the signed loopback hook), in this process.
  const [dynalite, hook] = await Promise.all([
    startDynalite(),
    startAuthCheckHookServer({ secret: randomBytes(32).toString('base64url'), users: benchHookUsers() }),
  ]);
  stop = () => Promise.all([dynalite.stop(), hook.stop()]);
  results = await measureDynamoDbCallsPerOperation(
    { dynamodbEndpoint: dynalite.endpoint, hookUrl: hook.url, hookSecret: hook.secret },
    2,
  );
}, 120_000);

afterAll(async () => {
  await stop();
});

const of = (operation: string) => {
  const found = results.find((result) => result.operation === operation);
  if (found === undefined) throw new Error(`no ${operation} in the results`);
  return found;
};

describe('measureDynamoDbCallsPerOperation', () => {
  it('counts a password grant: 4 calls, 3 DynamoDB round trips and the AuthCheck in a row', () => {
    const password = of('password');
    expect(password.warm.calls).toBe(4);
    expect(password.warmRoundTrips).toEqual({ dynamodb: 3, hook: 1 });
  });

  it('with the lockout off: 2 calls, 2 round trips and the AuthCheck', () => {
    const password = of('password_lockout_off');
    expect(password.warm.byOperation).toEqual({
      'GetItem oauth2-clients consistent': 1,
      'PutItem oauth2-grants': 1,
    });
    expect(password.warmRoundTrips).toEqual({ dynamodb: 2, hook: 1 });
  });

  it('client_credentials and refresh never call the AuthCheck', () => {
    expect(of('client_credentials').warmRoundTrips).toEqual({ dynamodb: 2, hook: 0 });
    expect(of('refresh_token').warmRoundTrips).toEqual({ dynamodb: 2, hook: 0 });
  });
});
