import { authenticateClient, extractClientCredentials } from './client-authentication';
import { toEpochSeconds } from './clock';
import { DependencyUnavailable } from './dependency-unavailable';
import { assertFormContentType, parseFormParams } from './form-params';
import { type GrantType, isGrantType } from './grant-type';
import { clientCredentialsGrant } from './grants/client-credentials-grant';
import type { GrantHandler } from './grants/grant-context';
import { passwordGrant } from './grants/password-grant';
import { refreshTokenGrant } from './grants/refresh-token-grant';
import {
  InvalidRequest,
  OAuthError,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedGrantType,
} from './oauth-errors';
import type { TokenEndpointConfig, TokenEndpointDeps } from './token-endpoint-config';
import type { TokenResponseBody } from './token-response';

/** What the token endpoint needs from an HTTP request, whatever carried it (API Gateway, local server). */
export interface TokenHttpRequest {
  readonly method: string;
  /** True when the request reached the edge over TLS. */
  readonly secure: boolean;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly hasQueryParameters: boolean;
  /** Reads the raw body as UTF-8 text ('' when absent); may throw `InvalidRequest` (too large, not UTF-8). */
  readonly body: () => string;
}

const GRANTS: Readonly<Record<GrantType, GrantHandler>> = {
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
};

/** The token endpoint answers only POST (RFC 6749 §3.2). */
export const TOKEN_ENDPOINT_METHODS = ['POST'] as const;

/**
 * `POST /oauth2/token` as a pipeline of named steps. Resolves to the token response or throws an
 * `OAuthError`; dependency failures become `temporarily_unavailable` and nothing is issued.
 */
export async function issueToken(
  request: TokenHttpRequest,
  config: TokenEndpointConfig,
  deps: TokenEndpointDeps,
): Promise<TokenResponseBody> {
  let grantType: string | undefined;
  let clientId: string | undefined;
  try {
    requireTls(request, config);
    requirePost(request);
    const params = parseTokenRequestBody(request);
    const credentials = extractClientCredentials(request.authorization, params, config.realm);
    clientId = credentials.clientId;
    const client = await authenticateClient(credentials, deps.clients, config.realm);
    grantType = params.get('grant_type');
    if (grantType === undefined) throw new InvalidRequest('The grant_type parameter is required');
    if (!isGrantType(grantType)) {
      throw new UnsupportedGrantType('Supported grant types: password, refresh_token, client_credentials');
    }
    if (!client.grantTypes.includes(grantType)) {
      throw new UnauthorizedClient('This client is not allowed to use this grant type');
    }
    const now = toEpochSeconds(deps.clock());
    return await GRANTS[grantType]({ client, params, config, deps, now });
  } catch (error) {
    const failure =
      error instanceof DependencyUnavailable ? new TemporarilyUnavailable({ cause: error }) : error;
    if (failure instanceof OAuthError) {
      deps.audit({
        type: 'token_refused',
        ...(grantType === undefined ? {} : { grantType: printable(grantType) }),
        ...(clientId === undefined ? {} : { clientId: printable(clientId) }),
        error: failure.code,
        reason: causeText(failure.cause) ?? failure.description,
      });
    }
    throw failure;
  }
}

export function requireTls(request: { secure: boolean }, config: { requireSsl: boolean }): void {
  if (config.requireSsl && !request.secure) {
    throw new InvalidRequest('OAuth 2.0 requires all requests to be made over HTTPS');
  }
}

function requirePost(request: TokenHttpRequest): void {
  if (request.method !== 'POST') {
    throw new InvalidRequest('This endpoint only supports the POST method', {
      status: 405,
      headers: { Allow: TOKEN_ENDPOINT_METHODS.join(', ') },
    });
  }
}

/** Credentials never travel in the URL: any query parameter refuses the request. */
export function parseTokenRequestBody(request: TokenHttpRequest) {
  if (request.hasQueryParameters) {
    throw new InvalidRequest('Parameters must be sent in the request body, never in the URL');
  }
  assertFormContentType(request.contentType);
  return parseFormParams(request.body());
}

/** Audit values come from the client: keep them short and printable for the log. */
const printable = (value: string): string => value.replace(/[^\x20-\x7E]/g, '?').slice(0, 128);

const causeText = (cause: unknown): string | undefined => {
  if (cause === undefined) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
};
