import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEMO_USER, type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';

/**
 * A bounded load run against the local stack on loopback: autocannon drives every connection through
 * the life of a session (login, /me, refresh, /me, old token refused, refresh, /me, logout or keep,
 * client_credentials, /me), checking each answer as it comes. Invariants: no 5xx, no socket error or
 * timeout, no token lost (each returned access token passes /me until it is rotated or revoked, and
 * the kept sessions still work after the run), heap and RSS flat between 25 % of the run and its end.
 */

export interface LoadOptions {
  /** Length of the load phase, whole seconds, 1 – 60. */
  readonly durationSeconds: number;
  /** Concurrent autocannon connections (each one a sequential session). Default 8. */
  readonly connections?: number;
  readonly log?: (line: string) => void;
}

export interface LoadReport {
  readonly ok: boolean;
  /** Every broken invariant, first ones verbatim (capped), then counted. */
  readonly violations: readonly string[];
  /** `[figure, value]` rows for the printed table. */
  readonly figures: ReadonlyArray<readonly [string, string]>;
  readonly requests: number;
  readonly memory: MemoryFigures;
}

export interface MemoryFigures {
  /** After a full GC, at 25 % of the load phase and at its end. */
  readonly heapAtQuarter: number;
  readonly heapAtEnd: number;
  readonly rssAtQuarter: number;
  readonly rssAtEnd: number;
  readonly heapMax: number;
  readonly rssMax: number;
}

export const MAX_DURATION_SECONDS = 60;
/** Heap (after GC) may grow by this much from 25 % to the end: warm-up leftovers, not a leak. */
export const HEAP_MARGIN = { ratio: 0.2, bytes: 8 * 1024 * 1024 } as const;
/** RSS is coarser (native buffers, LevelDB's caches, allocator slack): a wider margin. */
export const RSS_MARGIN = { ratio: 0.5, bytes: 64 * 1024 * 1024 } as const;
const KEPT_SAMPLE = 300;
const DEAD_SAMPLE = 200;
const REFRESH_SAMPLE = 50;
const VIOLATIONS_LISTED = 20;

