import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../lambdas/cli/admin-cli';
import { DEMO_USER } from '../../lambdas/local/local-stack';

/** `npm start` as a user or a process manager runs it, from this worktree. */
function npmStart(env: Record<string, string | undefined>): { child: ChildProcess; output: () => string } {
  const childEnv: Record<string, string | undefined> = { ...process.env, PORT: '0', ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  // Its own process group only so that afterEach can clean up if a test fails; the tests signal the npm PID alone.
  const child = spawn('npm', ['start', '--silent'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function bannerOf(output: () => string): Promise<string> {
  await expect.poll(() => /^\s+curl .*$/m.test(output()), { timeout: 30_000, interval: 100 }).toBe(true);
  return output();
}

function descendantsOf(pid: number): number[] {
  let listed = '';
  try {
    listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no child
  }
  const children = listed
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => n > 0);
  return children.flatMap((child) => [child, ...descendantsOf(child)]);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portAcceptsConnections = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Signals the npm process only (not its group) and checks that everything under it is gone. */
async function stopsOn(child: ChildProcess, signal: NodeJS.Signals, port: number): Promise<void> {
  const pid = child.pid as number;
  const descendants = descendantsOf(pid);
  expect(descendants.length).toBeGreaterThan(0);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, signal);
  await exited; // bounded by the test's timeout: "within a few seconds"
  expect(await portAcceptsConnections(port)).toBe(false);
  // Nothing re-parented to PID 1 and still running.
  await expect.poll(() => descendants.filter(alive), { timeout: 3_000 }).toEqual([]);
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
  }
});

describe('npm start (issue 14, items 5, 7 and 8)', () => {
  it('logs at INFO by default (audit events visible) and stops on SIGTERM to the npm process', {
    timeout: 60_000,
  }, async () => {
    const { child, output } = npmStart({ LOG_LEVEL: undefined });
    running.push(child);
    const banner = await bannerOf(output);
    expect(banner).toMatch(/log level:\s+INFO/);
    const url = /base URL:\s+(\S+)/.exec(banner)?.[1] as string;
    const [, id, secret] = /curl -s -u '([^:]+):([^']+)'/.exec(banner) ?? [];
    const login = await fetch(`${url}/oauth2/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: DEMO_USER.username,
        password: DEMO_USER.password,
      }).toString(),
    });
    expect(login.status).toBe(200);
    await expect.poll(output, { timeout: 5_000 }).toContain('"message":"audit token_issued"');
    await stopsOn(child, 'SIGTERM', Number(new URL(url).port));
  });

  it('with HOST=0.0.0.0 and AUTH_CHECK_URL prints only what works, and stops on SIGINT', {
    timeout: 60_000,
  }, async () => {
    const { child, output } = npmStart({
      HOST: '0.0.0.0',
      AUTH_CHECK_URL: 'http://127.0.0.1:9/check',
      LOG_LEVEL: 'SILENT',
    });
    running.push(child);
    const banner = await bannerOf(output);
    expect(banner).not.toContain(DEMO_USER.password);
    expect(banner).not.toContain('Try a password grant');
    expect(banner).toContain('grant_type=client_credentials');
    expect(banner).not.toContain('http://0.0.0.0');
    const endpoint = /--endpoint-url (\S+)/.exec(banner)?.[1] as string;
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(endpoint).port;

    // The printed admin command works without any AWS setup, and so does the wildcard address.
    for (const endpointUrl of [endpoint, `http://0.0.0.0:${port}`]) {
      let stdout = '';
      let stderr = '';
      const code = await runAdminCli(
        ['list-clients', '--endpoint-url', endpointUrl, '--function-name', 'admin'],
        { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
        { env: {} },
      );
      expect(code, `${endpointUrl}: ${stderr}`).toBe(0);
      expect(JSON.parse(stdout)).toHaveProperty('clients');
    }
    // The client_credentials curl the banner prints works.
    const [, id, secret] = /curl -s -u '([^:]+):([^']+)'/.exec(banner) ?? [];
    const cc = await fetch(`${endpoint}/oauth2/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(cc.status).toBe(200);
    await stopsOn(child, 'SIGINT', Number(port));
  });
});
