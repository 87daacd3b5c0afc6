import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_USER,
  type LocalStack,
  SIGNING_KEYS_FILE,
  startLocalStack,
} from '../../lambdas/local/local-stack';
import { invokeLocalAdmin } from '../support/local-admin-invoke';

const QUIET = { LOG_LEVEL: 'SILENT' };
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function login(stack: LocalStack) {
  const demo = stack.demoClient;
  if (demo === undefined) throw new Error('no demo client');
  const response = await fetch(`${stack.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: basic(demo.clientId, demo.clientSecret),
    },
    body: new URLSearchParams({
      grant_type: 'password',
      username: DEMO_USER.username,
      password: DEMO_USER.password,
    }).toString(),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; expires_in: number; refresh_token: string };
}

describe('local stack in JWT mode (ACCESS_TOKEN_FORMAT=jwt, no AWS)', () => {
  let stack: LocalStack;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'oauth2-jwt-local-'));
    stack = await startLocalStack({
      port: 0,
      dataDir,
      environment: { ...QUIET, ACCESS_TOKEN_FORMAT: 'jwt' },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates the key on first start, kept under DATA_DIR with mode 0600', () => {
    expect(statSync(join(dataDir, SIGNING_KEYS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('issues a JWT (900 s) that /me accepts and jose verifies against the served JWKS and issuer', async () => {
    const issued = await login(stack);
    expect(decodeProtectedHeader(issued.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(issued.expires_in).toBe(900);
    const me = await fetch(`${stack.url}/me`, {
      headers: { Authorization: `Bearer ${issued.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user_id: DEMO_USER.userId });

    const discovery = (await (await fetch(`${stack.url}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(stack.url);
    expect(discovery).not.toHaveProperty('id_token_signing_alg_values_supported');
    const jwksResponse = await fetch(discovery.jwks_uri);
    const maxAge = Number(/max-age=(\d+)/.exec(jwksResponse.headers.get('cache-control') ?? '')?.[1]);
    expect(jwksResponse.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(maxAge).toBeLessThanOrEqual(3600);
    const { payload } = await jwtVerify(
      issued.access_token,
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      {
        issuer: discovery.issuer,
        algorithms: ['RS256'],
        typ: 'at+jwt',
      },
    );
    expect(payload.user_id).toBe(DEMO_USER.userId);
  });

  it('keeps the key across a restart on the same DATA_DIR: old tokens still pass', async () => {
    const issued = await login(stack);
    const kid = decodeProtectedHeader(issued.access_token).kid;
    // Same port, so the same issuer: a token's iss names the URL the stack serves.
    const port = Number(new URL(stack.url).port);
    await stack.close();
    stack = await startLocalStack({
      port,
      dataDir,
      environment: { ...QUIET, ACCESS_TOKEN_FORMAT: 'jwt' },
    });
    const old = await fetch(`${stack.url}/me`, {
      headers: { Authorization: `Bearer ${issued.access_token}` },
    });
    expect(old.status).toBe(200);
    const again = await login(stack);
    expect(decodeProtectedHeader(again.access_token).kid).toBe(kid);
    const rotated = await invokeLocalAdmin(stack.url, { action: 'rotate-signing-key' });
    const answer = (await rotated.json()) as {
      outcome: string;
      kid: string;
      signing_kid: string;
      published_kids: string[];
    };
    expect(answer).toMatchObject({ outcome: 'rotated', signing_kid: kid });
    expect(answer.published_kids).toEqual([kid, answer.kid]);
    const jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((key) => key.kid)).toEqual([kid, answer.kid]);
  }, 60_000);
});
