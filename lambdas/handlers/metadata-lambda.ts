import { createMetadataHandler } from '../http/metadata-handler';
import { createServiceLogger } from '../http/service-logger';
import { ConfigurationError } from './configuration-error';
import { type Environment, EnvironmentReader } from './environment-reader';

/**
 * Composition root of the RFC 8414 metadata Lambda: `ISSUER` (default: the API's base URL as the
 * client reached it) and `SCOPES_SUPPORTED` (space-delimited, optional).
 */
export function buildMetadataLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const issuer = reader.optional('ISSUER');
  if (issuer !== undefined) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new ConfigurationError('ISSUER must be a URL');
    }
    // RFC 8414 §2: https, no query, no fragment.
    if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
      throw new ConfigurationError('ISSUER must be an https URL without query or fragment');
    }
  }
  const scopes = reader.optional('SCOPES_SUPPORTED');
  return createMetadataHandler(
    {
      ...(issuer === undefined ? {} : { issuer }),
      scopesSupported: scopes === undefined ? [] : scopes.split(/\s+/),
    },
    createServiceLogger('oauth2-metadata', reader.logLevel()),
  );
}
