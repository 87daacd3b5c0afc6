import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file under `DATA_DIR` that keeps the local stack's lockout key secret across restarts. */
export const LOCKOUT_KEY_SECRET_FILE = 'lockout-key-secret';

/**
 * The local stack's `LOCKOUT_KEY_SECRET`: 256 random bits per start, or, with a data directory,
 * the one stored there (mode 0600, created on first start), so lockout state kept on disk is still
 * found under the same keys after a restart.
 */
export async function localLockoutKeySecret(dataDir: string | undefined): Promise<string> {
  const generated = randomBytes(32).toString('base64url');
  if (dataDir === undefined) return generated;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCKOUT_KEY_SECRET_FILE);
  try {
    // 'wx': never overwrite; a concurrent or earlier start's secret wins.
    await writeFile(path, generated, { mode: 0o600, flag: 'wx' });
    return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = (await readFile(path, 'utf8')).trim();
  if (stored.length < 32)
    throw new Error(`${path} does not hold a lockout key secret; delete it to make a new one`);
  return stored;
}
