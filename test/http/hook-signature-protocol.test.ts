import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockoutKeyOf } from '../../lambdas/core/password-lockout';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import {
  DEMO_USER,
  type DemoAuthCheckHook,
  startDemoAuthCheckHook,
} from '../../lambdas/local/demo-auth-check-hook';
import { createDynamoDbDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { createTablesIfMissing } from '../../lambdas/store/table-definitions';
import { basicAuthorization, expectOAuthError, tokenRequest } from '../support/api-gateway-events';
import { capturingOutput } from '../support/captured-output';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';
import { emfRecords } from '../support/emf-records';
import { TEST_LOCKOUT_KEY_SECRET } from '../support/lockout-key-secret';

const TABLES = { clients: 'sig-clients', grants: 'sig-grants' };
const HOOK_SECRET = 'the-hook-knows-this-secret-0123456789';

let dynalite: DynaliteServer;
let dynamo: DynamoDbClients;
let hook: DemoAuthCheckHook;
let client: { client_id: string; client_secret: string };

const environment = (secret: string) => ({
  CLIENTS_TABLE: TABLES.clients,
  GRANTS_TABLE: TABLES.grants,
  DYNAMODB_ENDPOINT: dynalite.endpoint,
  AUTH_CHECK_URL: hook.url,
  AUTH_CHECK_SECRET: secret,
  LOCKOUT_THRESHOLD: '3',
  LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
  // WARN keeps the log quiet but lets the metrics out (SILENT would switch them off too).
  LOG_LEVEL: 'WARN',
  METRICS_SERVICE_NAME: 'sig-test',
});

beforeAll(async () => {
  [dynalite, hook] = await Promise.all([startDynalite(), startDemoAuthCheckHook(HOOK_SECRET)]);
  dynamo = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
  await createTablesIfMissing(dynamo.client, TABLES);
  const admin = buildAdminLambda({ ...environment(HOOK_SECRET), LOG_LEVEL: 'SILENT' });
  client = (await admin(
    { action: 'create-client', name: 'sig', grant_types: ['password', 'refresh_token'] },
    localLambdaContext('admin'),
  )) as typeof client;
});

afterAll(async () => {
  dynamo?.client.destroy();
  await Promise.all([dynalite?.stop(), hook?.stop()]);
});

const login = (handler: ReturnType<typeof buildTokenLambda>) =>
  handler(
    tokenRequest({
      headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
      body: { grant_type: 'password', username: DEMO_USER.username, password: DEMO_USER.password },
    }),
    localLambdaContext('token'),
  ) as Promise<APIGatewayProxyResult>;

describe('a hook that refuses our signature (hook protocol: 401 {"error":"invalid_signature"})', () => {
  it('is a 503 dependency failure, never a wrong password: the right password never locks the user out', async () => {
    const misconfigured = buildTokenLambda(environment('a-different-secret-the-hook-never-saw'));
    const { result: answers, output } = await capturingOutput(async () => {
      const all: APIGatewayProxyResult[] = [];
      // Twice the lockout threshold: a wrong-password reading would have locked the user by now.
      for (let attempt = 0; attempt < 6; attempt++) all.push(await login(misconfigured));
      return all;
    });
    for (const answer of answers) {
      const body = expectOAuthError(answer, 503, 'temporarily_unavailable');
      expect(body.error).not.toBe('invalid_grant');
    }
    // Nothing was counted against the username.
    const lockout = await dynamo.doc.send(
      new GetCommand({
        TableName: TABLES.grants,
        Key: { grantId: `lockout#${lockoutKeyOf(DEMO_USER.username, TEST_LOCKOUT_KEY_SECRET)}` },
      }),
    );
    // (The lockout may keep a bookkeeping item, but with no failure and no lock on it.)
    expect(lockout.Item?.failures ?? 0).toBe(0);
    expect(lockout.Item?.lockedUntil ?? 0).toBe(0);
    // The alarm-worthy metric: AuthCheck failures of kind signature_refused, and 5xx token answers.
    const records = emfRecords(output);
    expect(
      records.filter(
        (record) => record.metric === 'AuthCheckFailures' && record.dimensions.Kind === 'signature_refused',
      ),
    ).toHaveLength(6);
    expect(records.filter((record) => record.metric === 'TokenServerErrors')).toHaveLength(6);
    expect(records.some((record) => record.metric === 'UsernameLockouts')).toBe(false);

    // Fixed configuration: the same user signs in at once.
    const fixed = await capturingOutput(() => login(buildTokenLambda(environment(HOOK_SECRET))));
    expect(fixed.result.statusCode).toBe(200);
    expect(JSON.parse(fixed.result.body).user_id).toBe(DEMO_USER.userId);
  });
});
