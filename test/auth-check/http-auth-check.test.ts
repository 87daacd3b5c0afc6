import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuthCheckSignature } from '../../lambdas/auth-check/auth-check-signature';
import {
  createHttpAuthCheck,
  type HttpAuthCheckOptions,
  parseAuthCheckUrl,
} from '../../lambdas/auth-check/http-auth-check';
import type { AuthCheckRequest } from '../../lambdas/core/auth-check';
import { DependencyUnavailable } from '../../lambdas/core/dependency-unavailable';
import { opensslAvailable, startSelfSignedTlsHook } from '../support/fault-hook-servers';

const PASSWORD = 'pw-Zebra-7f3c-do-not-log';
const CREDENTIALS: AuthCheckRequest = { username: 'alice', password: PASSWORD, clientId: 'web-app' };
const EXPECTED_BODY = `{"username":"alice","password":"${PASSWORD}","client_id":"web-app"}`;
const NOW_MS = 1_700_000_000_789;
const NOW_SECONDS = 1_700_000_000;
const clock = () => NOW_MS;
const SECRET = 'hook-shared-secret';

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: string;
}

type Hook = (res: ServerResponse) => void;

const json = (status: number, body: unknown): Hook => jsonText(status, JSON.stringify(body));
const jsonText =
  (status: number, text: string): Hook =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  };

let hook: Hook;
let received: Received[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
      });
      hook(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
  hook = json(200, { user_id: 'user-1' });
});

const authCheck = (overrides: Partial<HttpAuthCheckOptions> = {}) =>
  createHttpAuthCheck({ url: baseUrl, clock, ...overrides });

const errorChainText = (error: unknown): string => {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current !== undefined; depth++) {
    parts.push(String(current));
    if (current instanceof Error) parts.push(current.message, current.stack ?? '');
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
};

/** Asserts a DependencyUnavailable from the auth-check that says nothing of the password. */
const expectUnavailable = async (promise: Promise<unknown>): Promise<DependencyUnavailable> => {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DependencyUnavailable);
  const unavailable = error as DependencyUnavailable;
  expect(unavailable.dependency).toBe('auth-check');
  expect(unavailable.message).not.toContain(PASSWORD);
  expect(String(unavailable.cause)).not.toContain(PASSWORD);
  expect(errorChainText(unavailable)).not.toContain(PASSWORD);
  return unavailable;
};

describe('createHttpAuthCheck: answers', () => {
  it('returns a string user id', async () => {
    hook = json(200, { user_id: 'user-42' });
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe('user-42');
  });

  it('keeps a number user id a number', async () => {
    hook = json(200, { user_id: 1234 });
    const userId = await authCheck().checkCredentials(CREDENTIALS);
    expect(userId).toBe(1234);
    expect(typeof userId).toBe('number');
  });

  it('accepts 0 as a valid user id', async () => {
    hook = json(200, { user_id: 0 });
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe(0);
  });

  it('ignores extra keys next to user_id', async () => {
    hook = json(200, { user_id: 'u', roles: ['admin'] });
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe('u');
  });

  it.each([
    ['user_id null', json(200, { user_id: null })],
    ['401', jsonText(401, '{"error":"bad credentials"}')],
    ['403', (res: ServerResponse) => res.writeHead(403).end()],
  ])('treats %s as invalid credentials', async (_, answer) => {
    hook = answer;
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBeNull();
  });

  it.each([500, 404, 204, 400])('fails on HTTP %i, without quoting the body', async (status) => {
    hook = jsonText(status, `{"echo":"${PASSWORD}"}`);
    const error = await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
    expect(error.message).toContain(String(status));
  });

  it('fails on a 302 and does not follow it', async () => {
    hook = (res) => res.writeHead(302, { location: `${baseUrl}?followed=1` }).end();
    const error = await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
    expect(error.message).toContain('302');
    expect(received).toHaveLength(1);
  });

  it.each([
    ['malformed JSON echoing the password', `{"user_id": "${PASSWORD}`],
    ['non-JSON text', `hello ${PASSWORD}`],
    ['an empty body', ''],
    // Would decode leniently to {"user_id":"\uFFFD"}, a valid answer: the decoder must refuse it.
    ['invalid UTF-8 inside otherwise valid JSON', '{"user_id":"\xff"}'],
    ['a JSON array', '[{"user_id":"u"}]'],
    ['a JSON string', '"u"'],
    ['JSON null', 'null'],
    ['no user_id key', `{"userId":"u","password":"${PASSWORD}"}`],
    ['user_id true', '{"user_id":true}'],
    ['user_id false', '{"user_id":false}'],
    ['user_id an object', `{"user_id":{"password":"${PASSWORD}"}}`],
    ['user_id an array', '{"user_id":["u"]}'],
    ['user_id an empty string', '{"user_id":""}'],
    ['user_id longer than 256 characters', JSON.stringify({ user_id: 'u'.repeat(257) })],
    ['user_id beyond the safe integers', '{"user_id":1e300}'],
  ])('fails on %s', async (_, body) => {
    hook = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.from(body, 'latin1'));
    };
    await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
  });

  it('fails on a body over 64 KiB announced by Content-Length', async () => {
    hook = json(200, { user_id: 'u', padding: 'x'.repeat(70 * 1024) });
    const error = await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
    expect(error.message).toMatch(/more than 65536 bytes/);
  });

  it('fails on a chunked body that grows past 64 KiB', async () => {
    hook = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"user_id":"u","padding":"');
      for (let i = 0; i < 80; i++) res.write('x'.repeat(1024));
      res.end('"}');
    };
    const error = await expectUnavailable(authCheck().checkCredentials(CREDENTIALS));
    expect(error.message).toMatch(/more than 65536 bytes/);
  });

  it('accepts a body of just under 64 KiB', async () => {
    const prefix = '{"user_id":"u","padding":"';
    hook = jsonText(200, `${prefix}${'x'.repeat(64 * 1024 - prefix.length - 2)}"}`);
    await expect(authCheck().checkCredentials(CREDENTIALS)).resolves.toBe('u');
  });
});

