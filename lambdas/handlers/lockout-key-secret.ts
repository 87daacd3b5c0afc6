import type middy from '@middy/core';
import { ConfigurationError } from './configuration-error';
import type { EnvironmentReader } from './environment-reader';
import { secretsManagerSecretFor } from './hook-secret';

/** 32 characters: a generated secret of at least 256 bits in any of the usual encodings. */
const MIN_SECRET_LENGTH = 32;

export interface LockoutKeySecret {
  /** The secret for the current invocation. */
  readonly secret: () => Promise<string>;
  /** Add to the handler's middy chain (Secrets Manager only: prefetched at cold start, cached). */
  readonly middlewares: readonly middy.MiddlewareObj[];
}

/**
 * The HMAC secret lockout keys are made with (`lockoutKeyOf`): `LOCKOUT_KEY_SECRET` (tests, the
 * local stack) or `LOCKOUT_KEY_SECRET_ARN` (Secrets Manager, deployed; a failed fetch is 503).
 * `required`: the token Lambda needs it whenever the lockout is on, the admin Lambda always
 * (unlock-username); a missing or short one fails the cold start, naming the variable.
 */
export function readLockoutKeySecret(reader: EnvironmentReader, required: boolean): LockoutKeySecret {
  const fromSecretsManager = secretsManagerSecretFor(reader, 'LOCKOUT_KEY_SECRET_ARN', 'lockoutKeySecret');
  if (fromSecretsManager !== undefined) {
    const { secret, middlewares } = fromSecretsManager;
    return { secret: async () => (await secret()).secret, middlewares };
  }
  const value = reader.optional('LOCKOUT_KEY_SECRET');
  if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
    throw new ConfigurationError(`LOCKOUT_KEY_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  if (value === undefined && required) {
    throw new ConfigurationError(
      'LOCKOUT_KEY_SECRET or LOCKOUT_KEY_SECRET_ARN is required (the password lockout keys usernames with it)',
    );
  }
  return {
    secret: async () => {
      if (value === undefined) throw new ConfigurationError('LOCKOUT_KEY_SECRET is not configured');
      return value;
    },
    middlewares: [],
  };
}
