import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER, type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { captureOutput, type OutputCapture } from '../support/captured-output';
import { invokeLocalAdmin } from '../support/local-admin-invoke';

/**
 * Drives every route of the local stack at LOG_LEVEL=DEBUG with known secret values and asserts
 * none of them (password, client secret, tokens, their secret halves, Authorization values)
 * reaches stdout or stderr.
 */
describe('no secret reaches a log line', () => {
  let stack: LocalStack;
  let output: OutputCapture | undefined;
  const captured = () => output?.text() ?? '';
  const secrets = new Set<string>([DEMO_USER.password, 'wrong-password-7c1f']);

  beforeAll(async () => {
    // Swallowed, not forwarded: the test reads the lines instead of printing them.
    output = captureOutput();
    stack = await startLocalStack({ port: 0, environment: { LOG_LEVEL: 'DEBUG' } });
  });
  afterAll(async () => {
    output?.stop();
    await stack?.close();
  });

  const form = (path: string, body: Record<string, string>, authorization: string) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: authorization },
      body: new URLSearchParams(body).toString(),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, string>,
    }));
  const invoke = (payload: unknown) =>
    invokeLocalAdmin(stack.url, payload).then(
      (response) => response.json() as Promise<Record<string, string>>,
    );
  const remember = (...values: Array<string | undefined>) => {
    for (const value of values) {
      if (value === undefined) continue;
      secrets.add(value);
      const dot = value.indexOf('.');
      if (dot > 0) secrets.add(value.slice(dot + 1)); // the secret half of `<grantId>.<secret>`
    }
  };

  it('holds across token, refresh, /me, revoke, introspect, admin and failures', async () => {
    const created = await invoke({
      action: 'create-client',
      name: 'logs',
      grant_types: ['password', 'refresh_token'],
    });
    remember(created.client_secret);
    const basic = `Basic ${Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')}`;
    secrets.add(basic);
    secrets.add(basic.slice('Basic '.length));

    const login = await form(
      '/oauth2/token',
      { grant_type: 'password', username: 'demo', password: DEMO_USER.password },
      basic,
    );
    expect(login.status).toBe(200);
    remember(login.body.access_token, login.body.refresh_token);
    const refreshed = await form(
      '/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
      basic,
    );
    remember(refreshed.body.access_token, refreshed.body.refresh_token);
    await form(
      '/oauth2/token',
      { grant_type: 'password', username: 'demo', password: 'wrong-password-7c1f' },
      basic,
    );
    await form(
      '/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
      basic,
    ); // reuse
    await fetch(`${stack.url}/me`, { headers: { Authorization: `Bearer ${refreshed.body.access_token}` } });
    await form('/oauth2/introspect', { token: refreshed.body.access_token as string }, basic);
    await form('/oauth2/revoke', { token: refreshed.body.refresh_token as string }, basic);
    await form(
      '/oauth2/token',
      { grant_type: 'client_credentials' },
      `Basic ${Buffer.from(`${created.client_id}:not-the-secret-91ab`).toString('base64')}`,
    );
    secrets.add('not-the-secret-91ab');
    const rotated = await invoke({ action: 'rotate-secret', client_id: created.client_id });
    remember(rotated.client_secret);

    // The logs were really captured, and they do describe these requests (ids, not secrets).
    expect(captured()).toContain(created.client_id);
    expect(captured()).toContain('refresh_token_reused');
    for (const secret of secrets)
      expect(captured(), 'a secret value appeared in the logs').not.toContain(secret);
  });
});
