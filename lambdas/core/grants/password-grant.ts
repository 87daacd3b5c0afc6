import { InvalidGrant, InvalidRequest } from '../oauth-errors';
import { parseScope, resolveScope } from '../scope';
import type { GrantHandler } from './grant-context';
import { issueGrant } from './issue-grant';

/** RFC 6749 §4.3: the resource owner's credentials are checked by the deployer's AuthCheck. */
export const passwordGrant: GrantHandler = async (context) => {
  const { client, params, deps } = context;
  const username = params.get('username');
  const password = params.get('password');
  if (username === undefined || password === undefined) {
    throw new InvalidRequest('Both username and password are required');
  }
  const requested = params.get('scope');
  const scope = resolveScope(requested === undefined ? undefined : parseScope(requested), client.scope);
  const userId = await deps.authCheck.checkCredentials({ username, password, clientId: client.clientId });
  if (userId === null) {
    throw new InvalidGrant('The username or password is incorrect', {
      cause: 'AuthCheck rejected the credentials',
    });
  }
  return issueGrant(context, { grantType: 'password', userId, scope, withRefreshToken: true });
};
