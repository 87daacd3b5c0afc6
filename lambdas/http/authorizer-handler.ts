import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { UserId } from '../core/auth-check';
import { authenticateRequest, type Principal } from '../core/authenticate-request';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import { OAuthError } from '../core/oauth-errors';
import {
  checkRouteRequirements,
  type PresentedToken,
  type RequirementVerdict,
  type RouteRequirements,
  requirementsFor,
} from '../core/route-requirements';
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
 * The policy resource for exactly this route: `<api>/<stage>/<METHOD>/<resource path>`, path
 * parameters (`{id}`, `{proxy+}`) as `*`. API Gateway's cache is keyed by the token, the method and
 * the resource path (identity sources), so a cached decision is reused only for the same route, and
 * must cover every concrete path of that route (`/orders/1` and `/orders/2` of `/orders/{id}`).
 */
export function routeArn(methodArn: string, httpMethod: string, resourcePath: string): string {
  const [apiArn = methodArn, stage = '*'] = methodArn.split('/');
  const path = resourcePath.replace(/\{[^}]*\}/g, '*');
  return `${apiArn}/${stage}/${httpMethod}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Resource path and method of the route, as API Gateway names them (`/orders/{id}`, `GET`). */
function routeOf(event: APIGatewayRequestAuthorizerEvent): { httpMethod: string; resourcePath: string } {
  return {
    httpMethod: event.httpMethod ?? event.requestContext?.httpMethod ?? '',
    resourcePath: event.resource ?? event.requestContext?.resourcePath ?? '',
  };
}

const presentedToken = (principal: Principal): PresentedToken =>
  principal.method === 'session'
    ? { hasUser: true, scope: [] }
    : {
        hasUser: principal.claims.userId !== undefined,
        clientId: principal.claims.clientId,
        scope: principal.claims.scope,
        ...(principal.claims.audiences === undefined ? {} : { audiences: principal.claims.audiences }),
      };

/** The route's requirements; a malformed stage variable refuses access (logged), it never allows. */
function routeVerdict(
  event: APIGatewayRequestAuthorizerEvent,
  principal: Principal,
  logger: Logger,
): RequirementVerdict {
  const { httpMethod, resourcePath } = routeOf(event);
  let requirements: RouteRequirements;
  try {
    requirements = requirementsFor(event.stageVariables, httpMethod, resourcePath);
  } catch (error) {
    logger.error('route requirements unreadable: access refused', {
      httpMethod,
      resourcePath,
      cause: error instanceof Error ? error.message : typeof error,
    });
    return { allowed: false, reason: 'insufficient_scope' };
  }
  return checkRouteRequirements(presentedToken(principal), requirements);
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
 * A valid caller is then held to the route's requirements (stage variables, see route-requirements):
 * Allow or Deny for exactly this route.
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
        const verdict = routeVerdict(event, principal, logger);
        const { httpMethod, resourcePath } = routeOf(event);
        metrics?.count(verdict.allowed ? METRIC.authorizerAllowed : METRIC.authorizerDenied);
        logger.info(verdict.allowed ? 'access allowed' : 'access denied by route requirements', {
          method: principal.method,
          route: `${httpMethod} ${resourcePath}`,
          ...(principal.method === 'bearer'
            ? { clientId: principal.claims.clientId, grantId: principal.claims.grantId }
            : {}),
          ...(verdict.allowed ? {} : { reason: verdict.reason, missingScopes: verdict.missingScopes }),
        });
        // A Deny makes API Gateway answer 403 (ACCESS_DENIED) without calling the backend.
        return {
          principalId: principalIdOf(principal),
          policyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Action: 'execute-api:Invoke',
                Effect: verdict.allowed ? 'Allow' : 'Deny',
                Resource: routeArn(event.methodArn, httpMethod, resourcePath),
              },
            ],
          },
          context: verdict.allowed
            ? authorizerContext(principal)
            : { error: 'insufficient_scope', reason: verdict.reason },
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
