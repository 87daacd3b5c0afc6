import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtHttpApiStack } from '../../infra/examples/jwt-http-api-stack';
import { SYNTH_TIMEOUT_MS } from './synth-stack';
import { resourcesOf } from './template-queries';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://orders.example.com';

describe('example: an HTTP API checking our JWTs with the built-in HttpJwtAuthorizer', () => {
  let template: Template;
  let nag: ReturnType<AwsSolutionsChecks['validateScope']>;
  beforeAll(() => {
    const app = new App();
    const stack = new JwtHttpApiStack(app, 'OrdersJwt', { issuer: ISSUER, audience: AUDIENCE });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    template = Template.fromStack(stack);
    nag = new AwsSolutionsChecks().validateScope(app);
  }, SYNTH_TIMEOUT_MS);

  it('is clean under cdk-nag', () => {
    expect(nag.violations).toEqual([]);
  });

  it('a JWT authorizer pointed at our issuer and audience, no Lambda authorizer', () => {
    const authorizers = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]?.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: ISSUER, Audience: [AUDIENCE] },
    });
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
  });

  it('route scopes: GET needs orders:read, POST orders:write, both behind the JWT authorizer', () => {
    const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map(({ Properties }) => [
      Properties.RouteKey,
      Properties.AuthorizationType,
      Properties.AuthorizationScopes,
    ]);
    expect(routes.sort()).toEqual([
      ['GET /orders', 'JWT', ['orders:read']],
      ['POST /orders', 'JWT', ['orders:write']],
    ]);
  });
});
