import { Logger } from '@aws-lambda-powertools/logger';
import type { AuditEvent, AuditSink } from '../core/audit-event';
import type { OAuthError } from '../core/oauth-errors';
import { recordAuditMetrics, type ServiceMetrics } from './service-metrics';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/**
 * Structured JSON logs (Powertools), one request id per line via `injectLambdaContext`.
 * Callers log ids and outcomes only: never parameters, bodies, or headers, so a token,
 * secret, password or Authorization value has no way in.
 */
export const createServiceLogger = (serviceName: string, logLevel: LogLevel = 'INFO'): Logger =>
  new Logger({ serviceName, logLevel });

/** Audit events to the log and, with `metrics`, to the metrics they stand for (token, revocation, admin). */
export const auditTo =
  (logger: Logger, metrics?: ServiceMetrics): AuditSink =>
  (event: AuditEvent) => {
    logger.info(`audit ${event.type}`, { audit: event });
    if (metrics !== undefined) recordAuditMetrics(metrics, event);
  };

/** Logs a refusal with its private cause. Causes are written by our code and adapters, never request data. */
export function logOAuthError(logger: Logger, error: OAuthError): void {
  const cause = describeCause(error.cause);
  const attributes = { error: error.code, status: error.status, ...(cause === undefined ? {} : { cause }) };
  if (error.status >= 500) logger.error('request failed', attributes);
  else logger.info('request refused', attributes);
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? ` <- ${cause.cause.name}` : '';
    return `${cause.name}: ${cause.message}${inner}`;
  }
  return typeof cause;
}
