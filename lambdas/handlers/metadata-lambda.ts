import { createMetadataHandler } from '../http/metadata-handler';
import { createServiceLogger } from '../http/service-logger';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readIssuer } from './signing-key-environment';

/**
 * Composition root of the metadata Lambda, which answers both `/.well-known/oauth-authorization-server`
 * (RFC 8414) and `/.well-known/openid-configuration` (what OpenID discovery readers such as API
 * Gateway's JWT authorizer fetch) with the same document: `ISSUER` (default: the API's base URL as
 * the client reached it) and `SCOPES_SUPPORTED` (space-delimited, optional).
 */
export function buildMetadataLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const issuer = readIssuer(reader);
  const scopes = reader.optional('SCOPES_SUPPORTED');
  return createMetadataHandler(
    {
      ...(issuer === undefined ? {} : { issuer }),
      scopesSupported: scopes === undefined ? [] : scopes.split(/\s+/),
    },
    createServiceLogger('oauth2-metadata', reader.logLevel()),
  );
}
