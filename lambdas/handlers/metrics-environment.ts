import type { Logger } from '@aws-lambda-powertools/logger';
import { createServiceMetrics, type ServiceMetrics } from '../http/service-metrics';
import type { EnvironmentReader } from './environment-reader';

/**
 * The Lambda's metrics: `METRICS_SERVICE_NAME` (the `service` dimension; the stack sets its name,
 * default `oauth2-token-service`), `METRICS_BY_CLIENT` (`true` adds a `ClientId` dimension to the
 * token metrics; off by default: one metric per client costs money), `METRICS_ENABLED` (default
 * true). `LOG_LEVEL=SILENT` writes no metric either: it means no output at all.
 */
export function buildServiceMetrics(
  reader: EnvironmentReader,
  logger: Logger,
  functionKind: string,
): ServiceMetrics {
  return createServiceMetrics({
    serviceName: reader.optional('METRICS_SERVICE_NAME') ?? 'oauth2-token-service',
    functionKind,
    byClient: reader.boolean('METRICS_BY_CLIENT', false),
    enabled: reader.boolean('METRICS_ENABLED', true) && reader.logLevel() !== 'SILENT',
    logger,
  });
}
