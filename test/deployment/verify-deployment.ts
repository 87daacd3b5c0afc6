import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { startEmbeddedDynalite } from '../../lambdas/local/embedded-dynalite';
import { type RecordedCall, startAwsEmulator } from './aws-emulator';
import { asList, isRecord } from './cfn-template';
import { type DeploymentModel, type FunctionModel, loadDeploymentModel } from './deployment-model';
import { evaluateAccess, grantedPairs, pairCovers, type RolePolicies, rolePolicies } from './iam-policy';
import {
  allowedOnRuntime,
  createRuntimeModulePath,
  externalRequires,
  type InvocationResult,
  RESERVED_ENVIRONMENT,
  type RunningFunction,
  startFunction,
} from './lambda-runtime';
import {
  LIFE_CYCLE_STEPS,
  type LifeCycleState,
  type LifeCycleStep,
  type LifeCycleTarget,
  runLifeCycle,
} from './life-cycle';
import { answerHook, type HookCall, type HookIdentity, startLoopbackHooks } from './loopback-hooks';
import { type RestApiEmulation, startRestApiEmulation } from './rest-api-emulation';

export type LineStatus = 'PASS' | 'FAIL' | 'WARN' | 'INFO' | 'SKIP';

export interface VerificationLine {
  readonly status: LineStatus;
  readonly text: string;
}

export interface VerificationResult {
  readonly lines: readonly VerificationLine[];
  readonly passed: number;
  readonly failed: number;
}

export interface VerifyOptions {
  readonly assemblyDir: string;
  /** Printed in front of every line (`default`, `all-features`). */
  readonly label: string;
  readonly stackName?: string;
  /** The life-cycle steps to run; default: all of them. */
  readonly steps?: readonly LifeCycleStep[];
  /** Called with each line as it is decided (the CLI prints them live). */
  readonly onLine?: (line: VerificationLine) => void;
}

/**
 * Unused grants that are expected, with why. A grant never used by the life cycle and not listed
 * here is reported as unexplained: remove it, or add the reason.
 */
export const UNUSED_GRANT_REASONS: readonly { readonly action: RegExp; readonly reason: string }[] = [
  {
    action: /^logs:(CreateLogStream|PutLogEvents)$/,
    reason:
      'the Lambda service writes the function’s own log group with its role; the code never calls CloudWatch Logs',
  },
  {
    action: /^secretsmanager:DescribeSecret$/,
    reason: 'comes with CDK’s Secret.grantRead; the hook-secret fetch calls only GetSecretValue',
  },
];

/** What this emulation does not reproduce; printed with every run so nobody reads more into a pass. */
const NOT_EMULATED = [
  'API Gateway authorizer result caching, throttling, WAF, resource policy and request validation',
  'DynamoDB TTL deletion, capacity and throttling',
  'IAM as AWS evaluates it (SCPs, permission boundaries, KMS key policies, service-linked access)',
  'TLS termination and the custom domain’s TLS policy, DNS',
  'the Lambda runtime’s exact Node.js version, arm64, memory limits, reserved concurrency and cold-start timing',
];

/** Hook endpoints in a function's environment: the deployer's services, replaced by loopback hooks. */
const HOOK_URL = /^(.+_CHECK)_URL$/;
const HOOK_FUNCTION = /^(.+_CHECK)_FUNCTION_NAME$/;

/**
 * Runs the deployment a cloud assembly describes, on loopback: tables from the template in
 * dynalite, each function's uploaded asset in its own Lambda-like process with the template's
 * environment, the template's routes behind a thin API Gateway, then the life cycle through it and
 * an IAM check of every AWS call each function made against its role.
 */
