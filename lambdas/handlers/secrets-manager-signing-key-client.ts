import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsClientLocation } from './aws-client-location';

/**
 * The Secrets Manager client of the signing-key store, in its own module so that it is loaded (with
 * the SDK package) only by `import('./secrets-manager-signing-key-client')` on first use: esbuild
 * inlines that relative import, and the SDK is then `require`d from the runtime, as Lambda resolves it.
 */
export function createSigningKeySecretsClient(options: {
  endpoint?: string | undefined;
  region?: string | undefined;
}): SecretsManagerClient {
  return new SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 500,
      requestTimeout: 1000,
      throwOnRequestTimeout: true,
    }),
    ...awsClientLocation(options),
  });
}
