import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OAuth2Server from '@node-oauth/oauth2-server';
import { createSdkDocumentClient } from './create-sdk-document-client';
import type { DynamoDbCallCounter } from './dynamodb-call-counter';
import type { ClientCredentials } from './in-process-lambdas';
import {
  createPeerDynamoDbModel,
  createPeerTables,
  type PeerHook,
  registerPeerClient,
} from './peer-dynamodb-model';

const { Request, Response } = OAuth2Server;
const MAX_BODY_BYTES = 1024 * 1024;

export interface PeerServer {
  readonly url: string;
  readonly client: ClientCredentials;
  close(): Promise<void>;
}

/**
 * The peer: `@node-oauth/oauth2-server` behind a plain `node:http` server, `POST /oauth2/token`
 * (password and refresh_token grants, client authentication by Basic) and `GET /me` (bearer check
 * by `authenticate`), with its DynamoDB model on the given endpoint. Its SDK client has our client
 * settings (same keep-alive agent, timeouts and retries), under `lib-dynamodb`'s own document client.
 */
export async function startPeerServer(options: {
  readonly dynamodbEndpoint: string;
  readonly hook: PeerHook;
  readonly counter?: DynamoDbCallCounter;
  readonly host?: string;
  readonly port?: number;
}): Promise<PeerServer> {
  const { client: dynamodb, doc } = createSdkDocumentClient({ endpoint: options.dynamodbEndpoint });
  await createPeerTables(dynamodb);
  const client = {
    clientId: `peer-${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(32).toString('base64url'),
  };
  await registerPeerClient(doc, client.clientId, client.clientSecret);
  options.counter?.addTo(dynamodb);

  const oauth = new OAuth2Server({
    model: createPeerDynamoDbModel(doc, options.hook),
    accessTokenLifetime: 3600,
    refreshTokenLifetime: 30 * 24 * 3600,
    alwaysIssueNewRefreshToken: true,
  });

  const server = createServer((request, response) => {
    serve(oauth, request, response).catch(() => {
      if (!response.headersSent) send(response, 500, { error: 'server_error' });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    client,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        dynamodb.destroy();
      }),
  };
}

async function serve(oauth: OAuth2Server, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://peer').pathname;
  const body = await readBody(request);
  if (body === undefined) return send(response, 413, { error: 'invalid_request' });
  const oauthRequest = new Request({
    method: request.method ?? 'GET',
    headers: request.headers as Record<string, string>,
    query: {},
    body: Object.fromEntries(new URLSearchParams(body)),
  });
  const oauthResponse = new Response({ headers: {} });
  try {
    if (path === '/oauth2/token' && request.method === 'POST') {
      await oauth.token(oauthRequest, oauthResponse);
      return send(response, oauthResponse.status ?? 200, oauthResponse.body, oauthResponse.headers);
    }
    if (path === '/me' && request.method === 'GET') {
      const token = await oauth.authenticate(oauthRequest, oauthResponse);
      return send(response, 200, {
        user_id: token.user.id,
        client_id: token.client.id,
        scope: token.scope?.join(' ') ?? '',
      });
    }
    return send(response, 404, { error: 'not_found' });
  } catch (error) {
    const failure = error as { code?: unknown; name?: unknown; message?: unknown };
    const status = typeof failure.code === 'number' ? failure.code : 500;
    return send(
      response,
      status,
      { error: String(failure.name ?? 'server_error'), error_description: String(failure.message ?? '') },
      oauthResponse.headers,
    );
  }
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));
}
