import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyAuthCheckSignature } from '../../lambdas/auth-check/auth-check-signature';

/** One request the hook received, as the deployer's hook would see it. */
export interface HookRequest {
  readonly username: unknown;
  readonly password: unknown;
  readonly clientId: unknown;
  /** True when `X-OAuth2-Signature` verified under the hook's secret. */
  readonly signed: boolean;
}

/** How the hook answers one request. */
export type HookAnswer =
  /** `status` (default 200) with `body` as JSON. */
  | { readonly json: unknown; readonly status?: number }
  /** `status` with `text` as the body, verbatim. */
  | { readonly text: string; readonly status: number; readonly contentType?: string }
  /** Waits `delayMs` before giving `answer`; the connection stays open meanwhile. */
  | { readonly delayMs: number; readonly answer: HookAnswer }
  /** Drops the connection without an answer. */
  | { readonly hangUp: true };

export interface HookUser {
  readonly password: string;
  /** Answered with its JSON type: `1234` stays a number, `"u-1"` a string. */
  readonly userId: string | number;
}

export interface AuthCheckHookServer {
  /** `http://127.0.0.1:<port>/auth-check`. */
  readonly url: string;
  readonly secret: string;
  /** Every request received since start (or since `reset`). */
  readonly requests: HookRequest[];
  /** Replaces the users answer; `undefined` goes back to checking the users. */
  answerWith(answer: ((request: HookRequest) => HookAnswer) | HookAnswer | undefined): void;
  /** Clears the recorded requests and any `answerWith` override. */
  reset(): void;
  stop(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/**
 * A loopback AuthCheck hook speaking the public hook contract (signed JSON in, `{"user_id"}` out).
 * By default it checks `users` and answers `{"user_id": id}` or `{"user_id": null}`; unsigned or
 * badly signed requests get 400. `answerWith` scripts other behaviour: 500s, malformed answers,
 * slow answers, dropped connections.
 */
export async function startAuthCheckHookServer(options: {
  readonly secret: string;
  readonly users: Readonly<Record<string, HookUser>>;
}): Promise<AuthCheckHookServer> {
  const requests: HookRequest[] = [];
  let override: ((request: HookRequest) => HookAnswer) | undefined;
  const timers = new Set<NodeJS.Timeout>();

  const checkUsers = (request: HookRequest): HookAnswer => {
    if (!request.signed) return { json: { error: 'bad signature' }, status: 400 };
    const { username } = request;
    const user =
      typeof username === 'string' && Object.hasOwn(options.users, username)
        ? options.users[username]
        : undefined;
    return {
      json: { user_id: user !== undefined && user.password === request.password ? user.userId : null },
    };
  };

  const send = (response: ServerResponse, answer: HookAnswer): void => {
    if ('hangUp' in answer) {
      response.socket?.destroy();
      return;
    }
    if ('delayMs' in answer) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!response.destroyed) send(response, answer.answer);
      }, answer.delayMs);
      timers.add(timer);
      return;
    }
    if ('text' in answer) {
      response
        .writeHead(answer.status, { 'Content-Type': answer.contentType ?? 'text/plain' })
        .end(answer.text);
      return;
    }
    response
      .writeHead(answer.status ?? 200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(answer.json));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return send(response, { json: { error: 'too large' }, status: 413 });
      chunks.push(chunk as Buffer);
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      return send(response, { json: { error: 'bad json' }, status: 400 });
    }
    const received: HookRequest = {
      username: body.username,
      password: body.password,
      clientId: body.client_id,
      signed: verifyAuthCheckSignature({
        secret: options.secret,
        timestampHeader: request.headers['x-oauth2-timestamp'],
        signatureHeader: request.headers['x-oauth2-signature'],
        rawBody,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    };
    requests.push(received);
    send(response, override === undefined ? checkUsers(received) : override(received));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/auth-check`,
    secret: options.secret,
    requests,
    answerWith(answer) {
      override = answer === undefined ? undefined : typeof answer === 'function' ? answer : () => answer;
    },
    reset() {
      requests.length = 0;
      override = undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
