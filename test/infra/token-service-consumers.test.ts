import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { OAuth2Authorizer } from '../../infra/oauth2-authorizer';
import {
  AUTH_CHECK_FUNCTION_ARN,
  CDK_JSON_CONTEXT,
  SYNTH_TIMEOUT_MS,
  synthOutdir,
  synthTokenServiceStack,
  type TokenServiceSynth,
} from './synth-stack';
import { logicalIdOf, resourcesOf } from './template-queries';

/** The output names the README lists under "Outputs" (issue 14, item 2). */
const README_OUTPUTS = [
  'ApiUrl',
  'TokenUrl',
  'AuthorizationUrl',
  'RevocationUrl',
  'IntrospectionUrl',
  'MetadataUrl',
  'IssuerUrl',
  'JwksUrl',
  'AuthorizerArn',
  'AuthorizerArnParameter',
  'IssuerParameter',
  'AdminFunctionName',
  'ClientsTableName',
  'GrantsTableName',
  'HookSecretArn',
  // Unless monitoring: false.
  'AlarmTopicArn',
  'DashboardName',
];

const withCdkJson = (overrides: Record<string, unknown>) => ({
  ...(CDK_JSON_CONTEXT.oauth2 as Record<string, unknown>),
  ...overrides,
});

/** What other stacks, repositories, scripts and the account see of the stack. Bundling skipped. */
describe('the stack as cdk.json ships it', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack({ bundle: false });
  }, SYNTH_TIMEOUT_MS);

  it('names its outputs exactly as the README does (describe-stacks keys)', () => {
    const outputs = Object.keys(synth.template.toJSON().Outputs as object);
    expect(outputs.sort()).toEqual([...README_OUTPUTS].sort());
    expect(synth.template.toJSON().Outputs.AuthorizerArn).toMatchObject({
      Export: { Name: 'OAuth2TokenService-AuthorizerArn' },
    });
  });

  it('publishes the authorizer ARN and the issuer as SSM parameters', () => {
    const service = synth.stack.service;
    synth.template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/OAuth2TokenService/authorizer-function-arn',
      Type: 'String',
      Value: { 'Fn::GetAtt': [logicalIdOf(service.authorizerFunction.function), 'Arn'] },
    });
    const issuer = Object.values(resourcesOf(synth.template, 'AWS::SSM::Parameter')).find(
      (parameter) => parameter.Properties.Name === '/OAuth2TokenService/issuer',
    );
    const text = JSON.stringify(issuer?.Properties.Value);
    expect(text).toContain(`"Ref":"${logicalIdOf(service.api)}"`);
    expect(text).toContain('.execute-api.');
    // The stage, with no trailing slash: the issuer the metadata endpoint reports.
    expect(text).toMatch(/"\/prod"\]\]\}$/);
    expect(synth.template.toJSON().Outputs.IssuerUrl.Value).toEqual(issuer?.Properties.Value);
  });

  it('provisions the account’s API Gateway CloudWatch role by default', () => {
    synth.template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('warns, naming oauth2.authCheck, while the AuthCheck is the shipped placeholder', () => {
    Annotations.fromStack(synth.stack).hasWarning(
      '/OAuth2TokenService/TokenService',
      Match.stringLikeRegexp('^oauth2\\.authCheck is the placeholder https://auth-check\\.example\\.com/'),
    );
    // `cdk deploy --strict` / `cdk synth --strict` refuse a stack artifact that carries a warning.
    const artifact = synth.assembly.getStackByName('OAuth2TokenService');
    const warnings = artifact.messages.filter((message) => message.level === 'warning');
    expect(warnings.map((message) => String(message.entry.data))).toEqual([
      expect.stringContaining('oauth2.authCheck'),
    ]);
  });
});

describe('the stack configured for a real account', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack({
      oauth2: withCdkJson({
        stackName: 'AuthProd',
        authCheck: { kind: 'lambda', functionArn: AUTH_CHECK_FUNCTION_ARN },
        cloudWatchRole: false,
        ssmParameters: {
          authorizerFunctionArn: '/platform/oauth2/authorizer',
          issuer: '/platform/oauth2/issuer',
        },
      }),
      bundle: false,
    });
  }, SYNTH_TIMEOUT_MS);

  it('with cloudWatchRole false leaves the account-level role alone, and is still clean under cdk-nag', () => {
    synth.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Object.keys(resourcesOf(synth.template, 'AWS::IAM::Role'))).not.toContainEqual(
      expect.stringMatching(/CloudWatchRole/),
    );
    expect(synth.nag.violations).toEqual([]);
  });

  it('uses the configured SSM names, and has no warning once the AuthCheck is real', () => {
    const names = Object.values(resourcesOf(synth.template, 'AWS::SSM::Parameter')).map(
      (parameter) => parameter.Properties.Name,
    );
    expect(names.sort()).toEqual(['/platform/oauth2/authorizer', '/platform/oauth2/issuer']);
    Annotations.fromStack(synth.stack).hasNoWarning('*', Match.anyValue());
    expect(synth.template.toJSON().Outputs.AuthorizerArn.Export).toEqual({ Name: 'AuthProd-AuthorizerArn' });
  });
});

describe('OAuth2Authorizer.fromSsm (a downstream API in another repository)', () => {
  it('reads the authorizer ARN from the parameter at deploy time and attaches it', () => {
    const app = new App({ outdir: synthOutdir() });
    const stack = new Stack(app, 'Orders', { env: { account: '123456789012', region: 'eu-west-1' } });
    const authorizer = OAuth2Authorizer.fromSsm(stack, 'OAuth2', {
      parameterName: '/OAuth2TokenService/authorizer-function-arn',
    });
    const api = new apigateway.RestApi(stack, 'Api', { cloudWatchRole: false });
    api.root.addResource('orders').addMethod('GET', new apigateway.MockIntegration(), { authorizer });
    const template = Template.fromStack(stack);
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    const [parameterId, parameter] = Object.entries(parameters).find(
      ([, value]) => value.Default === '/OAuth2TokenService/authorizer-function-arn',
    ) ?? ['', undefined];
    expect(parameter?.Type).toBe('AWS::SSM::Parameter::Value<String>');
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: Match.stringLikeRegexp('^method\\.request\\.header\\.Authorization'),
    });
    const uri = JSON.stringify(
      Object.values(resourcesOf(template, 'AWS::ApiGateway::Authorizer'))[0]?.Properties.AuthorizerUri,
    );
    expect(uri).toContain(`{"Ref":"${parameterId}"}`);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: parameterId },
      Principal: 'apigateway.amazonaws.com',
    });
    expect(OAuth2Authorizer.issuerFromSsm(stack, '/OAuth2TokenService/issuer')).toMatch(/\$\{Token\[/);
  });
});
