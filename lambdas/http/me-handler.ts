import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonResponse } from './http-response';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { oauthErrorMiddleware } from './oauth-error-middleware';

/** Rebuilds the user id with the JSON type the AuthCheck gave it (the context is strings only). */
function userIdFrom(context: Record<string, unknown>): string | number | null {
  const raw = context.user_id;
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return null;
  return context.user_id_type === 'number' ? Number(raw) : raw;
}

/** `GET /me`: a demo resource that echoes who the authorizer let in. */
export function createMeHandler(logger: Logger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use(oauthErrorMiddleware(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const context = (event.requestContext.authorizer ?? {}) as Record<string, unknown>;
      return jsonResponse(200, {
        user_id: userIdFrom(context),
        client_id: typeof context.client_id === 'string' ? context.client_id : null,
        scope: typeof context.scope === 'string' ? context.scope : '',
      });
    });
}
