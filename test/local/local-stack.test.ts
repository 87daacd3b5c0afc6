import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCKOUT_KEY_SECRET_FILE } from '../../lambdas/local/local-lockout-key-secret';
import { DEMO_USER, type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { invokeLocalAdmin } from '../support/local-admin-invoke';
import { spawnNpmStart } from '../support/npm-start';

const QUIET = { LOG_LEVEL: 'SILENT' };
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function invokeAdmin(stack: LocalStack, payload: unknown, functionName = 'admin') {
  const response = await invokeLocalAdmin(stack.url, payload, { functionName });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('local stack (in memory, demo AuthCheck)', () => {
  let stack: LocalStack;
  let auth: string;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, environment: QUIET });
    const demo = stack.demoClient;
    if (demo === undefined) throw new Error('the local stack should create a demo client');
    auth = basic(demo.clientId, demo.clientSecret);
  });
  afterAll(() => stack.close());

  it('serves the README walk-through: password grant, /me, refresh, /me with the new token only', async () => {
    const login = await postForm(
      `${stack.url}/oauth2/token`,
      {
        grant_type: 'password',
        username: DEMO_USER.username,
        password: DEMO_USER.password,
      },
      { Authorization: auth },
    );
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('pragma')).toBe('no-cache');
    expect(Object.keys(login.body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'refresh_token',
      'user_id',
      'scope',
    ]);
    expect(login.body.user_id).toBe(1234);

    const me = await fetch(`${stack.url}/me`, {
      headers: { Authorization: `Bearer ${login.body.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({
      user_id: 1234,
      client_id: stack.demoClient?.clientId,
      scope: 'profile email',
    });

    const refreshed = await postForm(
      `${stack.url}/oauth2/token`,
      {
        grant_type: 'refresh_token',
        refresh_token: String(login.body.refresh_token),
      },
      { Authorization: auth },
    );
    expect(refreshed.status).toBe(200);
    const oldMe = await fetch(`${stack.url}/me`, {
      headers: { Authorization: `Bearer ${login.body.access_token}` },
    });
    expect(oldMe.status).toBe(401);
    const newMe = await fetch(`${stack.url}/me`, {
      headers: { Authorization: `Bearer ${refreshed.body.access_token}` },
    });
    expect(newMe.status).toBe(200);
  });

  it('serves the README revocation walk-through: introspect, revoke, introspect again, /me refuses', async () => {
    const login = await postForm(
      `${stack.url}/oauth2/token`,
      { grant_type: 'password', username: DEMO_USER.username, password: DEMO_USER.password },
      { Authorization: auth },
    );
    expect(login.status).toBe(200);
    const accessToken = String(login.body.access_token);

    const active = await postForm(
      `${stack.url}/oauth2/introspect`,
      { token: accessToken },
      { Authorization: auth },
    );
    expect(active.status).toBe(200);
    expect(active.headers.get('cache-control')).toBe('no-store');
    expect(active.headers.get('pragma')).toBe('no-cache');
    expect(active.body).toMatchObject({
      active: true,
      client_id: stack.demoClient?.clientId,
      user_id: 1234,
      scope: 'profile email',
      token_type: 'bearer',
    });
    expect((active.body.exp as number) - (active.body.iat as number)).toBe(3600);

    const revoked = await postForm(
      `${stack.url}/oauth2/revoke`,
      { token: String(login.body.refresh_token), token_type_hint: 'refresh_token' },
      { Authorization: auth },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('cache-control')).toBe('no-store');
    expect(revoked.body).toEqual({});

    const inactive = await postForm(
      `${stack.url}/oauth2/introspect`,
      { token: accessToken },
      { Authorization: auth },
    );
    expect(inactive.body).toEqual({ active: false });
    const me = await fetch(`${stack.url}/me`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(401);
    const refreshed = await postForm(
      `${stack.url}/oauth2/token`,
      { grant_type: 'refresh_token', refresh_token: String(login.body.refresh_token) },
      { Authorization: auth },
    );
    expect(refreshed.body.error).toBe('invalid_grant');

    // Same prelude as the token endpoint: POST only, client authentication required.
    const get = await fetch(`${stack.url}/oauth2/revoke`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const anonymous = await postForm(`${stack.url}/oauth2/introspect`, { token: accessToken });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="oauth2"/);
  });

  it('publishes RFC 8414 metadata whose endpoints work on this server', async () => {
    const response = await fetch(`${stack.url}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, string>;
    expect(metadata.issuer).toBe(stack.url);
    const demo = stack.demoClient as { clientId: string; clientSecret: string };
    const cc = await postForm(
      metadata.token_endpoint as string,
      { grant_type: 'client_credentials' },
      {
        Authorization: basic(demo.clientId, demo.clientSecret),
      },
    );
    expect(cc.status).toBe(200);
  });

  it('answers /me with a client_credentials token 403 insufficient_scope, as the deployed stack does', async () => {
    const cc = await postForm(
      `${stack.url}/oauth2/token`,
      { grant_type: 'client_credentials' },
      { Authorization: auth },
    );
    expect(cc.status).toBe(200);
    const me = await fetch(`${stack.url}/me`, {
      headers: { Authorization: `Bearer ${cc.body.access_token}` },
    });
    expect(me.status).toBe(403);
    expect(me.headers.get('www-authenticate')).toBe('Bearer realm="oauth2", error="insufficient_scope"');
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(await me.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'The access token does not grant access to this resource',
    });
  });

  it('derives the metadata issuer from its configured host and port, never from Host', async () => {
    const { port } = new URL(stack.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: Number(port),
          path: '/.well-known/oauth-authorization-server',
          headers: { Host: 'evil.example', 'X-Forwarded-Proto': 'https' },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain('evil');
    const metadata = JSON.parse(answer.body) as Record<string, string>;
    expect(metadata.issuer).toBe(`http://127.0.0.1:${port}`);
    expect(metadata.token_endpoint).toBe(`http://127.0.0.1:${port}/oauth2/token`);
  });

  it('answers /me without a valid bearer token with 401 and a Bearer challenge', async () => {
    const challenges: Array<Record<string, string>> = [
      {},
      { Authorization: 'Bearer nope' },
      { Authorization: 'Basic Zm9vOmJhcg==' },
    ];
    for (const headers of challenges) {
      const response = await fetch(`${stack.url}/me`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="oauth2"/);
      expect(await response.json()).toMatchObject({ error: 'invalid_token' });
    }
    const post = await fetch(`${stack.url}/me`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('passes the token endpoint errors through unchanged (405 with Allow, 404 elsewhere)', async () => {
    const get = await fetch(`${stack.url}/oauth2/token`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${stack.url}/nowhere`)).status).toBe(404);
  });

  it('locks a username out after 5 failed passwords, whatever the next password, with Retry-After', async () => {
    const attempt = (password: string) =>
      postForm(
        `${stack.url}/oauth2/token`,
        { grant_type: 'password', username: 'Lockout-Demo', password },
        {
          Authorization: auth,
        },
      );
    for (let i = 0; i < 5; i += 1) {
      const failed = await attempt(`wrong-${i}`);
      expect([failed.status, failed.body.error_description]).toEqual([
        400,
        'The username or password is incorrect',
      ]);
    }
    const locked = await attempt('anything');
    expect(locked.status).toBe(400);
    expect(locked.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Too many failed sign-in attempts for this username; try again later',
    });
    expect(locked.headers.get('cache-control')).toBe('no-store');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('emulates the Lambda Invoke API for the admin function only', async () => {
    const created = await invokeAdmin(stack, {
      action: 'create-client',
      name: 'cli',
      grant_types: ['client_credentials'],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'cli', grant_types: ['client_credentials'] });
    const cc = await postForm(
      `${stack.url}/oauth2/token`,
      { grant_type: 'client_credentials' },
      {
        Authorization: basic(String(created.body.client_id), String(created.body.client_secret)),
      },
    );
    expect(cc.status).toBe(200);

    expect(await invokeAdmin(stack, { action: 'nope' })).toMatchObject({
      status: 200,
      body: { error: 'invalid_request' },
    });
    expect((await invokeAdmin(stack, '{not json')).status).toBe(400);
    expect((await invokeAdmin(stack, { action: 'list-clients' }, 'token')).status).toBe(404);
    const byArn = await invokeAdmin(
      stack,
      { action: 'list-clients' },
      encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:admin'),
    );
    expect(byArn.status).toBe(200);
  });
});

describe('local stack settings', () => {
  it('REQUIRE_SSL=true refuses plain HTTP and trusts X-Forwarded-Proto: https', async () => {
    const stack = await startLocalStack({ port: 0, requireSsl: true, environment: QUIET });
    try {
      const demo = stack.demoClient as { clientId: string; clientSecret: string };
      const form = { grant_type: 'client_credentials' };
      const plain = await postForm(`${stack.url}/oauth2/token`, form, {
        Authorization: basic(demo.clientId, demo.clientSecret),
      });
      expect(plain.status).toBe(400);
      expect(plain.body.error).toBe('invalid_request');
      const tls = await postForm(`${stack.url}/oauth2/token`, form, {
        Authorization: basic(demo.clientId, demo.clientSecret),
        'X-Forwarded-Proto': 'https',
      });
      expect(tls.status).toBe(200);
    } finally {
      await stack.close();
    }
  });

  it('DATA_DIR keeps clients across restarts and re-keys the demo client', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'oauth2-local-'));
    try {
      const first = await startLocalStack({ port: 0, dataDir, environment: QUIET });
      const created = await invokeAdmin(first, {
        action: 'create-client',
        name: 'kept',
        grant_types: ['client_credentials'],
      });
      const oldDemo = first.demoClient as { clientId: string; clientSecret: string };
      await first.close();

      const second = await startLocalStack({ port: 0, dataDir, environment: QUIET });
      try {
        const listed = (await invokeAdmin(second, { action: 'list-clients' })).body.clients as Array<{
          client_id: string;
        }>;
        expect(listed.map((c) => c.client_id)).toContain(created.body.client_id);
        expect(second.demoClient?.clientId).toBe(oldDemo.clientId);
        expect(second.demoClient?.clientSecret).not.toBe(oldDemo.clientSecret);
        const cc = await postForm(
          `${second.url}/oauth2/token`,
          { grant_type: 'client_credentials' },
          {
            Authorization: basic(String(created.body.client_id), String(created.body.client_secret)),
          },
        );
        expect(cc.status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('DATA_DIR keeps the lockout key secret (mode 0600), so a lock survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'oauth2-local-'));
    const attempt = (stack: LocalStack, password: string) => {
      const demo = stack.demoClient as { clientId: string; clientSecret: string };
      return postForm(
        `${stack.url}/oauth2/token`,
        { grant_type: 'password', username: 'restart-demo', password },
        { Authorization: basic(demo.clientId, demo.clientSecret) },
      );
    };
    try {
      const first = await startLocalStack({ port: 0, dataDir, environment: QUIET });
      try {
        for (let i = 0; i < 5; i += 1) expect((await attempt(first, `wrong-${i}`)).status).toBe(400);
      } finally {
        await first.close();
      }
      const file = join(dataDir, LOCKOUT_KEY_SECRET_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').length).toBeGreaterThanOrEqual(32);

      const second = await startLocalStack({ port: 0, dataDir, environment: QUIET });
      try {
        const locked = await attempt(second, 'anything');
        expect([locked.status, locked.body.error_description]).toEqual([
          400,
          'Too many failed sign-in attempts for this username; try again later',
        ]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('AUTH_CHECK_URL sends password grants to the deployer hook instead of the demo checker', async () => {
    const seen: string[] = [];
    const hook: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push(body);
        const { username } = JSON.parse(body) as { username: string };
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ user_id: username === 'carol' ? 'user-carol' : null }));
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/check`;
    const stack = await startLocalStack({ port: 0, authCheckUrl: url, environment: QUIET });
    try {
      expect(stack.usesDemoAuthCheck).toBe(false);
      const demo = stack.demoClient as { clientId: string; clientSecret: string };
      const ok = await postForm(
        `${stack.url}/oauth2/token`,
        { grant_type: 'password', username: 'carol', password: 'x' },
        {
          Authorization: basic(demo.clientId, demo.clientSecret),
        },
      );
      expect(ok.body.user_id).toBe('user-carol');
      const demoUser = await postForm(
        `${stack.url}/oauth2/token`,
        {
          grant_type: 'password',
          username: DEMO_USER.username,
          password: DEMO_USER.password,
        },
        { Authorization: basic(demo.clientId, demo.clientSecret) },
      );
      expect(demoUser.body.error).toBe('invalid_grant');
      expect(JSON.parse(seen[0] as string)).toEqual({
        username: 'carol',
        password: 'x',
        client_id: demo.clientId,
      });
    } finally {
      await stack.close();
      hook.close();
    }
  });
});

describe('local stack with a session-check hook (combined authentication)', () => {
  let hook: Server;
  let stack: LocalStack;
  const cookies: string[] = [];
  beforeAll(async () => {
    hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const { cookie } = JSON.parse(body) as { cookie: string };
        cookies.push(cookie);
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ user_id: cookie.includes('session=good') ? 'cookie-user' : null }));
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/session`;
    stack = await startLocalStack({ port: 0, environment: { ...QUIET, SESSION_CHECK_URL: url } });
  });
  afterAll(async () => {
    await stack?.close();
    hook?.close();
  });
  const me = (headers: Record<string, string>) => fetch(`${stack.url}/me`, { headers });

  it('lets a cookie-only request in as the session user', async () => {
    const response = await me({ Cookie: 'theme=dark; session=good' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user_id: 'cookie-user', client_id: null, scope: '' });
    expect(cookies).toContain('theme=dark; session=good');
  });

  it('refuses a cookie the hook does not recognise', async () => {
    expect((await me({ Cookie: 'session=bad' })).status).toBe(401);
  });

  it('never lets a cookie rescue a malformed or unknown bearer token, and a valid bearer wins', async () => {
    const before = cookies.length;
    expect((await me({ Cookie: 'session=good', Authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await me({ Cookie: 'session=good', Authorization: 'Basic Zm9vOmJhcg==' })).status).toBe(401);
    expect(cookies).toHaveLength(before);
    const demo = stack.demoClient as { clientId: string; clientSecret: string };
    const login = await postForm(
      `${stack.url}/oauth2/token`,
      { grant_type: 'password', username: DEMO_USER.username, password: DEMO_USER.password },
      { Authorization: basic(demo.clientId, demo.clientSecret) },
    );
    const response = await me({ Cookie: 'session=good', Authorization: `Bearer ${login.body.access_token}` });
    expect((await response.json()) as object).toMatchObject({ user_id: 1234 });
  });
});

describe('npm start', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    // npm → node (package.json execs one process): the group, in case the test failed before it stopped.
    if (child?.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  });

  it('prints the base URL and a working curl for the demo client', async () => {
    const started = await spawnNpmStart();
    child = started.child;
    const output = started.output();
    const url = /base URL:\s+(\S+)/.exec(output)?.[1];
    const curl = /curl -s -u '([^:]+):([^']+)'/.exec(output);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toContain('DEMO ONLY');
    expect(output).toContain('NOT required');
    const login = await postForm(
      `${url}/oauth2/token`,
      {
        grant_type: 'password',
        username: DEMO_USER.username,
        password: DEMO_USER.password,
      },
      { Authorization: basic(curl?.[1] as string, curl?.[2] as string) },
    );
    expect(login.status).toBe(200);
  });
});
