import { checkCredentials } from '../check-credentials';
import { InvalidRequest } from '../oauth-errors';
import { parseScope, resolveScope } from '../scope';
import type { GrantHandler } from './grant-context';
import { issueGrant } from './issue-grant';

/**
 * RFC 6749 §4.3: the resource owner's credentials are checked by the deployer's AuthCheck behind the
 * per-username lockout (`checkCredentials`): a locked username is refused without asking the
 * AuthCheck, with the same answer whether or not the password is right.
 */
export const passwordGrant: GrantHandler = async (context) => {
  const { client, params, deps, now } = context;
  const username = params.get('username');
  const password = params.get('password');
  if (username === undefined || password === undefined) {
    throw new InvalidRequest('Both username and password are required');
  }
  const requested = params.get('scope');
  const scope = resolveScope(
    requested === undefined ? undefined : parseScope(requested),
    client.scope,
    client.defaultScope,
  );
  const { userId, settled } = await checkCredentials(
    { username, password, clientId: client.clientId },
    context.config.lockout,
    deps,
    now,
  );
  const [response] = await Promise.all([
    issueGrant(context, { grantType: 'password', userId, scope, withRefreshToken: true }),
    settled,
  ]);
  return response;
};
