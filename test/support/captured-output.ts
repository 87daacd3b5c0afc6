import { vi } from 'vitest';

/** Runs `action` with stdout and stderr captured (not printed); returns what was written. */
export async function capturingOutput<T>(action: () => Promise<T>): Promise<{ result: T; output: string }> {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { result: await action(), output: written.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
