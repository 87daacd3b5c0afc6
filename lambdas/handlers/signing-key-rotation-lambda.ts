import { randomBytes } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { type Clock, toEpochSeconds } from '../core/clock';
import {
  type PublicKeyStore,
  type RotationPolicy,
  rotateSigningKeys,
  type SigningKeyStore,
} from '../core/signing-keys';
import { LAMBDA_DEADLINE } from '../http/lambda-deadline';
import { createServiceLogger } from '../http/service-logger';
import { ConfigurationError } from './configuration-error';
import { type Environment, EnvironmentReader } from './environment-reader';
import { buildSigningKeyStore, readRotationPolicy } from './signing-key-environment';
import { buildStores } from './store-environment';

/**
 * The scheduled rotation, also run once at deploy time (a CDK trigger) so a new stack has its first
 * key before its first token. Any event: it rotates only when due (the newest key is
 * `rotationDays` old), creates the first key when there is none, and drops keys past their removal.
 * A failure is thrown, so the deployment (trigger) or the schedule's retry sees it.
 */
export function createSigningKeyRotationHandler(
  deps: { privateKeys: SigningKeyStore; publicKeys: PublicKeyStore; clock: Clock },
  policy: RotationPolicy,
  logger: Logger,
) {
  return middy<unknown, Record<string, unknown>>(LAMBDA_DEADLINE)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const result = await rotateSigningKeys(
        { signingKeys: deps.privateKeys, publicKeys: deps.publicKeys, random: randomBytes },
        policy,
        toEpochSeconds(deps.clock()),
        { force: false },
      );
      // kids only: they are public. No key material is ever logged.
      logger.info('signing keys checked', { ...result });
      return { ...result };
    });
}

/** Composition root: `SIGNING_KEYS_SECRET_ARN`, `GRANTS_TABLE`, `SIGNING_KEY_*` (see `readRotationPolicy`). */
export function buildSigningKeyRotationLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const { publicKeys } = buildStores(reader);
  const privateKeys = buildSigningKeyStore(reader);
  if (privateKeys === undefined) throw new ConfigurationError('SIGNING_KEYS_SECRET_ARN is required');
  return createSigningKeyRotationHandler(
    { privateKeys, publicKeys, clock: Date.now },
    readRotationPolicy(reader),
    createServiceLogger('oauth2-signing-keys', reader.logLevel()),
  );
}
