import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Operations that read; everything else the service sends is a write. */
const READ_OPERATIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/**
 * How many DynamoDB calls of each kind were made, keyed `<Operation> <table>`, plus `[kind#]` for an
 * item key with such a prefix and ` consistent` for a strongly consistent read.
 */
export interface DynamoDbCallCounts {
  readonly calls: number;
  readonly reads: number;
  readonly writes: number;
  /** HTTP attempts, retries included; equals `calls` when nothing was retried. */
  readonly attempts: number;
  readonly byOperation: Readonly<Record<string, number>>;
}

export const NO_CALLS: DynamoDbCallCounts = Object.freeze({
  calls: 0,
  reads: 0,
  writes: 0,
  attempts: 0,
  byOperation: Object.freeze({}),
});

const MIDDLEWARE_NAME = 'benchDynamoDbCallCounter';

/** One call's wall-clock interval (ms, `performance.now()`), DynamoDB or the AuthCheck hook. */
export interface CallInterval {
  readonly kind: 'dynamodb' | 'hook';
  readonly start: number;
  readonly end: number;
}

/** Counts every command sent through the SDK clients it is added to (one logical call per `send`). */
export class DynamoDbCallCounter {
  private byOperation = new Map<string, number>();
  private attempts = 0;
  /** Every call's interval since the last reset, for the critical path (`sequentialRoundTrips`). */
  readonly intervals: CallInterval[] = [];

  /**
   * Adds the counting middleware to `client`'s stack (a document client shares its client's stack),
   * replacing any earlier counter there.
   */
  addTo(client: Pick<DynamoDBClient, 'middlewareStack'>): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: unknown; ConsistentRead?: unknown; Key?: unknown };
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const table = `${typeof input.TableName === 'string' ? input.TableName : '*'}${keyPrefixOf(input.Key)}`;
        const consistent = READ_OPERATIONS.has(operation) && input.ConsistentRead === true;
        let attempts = 1;
        const start = performance.now();
        try {
          const result = await next(args);
          attempts = attemptsOf(result.output) ?? attempts;
          return result;
        } catch (error) {
          attempts = attemptsOf(error) ?? attempts;
          throw error;
        } finally {
          this.record(`${operation} ${table}${consistent ? ' consistent' : ''}`, attempts);
          this.intervals.push({ kind: 'dynamodb', start, end: performance.now() });
        }
      },
      { step: 'initialize', name: MIDDLEWARE_NAME, override: true },
    );
  }

  reset(): void {
    this.byOperation = new Map();
    this.attempts = 0;
    this.intervals.length = 0;
  }

  snapshot(): DynamoDbCallCounts {
    const byOperation = Object.fromEntries([...this.byOperation].sort(([a], [b]) => a.localeCompare(b)));
    let reads = 0;
    let writes = 0;
    for (const [key, count] of this.byOperation) {
      if (READ_OPERATIONS.has(key.split(' ')[0] as string)) reads += count;
      else writes += count;
    }
    return { calls: reads + writes, reads, writes, attempts: this.attempts, byOperation };
  }

  private record(key: string, attempts: number): void {
    this.byOperation.set(key, (this.byOperation.get(key) ?? 0) + 1);
    this.attempts += attempts;
  }
}

/**
 * `[lockout#]` when the item key's first value has a `kind#` prefix, so items of different kinds
 * sharing one table (grants and lockout state) are told apart; '' otherwise.
 */
const keyPrefixOf = (key: unknown): string => {
  if (typeof key !== 'object' || key === null) return '';
  const first: unknown = Object.values(key)[0];
  const value =
    typeof first === 'object' && first !== null && 'S' in first ? (first as { S: unknown }).S : first;
  const match = typeof value === 'string' ? /^([A-Za-z][\w-]*#)/.exec(value) : null;
  return match === null ? '' : `[${match[1]}]`;
};

const attemptsOf = (value: unknown): number | undefined => {
  const attempts = (value as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' ? attempts : undefined;
};

/** `after − before`, per operation (both from the same counter). */
export function subtractCounts(after: DynamoDbCallCounts, before: DynamoDbCallCounts): DynamoDbCallCounts {
  const byOperation: Record<string, number> = {};
  for (const [key, count] of Object.entries(after.byOperation)) {
    const delta = count - (before.byOperation[key] ?? 0);
    if (delta !== 0) byOperation[key] = delta;
  }
  return {
    calls: after.calls - before.calls,
    reads: after.reads - before.reads,
    writes: after.writes - before.writes,
    attempts: after.attempts - before.attempts,
    byOperation,
  };
}

/** Counts divided by `requests`, two decimals: the calls one request costs on average. */
export function perRequest(counts: DynamoDbCallCounts, requests: number): DynamoDbCallCounts {
  const per = (value: number) => (requests > 0 ? Math.round((value / requests) * 100) / 100 : Number.NaN);
  return {
    calls: per(counts.calls),
    reads: per(counts.reads),
    writes: per(counts.writes),
    attempts: per(counts.attempts),
    byOperation: Object.fromEntries(Object.entries(counts.byOperation).map(([key, n]) => [key, per(n)])),
  };
}

/** `GetItem oauth2-clients consistent: 1, PutItem oauth2-grants: 1`, for tables and logs. */
export const describeCalls = (counts: DynamoDbCallCounts): string =>
  Object.entries(counts.byOperation)
    .map(([key, count]) => `${key}${count === 1 ? '' : ` ×${count}`}`)
    .join(' + ') || 'none';

/** Round trips one after the other on a request's critical path, by kind. */
export interface RoundTrips {
  readonly dynamodb: number;
  readonly hook: number;
}

/**
 * The longest chain of calls in which each starts after the previous one ended: the round trips a
 * request waits for in a row (calls that overlap ran in parallel and count once).
 */
export function sequentialRoundTrips(intervals: readonly CallInterval[]): RoundTrips {
  const sorted = [...intervals].sort((a, b) => a.end - b.end);
  const best: Array<{ total: number; dynamodb: number; hook: number }> = [];
  for (const [i, call] of sorted.entries()) {
    let chain = { total: 0, dynamodb: 0, hook: 0 };
    for (let j = 0; j < i; j += 1) {
      const before = best[j];
      if (
        before !== undefined &&
        (sorted[j] as CallInterval).end <= call.start &&
        before.total > chain.total
      ) {
        chain = before;
      }
    }
    best.push({
      total: chain.total + 1,
      dynamodb: chain.dynamodb + (call.kind === 'dynamodb' ? 1 : 0),
      hook: chain.hook + (call.kind === 'hook' ? 1 : 0),
    });
  }
  const longest = best.sort((a, b) => b.total - a.total)[0];
  return { dynamodb: longest?.dynamodb ?? 0, hook: longest?.hook ?? 0 };
}
