import { authenticateClient, extractClientCredentials } from './client-authentication';
import type { ClientRecord, ClientStore } from './client-store';
import { type Clock, toEpochSeconds } from './clock';
import { assertFormContentType, type FormParams, parseFormParams } from './form-params';
import { InvalidRequest } from './oauth-errors';

/**
 * What a client-authenticated form endpoint (token, revocation, introspection) needs from an HTTP
 * request, whatever carried it (API Gateway, the local server, a test).
 */
export interface FormHttpRequest {
  readonly method: string;
  /** True when the request reached the edge over TLS. */
  readonly secure: boolean;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly hasQueryParameters: boolean;
  /** Reads the raw body as UTF-8 text ('' when absent); may throw `InvalidRequest` (too large, not UTF-8). */
  readonly body: () => string;
}

export interface FormEndpointConfig {
  /**
   * Refuse requests that did not arrive over TLS. Security-relevant: only an explicit `false`
   * turns it off (configuration parsing enforces that), for a loopback-only local stack.
   */
  readonly requireSsl: boolean;
  /** Realm in `WWW-Authenticate` challenges. */
  readonly realm: string;
}

export interface AuthenticatedFormRequest {
  /** The authenticated, enabled client. */
  readonly client: ClientRecord;
  readonly params: FormParams;
}

/** These endpoints answer only POST (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1). */
export const FORM_ENDPOINT_METHODS = ['POST'] as const;

/**
 * The prelude every client-authenticated endpoint shares, in this order: TLS check → POST only →
 * form body (no query parameters, no repeated parameters) → client credentials from the Basic header
 * or the body (never both) → client authentication. Throws `OAuthError`s (405 with `Allow`, 400
 * `invalid_request`, 401 `invalid_client` with a Basic challenge); a store failure propagates as
 * `DependencyUnavailable`. One DynamoDB read: the client.
 *
 * `observe.onClientId` hears the claimed client id before it is authenticated, so a caller can
 * name it in the audit log of a refusal.
 */
export async function authenticateFormRequest(
  request: FormHttpRequest,
  config: FormEndpointConfig,
  deps: { readonly clients: ClientStore; readonly clock?: Clock },
  observe: { readonly onClientId?: (clientId: string) => void } = {},
): Promise<AuthenticatedFormRequest> {
  requireTls(request, config);
  requirePost(request);
  const params = parseFormRequestBody(request);
  const credentials = extractClientCredentials(request.authorization, params, config.realm);
  observe.onClientId?.(credentials.clientId);
  const now = deps.clock === undefined ? undefined : toEpochSeconds(deps.clock());
  const client = await authenticateClient(credentials, deps.clients, config.realm, now);
  return { client, params };
}

function requireTls(request: FormHttpRequest, config: FormEndpointConfig): void {
  if (config.requireSsl && !request.secure) {
    throw new InvalidRequest('OAuth 2.0 requires all requests to be made over HTTPS');
  }
}

function requirePost(request: FormHttpRequest): void {
  if (request.method !== 'POST') {
    throw new InvalidRequest('This endpoint only supports the POST method', {
      status: 405,
      headers: { Allow: FORM_ENDPOINT_METHODS.join(', ') },
    });
  }
}

/** Credentials and tokens never travel in the URL: any query parameter refuses the request. */
function parseFormRequestBody(request: FormHttpRequest): FormParams {
  if (request.hasQueryParameters) {
    throw new InvalidRequest('Parameters must be sent in the request body, never in the URL');
  }
  assertFormContentType(request.contentType);
  return parseFormParams(request.body());
}
