import { randomBytes } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { createServiceLogger } from '../http/service-logger';
import { awsClientLocation } from './aws-client-location';
import { type Environment, EnvironmentReader } from './environment-reader';

/** What Secrets Manager sends a rotation function, once per step. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

/** 48 random bytes (384 bits) from the CSPRNG, base64url: well above the 256-bit floor for secrets. */
export const newHookSecretValue = (random: (size: number) => Uint8Array = randomBytes): string =>
  Buffer.from(random(48)).toString('base64url');

/**
 * One step of Secrets Manager's rotation protocol for the hook secret, idempotent like every step
 * must be (Secrets Manager retries):
 * - `createSecret`: stage a fresh random value as `AWSPENDING` under the rotation's token, unless a
 *   version with that token exists already (a value staged by hand with `put-secret-value
 *   --client-request-token`, so the hook could learn it first: README, Operating the service);
 * - `setSecret`: nothing to push: the hook reads the secret itself, or was given it beforehand;
 * - `testSecret`: the pending value is readable and non-empty;
 * - `finishSecret`: move `AWSCURRENT` to the new version (the old one becomes `AWSPREVIOUS`).
 * The Lambdas pick the new value up within their 5-minute cache; until then they sign with the old
 * one, which is why a hook must accept both (the version header tells it which one signed).
 */
export async function rotateHookSecret(
  secrets: SecretsManagerClient,
  event: RotationEvent,
  logger: Logger,
  random?: (size: number) => Uint8Array,
): Promise<void> {
  const { SecretId, ClientRequestToken: token, Step } = event;
  const described = await secrets.send(new DescribeSecretCommand({ SecretId }));
  const stages = described.VersionIdsToStages?.[token];
  if (stages === undefined && Step !== 'createSecret') {
    throw new Error(`rotation token is not a version of the secret (step ${Step})`);
  }
  if (stages?.includes('AWSCURRENT')) {
    logger.info('hook secret rotation: version already current', { step: Step, version: token });
    return;
  }
  switch (Step) {
    case 'createSecret': {
      // The current version must exist before a pending one is worth making.
      await secrets.send(new GetSecretValueCommand({ SecretId, VersionStage: 'AWSCURRENT' }));
      if (stages?.includes('AWSPENDING')) {
        logger.info('hook secret rotation: pending version already staged', { version: token });
        return;
      }
      await secrets.send(
        new PutSecretValueCommand({
          SecretId,
          ClientRequestToken: token,
          SecretString: newHookSecretValue(random),
          VersionStages: ['AWSPENDING'],
        }),
      );
      logger.info('hook secret rotation: new version staged as AWSPENDING', { version: token });
      return;
    }
    case 'setSecret':
      return;
    case 'testSecret': {
      const pending = await secrets.send(
        new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }),
      );
      if (typeof pending.SecretString !== 'string' || pending.SecretString.length < 32) {
        throw new Error('pending hook secret is missing or shorter than 32 characters');
      }
      return;
    }
    case 'finishSecret': {
      const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, versionStages]) =>
        versionStages.includes('AWSCURRENT'),
      )?.[0];
      await secrets.send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(current === undefined ? {} : { RemoveFromVersionId: current }),
        }),
      );
      logger.info('hook secret rotation: new version is AWSCURRENT', { version: token, previous: current });
      return;
    }
  }
}

/** Composition root of the hook-secret rotation Lambda (invoked by Secrets Manager only). */
export function buildHookSecretRotationLambda(env: Environment) {
  const reader = new EnvironmentReader(env);
  const logger = createServiceLogger('oauth2-hook-secret-rotation', reader.logLevel());
  const secrets = new SecretsManagerClient(
    awsClientLocation({
      endpoint: reader.optional('SECRETS_MANAGER_ENDPOINT'),
      region: reader.optional('AWS_REGION'),
    }),
  );
  return middy<RotationEvent, void>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        await rotateHookSecret(secrets, event, logger);
      } catch (error) {
        // Secrets Manager retries and marks the rotation failed; the message never holds a value.
        logger.error('hook secret rotation step failed', {
          step: event.Step,
          cause: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
          notFound: error instanceof ResourceNotFoundException,
        });
        throw error;
      }
    });
}
