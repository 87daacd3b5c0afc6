import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { CfnTemplate } from '../deployment/cfn-template';
import { buildDeploymentModel, type DeploymentModel } from '../deployment/deployment-model';
import {
  LIFE_CYCLE_STEPS,
  type LifeCycleState,
  type LifeCycleTarget,
  runLifeCycle,
} from '../deployment/life-cycle';
import {
  AWS_LIFE_CYCLE_USAGE,
  type AwsLifeCycleArgs,
  parseAwsLifeCycleArgs,
  UsageError,
} from './aws-life-cycle-args';

/**
 * `npm run test:aws -- --stack NAME`: the verify:deployment life cycle against a deployed stack.
 * Reads the stack's outputs (DescribeStacks) and template (GetTemplate, for its routes and settings),
 * calls the published URLs and invokes the admin function with your credentials, then disables
 * every client it created. Never part of `npm test`.
 */
async function main(): Promise<number> {
  let args: AwsLifeCycleArgs;
  try {
    const parsed = parseAwsLifeCycleArgs(process.argv.slice(2), process.env);
    if ('skip' in parsed) {
      console.log(`SKIP test:aws: ${parsed.skip}`);
      return 0;
    }
    args = parsed;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${AWS_LIFE_CYCLE_USAGE}`);
      return 2;
    }
    throw error;
  }

  const cloudFormation = new CloudFormationClient({ region: args.region });
  const lambda = new LambdaClient({ region: args.region });
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: args.stack }));
  const stack = described.Stacks?.[0];
  if (stack === undefined) throw new Error(`no stack ${args.stack} in ${args.region}`);
  const outputs = Object.fromEntries(
    (stack.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
  );
  const output = (name: string) => {
    const key = Object.keys(outputs).find((candidate) => candidate.includes(name));
    if (key === undefined) throw new Error(`stack ${args.stack} has no ${name} output`);
    return outputs[key] as string;
  };
  const tokenUrl = output('TokenUrl');
  const adminFunction = output('AdminFunctionName');
  const { TemplateBody } = await cloudFormation.send(
    new GetTemplateCommand({ StackName: args.stack, TemplateStage: 'Processed' }),
  );
  const account = stack.StackId?.split(':')[4] ?? '';
  const model = buildDeploymentModel(JSON.parse(TemplateBody ?? '{}') as CfnTemplate, {
    stackName: args.stack,
    account,
    region: args.region,
  });

  const target: LifeCycleTarget = {
    baseUrl: tokenUrl.replace(/\/oauth2\/token$/, ''),
    routes: model.routes.map((route) => `${route.method} ${route.path}`),
    admin: async (payload) => {
      const answer = await lambda.send(
        new InvokeCommand({
          FunctionName: adminFunction,
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      );
      const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
      if (answer.FunctionError !== undefined)
        throw new Error(`admin function failed (${answer.FunctionError}): ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    },
    user: {
      username: args.username,
      password: args.password,
      ...(args.userId === undefined ? {} : { userId: args.userId }),
    },
    ...(args.sessionCookie !== undefined && hasSessionCheck(model)
      ? { sessionCookie: args.sessionCookie }
      : {}),
    lockoutThreshold: args.lockoutThreshold ?? lockoutThresholdOf(model),
    clientNamePrefix: 'test-aws-',
  };

  console.log(
    `INFO test:aws: stack ${args.stack} (${args.region}), API ${target.baseUrl}, admin ${adminFunction}`,
  );
  const state: LifeCycleState = { createdClients: [], disabledClients: [] };
  let passed = 0;
  let failed = 0;
  try {
    await runLifeCycle(
      target,
      state,
      (outcome) => {
        if (outcome.status === 'passed') passed += 1;
        if (outcome.status === 'failed') failed += 1;
        const status = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' }[outcome.status];
        console.log(
          `${status} step: ${outcome.step.name}${outcome.detail === '' ? '' : `: ${outcome.detail}`}`,
        );
      },
      LIFE_CYCLE_STEPS,
    );
  } finally {
    // Remove what this run created: disable-client also revokes every token the client holds.
    for (const clientId of state.createdClients.filter((id) => !state.disabledClients.includes(id))) {
      try {
        await target.admin({ action: 'disable-client', client_id: clientId });
        console.log(`INFO test:aws: disabled client ${clientId}`);
      } catch (error) {
        failed += 1;
        console.log(
          `FAIL clean-up: could not disable client ${clientId}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

/** Whether the API's authorizer has a session check configured (SESSION_CHECK_* in its environment). */
function hasSessionCheck(model: DeploymentModel): boolean {
  const authorizer = model.routes.find((route) => route.authorizer !== undefined)?.authorizer
    ?.functionLogicalId;
  const fn = model.functions.find((candidate) => candidate.logicalId === authorizer);
  return Object.keys(fn?.environment ?? {}).some((name) => name.startsWith('SESSION_CHECK_'));
}

/** LOCKOUT_THRESHOLD of the function behind /oauth2/token, as the template sets it (default 5). */
function lockoutThresholdOf(model: DeploymentModel): number {
  const token = model.routes.find((route) => route.path === '/oauth2/token')?.functionLogicalId;
  const value = model.functions.find((fn) => fn.logicalId === token)?.environment.LOCKOUT_THRESHOLD;
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : 5;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`FAIL test:aws: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
