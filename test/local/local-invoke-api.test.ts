import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../lambdas/cli/admin-cli';
import { isLoopbackHost } from '../../lambdas/local/local-invoke-guard';
import {
  LOCAL_HEADERS_TIMEOUT_MS,
  LOCAL_REQUEST_TIMEOUT_MS,
  type LocalStack,
  startLocalStack,
} from '../../lambdas/local/local-stack';
import { invokeLocalAdmin, LOCAL_INVOKE_HEADERS } from '../support/local-admin-invoke';

const QUIET = { LOG_LEVEL: 'SILENT' };

/** A raw HTTP request, so the Host header can be anything (fetch always sends the URL's host). */
function rawInvoke(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: '/2015-03-31/functions/admin/invocations',
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        setHost: false,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: response.headers['x-amzn-errortype'] as string | undefined,
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function clientNames(stack: LocalStack): Promise<string[]> {
  const listed = (await (await invokeLocalAdmin(stack.url, { action: 'list-clients' })).json()) as {
    clients: Array<{ name: string }>;
  };
  return listed.clients.map((client) => client.name);
}

describe('local Invoke API: only the AWS CLI and SDK, never a web page (issue 10, finding 6)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, environment: QUIET, demoClient: false });
  });
  afterAll(() => stack.close());

  const create = (name: string) =>
    JSON.stringify({ action: 'create-client', name, grant_types: ['client_credentials'] });
  const host = () => new URL(stack.url).host;

  it('refuses a cross-origin text/plain POST (what any page can send) and creates nothing', async () => {
    const answer = await rawInvoke(
      stack.url,
      { Host: host(), 'Content-Type': 'text/plain;charset=UTF-8', Origin: 'https://evil.example' },
      create('from-a-page'),
    );
    expect(answer.status).toBe(415);
    expect(answer.type).toBe('UnsupportedMediaTypeException');
    expect(answer.body).not.toContain('client_secret');
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const signed = await rawInvoke(
        stack.url,
        { ...LOCAL_INVOKE_HEADERS, Host: host(), 'Content-Type': type },
        create('form'),
      );
      expect(signed.status, type).toBe(415);
    }
    expect(await clientNames(stack)).not.toContain('from-a-page');
    expect(await clientNames(stack)).not.toContain('form');
  });

  it('refuses a non-loopback Host (DNS rebinding), even with every other header right', async () => {
    for (const name of ['evil.example', 'evil.example:3000', '192.168.1.10', 'localhost.evil.example']) {
      const answer = await rawInvoke(stack.url, { ...LOCAL_INVOKE_HEADERS, Host: name }, create('rebound'));
      expect(answer.status, name).toBe(403);
      expect(answer.type, name).toBe('AccessDeniedException');
    }
    expect(await clientNames(stack)).not.toContain('rebound');
  });

  it('refuses a request without Authorization, or with one not shaped like SigV4 for lambda', async () => {
    const missing = await rawInvoke(
      stack.url,
      { Host: host(), 'Content-Type': 'application/json' },
      create('unsigned'),
    );
    expect(missing.status).toBe(403);
    expect(missing.type).toBe('MissingAuthenticationTokenException');
    for (const authorization of [
      'Basic Zm9vOmJhcg==',
      'Bearer abc',
      'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=' +
        '0'.repeat(64),
      'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=zz',
    ]) {
      const answer = await rawInvoke(
        stack.url,
        { Host: host(), 'Content-Type': 'application/json', Authorization: authorization },
        create('badly-signed'),
      );
      expect(answer.status, authorization).toBe(403);
      expect(answer.type, authorization).toBe('IncompleteSignatureException');
    }
    expect(await clientNames(stack)).not.toContain('unsigned');
    expect(await clientNames(stack)).not.toContain('badly-signed');
  });

  it('accepts loopback Hosts and the body types the AWS CLI (none) and the SDK (octet-stream) send', async () => {
    for (const [name, headers] of [
      ['json-localhost', { ...LOCAL_INVOKE_HEADERS, Host: `localhost:${new URL(stack.url).port}` }],
      ['octet', { ...LOCAL_INVOKE_HEADERS, Host: host(), 'Content-Type': 'application/octet-stream' }],
      ['no-type', { Host: host(), Authorization: LOCAL_INVOKE_HEADERS.Authorization as string }],
    ] as const) {
      const answer = await rawInvoke(stack.url, headers, create(name));
      expect(answer.status, name).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ name });
    }
    expect(isLoopbackHost('[::1]:3000')).toBe(true);
    expect(isLoopbackHost('127.1.2.3')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.evil.example')).toBe(false);
    expect(isLoopbackHost(undefined)).toBe(false);
  });

  it('the admin CLI itself passes the checks (SDK-signed, loopback)', async () => {
    let stdout = '';
    const code = await runAdminCli(
      ['list-clients', '--endpoint-url', stack.url, '--function-name', 'admin'],
      { stdout: (s) => (stdout += s), stderr: () => {} },
      { env: {} },
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toHaveProperty('clients');
  });
});

