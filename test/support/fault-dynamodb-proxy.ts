import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * DynamoDB's own error answers, as the service sends them: HTTP status, `__type` (the SDK takes the
 * name after `#`) and message. Throttling is a 400, not a 429.
 */
export const DYNAMODB_ERRORS = {
  ProvisionedThroughputExceededException: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  ThrottlingException: {
    status: 400,
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  },
  InternalServerError: {
    status: 500,
    type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: 'Internal server error',
  },
} as const;

export type DynamoDbErrorName = keyof typeof DYNAMODB_ERRORS;

/** What the proxy does with one request instead of forwarding it as is. */
export type StoreFault =
  /** Answers DynamoDB's error (nothing applied). */
  | { readonly kind: 'error'; readonly error: DynamoDbErrorName }
  /** Resets the connection before forwarding (nothing applied). */
  | { readonly kind: 'drop' }
  /** Forwards (the server applies it), then resets the connection instead of answering. */
  | { readonly kind: 'lose-answer' }
  /**
   * Keeps the connection open without a word for `ms` (past the SDK's timeout), then closes it; with
   * `apply` the request is forwarded at that moment, so DynamoDB applies it after the caller gave up.
   */
  | { readonly kind: 'stall'; readonly ms: number; readonly apply: boolean }
  /** Forwards only once `until` settles, then answers normally: orders the steps of a race. */
  | { readonly kind: 'hold'; readonly until: Promise<unknown> }
  /** Forwards `body` in place of the request (a broken store, for the tests' self-checks). */
  | { readonly kind: 'rewrite'; readonly body: Record<string, unknown> };

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  /**
   * The endpoint's first path segment: give each handler its own `DYNAMODB_ENDPOINT`
   * (`<endpoint>/token`, `<endpoint>/admin`) to tell their traffic apart. `''` for the bare endpoint.
   */
  readonly route: string;
  /** `GetItem`, `PutItem`, `UpdateItem`, `Query` … */
  readonly operation: string;
  readonly table: string;
  /** The request's JSON body (`{}` when it is not JSON). */
  readonly body: Readonly<Record<string, unknown>>;
  /** Position among all requests since start (0-based). */
  readonly sequence: number;
  /** Position among this route's requests since start (0-based). */
  readonly routeSequence: number;
}

export type FaultPlan = (request: ProxiedRequest) => StoreFault | undefined;

/**
 * A loopback proxy in front of a DynamoDB-compatible server that injects the store's failures for
 * real on the wire: DynamoDB error answers, connection resets before or after the write, answers
 * slower than the SDK's timeout (applied late or never), and held requests that pin a race's order.
 */
export interface FaultDynamoDbProxy {
  readonly endpoint: string;
  /** Decides per request; `undefined` forwards everything untouched. */
  setPlan(plan: FaultPlan | undefined): void;
  /** Requests seen per outcome: `forwarded`, `error:<name>`, `drop`, `lose-answer`, `stall:applied` … */
  readonly counts: ReadonlyMap<string, number>;
  /** Resolves with the first request matching `predicate` (from now on) once its server answer arrived. */
  answered(predicate: (request: ProxiedRequest) => boolean): Promise<ProxiedRequest>;
  /** Resolves with the first request matching `predicate` (from now on) as soon as it arrives. */
  arrived(predicate: (request: ProxiedRequest) => boolean): Promise<ProxiedRequest>;
  /** Resolves once no stalled, held or forwarded request is still on its way. */
  settle(): Promise<void>;
  resetCounts(): void;
  stop(): Promise<void>;
}

interface Waiter {
  readonly predicate: (request: ProxiedRequest) => boolean;
  readonly resolve: (request: ProxiedRequest) => void;
}

