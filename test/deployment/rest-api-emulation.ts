import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult } from 'aws-lambda';
import {
  policyAllows,
  type RawHttpRequest,
  readRawRequest,
  toAuthorizerEvent,
  toProxyEvent,
  writeProxyResult,
} from '../../lambdas/local/api-gateway-emulation';
import type { ApiModel, DeploymentModel, GatewayResponseModel, RouteModel } from './deployment-model';
import type { InvocationResult } from './lambda-runtime';

/** API Gateway's own answers when nothing in the template overrides them. */
const GATEWAY_DEFAULTS: Record<string, { status: number; message: string | null; family: '4XX' | '5XX' }> = {
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: 'Missing Authentication Token', family: '4XX' },
  UNAUTHORIZED: { status: 401, message: 'Unauthorized', family: '4XX' },
  ACCESS_DENIED: { status: 403, message: 'User is not authorized to access this resource', family: '4XX' },
  AUTHORIZER_FAILURE: { status: 500, message: null, family: '5XX' },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: null, family: '5XX' },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request Too Long', family: '4XX' },
  INTEGRATION_FAILURE: { status: 502, message: 'Internal server error', family: '5XX' },
  DEFAULT_5XX: { status: 502, message: 'Internal server error', family: '5XX' },
  NOT_EMULATED: { status: 501, message: 'Integration type not emulated', family: '5XX' },
};

/** One request the emulated API served: which template route, and what it answered. */
export interface ServedRequest {
  readonly route: RouteModel | undefined;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface RestApiEmulation {
  /** `http://127.0.0.1:<port>`: stands for the API's published base URL. */
  readonly url: string;
  readonly served: ServedRequest[];
  /** Function failures behind the answers (errors thrown, malformed proxy results). */
  readonly problems: string[];
  stop(): Promise<void>;
}

type Invoke = (functionLogicalId: string, event: unknown) => Promise<InvocationResult>;

/**
 * A thin API Gateway (REST, v1) over the template's own `AWS::ApiGateway::Resource`/`Method`s:
 * routing by resource path (`{param}`, `{proxy+}`) and method (or `ANY`), REQUEST/TOKEN Lambda
 * authorizers with their identity sources, `AWS_PROXY` integrations, and the template's gateway
 * responses. Events are built by the local stack's translation (`api-gateway-emulation.ts`), then
 * given the stage, host and headers API Gateway adds (TLS is terminated there: `X-Forwarded-Proto: https`).
 * Not emulated: the authorizer result cache, throttling, WAF, resource policies, request validation.
 */
export async function startRestApiEmulation(
  model: DeploymentModel,
  invoke: Invoke,
): Promise<RestApiEmulation> {
  const api = model.api;
  if (api === undefined) throw new Error('the template has no AWS::ApiGateway::RestApi');
  const served: ServedRequest[] = [];
  const problems: string[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const raw = await readRawRequest(request, 10 * 1024 * 1024);
      if (raw === 'too-large') return writeProxyResult(response, gatewayResponse(model, 'REQUEST_TOO_LARGE'));
      const edge = atTheEdge(raw, api);
      const { route, pathParameters } = match(model.routes, edge.method, edge.path);
      const result = await serve(model, api, edge, route, pathParameters, invoke, problems);
      served.push({ route, method: edge.method, path: edge.path, status: result.statusCode });
      writeProxyResult(response, result);
    })().catch((error: unknown) => {
      problems.push(`emulation error: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) writeProxyResult(response, gatewayResponse(model, 'DEFAULT_5XX'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    problems,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The request as it leaves API Gateway's edge: its Host, and the forwarding headers it adds. */
function atTheEdge(raw: RawHttpRequest, api: ApiModel): RawHttpRequest {
  const headers: string[] = [];
  for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
    const name = (raw.rawHeaders[i] as string).toLowerCase();
    if (['host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-for'].includes(name)) continue;
    headers.push(raw.rawHeaders[i] as string, raw.rawHeaders[i + 1] as string);
  }
  headers.push(
    'Host',
    api.host,
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Port',
    '443',
    'X-Forwarded-For',
    raw.sourceIp,
  );
  return { ...raw, rawHeaders: headers };
}

function match(routes: readonly RouteModel[], method: string, path: string) {
  const segments = path.split('/').filter((segment) => segment !== '');
  const candidates = routes
    .map((route) => ({ route, pathParameters: matchPath(route.path, segments) }))
    .filter((candidate) => candidate.pathParameters !== undefined);
  // API Gateway prefers literal segments over `{param}` over `{proxy+}`: the fewest braces win.
  candidates.sort((a, b) => braces(a.route.path) - braces(b.route.path));
  const resourcePath = candidates[0]?.route.path;
  const onResource = candidates.filter((candidate) => candidate.route.path === resourcePath);
  const found =
    onResource.find((candidate) => candidate.route.method === method) ??
    onResource.find((candidate) => candidate.route.method === 'ANY');
  return { route: found?.route, pathParameters: found?.pathParameters ?? null };
}

const braces = (path: string) => (path.match(/\{/g) ?? []).length * 10 + (path.includes('+}') ? 100 : 0);

function matchPath(template: string, segments: string[]): Record<string, string> | null | undefined {
  const parts = template.split('/').filter((segment) => segment !== '');
  const parameters: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] as string;
    const greedy = /^\{(.+)\+\}$/.exec(part);
    if (greedy !== null) {
      if (i >= segments.length) return undefined;
      parameters[greedy[1] as string] = segments.slice(i).map(decodeURIComponent).join('/');
      return parameters;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    const parameter = /^\{(.+)\}$/.exec(part);
    if (parameter !== null) parameters[parameter[1] as string] = decodeURIComponent(segment);
    else if (part !== segment) return undefined;
  }
  if (parts.length !== segments.length) return undefined;
  return Object.keys(parameters).length === 0 ? null : parameters;
}

/** The template's gateway response of this type (or its DEFAULT_4XX/5XX), else API Gateway's default. */
export function gatewayResponse(model: DeploymentModel, type: string): APIGatewayProxyResult {
  const fallback = GATEWAY_DEFAULTS[type] ?? { status: 502, message: 'Internal server error', family: '5XX' };
  const family = fallback.family;
  const own: GatewayResponseModel | undefined = model.gatewayResponses[type];
  const generic: GatewayResponseModel | undefined = model.gatewayResponses[`DEFAULT_${family}`];
  const status = own?.statusCode ?? fallback.status;
  const message = fallback.message;
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/json', ...generic?.headers, ...own?.headers },
    body: own?.body ?? generic?.body ?? JSON.stringify({ message }),
  };
}

async function serve(
  model: DeploymentModel,
  api: ApiModel,
  raw: RawHttpRequest,
  route: RouteModel | undefined,
  pathParameters: Record<string, string> | null,
  invoke: Invoke,
  problems: string[],
): Promise<APIGatewayProxyResult> {
  if (route === undefined) return gatewayResponse(model, 'MISSING_AUTHENTICATION_TOKEN');
  const stagePrefix = api.customDomain === undefined ? `/${api.stageName}` : '';
  const shape = <T extends { requestContext: object }>(event: T): T => ({
    ...event,
    pathParameters,
    stageVariables: api.stageVariables,
    requestContext: {
      ...event.requestContext,
      accountId: model.location.account,
      apiId: api.id,
      domainName: api.host,
      stage: api.stageName,
      path: `${stagePrefix}${raw.path}`,
      resourceId: route.logicalId,
    },
  });

  let authorizerContext: Record<string, unknown> | null = null;
  if (route.authorizationType === 'CUSTOM') {
    const authorizer = route.authorizer;
    if (authorizer?.functionLogicalId === undefined)
      return gatewayResponse(model, 'AUTHORIZER_CONFIGURATION_ERROR');
    // With caching on, API Gateway refuses a request missing an identity source without calling the authorizer.
    const missing = authorizer.identitySources.some((source) => identityValue(raw, source) === undefined);
    if (missing && (authorizer.resultTtlSeconds > 0 || authorizer.type === 'TOKEN'))
      return gatewayResponse(model, 'UNAUTHORIZED');
    const methodArn = `arn:aws:execute-api:${model.location.region}:${model.location.account}:${api.id}/${api.stageName}/${raw.method}${raw.path}`;
    const event =
      authorizer.type === 'TOKEN'
        ? {
            type: 'TOKEN',
            methodArn,
            authorizationToken: identityValue(raw, authorizer.identitySources[0] ?? ''),
          }
        : { ...shape(toAuthorizerEvent(raw, route.path)), methodArn };
    const outcome = await invoke(authorizer.functionLogicalId, event);
    if (outcome.error !== undefined) {
      if (outcome.error.errorMessage === 'Unauthorized') return gatewayResponse(model, 'UNAUTHORIZED');
      problems.push(
        `authorizer ${authorizer.functionLogicalId}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
      );
      return gatewayResponse(model, 'AUTHORIZER_FAILURE');
    }
    const result = outcome.result as APIGatewayAuthorizerResult | undefined;
    if (result?.policyDocument === undefined || typeof result.principalId !== 'string') {
      problems.push(`authorizer ${authorizer.functionLogicalId} returned no principalId/policyDocument`);
      return gatewayResponse(model, 'AUTHORIZER_CONFIGURATION_ERROR');
    }
    if (!policyAllows(result)) return gatewayResponse(model, 'ACCESS_DENIED');
    authorizerContext = { ...result.context, principalId: result.principalId };
  }

