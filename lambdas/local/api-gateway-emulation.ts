import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';

/** What the local server read off the socket, before it is shaped like an API Gateway event. */
export interface RawHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

export const LOCAL_STAGE = 'local';
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_API_ID = 'local';
const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readRawRequest(
  request: IncomingMessage,
  maxBytes: number,
): Promise<RawHttpRequest | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  const url = new URL(request.url ?? '/', 'http://local');
  return {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    rawHeaders: request.rawHeaders,
    body: Buffer.concat(chunks),
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
  };
}

/** Headers as API Gateway passes them: the client's spelling, last value wins, plus every value. */
function headersOf(raw: RawHttpRequest) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
    const name = raw.rawHeaders[i] as string;
    const value = raw.rawHeaders[i + 1] as string;
    const existing = Object.keys(headers).find((key) => key.toLowerCase() === name.toLowerCase()) ?? name;
    headers[existing] = value;
    multiValueHeaders[existing] = [...(multiValueHeaders[existing] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

function queryOf(raw: RawHttpRequest) {
  if ([...raw.query.keys()].length === 0) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of raw.query) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

function requestContext(raw: RawHttpRequest, resource: string, authorizer: Record<string, unknown> | null) {
  return {
    accountId: LOCAL_ACCOUNT,
    apiId: LOCAL_API_ID,
    authorizer,
    domainName: 'localhost',
    httpMethod: raw.method,
    identity: { sourceIp: raw.sourceIp } as APIGatewayProxyEvent['requestContext']['identity'],
    // No stage in local URLs (like a custom domain's base-path mapping): the full path is the path.
    path: raw.path,
    protocol: 'HTTP/1.1',
    requestId: randomUUID(),
    requestTimeEpoch: Date.now(),
    resourceId: 'local',
    resourcePath: resource,
    stage: LOCAL_STAGE,
  } as APIGatewayProxyEvent['requestContext'];
}

/** A REST API (v1) Lambda proxy event, as API Gateway would build it for this request. */
export function toProxyEvent(
  raw: RawHttpRequest,
  resource: string,
  authorizer: Record<string, unknown> | null = null,
): APIGatewayProxyEvent {
  let body: string | null = null;
  let isBase64Encoded = false;
  if (raw.body.length > 0) {
    try {
      body = utf8.decode(raw.body);
    } catch {
      body = raw.body.toString('base64');
      isBase64Encoded = true;
    }
  }
  return {
    resource,
    path: raw.path,
    httpMethod: raw.method,
    ...headersOf(raw),
    ...queryOf(raw),
    pathParameters: null,
    stageVariables: null,
    requestContext: requestContext(raw, resource, authorizer),
    body,
    isBase64Encoded,
  };
}

/** A REQUEST-type authorizer event for this request. */
export function toAuthorizerEvent(raw: RawHttpRequest, resource: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:local:${LOCAL_ACCOUNT}:${LOCAL_API_ID}/${LOCAL_STAGE}/${raw.method}${raw.path}`,
    resource,
    path: raw.path,
    httpMethod: raw.method,
    ...headersOf(raw),
    ...queryOf(raw),
    pathParameters: null,
    stageVariables: null,
    requestContext: requestContext(raw, resource, null) as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** True when the authorizer's policy allows (our authorizer answers one statement for exactly this route). */
export function policyAllows(result: APIGatewayAuthorizerResult): boolean {
  return result.policyDocument.Statement.every(
    (statement) => 'Effect' in statement && statement.Effect === 'Allow',
  );
}

/** Enough of a Lambda context for Powertools' logger and middy. */
export function localLambdaContext(functionName: string): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 29_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function writeProxyResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  response.writeHead(result.statusCode, headers).end(body);
}
