import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INVALID_SIGNATURE_ANSWER,
  SIGNATURE_HEADERS,
  verifyAuthCheckRequest,
} from '../../lambdas/auth-check/auth-check-signature';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { type RotationEvent, rotateHookSecret } from '../../lambdas/handlers/hook-secret-rotation-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { createServiceLogger } from '../../lambdas/http/service-logger';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { createDynamoDbDocumentClient } from '../../lambdas/store/dynamodb-client';
import { createTablesIfMissing } from '../../lambdas/store/table-definitions';
import { basicAuthorization, tokenRequest } from '../support/api-gateway-events';
import { type DynaliteServer, startDynalite } from '../support/dynalite-server';
import { TEST_LOCKOUT_KEY_SECRET } from '../support/lockout-key-secret';
import { type MotoServer, motoAvailable, startMoto } from '../support/moto-server';

const FIRST_SECRET = 'hook-secret-version-one-0123456789abcdef';
const STEPS: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/**
 * A hook as the README tells hook authors to write it: the reference verifier over the secrets it
 * accepts now. `accepted` is what its operator configured; with `readFromSecretsManager` it also looks
 * up any version the signature names (a hook with read access to the secret needs no configuration).
 */
interface RotatingHook {
  readonly url: string;
  accepted: string[];
  readonly versionsSeen: string[];
  readonly refused: number[];
  stop(): Promise<void>;
}

