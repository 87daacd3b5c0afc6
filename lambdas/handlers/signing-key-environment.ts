import { DEFAULT_ROTATION_POLICY, type RotationPolicy } from '../core/signing-keys';
import { type AccessTokenFormat, isAccessTokenFormat } from '../core/token-endpoint-config';
import { ConfigurationError } from './configuration-error';
import type { EnvironmentReader } from './environment-reader';

/** `ACCESS_TOKEN_FORMAT`: `opaque` (default) or `jwt`. */
export function readAccessTokenFormat(reader: EnvironmentReader): AccessTokenFormat {
  const value = reader.optional('ACCESS_TOKEN_FORMAT') ?? 'opaque';
  if (!isAccessTokenFormat(value)) {
    throw new ConfigurationError(`ACCESS_TOKEN_FORMAT must be "opaque" or "jwt", got "${value}"`);
  }
  return value;
}

/**
 * `ISSUER`: the metadata's issuer and every JWT's `iss`. RFC 8414 §2: https without query or
 * fragment; plain http only where the TLS check is off (`REQUIRE_SSL=false`, the loopback local stack).
 */
export function readIssuer(reader: EnvironmentReader): string | undefined {
  const issuer = reader.optional('ISSUER');
  if (issuer === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigurationError('ISSUER must be a URL');
  }
  const httpAllowed = !reader.boolean('REQUIRE_SSL', true);
  const schemeOk = url.protocol === 'https:' || (httpAllowed && url.protocol === 'http:');
  if (!schemeOk || url.search !== '' || url.hash !== '') {
    throw new ConfigurationError('ISSUER must be an https URL without query or fragment');
  }
  return issuer.replace(/\/+$/, '');
}

/** `SIGNING_KEY_ROTATION_DAYS` (default 90), `SIGNING_KEY_PUBLISH_AHEAD_SECONDS` (default 7200). */
export function readRotationPolicy(reader: EnvironmentReader): RotationPolicy {
  return Object.freeze({
    ...DEFAULT_ROTATION_POLICY,
    rotationDays: reader.integer('SIGNING_KEY_ROTATION_DAYS', DEFAULT_ROTATION_POLICY.rotationDays, {
      min: 1,
      max: 3650,
    }),
    publishAheadSeconds: reader.integer(
      'SIGNING_KEY_PUBLISH_AHEAD_SECONDS',
      DEFAULT_ROTATION_POLICY.publishAheadSeconds,
      { min: 0, max: 7 * 24 * 3600 },
    ),
  });
}

/** The signing function re-reads the private key set this often (a rotation is published 2 h ahead). */
export const SIGNING_KEYS_CACHE_MS = 5 * 60 * 1000;
