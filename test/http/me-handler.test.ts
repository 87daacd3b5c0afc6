import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeRequirementsVariable } from '../../lambdas/core/route-requirements';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import { buildMeLambda } from '../../lambdas/handlers/me-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { TableNames } from '../../lambdas/store/table-definitions';
import {
  authorizerRequest,
  basicAuthorization,
  bearerAuthorization,
  CLIENT_TOKEN_KEYS,
  expectNoStoreJson,
  expectTokenResponse,
  meRequest,
  SCOPED_USER_TOKEN_KEYS,
  type TokenBody,
  tokenRequest,
} from '../support/api-gateway-events';
import { type ServiceBackend, startServiceBackend } from '../support/service-backend';

const USERS = {
  numeric: { password: 'numeric-me-pw', userId: 1234 },
  text: { password: 'text-me-pw', userId: 'u-1' },
  digits: { password: 'digits-me-pw', userId: '1234' },
} as const;

let backend: ServiceBackend;
const tables: TableNames = { clients: 'me-clients', grants: 'me-grants' };
let handlers: {
  token: ReturnType<typeof buildTokenLambda>;
  authorizer: ReturnType<typeof buildAuthorizerLambda>;
  admin: ReturnType<typeof buildAdminLambda>;
  me: ReturnType<typeof buildMeLambda>;
};
let client: { client_id: string; client_secret: string };

beforeAll(async () => {
  backend = await startServiceBackend({ tables, hookSecret: 'me-hook-secret', users: USERS });
  const env = backend.environment();
  handlers = {
    token: buildTokenLambda(env),
    authorizer: buildAuthorizerLambda(env),
    admin: buildAdminLambda(env),
    me: buildMeLambda(env),
  };
  client = (await handlers.admin(
    {
      action: 'create-client',
      name: 'me-test',
      grant_types: ['password', 'client_credentials'],
      scope: 'profile',
    },
    localLambdaContext('admin'),
  )) as typeof client;
  expect(client.client_secret).toEqual(expect.any(String));
});

afterAll(async () => {
  await backend?.stop();
});

async function issue(body: Record<string, string>, keys: readonly (keyof TokenBody)[]): Promise<TokenBody> {
  const event = tokenRequest({
    headers: { Authorization: basicAuthorization(client.client_id, client.client_secret) },
    body,
  });
  return expectTokenResponse(await handlers.token(event, localLambdaContext('token')), keys);
}

/** What API Gateway hands the integration after the authorizer allowed the request. */
async function meThroughAuthorizer(
  accessToken: string,
  stageVariables?: Record<string, string>,
): Promise<APIGatewayProxyResult> {
  const decision = await handlers.authorizer(
    authorizerRequest({
      authorization: bearerAuthorization(accessToken),
      ...(stageVariables === undefined ? {} : { stageVariables }),
    }),
    localLambdaContext('authorizer'),
  );
  expect(decision.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  const authorizer = { ...decision.context, principalId: decision.principalId, integrationLatency: 12 };
  return handlers.me(meRequest({ authorizer }), localLambdaContext('me'));
}

describe('GET /me', () => {
  it.each([
    ['numeric', 1234],
    ['text', 'u-1'],
    ['digits', '1234'],
  ] as const)('echoes the %s user id with the JSON type the AuthCheck gave it', async (username, userId) => {
    const issued = await issue(
      { grant_type: 'password', username, password: USERS[username].password },
      SCOPED_USER_TOKEN_KEYS,
    );
    expect(issued.user_id).toStrictEqual(userId);
    const result = await meThroughAuthorizer(issued.access_token);
    expect(result.statusCode).toBe(200);
    expect(expectNoStoreJson(result)).toStrictEqual({
      user_id: userId,
      client_id: client.client_id,
      scope: 'profile',
    });
  });

  it('answers a client_credentials caller with a null user_id, where the route accepts client tokens', async () => {
    const issued = await issue({ grant_type: 'client_credentials' }, [...CLIENT_TOKEN_KEYS, 'scope']);
    // By default (user tokens only) the authorizer denies it; a deployer may accept client tokens on /me.
    const result = await meThroughAuthorizer(issued.access_token, {
      [routeRequirementsVariable('GET', '/me')]: 'tokens=any',
    });
    expect(expectNoStoreJson(result)).toStrictEqual({
      user_id: null,
      client_id: client.client_id,
      scope: 'profile',
    });
  });

  it('answers nulls when API Gateway passed no authorizer context', async () => {
    const result = await handlers.me(meRequest({ authorizer: null }), localLambdaContext('me'));
    expect(result.statusCode).toBe(200);
    expect(expectNoStoreJson(result)).toStrictEqual({ user_id: null, client_id: null, scope: '' });
  });

  it('keeps a context value that is already a number a number', async () => {
    const result = await handlers.me(
      meRequest({ authorizer: { user_id: 42, client_id: 'c', scope: 'a b' } }),
      localLambdaContext('me'),
    );
    expect(expectNoStoreJson(result)).toStrictEqual({ user_id: 42, client_id: 'c', scope: 'a b' });
  });
});
