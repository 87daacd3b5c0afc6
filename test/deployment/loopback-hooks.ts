import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyAuthCheckSignature } from '../../lambdas/auth-check/auth-check-signature';

/** The one user the verification's hooks know, and the session cookie that stands for them. */
export interface HookIdentity {
  readonly username: string;
  readonly password: string;
  readonly userId: string;
  readonly sessionCookie: string;
}

/** A request one of the hooks answered. */
export interface HookCall {
  readonly kind: 'credentials' | 'session';
  /** `http` (signature checked) or `lambda` (invoked through the emulated Lambda API). */
  readonly via: 'http' | 'lambda';
  readonly signed: boolean;
}

/** The `{"user_id"}` hook contract, for both the AuthCheck (`username`/`password`) and the session check (`cookie`). */
export function answerHook(identity: HookIdentity, body: unknown): { user_id: string | null } {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof fields.cookie === 'string') {
    return { user_id: fields.cookie.split(/;\s*/).includes(identity.sessionCookie) ? identity.userId : null };
  }
  const valid = fields.username === identity.username && fields.password === identity.password;
  return { user_id: valid ? identity.userId : null };
}

export interface LoopbackHookServer {
  /** `http://127.0.0.1:<port>`: `<url>/auth-check`, `<url>/session-check`. */
  readonly url: string;
  readonly calls: HookCall[];
  stop(): Promise<void>;
}

/**
 * The deployer's hooks on loopback: requests must carry a valid `X-OAuth2-Signature` under `secret`
 * (the value the emulated Secrets Manager serves for the template's hook secret), else 400.
 */
export async function startLoopbackHooks(
  identity: HookIdentity,
  secret: () => string | undefined,
): Promise<LoopbackHookServer> {
  const calls: HookCall[] = [];
  const server: Server = createServer((request, response) => {
    void readBody(request).then((rawBody) => {
      const key = secret();
      const signed =
        key !== undefined &&
        verifyAuthCheckSignature({
          secret: key,
          timestampHeader: header(request, 'x-oauth2-timestamp'),
          signatureHeader: header(request, 'x-oauth2-signature'),
          rawBody,
          nowSeconds: Math.floor(Date.now() / 1000),
        });
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const kind =
        typeof (body as Record<string, unknown> | undefined)?.cookie === 'string' ? 'session' : 'credentials';
      calls.push({ kind, via: 'http', signed });
      const [status, answer] = signed ? [200, answerHook(identity, body)] : [400, { error: 'bad signature' }];
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};
