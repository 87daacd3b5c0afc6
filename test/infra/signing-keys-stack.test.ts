import { beforeAll, describe, expect, it } from 'vitest';
import {
  CDK_JSON_CONTEXT,
  SYNTH_TIMEOUT_MS,
  synthTokenServiceStack,
  type TokenServiceSynth,
} from './synth-stack';
import { environmentOf, logicalIdOf, permissionsOfRole, resourceOf, resourcesOf } from './template-queries';

/** JWT mode, no bundling (the settings do not change what is bundled). */
describe('JWT signing keys in the token service stack', () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack({
      oauth2: {
        ...(CDK_JSON_CONTEXT.oauth2 as Record<string, unknown>),
        accessTokenFormat: 'jwt',
        accessTokenTtlSeconds: undefined,
        authorizerJwtAudience: ['https://orders.example.com'],
      },
      bundle: false,
    });
  }, SYNTH_TIMEOUT_MS);
  const service = () => synth.stack.service;
  const json = () => JSON.stringify(synth.template.toJSON());

  it('is clean under cdk-nag', () => {
    expect(synth.nag.violations).toEqual([]);
  });

  it('no private key anywhere in the template: the secret starts as an empty key set', () => {
    expect(json()).not.toMatch(/PRIVATE KEY|privateKeyPem|"d":/);
    const secret = resourceOf(synth.template, service().signingKeys.secret);
    expect(secret.Properties.SecretString).toBe('{"keys":[]}');
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    for (const output of Object.values(synth.template.toJSON().Outputs as Record<string, unknown>)) {
      expect(JSON.stringify(output)).not.toContain(logicalIdOf(service().signingKeys.secret));
    }
  });

  it('the token function signs in JWT mode (900 s default) and exists only after the first key', () => {
    const env = environmentOf(synth.template, service().tokenFunction.function);
    expect(env).toMatchObject({ ACCESS_TOKEN_FORMAT: 'jwt', ACCESS_TOKEN_TTL_SECONDS: '900' });
    expect(env.ISSUER).toBeDefined();
    expect(env.SIGNING_KEYS_SECRET_ARN).toEqual({ Ref: logicalIdOf(service().signingKeys.secret) });
    const tokenFn = synth.template.toJSON().Resources[logicalIdOf(service().tokenFunction.function)];
    expect(tokenFn.DependsOn).toContain(logicalIdOf(service().signingKeys.firstKey));
    const firstKey = resourceOf(synth.template, service().signingKeys.firstKey);
    expect(firstKey.Type).toBe('Custom::SigningKeys');
    expect(firstKey.Properties.ServiceToken).toEqual({
      'Fn::GetAtt': [logicalIdOf(service().signingKeys.rotationFunction.function), 'Arn'],
    });
  });

  it('a daily schedule invokes the rotation function', () => {
    const rules = Object.values(resourcesOf(synth.template, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(JSON.stringify(rules[0]?.Properties.Targets)).toContain(
      logicalIdOf(service().signingKeys.rotationFunction.function),
    );
    const env = environmentOf(synth.template, service().signingKeys.rotationFunction.function);
    expect(env).toMatchObject({ SIGNING_KEY_ROTATION_DAYS: '90', SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '7200' });
  });

  it('custody: the token function only reads the secret; verifiers never touch it; the JWKS function reads one item', () => {
    const secretActions = (role: Parameters<typeof permissionsOfRole>[1]) =>
      permissionsOfRole(synth.template, role).filter((line) => line.includes('secretsmanager:'));
    const { tokenFunction, authorizerFunction, jwksFunction, introspectionFunction, adminFunction } =
      service();
    expect(secretActions(tokenFunction.role).join('\n')).not.toContain('PutSecretValue');
    expect(secretActions(tokenFunction.role).join('\n')).toContain('GetSecretValue');
    expect(secretActions(authorizerFunction.role)).toEqual([]);
    expect(secretActions(introspectionFunction.role)).toEqual([]);
    expect(secretActions(jwksFunction.role)).toEqual([]);
    expect(secretActions(adminFunction.role).join('\n')).toContain('PutSecretValue');
    const jwksDynamo = permissionsOfRole(synth.template, jwksFunction.role).filter((line) =>
      line.includes('dynamodb:'),
    );
    expect(jwksDynamo).toHaveLength(1);
    expect(jwksDynamo[0]).toContain('dynamodb:GetItem');
    expect(jwksDynamo[0]).toContain('signing-keys#public');
  });

  it('serves the JWKS and the openid-configuration, and the authorizer checks JWTs', () => {
    const paths = Object.values(resourcesOf(synth.template, 'AWS::ApiGateway::Resource')).map(
      (resource) => resource.Properties.PathPart,
    );
    expect(paths).toEqual(
      expect.arrayContaining(['jwks.json', 'openid-configuration', 'oauth-authorization-server']),
    );
    const env = environmentOf(synth.template, service().authorizerFunction.function);
    expect(env).toMatchObject({ JWT_AUDIENCE: 'https://orders.example.com', JWT_REVOCATION_CHECK: 'false' });
    expect(env.ISSUER).toEqual(environmentOf(synth.template, service().tokenFunction.function).ISSUER);
    expect(env.ISSUER).toEqual(environmentOf(synth.template, service().metadataFunction.function).ISSUER);
  });
});