describe('createHttpAuthCheck: time and transport failures', () => {
  it('gives up on a hook slower than the timeout, quickly', async () => {
    hook = (res) => {
      setTimeout(() => json(200, { user_id: 'late' })(res), 5000).unref();
    };
    const started = performance.now();
    const error = await expectUnavailable(authCheck({ timeoutMs: 150 }).checkCredentials(CREDENTIALS));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error.message).toContain('150 ms');
  });

  it('gives up on a hook that sends headers and then stalls the body', async () => {
    hook = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"user_id":');
    };
    const started = performance.now();
    const error = await expectUnavailable(authCheck({ timeoutMs: 150 }).checkCredentials(CREDENTIALS));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error.message).toContain('150 ms');
  });

  it('fails when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await expectUnavailable(
      authCheck({ url: `http://127.0.0.1:${port}/check` }).checkCredentials(CREDENTIALS),
    );
    expect(error.message).toContain('ECONNREFUSED');
  });

  it.skipIf(!opensslAvailable())(
    'fails on a TLS error: https hook with a self-signed certificate (skipped when openssl is absent)',
    async () => {
      const hook = await startSelfSignedTlsHook();
      try {
        const error = await expectUnavailable(authCheck({ url: hook.url }).checkCredentials(CREDENTIALS));
        expect(error.message).toMatch(/CERT/);
        expect(hook.requests).toBe(0);
      } finally {
        await hook.stop();
      }
    },
  );
});

