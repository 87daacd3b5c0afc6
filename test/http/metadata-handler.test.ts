import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/handlers/configuration-error';
import { buildMetadataLambda } from '../../lambdas/handlers/metadata-lambda';
import { localLambdaContext } from '../../lambdas/local/api-gateway-emulation';
import { PRINTABLE_DESCRIPTION } from '../support/api-gateway-events';
import { anyString, extraHeadersArb, methodArb, protoArb, queryArb } from '../support/fuzz-arbitraries';

const PATH = '/.well-known/oauth-authorization-server';

function metadataRequest(options: {
  host: string;
  stagePath: string;
  method?: string;
  proto?: string;
}): APIGatewayProxyEvent {
  return {
    httpMethod: options.method ?? 'GET',
    path: PATH,
    resource: PATH,
    headers: { Host: options.host, 'X-Forwarded-Proto': options.proto ?? 'https' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      path: `${options.stagePath}${PATH}`,
      domainName: options.host,
    } as APIGatewayProxyEvent['requestContext'],
    body: null,
    isBase64Encoded: false,
  };
}

const call = async (env: Record<string, string>, event: APIGatewayProxyEvent) => {
  const result = (await buildMetadataLambda({ LOG_LEVEL: 'SILENT', ...env })(
    event,
    localLambdaContext('metadata'),
  )) as APIGatewayProxyResult;
  return { result, body: JSON.parse(result.body) as Record<string, unknown> };
};

const ISSUER = 'https://abc.execute-api.eu-west-1.amazonaws.com/prod';

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('publishes the configured ISSUER and every endpoint under it', async () => {
    const { result, body } = await call(
      { ISSUER },
      metadataRequest({ host: 'abc.execute-api.eu-west-1.amazonaws.com', stagePath: '/prod' }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['Content-Type']).toBe('application/json');
    expect(body).toEqual({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      authorization_endpoint: `${ISSUER}/oauth2/authorize`,
      token_endpoint: `${ISSUER}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint: `${ISSUER}/oauth2/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint: `${ISSUER}/oauth2/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      grant_types_supported: ['password', 'refresh_token', 'client_credentials', 'authorization_code'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('never echoes Host: `Host: evil.example` still gets the configured issuer', async () => {
    for (const [host, stagePath] of [
      ['evil.example', ''],
      ['evil.example', '/prod'],
      ['abc.execute-api.eu-west-1.amazonaws.com.evil.example', '/x'],
    ] as const) {
      const { result, body } = await call(
        { ISSUER: 'https://login.example.com/', SCOPES_SUPPORTED: 'profile email' },
        metadataRequest({ host, stagePath }),
      );
      expect(result.statusCode).toBe(200);
      expect(result.body).not.toContain('evil');
      expect(body.issuer).toBe('https://login.example.com');
      expect(body.token_endpoint).toBe('https://login.example.com/oauth2/token');
      expect(body.scopes_supported).toEqual(['profile', 'email']);
    }
  });

  it('answers other methods with 405 and Allow: GET, as RFC-shaped JSON', async () => {
    const { result, body } = await call(
      { ISSUER },
      metadataRequest({ host: 'auth.example.com', stagePath: '', method: 'POST' }),
    );
    expect(result.statusCode).toBe(405);
    expect(result.headers?.Allow).toBe('GET');
    expect(body.error).toBe('invalid_request');
  });

  it('refuses to start without ISSUER, rather than deriving it from Host', () => {
    expect(() => buildMetadataLambda({})).toThrow(/ISSUER is required/);
    expect(() => buildMetadataLambda({ ISSUER: '  ' })).toThrow(ConfigurationError);
  });

  it('refuses a non-https or query-carrying ISSUER when the handler is built', () => {
    for (const issuer of ['http://login.example.com', 'https://login.example.com/?x=1', 'not a url']) {
      expect(() => buildMetadataLambda({ ISSUER: issuer })).toThrow(ConfigurationError);
    }
  });

  it('accepts an http ISSUER only with the explicit REQUIRE_SSL=false of the local stack', async () => {
    expect(() => buildMetadataLambda({ ISSUER: 'http://127.0.0.1:3000', REQUIRE_SSL: 'true' })).toThrow(
      ConfigurationError,
    );
    const { body } = await call(
      { ISSUER: 'http://127.0.0.1:3000', REQUIRE_SSL: 'false' },
      metadataRequest({ host: 'evil.example', stagePath: '' }),
    );
    expect(body.issuer).toBe('http://127.0.0.1:3000');
    expect(() => buildMetadataLambda({ ISSUER: 'ftp://127.0.0.1:3000', REQUIRE_SSL: 'false' })).toThrow(
      ConfigurationError,
    );
  });
});

describe('GET /.well-known/oauth-authorization-server under fuzzing', () => {
  const handler = buildMetadataLambda({ LOG_LEVEL: 'SILENT', ISSUER });

  it('answers any method, Host, proto, stage path and headers with metadata or an RFC-shaped error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.oneof(fc.constant('GET'), methodArb),
          host: fc.oneof(
            fc.constant('abc.execute-api.eu-west-1.amazonaws.com'),
            anyString(40),
            fc.constant(undefined),
          ),
          proto: protoArb,
          stagePath: fc.oneof(fc.constant('/prod'), fc.constant(''), anyString(20)),
          extra: extraHeadersArb,
          query: queryArb,
          withContext: fc.boolean(),
        }),
        async ({ method, host, proto, stagePath, extra, query, withContext }) => {
          const base = metadataRequest({
            host: host ?? '',
            stagePath,
            method,
            ...(proto === undefined ? {} : { proto }),
          });
          const event: APIGatewayProxyEvent = {
            ...base,
            headers: { ...extra, ...(host === undefined ? {} : { Host: host }), 'X-Forwarded-Proto': proto },
            queryStringParameters: query,
            requestContext: withContext ? base.requestContext : (undefined as never),
          };
          const result = (await handler(event, localLambdaContext('metadata'))) as APIGatewayProxyResult;
          expect(result.statusCode).toBeLessThan(500);
          const body = JSON.parse(result.body) as Record<string, unknown>;
          if (result.statusCode === 200) {
            expect(body.issuer).toBe(ISSUER);
            expect(body.grant_types_supported).toEqual([
              'password',
              'refresh_token',
              'client_credentials',
              'authorization_code',
            ]);
          } else {
            expect(result.statusCode).toBe(405);
            expect(body.error).toBe('invalid_request');
            expect(body.error_description).toMatch(PRINTABLE_DESCRIPTION);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
