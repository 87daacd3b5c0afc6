import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  type LambdaClientConfig,
} from '@aws-sdk/client-lambda';
import { parseAdminCommand } from '../core/admin-command';
import { GRANT_TYPES, isGrantType } from '../core/grant-type';
import { OAuthError } from '../core/oauth-errors';

/** Exit statuses, documented in the usage text. */
export const EXIT = Object.freeze({ ok: 0, functionError: 1, usage: 2, invokeFailed: 3 });

export const USAGE = `Usage: oauth2-admin <command> [options]

Administers the OAuth 2.0 token service by invoking its admin Lambda function
(the same JSON payloads as \`aws lambda invoke\`).

Commands:
  create-client --name NAME --grant-types TYPE[,TYPE...] [--scope "SCOPE ..."]
                [--default-scope "SCOPE ..."] [--access-token-ttl-seconds N]
                [--refresh-token-ttl-seconds N] [--resource-server]
                [--access-token-format opaque|jwt] [--audiences URI[,URI...]]
                [--redirect-uris URI[,URI...]] [--public]
                      TYPE: ${GRANT_TYPES.join(', ')}
                      --default-scope is issued when a request names no scope
                      (a subset of --scope; default: all of --scope).
                      The TTLs override the service's token lifetimes for this client.
                      --resource-server (no value) lets the client introspect
                      other clients' tokens at /oauth2/introspect.
                      --access-token-format overrides the service's format for this
                      client; --audiences are the RFC 8707 resources it may name
                      (the first is the default aud of its JWTs).
                      --redirect-uris: where /oauth2/authorize may send users back
                      (https, or http on 127.0.0.1, [::1] or localhost); required
                      with authorization_code.
                      --public (no value): a public client (token_endpoint_auth_method
                      none): no secret; only authorization_code and refresh_token.
  list-clients
  rotate-secret --client-id ID [--keep-previous-seconds N]
                      The old secret stops at once, or after N seconds (at most
                      2592000 = 30 days) so clients can switch without downtime.
  disable-client --client-id ID
  revoke-user-tokens --user-id ID [--user-id-type string|number]
                      Default type: string. "number" sends an all-digit ID as a JSON
                      number; the service treats 1234 and "1234" as the same user.
  unlock-username --username NAME
                      Clears the password-grant lockout of NAME (and of its case variants).
  rotate-signing-key  Publishes a new JWT signing key in the JWKS now; it signs after
                      signingKeyPublishAheadSeconds, and the old key stays published
                      until its last token has expired.

Global options:
  --function-name NAME  The admin function's name or ARN (default: $OAUTH2_ADMIN_FUNCTION).
  --stack NAME          Find the admin function in this CloudFormation stack's outputs
                        (AdminFunctionName) instead of naming it.
  --region REGION       Default: $AWS_REGION, $AWS_DEFAULT_REGION, then the profile's region.
  --profile PROFILE     A named profile from the shared AWS config and credentials files.
  --endpoint-url URL    Another Lambda endpoint, e.g. the local stack: http://127.0.0.1:3000.
                        On loopback without AWS credentials in the environment, dummy
                        credentials and region us-east-1 are used.
  --help                Show this help.

Options take their value as "--option value" or "--option=value"; --resource-server
and --public are flags and take none.
Prints the function's JSON answer on stdout. Exit status: 0 success; 1 the function
answered an error (still printed) or failed; 2 usage error; 3 the invocation failed
(credentials, network, AWS error).
`;

/** A command-line mistake: reported with the usage text, exit status 2, nothing invoked. */
export class AdminCliUsageError extends Error {
  override readonly name = 'AdminCliUsageError';
}

/** Where and how to invoke; everything optional falls back to the SDK's own resolution. */
export interface InvokeTarget {
  readonly functionName?: string;
  /** CloudFormation stack whose `AdminFunctionName` output names the function. */
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

/** The admin function's wire payload (snake_case, as `aws lambda invoke` would send it). */
export type AdminPayload = Readonly<Record<string, unknown>> & { readonly action: string };

export type AdminCliArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'invoke'; readonly payload: AdminPayload; readonly target: InvokeTarget };

