import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
} from 'aws-lambda';
import { toEpochSeconds } from '../core/clock';
import { InsufficientScope } from '../core/oauth-errors';
import { rotateSigningKeys, type SigningKeyStore } from '../core/signing-keys';
import { buildAdminLambda } from '../handlers/admin-lambda';
import { buildAuthorizerLambda } from '../handlers/authorizer-lambda';
import type { Environment } from '../handlers/environment-reader';
import { EnvironmentReader } from '../handlers/environment-reader';
import { buildIntrospectionLambda } from '../handlers/introspection-lambda';
import { buildJwksLambda } from '../handlers/jwks-lambda';
import { buildMeLambda } from '../handlers/me-lambda';
import { buildMetadataLambda } from '../handlers/metadata-lambda';
import { buildRevocationLambda } from '../handlers/revocation-lambda';
import { readRotationPolicy } from '../handlers/signing-key-environment';
import { buildTokenLambda } from '../handlers/token-lambda';
import { AUTHORIZER_UNAVAILABLE, UNAUTHORIZED } from '../http/authorizer-handler';
import { jsonResponse, oauthErrorResponse } from '../http/http-response';
import { createDynamoDbDocumentClient } from '../store/dynamodb-client';
import { DynamoDbPublicKeyStore } from '../store/dynamodb-public-key-store';
import { FileSigningKeyStore } from '../store/file-signing-key-store';
import { InMemorySigningKeyStore } from '../store/in-memory-key-stores';
import { createTablesIfMissing } from '../store/table-definitions';
import {
  localLambdaContext,
  policyAllows,
  type RawHttpRequest,
  readRawRequest,
  toAuthorizerEvent,
  toProxyEvent,
  writeProxyResult,
} from './api-gateway-emulation';
import { buildLocalAuthorizeRoute } from './authorize-route';
import { type DemoAppClient, demoAppResponse, ensureDemoAppClient } from './demo-app';
import { DEMO_USER, type DemoAuthCheckHook, startDemoAuthCheckHook } from './demo-auth-check-hook';
import { type EmbeddedDynalite, startEmbeddedDynalite } from './embedded-dynalite';
import { localInvokeRefusal } from './local-invoke-guard';
import { localLockoutKeySecret } from './local-lockout-key-secret';

export interface LocalStackOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Keep dynalite's data on disk here; in memory when absent. */
  readonly dataDir?: string;
  /** Use this DynamoDB-compatible endpoint instead of the embedded dynalite. */
  readonly dynamodbEndpoint?: string;
  /** The deployer's HTTP AuthCheck hook; the built-in demo checker when absent. */
  readonly authCheckUrl?: string;
  readonly authCheckSecret?: string;
  /** Defaults to false: the local stack speaks plain HTTP on loopback. */
  readonly requireSsl?: boolean;
  /** Extra handler settings (ACCESS_TOKEN_TTL_SECONDS, LOG_LEVEL, …), passed as the Lambdas' environment. */
  readonly environment?: Environment;
  /** Create (or re-key) the demo client at start. Default true. */
  readonly demoClient?: boolean;
  /** Register the `/demo` app's public client and serve its page. Default true. */
  readonly demoApp?: boolean;
  /**
   * How long one request (headers and body) may take before the server answers 408, in ms.
   * Default and maximum: API Gateway's 29 s integration limit.
   */
  readonly requestTimeoutMs?: number;
}

export interface DemoClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface LocalStack {
  readonly url: string;
  readonly requireSsl: boolean;
  readonly usesDemoAuthCheck: boolean;
  readonly demoClient?: DemoClient;
  /** The `/demo` page to open in a browser, and its public client. */
  readonly demoApp?: { readonly url: string; readonly clientId: string };
  readonly dataDir?: string;
  close(): Promise<void>;
}

