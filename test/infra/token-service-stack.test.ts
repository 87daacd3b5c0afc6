import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHORIZER_TIMEOUT_SECONDS,
  DISABLE_CLIENT_SECOND_SWEEP_SECONDS,
  FORM_ENDPOINT_TIMEOUT_SECONDS,
  TOKEN_TIMEOUT_SECONDS,
} from '../../infra/oauth2-token-service';
import { LOCKOUT_KEY_PREFIX } from '../../lambdas/store/dynamodb-lockout-store';
import { GRANTS_BY_CLIENT_INDEX, GRANTS_BY_USER_INDEX } from '../../lambdas/store/table-definitions';
import {
  acknowledgementsIn,
  SYNTH_TIMEOUT_MS,
  synthTokenServiceStack,
  type TokenServiceSynth,
} from './synth-stack';
import {
  actionsOf,
  allowLines,
  allStatements,
  authorizerOf,
  environmentOf,
  logicalIdOf,
  methodAt,
  outputOf,
  permissionsOfRole,
  propertiesOf,
  resourceOf,
  resourcesOf,
  routesOf,
} from './template-queries';

/** The token service exactly as `npx cdk synth` builds it from cdk.json (esbuild bundling included). */
/** Every metrics-writing function: the `service` dimension is the stack name. */
const METRICS = { METRICS_SERVICE_NAME: 'OAuth2TokenService', METRICS_BY_CLIENT: 'false' };

