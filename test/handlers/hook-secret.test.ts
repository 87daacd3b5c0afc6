import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuthCheckSignature } from '../../lambdas/auth-check/auth-check-signature';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { createDynamoDbDocumentClient } from '../../lambdas/store/dynamodb-client';
import { createTablesIfMissing } from '../../lambdas/store/table-definitions';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';
import { TEST_LOCKOUT_KEY_SECRET } from '../support/lockout-key-secret';
import { type MotoServer, motoAvailable, startMoto } from '../support/moto-server';

const HOOK_SECRET = 'hook-secret-from-secrets-manager-0123456789';
const LOCKOUT_KEY = 'lockout-key-from-secrets-manager-0123456789';

describe.skipIf(!motoAvailable())('token Lambda with the hook secret in Secrets Manager (moto)', () => {
  let moto: MotoServer;
  let dynalite: DynaliteServer;
  let hook: Server;
  let hookUrl: string;
  let secretArn: string;
  let lockoutKeyArn: string;
  const verdicts: boolean[] = [];
  let env: Record<string, string>;
  let basic: string;

  beforeAll(async () => {
    [moto, dynalite] = await Promise.all([startMoto(), startDynalite()]);
    const { client } = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
    await createTablesIfMissing(client, { clients: 'clients', grants: 'grants' });
    client.destroy();
    const secrets = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'hook', SecretString: HOOK_SECRET })))
      .ARN as string;
    lockoutKeyArn = (
      await secrets.send(new CreateSecretCommand({ Name: 'lockout-key', SecretString: LOCKOUT_KEY }))
    ).ARN as string;
    secrets.destroy();

    hook = createServer((request, response) => {
      let rawBody = '';
      request.on('data', (chunk) => (rawBody += chunk));
      request.on('end', () => {
        const signed = verifyAuthCheckSignature({
          secret: HOOK_SECRET,
          timestampHeader: request.headers['x-oauth2-timestamp'],
          signatureHeader: request.headers['x-oauth2-signature'],
          rawBody,
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        verdicts.push(signed);
        response.writeHead(signed ? 200 : 403, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ user_id: 'u-1' }));
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/check`;
    env = {
      CLIENTS_TABLE: 'clients',
      GRANTS_TABLE: 'grants',
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      REQUIRE_SSL: 'false',
      AUTH_CHECK_URL: hookUrl,
      AUTH_CHECK_SECRET_ARN: secretArn,
      SECRETS_MANAGER_ENDPOINT: moto.endpoint,
      LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
      LOG_LEVEL: 'SILENT',
    };
    const admin = buildAdminLambda(env);
    const created = (await admin(
      { action: 'create-client', name: 'web', grant_types: ['password'] },
      localLambdaContext('admin'),
    )) as { client_id: string; client_secret: string };
    basic = `Basic ${Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')}`;
  }, 60_000);
  afterAll(async () => {
    hook?.close();
    await Promise.all([moto?.stop(), dynalite?.stop()]);
  });

  const passwordGrant = (handlerEnv: Record<string, string>) =>
    buildTokenLambda(handlerEnv)(
      {
        httpMethod: 'POST',
        path: '/oauth2/token',
        resource: '/oauth2/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic },
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        requestContext: {} as never,
        body: 'grant_type=password&username=alice&password=pw',
        isBase64Encoded: false,
      },
      localLambdaContext('token'),
    ) as Promise<APIGatewayProxyResult>;

  it('signs AuthCheck calls with the secret read through middy secrets-manager', async () => {
    const result = await passwordGrant(env);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).user_id).toBe('u-1');
    expect(verdicts).toEqual([true]);
  });

  it('answers 503 temporarily_unavailable and issues nothing when Secrets Manager is unreachable', async () => {
    const result = await passwordGrant({ ...env, SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:9' });
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(result.headers?.['Cache-Control']).toBe('no-store');
    expect(verdicts).toHaveLength(1);
  });
  it('keys lockout state with LOCKOUT_KEY_SECRET_ARN read from Secrets Manager', async () => {
    const { LOCKOUT_KEY_SECRET: _plain, ...withArn } = env;
    const result = await passwordGrant({ ...withArn, LOCKOUT_KEY_SECRET_ARN: lockoutKeyArn });
    expect(result.statusCode).toBe(200);
    const key = createHmac('sha256', LOCKOUT_KEY).update('alice', 'utf8').digest('base64url');
    const { client } = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: 'grants',
        Key: { grantId: { S: `lockout#${key}` } },
        ConsistentRead: true,
      }),
    );
    client.destroy();
    expect(Item?.reserved).toEqual({ N: '0' });
  });

  it('answers 503 without asking the AuthCheck when the lockout key cannot be read', async () => {
    const { LOCKOUT_KEY_SECRET: _plain, AUTH_CHECK_SECRET_ARN: _hook, ...rest } = env;
    const asked = verdicts.length;
    const result = await passwordGrant({
      ...rest,
      AUTH_CHECK_SECRET: HOOK_SECRET,
      LOCKOUT_KEY_SECRET_ARN: lockoutKeyArn,
      SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(verdicts).toHaveLength(asked);
  });
});
