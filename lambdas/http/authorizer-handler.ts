import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { UserId } from '../core/auth-check';
import { authenticateRequest, type Principal } from '../core/authenticate-request';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { OAuthError } from '../core/oauth-errors';
import type { SessionCheck } from '../core/session-check';
import type { VerifyAccessTokenDeps } from '../core/verify-access-token';
import { arrivedOverTls, headerValue } from './api-gateway-request';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { logOAuthError } from './service-logger';
import { METRIC, type ServiceMetrics } from './service-metrics';

export interface AuthorizerConfig {
  /** Refuse bearer tokens that did not arrive over TLS (the original accepted them over plain HTTP). */
  readonly requireSsl: boolean;
  readonly realm: string;
}

export interface AuthorizerDeps extends VerifyAccessTokenDeps {
  /** Cookie sessions (combined authentication); absent = bearer tokens only. */
  readonly sessionCheck?: SessionCheck;
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

const userIdContext = (userId: UserId | undefined): Record<string, string> =>
  userId === undefined
    ? {}
    : { user_id: String(userId), user_id_type: typeof userId === 'number' ? 'number' : 'string' };

/** The authorizer context: strings only, as API Gateway stringifies it anyway. */
export function authorizerContext(principal: Principal): Record<string, string> {
  if (principal.method === 'session') {
    return { auth_method: 'session', scope: '', ...userIdContext(principal.userId) };
  }
  const { claims } = principal;
  return {
    auth_method: 'bearer',
    client_id: claims.clientId,
    scope: claims.scope.join(' '),
    ...userIdContext(claims.userId),
  };
}

const principalIdOf = (principal: Principal): string =>
  principal.method === 'session'
    ? String(principal.userId)
    : String(principal.claims.userId ?? principal.claims.clientId);

/**
 * A REQUEST-type Lambda authorizer for REST APIs: `Authorization: Bearer <access token>` (RFC 6750 §2.1),
 * or, when a session check is configured and no Authorization header is sent, the Cookie header.
 */
export function createAuthorizerHandler(
  config: AuthorizerConfig,
  deps: AuthorizerDeps,
  logger: Logger,
  metrics?: ServiceMetrics,
) {
  return middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>(LAMBDA_DEADLINE)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        if (config.requireSsl && !arrivedOverTls(event)) throw new Error('credentials sent without TLS');
        const principal = await authenticateRequest(
          { authorization: headerValue(event, 'authorization'), cookie: headerValue(event, 'cookie') },
          deps,
          config.realm,
        );
        metrics?.count(METRIC.authorizerAllowed);
        logger.info('access allowed', {
          method: principal.method,
          ...(principal.method === 'bearer'
            ? { clientId: principal.claims.clientId, grantId: principal.claims.grantId }
            : {}),
        });
        return {
          principalId: principalIdOf(principal),
          policyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) },
            ],
          },
          context: authorizerContext(principal),
        };
      } catch (error) {
        if (error instanceof DependencyUnavailable) {
          metrics?.count(METRIC.authorizerUnavailable);
          logger.error('authorizer dependency failed', {
            dependency: error.dependency,
            cause: error.message,
          });
          throw new Error(AUTHORIZER_UNAVAILABLE);
        }
        metrics?.count(METRIC.authorizerDenied);
        if (error instanceof OAuthError) logOAuthError(logger, error);
        else logger.info('access denied', { cause: error instanceof Error ? error.message : typeof error });
        throw new Error(UNAUTHORIZED);
      }
    });
}