type OptionName =
  | (typeof GLOBAL_OPTIONS)[number]
  | (typeof COMMAND_OPTIONS)[keyof typeof COMMAND_OPTIONS][number];

const GLOBAL_OPTIONS = ['function-name', 'stack', 'region', 'profile', 'endpoint-url'] as const;

const COMMAND_OPTIONS = {
  'create-client': [
    'name',
    'grant-types',
    'scope',
    'default-scope',
    'access-token-ttl-seconds',
    'refresh-token-ttl-seconds',
    'resource-server',
    'access-token-format',
    'audiences',
    'redirect-uris',
    'public',
  ],
  'list-clients': [],
  'rotate-secret': ['client-id', 'keep-previous-seconds'],
  'disable-client': ['client-id'],
  'revoke-user-tokens': ['user-id', 'user-id-type'],
  'unlock-username': ['username'],
  'rotate-signing-key': [],
} as const;

/** Options that are present or absent and take no value (`--resource-server`). */
const FLAGS: readonly string[] = ['resource-server', 'public'];
/** What a flag's presence records in the option map. */
const FLAG_SET = 'true';

type CommandName = keyof typeof COMMAND_OPTIONS;

const isCommand = (value: string): value is CommandName => Object.hasOwn(COMMAND_OPTIONS, value);

/**
 * Parses the command line (AWS CLI style: one command, `--option value` or `--option=value`,
 * options in any order) into the payload to send. Throws `AdminCliUsageError`; sends nothing.
 */
export function parseAdminCliArgs(argv: readonly string[]): AdminCliArgs {
  if (argv.length === 0 || argv.some((arg) => arg === '--help' || arg === '-h') || argv[0] === 'help') {
    return { kind: 'help' };
  }
  const positional: string[] = [];
  const values = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    let value: string;
    if (FLAGS.includes(name)) {
      // A value would be ambiguous (`--resource-server=false`): the flag is either given or not.
      if (equals !== -1) throw new AdminCliUsageError(`--${printable(name)} takes no value`);
      value = FLAG_SET;
    } else if (equals !== -1) {
      value = arg.slice(equals + 1);
    } else {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new AdminCliUsageError(`--${printable(name)} needs a value`);
      }
      value = next;
      index++;
    }
    if (values.has(name)) throw new AdminCliUsageError(`--${printable(name)} is given more than once`);
    values.set(name, value);
  }

  const [command, ...extra] = positional;
  if (command === undefined) throw new AdminCliUsageError('a command is required');
  if (!isCommand(command)) throw new AdminCliUsageError(`unknown command: ${printable(command)}`);
  if (extra.length > 0) throw new AdminCliUsageError(`unexpected argument: ${printable(extra[0] as string)}`);
  const allowed: readonly string[] = [...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command]];
  for (const name of values.keys()) {
    if (!allowed.includes(name)) {
      throw new AdminCliUsageError(`unknown option for ${command}: --${printable(name)}`);
    }
  }

  const option = (name: OptionName): string | undefined => values.get(name);
  const required = (name: OptionName): string => {
    const value = option(name);
    if (value === undefined) throw new AdminCliUsageError(`${command} needs --${name}`);
    return value;
  };
  const payload = buildPayload(command, option, required);
  validatePayload(payload);

  const target: Record<string, string> = {};
  for (const [name, key] of [
    ['function-name', 'functionName'],
    ['stack', 'stack'],
    ['region', 'region'],
    ['profile', 'profile'],
    ['endpoint-url', 'endpointUrl'],
  ] as const) {
    const value = option(name);
    if (value === undefined) continue;
    if (value.trim() === '') throw new AdminCliUsageError(`--${name} must not be empty`);
    target[key] = value;
  }
  if (target.endpointUrl !== undefined) parseEndpointUrl(target.endpointUrl);
  if (target.stack !== undefined && target.functionName !== undefined) {
    throw new AdminCliUsageError('give --function-name or --stack, not both');
  }
  return { kind: 'invoke', payload, target };
}

