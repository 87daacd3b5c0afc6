import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Clock } from '../core/clock';
import { toEpochSeconds } from '../core/clock';
import { jwksDocument, type PublicKeyStore, type PublishedKeySet } from '../core/signing-keys';
import { LAMBDA_DEADLINE } from './lambda-deadline';
import { oauthErrorMiddleware } from './oauth-error-middleware';
import { requireGet } from './require-get';

/**
 * How long browsers, CDNs and verifiers may cache the JWKS (≤ 3600 s). Far below the 2 h a new key
 * is published before it signs, so every cache sees it in time.
 */
export const JWKS_MAX_AGE_SECONDS = 300;
/** The function re-reads the public key item at most this often (one read per instance per minute). */
const JWKS_READ_CACHE_MS = 60_000;

/**
 * `GET /.well-known/jwks.json` (RFC 7517): the public keys that sign JWT access tokens, with `kid`,
 * `use: sig`, `alg: RS256`, including a key published ahead and retired keys still in their window.
 * Reads the public key item only; this function has no access to private keys.
 */
export function createJwksHandler(deps: { publicKeys: PublicKeyStore; clock: Clock }, logger: Logger) {
  let cached: { keys: PublishedKeySet | undefined; until: number } | undefined;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(LAMBDA_DEADLINE)
    .use(oauthErrorMiddleware(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      requireGet(event);
      const now = deps.clock();
      if (cached === undefined || cached.until <= now) {
        cached = { keys: await deps.publicKeys.loadPublicKeys(), until: now + JWKS_READ_CACHE_MS };
      }
      return {
        statusCode: 200,
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
        },
        body: JSON.stringify(jwksDocument(cached.keys, toEpochSeconds(now))),
      };
    });
}
