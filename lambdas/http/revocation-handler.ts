import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { FormEndpointConfig } from '../core/authenticated-form-request';
import { type RevocationDeps, revokeToken } from '../core/revocation-endpoint';
import { formHttpRequestOf } from './api-gateway-request';
import { jsonResponse } from './http-response';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { oauthErrorMiddleware } from './oauth-error-middleware';

/**
 * `POST /oauth2/revoke` (RFC 7009) as an API Gateway (REST, proxy) Lambda handler. Success is `200 {}`:
 * RFC 7009 §2.2 has the client ignore the body, and an empty JSON object keeps every answer of the
 * service JSON with the same no-store headers.
 */
export function createRevocationHandler(config: FormEndpointConfig, deps: RevocationDeps, logger: Logger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use(oauthErrorMiddleware(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .handler(async (event) => {
      await revokeToken(formHttpRequestOf(event), config, deps);
      return jsonResponse(200, {});
    });
}