  if (route.integrationType !== 'AWS_PROXY' || route.functionLogicalId === undefined) {
    problems.push(`${route.method} ${route.path}: integration ${route.integrationType} is not emulated`);
    return gatewayResponse(model, 'NOT_EMULATED');
  }
  const outcome = await invoke(
    route.functionLogicalId,
    shape(toProxyEvent(raw, route.path, authorizerContext)),
  );
  if (outcome.error !== undefined) {
    problems.push(`${route.functionLogicalId}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    return gatewayResponse(model, 'DEFAULT_5XX');
  }
  const result = outcome.result as APIGatewayProxyResult | undefined;
  if (result === undefined || result === null || typeof result.statusCode !== 'number') {
    problems.push(
      `${route.functionLogicalId}: malformed Lambda proxy response ${JSON.stringify(result)?.slice(0, 200)}`,
    );
    return gatewayResponse(model, 'DEFAULT_5XX');
  }
  return result;
}

/** `method.request.header.X` / `method.request.querystring.x` of this request. */
function identityValue(raw: RawHttpRequest, source: string): string | undefined {
  const header = /^method\.request\.header\.(.+)$/i.exec(source)?.[1];
  if (header !== undefined) {
    for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
      if ((raw.rawHeaders[i] as string).toLowerCase() === header.toLowerCase()) return raw.rawHeaders[i + 1];
    }
    return undefined;
  }
  const query = /^method\.request\.querystring\.(.+)$/i.exec(source)?.[1];
  if (query !== undefined) return raw.query.get(query) ?? undefined;
  return undefined;
}
