import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  INVALID_SIGNATURE_ANSWER,
  SIGNATURE_HEADERS,
  verifyAuthCheckRequest,
} from '../auth-check/auth-check-signature';

/** DEMO ONLY: the one user the local stack's built-in checker knows. Never deploy this. */
export const DEMO_USER = Object.freeze({ username: 'demo', password: 'demo-password', userId: 1234 });

export interface DemoAuthCheckHook {
  readonly url: string;
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

/**
 * A loopback AuthCheck hook with one demo user, speaking exactly the public hook contract
 * (signed JSON in, `{"user_id"}` out), so the local token handler is wired as in production. It
 * verifies with the reference verifier and accepts any of `secrets` (a rotation holds two).
 */
export async function startDemoAuthCheckHook(
  secrets: string | readonly string[],
): Promise<DemoAuthCheckHook> {
  const accepted = typeof secrets === 'string' ? [secrets] : [...secrets];
  const server = createServer((request, response) => {
    void answer(request, response, accepted);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/auth-check`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  secrets: readonly string[],
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return reply(response, 413, { error: 'too large' });
    chunks.push(chunk as Buffer);
  }
  const rawBody = Buffer.concat(chunks).toString('utf8');
  const signed = verifyAuthCheckRequest({
    secrets,
    timestampHeader: header(request, SIGNATURE_HEADERS.timestamp),
    signatureHeader: header(request, SIGNATURE_HEADERS.signature),
    rawBody,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  // The protocol's "signature not accepted": the service answers 503 and counts no failed password.
  if (!signed) {
    response
      .writeHead(INVALID_SIGNATURE_ANSWER.status, { 'Content-Type': INVALID_SIGNATURE_ANSWER.contentType })
      .end(INVALID_SIGNATURE_ANSWER.body);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return reply(response, 400, { error: 'bad json' });
  }
  const { username, password } = (body ?? {}) as Record<string, unknown>;
  const valid = username === DEMO_USER.username && password === DEMO_USER.password;
  reply(response, 200, { user_id: valid ? DEMO_USER.userId : null });
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
