import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
} from 'aws-lambda';
import { buildAdminLambda } from '../lambdas/handlers/admin-lambda';
import { buildAuthorizerLambda } from '../lambdas/handlers/authorizer-lambda';
import type { Environment } from '../lambdas/handlers/environment-reader';
import { buildRevocationLambda } from '../lambdas/handlers/revocation-lambda';
import { buildTokenLambda } from '../lambdas/handlers/token-lambda';
import {
  localLambdaContext,
  type RawHttpRequest,
  toAuthorizerEvent,
  toProxyEvent,
} from '../lambdas/local/api-gateway-emulation';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type AuthorizerHandler = (
  event: ReturnType<typeof toAuthorizerEvent>,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). */
export const basicAuthorization = ({ clientId, clientSecret }: ClientCredentials): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

const rawRequest = (
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): RawHttpRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  rawHeaders: Object.entries(headers).flat(),
  body: Buffer.from(body, 'utf8'),
  sourceIp: '127.0.0.1',
});

const formRequest = (path: string, form: Record<string, string>, client: ClientCredentials) =>
  rawRequest(
    'POST',
    path,
    { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuthorization(client) },
    new URLSearchParams(form).toString(),
  );

/** A proxy result's JSON body. */
export const jsonBody = (result: APIGatewayProxyResult): Record<string, unknown> =>
  JSON.parse(result.body) as Record<string, unknown>;

/** Freshly built Lambda handlers (cold: empty caches), called with the events API Gateway would send. */
export interface InProcessLambdas {
  token(form: Record<string, string>, client: ClientCredentials): Promise<APIGatewayProxyResult>;
  revoke(form: Record<string, string>, client: ClientCredentials): Promise<APIGatewayProxyResult>;
  /** Resolves to true for an Allow policy; `Unauthorized` and failures reject, as in Lambda. */
  authorize(bearerToken: string): Promise<boolean>;
  admin(payload: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/**
 * Builds each Lambda through its own composition root (`buildTokenLambda(env)` …), exactly as its
 * entry file does at cold start; nothing of the service is re-wired here.
 */
export function buildInProcessLambdas(env: Environment): InProcessLambdas {
  const token = buildTokenLambda(env) as unknown as ProxyHandler;
  const revocation = buildRevocationLambda(env) as unknown as ProxyHandler;
  const authorizer = buildAuthorizerLambda(env) as unknown as AuthorizerHandler;
  const admin = buildAdminLambda(env) as unknown as (event: unknown, context: Context) => Promise<unknown>;
  return {
    token: (form, client) =>
      token(
        toProxyEvent(formRequest('/oauth2/token', form, client), '/oauth2/token'),
        localLambdaContext('token'),
      ),
    revoke: (form, client) =>
      revocation(
        toProxyEvent(formRequest('/oauth2/revoke', form, client), '/oauth2/revoke'),
        localLambdaContext('revocation'),
      ),
    authorize: async (bearerToken) => {
      const raw = rawRequest('GET', '/me', { Authorization: `Bearer ${bearerToken}` });
      const result = await authorizer(toAuthorizerEvent(raw, '/me'), localLambdaContext('authorizer'));
      return result.policyDocument.Statement.every((s) => 'Effect' in s && s.Effect === 'Allow');
    },
    admin: async (payload) => (await admin(payload, localLambdaContext('admin'))) as Record<string, unknown>,
  };
}

/** Creates a client with every grant type through the admin function and returns its credentials. */
export async function createBenchClient(
  lambdas: Pick<InProcessLambdas, 'admin'>,
): Promise<ClientCredentials> {
  const created = await lambdas.admin({
    action: 'create-client',
    name: 'bench',
    grant_types: ['password', 'refresh_token', 'client_credentials'],
    scope: '',
  });
  if (typeof created.client_id !== 'string' || typeof created.client_secret !== 'string') {
    throw new Error(`create-client failed: ${JSON.stringify(created)}`);
  }
  return { clientId: created.client_id, clientSecret: created.client_secret };
}