describe('local Invoke API: X-Amz-Invocation-Type as Lambda has it (issue 14, item 6)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, environment: QUIET, demoClient: false });
  });
  afterAll(() => stack.close());

  const createClient = (name: string, type?: string) =>
    invokeLocalAdmin(
      stack.url,
      { action: 'create-client', name, grant_types: ['client_credentials'] },
      type === undefined ? {} : { headers: { 'X-Amz-Invocation-Type': type } },
    );

  it('DryRun answers 204 and runs nothing', async () => {
    const answer = await createClient('dry', 'DryRun');
    expect(answer.status).toBe(204);
    expect(await answer.text()).toBe('');
    expect(await clientNames(stack)).not.toContain('dry');
  });

  it('Event answers 202 with an empty body, and the function runs', async () => {
    const answer = await createClient('queued', 'Event');
    expect(answer.status).toBe(202);
    expect(await answer.text()).toBe('');
    await expect.poll(() => clientNames(stack), { timeout: 10_000, interval: 100 }).toContain('queued');
  });

  it('RequestResponse (and no header) answers the result', async () => {
    const explicit = await createClient('sync', 'RequestResponse');
    expect(explicit.status).toBe(200);
    expect(await explicit.json()).toMatchObject({ name: 'sync' });
    const implicit = await createClient('default');
    expect(implicit.status).toBe(200);
    expect(await implicit.json()).toMatchObject({ name: 'default' });
  });

  it('an unknown type is 400 InvalidParameterValueException and runs nothing', async () => {
    for (const type of ['Async', 'event', '']) {
      const answer = await createClient(`unknown-${type}`, type);
      expect(answer.status, type).toBe(400);
      expect(answer.headers.get('x-amzn-errortype'), type).toBe('InvalidParameterValueException');
    }
    expect((await clientNames(stack)).filter((name) => name.startsWith('unknown-'))).toEqual([]);
  });
});

describe('local server timeouts (issue 14, item 9)', () => {
  it('are at most API Gateway’s 29 s integration limit', () => {
    expect(LOCAL_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(29_000);
    expect(LOCAL_HEADERS_TIMEOUT_MS).toBeLessThanOrEqual(LOCAL_REQUEST_TIMEOUT_MS);
  });

  it('answer 408 and close a body that never finishes, and incomplete headers', async () => {
    const stack = await startLocalStack({
      port: 0,
      environment: QUIET,
      demoClient: false,
      requestTimeoutMs: 1_000,
    });
    try {
      const { port } = new URL(stack.url);
      const slow = (payload: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => socket.write(payload));
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
          // Far beyond the 1 s limit: the server, not this guard, must end the exchange.
          setTimeout(() => socket.destroy(new Error(`still open: ${answer}`)), 15_000).unref();
        });
      const body = await slow(
        'POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=p',
      );
      expect(body).toMatch(/^HTTP\/1\.1 408/);
      const headers = await slow('POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le');
      expect(headers).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await stack.close();
    }
  });
});