describe('OAuth2TokenServiceStack with the cdk.json settings', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack();
  }, SYNTH_TIMEOUT_MS);

  const service = () => synth.stack.service;
  const resolve = (value: unknown) => synth.stack.resolve(value);
  const ref = (construct: IConstruct) => ({ Ref: logicalIdOf(construct) });
  /** The conditional DeleteItem the admin role gets (unlock-username): lockout items only. */
  const lockoutDeleteLine = () =>
    `Allow dynamodb:DeleteItem ${JSON.stringify(resolve(service().grantsTable.tableArn))} if ${JSON.stringify(
      {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LOCKOUT_KEY_PREFIX}*`] },
      },
    )}`;
  const functions = () => {
    const {
      tokenFunction,
      authorizerFunction,
      adminFunction,
      revocationFunction,
      introspectionFunction,
      metadataFunction,
      jwksFunction,
      signingKeys,
    } = service();
    const me = service().node.findChild('Me') as typeof tokenFunction;
    return {
      jwks: jwksFunction,
      signingKeyRotation: signingKeys.rotationFunction,
      token: tokenFunction,
      authorize: service().authorizeEndpoint.fn,
      revocation: revocationFunction,
      introspection: introspectionFunction,
      metadata: metadataFunction,
      authorizer: authorizerFunction,
      admin: adminFunction,
      me,
    };
  };

  it('synthesises in-process (the time is recorded as an annotation, not asserted)', async ({ annotate }) => {
    expect(synth.config.stackName).toBe('OAuth2TokenService');
    await annotate(
      `construct + synth of the token service, 4 esbuild bundles: ${Math.round(synth.synthMs)} ms`,
    );
  });

  describe('Lambda functions', () => {
    it('are exactly the eight house-default functions, JWKS, the signing-key rotation and the hook secret rotation: Node.js 24 on arm64', () => {
      const all = resourcesOf(synth.template, 'AWS::Lambda::Function');
      expect(Object.keys(all).sort()).toEqual(
        [...Object.values(functions()), service().hookSecretRotationFunction]
          .map((fn) => logicalIdOf(fn.function))
          .sort(),
      );
      for (const { Properties } of Object.values(all)) {
        expect(Properties.Runtime).toBe('nodejs24.x');
        expect(Properties.Architectures).toEqual(['arm64']);
      }
    });

    it('time out after the budgets the reliability tests check, all below API Gateway’s 29 s', () => {
      const timeoutOf = (fn: { function: unknown }) =>
        resourcesOf(synth.template, 'AWS::Lambda::Function')[logicalIdOf(fn.function as never)]?.Properties
          .Timeout;
      const { token, authorize, revocation, introspection, authorizer, admin, metadata, me } = functions();
      expect(timeoutOf(token)).toBe(TOKEN_TIMEOUT_SECONDS);
      // Client read, lockout read, AuthCheck, code write beside the lockout clear: the token budget.
      expect(timeoutOf(authorize)).toBe(TOKEN_TIMEOUT_SECONDS);
      expect(timeoutOf(revocation)).toBe(FORM_ENDPOINT_TIMEOUT_SECONDS);
      expect(timeoutOf(introspection)).toBe(FORM_ENDPOINT_TIMEOUT_SECONDS);
      expect(timeoutOf(authorizer)).toBe(AUTHORIZER_TIMEOUT_SECONDS);
      // The admin function is invoked, never behind API Gateway: its 120 s cover disable-client's two sweeps.
      expect([timeoutOf(metadata), timeoutOf(me), timeoutOf(admin)]).toEqual([5, 5, 120]);
      expect(
        Math.max(TOKEN_TIMEOUT_SECONDS, FORM_ENDPOINT_TIMEOUT_SECONDS, AUTHORIZER_TIMEOUT_SECONDS),
      ).toBeLessThan(29);
    });

    it('keep no secret in their environment: the hook key is only referenced by its ARN', () => {
      for (const fn of Object.values(functions())) {
        const environment = environmentOf(synth.template, fn.function);
        for (const name of Object.keys(environment)) {
          expect(name).not.toMatch(/(SECRET|PASSWORD|KEY|TOKEN)$/);
        }
        // No resolved secret value (`{{resolve:secretsmanager:...}}`) either.
        expect(JSON.stringify(environment)).not.toContain('{{resolve:');
      }
      const token = environmentOf(synth.template, functions().token.function);
      expect(token).not.toHaveProperty('AUTH_CHECK_SECRET');
      expect(token.AUTH_CHECK_SECRET_ARN).toEqual(ref(service().hookSecret));
      // The lockout key: by ARN, to the token and admin functions only (issue 10, finding 4).
      const lockoutKey = ref(service().lockoutKeySecret);
      for (const [name, fn] of Object.entries(functions())) {
        const environment = environmentOf(synth.template, fn.function);
        expect(environment, name).not.toHaveProperty('LOCKOUT_KEY_SECRET');
        // The authorize function checks passwords under the same lockout counter (main's c2d1f2c).
        if (name === 'token' || name === 'admin' || name === 'authorize')
          expect(environment.LOCKOUT_KEY_SECRET_ARN, name).toEqual(lockoutKey);
        else expect(environment, name).not.toHaveProperty('LOCKOUT_KEY_SECRET_ARN');
      }
    });

    it('token endpoint: tables by reference, TLS enforced, TTLs and the https AuthCheck as configured', () => {
      expect(environmentOf(synth.template, functions().token.function)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        CLIENTS_TABLE: ref(service().clientsTable),
        GRANTS_TABLE: ref(service().grantsTable),
        ...METRICS,
        REQUIRE_SSL: 'true',
        LOG_LEVEL: 'INFO',
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        REFRESH_TOKEN_TTL_SECONDS: '2592000',
        REFRESH_TOKEN_MAX_LIFETIME_SECONDS: '7776000',
        REFRESH_REUSE_GRACE_SECONDS: '0',
        LOCKOUT_THRESHOLD: '5',
        LOCKOUT_BASE_SECONDS: '60',
        LOCKOUT_MAX_SECONDS: '900',
        LOCKOUT_KEY_SECRET_ARN: ref(service().lockoutKeySecret),
        AUTH_CHECK_URL: 'https://auth-check.example.com/oauth2/check',
        AUTH_CHECK_SECRET_ARN: ref(service().hookSecret),
        SIGNING_KEYS_SECRET_ARN: ref(service().signingKeys.secret),
        ACCESS_TOKEN_FORMAT: 'opaque',
        ISSUER: resolve(service().issuer),
      });
    });

    it('authorizer, admin and demo functions get only what they read', () => {
      const tables = { CLIENTS_TABLE: ref(service().clientsTable), GRANTS_TABLE: ref(service().grantsTable) };
      expect(environmentOf(synth.template, functions().authorizer.function)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        ...tables,
        ...METRICS,
        REQUIRE_SSL: 'true',
        LOG_LEVEL: 'INFO',
        CLIENT_CACHE_TTL_SECONDS: '30',
        JWT_REVOCATION_CHECK: 'false',
        ISSUER: resolve(service().issuer),
      });
      expect(environmentOf(synth.template, functions().admin.function)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        ...tables,
        LOCKOUT_KEY_SECRET_ARN: ref(service().lockoutKeySecret),
        ...METRICS,
        LOG_LEVEL: 'INFO',
        DISABLE_CLIENT_SECOND_SWEEP_SECONDS: String(DISABLE_CLIENT_SECOND_SWEEP_SECONDS),
        SIGNING_KEYS_SECRET_ARN: ref(service().signingKeys.secret),
        SIGNING_KEY_ROTATION_DAYS: '90',
        SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '7200',
        // create-client refuses per-client lifetimes below it; cdk.json turns the cache off.
        AUTHORIZER_CACHE_TTL_SECONDS: '0',
      });
      // Always set: the metadata never derives its issuer from the request's Host header.
      expect(environmentOf(synth.template, functions().metadata.function)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: 'INFO',
        ISSUER: {
          'Fn::Join': [
            '',
            [
              'https://',
              ref(service().api),
              '.execute-api.',
              { Ref: 'AWS::Region' },
              '.',
              { Ref: 'AWS::URLSuffix' },
              '/prod',
            ],
          ],
        },
      });
      expect(environmentOf(synth.template, functions().me.function)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: 'INFO',
      });
    });

    it('disable-client sweeps again only after every token request in flight has timed out (issue 13)', () => {
      // A grant written by a request that read the client before the disable lands within the token
      // function's timeout; the second sweep must come later, and fit in the admin function's own.
      expect(DISABLE_CLIENT_SECOND_SWEEP_SECONDS).toBeGreaterThan(TOKEN_TIMEOUT_SECONDS);
      const token = propertiesOf(synth.template, functions().token.function);
      const admin = propertiesOf(synth.template, functions().admin.function);
      expect(token.Timeout).toBe(TOKEN_TIMEOUT_SECONDS);
      expect(admin.Timeout).toBeGreaterThanOrEqual(2 * DISABLE_CLIENT_SECOND_SWEEP_SECONDS);
    });

    it('each log to their own log group and run as their own role', () => {
      const roles = new Set<string>();
      for (const fn of Object.values(functions())) {
        const properties = propertiesOf(synth.template, fn.function);
        expect(properties.LoggingConfig).toEqual({ LogGroup: { Ref: expect.any(String) } });
        expect(properties.Role).toEqual(resolve(fn.role.roleArn));
        roles.add(logicalIdOf(fn.role));
      }
      expect(roles.size).toBe(Object.keys(functions()).length);
    });
  });

  describe('DynamoDB tables', () => {
    it('both: on demand, point-in-time recovery, encrypted, deletion-protected and retained', () => {
      expect(Object.keys(resourcesOf(synth.template, 'AWS::DynamoDB::Table'))).toHaveLength(2);
      for (const table of [service().clientsTable, service().grantsTable]) {
        const resource = resourceOf(synth.template, table);
        expect(resource.Properties).toMatchObject({
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          DeletionProtectionEnabled: true,
        });
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
      }
    });

    it('grants: expire by the expiresAt TTL, keys-only indexes byUser and byClient', () => {
      const grants = propertiesOf(synth.template, service().grantsTable);
      expect(grants.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
      expect(grants.GlobalSecondaryIndexes).toEqual([
        {
          IndexName: GRANTS_BY_USER_INDEX,
          KeySchema: [{ AttributeName: 'userKey', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: GRANTS_BY_CLIENT_INDEX,
          KeySchema: [{ AttributeName: 'clientId', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ]);
      expect(propertiesOf(synth.template, service().clientsTable)).not.toHaveProperty(
        'GlobalSecondaryIndexes',
      );
    });

    it('the API access logs are retained with the data', () => {
      const accessLogs = service().node.findChild('AccessLogs');
      expect(resourceOf(synth.template, accessLogs).DeletionPolicy).toBe('Retain');
    });
  });

  describe('IAM', () => {
    it('no policy statement anywhere grants a wildcard action or uses NotAction', () => {
      const statements = allStatements(synth.template);
      expect(statements.length).toBeGreaterThan(10);
      for (const { at, statement } of statements) {
        expect(statement.NotAction, at).toBeUndefined();
        for (const action of actionsOf(statement)) expect(action, at).not.toContain('*');
      }
    });

    it('no Lambda role has a managed policy, a wildcard resource or a NotResource', () => {
      for (const fn of Object.values(functions())) {
        const role = resourceOf(synth.template, fn.role);
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
        expect(role.Properties.AssumeRolePolicyDocument).toEqual({
          Version: '2012-10-17',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
          ],
        });
        for (const line of permissionsOfRole(synth.template, fn.role)) {
          expect(line).toMatch(/^Allow \S+ [[{]/);
          expect(line).not.toMatch(/ "\*"$|UNEXPECTED/);
        }
      }
    });

    it('the only managed policy is the one API Gateway needs to write its logs', () => {
      const managed = Object.values(resourcesOf(synth.template, 'AWS::IAM::Role')).flatMap(({ Properties }) =>
        ((Properties.ManagedPolicyArns as unknown[] | undefined) ?? []).map((arn) => JSON.stringify(arn)),
      );
      expect(managed).toHaveLength(1);
      expect(managed[0]).toContain(':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs');
    });

    it('token role: GetItem on clients; Get/Put/UpdateItem on grants (no DeleteItem); reads the hook and lockout key secrets', () => {
      const { token } = functions();
      const { clientsTable, grantsTable, hookSecret, lockoutKeySecret } = service();
      expect(permissionsOfRole(synth.template, token.role)).toEqual(
        allowLines(synth.stack, [
          [['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn(token)]],
          [['dynamodb:GetItem'], [clientsTable.tableArn]],
          [['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [grantsTable.tableArn]],
          [['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], [lockoutKeySecret.secretArn]],
          [['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], [hookSecret.secretArn]],
          // Signs JWTs: reads the private key set, never writes it.
          [
            ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            [service().signingKeys.secret.secretArn],
          ],
        ]),
      );
    });

    it('authorize role: GetItem on clients; on grants only code# and lockout# items; its form secret, the hook secret and the lockout key', () => {
      const { authorize } = functions();
      const { clientsTable, grantsTable, hookSecret, authorizeEndpoint, lockoutKeySecret } = service();
      const onlyCodesAndLockouts = ` if ${JSON.stringify({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['code#*', 'lockout#*'] },
      })}`;
      expect(permissionsOfRole(synth.template, authorize.role)).toEqual(
        [
          ...allowLines(synth.stack, [
            [['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn(authorize)]],
            [['dynamodb:GetItem'], [clientsTable.tableArn]],
            [
              ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              [hookSecret.secretArn, authorizeEndpoint.formSecret.secretArn, lockoutKeySecret.secretArn],
            ],
          ]),
          ...allowLines(synth.stack, [
            [['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [grantsTable.tableArn]],
          ]).map((line) => `${line}${onlyCodesAndLockouts}`),
        ].sort(),
      );
      const environment = environmentOf(synth.template, authorize.function);
      expect(environment.AUTHORIZE_FORM_SECRET_ARN).toEqual(ref(authorizeEndpoint.formSecret));
      expect(environment.AUTH_CHECK_SECRET_ARN).toEqual(ref(hookSecret));
      // The same lockout key as the token function: one counter per username for both.
      expect(environment.LOCKOUT_KEY_SECRET_ARN).toEqual(ref(lockoutKeySecret));
      expect(environment).toMatchObject({ REQUIRE_SSL: 'true', LOCKOUT_THRESHOLD: expect.any(String) });
    });

    it('authorizer role: GetItem only (no session check configured: no secret)', () => {
      const { authorizer } = functions();
      const { clientsTable, grantsTable } = service();
      expect(permissionsOfRole(synth.template, authorizer.role)).toEqual(
        allowLines(synth.stack, [
          [['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn(authorizer)]],
          [['dynamodb:GetItem'], [clientsTable.tableArn, grantsTable.tableArn]],
        ]),
      );
    });

    it('admin role: manages clients, revokes grants, clears lockouts, queries only the two indexes', () => {
      const { admin } = functions();
      const { clientsTable, grantsTable, lockoutKeySecret, signingKeys } = service();
      const signingSecret = JSON.stringify(resolve(signingKeys.secret.secretArn));
      const lines = permissionsOfRole(synth.template, admin.role);
      // rotate-signing-key: the signing secret (read and write) and the public key item only.
      const keyLines = lines.filter(
        (line) => line.includes(signingSecret) || line.includes('signing-keys#public'),
      );
      expect(keyLines.filter((line) => line.includes('LeadingKeys'))).toEqual([
        `Allow dynamodb:PutItem ${JSON.stringify(resolve(grantsTable.tableArn))} if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["signing-keys#public"]}}`,
      ]);
      expect(keyLines.join('\n')).toContain('secretsmanager:PutSecretValue');
      expect(lines.filter((line) => !keyLines.includes(line))).toEqual(
        allowLines(synth.stack, [
          [['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn(admin)]],
          [['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], [lockoutKeySecret.secretArn]],
          [
            ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
            [clientsTable.tableArn],
          ],
          [['dynamodb:UpdateItem'], [grantsTable.tableArn]],
          [
            ['dynamodb:Query'],
            [
              `${grantsTable.tableArn}/index/${GRANTS_BY_USER_INDEX}`,
              `${grantsTable.tableArn}/index/${GRANTS_BY_CLIENT_INDEX}`,
            ],
          ],
        ])
          .concat(lockoutDeleteLine())
          .sort(),
      );
    });

    it('DeleteItem on the grants table only for partition keys starting lockout#, and only for the admin', () => {
      const deletes = allStatements(synth.template).filter(({ statement }) =>
        actionsOf(statement).includes('dynamodb:DeleteItem'),
      );
      // The token function's lockout deletes nothing (conditional updates only); unlock-username does.
      expect(deletes).toHaveLength(1);
      for (const { statement } of deletes) {
        expect(actionsOf(statement)).toEqual(['dynamodb:DeleteItem']);
        expect(statement.Condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LOCKOUT_KEY_PREFIX}*`] },
        });
      }
    });

    it('demo role: its own logs, nothing else', () => {
      const { me } = functions();
      expect(permissionsOfRole(synth.template, me.role)).toEqual(
        allowLines(synth.stack, [[['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn(me)]]]),
      );
    });

    it('API Gateway may invoke the HTTP-facing functions and the authorizer, never the admin function', () => {
      // The other invokers: Secrets Manager, of the hook secret rotation function (pinned in
      // service-monitoring.test.ts), and the daily schedule, of the signing-key rotation function only.
      const rotation = JSON.stringify(resolve(service().hookSecretRotationFunction.function.functionArn));
      const all = Object.values(resourcesOf(synth.template, 'AWS::Lambda::Permission'))
        .map(({ Properties }) => Properties)
        .filter((permission) => JSON.stringify(permission.FunctionName) !== rotation);
      const scheduled = all.filter((permission) => permission.Principal === 'events.amazonaws.com');
      expect(scheduled.map((permission) => permission.FunctionName)).toEqual([
        resolve(functions().signingKeyRotation.function.functionArn),
      ]);
      const permissions = all.filter((permission) => !scheduled.includes(permission));
      for (const permission of permissions) {
        expect(permission).toMatchObject({
          Action: 'lambda:InvokeFunction',
          Principal: 'apigateway.amazonaws.com',
        });
        expect(permission.SourceArn).toBeDefined();
      }
      const invoked = new Set(permissions.map((permission) => JSON.stringify(permission.FunctionName)));
      const { token, authorize, revocation, introspection, metadata, authorizer, admin, me, jwks } =
        functions();
      expect(invoked).toEqual(
        new Set(
          [token, authorize, revocation, introspection, metadata, authorizer, me, jwks].map((fn) =>
            JSON.stringify(resolve(fn.function.functionArn)),
          ),
        ),
      );
      expect(invoked).not.toContain(JSON.stringify(resolve(admin.function.functionArn)));
    });
  });

  describe('hook secret, lockout key secret and sign-in form secret', () => {
    it('is generated by Secrets Manager, never a literal (so is the lockout key secret)', () => {
      // The fourth holds the JWT signing keys, created as an empty key set (see signing-keys-stack.test.ts).
      synth.template.resourceCountIs('AWS::SecretsManager::Secret', 4);
      const signingKeys = logicalIdOf(service().signingKeys.secret);
      for (const [id, secret] of Object.entries(
        synth.template.findResources('AWS::SecretsManager::Secret'),
      )) {
        if (id === signingKeys) continue;
        expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
        expect(secret.Properties).not.toHaveProperty('SecretString');
      }
    });
  });

  describe('REST API', () => {
    it('denies every request that does not arrive over TLS', () => {
      const api = propertiesOf(synth.template, service().api);
      expect(api.Policy).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Resource: 'execute-api:/*',
          },
          {
            Action: 'execute-api:Invoke',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: 'execute-api:/*',
          },
        ],
      });
      expect(api.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
      expect(api.DisableExecuteApiEndpoint).toBe(false);
      synth.template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    });

    it('stage: throttled as configured, access logs on, execution logs at ERROR without data trace', () => {
      const stage = propertiesOf(synth.template, service().api.deploymentStage);
      const setting = (resourcePath: string, rateLimit: number, burstLimit: number) => ({
        HttpMethod: '*',
        ResourcePath: resourcePath,
        ThrottlingRateLimit: rateLimit,
        ThrottlingBurstLimit: burstLimit,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      });
      // The stage-wide throttle, then own ones so junk on one endpoint cannot use up the others'.
      expect(stage.MethodSettings).toEqual([
        setting('/*', 50, 100),
        setting('/~1oauth2~1token', 25, 50),
        setting('/~1oauth2~1authorize', 10, 20),
        setting('/~1oauth2~1revoke', 10, 20),
        setting('/~1oauth2~1introspect', 10, 20),
      ]);
      expect(stage).not.toHaveProperty('Variables');
      // No reserved concurrency and no web ACL unless cdk.json asks for them.
      for (const { Properties } of Object.values(resourcesOf(synth.template, 'AWS::Lambda::Function'))) {
        expect(Properties).not.toHaveProperty('ReservedConcurrentExecutions');
      }
      synth.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
      expect(stage.AccessLogSetting).toEqual({
        DestinationArn: resolve((service().node.findChild('AccessLogs') as ILogGroup).logGroupArn),
        Format: expect.stringContaining('$context.requestId'),
      });
    });

    it('has exactly the OAuth routes, the metadata route and the demo route', () => {
      expect([...routesOf(synth.template)].sort()).toEqual(
        [
          'ANY /oauth2/token',
          'ANY /oauth2/revoke',
          'ANY /oauth2/introspect',
          'GET /oauth2/authorize',
          'POST /oauth2/authorize',
          'GET /.well-known/oauth-authorization-server',
          'GET /.well-known/openid-configuration',
          'GET /.well-known/jwks.json',
          'GET /me',
        ].sort(),
      );
    });

    it('revocation may read the client and update grants; introspection and metadata only read or nothing', () => {
      const { revocation, introspection, metadata } = functions();
      const tables = (fn: IConstruct) =>
        permissionsOfRole(synth.template, fn).filter((line) => line.includes('dynamodb:'));
      expect(tables(revocation.role)).toEqual(
        [
          `Allow dynamodb:GetItem ${JSON.stringify(resolve(service().clientsTable.tableArn))}`,
          `Allow dynamodb:UpdateItem ${JSON.stringify(resolve(service().grantsTable.tableArn))}`,
        ].sort(),
      );
      expect(tables(introspection.role)).toEqual(
        [
          `Allow dynamodb:GetItem ${JSON.stringify(resolve(service().clientsTable.tableArn))}`,
          `Allow dynamodb:GetItem ${JSON.stringify(resolve(service().grantsTable.tableArn))}`,
        ].sort(),
      );
      expect(tables(metadata.role)).toEqual([]);
    });

    it('ANY /oauth2/token is open (the handler authenticates clients) and proxies to the token function', () => {
      const method = methodAt(synth.template, 'ANY', '/oauth2/token');
      expect(method.AuthorizationType).toBe('NONE');
      expect(method).not.toHaveProperty('AuthorizerId');
      expect(method.Integration).toMatchObject({ Type: 'AWS_PROXY' });
      expect(JSON.stringify(method.Integration)).toContain(logicalIdOf(functions().token.function));
    });

    it('GET /me is behind the bearer authorizer', () => {
      const method = methodAt(synth.template, 'GET', '/me');
      expect(method.AuthorizationType).toBe('CUSTOM');
      expect(method.AuthorizerId).toEqual(ref(authorizerOf(service())));
      expect(JSON.stringify(method.Integration)).toContain(logicalIdOf(functions().me.function));
    });

    it('authorizer: REQUEST type keyed on the token and the route, no result cache by default', () => {
      synth.template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
      const authorizer = propertiesOf(synth.template, authorizerOf(service()));
      expect(authorizer).toMatchObject({
        Type: 'REQUEST',
        IdentitySource: 'method.request.header.Authorization,context.httpMethod,context.resourcePath',
        AuthorizerResultTtlInSeconds: 0,
        RestApiId: ref(service().api),
      });
      expect(JSON.stringify(authorizer.AuthorizerUri)).toContain(
        logicalIdOf(functions().authorizer.function),
      );
    });

    it('answers a failed or missing token with an RFC 6750 401 and an authorizer outage with 503', () => {
      synth.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'UNAUTHORIZED',
        StatusCode: '401',
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.WWW-Authenticate': `'Bearer realm="oauth2", error="invalid_token"'`,
          'gatewayresponse.header.Cache-Control': "'no-store'",
        }),
      });
      // The authorizer's Deny (a route requirement the token misses): RFC 6750 §3.1, 403.
      synth.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'ACCESS_DENIED',
        StatusCode: '403',
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.WWW-Authenticate': `'Bearer realm="oauth2", error="insufficient_scope"'`,
          'gatewayresponse.header.Cache-Control': "'no-store'",
        }),
        ResponseTemplates: {
          'application/json': JSON.stringify({
            error: 'insufficient_scope',
            error_description: 'The access token does not grant access to this resource',
          }),
        },
      });
      synth.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'AUTHORIZER_FAILURE',
        StatusCode: '503',
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Cache-Control': "'no-store'" }),
      });
      for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
        synth.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
          ResponseType: type,
          ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Cache-Control': "'no-store'" }),
        });
      }
    });
  });

  describe('outputs', () => {
    it('TokenUrl is the https URL of /oauth2/token', () => {
      const output = outputOf(synth.template, service(), 'TokenUrl');
      expect(output.Value).toEqual(resolve(service().tokenUrl));
      const text = JSON.stringify(output.Value);
      expect(text).toMatch(/^\{"Fn::Join":\["",\["https:\/\//);
      expect(text).toContain('/oauth2/token"');
    });

    it('AuthorizerArn is exported for other stacks as <stackName>-AuthorizerArn', () => {
      expect(outputOf(synth.template, service(), 'AuthorizerArn')).toMatchObject({
        Value: resolve(functions().authorizer.function.functionArn),
        Export: { Name: 'OAuth2TokenService-AuthorizerArn' },
      });
    });

    it('never name the lockout key secret (only its two functions know it)', () => {
      const outputs = JSON.stringify(synth.template.findOutputs('*'));
      expect(outputs).not.toContain(JSON.stringify(ref(service().lockoutKeySecret)));
    });

    it('name the admin function and both tables for the admin CLI', () => {
      expect(outputOf(synth.template, service(), 'AdminFunctionName').Value).toEqual(
        ref(functions().admin.function),
      );
      expect(outputOf(synth.template, service(), 'ClientsTableName').Value).toEqual(
        ref(service().clientsTable),
      );
      expect(outputOf(synth.template, service(), 'GrantsTableName').Value).toEqual(
        ref(service().grantsTable),
      );
    });
  });

  it('CDK itself reports no error, and no warning but the placeholder AuthCheck of cdk.json', () => {
    const annotations = Annotations.fromStack(synth.stack);
    annotations.hasNoError('*', Match.anyValue());
    expect(annotations.findWarning('*', Match.anyValue()).map((warning) => warning.id)).toEqual([
      '/OAuth2TokenService/TokenService',
    ]);
  });

  describe('cdk-nag (AwsSolutions)', () => {
    it('finds no violation', () => {
      expect(synth.nag.violations).toEqual([]);
      expect(synth.nag.success).toBe(true);
    });

    it('every acknowledgement is one of the reviewed ones and says why', () => {
      const acknowledgements = acknowledgementsIn(synth.stack);
      for (const { id, reason } of acknowledgements) {
        expect(typeof reason, id).toBe('string');
        expect(String(reason).trim().length, id).toBeGreaterThan(20);
      }
      expect(acknowledgements.map(({ path, id }) => `${path} ${id}`).sort()).toEqual([
        'TokenService/Api Annotation::AwsSolutions-APIG2',
        'TokenService/Api Annotation::AwsSolutions-APIG3',
        'TokenService/Api Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'TokenService/Api/Default/.well-known/jwks.json/GET Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/.well-known/jwks.json/GET Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/.well-known/oauth-authorization-server/GET Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/.well-known/oauth-authorization-server/GET Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/.well-known/openid-configuration/GET Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/.well-known/openid-configuration/GET Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/me/GET Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/oauth2/authorize/GET Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/oauth2/authorize/GET Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/oauth2/authorize/POST Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/oauth2/authorize/POST Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/oauth2/introspect/ANY Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/oauth2/introspect/ANY Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/oauth2/revoke/ANY Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/oauth2/revoke/ANY Annotation::AwsSolutions-COG4',
        'TokenService/Api/Default/oauth2/token/ANY Annotation::AwsSolutions-APIG4',
        'TokenService/Api/Default/oauth2/token/ANY Annotation::AwsSolutions-COG4',
        'TokenService/Authorize/FormSecret Annotation::AwsSolutions-SMG4',
        'TokenService/HookSecret Annotation::AwsSolutions-SMG4',
        'TokenService/HookSecretRotation Annotation::AwsSolutions-IAM5[Resource::*]',
        'TokenService/LockoutKeySecret Annotation::AwsSolutions-SMG4',
        'TokenService/Monitoring/AlarmTopic Annotation::AwsSolutions-SNS2',
        'TokenService/SigningKeys/PrivateKeys Annotation::AwsSolutions-SMG4',
      ]);
    });
  });

  /** The log group a ServiceFunction writes to (its `Logs` child). */
  function logGroupArn(fn: IConstruct): string {
    return (fn.node.findChild('Logs') as ILogGroup).logGroupArn;
  }
});
