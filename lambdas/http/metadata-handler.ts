import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { authorizationServerMetadata, type MetadataConfig } from '../core/authorization-server-metadata';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { oauthErrorMiddleware } from './oauth-error-middleware';
import { requireGet } from './require-get';

/** `GET /.well-known/oauth-authorization-server` (RFC 8414): the same document whatever `Host` says. */
export function createMetadataHandler(config: MetadataConfig, logger: Logger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use(oauthErrorMiddleware(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      requireGet(event);
      // Public and the same for everyone: unlike token answers, it may be cached.
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
        body: JSON.stringify(authorizationServerMetadata(config)),
      };
    });
}
