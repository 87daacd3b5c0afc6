import { resolveAudience } from './access-token-audience';
import { authenticateFormRequest, type FormHttpRequest } from './authenticated-form-request';
import { toEpochSeconds } from './clock';
import { DependencyUnavailable } from './dependency-unavailable';
import { type GrantType, isGrantType } from './grant-type';
import { authorizationCodeGrant } from './grants/authorization-code-grant';
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

/** What the token endpoint needs from an HTTP request: the same as every client-authenticated form endpoint. */
export type TokenHttpRequest = FormHttpRequest;

const GRANTS: Readonly<Record<GrantType, GrantHandler>> = {
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  authorization_code: authorizationCodeGrant,
};

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
    const { client, params } = await authenticateFormRequest(request, config, deps, {
      onClientId: (id) => {
        clientId = id;
      },
    });
    grantType = params.get('grant_type');
    if (grantType === undefined) throw new InvalidRequest('The grant_type parameter is required');
    if (!isGrantType(grantType)) {
      throw new UnsupportedGrantType(
        'Supported grant types: password, refresh_token, client_credentials, authorization_code',
      );
    }
    if (!client.grantTypes.includes(grantType)) {
      throw new UnauthorizedClient('This client is not allowed to use this grant type');
    }
    // Never derived from the request's Host header (a client picks it): configured, or none at all.
    const issuer = config.issuer ?? '';
    const audience = resolveAudience(client, params.get('resource'), config.accessTokenAudience, issuer);
    const now = toEpochSeconds(deps.clock());
    return await GRANTS[grantType]({ client, params, config, deps, now, audience, issuer });
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

/** Audit values come from the client: keep them short and printable for the log. */
const printable = (value: string): string => value.replace(/[^\x20-\x7E]/g, '?').slice(0, 128);

const causeText = (cause: unknown): string | undefined => {
  if (cause === undefined) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
};
