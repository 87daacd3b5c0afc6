import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect } from 'vitest';
import { buildAdminLambda } from '../../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../../lambdas/handlers/environment-reader';
import { buildIntrospectionLambda } from '../../lambdas/handlers/introspection-lambda';
import { buildRevocationLambda } from '../../lambdas/handlers/revocation-lambda';
import { buildTokenLambda } from '../../lambdas/handlers/token-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import type { DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import type { TableNames } from '../../lambdas/store/table-definitions';
import {
  authorizerRequest,
  basicAuthorization,
  bearerAuthorization,
  expectNoStoreJson,
  type FormFields,
  type HeaderOverrides,
  type TokenBody,
  tokenRequest,
} from './api-gateway-events';
import type { AuthCheckHookServer, HookUser } from './auth-check-hook-server';
import type { DynaliteServer } from './dynalite-server';
import { type DynamoDbProxy, startDynamoDbProxy } from './dynamodb-proxy';
import { startServiceBackend } from './service-backend';

export interface Client {
  readonly client_id: string;
  readonly client_secret: string;
}

export interface User {
  readonly username: string;
  readonly password: string;
  readonly userId: string | number;
}

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** A proxy-event Lambda handler called the way the local stack calls it, with a fresh context each time. */
export const withContext =
  (
    handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
    functionName: string,
  ): ProxyHandler =>
  (event) =>
    handler(event, localLambdaContext(functionName));

/**
 * The deployed Lambdas (token, revocation, introspection, authorizer, admin) built from their
 * composition roots on one in-process dynalite, reached through a recording/failing proxy, with a
 * loopback AuthCheck hook that knows `users`. Everything listens on 127.0.0.1; `stop` ends it all.
 */
export interface TokenServiceFixture {
  readonly dynalite: DynaliteServer;
  /** Every Lambda's DynamoDB traffic passes here: count calls, inject failures. */
  readonly proxy: DynamoDbProxy;
  readonly hook: AuthCheckHookServer;
  /** Direct to dynalite (not through the proxy), for the tests' own reads. */
  readonly dynamo: DynamoDbClients;
  readonly tables: TableNames;
  /** The Lambdas' environment, with `extra` on top. */
  environment(extra?: Environment): Environment;
  readonly token: ProxyHandler;
  readonly revocation: ProxyHandler;
  readonly introspection: ProxyHandler;
  /** 'Allow' or the message the authorizer threw ('Unauthorized' for a dead token). */
  /** `stageVariables`: the route's requirements (default: user tokens only). */
  authorize(accessToken: string, stageVariables?: Record<string, string>): Promise<string>;
  admin(payload: unknown): Promise<Record<string, unknown>>;
  registerClient(options?: {
    grantTypes?: readonly string[];
    scope?: string;
    resourceServer?: boolean;
  }): Promise<Client>;
  /** A password grant that must succeed. */
  login(client: Client, user: User, handler?: ProxyHandler): Promise<TokenBody>;
  /** The raw answer of a refresh_token grant. */
  refresh(client: Client, refreshToken: string, handler?: ProxyHandler): Promise<APIGatewayProxyResult>;
  stop(): Promise<void>;
}

/** Basic credentials of `client` as header overrides. */
export const basicOf = (client: Client): HeaderOverrides => ({
  Authorization: basicAuthorization(client.client_id, client.client_secret),
});

/** A form POST to `path` over HTTPS, authenticated with `client` by HTTP Basic unless `headers` say otherwise. */
export const formPost = (
  path: string,
  client: Client | undefined,
  body: FormFields | string,
  headers: HeaderOverrides = {},
): APIGatewayProxyEvent =>
  tokenRequest({ path, body, headers: { ...(client === undefined ? {} : basicOf(client)), ...headers } });

export async function startTokenServiceFixture(
  name: string,
  users: Readonly<Record<string, HookUser>>,
): Promise<TokenServiceFixture> {
  const tables: TableNames = { clients: `${name}-clients`, grants: `${name}-grants` };
  const backend = await startServiceBackend({ tables, hookSecret: `${name}-hook-secret`, users });
  const { dynalite, hook, dynamo } = backend;
  const proxy = await startDynamoDbProxy(dynalite.endpoint);
  // Every Lambda reaches DynamoDB through the proxy, so tests can count and fail calls.
  const environment = (extra: Environment = {}): Environment =>
    backend.environment({ DYNAMODB_ENDPOINT: proxy.endpoint, ...extra });
  const token = withContext(buildTokenLambda(environment()), 'token');
  const revocation = withContext(buildRevocationLambda(environment()), 'revocation');
  const introspection = withContext(buildIntrospectionLambda(environment()), 'introspection');
  const authorizerHandler = buildAuthorizerLambda(environment({ CLIENT_CACHE_TTL_SECONDS: '0' }));
  const adminHandler = buildAdminLambda(environment());

  const admin = async (payload: unknown) =>
    (await adminHandler(payload, localLambdaContext('admin'))) as Record<string, unknown>;

  return {
    dynalite,
    proxy,
    hook,
    dynamo,
    tables,
    environment,
    token,
    revocation,
    introspection,
    async authorize(accessToken, stageVariables) {
      try {
        const result = await authorizerHandler(
          authorizerRequest({
            authorization: bearerAuthorization(accessToken),
            ...(stageVariables === undefined ? {} : { stageVariables }),
          }),
          localLambdaContext('authorizer'),
        );
        const [statement] = result.policyDocument.Statement;
        return statement !== undefined && 'Effect' in statement ? statement.Effect : 'no statement';
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    admin,
    async registerClient(options = {}) {
      const created = await admin({
        action: 'create-client',
        name: `${name}-client`,
        grant_types: options.grantTypes ?? ['password', 'refresh_token', 'client_credentials'],
        ...(options.scope === undefined ? {} : { scope: options.scope }),
        ...(options.resourceServer === undefined ? {} : { resource_server: options.resourceServer }),
      });
      expect(created).toMatchObject({ client_id: expect.any(String), client_secret: expect.any(String) });
      return created as unknown as Client;
    },
    async login(client, user, handler = token) {
      const result = await handler(
        formPost('/oauth2/token', client, {
          grant_type: 'password',
          username: user.username,
          password: user.password,
        }),
      );
      expect(result.statusCode, result.body).toBe(200);
      return expectNoStoreJson(result) as TokenBody;
    },
    refresh: (client, refreshToken, handler = token) =>
      handler(
        formPost('/oauth2/token', client, { grant_type: 'refresh_token', refresh_token: refreshToken }),
      ),
    async stop() {
      await Promise.all([proxy.stop(), backend.stop()]);
    },
  };
}
