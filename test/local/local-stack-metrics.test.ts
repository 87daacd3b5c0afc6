import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER, type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { captureOutput, type OutputCapture } from '../support/captured-output';
import { type EmfRecord, emfRecords } from '../support/emf-records';
import { invokeLocalAdmin } from '../support/local-admin-invoke';

/**
 * The local stack writes the same CloudWatch EMF lines as the Lambdas: drive a few requests of each
 * kind and find every metric in the captured output, in one namespace, with low-cardinality
 * dimensions only (no user id, no username).
 */
describe('metrics in the local stack log output (EMF)', () => {
  let stack: LocalStack;
  let output: OutputCapture | undefined;
  const captured = () => output?.text() ?? '';

  beforeAll(async () => {
    // Swallowed, not forwarded: the test reads the lines instead of printing them.
    output = captureOutput();
    // The local stack's default level: the log stays quiet, the metrics do not.
    stack = await startLocalStack({ port: 0, environment: { LOG_LEVEL: 'WARN', LOCKOUT_THRESHOLD: '2' } });
  });
  afterAll(async () => {
    output?.stop();
    await stack?.close();
  });

  const post = (path: string, body: Record<string, string>, authorization?: string) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(authorization === undefined ? {} : { Authorization: authorization }),
      },
      body: new URLSearchParams(body).toString(),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, string>,
    }));

  it('token, AuthCheck, authorizer, introspection, revocation and admin metrics appear', async () => {
    const demo = stack.demoClient as { clientId: string; clientSecret: string };
    const basic = `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`;
    const login = await post(
      '/oauth2/token',
      { grant_type: 'password', username: DEMO_USER.username, password: DEMO_USER.password },
      basic,
    );
    expect(login.status).toBe(200);
    const refreshed = await post(
      '/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
      basic,
    );
    expect(refreshed.status).toBe(200);
    // A replay of the consumed refresh token, and two wrong passwords for another user (a lockout).
    expect(
      (
        await post(
          '/oauth2/token',
          { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
          basic,
        )
      ).status,
    ).toBe(400);
    for (let attempt = 0; attempt < 2; attempt++) {
      await post(
        '/oauth2/token',
        { grant_type: 'password', username: 'mallory', password: `guess-${attempt}` },
        basic,
      );
    }
    const fresh = await post(
      '/oauth2/token',
      { grant_type: 'password', username: DEMO_USER.username, password: DEMO_USER.password },
      basic,
    );
    const bearer = { Authorization: `Bearer ${fresh.body.access_token}` };
    expect((await fetch(`${stack.url}/me`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${stack.url}/me`, { headers: { Authorization: 'Bearer nope.nope' } })).status).toBe(
      401,
    );
    expect(
      (await post('/oauth2/introspect', { token: fresh.body.access_token as string }, basic)).status,
    ).toBe(200);
    expect((await post('/oauth2/revoke', { token: fresh.body.refresh_token as string }, basic)).status).toBe(
      200,
    );
    const listed = await invokeLocalAdmin(stack.url, { action: 'list-clients' });
    expect(listed.status).toBe(200);

    const records = emfRecords(captured());
    const named = (metric: string, dimensions: Record<string, string> = {}) =>
      records.filter(
        (record) =>
          record.metric === metric &&
          Object.entries(dimensions).every(([key, value]) => record.dimensions[key] === value),
      );
    expect(named('TokensIssued', { GrantType: 'password' }).length).toBeGreaterThanOrEqual(2);
    expect(named('TokensIssued', { GrantType: 'refresh_token' })).toHaveLength(1);
    expect(named('TokenRequestsRefused', { ErrorCode: 'invalid_grant' }).length).toBeGreaterThanOrEqual(3);
    expect(named('RefreshReuseDetected')).toHaveLength(1);
    expect(named('UsernameLockouts')).toHaveLength(1);
    expect(named('AuthCheckCalls').length).toBeGreaterThanOrEqual(4);
    expect(
      named('AuthCheckLatency').every(
        (record: EmfRecord) => record.unit === 'Milliseconds' && typeof record.value === 'number',
      ),
    ).toBe(true);
    expect(named('AuthorizerAllowed')).toHaveLength(1);
    expect(named('AuthorizerDenied')).toHaveLength(1);
    expect(named('Introspections', { Active: 'true' })).toHaveLength(1);
    expect(named('Revocations', { Reason: 'revocation_endpoint' })).toHaveLength(1);
    // The stack's own start-up lists the clients too (to re-key the demo client).
    expect(named('AdminActions', { Action: 'list-clients' }).length).toBeGreaterThanOrEqual(2);
    expect(named('ColdStarts', { Function: 'token' })).toHaveLength(1);
    // One namespace; only low-cardinality dimensions; never the user or the username.
    expect(new Set(records.map((record) => record.namespace))).toEqual(new Set(['OAuth2TokenService']));
    const dimensionNames = new Set(records.flatMap((record) => Object.keys(record.dimensions)));
    for (const name of dimensionNames) {
      expect([
        'service',
        'GrantType',
        'ErrorCode',
        'Kind',
        'Function',
        'Reason',
        'Active',
        'Action',
      ]).toContain(name);
    }
    const emfText = captured()
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .join('\n');
    for (const leak of [DEMO_USER.username, 'mallory', String(DEMO_USER.userId), demo.clientSecret]) {
      expect(emfText).not.toContain(`"${leak}"`);
    }
  });
});
