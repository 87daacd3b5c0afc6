import { createAuthorizerHandler } from '../http/authorizer-handler';
import { createServiceLogger } from '../http/service-logger';
import { CachedClientStore } from '../store/cached-client-store';
import { PublicKeyCache } from '../store/public-key-cache';
import { buildSessionCheck } from './auth-check-environment';
import { type Environment, EnvironmentReader } from './environment-reader';
import { secretsManagerSecretFor } from './hook-secret';
import { buildServiceMetrics } from './metrics-environment';
import { readIssuer } from './signing-key-environment';
import { buildStores } from './store-environment';

/**
 * Composition root of the authorizer Lambda: `REQUIRE_SSL`, `CLIENT_CACHE_TTL_SECONDS` (default 30),
 * and the optional cookie session check `SESSION_CHECK_*` (secret from `SESSION_CHECK_SECRET_ARN`).
 * JWT access tokens are checked locally when `ISSUER` is set: `JWT_AUDIENCE` (space-delimited; `aud`
 * must contain one), `JWT_REVOCATION_CHECK` (`true` reads the grant per check; default `false`).
 */
export function buildAuthorizerLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const requireSsl = reader.boolean('REQUIRE_SSL', true);
  const cacheTtlSeconds = reader.integer('CLIENT_CACHE_TTL_SECONDS', 30, { min: 0, max: 300 });
  const logger = createServiceLogger('oauth2-authorizer', reader.logLevel());
  const metrics = buildServiceMetrics(reader, logger, 'authorizer');
  const { clients, grants, publicKeys } = buildStores(reader);
  const clock = Date.now;
  const issuer = readIssuer(reader);
  const audience = reader.optional('JWT_AUDIENCE')?.split(/\s+/);
  const revocationCheck = reader.boolean('JWT_REVOCATION_CHECK', false);
  const hookSecret = secretsManagerSecretFor(reader, 'SESSION_CHECK_SECRET_ARN');
  const sessionCheck = buildSessionCheck(reader, clock, hookSecret?.secret);
  const handler = createAuthorizerHandler(
    { requireSsl, realm: 'oauth2' },
    {
      grants,
      clients: new CachedClientStore(clients, cacheTtlSeconds * 1000, clock),
      clock,
      ...(issuer === undefined
        ? {}
        : {
            jwt: {
              lookup: new PublicKeyCache(publicKeys, clock).lookup,
              issuer,
              ...(audience === undefined ? {} : { audience }),
              revocationCheck,
            },
          }),
      ...(sessionCheck === undefined ? {} : { sessionCheck }),
    },
    logger,
    metrics,
  );
  handler.use(metrics.middleware());
  for (const middleware of hookSecret?.middlewares ?? []) handler.use(middleware);
  return handler;
}
