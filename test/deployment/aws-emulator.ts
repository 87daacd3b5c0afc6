import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ParameterModel, SecretModel, TableModel } from './deployment-model';
import type { IamDecision, RequestedAccess } from './iam-policy';

/** One AWS API call, as the emulated endpoint received it. */
export interface RecordedCall {
  /** The calling function's logical id: each function runs with its logical id as its access key id. */
  readonly caller: string;
  readonly access: RequestedAccess;
  readonly decision: IamDecision | undefined;
  /** The error AWS (or the emulator) answered, e.g. `ResourceNotFoundException: …`. */
  readonly error: string | undefined;
}

export interface LambdaInvocation {
  readonly payload: unknown;
  readonly functionError?: string;
}

export interface AwsEmulatorOptions {
  readonly dynamodbEndpoint: string;
  readonly region: string;
  readonly account: string;
  readonly tables: readonly TableModel[];
  /** `value` is written by PutSecretValue (the signing-key rotation stores its key set so). */
  readonly secrets: readonly (SecretModel & { value: string })[];
  readonly parameters: readonly ParameterModel[];
  /** IAM's answer for this caller; undefined when the caller is not a function of the template. */
  readonly authorize: (caller: string, access: RequestedAccess) => IamDecision | undefined;
  /** `lambda:InvokeFunction` target; undefined when nothing answers for that function. */
  readonly invoke: (functionArn: string, payload: unknown) => Promise<LambdaInvocation> | undefined;
}

