import { beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamApiStack } from '../../infra/examples/downstream-api-stack';
import { requirementsFor } from '../../lambdas/core/route-requirements';
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

  it('every route is behind the REQUEST authorizer', () => {
    expect(routesOf(synth.template)).toEqual([
      'GET /inventory',
      'GET /orders',
      'GET /orders/{id}',
      'POST /orders',
    ]);
    for (const route of routesOf(synth.template)) {
      const [httpMethod = '', path = ''] = route.split(' ');
      const method = methodAt(synth.template, httpMethod, path);
      expect(method.AuthorizationType, route).toBe('CUSTOM');
      expect(method.AuthorizerId, route).toEqual({ Ref: authorizerId() });
    }
  });

  it('declares scopes per route in stage variables the authorizer reads, user tokens only except /inventory', () => {
    const [stage] = Object.values(resourcesOf(synth.template, 'AWS::ApiGateway::Stage'));
    const variables = stage?.Properties.Variables as Record<string, string>;
    const requirementsOf = (httpMethod: string, path: string) => requirementsFor(variables, httpMethod, path);
    expect(requirementsOf('GET', '/orders')).toEqual({ scopes: ['orders:read'], allowClientTokens: false });
    expect(requirementsOf('POST', '/orders')).toEqual({ scopes: ['orders:write'], allowClientTokens: false });
    expect(requirementsOf('GET', '/orders/{id}')).toEqual({
      scopes: ['orders:read'],
      allowClientTokens: false,
    });
    expect(requirementsOf('GET', '/inventory')).toEqual({
      scopes: ['inventory:read'],
      allowClientTokens: true,
    });
    // A route without a declaration: the default, user tokens only.
    expect(requirementsOf('DELETE', '/orders')).toEqual({ scopes: [], allowClientTokens: false });
    expect(Object.keys(variables)).toHaveLength(4);
  });

  it('escapes every $context.authorizer value in its mapping templates', () => {
    const text = JSON.stringify(synth.template.toJSON());
    const uses = text.match(/\$context\.authorizer\.\w+/g) ?? [];
    expect(uses.length).toBeGreaterThan(0);
    const escaped = text.match(/\$util\.escapeJavaScript\(\$context\.authorizer\.\w+\)/g) ?? [];
    expect(escaped.length).toBe(uses.length);
  });

  it('answers a Deny with 403 insufficient_scope (RFC 6750), no-store', () => {
    const responses = Object.values(resourcesOf(synth.template, 'AWS::ApiGateway::GatewayResponse'));
    const denied = responses.find(({ Properties }) => Properties.ResponseType === 'ACCESS_DENIED');
    expect(denied?.Properties).toMatchObject({
      StatusCode: '403',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': `'Bearer realm="oauth2", error="insufficient_scope"'`,
        'gatewayresponse.header.Cache-Control': "'no-store'",
      },
    });
    const body = JSON.parse(
      ((denied?.Properties.ResponseTemplates ?? {}) as Record<string, string>)['application/json'] ?? '{}',
    );
    expect(body.error).toBe('insufficient_scope');
  });

  it('the authorizer calls the function exported by the token service stack', () => {
    const authorizer = resourcesOf(synth.template, 'AWS::ApiGateway::Authorizer')[authorizerId() ?? '']
      ?.Properties;
    expect(authorizer).toMatchObject({
      Type: 'REQUEST',
      // The cache key is the token and the route, so a route's decision serves only that route.
      IdentitySource: 'method.request.header.Authorization,context.httpMethod,context.resourcePath',
      // Off by default: a revoked token fails on the next request.
      AuthorizerResultTtlInSeconds: 0,
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