export async function verifyDeployment(options: VerifyOptions): Promise<VerificationResult> {
  const lines: VerificationLine[] = [];
  const emit = (status: LineStatus, text: string) => {
    const line = { status, text: `[${options.label}] ${text}` };
    lines.push(line);
    options.onLine?.(line);
  };
  const stoppers: (() => Promise<void>)[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'verify-deployment-'));
  try {
    await verifyInto(options, emit, stoppers, scratch);
  } catch (error) {
    emit('FAIL', `verification stopped: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    lines,
    passed: lines.filter((line) => line.status === 'PASS').length,
    failed: lines.filter((line) => line.status === 'FAIL').length,
  };
}

async function verifyInto(
  options: VerifyOptions,
  emit: (status: LineStatus, text: string) => void,
  stoppers: (() => Promise<void>)[],
  scratch: string,
): Promise<void> {
  const model = loadDeploymentModel(options.assemblyDir, options.stackName);
  const { location } = model;
  emit(
    'PASS',
    `template ${location.stackName} (${location.account}/${location.region}): ${model.tables.length} tables, ${model.functions.length} functions, ${model.routes.length} routes, ${model.secrets.length} secrets, ${model.parameters.length} SSM parameters`,
  );

  // 1. Tables, from the template's own definitions.
  const dynalite = await startEmbeddedDynalite();
  stoppers.push(dynalite.stop);
  const dynamodb = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: location.region,
    credentials: { accessKeyId: 'verification', secretAccessKey: 'verification' },
  });
  stoppers.push(async () => dynamodb.destroy());
  for (const table of model.tables) {
    const props = table.properties;
    const indexes = asList(props.GlobalSecondaryIndexes).filter(isRecord);
    const local = asList(props.LocalSecondaryIndexes).filter(isRecord);
    const input: CreateTableCommandInput = {
      TableName: table.name,
      KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      BillingMode: 'PAY_PER_REQUEST',
      ...(indexes.length > 0
        ? {
            GlobalSecondaryIndexes: indexes.map(({ IndexName, KeySchema, Projection }) => ({
              IndexName,
              KeySchema,
              Projection,
            })) as CreateTableCommandInput['GlobalSecondaryIndexes'],
          }
        : {}),
      ...(local.length > 0
        ? { LocalSecondaryIndexes: local as unknown as CreateTableCommandInput['LocalSecondaryIndexes'] }
        : {}),
    };
    try {
      await dynamodb.send(new CreateTableCommand(input));
      const keys = asList(props.KeySchema)
        .map((key) => (isRecord(key) ? `${String(key.AttributeName)} ${String(key.KeyType)}` : ''))
        .join(', ');
      const gsis = indexes.map((index) => String(index.IndexName));
      emit(
        'PASS',
        `table ${table.logicalId} as ${table.name}: key ${keys}${gsis.length > 0 ? `; GSIs ${gsis.join(', ')}` : ''}`,
      );
    } catch (error) {
      emit(
        'FAIL',
        `table ${table.logicalId}: dynalite refused the template's definition: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const ttl = isRecord(props.TimeToLiveSpecification) ? props.TimeToLiveSpecification : undefined;
    if (ttl?.Enabled === true) {
      try {
        await dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: table.name,
            TimeToLiveSpecification: { AttributeName: String(ttl.AttributeName), Enabled: true },
          }),
        );
        emit('PASS', `table ${table.logicalId}: TTL on ${String(ttl.AttributeName)}`);
      } catch (error) {
        emit(
          'WARN',
          `table ${table.logicalId}: TTL on ${String(ttl.AttributeName)} is not verified: dynalite does not support it (${error instanceof Error ? error.name : 'error'}); expiry here rests on the code's own expiry checks`,
        );
      }
    }
  }

  // 2. Secrets Manager values: what CloudFormation would generate, or the template's own string.
  const secrets = model.secrets.map((secret) => {
    const generate = isRecord(secret.properties.GenerateSecretString)
      ? secret.properties.GenerateSecretString
      : undefined;
    let value = typeof secret.properties.SecretString === 'string' ? secret.properties.SecretString : '';
    if (generate !== undefined) {
      const generated = randomBytes(64)
        .toString('base64url')
        .replace(/[-_]/g, '')
        .slice(0, Number(generate.PasswordLength ?? 32));
      value =
        typeof generate.SecretStringTemplate === 'string' && typeof generate.GenerateStringKey === 'string'
          ? JSON.stringify({
              ...JSON.parse(generate.SecretStringTemplate),
              [generate.GenerateStringKey]: generated,
            })
          : generated;
    }
    return { ...secret, value };
  });
  for (const secret of secrets)
    emit('PASS', `secret ${secret.logicalId} served by the emulated Secrets Manager as ${secret.arn}`);
  const secretValue = (arn: string | undefined) => secrets.find((secret) => secret.arn === arn)?.value;

  // 3. The deployer's hooks, on loopback; signed with the secret the functions read.
  const identity: HookIdentity = {
    username: 'verification-user',
    password: randomBytes(18).toString('base64url'),
    userId: `user-${randomBytes(4).toString('hex')}`,
    sessionCookie: `session=${randomBytes(18).toString('base64url')}`,
  };
  let hookSecretArn: string | undefined;
  const hooks = await startLoopbackHooks(identity, () => secretValue(hookSecretArn));
  stoppers.push(hooks.stop);
  const lambdaHookCalls: HookCall[] = [];

  // 4. Functions: environment resolved against the emulation, asset checked, process started.
  const modulePath = createRuntimeModulePath(join(scratch, 'runtime-node-modules'));
  const running = new Map<string, RunningFunction>();
  const policies = new Map<string, RolePolicies>();
  const hookFunctionArns = new Set<string>();
  let awsEndpoint = '';
  for (const fn of model.functions) {
    const environment = resolveEnvironment(model, fn, emit);
    if (environment === undefined) continue;
    for (const [name, value] of Object.entries(environment)) {
      const hookUrl = HOOK_URL.exec(name);
      if (hookUrl !== null) {
        const prefix = hookUrl[1] as string;
        environment[name] = `${hooks.url}/${prefix.toLowerCase().replace(/_/g, '-')}`;
        hookSecretArn = environment[`${prefix}_SECRET_ARN`] ?? hookSecretArn;
        emit(
          'INFO',
          `${fn.logicalId}: ${name} ${value} → the loopback hook ${environment[name]} (signed with ${prefix}_SECRET_ARN's value)`,
        );
      }
      const hookFunction = HOOK_FUNCTION.exec(name);
      if (
        hookFunction !== null &&
        !model.functions.some((candidate) => candidate.arn === value || candidate.name === value)
      ) {
        hookFunctionArns.add(
          value.startsWith('arn:')
            ? value
            : `arn:aws:lambda:${location.region}:${location.account}:function:${value}`,
        );
        emit('INFO', `${fn.logicalId}: ${name} ${value} → answered by the emulated Lambda Invoke API`);
      }
    }
    if (!fn.runtime.startsWith('nodejs')) {
      emit('WARN', `function ${fn.logicalId}: runtime ${fn.runtime} is not run by this verification`);
      continue;
    }
    if (fn.assetDir === undefined || !existsSync(fn.assetDir)) {
      emit(
        'FAIL',
        `function ${fn.logicalId}: its code asset is not in the cloud assembly (${fn.assetDir ?? 'no S3Key asset'})`,
      );
      continue;
    }
    const requires = externalRequires(fn.assetDir);
    const foreign = requires.filter((name) => !allowedOnRuntime(name));
    if (foreign.length > 0) {
      emit(
        'FAIL',
        `function ${fn.logicalId}: the bundle requires ${foreign.join(', ')}, which the Lambda runtime does not provide (only ${'@aws-sdk/*, @smithy/*'})`,
      );
    }
    const dynamicImports = dynamicRuntimeImports(fn.assetDir);
    if (dynamicImports.length > 0)
      emit(
        'FAIL',
        `function ${fn.logicalId}: the bundle loads ${dynamicImports.join(', ')} with import(), which resolves as ESM and ignores the runtime's NODE_PATH: use a static import`,
      );
    if (fn.roleLogicalId !== undefined)
      policies.set(fn.logicalId, rolePolicies(model.resolver, fn.roleLogicalId));
    running.set(
      fn.logicalId,
      startFunction({
        model: fn,
        environment,
        region: location.region,
        // Read when the process starts: the emulated endpoint is started after the functions are known.
        get awsEndpoint() {
          return awsEndpoint;
        },
        modulePath,
      }),
    );
    emit(
      'INFO',
      `function ${fn.logicalId}: ${fn.handler} from ${basename(fn.assetDir)}, ${fn.runtime}, Timeout ${fn.timeoutSeconds} s, MemorySize ${fn.memoryMb} MB, needs from the runtime: ${requires.join(', ') || 'nothing'}`,
    );
  }
  stoppers.push(async () => {
    await Promise.all([...running.values()].map((fn) => fn.stop()));
  });

  // 5. One emulated AWS endpoint for every SDK call, IAM-checked per calling function.
  const emulator = await startAwsEmulator({
    dynamodbEndpoint: dynalite.endpoint,
    region: location.region,
    account: location.account,
    tables: model.tables,
    secrets,
    parameters: model.parameters,
    authorize: (caller, access) => {
      const role = policies.get(caller);
      return role === undefined ? undefined : evaluateAccess(role, access);
    },
    invoke: (functionArn, payload) => {
      if (hookFunctionArns.has(functionArn)) {
        const kind = isRecord(payload) && typeof payload.cookie === 'string' ? 'session' : 'credentials';
        lambdaHookCalls.push({ kind, via: 'lambda', signed: false });
        return Promise.resolve({ payload: answerHook(identity, payload) });
      }
      const target = model.functions.find((fn) => fn.arn === functionArn);
      const fn = target === undefined ? undefined : running.get(target.logicalId);
      if (fn === undefined) return undefined;
      return fn
        .invoke(payload)
        .then((outcome) =>
          outcome.error === undefined
            ? { payload: outcome.result }
            : { payload: outcome.error, functionError: 'Unhandled' },
        );
    },
  });
  awsEndpoint = emulator.endpoint;
  stoppers.push(emulator.stop);

  // Cold starts: a wrong Handler, a missing module or a refused environment shows here, by name.
  const initFailures = new Set<string>();
  for (const [logicalId, fn] of running) {
    const init = await fn.init();
    if (init === undefined)
      emit(
        'PASS',
        `function ${logicalId}: initialises (handler ${fn.model.handler} resolved like the Node.js runtime)`,
      );
    else {
      initFailures.add(logicalId);
      emit('FAIL', `function ${logicalId}: init failed: ${init.errorType}: ${init.errorMessage}`);
    }
  }

  const invoke = (logicalId: string, event: unknown): Promise<InvocationResult> => {
    const fn = running.get(logicalId);
    if (fn === undefined)
      return Promise.resolve({
        error: { errorType: 'NotRunning', errorMessage: `${logicalId} is not running` },
        durationMs: 0,
      });
    return fn.invoke(event);
  };

  // Custom resources, as CloudFormation runs them during the deployment (the signing keys' first key).
  await runCustomResources(model, invoke, (logicalId) => running.get(logicalId)?.logs ?? [], emit);

  // 6. The template's routes behind the API Gateway emulation, and the life cycle through it.
  const api: RestApiEmulation = await startRestApiEmulation(model, invoke);
  stoppers.push(api.stop);
  const routeNames = model.routes.map((route) => `${route.method} ${route.path}`);
  emit('PASS', `API ${model.api?.logicalId}: serving ${routeNames.join(', ')} as ${model.api?.host}`);

  const adminId = adminFunctionOf(model);
  const tokenFn = functionBehind(model, '/oauth2/token');
  const metadataFn = functionBehind(model, '/.well-known/oauth-authorization-server');
  const authorizerFn = model.routes.find((route) => route.authorizer?.functionLogicalId !== undefined)
    ?.authorizer?.functionLogicalId;
  const envOf = (logicalId: string | undefined) =>
    logicalId === undefined
      ? {}
      : (resolveEnvironment(
          model,
          model.functions.find((fn) => fn.logicalId === logicalId) as FunctionModel,
          () => {},
        ) ?? {});
  const authorizerEnv = envOf(authorizerFn);
  const stagePrefix = model.api?.customDomain === undefined ? `/${model.api?.stageName}` : '';
  const target: LifeCycleTarget = {
    baseUrl: api.url,
    routes: routeNames,
    admin: async (payload) => {
      if (adminId === undefined) throw new Error('the template has no AdminFunctionName output');
      const outcome = await invoke(adminId, payload);
      if (outcome.error !== undefined)
        throw new Error(`admin function failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
      return (outcome.result ?? {}) as Record<string, unknown>;
    },
    user: { username: identity.username, password: identity.password, userId: identity.userId },
    ...(Object.keys(authorizerEnv).some((name) => name.startsWith('SESSION_CHECK_'))
      ? { sessionCookie: identity.sessionCookie }
      : {}),
    lockoutThreshold: Number(envOf(tokenFn).LOCKOUT_THRESHOLD ?? 5),
    expectedIssuer: envOf(metadataFn).ISSUER ?? `https://${model.api?.host}${stagePrefix}`,
    hookCalls: () => [...hooks.calls, ...lambdaHookCalls],
    clientNamePrefix: 'verify-deployment-',
  };
  const state: LifeCycleState = { createdClients: [], disabledClients: [] };
  // AWS errors already quoted under an earlier step are not blamed on a later one.
  const reported = new WeakSet<RecordedCall>();
  await runLifeCycle(
    target,
    state,
    (outcome) => {
      if (outcome.status === 'passed') emit('PASS', `step: ${outcome.step.name}`);
      else if (outcome.status === 'skipped') emit('SKIP', `step: ${outcome.step.name} (${outcome.detail})`);
      else {
        const causes = [
          ...api.problems.splice(0),
          ...emulator.calls
            .filter((recorded) => recorded.error !== undefined && !reported.has(recorded))
            .map((recorded) => {
              reported.add(recorded);
              return `${recorded.caller} ${recorded.access.action} on ${recorded.access.resource}: ${recorded.error}`;
            }),
        ];
        emit(
          'FAIL',
          `step: ${outcome.step.name}: ${outcome.detail}${causes.length > 0 ? ` [caused by: ${[...new Set(causes)].join('; ')}]` : ''}`,
        );
      }
      api.problems.splice(0);
      for (const recorded of emulator.calls) reported.add(recorded);
    },
    options.steps ?? LIFE_CYCLE_STEPS,
  );

  // 7. Routes no step exercised, and functions never run.
  const servedRoutes = new Set(api.served.map((request) => request.route?.logicalId));
  for (const route of model.routes) {
    if (!servedRoutes.has(route.logicalId))
      emit(
        'WARN',
        `route ${route.method} ${route.path} is in the template but no life-cycle step exercised it: add a step in test/deployment/life-cycle.ts`,
      );
  }

  // 8. IAM: every recorded call against the calling function's role.
  for (const fn of model.functions) {
    if (!running.has(fn.logicalId) || initFailures.has(fn.logicalId)) continue;
    const calls = emulator.calls.filter((recorded) => recorded.caller === fn.logicalId);
    const role = policies.get(fn.logicalId);
    const denied = calls.filter((recorded) => recorded.decision?.allowed !== true);
    const seen = new Set<string>();
    for (const recorded of denied) {
      const key = `${recorded.access.action} ${recorded.access.resource}`;
      if (seen.has(key)) continue;
      seen.add(key);
      emit(
        'FAIL',
        `IAM: function ${fn.logicalId} called ${recorded.access.action} on ${recorded.access.resource}, which its role ${fn.roleLogicalId ?? '(none)'} does not allow`,
      );
    }
    if (denied.length === 0) {
      const summary = countBy(calls.map((recorded) => recorded.access.action));
      emit(
        'PASS',
        `IAM: function ${fn.logicalId}: ${calls.length} AWS calls, all allowed by its role${calls.length > 0 ? ` (${summary})` : ''}`,
      );
    }
    const unevaluated = new Set(calls.flatMap((recorded) => recorded.decision?.unevaluatedKeys ?? []));
    if (unevaluated.size > 0)
      emit(
        'WARN',
        `IAM: function ${fn.logicalId}: conditions not evaluated here (assumed to hold): ${[...unevaluated].join(', ')}`,
      );
    if (role !== undefined && role.managedPolicyArns.length > 0)
      emit(
        'WARN',
        `IAM: function ${fn.logicalId}: managed policies not evaluated here: ${role.managedPolicyArns.join(', ')}`,
      );
    // Least privilege: every grant never used by a call.
    if (role === undefined) continue;
    const allowed = calls.filter((recorded) => recorded.decision?.allowed === true);
    for (const grant of grantedPairs(role)) {
      if (allowed.some((recorded) => pairCovers(grant, recorded.access))) continue;
      const reason = UNUSED_GRANT_REASONS.find((candidate) => candidate.action.test(grant.action))?.reason;
      emit(
        'INFO',
        `least privilege: ${fn.logicalId} never called ${grant.action} on ${grant.resource}: ${reason ?? 'UNEXPLAINED: remove the grant, or explain it in UNUSED_GRANT_REASONS'}`,
      );
    }
  }
  const strangers = emulator.calls.filter((recorded) => !running.has(recorded.caller));
  for (const recorded of strangers)
    emit(
      'FAIL',
      `IAM: an AWS call from outside the stack's functions: ${recorded.caller} ${recorded.access.action}`,
    );
  for (const fn of running.values()) {
    if (fn.invocations === 0 && !initFailures.has(fn.model.logicalId))
      emit('WARN', `function ${fn.model.logicalId} was never invoked by the life cycle`);
  }
  for (const item of NOT_EMULATED) emit('INFO', `not emulated (only a real deploy shows it): ${item}`);
}

function countBy(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, count]) => `${item}×${count}`).join(', ');
}

