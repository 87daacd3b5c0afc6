import type { ClientRecord } from '../client-store';
import type { FormParams } from '../form-params';
import type { TokenEndpointConfig, TokenEndpointDeps } from '../token-endpoint-config';
import type { TokenResponseBody } from '../token-response';

export interface GrantContext {
  readonly client: ClientRecord;
  readonly params: FormParams;
  readonly config: TokenEndpointConfig;
  readonly deps: TokenEndpointDeps;
  /** Epoch seconds, read once per request so every expiry in one answer agrees. */
  readonly now: number;
}

export type GrantHandler = (context: GrantContext) => Promise<TokenResponseBody>;

/** The client's own lifetimes where it has them, else the service's. */
export const tokenLifetimesOf = (context: GrantContext) => ({
  accessTtl: context.client.accessTokenTtlSeconds ?? context.config.accessTokenTtlSeconds,
  refreshTtl: context.client.refreshTokenTtlSeconds ?? context.config.refreshTokenTtlSeconds,
});
