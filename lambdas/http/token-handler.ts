import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { issueToken } from '../core/token-endpoint';
import type { TokenEndpointConfig, TokenEndpointDeps } from '../core/token-endpoint-config';
import { formHttpRequestOf } from './api-gateway-request';
import { jsonResponse } from './http-response';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { oauthErrorMiddleware } from './oauth-error-middleware';

/** `POST /oauth2/token` as an API Gateway (REST, proxy) Lambda handler. */
export function createTokenHandler(config: TokenEndpointConfig, deps: TokenEndpointDeps, logger: Logger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use(oauthErrorMiddleware(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .handler(async (event) => jsonResponse(200, await issueToken(formHttpRequestOf(event), config, deps)));
}