/** Digits only, sent as a JSON number: the admin function would refuse the string "3600". */
function seconds(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new AdminCliUsageError(`--${name} takes a whole number of seconds`);
  return Number(value);
}

function buildPayload(
  command: CommandName,
  option: (name: OptionName) => string | undefined,
  required: (name: OptionName) => string,
): AdminPayload {
  switch (command) {
    case 'create-client': {
      const grantTypes = required('grant-types')
        .split(',')
        .map((type) => type.trim());
      const unknown = grantTypes.filter((type) => !isGrantType(type));
      if (unknown.length > 0 || grantTypes.length === 0) {
        throw new AdminCliUsageError(
          `--grant-types takes a comma-separated list of: ${GRANT_TYPES.join(', ')}`,
        );
      }
      const scope = option('scope');
      const defaultScope = option('default-scope');
      const accessTtl = option('access-token-ttl-seconds');
      const refreshTtl = option('refresh-token-ttl-seconds');
      const format = option('access-token-format');
      const audiences = option('audiences');
      const redirectUris = option('redirect-uris');
      return {
        action: command,
        name: required('name'),
        grant_types: grantTypes,
        ...(scope === undefined ? {} : { scope }),
        ...(defaultScope === undefined ? {} : { default_scope: defaultScope }),
        // Sent as JSON numbers; the admin function checks the bounds.
        ...(accessTtl === undefined
          ? {}
          : { access_token_ttl_seconds: seconds('access-token-ttl-seconds', accessTtl) }),
        ...(refreshTtl === undefined
          ? {}
          : { refresh_token_ttl_seconds: seconds('refresh-token-ttl-seconds', refreshTtl) }),
        ...(option('resource-server') === FLAG_SET ? { resource_server: true } : {}),
        ...(format === undefined ? {} : { access_token_format: format }),
        ...(audiences === undefined
          ? {}
          : { audiences: audiences.split(',').map((audience) => audience.trim()) }),
        ...(redirectUris === undefined
          ? {}
          : { redirect_uris: redirectUris.split(',').map((uri) => uri.trim()) }),
        ...(option('public') === FLAG_SET ? { token_endpoint_auth_method: 'none' } : {}),
      };
    }
    case 'list-clients':
    case 'rotate-signing-key':
      return { action: command };
    case 'rotate-secret': {
      const keep = option('keep-previous-seconds');
      return {
        action: command,
        client_id: required('client-id'),
        ...(keep === undefined ? {} : { keep_previous_seconds: seconds('keep-previous-seconds', keep) }),
      };
    }
    case 'disable-client':
      return { action: command, client_id: required('client-id') };
    case 'revoke-user-tokens':
      return {
        action: command,
        user_id: parseUserId(required('user-id'), option('user-id-type') ?? 'string'),
      };
    case 'unlock-username':
      return { action: command, username: required('username') };
  }
}

/**
 * The user id as the AuthCheck returned it. Only the echoed `user_id` depends on the type (the
 * service keys 1234 and "1234" alike), so `string` is the default and `number` is explicit.
 */
function parseUserId(raw: string, type: string): string | number {
  if (type === 'string') return raw;
  if (type !== 'number') throw new AdminCliUsageError('--user-id-type must be string or number');
  // No leading zeros: "007" as a number would be the different user "7".
  if (!/^(0|[1-9][0-9]*)$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new AdminCliUsageError('--user-id-type number needs an all-digit --user-id without leading zeros');
  }
  return Number(raw);
}

/** The function validates again; checking here with the same core parser keeps bad payloads local. */
function validatePayload(payload: AdminPayload): void {
  try {
    parseAdminCommand(payload);
  } catch (error) {
    if (error instanceof OAuthError) throw new AdminCliUsageError(error.description);
    throw error;
  }
}

function parseEndpointUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AdminCliUsageError('--endpoint-url must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AdminCliUsageError('--endpoint-url must be an http or https URL');
  }
  return url;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `--function-name`, else `OAUTH2_ADMIN_FUNCTION` (when `--stack` is not given). */