export const LOCAL_TABLES = Object.freeze({ clients: 'oauth2-clients', grants: 'oauth2-grants' });
export const ADMIN_FUNCTION_NAME = 'admin';
const METADATA_PATH = '/.well-known/oauth-authorization-server';
const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/.well-known/jwks.json';
/** Under DATA_DIR: the private signing keys, mode 0600 (in memory without DATA_DIR). */
export const SIGNING_KEYS_FILE = 'signing-keys.json';
const DEMO_CLIENT_NAME = 'local-demo-client';
/** Local requests are tiny; anything larger is refused before a handler sees it. */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** API Gateway gives up on an integration after 29 s; a slow client gets no longer here. */
export const LOCAL_REQUEST_TIMEOUT_MS = 29_000;
/** Incomplete request headers are dropped sooner: nothing legitimate sends them slowly. */
export const LOCAL_HEADERS_TIMEOUT_MS = 10_000;

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * Runs the deployed paths on one HTTP server, translating each request into the API Gateway
 * event the Lambda would get and calling the same handler builders the Lambdas use.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const requireSsl = options.requireSsl ?? false;
  const stoppers: Array<() => Promise<void>> = [];
  try {
    let endpoint = options.dynamodbEndpoint;
    if (endpoint === undefined) {
      const dynalite: EmbeddedDynalite = await startEmbeddedDynalite(
        options.dataDir === undefined ? {} : { path: options.dataDir },
      );
      stoppers.push(dynalite.stop);
      endpoint = dynalite.endpoint;
    }
    const { client } = createDynamoDbDocumentClient({ endpoint });
    await createTablesIfMissing(client, LOCAL_TABLES);
    client.destroy();

    let authCheckUrl = options.authCheckUrl;
    let authCheckSecret = options.authCheckSecret;
    if (authCheckUrl === undefined) {
      authCheckSecret = randomBytes(32).toString('base64url');
      const hook: DemoAuthCheckHook = await startDemoAuthCheckHook(authCheckSecret);
      stoppers.push(hook.stop);
      authCheckUrl = hook.url;
    }

    let route: (raw: RawHttpRequest) => Promise<APIGatewayProxyResult> = async () =>
      jsonResponse(503, { error: 'temporarily_unavailable', error_description: 'starting' });
    const requestTimeout = Math.min(
      options.requestTimeoutMs ?? LOCAL_REQUEST_TIMEOUT_MS,
      LOCAL_REQUEST_TIMEOUT_MS,
    );
    // Listening before the handlers are built: the issuer (every JWT's iss) needs the port. Until
    // `route` is set below, a request gets 503 temporarily_unavailable.
    const server = createServer(
      {
        requestTimeout,
        headersTimeout: Math.min(LOCAL_HEADERS_TIMEOUT_MS, requestTimeout),
        // Node checks both timeouts only this often (30 s by default, which would double them).
        connectionsCheckingInterval: Math.min(1_000, requestTimeout),
      },
      (request, response) => {
        void serve(request, response, route);
      },
    );
    await listen(server, options.host ?? '127.0.0.1', options.port ?? 3000);
    stoppers.unshift(() => close(server));
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    const env: Environment = {
      LOG_LEVEL: 'WARN',
      // Generated (or kept under DATA_DIR) unless the caller passes its own.
      ...(options.environment?.LOCKOUT_KEY_SECRET === undefined &&
      options.environment?.LOCKOUT_KEY_SECRET_ARN === undefined
        ? { LOCKOUT_KEY_SECRET: await localLockoutKeySecret(options.dataDir) }
        : {}),
      // As deployed: past the local token handler's 29 s deadline (see DISABLE_CLIENT_SECOND_SWEEP_SECONDS).
      DISABLE_CLIENT_SECOND_SWEEP_SECONDS: '30',
      ...options.environment,
      CLIENTS_TABLE: LOCAL_TABLES.clients,
      GRANTS_TABLE: LOCAL_TABLES.grants,
      DYNAMODB_ENDPOINT: endpoint,
      REQUIRE_SSL: String(requireSsl),
      AUTH_CHECK_URL: authCheckUrl,
      AUTH_CHECK_SECRET: authCheckSecret,
      // The metadata's issuer and every JWT's iss: from the configured host and port, never from Host.
      ISSUER:
        options.environment?.ISSUER ?? localIssuer(options.host ?? '127.0.0.1', address.port, requireSsl),
    };
    // The private signing keys: a 0600 file under DATA_DIR, else in memory. The first key is made
    // here, at start (no AWS needed), before any token can be asked for.
    const signingKeys: SigningKeyStore =
      options.dataDir === undefined
        ? new InMemorySigningKeyStore()
        : new FileSigningKeyStore(join(options.dataDir, SIGNING_KEYS_FILE));
    const keysClient = createDynamoDbDocumentClient({ endpoint });
    try {
      await rotateSigningKeys(
        {
          signingKeys,
          publicKeys: new DynamoDbPublicKeyStore(keysClient.doc, LOCAL_TABLES.grants),
          random: randomBytes,
        },
        readRotationPolicy(new EnvironmentReader(env)),
        toEpochSeconds(Date.now()),
        { force: false },
      );
    } finally {
      keysClient.client.destroy();
    }
    const token = buildTokenLambda(env, { signingKeys }) as unknown as ProxyHandler;
    const revocation = buildRevocationLambda(env) as unknown as ProxyHandler;
    const introspection = buildIntrospectionLambda(env) as unknown as ProxyHandler;
    const me = buildMeLambda(env) as unknown as ProxyHandler;
    const metadata = buildMetadataLambda(env) as unknown as ProxyHandler;
    const jwks = buildJwksLambda(env) as unknown as ProxyHandler;
    const authorizer = buildAuthorizerLambda(env) as unknown as (
      event: ReturnType<typeof toAuthorizerEvent>,
      context: Context,
    ) => Promise<APIGatewayAuthorizerResult>;
    const admin = buildAdminLambda(env, { signingKeys }) as unknown as (
      event: unknown,
      context: Context,
    ) => Promise<unknown>;
    // Its RFC 9207 `iss` is the metadata's issuer (env's ISSUER, set once the port was known).
    const authorizeRoute = buildLocalAuthorizeRoute(env);

    const demoClient = options.demoClient === false ? undefined : await ensureDemoClient(admin);
    // `Event` invocations run after their 202; close() waits for them so nothing is cut half-written.
    const background = new Set<Promise<unknown>>();
    stoppers.unshift(async () => {
      await Promise.allSettled([...background]);
    });

    let demoApp: DemoAppClient | undefined; // registered below, once the handlers exist
    const demoUser = options.authCheckUrl === undefined ? DEMO_USER : undefined;
    route = async (raw: RawHttpRequest): Promise<APIGatewayProxyResult> => {
      const authorized = authorizeRoute(raw);
      if (authorized !== undefined) return authorized;
      const demoPage = demoApp && demoAppResponse(raw, { ...demoApp, ...(demoUser && { demoUser }) });
      if (demoPage !== undefined) return demoPage;
      if (raw.path === '/oauth2/token')
        return token(toProxyEvent(raw, '/oauth2/token'), localLambdaContext('token'));
      if (raw.path === '/oauth2/revoke')
        return revocation(toProxyEvent(raw, '/oauth2/revoke'), localLambdaContext('revocation'));
      if (raw.path === '/oauth2/introspect')
        return introspection(toProxyEvent(raw, '/oauth2/introspect'), localLambdaContext('introspection'));
      if (raw.path === METADATA_PATH || raw.path === OPENID_CONFIGURATION_PATH)
        return metadata(toProxyEvent(raw, raw.path), localLambdaContext('metadata'));
      if (raw.path === JWKS_PATH) return jwks(toProxyEvent(raw, JWKS_PATH), localLambdaContext('jwks'));
      if (raw.path === '/me') {
        if (raw.method !== 'GET') return jsonResponse(405, methodNotAllowed, { Allow: 'GET' });
        return authorize(raw, authorizer, (context) =>
          me(toProxyEvent(raw, '/me', context), localLambdaContext('me')),
        );
      }
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(raw.path);
      if (invoke !== null)
        return invokeAdmin(raw, decodeURIComponent(invoke[1] as string), admin, (run) => {
          background.add(run);
          void run.finally(() => background.delete(run));
        });
      return jsonResponse(404, { message: 'Not Found' });
    };

    if (options.demoApp !== false) demoApp = await ensureDemoAppClient(admin, url);
    return {
      url,
      requireSsl,
      usesDemoAuthCheck: options.authCheckUrl === undefined,
      ...(demoClient === undefined ? {} : { demoClient }),
      ...(demoApp && {
        demoApp: { url: new URL('/demo', demoApp.redirectUris[0]).href, clientId: demoApp.clientId },
      }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      close: () => stopAll(stoppers),
    };
  } catch (error) {
    await stopAll(stoppers);
    throw error;
  }
}

