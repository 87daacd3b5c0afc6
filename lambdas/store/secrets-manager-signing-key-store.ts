import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { SigningKeySet, SigningKeyStore } from '../core/signing-keys';
import { parseSigningKeySet } from './signing-key-set-json';

/**
 * The private key set in one Secrets Manager secret (encrypted with KMS at rest). The SDK is loaded
 * with `import()` on first use, so functions that never sign do not pay for it.
 */
export class SecretsManagerSigningKeyStore implements SigningKeyStore {
  private client: Promise<SecretsManagerClient> | undefined;

  constructor(
    private readonly secretArn: string,
    private readonly makeClient: () => Promise<SecretsManagerClient>,
  ) {}

  private sdk(): Promise<SecretsManagerClient> {
    this.client ??= this.makeClient();
    return this.client;
  }

  async loadSigningKeys(): Promise<SigningKeySet | undefined> {
    let text: string | undefined;
    try {
      const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const output = await (await this.sdk()).send(new GetSecretValueCommand({ SecretId: this.secretArn }));
      text = output.SecretString;
    } catch (error) {
      throw new DependencyUnavailable('secrets', 'signing keys could not be read', { cause: error });
    }
    if (text === undefined) return undefined;
    try {
      const keys = parseSigningKeySet(text);
      return keys.keys.length === 0 ? undefined : keys;
    } catch (error) {
      // The error names no part of the value: it is a private key.
      throw new DependencyUnavailable('secrets', 'signing key secret malformed', {
        cause: error instanceof Error ? error.name : 'unknown',
      });
    }
  }

  async saveSigningKeys(keys: SigningKeySet): Promise<void> {
    try {
      const { PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      await (await this.sdk()).send(
        new PutSecretValueCommand({ SecretId: this.secretArn, SecretString: JSON.stringify(keys) }),
      );
    } catch (error) {
      throw new DependencyUnavailable('secrets', 'signing keys could not be saved', { cause: error });
    }
  }
}
