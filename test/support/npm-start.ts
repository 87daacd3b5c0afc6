import { type ChildProcess, spawn } from 'node:child_process';

/**
 * `npm start --silent` on a free port, in its own process group (stop it with
 * `process.kill(-child.pid, 'SIGTERM')`), resolved once the banner is printed; `output()` is all it
 * wrote so far, stdout and stderr.
 */
export async function spawnNpmStart(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 20 s:\n${output}`)), 20_000);
    const poll = setInterval(() => {
      if (output.includes('Try a password grant')) {
        clearInterval(poll);
        clearTimeout(timer);
        // The banner's last lines follow in the same tick or the next.
        setTimeout(resolve, 100);
      }
    }, 50);
  });
  return { child, output: () => output };
}