const parseBody = (raw: Buffer): Record<string, unknown> => {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** Starts the proxy to `target` on 127.0.0.1; stop it in afterAll. */
export async function startFaultDynamoDbProxy(target: string): Promise<FaultDynamoDbProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const arrivals: Waiter[] = [];
  const answers: Waiter[] = [];
  let plan: FaultPlan | undefined;
  let sequence = 0;
  const routeSequences = new Map<string, number>();
  let inFlight = 0;
  let idle: Array<() => void> = [];

  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const notify = (waiters: Waiter[], request: ProxiedRequest) => {
    for (const waiter of [...waiters]) {
      if (!waiter.predicate(request)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(request);
    }
  };
  const begin = () => {
    inFlight += 1;
  };
  const end = () => {
    inFlight -= 1;
    if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
  };

  /** Sends `body` upstream; `deliver` gets the answer, or undefined when the server could not be reached. */
  const forward = (
    request: IncomingMessage,
    body: Buffer,
    proxied: ProxiedRequest,
    deliver: (answer: IncomingMessage | undefined) => void,
  ) => {
    begin();
    const headers = { ...request.headers, 'content-length': String(body.length) };
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: '/',
        headers,
        agent,
      },
      (answer) => {
        answer.on('end', () => notify(answers, proxied));
        // 'close' follows 'end', and also an answer cut short: the count of requests on their way stays right.
        answer.on('close', end);
        deliver(answer);
      },
    );
    outgoing.on('error', () => {
      deliver(undefined);
      end();
    });
    outgoing.end(body);
  };

  const relay = (response: ServerResponse) => (answer: IncomingMessage | undefined) => {
    if (answer === undefined || response.destroyed) {
      answer?.resume();
      response.destroy();
      return;
    }
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  };
  const discard = (answer: IncomingMessage | undefined) => answer?.resume();

  const handle = (request: IncomingMessage, response: ServerResponse, raw: Buffer) => {
    const route = (request.url ?? '/').split('/').filter((part) => part !== '')[0] ?? '';
    const body = parseBody(raw);
    const routeSequence = routeSequences.get(route) ?? 0;
    routeSequences.set(route, routeSequence + 1);
    const proxied: ProxiedRequest = {
      route,
      operation: String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '',
      table: typeof body.TableName === 'string' ? body.TableName : '',
      body,
      sequence: sequence++,
      routeSequence,
    };
    notify(arrivals, proxied);
    const fault = plan?.(proxied);
    if (fault === undefined) {
      count('forwarded');
      forward(request, raw, proxied, relay(response));
      return;
    }
    switch (fault.kind) {
      case 'error': {
        count(`error:${fault.error}`);
        const { status, type, message } = DYNAMODB_ERRORS[fault.error];
        const payload = JSON.stringify({ __type: type, message });
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': `FAULT${proxied.sequence}`,
          'content-length': String(Buffer.byteLength(payload)),
        });
        response.end(payload);
        return;
      }
      case 'drop':
        count('drop');
        response.socket?.destroy();
        return;
      case 'lose-answer':
        count('lose-answer');
        forward(request, raw, proxied, (answer) => {
          discard(answer);
          response.socket?.destroy();
        });
        return;
      case 'stall': {
        count(fault.apply ? 'stall:applied' : 'stall:dropped');
        begin();
        const timer = setTimeout(() => {
          timers.delete(timer);
          response.socket?.destroy();
          if (fault.apply) forward(request, raw, proxied, discard);
          end();
        }, fault.ms);
        timers.add(timer);
        return;
      }
      case 'hold':
        count('hold');
        begin();
        void fault.until
          .catch(() => undefined)
          .then(() => {
            forward(request, raw, proxied, relay(response));
            end();
          });
        return;
      case 'rewrite':
        count('rewrite');
        forward(request, Buffer.from(JSON.stringify(fault.body)), proxied, relay(response));
        return;
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks)));
    // A caller that gave up resets its socket; nothing to do but not crash.
    response.on('error', () => undefined);
    request.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const waitFor = (waiters: Waiter[], predicate: (request: ProxiedRequest) => boolean) =>
    new Promise<ProxiedRequest>((resolve) => {
      waiters.push({ predicate, resolve });
    });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setPlan(next) {
      plan = next;
    },
    counts,
    answered: (predicate) => waitFor(answers, predicate),
    arrived: (predicate) => waitFor(arrivals, predicate),
    settle: () =>
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idle.push(resolve);
          }),
    resetCounts() {
      counts.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        idle = [];
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `UpdateItem` on the grants table that rotates a refresh token (sets a new refresh hash). */
export const isRotation = (request: ProxiedRequest): boolean =>
  request.operation === 'UpdateItem' && String(request.body.UpdateExpression ?? '').includes('#refreshHash');

/** `UpdateItem` that sets `revokedAt` (revocation endpoint, reuse detection, admin revocations). */
export const isRevocation = (request: ProxiedRequest): boolean =>
  request.operation === 'UpdateItem' && String(request.body.UpdateExpression ?? '').includes('#revokedAt =');
