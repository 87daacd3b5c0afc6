import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** Runs `work` under this process's V8 CPU profiler and writes the profile to `file` (`.cpuprofile`). */
export async function profileInProcess<T>(file: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    try {
      return await work();
    } finally {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
    }
  } finally {
    session.disconnect();
  }
}
