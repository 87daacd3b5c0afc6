import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SigningKeyStore } from '../core/signing-keys';
import { FileSigningKeyStore } from '../store/file-signing-key-store';
import { SecretsManagerSigningKeyStore } from '../store/secrets-manager-signing-key-store';
import { awsClientLocation } from './aws-client-location';
import type { EnvironmentReader } from './environment-reader';

// Its own module: only the functions that sign or rotate load the Secrets Manager SDK for it (the
// authorizer reads the issuer from signing-key-environment and must not pay for this import).
/**
 * Where the private signing keys are: `SIGNING_KEYS_SECRET_ARN` (Secrets Manager; `SECRETS_MANAGER_ENDPOINT`
 * for emulators) or `SIGNING_KEYS_FILE` (the local stack, mode 0600). Undefined when neither is set.
 */
export function buildSigningKeyStore(reader: EnvironmentReader): SigningKeyStore | undefined {
  const arn = reader.optional('SIGNING_KEYS_SECRET_ARN');
  if (arn !== undefined) {
    const endpoint = reader.optional('SECRETS_MANAGER_ENDPOINT');
    const region = reader.optional('AWS_REGION');
    return new SecretsManagerSigningKeyStore(arn, async () => {
      return new SecretsManagerClient({
        maxAttempts: 2,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: 500,
          requestTimeout: 1000,
          throwOnRequestTimeout: true,
        }),
        ...awsClientLocation({ endpoint, region }),
      });
    });
  }
  const file = reader.optional('SIGNING_KEYS_FILE');
  return file === undefined ? undefined : new FileSigningKeyStore(file);
}
