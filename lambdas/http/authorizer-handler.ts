import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { OAuthError } from '../core/oauth-errors';
import {
  type AccessTokenClaims,
  parseBearerAuthorization,
  type VerifyAccessTokenDeps,
  verifyAccessToken,
} from '../core/verify-access-token';
import { arrivedOverTls, headerValue } from './api-gateway-request';
import { logOAuthError } from './service-logger';

export interface AuthorizerConfig {
  /** Refuse bearer tokens that did not arrive over TLS (the original accepted them over plain HTTP). */
  readonly requireSsl: boolean;
  readonly realm: string;
}

/** API Gateway answers 401 only for this exact error message. */
export const UNAUTHORIZED = 'Unauthorized';
/** Any other error makes API Gateway answer 500 (mapped to 503 by the stack's gateway responses). */
export const AUTHORIZER_UNAVAILABLE = 'temporarily_unavailable';

/**
 * ARN covering every method and path of the API, so API Gateway's authorizer cache (keyed by the
 * token) can safely reuse one decision across routes.
 */
export function wholeApiArn(methodArn: string): string {
  const [prefix = methodArn] = methodArn.split('/');
  return `${prefix}/*`;
}

/** The authorizer context: strings only, as API Gateway stringifies it anyway. */
export function authorizerContext(claims: AccessTokenClaims): Record<string, string> {
  return {
    client_id: claims.clientId,
    scope: claims.scope.join(' '),
    ...(claims.userId === undefined
      ? {}
      : {
          user_id: String(claims.userId),
          user_id_type: typeof claims.userId === 'number' ? 'number' : 'string',
        }),
  };
}

/** A REQUEST-type Lambda authorizer for REST APIs: `Authorization: Bearer <access token>` (RFC 6750 §2.1). */
export function createAuthorizerHandler(
  config: AuthorizerConfig,
  deps: VerifyAccessTokenDeps,
  logger: Logger,
) {
  return middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        if (config.requireSsl && !arrivedOverTls(event)) throw new Error('bearer token sent without TLS');
        const token = parseBearerAuthorization(headerValue(event, 'authorization'));
        const claims = await verifyAccessToken(token, deps, config.realm);
        logger.info('access allowed', { clientId: claims.clientId, grantId: claims.grantId });
        return {
          principalId: String(claims.userId ?? claims.clientId),
          policyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) },
            ],
          },
          context: authorizerContext(claims),
        };
      } catch (error) {
        if (error instanceof DependencyUnavailable) {
          logger.error('authorizer dependency failed', {
            dependency: error.dependency,
            cause: error.message,
          });
          throw new Error(AUTHORIZER_UNAVAILABLE);
        }
        if (error instanceof OAuthError) logOAuthError(logger, error);
        else logger.info('access denied', { cause: error instanceof Error ? error.message : typeof error });
        throw new Error(UNAUTHORIZED);
      }
    });
}