/**
 * The local issuer: the configured host and the listening port, https when REQUIRE_SSL says a TLS
 * proxy sits in front. An `ISSUER` in `options.environment` overrides it.
 */
export function localIssuer(host: string, port: number, requireSsl: boolean): string {
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${requireSsl ? 'https' : 'http'}://${name}:${port}`;
}

const methodNotAllowed = { error: 'invalid_request', error_description: 'This resource only supports GET' };

/**
 * API Gateway's part of the authorizer contract: 401 for `Unauthorized`, and for any other failure
 * the stack's AUTHORIZER_FAILURE gateway response (503), never the route's handler.
 */
async function authorize(
  raw: RawHttpRequest,
  authorizer: (
    event: ReturnType<typeof toAuthorizerEvent>,
    context: Context,
  ) => Promise<APIGatewayAuthorizerResult>,
  next: (context: Record<string, unknown>) => Promise<APIGatewayProxyResult>,
): Promise<APIGatewayProxyResult> {
  let result: APIGatewayAuthorizerResult;
  try {
    result = await authorizer(toAuthorizerEvent(raw, raw.path), localLambdaContext('authorizer'));
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message === UNAUTHORIZED) return unauthorizedGatewayResponse();
    return jsonResponse(503, {
      error: message === AUTHORIZER_UNAVAILABLE ? AUTHORIZER_UNAVAILABLE : 'temporarily_unavailable',
      error_description: 'The service is temporarily unavailable, retry later',
    });
  }
  if (!policyAllows(result)) return accessDeniedGatewayResponse();
  return next({ ...result.context, principalId: result.principalId });
}

