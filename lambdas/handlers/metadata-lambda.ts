import { createMetadataHandler } from '../http/metadata-handler';
import { createServiceLogger } from '../http/service-logger';
import { ConfigurationError } from './configuration-error';
import { type Environment, EnvironmentReader } from './environment-reader';

/**
 * Composition root of the metadata Lambda, which answers `/.well-known/oauth-authorization-server`
 * (RFC 8414) and `/.well-known/openid-configuration` (what OpenID discovery readers such as API
 * Gateway's JWT authorizer fetch) with the same document: `ISSUER` (required) and `SCOPES_SUPPORTED`
 * (space-delimited, optional).
 *
 * `ISSUER` is required rather than derived from the request: `Host` is chosen by the client, so a
 * derived issuer let `Host: evil.example` publish `"issuer":"https://evil.example"` in a publicly
 * cacheable answer. CDK always sets it (custom domain, else the API's URL with its stage); the
 * local stack sets it from its configured host and port. It must be https (RFC 8414 §2) unless
 * `REQUIRE_SSL=false`, the local stack's explicit plain-HTTP switch, which also allows `http://`.
 */
export function buildMetadataLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const requireSsl = reader.boolean('REQUIRE_SSL', true);
  const issuer = reader.optional('ISSUER');
  if (issuer === undefined) {
    throw new ConfigurationError(
      'ISSUER is required: the metadata never derives its issuer from the request Host header',
    );
  }
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigurationError('ISSUER must be a URL');
  }
  const schemes = requireSsl ? ['https:'] : ['https:', 'http:'];
  // RFC 8414 §2: https, no query, no fragment.
  if (!schemes.includes(url.protocol) || url.search !== '' || url.hash !== '') {
    throw new ConfigurationError(
      requireSsl
        ? 'ISSUER must be an https URL without query or fragment'
        : 'ISSUER must be an http(s) URL without query or fragment',
    );
  }
  const scopes = reader.optional('SCOPES_SUPPORTED');
  return createMetadataHandler(
    { issuer, scopesSupported: scopes === undefined ? [] : scopes.split(/\s+/) },
    createServiceLogger('oauth2-metadata', reader.logLevel()),
  );
}
