import type { PublicKeyStore, PublishedKeySet, SigningKeySet, SigningKeyStore } from '../core/signing-keys';

/** For tests and a local stack without DATA_DIR: the key set lives as long as the process. */
export class InMemorySigningKeyStore implements SigningKeyStore {
  private keys: SigningKeySet | undefined;

  async loadSigningKeys(): Promise<SigningKeySet | undefined> {
    return this.keys;
  }

  async saveSigningKeys(keys: SigningKeySet): Promise<void> {
    this.keys = structuredClone(keys);
  }
}

export class InMemoryPublicKeyStore implements PublicKeyStore {
  private keys: PublishedKeySet | undefined;

  async loadPublicKeys(): Promise<PublishedKeySet | undefined> {
    return this.keys;
  }

  async publishPublicKeys(keys: PublishedKeySet): Promise<void> {
    this.keys = structuredClone(keys);
  }
}