export interface AwsEmulator {
  /** `http://127.0.0.1:<port>`: every function's `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  stop(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

/**
 * One loopback endpoint for every AWS API the functions call (the SDK's `AWS_ENDPOINT_URL`):
 * DynamoDB is forwarded to dynalite, Secrets Manager, SSM GetParameter and Lambda Invoke are
 * answered here. Every call is recorded with the IAM action and resource ARN it needs, checked
 * against the caller's role like AWS does (AccessDeniedException when not allowed), then served.
 */
export async function startAwsEmulator(options: AwsEmulatorOptions): Promise<AwsEmulator> {
  const calls: RecordedCall[] = [];
  const server: Server = createServer((request, response) => {
    void handle(request, response, options, calls).catch((error: unknown) => {
      if (!response.headersSent) {
        reply(response, 500, {
          __type: 'InternalFailure',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Served {
  readonly status: number;
  readonly body: Buffer | string;
  readonly headers?: Record<string, string>;
}

interface Operation {
  readonly service: string;
  readonly accesses: RequestedAccess[];
  readonly serve: () => Promise<Served>;
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: AwsEmulatorOptions,
  calls: RecordedCall[],
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return reply(response, 413, { __type: 'RequestEntityTooLarge' });
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const caller = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ''))?.[1] ?? 'anonymous';
  const operation = identify(request, body, options);
  const common = {
    'aws:requestedregion': [options.region],
    'aws:securetransport': ['true'],
    'aws:principalaccount': [options.account],
  };
  const accesses = operation.accesses.map((access) => ({
    ...access,
    context: { ...common, ...access.context },
  }));
  const decisions = accesses.map((access) => options.authorize(caller, access));
  const denied = accesses.findIndex((_, index) => decisions[index]?.allowed !== true);
  if (denied !== -1) {
    const access = accesses[denied] as RequestedAccess;
    const message =
      decisions[denied] === undefined
        ? `${caller} is not a function of this stack`
        : `User: arn:aws:sts::${options.account}:assumed-role/${caller}/${caller} is not authorized to perform: ${access.action} on resource: ${access.resource} because no identity-based policy allows the ${access.action} action`;
    accesses.forEach((item, index) => {
      calls.push({
        caller,
        access: item,
        decision: decisions[index],
        error: index === denied ? `AccessDeniedException: ${message}` : undefined,
      });
    });
    return reply(
      response,
      400,
      { __type: 'com.amazon.coral.service#AccessDeniedException', Message: message, message },
      operation.service === 'lambda' ? { 'X-Amzn-ErrorType': 'AccessDeniedException' } : {},
    );
  }
  const result = await operation.serve();
  const error = result.status >= 400 ? errorSummary(result.body) : undefined;
  accesses.forEach((access, index) => {
    calls.push({ caller, access, decision: decisions[index], error });
  });
  response
    .writeHead(result.status, { 'Content-Type': 'application/x-amz-json-1.1', ...result.headers })
    .end(result.body);
}

function errorSummary(body: Buffer | string): string {
  try {
    const json = JSON.parse(String(body)) as Record<string, unknown>;
    const type = String(json.__type ?? json.Type ?? 'Error')
      .split('#')
      .pop();
    return `${type}: ${String(json.message ?? json.Message ?? '')}`;
  } catch {
    return String(body).slice(0, 200);
  }
}

function reply(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0', ...headers })
    .end(JSON.stringify(body));
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

function identify(request: IncomingMessage, body: Buffer, options: AwsEmulatorOptions): Operation {
  const target = String(request.headers['x-amz-target'] ?? '');
  const path = new URL(request.url ?? '/', 'http://local').pathname;
  let input: Record<string, unknown> = {};
  try {
    input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  } catch {
    input = {};
  }
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${options.region}:${options.account}:${resource}`;

  const dynamo = /^DynamoDB_\d+\.(\w+)$/.exec(target);
  if (dynamo !== null) {
    const action = dynamo[1] as string;
    return {
      service: 'dynamodb',
      accesses: dynamoDbAccesses(action, input, options.tables, arn),
      serve: () => forward(options.dynamodbEndpoint, request, body),
    };
  }

  const secrets = /^secretsmanager\.(\w+)$/.exec(target);
  if (secrets !== null) {
    const action = secrets[1] as string;
    const id = String(input.SecretId ?? '');
    const secret = options.secrets.find((candidate) => candidate.arn === id || candidate.name === id);
    return {
      service: 'secretsmanager',
      accesses: [
        {
          action: `secretsmanager:${action}`,
          resource:
            secret?.arn ?? (id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}-??????`)),
          context: { 'secretsmanager:SecretId': [secret?.arn ?? id] },
        },
      ],
      serve: async () => {
        if (secret === undefined)
          return json(400, {
            __type: 'ResourceNotFoundException',
            message: `Secrets Manager can't find the specified secret: ${id}`,
          });
        if (action === 'GetSecretValue')
          return json(200, {
            ARN: secret.arn,
            Name: secret.name,
            SecretString: secret.value,
            VersionId: 'emulated-v1',
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 0,
          });
        if (action === 'DescribeSecret') return json(200, { ARN: secret.arn, Name: secret.name });
        if (action === 'PutSecretValue' && typeof input.SecretString === 'string') {
          secret.value = input.SecretString;
          return json(200, { ARN: secret.arn, Name: secret.name, VersionId: 'emulated-v2' });
        }
        return json(400, {
          __type: 'UnknownOperationException',
          message: `secretsmanager:${action} is not emulated`,
        });
      },
    };
  }

  const ssm = /^AmazonSSM\.(\w+)$/.exec(target);
  if (ssm !== null) {
    const action = ssm[1] as string;
    const names = (input.Names as string[] | undefined) ?? [String(input.Name ?? '')];
    const found = names.map((name) =>
      options.parameters.find((parameter) => parameter.name === name || parameter.arn === name),
    );
    return {
      service: 'ssm',
      accesses: names.map((name, index) => ({
        action: `ssm:${action}`,
        resource: found[index]?.arn ?? arn('ssm', `parameter/${name.replace(/^\//, '')}`),
        context: {},
      })),
      serve: async () => {
        const view = (parameter: ParameterModel) => ({
          Name: parameter.name,
          Type: parameter.type,
          Value: parameter.value,
          Version: 1,
          ARN: parameter.arn,
        });
        if (action === 'GetParameter') {
          const parameter = found[0];
          return parameter === undefined
            ? json(400, { __type: 'ParameterNotFound', message: `${names[0]} not found` })
            : json(200, { Parameter: view(parameter) });
        }
        if (action === 'GetParameters')
          return json(200, {
            Parameters: found.filter((parameter) => parameter !== undefined).map(view),
            InvalidParameters: names.filter((_, index) => found[index] === undefined),
          });
        return json(400, { __type: 'UnknownOperationException', message: `ssm:${action} is not emulated` });
      },
    };
  }

  const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
  if (invoke !== null) {
    const name = decodeURIComponent(invoke[1] as string);
    // A name, `name:qualifier`, or an ARN (with an optional qualifier): IAM sees the function's ARN.
    const functionArn = name.startsWith('arn:')
      ? name.split(':').slice(0, 7).join(':')
      : arn('lambda', `function:${name.split(':')[0]}`);
    return {
      service: 'lambda',
      accesses: [
        {
          action: 'lambda:InvokeFunction',
          resource: functionArn,
          context: { 'lambda:FunctionArn': [functionArn] },
        },
      ],
      serve: async () => {
        let payload: unknown = {};
        try {
          payload = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
        } catch {
          return json(400, { Type: 'User', message: 'Could not parse request body into json' });
        }
        const running = options.invoke(functionArn, payload);
        if (running === undefined)
          return {
            status: 404,
            body: JSON.stringify({ Type: 'User', message: `Function not found: ${functionArn}` }),
            headers: { 'X-Amzn-ErrorType': 'ResourceNotFoundException' },
          };
        const result = await running;
        const served: Served = {
          status: 200,
          body: JSON.stringify(result.payload),
          headers: {
            'X-Amz-Executed-Version': '$LATEST',
            ...(result.functionError === undefined ? {} : { 'X-Amz-Function-Error': result.functionError }),
          },
        };
        return served;
      },
    };
  }

  // Anything else is recorded (and IAM-checked) under the service the SigV4 scope names, and refused.
  const credential = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(
    String(request.headers.authorization ?? ''),
  );
  const service = credential?.[1] ?? 'unknown';
  const action = target.split('.').pop() || `${request.method} ${path}`;
  return {
    service,
    accesses: [{ action: `${service}:${action}`, resource: '*', context: {} }],
    serve: async () =>
      json(400, {
        __type: 'UnknownOperationException',
        message: `${service}:${action} is not emulated by the deployment verification`,
      }),
  };
}

/** The IAM resources a DynamoDB request touches: its table(s), or `table/<t>/index/<i>` for an index query. */
function dynamoDbAccesses(
  action: string,
  input: Record<string, unknown>,
  tables: readonly TableModel[],
  arn: (service: string, resource: string) => string,
): RequestedAccess[] {
  const tableArn = (name: string) =>
    tables.find((table) => table.name === name)?.arn ?? arn('dynamodb', `table/${name}`);
  const hashKeyOf = (name: string) => tables.find((table) => table.name === name)?.hashKey;
  const leading = (name: string, item: unknown): string[] => {
    const key = hashKeyOf(name);
    const value =
      key === undefined || typeof item !== 'object' || item === null
        ? undefined
        : (item as Record<string, Record<string, unknown>>)[key];
    const scalar = value?.S ?? value?.N ?? value?.B;
    return scalar === undefined ? [] : [String(scalar)];
  };
  const one = (name: string, keys: string[], extra: Record<string, string[]> = {}): RequestedAccess => ({
    action: `dynamodb:${action}`,
    resource: tableArn(name),
    context: { ...(keys.length > 0 ? { 'dynamodb:LeadingKeys': keys } : {}), ...extra },
  });
  const table = String(input.TableName ?? '');
  const flags: Record<string, string[]> = {};
  if (typeof input.ReturnValues === 'string') flags['dynamodb:ReturnValues'] = [input.ReturnValues];
  if (typeof input.Select === 'string') flags['dynamodb:Select'] = [input.Select];
  flags['dynamodb:ConsistentRead'] = [String(input.ConsistentRead === true)];
  switch (action) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [one(table, leading(table, input.Key), flags)];
    case 'PutItem':
      return [one(table, leading(table, input.Item), flags)];
    case 'Query':
    case 'Scan': {
      const index = typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : '';
      return [{ action: `dynamodb:${action}`, resource: `${tableArn(table)}${index}`, context: flags }];
    }
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((input.RequestItems as Record<string, unknown>) ?? {}).map((name) => one(name, []));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return ((input.TransactItems as Record<string, Record<string, unknown>>[]) ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, operation]) => ({
          action: `dynamodb:${kind === 'Put' ? 'PutItem' : kind === 'Delete' ? 'DeleteItem' : kind === 'Update' ? 'UpdateItem' : kind === 'Get' ? 'GetItem' : 'ConditionCheckItem'}`,
          resource: tableArn(String(operation.TableName)),
          context: {},
        })),
      );
    default:
      return table === '' ? [{ action: `dynamodb:${action}`, resource: '*', context: {} }] : [one(table, [])];
  }
}

function forward(
  endpoint: string,
  request: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; body: Buffer; headers: Record<string, string> }> {
  const target = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, host: target.host, 'content-length': String(body.length) };
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () =>
          resolve({
            status: answer.statusCode ?? 500,
            body: Buffer.concat(chunks),
            headers: {
              'Content-Type': String(answer.headers['content-type'] ?? 'application/x-amz-json-1.0'),
              'x-amzn-RequestId': String(answer.headers['x-amzn-requestid'] ?? ''),
            },
          }),
        );
        answer.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}