/** The function's `Environment.Variables`, intrinsics resolved; undefined (and a FAIL line) when one cannot be. */
function resolveEnvironment(
  model: DeploymentModel,
  fn: FunctionModel,
  emit: (status: LineStatus, text: string) => void,
): Record<string, string> | undefined {
  const environment: Record<string, string> = {};
  let ok = true;
  for (const [name, value] of Object.entries(fn.environment)) {
    if (RESERVED_ENVIRONMENT.has(name)) {
      emit(
        'FAIL',
        `function ${fn.logicalId}: environment variable ${name} is reserved by Lambda; the deploy would fail`,
      );
      ok = false;
      continue;
    }
    try {
      environment[name] = model.resolver.resolveString(value, `${fn.logicalId} ${name}`);
    } catch (error) {
      emit(
        'FAIL',
        `function ${fn.logicalId}: environment variable ${name} does not resolve: ${error instanceof Error ? error.message : String(error)}`,
      );
      ok = false;
    }
  }
  return ok ? environment : undefined;
}

/** The admin function: the one the `AdminFunctionName` output names. */
function adminFunctionOf(model: DeploymentModel): string | undefined {
  const output = Object.entries(model.template.Outputs ?? {}).find(([key]) =>
    key.includes('AdminFunctionName'),
  )?.[1];
  const ref = isRecord(output?.Value) ? output.Value.Ref : undefined;
  return typeof ref === 'string' ? ref : undefined;
}