/** RFC 6750 §3: the challenge the deployed stack's UNAUTHORIZED gateway response also sends. */
export function unauthorizedGatewayResponse(): APIGatewayProxyResult {
  return jsonResponse(
    401,
    { error: 'invalid_token', error_description: 'The access token is missing, invalid, expired or revoked' },
    { 'WWW-Authenticate': 'Bearer realm="oauth2", error="invalid_token"' },
  );
}

/**
 * RFC 6750 §3.1: the stack's ACCESS_DENIED gateway response, sent when the authorizer answers a Deny
 * because the token misses the route's requirements.
 */
export function accessDeniedGatewayResponse(): APIGatewayProxyResult {
  return oauthErrorResponse(new InsufficientScope({ realm: 'oauth2' }));
}

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const;

/**
 * The Lambda Invoke API (`aws lambda invoke --endpoint-url`), for the admin function only, and only
 * for callers that pass `localInvokeRefusal` (never a web page). `X-Amz-Invocation-Type` as Lambda
 * has it: `RequestResponse` (default) answers the result, `Event` answers 202 and runs it after,
 * `DryRun` answers 204 and runs nothing.
 */
async function invokeAdmin(
  raw: RawHttpRequest,
  functionName: string,
  admin: (event: unknown, context: Context) => Promise<unknown>,
  runInBackground: (run: Promise<unknown>) => void,
): Promise<APIGatewayProxyResult> {
  const refusal = localInvokeRefusal(raw.rawHeaders);
  if (refusal !== undefined) return lambdaError(refusal.status, refusal.type, refusal.message);
  // A name, `name:qualifier`, or an ARN `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]`.
  const name =
    (functionName.startsWith('arn:') ? functionName.split(':')[6] : functionName.split(':')[0]) ?? '';
  if (raw.method !== 'POST') return jsonResponse(405, { message: 'Method Not Allowed' }, { Allow: 'POST' });
  const invocationType = invocationTypeOf(raw.rawHeaders);
  if (!(INVOCATION_TYPES as readonly string[]).includes(invocationType)) {
    return lambdaError(
      400,
      'InvalidParameterValueException',
      `X-Amz-Invocation-Type must be one of ${INVOCATION_TYPES.join(', ')}`,
    );
  }
  if (name !== ADMIN_FUNCTION_NAME) {
    return lambdaError(
      404,
      'ResourceNotFoundException',
      `Function not found: ${ADMIN_FUNCTION_NAME} is the only local function`,
    );
  }
  let payload: unknown;
  try {
    payload = raw.body.length === 0 ? {} : JSON.parse(raw.body.toString('utf8'));
  } catch {
    return lambdaError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
  }
  if (invocationType === 'DryRun') return { statusCode: 204, headers: {}, body: '' };
  if (invocationType === 'Event') {
    // Lambda queues the event and answers at once; its result and errors go to the logs only.
    runInBackground(admin(payload, localLambdaContext(ADMIN_FUNCTION_NAME)).catch(() => undefined));
    return { statusCode: 202, headers: {}, body: '' };
  }
  try {
    const result = await admin(payload, localLambdaContext(ADMIN_FUNCTION_NAME));
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST' },
      body: JSON.stringify(result),
    };
  } catch (error) {
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'X-Amz-Function-Error': 'Unhandled' },
      body: JSON.stringify({
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: 'admin function failed',
      }),
    };
  }
}