describe('createHttpAuthCheck: the request', () => {
  it('POSTs the exact JSON body, keys in order, unsigned without a secret', async () => {
    await authCheck().checkCredentials(CREDENTIALS);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/check');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.rawBody).toBe(EXPECTED_BODY);
    expect(Object.keys(JSON.parse(request?.rawBody ?? '{}'))).toEqual(['username', 'password', 'client_id']);
    expect(request?.headers['x-oauth2-timestamp']).toBeUndefined();
    expect(request?.headers['x-oauth2-signature']).toBeUndefined();
  });

  it('escapes credentials as JSON', async () => {
    const odd = { username: 'a"b\\c\u00e9', password: `${PASSWORD}\n"}`, clientId: 'x' };
    await authCheck().checkCredentials(odd);
    expect(JSON.parse(received[0]?.rawBody ?? '')).toEqual({
      username: odd.username,
      password: odd.password,
      client_id: 'x',
    });
  });

  const expectSigned = (request: Received | undefined) => {
    const timestampHeader = request?.headers['x-oauth2-timestamp'];
    const signatureHeader = request?.headers['x-oauth2-signature'];
    expect(timestampHeader).toBe(String(NOW_SECONDS));
    const hmac = createHmac('sha256', SECRET).update(`${NOW_SECONDS}.${EXPECTED_BODY}`).digest('hex');
    expect(signatureHeader).toBe(`sha256=${hmac}`);
    expect(request?.rawBody).toBe(EXPECTED_BODY);
    expect(
      verifyAuthCheckSignature({
        secret: SECRET,
        timestampHeader,
        signatureHeader,
        rawBody: request?.rawBody ?? '',
        nowSeconds: NOW_SECONDS + 10,
      }),
    ).toBe(true);
  };

  it('signs timestamp + "." + raw body with a static secret', async () => {
    await authCheck({ secret: SECRET }).checkCredentials(CREDENTIALS);
    expectSigned(received[0]);
  });

  it('signs with a secret resolved by an async function', async () => {
    let calls = 0;
    const secret = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return SECRET;
    };
    await authCheck({ secret }).checkCredentials(CREDENTIALS);
    expectSigned(received[0]);
    expect(calls).toBe(1);
  });

  it('sends unsigned when the secret function resolves to undefined', async () => {
    await authCheck({ secret: () => undefined }).checkCredentials(CREDENTIALS);
    expect(received[0]?.headers['x-oauth2-signature']).toBeUndefined();
    expect(received[0]?.headers['x-oauth2-timestamp']).toBeUndefined();
  });

  it('fails as a secrets dependency, without calling the hook, when the secret cannot be resolved', async () => {
    const error = await authCheck({
      secret: async () => {
        throw new Error('AccessDenied');
      },
    })
      .checkCredentials(CREDENTIALS)
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(DependencyUnavailable);
    expect((error as DependencyUnavailable).dependency).toBe('secrets');
    expect(received).toHaveLength(0);
  });

  it('rejects bad configuration when built', () => {
    expect(() => authCheck({ secret: '' })).toThrow(/secret/);
    expect(() => authCheck({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => authCheck({ url: 'http://auth.example.com/check' })).toThrow(/http/);
  });

  it('takes a URL object as vetted, so an explicit opt-in to plain http carries through', () => {
    const url = parseAuthCheckUrl('http://auth.internal/check', { allowInsecureHttp: true });
    expect(() => authCheck({ url })).not.toThrow();
    expect(() => authCheck({ url: new URL('ftp://auth.example.com/') })).toThrow(/https/);
  });
});

describe('parseAuthCheckUrl', () => {
  it.each([
    'https://auth.example.com/check',
    'https://10.0.0.5:8443/check?x=1',
    'http://127.0.0.1:8080/check',
    'http://127.1.2.3/check',
    'http://localhost:3000/check',
    'http://LOCALHOST/check',
    'http://[::1]:3000/check',
    'http://[0:0:0:0:0:0:0:1]/check',
  ])('accepts %s', (raw) => {
    expect(parseAuthCheckUrl(raw)).toBeInstanceOf(URL);
  });

  it.each([
    ['not a URL', 'auth.example.com/check', /not a valid absolute URL/],
    ['an empty string', '', /not a valid absolute URL/],
    ['ftp', 'ftp://auth.example.com/', /https/],
    ['file', 'file:///etc/passwd', /https/],
    ['javascript', 'javascript:alert(1)', /https/],
    ['credentials', 'https://user:secret@auth.example.com/', /credentials/],
    ['a username only', 'https://user@auth.example.com/', /credentials/],
    ['http to a remote host', 'http://auth.example.com/check', /plain http/],
    ['http to a private address', 'http://10.0.0.5/check', /plain http/],
    ['http to a localhost lookalike', 'http://localhost.example.com/check', /plain http/],
    ['http to 0.0.0.0', 'http://0.0.0.0/check', /plain http/],
    ['http to 128.0.0.1', 'http://128.0.0.1/check', /plain http/],
  ])('rejects %s', (_, raw, message) => {
    expect(() => parseAuthCheckUrl(raw)).toThrow(message);
  });

  it('never echoes a URL it could not parse', () => {
    expect(() => parseAuthCheckUrl('https://user:s3cr3t@[bad')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
    );
    expect(() => parseAuthCheckUrl('https://user:s3cr3t@auth.example.com')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
    );
  });

  it('allows plain http to a remote host only with an explicit true', () => {
    expect(parseAuthCheckUrl('http://auth.internal/check', { allowInsecureHttp: true }).hostname).toBe(
      'auth.internal',
    );
    expect(() => parseAuthCheckUrl('http://auth.internal/check', { allowInsecureHttp: false })).toThrow();
    expect(() => parseAuthCheckUrl('http://auth.internal/check', {})).toThrow();
    expect(() => parseAuthCheckUrl('https://user:pw@auth.internal/', { allowInsecureHttp: true })).toThrow(
      /credentials/,
    );
  });
});
