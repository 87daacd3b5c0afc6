import type { ClientRecord } from './client-store';
import { InvalidTarget } from './oauth-errors';

/**
 * RFC 8707 at the token endpoint: a `resource` must be one of the client's audiences (exact match),
 * else `invalid_target`; without one, the client's first audience, the service's
 * `accessTokenAudience`, or the issuer. Checked before anything is written.
 */
export function resolveAudience(
  client: ClientRecord,
  resource: string | undefined,
  serviceAudience: string | undefined,
  issuer: string,
): readonly string[] {
  if (resource !== undefined) {
    if (!(client.audiences ?? []).includes(resource)) {
      throw new InvalidTarget('The resource is not a registered audience of this client', {
        cause: 'resource not among the client audiences',
      });
    }
    return [resource];
  }
  return [client.audiences?.[0] ?? serviceAudience ?? issuer];
}