function invocationTypeOf(rawHeaders: readonly string[]): string {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'x-amz-invocation-type')
      return rawHeaders[i + 1] as string;
  }
  return 'RequestResponse';
}

const lambdaError = (status: number, type: string, message: string): APIGatewayProxyResult => ({
  statusCode: status,
  headers: { 'Content-Type': 'application/json', 'X-Amzn-ErrorType': type },
  body: JSON.stringify({ Type: 'User', message }),
});

/** Creates the demo client once, or re-keys it when the data outlived a restart (only hashes are kept). */
async function ensureDemoClient(
  admin: (event: unknown, context: Context) => Promise<unknown>,
): Promise<DemoClient> {
  const listed = (await admin({ action: 'list-clients' }, localLambdaContext(ADMIN_FUNCTION_NAME))) as {
    clients?: Array<{ client_id: string; name: string; disabled: boolean }>;
  };
  const existing = listed.clients?.find((client) => client.name === DEMO_CLIENT_NAME && !client.disabled);
  const result = (await admin(
    existing === undefined
      ? {
          action: 'create-client',
          name: DEMO_CLIENT_NAME,
          grant_types: ['password', 'refresh_token', 'client_credentials'],
          scope: 'profile email',
        }
      : { action: 'rotate-secret', client_id: existing.client_id },
    localLambdaContext(ADMIN_FUNCTION_NAME),
  )) as { client_id?: string; client_secret?: string; error?: string };
  if (result.client_id === undefined || result.client_secret === undefined) {
    throw new Error(`could not create the demo client: ${result.error ?? 'unknown error'}`);
  }
  return { clientId: result.client_id, clientSecret: result.client_secret };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  route: (raw: RawHttpRequest) => Promise<APIGatewayProxyResult>,
): Promise<void> {
  try {
    const raw = await readRawRequest(request, MAX_REQUEST_BYTES);
    if (raw === 'too-large') {
      writeProxyResult(
        response,
        jsonResponse(413, { error: 'invalid_request', error_description: 'The request body is too large' }),
      );
      return;
    }
    writeProxyResult(response, await route(raw));
  } catch {
    // Handlers answer their own errors; reaching here means the socket or the emulation failed.
    if (!response.headersSent) {
      writeProxyResult(
        response,
        jsonResponse(500, { error: 'server_error', error_description: 'Internal server error' }),
      );
    } else {
      response.destroy();
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function stopAll(stoppers: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stoppers.splice(0)) {
    await stop().catch(() => {});
  }
}

export { DEMO_USER };
