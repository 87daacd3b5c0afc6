import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback proxy in front of a real DynamoDB-compatible endpoint (dynalite), for the wire's view. */
export interface DynamoDbProxy {
  readonly endpoint: string;
  /** Every request seen since start or `clear`, as `<Operation> <TableName>` (e.g. `GetItem clients`). */
  readonly operations: string[];
  /**
   * Answers `<Operation> <TableName>` (e.g. `GetItem clients`) with a DynamoDB InternalServerError
   * instead of forwarding it, after letting the first `after` of them (counted from now) through.
   */
  fail(operation: string, options?: { after?: number }): void;
  /**
   * Forwards the next `<Operation> <TableName>` and lets the server apply it, but resets the
   * connection instead of answering (a lost answer: the SDK retries a write that already happened).
   */
  loseNextAnswer(operation: string): void;
  /** Lost answers armed with `loseNextAnswer` that no request has used yet. */
  readonly pendingLostAnswers: number;
  /** Forgets the recorded operations and stops failing anything. */
  clear(): void;
  stop(): Promise<void>;
}

/** Starts a recording (and, on request, failing) proxy to `target` on 127.0.0.1; stop it in afterAll. */
export async function startDynamoDbProxy(target: string): Promise<DynamoDbProxy> {
  const operations: string[] = [];
  /** Operation → how many more of it to let through before failing. */
  const failing = new Map<string, number>();
  const losing = new Set<string>();
  const upstream = new URL(target);

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let table = '';
      try {
        table = String((JSON.parse(body.toString('utf8')) as { TableName?: unknown }).TableName ?? '');
      } catch {
        // Not JSON: forward it and let the server answer.
      }
      const key = `${operation} ${table}`;
      operations.push(key);
      const passes = failing.get(key);
      if (passes !== undefined && passes > 0) {
        failing.set(key, passes - 1);
      } else if (passes !== undefined) {
        response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: 'injected failure',
          }),
        );
        return;
      }
      const loseAnswer = losing.delete(key);
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (answer) => {
          if (loseAnswer) {
            answer.resume();
            answer.on('end', () => response.socket?.destroy());
            return;
          }
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.destroy());
      forwarded.end(body);
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    operations,
    fail(operation, options = {}) {
      failing.set(operation, options.after ?? 0);
    },
    loseNextAnswer(operation) {
      losing.add(operation);
    },
    get pendingLostAnswers() {
      return losing.size;
    },
    clear() {
      operations.length = 0;
      failing.clear();
      losing.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