export function resolveFunctionName(target: InvokeTarget, env: Env): string {
  const name = target.functionName ?? nonEmpty(env.OAUTH2_ADMIN_FUNCTION);
  if (name === undefined)
    throw new AdminCliUsageError('--function-name or --stack is required (or set OAUTH2_ADMIN_FUNCTION)');
  return name;
}

/** The stack output that names the admin function (its logical id ends with a construct hash). */
const ADMIN_OUTPUT = /AdminFunctionName/;

/**
 * Reads the admin function's name from the stack's outputs (DescribeStacks). Throws a plain
 * `Error` (exit status 3) when the stack or the output is missing.
 */
export async function functionNameFromStack(
  stackName: string,
  config: { region?: string; profile?: string },
  describe?: (stackName: string) => Promise<Array<{ OutputKey?: string; OutputValue?: string }>>,
): Promise<string> {
  const outputs =
    describe === undefined ? await describeStackOutputs(stackName, config) : await describe(stackName);
  const matches = outputs.filter((output) => ADMIN_OUTPUT.test(output.OutputKey ?? '') && output.OutputValue);
  if (matches.length !== 1) {
    throw new Error(
      `stack ${printable(stackName)} has ${matches.length === 0 ? 'no' : 'several'} AdminFunctionName outputs`,
    );
  }
  return matches[0]?.OutputValue as string;
}

async function describeStackOutputs(
  stackName: string,
  config: { region?: string; profile?: string },
): Promise<Array<{ OutputKey?: string; OutputValue?: string }>> {
  // Loaded only for --stack: keeps the plain --function-name path free of the CloudFormation client.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.profile === undefined ? {} : { profile: config.profile }),
  });
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return answer.Stacks?.[0]?.Outputs ?? [];
  } finally {
    client.destroy();
  }
}

/**
 * Static credentials for a local emulator, which ignores signatures. Never valid on AWS. A fresh
 * object each time: the SDK tags the credentials it is given (a frozen object makes it throw).
 */
const localCredentials = () => ({ accessKeyId: 'local', secretAccessKey: 'local' });
const LOCAL_REGION = 'us-east-1';

/** Environment variables through which the SDK's default chain would find real credentials. */
const CREDENTIAL_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

/**
 * Loopback, or the wildcard address a local stack started with `HOST=0.0.0.0` listens on (a
 * connection to it reaches this machine): either way an emulator, never AWS.
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host === '[::1]' ||
    host === '0.0.0.0' ||
    host === '[::]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * The LambdaClient configuration. With a loopback `--endpoint-url`, no `--profile` and no
 * credentials in the environment, dummy credentials and us-east-1 are used, so the local stack
 * works on a machine without AWS setup; everywhere else the SDK's default chain decides.
 */
export function lambdaClientConfigFor(target: InvokeTarget, env: Env): LambdaClientConfig {
  const endpoint = target.endpointUrl === undefined ? undefined : parseEndpointUrl(target.endpointUrl);
  const local = endpoint !== undefined && isLoopbackUrl(endpoint);
  const region =
    target.region ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    (local ? LOCAL_REGION : undefined);
  const credentialsConfigured =
    target.profile !== undefined || CREDENTIAL_ENV.some((name) => nonEmpty(env[name]));
  return {
    ...(region === undefined ? {} : { region }),
    ...(target.profile === undefined ? {} : { profile: target.profile }),
    ...(target.endpointUrl === undefined ? {} : { endpoint: target.endpointUrl }),
    ...(local && !credentialsConfigured ? { credentials: localCredentials() } : {}),
    // Fail fast on an unreachable host; an invocation itself may take as long as it needs.
    requestHandler: { connectionTimeout: 10_000 },
  };
}

/** What the CLI needs of a LambdaClient; tests substitute their own. */
export interface AdminLambdaClient {
  send(command: InvokeCommand): Promise<InvokeCommandOutput>;
  destroy(): void;
}

export interface AdminCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface AdminCliOptions {
  readonly lambdaClientFactory?: (config: LambdaClientConfig) => AdminLambdaClient;
  /** Replaces CloudFormation's DescribeStacks for `--stack` (tests). */
  readonly describeStackOutputs?: (
    stackName: string,
  ) => Promise<Array<{ OutputKey?: string; OutputValue?: string }>>;
  /** Defaults to `process.env`. */
  readonly env?: Env;
}