/** The function integrated at this resource path. */
function functionBehind(model: DeploymentModel, path: string): string | undefined {
  return model.routes.find((route) => route.path === path)?.functionLogicalId;
}

/**
 * Runs each custom resource whose service token is one of the template's functions as CloudFormation
 * does at create time: the function is invoked with a `Create` event and must PUT its outcome to the
 * pre-signed `ResponseURL` (here a loopback server). A FAILED answer, no answer, or a function error
 * fails the verification: in AWS it would roll the deployment back.
 */
async function runCustomResources(
  model: DeploymentModel,
  invoke: (logicalId: string, event: unknown) => Promise<InvocationResult>,
  logsOf: (logicalId: string) => readonly string[],
  emit: (status: LineStatus, text: string) => void,
): Promise<void> {
  const custom = Object.entries(model.template.Resources).filter(
    ([, resource]) =>
      resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource',
  );
  for (const [logicalId, resource] of custom) {
    const properties = model.resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const serviceToken = String(properties.ServiceToken ?? '');
    const fn = model.functions.find((candidate) => candidate.arn === serviceToken);
    if (fn === undefined) {
      emit(
        'WARN',
        `custom resource ${logicalId} (${resource.Type}): its service token ${serviceToken} is not a function of this template; not run`,
      );
      continue;
    }
    const answers: Record<string, unknown>[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          answers.push({
            method: request.method,
            ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as object),
          });
        } catch {
          answers.push({ method: request.method, Status: 'UNPARSEABLE' });
        }
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { ServiceToken: _token, ...resourceProperties } = properties;
      const requestId = randomBytes(8).toString('hex');
      const outcome = await invoke(fn.logicalId, {
        RequestType: 'Create',
        ServiceToken: serviceToken,
        ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn-response/${requestId}`,
        StackId: `arn:aws:cloudformation:${model.location.region}:${model.location.account}:stack/${model.location.stackName}/verification`,
        RequestId: requestId,
        ResourceType: resource.Type,
        LogicalResourceId: logicalId,
        ResourceProperties: { ServiceToken: serviceToken, ...resourceProperties },
      });
      const answer = answers[0];
      if (outcome.error !== undefined)
        emit(
          'FAIL',
          `custom resource ${logicalId}: ${fn.logicalId} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
        );
      else if (answer === undefined)
        emit(
          'FAIL',
          `custom resource ${logicalId}: ${fn.logicalId} never answered CloudFormation's ResponseURL`,
        );
      else if (answer.method !== 'PUT' || answer.Status !== 'SUCCESS' || answer.RequestId !== requestId)
        emit(
          'FAIL',
          `custom resource ${logicalId}: ${fn.logicalId} answered ${String(answer.method)} ${JSON.stringify(answer)}; its log ends: ${logsOf(fn.logicalId).slice(-3).join(' | ')}`,
        );
      else
        emit(
          'PASS',
          `custom resource ${logicalId} (${resource.Type}): created by ${fn.logicalId}, SUCCESS answered to CloudFormation`,
        );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/** Runtime-provided packages a bundle loads with `import()` (ESM resolution: NODE_PATH does not apply). */
function dynamicRuntimeImports(assetDir: string): string[] {
  const found = new Set<string>();
  for (const file of readdirSync(assetDir, { recursive: true }) as string[]) {
    if (!/\.(c)?js$/.test(file)) continue;
    const source = readFileSync(join(assetDir, file), 'utf8');
    for (const match of source.matchAll(/\bimport\(\s*["']((?:@aws-sdk|@smithy)\/[^"']+)["']/g))
      found.add(match[1] as string);
  }
  return [...found].sort();
}
