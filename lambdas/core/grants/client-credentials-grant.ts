import { parseScope, resolveScope } from '../scope';
import type { GrantHandler } from './grant-context';
import { issueGrant } from './issue-grant';

/** RFC 6749 §4.4: the client acts on its own behalf; no refresh token (§4.4.3), no user. */
export const clientCredentialsGrant: GrantHandler = async (context) => {
  const requested = context.params.get('scope');
  const scope = resolveScope(
    requested === undefined ? undefined : parseScope(requested),
    context.client.scope,
    context.client.defaultScope,
  );
  return issueGrant(context, { grantType: 'client_credentials', scope, withRefreshToken: false });
};