// autocannon ships no type declarations; this is the part of its API the run uses.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: SessionContext) => AutocannonRequest | null;
  onResponse?: (status: number, body: string, context: SessionContext) => void;
}
interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly resets: number;
  readonly '5xx': number;
  readonly latency: {
    readonly p50: number;
    readonly p97_5: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly requests: { readonly average: number; readonly total: number; readonly sent: number };
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult> & { stop(): void };
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** One connection's session, reset by autocannon at the start of each pass through the steps. */
interface SessionContext {
  chain?: number;
  access?: string;
  refresh?: string;
  previousAccess?: string;
  keep?: boolean;
  clientAccess?: string;
}

/** `global.gc`, exposed at run time when node was started without --expose-gc. */
function garbageCollector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Keeps a uniform sample of at most `size` items from a stream of unknown length (algorithm R). */
class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  constructor(private readonly size: number) {}
  add(item: T): void {
    this.seen += 1;
    if (this.items.length < this.size) this.items.push(item);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < this.size) this.items[slot] = item;
    }
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const durationSeconds = options.durationSeconds;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > MAX_DURATION_SECONDS) {
    throw new RangeError(`durationSeconds must be an integer from 1 to ${MAX_DURATION_SECONDS}`);
  }
  const connections = options.connections ?? 8;
  const log = options.log ?? ((line: string) => console.log(line));
  const gc = garbageCollector();

  // On disk: an in-memory store grows with every grant and would hide (or fake) a leak of the service.
  const dataDir = mkdtempSync(join(tmpdir(), 'oauth2-load-'));
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({ port: 0, dataDir, environment: { LOG_LEVEL: 'ERROR' } });
    const demo = stack.demoClient;
    if (demo === undefined) throw new Error('the local stack started without its demo client');
    const url = stack.url;
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(demo.clientId)}:${encodeURIComponent(demo.clientSecret)}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    const counts = new Map<string, number>();
    const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const violations: string[] = [];
    let violationCount = 0;
    const violate = (message: string) => {
      violationCount += 1;
      if (violations.length < VIOLATIONS_LISTED) violations.push(message);
    };
    const kept = new Reservoir<{ access: string; refresh: string }>(KEPT_SAMPLE);
    const dead = new Reservoir<string>(DEAD_SAMPLE);
    let chains = 0;
    let accessIssued = 0;

    const json = (body: string): Record<string, unknown> => {
      try {
        const parsed: unknown = JSON.parse(body);
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    /** Checks one answer: counts it, and records a violation unless its status is `expected`. */
    const expectStatus = (step: string, status: number, expected: number, body: string): boolean => {
      count(`${step} ${status}`);
      if (status >= 500) violate(`${step}: ${status} ${body.slice(0, 120)}`);
      else if (status !== expected)
        violate(`${step}: expected ${expected}, got ${status} ${body.slice(0, 120)}`);
      return status === expected;
    };
    const issued = (step: string, status: number, body: string, context: SessionContext) => {
      if (!expectStatus(step, status, 200, body)) return undefined;
      const answer = json(body);
      if (typeof answer.access_token !== 'string') {
        violate(`${step}: 200 without an access token`);
        return undefined;
      }
      accessIssued += 1;
      context.chain ??= ++chains;
      return answer;
    };
    /** A step that needs a token an earlier step did not get: restart the session instead. */
    const needs = (value: string | undefined, build: (value: string) => AutocannonRequest) =>
      value === undefined ? null : build(value);

    const steps: AutocannonRequest[] = [
      {
        method: 'POST',
        path: '/oauth2/token',
        headers: form,
        body: new URLSearchParams({
          grant_type: 'password',
          username: DEMO_USER.username,
          password: DEMO_USER.password,
        }).toString(),
        onResponse: (status, body, context) => {
          const answer = issued('password grant', status, body, context);
          if (answer === undefined) return;
          context.access = String(answer.access_token);
          context.refresh = String(answer.refresh_token);
        },
      },
      meStep('new access token', (context) => context.access, 200),
      refreshStep('first refresh'),
      meStep('refreshed access token', (context) => context.access, 200),
      meStep('rotated-away access token', (context) => context.previousAccess, 401),
      refreshStep('second refresh'),
      meStep('refreshed access token', (context) => context.access, 200),
      {
        method: 'POST',
        headers: form,
        setupRequest: (request, context) =>
          needs(context.refresh, (refresh) => {
            // Every fourth session is kept (checked again after the run); the others log out,
            // alternately with the refresh token and with the access token.
            context.keep = (context.chain ?? 0) % 4 === 0;
            const revokeWith = (context.chain ?? 0) % 2 === 0 ? refresh : (context.access ?? refresh);
            return context.keep
              ? {
                  ...request,
                  path: '/oauth2/introspect',
                  body: new URLSearchParams({ token: refresh }).toString(),
                }
              : {
                  ...request,
                  path: '/oauth2/revoke',
                  body: new URLSearchParams({ token: revokeWith }).toString(),
                };
          }),
        onResponse: (status, body, context) => {
          const step = context.keep ? 'introspection (kept session)' : 'revocation (logout)';
          if (!expectStatus(step, status, 200, body)) return;
          if (context.keep && json(body).active !== true)
            violate('introspection: a kept refresh token is inactive');
          if (!context.keep && body !== '{}') violate(`revocation: answered ${body.slice(0, 80)}`);
        },
      },
      {
        method: 'GET',
        path: '/me',
        setupRequest: (request, context) =>
          needs(context.access, (access) => ({ ...request, headers: bearer(access) })),
        onResponse: (status, body, context) => {
          const expected = context.keep ? 200 : 401;
          expectStatus(context.keep ? '/me, kept session' : '/me, logged out', status, expected, body);
          if (context.access === undefined) return;
          if (context.keep) kept.add({ access: context.access, refresh: context.refresh ?? '' });
          else dead.add(context.access);
        },
      },
      {
        method: 'POST',
        path: '/oauth2/token',
        headers: form,
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        onResponse: (status, body, context) => {
          const answer = issued('client_credentials grant', status, body, context);
          if (answer !== undefined) context.clientAccess = String(answer.access_token);
        },
      },
      // `/me` takes user tokens only (issue 10, finding 3): a live client token is refused with 403
      // insufficient_scope, never 401 (that would mean the token itself was lost).
      meStep('client access token', (context) => context.clientAccess, 403),
    ];

    function meStep(name: string, token: (context: SessionContext) => string | undefined, expected: number) {
      return {
        method: 'GET',
        path: '/me',
        setupRequest: (request: AutocannonRequest, context: SessionContext) =>
          needs(token(context), (value) => ({ ...request, headers: bearer(value) })),
        onResponse: (status: number, body: string, context: SessionContext) => {
          expectStatus(`/me, ${name}`, status, expected, body);
          if (expected === 401) {
            const value = token(context);
            if (value !== undefined) dead.add(value);
          }
        },
      } satisfies AutocannonRequest;
    }

    function refreshStep(name: string) {
      return {
        method: 'POST',
        path: '/oauth2/token',
        headers: form,
        setupRequest: (request: AutocannonRequest, context: SessionContext) =>
          needs(context.refresh, (refresh) => ({
            ...request,
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
          })),
        onResponse: (status: number, body: string, context: SessionContext) => {
          const answer = issued(name, status, body, context);
          if (answer === undefined) {
            context.refresh = undefined;
            return;
          }
          context.previousAccess = context.access;
          context.access = String(answer.access_token);
          context.refresh = String(answer.refresh_token);
        },
      } satisfies AutocannonRequest;
    }

    // ---- the load phase, with memory samples ---------------------------------------------------------
    log(`[load] ${durationSeconds} s, ${connections} connections against ${url} (data in ${dataDir})`);
    let heapMax = 0;
    let rssMax = 0;
    const sample = () => {
      const { heapUsed, rss } = process.memoryUsage();
      heapMax = Math.max(heapMax, heapUsed);
      rssMax = Math.max(rssMax, rss);
      return { heapUsed, rss };
    };
    const sampler = setInterval(sample, 250);
    let quarter: { heapUsed: number; rss: number } | undefined;
    const quarterTimer = setTimeout(
      () => {
        gc();
        quarter = sample();
      },
      (durationSeconds * 1000) / 4,
    );
    let result: AutocannonResult;
    try {
      result = await autocannon({
        url,
        connections,
        duration: durationSeconds,
        timeout: 10,
        requests: steps,
        initialContext: {},
      });
    } finally {
      clearInterval(sampler);
      clearTimeout(quarterTimer);
    }
    gc();
    const end = sample();
    const atQuarter = quarter ?? end;

    // ---- after the run: the sessions kept alive still work, the dead tokens stay dead -------------------
    const call = async (path: string, init: RequestInit) => {
      const response = await fetch(`${url}${path}`, init);
      return { status: response.status, body: await response.text() };
    };
    const inBatches = async <T>(items: readonly T[], work: (item: T) => Promise<void>) => {
      for (let start = 0; start < items.length; start += 16)
        await Promise.all(items.slice(start, start + 16).map(work));
    };
    let keptVerified = 0;
    await inBatches(kept.items, async ({ access }) => {
      const me = await call('/me', { headers: bearer(access) });
      if (me.status === 200) keptVerified += 1;
      else violate(`after the run: a kept session's access token got ${me.status} at /me (lost token)`);
    });
    let refreshedAfter = 0;
    await inBatches(kept.items.slice(0, REFRESH_SAMPLE), async ({ refresh }) => {
      const answer = await call('/oauth2/token', {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
      });
      const access = json(answer.body).access_token;
      if (answer.status !== 200 || typeof access !== 'string') {
        violate(`after the run: a kept session's refresh token got ${answer.status} (lost token)`);
        return;
      }
      const me = await call('/me', { headers: bearer(access) });
      if (me.status === 200) refreshedAfter += 1;
      else violate(`after the run: a freshly refreshed access token got ${me.status} at /me`);
    });
    let deadVerified = 0;
    await inBatches(dead.items, async (access) => {
      const me = await call('/me', { headers: bearer(access) });
      if (me.status === 401) deadVerified += 1;
      else violate(`after the run: a rotated-away or revoked access token got ${me.status} at /me`);
    });

    // ---- invariants that need the whole run ------------------------------------------------------------
    if (result['5xx'] > 0) violate(`${result['5xx']} answers were 5xx`);
    if (result.errors > 0 || result.timeouts > 0)
      violate(`${result.errors} socket errors, ${result.timeouts} timeouts during the run`);
    const heapLimit =
      atQuarter.heapUsed + Math.max(atQuarter.heapUsed * HEAP_MARGIN.ratio, HEAP_MARGIN.bytes);
    if (end.heapUsed > heapLimit)
      violate(
        `heap grew from ${mib(atQuarter.heapUsed)} (25 %) to ${mib(end.heapUsed)} (end), over ${mib(heapLimit)}`,
      );
    const rssLimit = atQuarter.rss + Math.max(atQuarter.rss * RSS_MARGIN.ratio, RSS_MARGIN.bytes);
    if (end.rss > rssLimit)
      violate(`RSS grew from ${mib(atQuarter.rss)} (25 %) to ${mib(end.rss)} (end), over ${mib(rssLimit)}`);
    if (result.requests.total === 0) violate('no request completed');

    const n = (key: string) => String(counts.get(key) ?? 0);
    const unexpected = [...counts]
      .filter(([key]) => /\s5\d\d$/.test(key))
      .reduce((sum, [, value]) => sum + value, 0);
    const memory: MemoryFigures = {
      heapAtQuarter: atQuarter.heapUsed,
      heapAtEnd: end.heapUsed,
      rssAtQuarter: atQuarter.rss,
      rssAtEnd: end.rss,
      heapMax,
      rssMax,
    };
    const figures: Array<readonly [string, string]> = [
      ['duration', `${result.duration} s, ${connections} connections`],
      ['requests completed', `${result.requests.total} (${Math.round(result.requests.average)}/s)`],
      [
        'latency p50 / p97.5 / p99 / max',
        `${result.latency.p50} / ${result.latency.p97_5} / ${result.latency.p99} / ${result.latency.max} ms`,
      ],
      ['password grants 200', n('password grant 200')],
      ['refreshes 200', `${n('first refresh 200')} + ${n('second refresh 200')}`],
      ['client_credentials grants 200', n('client_credentials grant 200')],
      [
        '/me 200 (live tokens)',
        String(
          [...counts]
            .filter(([key]) => key.startsWith('/me') && key.endsWith(' 200'))
            .reduce((sum, [, value]) => sum + value, 0),
        ),
      ],
      [
        '/me 401 (rotated away, logged out)',
        `${n('/me, rotated-away access token 401')} + ${n('/me, logged out 401')}`,
      ],
      [
        'revocations 200 / introspections active',
        `${n('revocation (logout) 200')} / ${n('introspection (kept session) 200')}`,
      ],
      ['access tokens returned', String(accessIssued)],
      ['5xx (autocannon / per step)', `${result['5xx']} / ${unexpected}`],
      [
        'socket errors / timeouts / session restarts',
        `${result.errors} / ${result.timeouts} / ${result.resets}`,
      ],
      ['after: kept sessions at /me 200', `${keptVerified} of ${kept.items.length}`],
      [
        'after: kept sessions refreshed + /me 200',
        `${refreshedAfter} of ${Math.min(REFRESH_SAMPLE, kept.items.length)}`,
      ],
      ['after: dead tokens at /me 401', `${deadVerified} of ${dead.items.length}`],
      [
        'heap after GC: 25 % → end (max)',
        `${mib(atQuarter.heapUsed)} → ${mib(end.heapUsed)} (${mib(heapMax)}); allowed +${HEAP_MARGIN.ratio * 100} % or +${mib(HEAP_MARGIN.bytes)}`,
      ],
      [
        'RSS: 25 % → end (max)',
        `${mib(atQuarter.rss)} → ${mib(end.rss)} (${mib(rssMax)}); allowed +${RSS_MARGIN.ratio * 100} % or +${mib(RSS_MARGIN.bytes)}`,
      ],
      ['violations', String(violationCount)],
    ];
    const listed =
      violationCount > violations.length
        ? [...violations, `… ${violationCount - violations.length} more`]
        : violations;
    return { ok: violationCount === 0, violations: listed, figures, requests: result.requests.total, memory };
  } finally {
    await stack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The report as a two-column text table, then the violations. */
export function formatLoadReport(report: LoadReport): string {
  const width = Math.max(...report.figures.map(([figure]) => figure.length));
  const lines = [
    `| ${'figure'.padEnd(width)} | value`,
    `| ${'-'.repeat(width)} | -----`,
    ...report.figures.map(([figure, value]) => `| ${figure.padEnd(width)} | ${value}`),
  ];
  if (report.violations.length > 0)
    lines.push('', 'INVARIANTS BROKEN:', ...report.violations.map((v) => `  - ${v}`));
  else lines.push('', 'all invariants held');
  return lines.join('\n');
}
