import type { ClientRecord } from '../client-store';
import type { FormParams } from '../form-params';
import type { AccessTokenFormat, TokenEndpointConfig, TokenEndpointDeps } from '../token-endpoint-config';
import type { TokenResponseBody } from '../token-response';

export interface GrantContext {
  readonly client: ClientRecord;
  readonly params: FormParams;
  readonly config: TokenEndpointConfig;
  readonly deps: TokenEndpointDeps;
  /** Epoch seconds, read once per request so every expiry in one answer agrees. */
  readonly now: number;
  /** `aud` of a JWT access token, resolved from `resource` before anything is written (RFC 8707). */
  readonly audience: readonly string[];
  /** `iss` of a JWT access token: the metadata's issuer. */
  readonly issuer: string;
}

export type GrantHandler = (context: GrantContext) => Promise<TokenResponseBody>;

/** The client's own format where it has one, else the service's. */
export const accessTokenFormatOf = (context: Pick<GrantContext, 'client' | 'config'>): AccessTokenFormat =>
  context.client.accessTokenFormat ?? context.config.accessTokenFormat;

/** The client's own lifetimes where it has them, else the service's (JWTs: the shorter JWT default). */
export const tokenLifetimesOf = (context: Pick<GrantContext, 'client' | 'config'>) => ({
  accessTtl:
    context.client.accessTokenTtlSeconds ??
    (accessTokenFormatOf(context) === 'jwt'
      ? context.config.jwtAccessTokenTtlSeconds
      : context.config.accessTokenTtlSeconds),
  refreshTtl: context.client.refreshTokenTtlSeconds ?? context.config.refreshTokenTtlSeconds,
});
