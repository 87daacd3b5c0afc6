import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../lambdas/cli/admin-cli';
import { type LocalStack, startLocalStack } from '../../lambdas/local/local-stack';
import { type MotoServer, motoAvailable, startMoto } from '../support/moto-server';

const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

async function run(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCli(
    argv,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    { env },
  );
  return { code, stdout, stderr };
}

describe.skipIf(!motoAvailable())(
  'oauth2-admin --stack (CloudFormation on moto, admin on the local stack)',
  () => {
    let moto: MotoServer;
    let local: LocalStack;
    beforeAll(async () => {
      [moto, local] = await Promise.all([
        startMoto(),
        startLocalStack({ port: 0, environment: { LOG_LEVEL: 'SILENT' } }),
      ]);
      // The SDK reads service-specific endpoints from the process environment.
      process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = moto.endpoint;
      Object.assign(process.env, credentials);
      const cfn = new CloudFormationClient({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const template = (outputs: Record<string, { Value: string }>) =>
        JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } }, Outputs: outputs });
      await cfn.send(
        new CreateStackCommand({
          StackName: 'OAuth2TokenService',
          TemplateBody: template({
            TokenServiceAdminFunctionNameA1B2C3D4: { Value: 'admin' },
            TokenServiceTokenUrl9F8E7D6C: { Value: 'https://example.invalid/prod/oauth2/token' },
          }),
        }),
      );
      await cfn.send(
        new CreateStackCommand({ StackName: 'NoAdmin', TemplateBody: template({ Other: { Value: 'x' } }) }),
      );
      cfn.destroy();
    }, 60_000);
    afterAll(async () => {
      delete process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
      await Promise.all([moto?.stop(), local?.close()]);
    });

    it('finds the admin function in the stack outputs and invokes it', async () => {
      const result = await run(
        ['list-clients', '--stack', 'OAuth2TokenService', '--endpoint-url', local.url],
        credentials,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).clients).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'local-demo-client' })]),
      );
    });

    it('exits 3 with one line when the stack has no admin output or does not exist', async () => {
      for (const stackName of ['NoAdmin', 'Missing']) {
        const result = await run(
          ['list-clients', '--stack', stackName, '--endpoint-url', local.url],
          credentials,
        );
        expect(result.code).toBe(3);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toContain(stackName);
      }
    });

    it('refuses --stack together with --function-name', async () => {
      const result = await run(
        ['list-clients', '--stack', 'OAuth2TokenService', '--function-name', 'admin'],
        credentials,
      );
      expect(result.code).toBe(2);
    });
  },
);
