import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DependencyUnavailable } from '../core/dependency-unavailable';
import type { SigningKeySet, SigningKeyStore } from '../core/signing-keys';
import { parseSigningKeySet } from './signing-key-set-json';

/**
 * The local stack's private key set: one JSON file readable by its owner only (0600), written to a
 * temporary file and renamed so a crash never leaves half a key set.
 */
export class FileSigningKeyStore implements SigningKeyStore {
  constructor(private readonly path: string) {}

  async loadSigningKeys(): Promise<SigningKeySet | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DependencyUnavailable('secrets', 'signing key file unreadable', { cause: error });
    }
    try {
      return parseSigningKeySet(text);
    } catch (error) {
      // Only the error's name: a parser's message may quote the private key.
      throw new DependencyUnavailable('secrets', 'signing key file malformed', {
        cause: error instanceof Error ? error.name : 'unknown',
      });
    }
  }

  async saveSigningKeys(keys: SigningKeySet): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(keys), { mode: 0o600 });
    // writeFile's mode only applies to a new file, and the umask may narrow it: set it outright.
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }
}
