import { parseArgs } from 'node:util';

/** `npm run test:aws -- --stack NAME …`, checked before anything touches AWS. */
export interface AwsLifeCycleArgs {
  readonly stack: string;
  readonly region: string;
  readonly username: string;
  /** From OAUTH2_TEST_PASSWORD only: a password on the command line ends up in `ps` and shell history. */
  readonly password: string;
  /** The user id the AuthCheck answers for `username`, with its JSON type (digits: a number). */
  readonly userId?: string | number;
  /** From OAUTH2_TEST_SESSION_COOKIE: a Cookie header the session check accepts (stacks with one). */
  readonly sessionCookie?: string;
  /** Overrides the token function's LOCKOUT_THRESHOLD read from the stack's template. */
  readonly lockoutThreshold?: number;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const AWS_LIFE_CYCLE_USAGE = `Usage: OAUTH2_TEST_USERNAME=<user> OAUTH2_TEST_PASSWORD=<password> \\
  npm run test:aws -- --stack <stack name> [--region <region>] [--user-id <id>] [--lockout-threshold <n>]

Runs the verify:deployment life cycle against a deployed stack (its CloudFormation outputs and
admin function), with your AWS credentials, then disables the clients it created.
  --stack              the stack name (required; without it the suite is skipped)
  --region             default: AWS_REGION / AWS_DEFAULT_REGION
  --username           default: OAUTH2_TEST_USERNAME; a user your AuthCheck accepts
  --user-id            the user_id your AuthCheck answers for that user (enables the user_id checks
                       and revoke-user-tokens)
  --lockout-threshold  default: the token function's LOCKOUT_THRESHOLD in the stack's template
The password comes only from OAUTH2_TEST_PASSWORD, a session cookie from OAUTH2_TEST_SESSION_COOKIE.`;

/**
 * The suite's arguments, or `{ skip }` when no stack was named: it runs only when asked for.
 * Throws UsageError naming every problem.
 */
export function parseAwsLifeCycleArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): AwsLifeCycleArgs | { readonly skip: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        'user-id': { type: 'string' },
        'lockout-threshold': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return { skip: AWS_LIFE_CYCLE_USAGE };
  if (values.stack === undefined)
    return { skip: 'no --stack given: the real-account suite runs only when asked for' };
  const problems: string[] = [];
  const stack = String(values.stack);
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stack))
    problems.push('--stack must be a CloudFormation stack name');
  if (values.password !== undefined) {
    problems.push(
      '--password is refused: pass the password in OAUTH2_TEST_PASSWORD (argv is visible in ps and shell history)',
    );
  }
  const region = String(values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    problems.push('--region (or AWS_REGION) must name an AWS region, e.g. eu-west-1');
  const username = String(values.username ?? env.OAUTH2_TEST_USERNAME ?? '');
  if (username === '') problems.push('a username is required: --username or OAUTH2_TEST_USERNAME');
  const password = env.OAUTH2_TEST_PASSWORD ?? '';
  if (password === '') problems.push('OAUTH2_TEST_PASSWORD is required');
  let lockoutThreshold: number | undefined;
  if (values['lockout-threshold'] !== undefined) {
    lockoutThreshold = Number(values['lockout-threshold']);
    if (!Number.isInteger(lockoutThreshold) || lockoutThreshold < 0 || lockoutThreshold > 100) {
      problems.push('--lockout-threshold must be an integer from 0 to 100');
    }
  }
  const rawUserId = values['user-id'] === undefined ? undefined : String(values['user-id']);
  if (rawUserId === '') problems.push('--user-id must not be empty');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const sessionCookie = env.OAUTH2_TEST_SESSION_COOKIE;
  return {
    stack,
    region,
    username,
    password,
    ...(rawUserId === undefined
      ? {}
      : { userId: /^\d{1,15}$/.test(rawUserId) ? Number(rawUserId) : rawUserId }),
    ...(sessionCookie === undefined || sessionCookie === '' ? {} : { sessionCookie }),
    ...(lockoutThreshold === undefined ? {} : { lockoutThreshold }),
  };
}
