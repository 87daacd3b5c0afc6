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
import { buildSigningKeyStore } from './build-signing-key-store';
import { ConfigurationError } from './configuration-error';
import { type Environment, EnvironmentReader } from './environment-reader';
import { readRotationPolicy } from './signing-key-environment';
import { buildStores } from './store-environment';

/** What CloudFormation sends a custom resource whose service token is this function. */
interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
}

const isCustomResourceEvent = (event: unknown): event is CustomResourceEvent =>
  typeof event === 'object' &&
  event !== null &&
  typeof (event as Record<string, unknown>).RequestType === 'string' &&
  typeof (event as Record<string, unknown>).ResponseURL === 'string';

/** The custom resource protocol's answer: a PUT of the outcome to the pre-signed S3 URL. */
async function answerCloudFormation(event: CustomResourceEvent, failure: string | undefined): Promise<void> {
  const body = JSON.stringify({
    Status: failure === undefined ? 'SUCCESS' : 'FAILED',
    Reason: failure ?? 'signing keys ready',
    PhysicalResourceId: event.PhysicalResourceId ?? 'signing-keys',
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'Content-Type': '' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`CloudFormation response refused: ${response.status}`);
}

/**
 * The scheduled rotation, also run at deploy time as a custom resource (its service token is this
 * function) that the token function depends on, so a new stack has its first key before its first
 * token. It rotates only when due (the newest key is `rotationDays` old), creates the first key when
 * there is none, and drops keys past their removal. A failure is thrown (the schedule retries) or,
 * at deploy time, answered FAILED so the deployment stops.
 */
export function createSigningKeyRotationHandler(
  deps: { privateKeys: SigningKeyStore; publicKeys: PublicKeyStore; clock: Clock },
  policy: RotationPolicy,
  logger: Logger,
) {
  return middy<unknown, Record<string, unknown>>(LAMBDA_DEADLINE)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const rotate = async () => {
        const result = await rotateSigningKeys(
          { signingKeys: deps.privateKeys, publicKeys: deps.publicKeys, random: randomBytes },
          policy,
          toEpochSeconds(deps.clock()),
          { force: false },
        );
        // kids only: they are public. No key material is ever logged.
        logger.info('signing keys checked', { ...result });
        return { ...result };
      };
      if (!isCustomResourceEvent(event)) return rotate();
      // Deleting the stack deletes the secret; nothing to do for the keys themselves.
      if (event.RequestType === 'Delete') {
        await answerCloudFormation(event, undefined);
        return {};
      }
      try {
        const result = await rotate();
        await answerCloudFormation(event, undefined);
        return result;
      } catch (error) {
        logger.error('signing key setup failed', { cause: error instanceof Error ? error.name : 'unknown' });
        await answerCloudFormation(event, 'signing key setup failed (see the function log)');
        return {};
      }
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
