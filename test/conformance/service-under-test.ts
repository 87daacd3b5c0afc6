import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DEMO_USER } from '../../lambdas/local/demo-auth-check-hook';
import { LOCAL_TABLES, type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { createDynamoDbDocumentClient } from '../../lambdas/store/dynamodb-client';
import { startDynalite } from '../support/dynalite-server';
import { invokeLocalAdmin } from '../support/local-admin-invoke';

/**
 * The conformance suite talks to the service the way a client does: HTTP to the local stack (the
 * Lambda handlers behind an API Gateway emulation, dynalite, the demo AuthCheck), with the TLS
 * check on and `X-Forwarded-Proto: https` standing in for API Gateway's TLS termination.
 */
export interface RegisteredClient {
  readonly client_id: string;
  readonly client_secret: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

export const USER = DEMO_USER;
export const FORM = 'application/x-www-form-urlencoded';

export const basic = (
  id: string,
  secret: string,
  encode: (value: string) => string = encodeURIComponent,
): string => `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;

export const basicOf = (client: RegisteredClient): string => basic(client.client_id, client.client_secret);

export interface ServiceUnderTest {
  readonly url: string;
  /** Raw HTTP: `X-Forwarded-Proto: https` unless the caller sets it. */
  request(
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<HttpAnswer>;
  /** A form POST; `form` may repeat names when given as pairs. */
  post(
    path: string,
    form: Record<string, string> | ReadonlyArray<readonly [string, string]>,
    headers?: Record<string, string>,
  ): Promise<HttpAnswer>;
  /** Runs the admin function (Lambda Invoke API) and answers its JSON. */
  admin(payload: Record<string, unknown>): Promise<Record<string, unknown>>;
  createClient(options: {
    grant_types: readonly string[];
    scope?: string;
    default_scope?: string;
    resource_server?: boolean;
    redirect_uris?: readonly string[];
  }): Promise<RegisteredClient>;
  /** A password grant for the demo user; fails the test unless it answers 200. */
  passwordTokens(client: RegisteredClient, extra?: Record<string, string>): Promise<Record<string, unknown>>;
  me(authorization?: string): Promise<HttpAnswer>;
  /** Everything stored in both tables, as a database dump would show it. */
  dumpStore(): Promise<string>;
  close(): Promise<void>;
}

async function answerOf(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      json = parsed as Record<string, unknown>;
    }
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

let clientCount = 0;

/** `environment` adds handler settings (e.g. `AUTHORIZATION_CODE_TTL_SECONDS`) to the stack's. */
export async function startServiceUnderTest(
  environment: Readonly<Record<string, string>> = {},
): Promise<ServiceUnderTest> {
  const dynalite = await startDynalite();
  const dynamo = createDynamoDbDocumentClient({ endpoint: dynalite.endpoint });
  const stack: LocalStack = await startLocalStack({
    port: 0,
    dynamodbEndpoint: dynalite.endpoint,
    requireSsl: true,
    demoClient: false,
    environment: { LOG_LEVEL: 'SILENT', ...environment },
  });
  const request: ServiceUnderTest['request'] = async (path, init = {}) =>
    answerOf(
      await fetch(`${stack.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { 'X-Forwarded-Proto': 'https', ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
      }),
    );
  const post: ServiceUnderTest['post'] = (path, form, headers = {}) =>
    request(path, {
      method: 'POST',
      headers: { 'Content-Type': FORM, ...headers },
      body: new URLSearchParams(form as Record<string, string>).toString(),
    });
  const admin: ServiceUnderTest['admin'] = async (payload) => {
    const response = await invokeLocalAdmin(stack.url, payload);
    return (await response.json()) as Record<string, unknown>;
  };
  const service: ServiceUnderTest = {
    url: stack.url,
    request,
    post,
    admin,
    async createClient(options) {
      clientCount += 1;
      const created = await admin({
        action: 'create-client',
        name: `conformance-${clientCount}`,
        ...options,
      });
      if (typeof created.client_secret !== 'string') {
        throw new Error(`create-client failed: ${JSON.stringify(created)}`);
      }
      return created as unknown as RegisteredClient;
    },
    async passwordTokens(client, extra = {}) {
      const answer = await post(
        '/oauth2/token',
        { grant_type: 'password', username: USER.username, password: USER.password, ...extra },
        { Authorization: basicOf(client) },
      );
      if (answer.status !== 200 || answer.json === undefined) {
        throw new Error(`password grant failed: ${answer.status} ${answer.text}`);
      }
      return answer.json;
    },
    me: (authorization) =>
      request('/me', authorization === undefined ? {} : { headers: { Authorization: authorization } }),
    async dumpStore() {
      const pages = await Promise.all(
        [LOCAL_TABLES.clients, LOCAL_TABLES.grants].map((TableName) =>
          dynamo.doc.send(new ScanCommand({ TableName, ConsistentRead: true })),
        ),
      );
      return JSON.stringify(pages.map((page) => page.Items ?? []));
    },
    async close() {
      await stack.close();
      dynamo.client.destroy();
      await dynalite.stop();
    },
  };
  return service;
}