/** Runs one command line and resolves to the exit status; never throws for expected failures. */
export async function runAdminCli(
  argv: readonly string[],
  io: AdminCliIo,
  options: AdminCliOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  let payload: AdminPayload;
  let functionName: string | undefined;
  let stack: string | undefined;
  let target: InvokeTarget = {};
  let config: LambdaClientConfig;
  try {
    const args = parseAdminCliArgs(argv);
    if (args.kind === 'help') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    payload = args.payload;
    stack = args.target.stack;
    target = args.target;
    functionName = stack === undefined ? resolveFunctionName(args.target, env) : undefined;
    config = lambdaClientConfigFor(args.target, env);
  } catch (error) {
    if (!(error instanceof AdminCliUsageError)) throw error;
    io.stderr(`oauth2-admin: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (functionName === undefined) {
    try {
      functionName = await functionNameFromStack(
        stack as string,
        {
          ...(target.region === undefined ? {} : { region: target.region }),
          ...(target.profile === undefined ? {} : { profile: target.profile }),
        },
        options.describeStackOutputs,
      );
    } catch (error) {
      io.stderr(
        `oauth2-admin: could not find the admin function of stack ${printable(stack as string)}: ${describeFailure(error)}\n`,
      );
      return EXIT.invokeFailed;
    }
  }

  if (payload.action === 'disable-client') {
    // The function sweeps the client's grants twice, ~30 s apart (past the token function's timeout),
    // so that a grant written by a request already in flight dies too: say why the call takes a while.
    io.stderr(
      'oauth2-admin: disable-client revokes the client’s grants now and again after in-flight token requests have ended (about 30 s); waiting...\n',
    );
  }
  const factory = options.lambdaClientFactory ?? ((clientConfig) => new LambdaClient(clientConfig));
  let client: AdminLambdaClient | undefined;
  let output: InvokeCommandOutput;
  try {
    client = factory(config);
    output = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: JSON.stringify(payload),
      }),
    );
  } catch (error) {
    io.stderr(`oauth2-admin: could not invoke ${printable(functionName)}: ${describeFailure(error)}\n`);
    return EXIT.invokeFailed;
  } finally {
    client?.destroy();
  }
  return report(output, io);
}

function report(output: InvokeCommandOutput, io: AdminCliIo): number {
  const text = output.Payload === undefined ? '' : new TextDecoder().decode(output.Payload);
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    if (text !== '') io.stdout(`${text}\n`);
    io.stderr('oauth2-admin: the function answered something other than JSON\n');
    return EXIT.functionError;
  }
  io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
  if (output.FunctionError !== undefined) {
    io.stderr(`oauth2-admin: the function failed (${printable(output.FunctionError)})\n`);
    return EXIT.functionError;
  }
  const isErrorAnswer = typeof answer === 'object' && answer !== null && 'error' in answer;
  return isErrorAnswer ? EXIT.functionError : EXIT.ok;
}

/**
 * One line, no stack: the error's name and the first line of its message. AWS messages can
 * continue with a canonical request (signed headers, a session token), so only line one is kept.
 */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  // Node reports a refused `localhost` (IPv4 and IPv6 both tried) as an AggregateError without a message.
  const inner =
    error instanceof AggregateError ? error.errors.find((e): e is Error => e instanceof Error) : undefined;
  const message = error.message || inner?.message || (typeof code === 'string' ? code : '');
  const firstLine = message.split(/\r?\n/, 1)[0] ?? '';
  const name = error.name === 'Error' || error.name === 'AggregateError' ? '' : `${error.name}: `;
  return printable(`${name}${firstLine}`.trim() || error.name).slice(0, 300);
}

/** Keeps terminal control characters (anything but printable ASCII) out of what we echo; redacts anything shaped like an access key id. */
const printable = (text: string): string =>
  text.replace(/[^\x20-\x7E]/g, '?').replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '$1****************');

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value;