async function startRotatingHook(
  lookUp?: (version: string) => Promise<string | undefined>,
): Promise<RotatingHook> {
  const state = { accepted: [] as string[], versionsSeen: [] as string[], refused: [] as number[] };
  const server: Server = createServer((request, response) => {
    let rawBody = '';
    request.on('data', (chunk) => (rawBody += chunk));
    request.on('end', async () => {
      const version = request.headers[SIGNATURE_HEADERS.version];
      const secrets = [...state.accepted];
      if (typeof version === 'string') {
        state.versionsSeen.push(version);
        const looked = await lookUp?.(version);
        if (looked !== undefined) secrets.push(looked);
      }
      const ok = verifyAuthCheckRequest({
        secrets,
        timestampHeader: request.headers[SIGNATURE_HEADERS.timestamp],
        signatureHeader: request.headers[SIGNATURE_HEADERS.signature],
        rawBody,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      if (!ok) {
        state.refused.push(Date.now());
        response.writeHead(INVALID_SIGNATURE_ANSWER.status, { 'Content-Type': 'application/json' });
        response.end(INVALID_SIGNATURE_ANSWER.body);
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"user_id":"u-rotation"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as RotatingHook;
}

describe.skipIf(!motoAvailable())('hook secret rotation end to end (Secrets Manager on moto_server)', () => {
  let moto: MotoServer;
  let dynalite: DynaliteServer;
  let secrets: SecretsManagerClient;
  let basic: string;
  const logger = createServiceLogger('rotation-test', 'SILENT');

  beforeAll(async () => {
    [moto, dynalite] = await Promise.all([startMoto(), startDynalite()]);
    const { client } = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
    await createTablesIfMissing(client, { clients: 'rot-clients', grants: 'rot-grants' });
    client.destroy();
    secrets = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const admin = buildAdminLambda({
      CLIENTS_TABLE: 'rot-clients',
      GRANTS_TABLE: 'rot-grants',
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
      LOG_LEVEL: 'SILENT',
    });
    const created = (await admin(
      { action: 'create-client', name: 'rotation', grant_types: ['password'] },
      localLambdaContext('admin'),
    )) as { client_id: string; client_secret: string };
    basic = basicAuthorization(created.client_id, created.client_secret);
  }, 60_000);
  afterAll(async () => {
    secrets?.destroy();
    await Promise.all([moto?.stop(), dynalite?.stop()]);
  });

  /** A new token Lambda container: reads (and caches for 5 minutes) the secret's AWSCURRENT version. */
  const container = (secretArn: string, hookUrl: string) =>
    buildTokenLambda({
      CLIENTS_TABLE: 'rot-clients',
      GRANTS_TABLE: 'rot-grants',
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      REQUIRE_SSL: 'false',
      AUTH_CHECK_URL: hookUrl,
      AUTH_CHECK_SECRET_ARN: secretArn,
      SECRETS_MANAGER_ENDPOINT: moto.endpoint,
      LOCKOUT_KEY_SECRET: TEST_LOCKOUT_KEY_SECRET,
      LOG_LEVEL: 'SILENT',
    });
  const statuses: number[] = [];
  const login = async (handler: ReturnType<typeof buildTokenLambda>) => {
    const result = (await handler(
      tokenRequest({
        headers: { Authorization: basic },
        body: { grant_type: 'password', username: 'alice', password: 'pw' },
      }),
      localLambdaContext('token'),
    )) as APIGatewayProxyResult;
    statuses.push(result.statusCode);
    return result.statusCode;
  };
  const currentVersion = async (secretArn: string) => {
    const { VersionIdsToStages = {} } = await secrets.send(
      new DescribeSecretCommand({ SecretId: secretArn }),
    );
    return Object.entries(VersionIdsToStages).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  };
  const rotate = async (secretArn: string, token: string) => {
    for (const Step of STEPS)
      await rotateHookSecret(secrets, { SecretId: secretArn, ClientRequestToken: token, Step }, logger);
  };

  it('by hand, in the README order: logins never fail, old and new containers each sign with their own version', async () => {
    statuses.length = 0;
    const { ARN, VersionId: v1 } = await secrets.send(
      new CreateSecretCommand({ Name: 'hook-by-hand', SecretString: FIRST_SECRET }),
    );
    const secretArn = ARN as string;
    const hook = await startRotatingHook();
    try {
      hook.accepted = [FIRST_SECRET];
      const warm = container(secretArn, hook.url);
      expect(await login(warm)).toBe(200);

      // 1. Stage the new value as AWSPENDING under a token of our choosing; nothing signs with it yet.
      const token = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
      const next = 'hook-secret-version-two-fedcba9876543210';
      await secrets.send(
        new PutSecretValueCommand({
          SecretId: secretArn,
          ClientRequestToken: token,
          SecretString: next,
          VersionStages: ['AWSPENDING'],
        }),
      );
      expect(await login(warm)).toBe(200);
      // 2. The hook learns it (accepts both).
      hook.accepted = [FIRST_SECRET, next];
      expect(await login(warm)).toBe(200);
      // 3. rotate-secret --client-request-token <token>: the rotation keeps the staged value.
      await rotate(secretArn, token);
      expect(await currentVersion(secretArn)).toBe(token);
      expect(
        (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' })))
          .SecretString,
      ).toBe(next);
      // A warm container still signs with its cached old version, a fresh one with the new: both pass.
      const fresh = container(secretArn, hook.url);
      expect(await login(warm)).toBe(200);
      expect(await login(fresh)).toBe(200);
      // 4. Once no container can hold the old version (5-minute cache), the hook forgets it.
      hook.accepted = [next];
      expect(await login(fresh)).toBe(200);

      expect(hook.refused).toEqual([]);
      expect(new Set(hook.versionsSeen)).toEqual(new Set([v1, token]));
      expect(statuses.every((status) => status === 200)).toBe(true);
      // And the safety net holds: had the hook forgotten too early, the old container gets 503, not invalid_grant.
      expect(await login(warm)).toBe(503);
    } finally {
      await hook.stop();
    }
  }, 60_000);

  it('scheduled (a fresh random value) with a hook that looks versions up: no failed login', async () => {
    statuses.length = 0;
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name: 'hook-scheduled', SecretString: FIRST_SECRET }),
    );
    const secretArn = ARN as string;
    const hook = await startRotatingHook(async (version) => {
      try {
        return (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: version })))
          .SecretString;
      } catch {
        return undefined;
      }
    });
    try {
      const warm = container(secretArn, hook.url);
      expect(await login(warm)).toBe(200);
      await rotate(secretArn, 'b3f1c2d4-0000-4000-8000-000000000001');
      const value = (
        await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' }))
      ).SecretString as string;
      expect(value).not.toBe(FIRST_SECRET);
      expect(value).toMatch(/^[A-Za-z0-9_-]{64}$/);
      // Secrets Manager retries steps: running them again changes nothing.
      await rotate(secretArn, 'b3f1c2d4-0000-4000-8000-000000000001');
      expect(
        (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' })))
          .SecretString,
      ).toBe(value);
      expect(await login(warm)).toBe(200);
      expect(await login(container(secretArn, hook.url))).toBe(200);
      expect(hook.refused).toEqual([]);
      expect(statuses).toEqual([200, 200, 200]);
    } finally {
      await hook.stop();
    }
  }, 60_000);
});
