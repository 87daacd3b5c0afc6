import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { SigningKeySet, SigningKeyStore } from '../core/signing-keys';
import { parseSigningKeySet } from './signing-key-set-json';

/**
 * The private key set in one Secrets Manager secret (encrypted with KMS at rest). The client is made
 * on first use. The SDK is imported statically: a bundle's `import()` of the runtime-provided SDK is
 * resolved as ESM, which ignores the runtime's NODE_PATH and fails on Lambda (verify:deployment
 * caught it).
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
      await (await this.sdk()).send(
        new PutSecretValueCommand({ SecretId: this.secretArn, SecretString: JSON.stringify(keys) }),
      );
    } catch (error) {
      throw new DependencyUnavailable('secrets', 'signing keys could not be saved', { cause: error });
    }
  }
}
