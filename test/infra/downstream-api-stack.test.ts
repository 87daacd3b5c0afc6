import { beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamApiStack } from '../../infra/examples/downstream-api-stack';
import { acknowledgementsIn, SYNTH_TIMEOUT_MS, type Synthesized, synthDownstreamStack } from './synth-stack';
import { actionsOf, allStatements, methodAt, resourcesOf, routesOf } from './template-queries';

const IMPORTED_ARN = { 'Fn::ImportValue': 'OAuth2TokenService-AuthorizerArn' };

/** The example another team would copy: GET /orders behind the token service's exported authorizer. */
describe('DownstreamApiStack (example)', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synth: Synthesized<DownstreamApiStack>;
  beforeAll(() => {
    synth = synthDownstreamStack();
  }, SYNTH_TIMEOUT_MS);

  const authorizerId = () => {
    const ids = Object.keys(resourcesOf(synth.template, 'AWS::ApiGateway::Authorizer'));
    expect(ids).toHaveLength(1);
    return ids[0];
  };

  it('is clean under cdk-nag, every acknowledgement with a reason', () => {
    expect(synth.nag.violations).toEqual([]);
    expect(synth.nag.success).toBe(true);
    const acknowledgements = acknowledgementsIn(synth.stack);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledgements) {
      expect(String(reason).trim().length, id).toBeGreaterThan(20);
    }
  });

  it('GET /orders is its only route and is behind the REQUEST authorizer', () => {
    expect(routesOf(synth.template)).toEqual(['GET /orders']);
    const method = methodAt(synth.template, 'GET', '/orders');
    expect(method.AuthorizationType).toBe('CUSTOM');
    expect(method.AuthorizerId).toEqual({ Ref: authorizerId() });
  });

  it('the authorizer calls the function exported by the token service stack', () => {
    const authorizer = resourcesOf(synth.template, 'AWS::ApiGateway::Authorizer')[authorizerId() ?? '']
      ?.Properties;
    expect(authorizer).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    // Not inside toMatchObject: there, arrayContaining would also accept a subset of the element.
    const uri = authorizer?.AuthorizerUri as { 'Fn::Join': [string, unknown[]] } | undefined;
    expect(uri?.['Fn::Join'][1]).toContainEqual(IMPORTED_ARN);
  });

  it('API Gateway may invoke the imported authorizer, from this API’s authorizer only', () => {
    const permissions = Object.values(resourcesOf(synth.template, 'AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(1);
    const [permission] = permissions;
    expect(permission?.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      FunctionName: IMPORTED_ARN,
      Principal: 'apigateway.amazonaws.com',
    });
    const sourceArn = JSON.stringify(permission?.Properties.SourceArn);
    expect(sourceArn).toContain('/authorizers/');
    expect(sourceArn).toContain(JSON.stringify({ Ref: authorizerId() }));
  });

  it('stage: throttled, access logs on, execution logs at ERROR without data trace', () => {
    const stages = Object.values(resourcesOf(synth.template, 'AWS::ApiGateway::Stage'));
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.Properties;
    expect(stage?.AccessLogSetting).toEqual({
      DestinationArn: expect.anything(),
      Format: expect.any(String),
    });
    expect(stage?.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 20,
        ThrottlingBurstLimit: 40,
      },
    ]);
  });

  it('no wildcard action anywhere', () => {
    for (const { at, statement } of allStatements(synth.template)) {
      for (const action of actionsOf(statement)) expect(action, at).not.toContain('*');
    }
  });
});
