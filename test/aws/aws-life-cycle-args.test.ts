import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAwsLifeCycleArgs, UsageError } from './aws-life-cycle-args';

const ENV = { AWS_REGION: 'eu-west-1', OAUTH2_TEST_USERNAME: 'alice', OAUTH2_TEST_PASSWORD: 'correct horse' };

describe('npm run test:aws arguments', () => {
  it('is skipped unless a stack is named', () => {
    expect(parseAwsLifeCycleArgs([], ENV)).toEqual({ skip: expect.stringMatching(/no --stack given/) });
  });

  it('takes the stack, region and user from flags and the environment; the password only from the environment', () => {
    expect(parseAwsLifeCycleArgs(['--stack', 'OAuth2TokenService'], ENV)).toEqual({
      stack: 'OAuth2TokenService',
      region: 'eu-west-1',
      username: 'alice',
      password: 'correct horse',
    });
    expect(
      parseAwsLifeCycleArgs(
        [
          '--stack',
          'Prod-Auth',
          '--region',
          'us-east-2',
          '--username',
          'bob',
          '--user-id',
          '1234',
          '--lockout-threshold',
          '0',
        ],
        { ...ENV, OAUTH2_TEST_SESSION_COOKIE: 'session=abc' },
      ),
    ).toEqual({
      stack: 'Prod-Auth',
      region: 'us-east-2',
      username: 'bob',
      password: 'correct horse',
      userId: 1234,
      sessionCookie: 'session=abc',
      lockoutThreshold: 0,
    });
    expect(parseAwsLifeCycleArgs(['--stack', 'S', '--user-id', 'u-42'], ENV)).toMatchObject({
      userId: 'u-42',
    });
  });

  it('refuses a password on the command line, naming where it belongs', () => {
    expect(() => parseAwsLifeCycleArgs(['--stack', 'S', '--password', 'x'], ENV)).toThrow(
      /OAUTH2_TEST_PASSWORD/,
    );
  });

  it('lists every problem at once: bad stack name, region, missing credentials, bad threshold', () => {
    let error: unknown;
    try {
      parseAwsLifeCycleArgs(['--stack', '1bad name', '--lockout-threshold=-1'], {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toMatch(/--stack must be a CloudFormation stack name/);
    expect(message).toMatch(/--region \(or AWS_REGION\)/);
    expect(message).toMatch(/a username is required/);
    expect(message).toMatch(/OAUTH2_TEST_PASSWORD is required/);
    expect(message).toMatch(/--lockout-threshold must be an integer/);
  });

  it('refuses unknown flags', () => {
    expect(() => parseAwsLifeCycleArgs(['--stack', 'S', '--stak', 'T'], ENV)).toThrow(UsageError);
  });

  it('the script exits 0 with a SKIP line without --stack, and 2 with the usage on bad arguments, touching no AWS', () => {
    const script = fileURLToPath(new URL('./run-aws-life-cycle.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const skipped = spawnSync(tsx, [script], { env, encoding: 'utf8' });
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toMatch(/^SKIP test:aws: no --stack given/);
    const refused = spawnSync(tsx, [script, '--stack', 'S', '--password', 'x'], { env, encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/Usage: OAUTH2_TEST_USERNAME/);
  }, 60_000);
});
