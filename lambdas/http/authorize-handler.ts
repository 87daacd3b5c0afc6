import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  type AuthorizeConfig,
  type AuthorizeDeps,
  type AuthorizeHttpRequest,
  type AuthorizeOutcome,
  authorize,
  requestFields,
} from '../core/authorize-endpoint';
import type { OAuthError } from '../core/oauth-errors';
import { arrivedOverTls, bodyText, headerValue } from './api-gateway-request';
import { toOAuthError } from './http-response';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { logOAuthError } from './service-logger';
import { pageHeaders, renderErrorPage, renderSignInPage } from './sign-in-page';

/** `__Host-` (Secure, Path=/, no Domain: no subdomain can set or read it) wherever the scheme allows. */
export const SECURE_FORM_COOKIE = '__Host-oauth2-authorize';
/** On plain http (the loopback local stack) a Secure cookie would not come back. */
export const PLAIN_FORM_COOKIE = 'oauth2-authorize';

export interface AuthorizeHandlerConfig extends AuthorizeConfig {
  /** The configured issuer (`ISSUER`); absent: the API's base URL, as in the metadata. */
  readonly issuer?: string;
}

/**
 * The base URL the browser used (scheme, Host, API Gateway's stage prefix): only for the login
 * page's `return_to`, and for `iss` when no `ISSUER` is configured (the local stack sets one).
 */
function requestBaseUrl(event: APIGatewayProxyEvent): string {
  const proto = arrivedOverTls(event) ? 'https' : 'http';
  const host = headerValue(event, 'host') ?? event.requestContext?.domainName ?? 'localhost';
  const fullPath = event.requestContext?.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  return `${proto}://${host}${prefix}`;
}

const formCookieName = (secure: boolean): string => (secure ? SECURE_FORM_COOKIE : PLAIN_FORM_COOKIE);

/** One cookie's value out of a Cookie header (first occurrence). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function queryPairs(event: APIGatewayProxyEvent): Array<[string, string]> {
  const multi = event.multiValueQueryStringParameters;
  if (multi !== null && multi !== undefined) {
    return Object.entries(multi).flatMap(([name, values]) =>
      (values ?? []).map((value) => [name, value] as [string, string]),
    );
  }
  return Object.entries(event.queryStringParameters ?? {}).map(
    ([name, value]) => [name, value ?? ''] as [string, string],
  );
}

export function authorizeHttpRequestOf(
  event: APIGatewayProxyEvent,
  issuer: string | undefined,
): AuthorizeHttpRequest {
  const secure = arrivedOverTls(event);
  const cookieHeader = headerValue(event, 'cookie');
  const base = requestBaseUrl(event);
  const query = queryPairs(event);
  const search = query.length === 0 ? '' : `?${new URLSearchParams(query).toString()}`;
  const browserKey = cookieValue(cookieHeader, formCookieName(secure));
  return {
    method: event.httpMethod,
    secure,
    query,
    contentType: headerValue(event, 'content-type'),
    body: () => bodyText(event),
    cookieHeader,
    browserKey,
    issuer: (issuer ?? base).replace(/\/+$/, ''),
    url: `${base}${event.path}${search}`,
  };
}

const originOf = (uri: string): string => new URL(uri).origin;

function errorPage(error: OAuthError): APIGatewayProxyResult {
  const title =
    error.code === 'temporarily_unavailable'
      ? 'Sign-in is temporarily unavailable'
      : error.code === 'server_error'
        ? 'Something went wrong'
        : 'This sign-in request cannot be completed';
  return {
    statusCode: error.status,
    headers: { ...pageHeaders(), ...error.headers },
    body: renderErrorPage(title, error.description),
  };
}

export function authorizeResult(outcome: AuthorizeOutcome, secure: boolean): APIGatewayProxyResult {
  switch (outcome.kind) {
    case 'error-page':
      return errorPage(outcome.error);
    case 'redirect':
      return {
        statusCode: 302,
        headers: {
          Location: outcome.location,
          'Cache-Control': 'no-store',
          Pragma: 'no-cache',
          'Referrer-Policy': 'no-referrer',
        },
        body: '',
      };
    case 'sign-in': {
      const cookie = [
        `${formCookieName(secure)}=${outcome.browserKey}`,
        'Path=/',
        'HttpOnly',
        'SameSite=Strict',
        'Max-Age=3600',
        ...(secure ? ['Secure'] : []),
      ].join('; ');
      return {
        statusCode: outcome.status,
        headers: {
          ...pageHeaders([originOf(outcome.request.redirectUri)]),
          ...outcome.headers,
          'Set-Cookie': cookie,
        },
        body: renderSignInPage({
          clientName: outcome.client.name,
          hiddenFields: requestFields(outcome.request),
          formToken: outcome.formToken,
          ...(outcome.message === undefined ? {} : { message: outcome.message }),
        }),
      };
    }
  }
}

/** `GET` / `POST /oauth2/authorize` as an API Gateway (REST, proxy) Lambda handler; every error is a page. */
export function createAuthorizeHandler(config: AuthorizeHandlerConfig, deps: AuthorizeDeps, logger: Logger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use({
      onError: async (request) => {
        const error = toOAuthError(request.error);
        logOAuthError(logger, error);
        request.response = errorPage(error);
      },
    })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .handler(async (event) => {
      const request = authorizeHttpRequestOf(event, config.issuer);
      return authorizeResult(await authorize(request, config, deps), request.secure);
    });
}
