import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { FormEndpointConfig } from '../core/authenticated-form-request';
import { type IntrospectionDeps, introspectToken } from '../core/introspection-endpoint';
import { formHttpRequestOf } from './api-gateway-request';
import { jsonResponse } from './http-response';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { oauthErrorMiddleware } from './oauth-error-middleware';
import { METRIC, type ServiceMetrics } from './service-metrics';

/** `POST /oauth2/introspect` (RFC 7662) as an API Gateway (REST, proxy) Lambda handler. */
export function createIntrospectionHandler(
  config: FormEndpointConfig,
  deps: IntrospectionDeps,
  logger: Logger,
  metrics?: ServiceMetrics,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use(oauthErrorMiddleware(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .handler(async (event) => {
      const answer = await introspectToken(formHttpRequestOf(event), config, deps);
      metrics?.count(METRIC.introspections, { Active: String(answer.active) });
      return jsonResponse(200, answer);
    });
}
