import { vi } from 'vitest';

/** Output capture over a span (e.g. `beforeAll` to `afterAll`): swallowed, not printed, until `stop`. */
export interface OutputCapture {
  /** Everything written to stdout and stderr since the capture started. */
  text(): string;
  /** Restores stdout and stderr. */
  stop(): void;
}

export function captureOutput(): OutputCapture {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    text: () => written.join(''),
    stop: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}

/** Runs `action` with stdout and stderr captured (not printed); returns what was written. */
export async function capturingOutput<T>(action: () => Promise<T>): Promise<{ result: T; output: string }> {
  const capture = captureOutput();
  try {
    return { result: await action(), output: capture.text() };
  } finally {
    capture.stop();
  }
}
