import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A loopback server standing in for a broken AuthCheck hook; stop it in afterAll. */
export interface FaultHook {
  readonly url: string;
  /** Requests whose body reached the server's handler (for TLS hooks: zero means nothing was sent). */
  readonly requests: number;
  stop(): Promise<void>;
}

const closeServer = (server: Server | NetServer): Promise<void> =>
  new Promise<void>((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });

const listenOnLoopback = async (server: Server | NetServer): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/** `http://127.0.0.1:<port>` where nothing listens any more: connection refused. */
export async function closedPortUrl(path = '/auth-check'): Promise<string> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await closeServer(server);
  return `http://127.0.0.1:${port}${path}`;
}

/** True when `openssl` can be run (the TLS tests skip without it). */
export const opensslAvailable = (): boolean => {
  const probe = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
};

/**
 * An https hook on 127.0.0.1 with a freshly generated self-signed certificate (openssl, 1 day,
 * CN and SAN 127.0.0.1) that would answer `{"user_id": …}` to anyone who trusted it.
 */
export async function startSelfSignedTlsHook(): Promise<FaultHook> {
  const dir = mkdtempSync(join(tmpdir(), 'fault-hook-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const generated = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'ignore' },
    );
    if (generated.status !== 0) throw new Error('openssl could not generate a self-signed certificate');
    let requests = 0;
    const server = createHttpsServer(
      { key: readFileSync(keyPath), cert: readFileSync(certPath) },
      (request, response) => {
        request.resume();
        request.on('end', () => {
          requests += 1;
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"user_id":"untrusted"}');
        });
      },
    );
    const port = await listenOnLoopback(server);
    return {
      url: `https://127.0.0.1:${port}/auth-check`,
      get requests() {
        return requests;
      },
      stop: () => closeServer(server),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TCP server that accepts and resets every connection at once (a TLS handshake that never happens). */
export async function startResettingHook(): Promise<FaultHook & { readonly connections: number }> {
  let connections = 0;
  const server = createNetServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
  });
  const port = await listenOnLoopback(server);
  return {
    url: `https://127.0.0.1:${port}/auth-check`,
    // Nothing is ever read: a reset connection delivers no request.
    requests: 0,
    get connections() {
      return connections;
    },
    stop: () => closeServer(server),
  };
}

/** Answers 200 and the first bytes of a JSON body, then never finishes it. */
export async function startStallingBodyHook(): Promise<FaultHook> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"user_id":');
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/auth-check`,
    get requests() {
      return requests;
    },
    stop: () => closeServer(server),
  };
}

/** How the emulated AuthCheck function (or the Lambda service in front of it) answers one invocation. */
export type LambdaBehaviour =
  /** The function returned `payload` (raw JSON text). */
  | { readonly kind: 'return'; readonly payload: string }
  /** The function failed: 200 with `X-Amz-Function-Error` and an error payload. */
  | { readonly kind: 'function-error'; readonly errorType: 'Unhandled' | 'Handled'; readonly payload: string }
  /** The Lambda service refused the call (throttled, internal error …). */
  | { readonly kind: 'service-error'; readonly status: number; readonly type: string }
  /** Waits `ms` before behaving as `answer`; the connection stays open meanwhile. */
  | { readonly kind: 'delay'; readonly ms: number; readonly answer: LambdaBehaviour };

/** One `Invoke` the emulator received. */
export interface LambdaInvocation {
  readonly functionName: string;
  readonly payload: string;
}

export interface LambdaInvokeServer {
  /** For `AUTH_CHECK_LAMBDA_ENDPOINT`. */
  readonly endpoint: string;
  readonly invocations: LambdaInvocation[];
  /** `(payload) => behaviour`: the payload is the JSON event the token Lambda sent. */
  answerWith(behaviour: (event: Record<string, unknown>) => LambdaBehaviour): void;
  stop(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/;

/**
 * A loopback server speaking the Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`)
 * the way AWS answers it: a function error is still HTTP 200, flagged by `X-Amz-Function-Error`.
 */
export async function startLambdaInvokeServer(): Promise<LambdaInvokeServer> {
  const invocations: LambdaInvocation[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let behaviourOf: (event: Record<string, unknown>) => LambdaBehaviour = () => ({
    kind: 'return',
    payload: '{"user_id":null}',
  });

  const send = (response: ServerResponse, behaviour: LambdaBehaviour): void => {
    if (response.destroyed) return;
    switch (behaviour.kind) {
      case 'return':
        response
          .writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' })
          .end(behaviour.payload);
        return;
      case 'function-error':
        response
          .writeHead(200, {
            'content-type': 'application/json',
            'x-amz-executed-version': '$LATEST',
            'x-amz-function-error': behaviour.errorType,
          })
          .end(behaviour.payload);
        return;
      case 'service-error':
        response
          .writeHead(behaviour.status, {
            'content-type': 'application/json',
            'x-amzn-errortype': behaviour.type,
          })
          .end(JSON.stringify({ Type: 'Service', message: `${behaviour.type} (injected)` }));
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(response, behaviour.answer);
        }, behaviour.ms);
        timers.add(timer);
        return;
      }
    }
  };

  const handle = (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const match = INVOKE_PATH.exec(request.url ?? '');
    if (request.method !== 'POST' || match === null) {
      send(response, { kind: 'service-error', status: 404, type: 'UnknownOperationException' });
      return;
    }
    invocations.push({ functionName: decodeURIComponent(match[1] ?? ''), payload: raw });
    let event: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null) event = parsed as Record<string, unknown>;
    } catch {
      // Answered by the behaviour like any other event.
    }
    send(response, behaviourOf(event));
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    invocations,
    answerWith(behaviour) {
      behaviourOf = behaviour;
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await closeServer(server);
    },
  };
}
