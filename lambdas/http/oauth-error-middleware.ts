import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { oauthErrorResponse, toOAuthError } from './http-response';
import { logOAuthError } from './service-logger';

/**
 * Turns whatever a handler threw into an RFC-shaped JSON error. Placed first in the chain so it
 * also catches failures of the other middlewares.
 */
export const oauthErrorMiddleware = <TEvent>(
  logger: Logger,
): middy.MiddlewareObj<TEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    const error = toOAuthError(request.error);
    logOAuthError(logger, error);
    request.response = oauthErrorResponse(error);
  },
});
