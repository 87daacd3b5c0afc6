import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { SigningKeyStore } from '../core/signing-keys';
import { FileSigningKeyStore } from '../store/file-signing-key-store';
import type { EnvironmentReader } from './environment-reader';

/**
 * Where the private signing keys are: `SIGNING_KEYS_SECRET_ARN` (Secrets Manager; `SECRETS_MANAGER_ENDPOINT`
 * for emulators) or `SIGNING_KEYS_FILE` (the local stack, mode 0600). Undefined when neither is set.
 *
 * The Secrets Manager store and its SDK are loaded on first use, through a relative `import()` that
 * esbuild inlines: an opaque-mode token function never loads them (cold start). A bare
 * `import('@aws-sdk/…')` would stay an ESM import in the CJS bundle, which ignores the runtime's
 * NODE_PATH and fails on Lambda (verify:deployment caught that and now refuses it).
 */
export function buildSigningKeyStore(reader: EnvironmentReader): SigningKeyStore | undefined {
  const arn = reader.optional('SIGNING_KEYS_SECRET_ARN');
  if (arn !== undefined) {
    const location = {
      endpoint: reader.optional('SECRETS_MANAGER_ENDPOINT'),
      region: reader.optional('AWS_REGION'),
    };
    let store: Promise<SigningKeyStore> | undefined;
    const load = () => {
      store ??= Promise.all([
        import('../store/secrets-manager-signing-key-store'),
        import('./secrets-manager-signing-key-client'),
      ]).then(
        ([{ SecretsManagerSigningKeyStore }, { createSigningKeySecretsClient }]) =>
          new SecretsManagerSigningKeyStore(arn, async () => createSigningKeySecretsClient(location)),
        (error: unknown) => {
          store = undefined;
          throw new DependencyUnavailable('secrets', 'Secrets Manager client could not be loaded', {
            cause: error,
          });
        },
      );
      return store;
    };
    return {
      loadSigningKeys: async () => (await load()).loadSigningKeys(),
      saveSigningKeys: async (keys) => (await load()).saveSigningKeys(keys),
    };
  }
  const file = reader.optional('SIGNING_KEYS_FILE');
  return file === undefined ? undefined : new FileSigningKeyStore(file);
}
