import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { HookObserver } from '../auth-check/hook-failure';
import type { AuditEvent } from '../core/audit-event';

/** Every metric of the service lives in this one CloudWatch namespace, with a `service` dimension per deployment. */
export const METRICS_NAMESPACE = 'OAuth2TokenService';

/**
 * The metric names (the dashboard, the alarms and the README use exactly these). Dimensions are
 * low-cardinality on purpose: grant type, OAuth error code, failure kind, admin action, and a client
 * id only when `metricsByClient` is on. Never a user id or a username.
 */
export const METRIC = Object.freeze({
  tokensIssued: 'TokensIssued',
  tokenRequestsRefused: 'TokenRequestsRefused',
  /** Every answered token request (issued + refused), the denominator of the 5xx rate. */
  tokenRequests: 'TokenRequests',
  /** Token requests answered 503 `temporarily_unavailable`. */
  tokenServerErrors: 'TokenServerErrors',
  refreshReuseDetected: 'RefreshReuseDetected',
  usernameLockouts: 'UsernameLockouts',
  authCheckCalls: 'AuthCheckCalls',
  authCheckLatency: 'AuthCheckLatency',
  authCheckFailures: 'AuthCheckFailures',
  authorizerAllowed: 'AuthorizerAllowed',
  authorizerDenied: 'AuthorizerDenied',
  authorizerUnavailable: 'AuthorizerUnavailable',
  revocations: 'Revocations',
  introspections: 'Introspections',
  adminActions: 'AdminActions',
  coldStarts: 'ColdStarts',
});

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
type Dimensions = Readonly<Record<string, string>>;
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Metrics as CloudWatch Embedded Metric Format lines on stdout (Powertools Metrics): no API call,
 * CloudWatch Logs extracts them. Recording never throws: a metrics failure is logged and the request
 * goes on. Dimensionless values are buffered and written once per invocation by `middleware()`;
 * dimensioned ones are written at once (one EMF line each), so their dimensions never mix.
 */
export interface ServiceMetrics {
  /** Whether a `ClientId` dimension may be added (`METRICS_BY_CLIENT`). */
  readonly byClient: boolean;
  count(name: MetricName, dimensions?: Dimensions): void;
  milliseconds(name: MetricName, value: number): void;
  /** Flushes after every invocation, answered or failed, and counts the container's cold start. */
  middleware(): middy.MiddlewareObj;
}

export interface ServiceMetricsOptions {
  /** `service` dimension: one value per deployment (the stack name), so stacks never mix. */
  readonly serviceName: string;
  /** Which Lambda: the `Function` dimension of `ColdStarts`. */
  readonly functionKind: string;
  readonly byClient: boolean;
  readonly logger: Logger;
  /** false writes nothing (`METRICS_ENABLED=false`, or `LOG_LEVEL=SILENT`). */
  readonly enabled: boolean;
}

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const { logger } = options;
  if (!options.enabled) return disabledMetrics(options.byClient);
  const failed = (what: string, name: string) => (error: unknown) =>
    logger.warn('metric not recorded', {
      metric: name,
      during: what,
      cause: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
    });
  const safely = (what: string, name: string, action: () => void) => {
    try {
      action();
    } catch (error) {
      failed(what, name)(error);
    }
  };
  let metrics: Metrics | undefined;
  const batch = () => {
    metrics ??= new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: options.serviceName,
      logger: quietLogger(logger),
    });
    return metrics;
  };
  const single = (name: MetricName, unit: Unit, value: number, dimensions: Dimensions) =>
    safely('write', name, () => {
      const one = batch().singleMetric();
      for (const [key, dimension] of Object.entries(dimensions)) one.addDimension(key, dimension);
      one.addMetric(name, unit, value);
    });
  let coldStart = true;
  const flush = () =>
    safely('flush', 'stored metrics', () => {
      if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
    });
  return {
    byClient: options.byClient,
    count: (name, dimensions) => {
      if (dimensions === undefined || Object.keys(dimensions).length === 0) {
        safely('store', name, () => batch().addMetric(name, MetricUnit.Count, 1));
      } else single(name, MetricUnit.Count, 1, dimensions);
    },
    milliseconds: (name, value) =>
      safely('store', name, () => batch().addMetric(name, MetricUnit.Milliseconds, value)),
    middleware: () => ({
      before: () => {
        if (!coldStart) return;
        coldStart = false;
        single(METRIC.coldStarts, MetricUnit.Count, 1, { Function: options.functionKind });
      },
      after: flush,
      onError: flush,
    }),
  };
}

const disabledMetrics = (byClient: boolean): ServiceMetrics => ({
  byClient,
  count: () => {},
  milliseconds: () => {},
  middleware: () => ({ before: () => {} }),
});

// Powertools warns on an empty flush; we flush only when something is stored, so route the rest to WARN.
const quietLogger = (logger: Logger) => ({
  ...console,
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => logger.warn('metrics', { detail: args.map(String).join(' ') }),
  error: (...args: unknown[]) => logger.error('metrics', { detail: args.map(String).join(' ') }),
});

/** The metrics each audit event stands for (token endpoint, revocation, admin). */
export function recordAuditMetrics(metrics: ServiceMetrics, event: AuditEvent): void {
  // With `metricsByClient`, a client's own series comes on top of the service-wide one, so the
  // dashboard and the alarms (which read the service-wide series) see the same numbers either way.
  const count = (name: MetricName, dimensions: Dimensions, clientId?: string) => {
    metrics.count(name, dimensions);
    if (metrics.byClient && clientId !== undefined)
      metrics.count(name, { ...dimensions, ClientId: clientId });
  };
  switch (event.type) {
    case 'token_issued':
      metrics.count(METRIC.tokenRequests);
      count(METRIC.tokensIssued, { GrantType: event.grantType }, event.clientId);
      return;
    case 'token_refused':
      metrics.count(METRIC.tokenRequests);
      if (event.error === 'temporarily_unavailable') metrics.count(METRIC.tokenServerErrors);
      // The code is one of ours (a closed set). No client id even with metricsByClient: a refused
      // request's id is unauthenticated text, and random ids would mint a metric each.
      metrics.count(METRIC.tokenRequestsRefused, { ErrorCode: event.error });
      return;
    case 'refresh_token_reused':
      count(METRIC.refreshReuseDetected, {}, event.clientId);
      return;
    case 'username_locked':
      metrics.count(METRIC.usernameLockouts);
      return;
    case 'grant_revoked':
      metrics.count(METRIC.revocations, { Reason: event.reason });
      return;
    case 'admin_action':
      metrics.count(METRIC.adminActions, { Action: event.action });
      return;
  }
}

/** AuthCheck metrics from the hook adapter's observations: calls, latency, failures (total and by kind). */
export const authCheckMetrics =
  (metrics: ServiceMetrics): HookObserver =>
  (observation) => {
    metrics.count(METRIC.authCheckCalls);
    metrics.milliseconds(METRIC.authCheckLatency, observation.latencyMs);
    if (observation.outcome === 'failed') {
      metrics.count(METRIC.authCheckFailures);
      metrics.count(METRIC.authCheckFailures, { Kind: observation.failure });
    }
  };
