#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DownstreamApiStack } from '../infra/examples/downstream-api-stack';
import { JwtHttpApiStack } from '../infra/examples/jwt-http-api-stack';
import { OAuth2TokenServiceStack } from '../infra/oauth2-token-service-stack';
import { parseStageConfig, StageConfigError } from '../infra/stage-config';

/** The CDK app: `npx cdk synth` / `npx cdk deploy` (settings: cdk.json, context key "oauth2"). */
const app = new App();
let config: ReturnType<typeof parseStageConfig>;
try {
  config = parseStageConfig(app.node.tryGetContext('oauth2'));
} catch (error) {
  if (error instanceof StageConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
new OAuth2TokenServiceStack(app, config.stackName, { config, env });
if (
  app.node.tryGetContext('exampleDownstream') === true ||
  app.node.tryGetContext('exampleDownstream') === 'true'
) {
  new DownstreamApiStack(app, `${config.stackName}-ExampleDownstream`, {
    tokenServiceStackName: config.stackName,
    env,
  });
}
// `-c exampleJwtHttpApi=<audience>`: an HTTP API checking our JWTs with API Gateway's JWT authorizer.
const jwtAudience = app.node.tryGetContext('exampleJwtHttpApi');
if (typeof jwtAudience === 'string' && jwtAudience !== '') {
  new JwtHttpApiStack(app, `${config.stackName}-ExampleJwtHttpApi`, {
    tokenServiceStackName: config.stackName,
    audience: jwtAudience,
    env,
  });
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
