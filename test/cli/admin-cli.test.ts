import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminCliOptions,
  type AdminLambdaClient,
  describeFailure,
  lambdaClientConfigFor,
  parseAdminCliArgs,
  runAdminCli,
} from '../../lambdas/cli/admin-cli';
import { type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { PREVIOUS_SECRET_STATUS_KEYS } from '../support/api-gateway-events';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    environment: { LOG_LEVEL: 'SILENT', DISABLE_CLIENT_SECOND_SWEEP_SECONDS: '0' },
  });
});

afterAll(async () => {
  await stack?.close();
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], options: AdminCliOptions = { env: {} }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCli(
    argv,
    { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    options,
  );
  return { code, stdout, stderr };
}

/** Against the local stack's Lambda Invoke API, with no AWS setup at all (empty environment). */
const admin = (...argv: string[]) => cli([...argv, '--endpoint-url', stack.url, '--function-name', 'admin']);

async function adminJson(...argv: string[]): Promise<Record<string, unknown>> {
  const run = await admin(...argv);
  expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

interface Client {
  client_id: string;
  client_secret: string;
}

async function createClient(name: string): Promise<Client> {
  const created = await adminJson(
    'create-client',
    `--name=${name}`,
    '--grant-types',
    'password,refresh_token',
    '--scope',
    'profile email',
  );
  return created as unknown as Client;
}

function passwordGrant(client: Client, secret = client.client_secret): Promise<Response> {
  return fetch(`${stack.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=password&username=demo&password=demo-password',
  });
}

async function accessToken(client: Client): Promise<string> {
  const response = await passwordGrant(client);
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const me = (token: string) => fetch(`${stack.url}/me`, { headers: { Authorization: `Bearer ${token}` } });

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const neverInvoked: AdminCliOptions = {
  env: {},
  lambdaClientFactory: () => {
    throw new Error('must not invoke');
  },
};

const fakeLambda = (send: () => Promise<InvokeCommandOutput>): AdminCliOptions => ({
  env: {},
  lambdaClientFactory: (): AdminLambdaClient => ({ send, destroy: () => {} }),
});

describe('oauth2-admin against the local stack', () => {
  it('create-client prints the client with its secret, once, and the client gets tokens', async () => {
    const run = await admin('create-client', '--name', 'cli-create', '--grant-types=password,refresh_token');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\{\n {2}"client_id"/); // pretty-printed
    const created = JSON.parse(run.stdout) as Client & Record<string, unknown>;
    expect(created).toMatchObject({
      name: 'cli-create',
      grant_types: ['password', 'refresh_token'],
      scope: '',
    });
    expect(created.client_id).toEqual(expect.any(String));
    expect(created.client_secret).toEqual(expect.any(String));
    expect(created.created_at).toEqual(expect.any(String));

    expect((await passwordGrant(created)).status).toBe(200);
  });

  it("create-client --resource-server creates a client that may introspect other clients' tokens", async () => {
    const server = await adminJson(
      'create-client',
      '--resource-server',
      '--name',
      'cli-api',
      '--grant-types',
      'client_credentials',
    );
    expect(server).toMatchObject({ name: 'cli-api', resource_server: true });
    const plain = await createClient('cli-not-api');
    expect(plain).toMatchObject({ resource_server: false });
    const { clients } = (await adminJson('list-clients')) as { clients: Array<Record<string, unknown>> };
    expect(clients.find((client) => client.client_id === server.client_id)).toMatchObject({
      resource_server: true,
    });

    // The flag is what lets it see a token issued to another client.
    const token = await accessToken(plain);
    const introspect = (client: Client) =>
      fetch(`${stack.url}/oauth2/introspect`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }).toString(),
      }).then((response) => response.json());
    expect(await introspect(server as unknown as Client)).toMatchObject({
      active: true,
      client_id: plain.client_id,
    });
    const other = await createClient('cli-other');
    expect(await introspect(other)).toEqual({ active: false });
  });

  it('list-clients shows the client and no secret or hash', async () => {
    const client = await createClient('cli-list');
    const { clients } = (await adminJson('list-clients')) as { clients: Array<Record<string, unknown>> };
    expect(clients).toContainEqual(
      expect.objectContaining({
        client_id: client.client_id,
        name: 'cli-list',
        scope: 'profile email',
        disabled: false,
      }),
    );
    for (const listed of clients) {
      expect(
        Object.keys(listed).filter(
          (key) => /secret|hash/i.test(key) && !PREVIOUS_SECRET_STATUS_KEYS.includes(key),
        ),
      ).toEqual([]);
    }
    expect(JSON.stringify(clients)).not.toContain(client.client_secret);
  });

  it('rotate-secret: the old secret is refused, the new one works', async () => {
    const client = await createClient('cli-rotate');
    const rotated = (await adminJson(
      'rotate-secret',
      '--client-id',
      client.client_id,
    )) as unknown as Client & {
      rotated_at: string;
    };
    expect(rotated.client_id).toBe(client.client_id);
    expect(rotated.client_secret).not.toBe(client.client_secret);
    expect(rotated.rotated_at).toEqual(expect.any(String));

    const old = await passwordGrant(client);
    expect(old.status).toBe(401);
    expect(await old.json()).toMatchObject({ error: 'invalid_client' });
    expect((await passwordGrant(rotated)).status).toBe(200);
  });

  it('rotate-secret --keep-previous-seconds: both secrets work and list-clients says until when', async () => {
    const client = await createClient('cli-rotate-overlap');
    const rotated = (await adminJson(
      'rotate-secret',
      '--client-id',
      client.client_id,
      '--keep-previous-seconds',
      '3600',
    )) as unknown as Client & { previous_secret_expires_at: string };
    expect(Date.parse(rotated.previous_secret_expires_at)).toBeGreaterThan(Date.now() + 3500_000);
    expect((await passwordGrant(client)).status).toBe(200);
    expect((await passwordGrant(rotated)).status).toBe(200);
    const { clients } = (await adminJson('list-clients')) as unknown as {
      clients: Record<string, unknown>[];
    };
    expect(clients.find((listed) => listed.client_id === client.client_id)).toMatchObject({
      previous_secret_live: true,
      previous_secret_expires_at: rotated.previous_secret_expires_at,
    });
  });

  it('revoke-user-tokens with a numeric user id kills the access token', async () => {
    const token = await accessToken(await createClient('cli-revoke'));
    expect((await me(token)).status).toBe(200);

    const revoked = await adminJson('revoke-user-tokens', '--user-id', '1234', '--user-id-type', 'number');
    expect(revoked.user_id).toBe(1234);
    expect(revoked.revoked_grants).toBeGreaterThanOrEqual(1);
    expect((await me(token)).status).toBe(401);
  });

  it('disable-client: the client is refused and its tokens die', async () => {
    const client = await createClient('cli-disable');
    const token = await accessToken(client);

    const run = await admin('disable-client', '--client-id', client.client_id);
    expect(run.code).toBe(0);
    // The CLI says why the call takes a while (the second sweep, README: disable-client).
    expect(run.stderr).toContain('again after in-flight token requests have ended');
    const disabled = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(disabled).toMatchObject({ client_id: client.client_id, disabled: true });
    expect(disabled.revoked_grants).toBeGreaterThanOrEqual(1);

    const refused = await passwordGrant(client);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    expect((await me(token)).status).toBe(401);
  });

  it('an error answer is printed on stdout with exit status 1', async () => {
    const run = await admin('rotate-secret', '--client-id', 'no-such-client');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({
      error: 'invalid_request',
      error_description: expect.any(String),
    });
  });

  it('takes the function name from OAUTH2_ADMIN_FUNCTION', async () => {
    const run = await cli(['list-clients', '--endpoint-url', stack.url], {
      env: { OAUTH2_ADMIN_FUNCTION: 'admin' },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('clients');
  });

  it('an unknown function is an invocation failure (exit 3), reported on one line', async () => {
    const run = await cli(['list-clients', '--endpoint-url', stack.url, '--function-name', 'nope']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^oauth2-admin: could not invoke nope: ResourceNotFoundException: .+\n$/);
  });

  it('an unreachable endpoint is exit 3 with a one-line message and no stack', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await cli(['list-clients', '--endpoint-url', url, '--function-name', 'admin']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^oauth2-admin: could not invoke admin: .*ECONNREFUSED.*\n$/);
    expect(run.stderr.split('\n')).toHaveLength(2);
  });

  it('runs as a real command (bin/oauth2-admin.ts)', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/oauth2-admin.ts',
        'list-clients',
        '--endpoint-url',
        stack.url,
        '--function-name',
        'admin',
      ],
      {
        cwd: REPO_ROOT,
        // No AWS setup inherited from the machine running the tests.
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    ); // rejects on a non-zero exit status
    expect(stderr).toBe('');
    const listed = JSON.parse(stdout) as { clients: Array<{ client_id: string }> };
    expect(listed.clients.map((client) => client.client_id)).toContain(stack.demoClient?.clientId);
  });
});

describe('oauth2-admin usage', () => {
  it.each([
    { argv: ['list-clients', '--function-name'], message: '--function-name needs a value' },
    { argv: ['frobnicate', '--function-name', 'admin'], message: 'unknown command: frobnicate' },
    { argv: ['--function-name', 'admin'], message: 'a command is required' },
    { argv: ['list-clients', 'extra', '--function-name', 'admin'], message: 'unexpected argument: extra' },
    { argv: ['list-clients'], message: '--function-name or --stack is required' },
    { argv: ['list-clients', '--function-name='], message: '--function-name must not be empty' },
    { argv: ['list-clients', '--function-name', 'admin', '--client-id', 'x'], message: 'unknown option' },
    { argv: ['list-clients', '--function-name', 'a', '--function-name=b'], message: 'more than once' },
    { argv: ['list-clients', '--function-name', 'admin', '--stack', 'prod'], message: 'not both' },
    {
      argv: ['list-clients', '--function-name', 'admin', '--endpoint-url', 'ftp://x'],
      message: 'http or https',
    },
    {
      argv: ['create-client', '--grant-types', 'password', '--function-name', 'admin'],
      message: 'needs --name',
    },
    { argv: ['create-client', '--name', 'x', '--function-name', 'admin'], message: 'needs --grant-types' },
    {
      argv: [
        'create-client',
        '--name',
        'x',
        '--grant-types',
        'password,implicit',
        '--function-name',
        'admin',
      ],
      message: '--grant-types takes a comma-separated list of: password, refresh_token, client_credentials',
    },
    {
      argv: [
        'create-client',
        '--name',
        'x',
        '--grant-types',
        'password',
        '--scope',
        'a\\b',
        '--function-name',
        'a',
      ],
      message: 'scope must be',
    },
    { argv: ['rotate-secret', '--function-name', 'admin'], message: 'rotate-secret needs --client-id' },
    {
      argv: [
        'revoke-user-tokens',
        '--user-id',
        'abc',
        '--user-id-type',
        'number',
        '--function-name',
        'admin',
      ],
      message: 'all-digit',
    },
    {
      argv: [
        'revoke-user-tokens',
        '--user-id',
        '007',
        '--user-id-type',
        'number',
        '--function-name',
        'admin',
      ],
      message: 'leading zeros',
    },
    {
      argv: ['revoke-user-tokens', '--user-id', '1', '--user-id-type', 'uuid', '--function-name', 'admin'],
      message: 'string or number',
    },
    {
      argv: [
        'create-client',
        '--name=x',
        '--grant-types=password',
        '--access-token-ttl-seconds=1h',
        '--function-name=admin',
      ],
      message: '--access-token-ttl-seconds takes a whole number of seconds',
    },
    {
      argv: [
        'create-client',
        '--name',
        'x',
        '--grant-types',
        'client_credentials',
        '--resource-server=false',
        '--function-name',
        'admin',
      ],
      message: '--resource-server takes no value',
    },
    {
      argv: ['list-clients', '--resource-server', '--function-name', 'admin'],
      message: 'unknown option for list-clients: --resource-server',
    },
  ])('$argv → exit 2: $message', async ({ argv, message }) => {
    const run = await cli(argv, neverInvoked);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage: oauth2-admin <command> [options]');
  });

  it('--help prints the usage on stdout, exit 0', async () => {
    for (const argv of [['--help'], ['create-client', '--help'], [], ['help']]) {
      const run = await cli(argv, neverInvoked);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain('revoke-user-tokens --user-id ID [--user-id-type string|number]');
      expect(run.stdout).toContain('[--resource-server]');
    }
  });

  it('builds the payloads the admin function takes', () => {
    const parse = (...argv: string[]) => parseAdminCliArgs([...argv, '--function-name', 'f']);
    expect(
      parse('create-client', '--name', 'n', '--grant-types', 'client_credentials', '--scope=a b'),
    ).toEqual({
      kind: 'invoke',
      payload: { action: 'create-client', name: 'n', grant_types: ['client_credentials'], scope: 'a b' },
      target: { functionName: 'f' },
    });
    expect(
      parse('create-client', '--resource-server', '--name', 'api', '--grant-types', 'client_credentials'),
    ).toEqual({
      kind: 'invoke',
      payload: {
        action: 'create-client',
        name: 'api',
        grant_types: ['client_credentials'],
        resource_server: true,
      },
      target: { functionName: 'f' },
    });
    expect(
      parse(
        'create-client',
        '--name=short',
        '--grant-types=password,refresh_token',
        '--scope=a b',
        '--default-scope=a',
        '--access-token-ttl-seconds',
        '300',
        '--refresh-token-ttl-seconds=7200',
      ),
    ).toMatchObject({
      payload: {
        action: 'create-client',
        scope: 'a b',
        default_scope: 'a',
        access_token_ttl_seconds: 300,
        refresh_token_ttl_seconds: 7200,
      },
    });
    expect(parse('unlock-username', '--username', 'Alice')).toMatchObject({
      payload: { action: 'unlock-username', username: 'Alice' },
    });
    expect(parse('revoke-user-tokens', '--user-id', '1234')).toMatchObject({
      payload: { action: 'revoke-user-tokens', user_id: '1234' },
    });
    expect(parse('revoke-user-tokens', '--user-id=42', '--user-id-type=number')).toMatchObject({
      payload: { action: 'revoke-user-tokens', user_id: 42 },
    });
    expect(
      parseAdminCliArgs([
        '--region',
        'eu-west-1',
        'list-clients',
        '--profile',
        'ops',
        '--function-name',
        'f',
      ]),
    ).toEqual({
      kind: 'invoke',
      payload: { action: 'list-clients' },
      target: { functionName: 'f', region: 'eu-west-1', profile: 'ops' },
    });
  });
});

describe('oauth2-admin client configuration', () => {
  it('uses dummy credentials and us-east-1 on loopback when no AWS credentials are configured', () => {
    // 0.0.0.0 / [::]: what a local stack started with HOST=0.0.0.0 listens on (issue 14, item 7).
    for (const endpointUrl of [
      'http://127.0.0.1:3000',
      'http://localhost:3000',
      'http://[::1]:3000',
      'http://0.0.0.0:3200',
      'http://[::]:3200',
    ]) {
      expect(lambdaClientConfigFor({ endpointUrl }, {})).toMatchObject({
        endpoint: endpointUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
    }
  });

  it('leaves credentials to the SDK when configured, remote or given a profile', () => {
    const local = { endpointUrl: 'http://127.0.0.1:3000' };
    expect(lambdaClientConfigFor(local, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).not.toHaveProperty(
      'credentials',
    );
    expect(lambdaClientConfigFor(local, { AWS_PROFILE: 'dev' })).not.toHaveProperty('credentials');
    expect(lambdaClientConfigFor({ ...local, profile: 'dev' }, {})).toMatchObject({ profile: 'dev' });
    expect(lambdaClientConfigFor({ ...local, profile: 'dev' }, {})).not.toHaveProperty('credentials');
    const remote = lambdaClientConfigFor({ endpointUrl: 'https://lambda.example.com' }, {});
    expect(remote).not.toHaveProperty('credentials');
    expect(remote).not.toHaveProperty('region');
    expect(
      lambdaClientConfigFor({ region: 'eu-west-1', profile: 'ops' }, { AWS_REGION: 'us-west-2' }),
    ).toMatchObject({
      region: 'eu-west-1',
      profile: 'ops',
    });
    expect(lambdaClientConfigFor({}, { AWS_DEFAULT_REGION: 'ap-south-1' })).toMatchObject({
      region: 'ap-south-1',
    });
  });
});

describe('oauth2-admin answers and failures', () => {
  const encode = (value: unknown) =>
    new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];

  it('a function error (unhandled exception) is printed and exit 1', async () => {
    const run = await cli(
      ['list-clients', '--function-name', 'admin'],
      fakeLambda(async () => ({
        $metadata: {},
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: encode({ errorType: 'Error', errorMessage: 'boom' }),
      })),
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({ errorType: 'Error', errorMessage: 'boom' });
    expect(run.stderr).toBe('oauth2-admin: the function failed (Unhandled)\n');
  });

  it('an SDK error is one line: no stack, nothing past the first line of the message', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const failure = Object.assign(
      new Error(`The request signature we calculated does not match\n\nx-amz-security-token:${secret}`),
      { name: 'InvalidSignatureException' },
    );
    const run = await cli(
      ['list-clients', '--function-name', 'admin'],
      fakeLambda(() => Promise.reject(failure)),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      'oauth2-admin: could not invoke admin: InvalidSignatureException: The request signature we calculated does not match\n',
    );
    expect(run.stderr).not.toContain(secret);
  });

  it('describes a refused localhost (an AggregateError without a message)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:3000'), { code: 'ECONNREFUSED' });
    expect(describeFailure(new AggregateError([refused], ''))).toBe('connect ECONNREFUSED ::1:3000');
    expect(describeFailure('not an error')).toBe('unknown error');
    expect(describeFailure(new Error('key AKIAIOSFODNN7EXAMPLE'))).toBe('key AKIA****************');
  });
});
