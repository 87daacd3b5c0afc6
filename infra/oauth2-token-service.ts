import {
  Annotations,
  CfnOutput,
  type CfnOutputProps,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  CLIENTS_PARTITION_KEY,
  GRANTS_BY_CLIENT_INDEX,
  GRANTS_BY_USER_INDEX,
  GRANTS_CLIENT_ID_ATTRIBUTE,
  GRANTS_PARTITION_KEY,
  GRANTS_TTL_ATTRIBUTE,
  GRANTS_USER_KEY_ATTRIBUTE,
  LOCKOUT_KEY_PREFIX,
} from '../lambdas/store/table-definitions.js';
import { AdminAccess } from './admin-access.js';
import { ApiProtection } from './api-protection.js';
import { AuthorizeEndpoint } from './authorize-endpoint.js';
import { addBearerGatewayResponses, BEARER_IDENTITY_SOURCES } from './oauth2-authorizer.js';
import { ServiceFunction } from './service-function.js';
import { ServiceMonitoring } from './service-monitoring.js';
import { ServiceParameters } from './service-parameters.js';
import { SigningKeys } from './signing-keys.js';
import { type HookTarget, isPlaceholderHook, type StageConfig } from './stage-config.js';

/** Below API Gateway's 29 s integration timeout, with the 1 s deadline margin to spare. */
export const TOKEN_TIMEOUT_SECONDS = 28;
export const FORM_ENDPOINT_TIMEOUT_SECONDS = 25;
export const AUTHORIZER_TIMEOUT_SECONDS = 20;
/**
 * disable-client sweeps the client's grants twice, this far apart: past the token function's timeout,
 * so a grant written by a request that read the client before the disable is found by the second sweep.
 */
export const DISABLE_CLIENT_SECOND_SWEEP_SECONDS = TOKEN_TIMEOUT_SECONDS + 2;
export type OAuth2TokenServiceProps = StageConfig & {
  /** Send the alarms to this topic instead of the construct's own. */
  readonly alarmTopic?: sns.ITopic;
};

const REALM = 'oauth2';
const STAGE_NAME = 'prod';

/** The one managed policy API Gateway's account-level logging role needs (cdk-nag finding id). */
export const API_GATEWAY_CLOUDWATCH_ROLE_FINDING =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]';

/**
 * The whole token service as one construct: tables, hook secret, token / authorizer / admin
 * functions and the REST API (`POST /oauth2/token`, `GET /me`). Drop it into your own app, or
 * deploy `OAuth2TokenServiceStack`.
 */
export class OAuth2TokenService extends Construct {
  readonly api: apigateway.RestApi;
  readonly clientsTable: dynamodb.Table;
  readonly grantsTable: dynamodb.Table;
  readonly hookSecret: secretsmanager.Secret;
  /** Keys usernames' lockout state (HMAC); read by the token and admin functions only. */
  readonly lockoutKeySecret: secretsmanager.Secret;
  readonly tokenFunction: ServiceFunction;
  readonly revocationFunction: ServiceFunction;
  readonly introspectionFunction: ServiceFunction;
  readonly metadataFunction: ServiceFunction;
  /** `GET` / `POST /oauth2/authorize` and the hosted sign-in page, with its own role and form secret. */
  readonly authorizeEndpoint: AuthorizeEndpoint;
  readonly authorizerFunction: ServiceFunction;
  readonly adminFunction: ServiceFunction;
  /** `GET /.well-known/jwks.json`: reads the public key item only. */
  readonly jwksFunction: ServiceFunction;
  readonly signingKeys: SigningKeys;
  /** `iss` of JWT access tokens and the metadata's issuer (what `HttpJwtAuthorizer` is pointed at). */
  readonly issuer: string;
  /** The authorizer on this API's own routes; only with the demo route (an authorizer must be attached). */
  readonly authorizer?: apigateway.RequestAuthorizer;
  readonly tokenUrl: string;
  /** Rotates the hook secret (Secrets Manager's rotation function; scheduled with `hookSecretRotationDays`). */
  readonly hookSecretRotationFunction: ServiceFunction;
  /** Alarms, topic and dashboard; absent with `monitoring: false`. */
  readonly monitoring?: ServiceMonitoring;
  /** The authorizer ARN and issuer, published as SSM parameters for other stacks and repositories. */
  readonly parameters: ServiceParameters;
  /** API Gateway's authorizer cache for this service's tokens (0 = off); see StageConfig. */
  readonly authorizerCacheTtlSeconds: number;
  /** Method throttles, token reserved concurrency, optional WAF. */
  readonly protection: ApiProtection;
  /** Present with `adminInvokerArns`. */
  readonly adminAccess?: AdminAccess;

  constructor(scope: Construct, id: string, props: OAuth2TokenServiceProps) {
    super(scope, id);
    const retain = props.retainData;
    if (isPlaceholderHook(props.authCheck)) {
      // A warning, not an error: the repository synthesises out of the box, and `cdk deploy --strict`
      // (or `cdk synth --strict`) refuses it, the CDK convention for "not fit to deploy".
      Annotations.of(this).addWarningV2(
        'oauth2:authCheckPlaceholder',
        `oauth2.authCheck is the placeholder ${props.authCheck.kind === 'http' ? props.authCheck.url : ''}: set the "authCheck" of the "oauth2" context in cdk.json (or -c oauth2='{...}') to your own hook before deploying; every password grant would fail against it`,
      );
    }
    this.authorizerCacheTtlSeconds = props.authorizerCacheTtlSeconds;

    const tableDefaults = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    this.clientsTable = new dynamodb.Table(this, 'ClientsTable', {
      ...tableDefaults,
      partitionKey: { name: CLIENTS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
    });
    this.grantsTable = new dynamodb.Table(this, 'GrantsTable', {
      ...tableDefaults,
      partitionKey: { name: GRANTS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: GRANTS_TTL_ATTRIBUTE,
    });
    for (const [indexName, attribute] of [
      [GRANTS_BY_USER_INDEX, GRANTS_USER_KEY_ATTRIBUTE],
      [GRANTS_BY_CLIENT_INDEX, GRANTS_CLIENT_ID_ATTRIBUTE],
    ] as const) {
      this.grantsTable.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: attribute, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }

    this.hookSecret = new secretsmanager.Secret(this, 'HookSecret', {
      description:
        'HMAC-SHA256 key that signs requests to the AuthCheck / session-check hooks (X-OAuth2-Signature)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    this.hookSecretRotationFunction = this.addHookSecretRotation(props);

    // Generated here and never shown: only the token and admin functions read it (grantRead below),
    // by ARN; no environment value or output holds the secret itself.
    this.lockoutKeySecret = new secretsmanager.Secret(this, 'LockoutKeySecret', {
      description:
        'HMAC-SHA256 key of the password lockout state, so the table holds no reversible username hash',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.lockoutKeySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the lockout key only forgets current lockout counters (a new key finds no state); there is nothing to rotate for, and no rotation Lambda is worth its cost here.',
    });
    const lockoutKey = { LOCKOUT_KEY_SECRET_ARN: this.lockoutKeySecret.secretArn };

    const tables = { CLIENTS_TABLE: this.clientsTable.tableName, GRANTS_TABLE: this.grantsTable.tableName };
    // The metrics' `service` dimension: one per stack, so two deployments in one account never mix.
    const metricsEnv = {
      METRICS_SERVICE_NAME: Stack.of(this).stackName,
      METRICS_BY_CLIENT: String(props.metricsByClient),
    };
    const common = {
      ...tables,
      ...metricsEnv,
      REQUIRE_SSL: String(props.requireSsl),
      LOG_LEVEL: props.logLevel,
    };

    this.tokenFunction = new ServiceFunction(this, 'Token', {
      entry: 'token',
      description: 'OAuth 2.0 token endpoint (POST /oauth2/token)',
      // Up to 5 DynamoDB calls in a row (4.6 s each when every attempt times out, 7.5 s when each is
      // throttled) plus the AuthCheck (3 s). API Gateway gives up at 29 s; a request still running
      // 1 s before this timeout is answered 503 by the handler itself (LAMBDA_DEADLINE).
      timeout: Duration.seconds(TOKEN_TIMEOUT_SECONDS),
      environment: {
        ...common,
        ACCESS_TOKEN_TTL_SECONDS: String(props.accessTokenTtlSeconds),
        REFRESH_TOKEN_TTL_SECONDS: String(props.refreshTokenTtlSeconds),
        REFRESH_TOKEN_MAX_LIFETIME_SECONDS: String(props.refreshTokenMaxLifetimeSeconds),
        REFRESH_REUSE_GRACE_SECONDS: String(props.refreshReuseGraceSeconds),
        LOCKOUT_THRESHOLD: String(props.lockoutThreshold),
        LOCKOUT_BASE_SECONDS: String(props.lockoutBaseSeconds),
        LOCKOUT_MAX_SECONDS: String(props.lockoutMaxSeconds),
        ...(props.lockoutThreshold > 0 ? lockoutKey : {}),
        ...this.hookEnvironment('AUTH_CHECK', props.authCheck),
      },
    });
    this.allow(this.tokenFunction, this.clientsTable, ['dynamodb:GetItem']);
    // The lockout is conditional UpdateItems (and a PutItem over expired state); it deletes nothing.
    this.allow(this.tokenFunction, this.grantsTable, [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    if (props.lockoutThreshold > 0) this.lockoutKeySecret.grantRead(this.tokenFunction.role);
    this.wireHook(this.tokenFunction, props.authCheck);

    this.revocationFunction = new ServiceFunction(this, 'Revocation', {
      entry: 'revocation',
      description: 'OAuth 2.0 token revocation (POST /oauth2/revoke, RFC 7009)',
      memorySize: 256,
      // 3 DynamoDB calls in a row at 7.5 s worst each; answered 503 by the deadline otherwise.
      timeout: Duration.seconds(FORM_ENDPOINT_TIMEOUT_SECONDS),
      environment: common,
    });
    this.allow(this.revocationFunction, this.clientsTable, ['dynamodb:GetItem']);
    // One conditional UpdateItem checks owner and token hash: revocation never reads a grant
    // (verify:deployment's least-privilege report found the GetItem unused).
    this.allow(this.revocationFunction, this.grantsTable, ['dynamodb:UpdateItem']);

    this.introspectionFunction = new ServiceFunction(this, 'Introspection', {
      entry: 'introspection',
      description: 'OAuth 2.0 token introspection (POST /oauth2/introspect, RFC 7662)',
      memorySize: 256,
      // 3 DynamoDB calls in a row at 7.5 s worst each; answered 503 by the deadline otherwise.
      timeout: Duration.seconds(FORM_ENDPOINT_TIMEOUT_SECONDS),
      environment: common,
    });
    this.allow(this.introspectionFunction, this.clientsTable, ['dynamodb:GetItem']);
    this.allow(this.introspectionFunction, this.grantsTable, ['dynamodb:GetItem']);

    this.metadataFunction = new ServiceFunction(this, 'Metadata', {
      entry: 'metadata',
      description: 'Authorization server metadata (GET /.well-known/oauth-authorization-server, RFC 8414)',
      memorySize: 128,
      timeout: Duration.seconds(5),
      // ISSUER is added once the API exists (see issuerUrl): the handler never derives it from Host.
      environment: { LOG_LEVEL: props.logLevel },
    });

    this.authorizerFunction = new ServiceFunction(this, 'Authorizer', {
      entry: 'authorizer',
      description: 'Lambda authorizer: checks Authorization: Bearer <access token>',
      memorySize: 256,
      // 2 DynamoDB calls (grant, fresh client) at 7.5 s worst each, or the session check.
      timeout: Duration.seconds(AUTHORIZER_TIMEOUT_SECONDS),
      environment: {
        ...common,
        CLIENT_CACHE_TTL_SECONDS: '30',
        ...(props.sessionCheck === undefined
          ? {}
          : this.hookEnvironment('SESSION_CHECK', props.sessionCheck)),
      },
    });
    this.allow(this.authorizerFunction, this.clientsTable, ['dynamodb:GetItem']);
    this.allow(this.authorizerFunction, this.grantsTable, ['dynamodb:GetItem']);
    if (props.sessionCheck !== undefined) this.wireHook(this.authorizerFunction, props.sessionCheck);

    this.adminFunction = new ServiceFunction(this, 'Admin', {
      entry: 'admin',
      description: 'OAuth 2.0 client administration (invoke only, never behind HTTP)',
      memorySize: 256,
      // disable-client waits DISABLE_CLIENT_SECOND_SWEEP_SECONDS between its two sweeps.
      timeout: Duration.seconds(120),
      environment: {
        ...tables,
        ...lockoutKey,
        ...metricsEnv,
        LOG_LEVEL: props.logLevel,
        DISABLE_CLIENT_SECOND_SWEEP_SECONDS: String(DISABLE_CLIENT_SECOND_SWEEP_SECONDS),
        // create-client refuses per-client access-token lifetimes below the authorizer cache.
        AUTHORIZER_CACHE_TTL_SECONDS: String(props.authorizerCacheTtlSeconds),
      },
    });
    // unlock-username finds the key the token function counts under.
    this.lockoutKeySecret.grantRead(this.adminFunction.role);
    // GetItem: rotate-secret reads the client first to refuse a public one (it has no secret); every
    // other client change is a conditional write, and list-clients is a Scan.
    this.allow(this.adminFunction, this.clientsTable, [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Scan',
    ]);
    // UpdateItem revokes grants; DeleteItem clears a username's lockout item (unlock-username).
    this.allow(this.adminFunction, this.grantsTable, ['dynamodb:UpdateItem']);
    this.allowLockoutDelete(this.adminFunction);
    this.adminFunction.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [
          `${this.grantsTable.tableArn}/index/${GRANTS_BY_USER_INDEX}`,
          `${this.grantsTable.tableArn}/index/${GRANTS_BY_CLIENT_INDEX}`,
        ],
      }),
    );

    this.signingKeys = new SigningKeys(this, 'SigningKeys', {
      clientsTable: this.clientsTable,
      grantsTable: this.grantsTable,
      rotationDays: props.signingKeyRotationDays,
      publishAheadSeconds: props.signingKeyPublishAheadSeconds,
      logLevel: props.logLevel,
    });
    // Signing: read the private keys; the function exists only once the first key does.
    this.signingKeys.grantSign(this.tokenFunction);
    this.tokenFunction.function.node.addDependency(this.signingKeys.firstKey);
    this.tokenFunction.function.addEnvironment(
      'SIGNING_KEYS_SECRET_ARN',
      this.signingKeys.rotationEnvironment.SIGNING_KEYS_SECRET_ARN as string,
    );
    this.tokenFunction.function.addEnvironment('ACCESS_TOKEN_FORMAT', props.accessTokenFormat);
    if (props.accessTokenAudience !== undefined) {
      this.tokenFunction.function.addEnvironment('ACCESS_TOKEN_AUDIENCE', props.accessTokenAudience);
    }
    // rotate-signing-key: the same rights as the scheduled rotation.
    this.signingKeys.grantRotate(this.adminFunction, this.grantsTable);
    for (const [name, value] of Object.entries(this.signingKeys.rotationEnvironment)) {
      this.adminFunction.function.addEnvironment(name, value);
    }
    // Verifiers see public keys only: the authorizer reads the public key item (it may read grants
    // anyway); the JWKS function may read that one item and nothing else.
    if (props.authorizerJwtAudience !== undefined) {
      this.authorizerFunction.function.addEnvironment('JWT_AUDIENCE', props.authorizerJwtAudience.join(' '));
    }
    this.authorizerFunction.function.addEnvironment('JWT_REVOCATION_CHECK', String(props.jwtRevocationCheck));
    this.jwksFunction = new ServiceFunction(this, 'Jwks', {
      entry: 'jwks',
      description: 'JWT signing keys, public (GET /.well-known/jwks.json)',
      memorySize: 128,
      timeout: Duration.seconds(10),
      environment: { ...tables, LOG_LEVEL: props.logLevel },
    });
    SigningKeys.grantReadPublicKeys(this.jwksFunction, this.grantsTable);

    this.api = this.createApi(props);
    this.issuer = this.issuerUrl(props);
    // JWTs carry the metadata's issuer; the authorizer checks it.
    for (const fn of [this.tokenFunction, this.authorizerFunction, this.metadataFunction]) {
      fn.function.addEnvironment('ISSUER', this.issuer);
    }
    const oauth2 = this.api.root.addResource('oauth2');
    // ANY, not POST: the handlers themselves answer other methods with 405 and `Allow: POST`.
    for (const [path, fn] of [
      ['token', this.tokenFunction],
      ['revoke', this.revocationFunction],
      ['introspect', this.introspectionFunction],
    ] as const) {
      const method = oauth2.addResource(path).addMethod('ANY', new apigateway.LambdaIntegration(fn.function));
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'OAuth endpoints authenticate clients themselves (RFC 6749 section 2.3, RFC 7009, RFC 7662); an API Gateway authorizer cannot.',
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'The token service is the identity provider; it authenticates clients itself, not with Cognito.',
      });
    }
    const wellKnown = this.api.root.addResource('.well-known');
    // The openid-configuration is the same document: what API Gateway's HTTP API JWT authorizer reads.
    for (const [path, fn] of [
      ['oauth-authorization-server', this.metadataFunction],
      ['openid-configuration', this.metadataFunction],
      ['jwks.json', this.jwksFunction],
    ] as const) {
      const method = wellKnown
        .addResource(path)
        .addMethod('GET', new apigateway.LambdaIntegration(fn.function));
      for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
        Validations.of(method).acknowledge({
          id,
          reason:
            'Discovery metadata and public keys are public by definition: clients and verifiers read them before they have any credentials.',
        });
      }
    }
    this.authorizeEndpoint = new AuthorizeEndpoint(this, 'Authorize', {
      oauth2Resource: oauth2,
      clientsTable: this.clientsTable,
      grantsTable: this.grantsTable,
      timeout: Duration.seconds(TOKEN_TIMEOUT_SECONDS),
      environment: {
        ...common,
        LOCKOUT_THRESHOLD: String(props.lockoutThreshold),
        LOCKOUT_BASE_SECONDS: String(props.lockoutBaseSeconds),
        LOCKOUT_MAX_SECONDS: String(props.lockoutMaxSeconds),
        // The same key as the token function's: one lockout counter per username for both.
        ...(props.lockoutThreshold > 0 ? lockoutKey : {}),
        // The same issuer as the metadata, so RFC 9207 iss matches it.
        ISSUER: this.issuerUrl(props),
        ...this.hookEnvironment('AUTH_CHECK', props.authCheck),
        ...(props.sessionCheck === undefined
          ? {}
          : this.hookEnvironment('SESSION_CHECK', props.sessionCheck)),
      },
    });
    if (props.lockoutThreshold > 0) this.lockoutKeySecret.grantRead(this.authorizeEndpoint.fn.role);
    this.wireHook(this.authorizeEndpoint.fn, props.authCheck);
    if (props.sessionCheck !== undefined) this.wireHook(this.authorizeEndpoint.fn, props.sessionCheck);
    this.tokenUrl = this.endpointUrl('/oauth2/token', props);

    if (props.demoRoute) {
      // Only with a route to attach it to: an unattached authorizer fails synthesis.
      this.authorizer = new apigateway.RequestAuthorizer(this, 'BearerAuthorizer', {
        handler: this.authorizerFunction.function,
        // API Gateway only caches when every identity source is present; a cookie-only request has no
        // Authorization header, so with a session check there is no identity source and no cache.
        // Otherwise the cache key is token + method + resource path: one route's decision (Allow or
        // Deny against its requirements) is never reused for another route.
        identitySources: props.sessionCheck === undefined ? [...BEARER_IDENTITY_SOURCES] : [],
        resultsCacheTtl: Duration.seconds(
          props.sessionCheck === undefined ? props.authorizerCacheTtlSeconds : 0,
        ),
      });
      const me = new ServiceFunction(this, 'Me', {
        entry: 'me',
        description: 'Demo resource GET /me behind the authorizer',
        memorySize: 128,
        timeout: Duration.seconds(5),
        environment: { LOG_LEVEL: props.logLevel },
      });
      const meMethod = this.api.root
        .addResource('me')
        .addMethod('GET', new apigateway.LambdaIntegration(me.function), {
          authorizer: this.authorizer,
          authorizationType: apigateway.AuthorizationType.CUSTOM,
        });
      Validations.of(meMethod).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Protected by this service’s own Lambda authorizer (OAuth 2.0 bearer tokens), by design not Cognito.',
      });
    }

    // After every route: a method throttle for a path the API lacks would fail the deployment.
    this.protection = new ApiProtection(this, 'Protection', {
      api: this.api,
      tokenFunction: this.tokenFunction.function,
      endpointThrottles: props.endpointThrottles,
      ...(props.tokenReservedConcurrency === undefined
        ? {}
        : { tokenReservedConcurrency: props.tokenReservedConcurrency }),
      ...(props.waf === undefined ? {} : { waf: props.waf }),
    });
    if (props.adminInvokerArns !== undefined) {
      this.adminAccess = new AdminAccess(this, 'AdminAccess', {
        adminFunction: this.adminFunction.function,
        invokerArns: props.adminInvokerArns,
      });
    }
    if (props.monitoring !== false) {
      this.monitoring = new ServiceMonitoring(this, 'Monitoring', {
        serviceName: Stack.of(this).stackName,
        functions: {
          Token: this.tokenFunction.function,
          Revocation: this.revocationFunction.function,
          Introspection: this.introspectionFunction.function,
          Metadata: this.metadataFunction.function,
          Authorizer: this.authorizerFunction.function,
          Admin: this.adminFunction.function,
        },
        tables: { Clients: this.clientsTable, Grants: this.grantsTable },
        api: this.api,
        thresholds: props.monitoring.thresholds,
        ...(props.alarmTopic === undefined ? {} : { alarmTopic: props.alarmTopic }),
        ...(props.monitoring.alarmEmail === undefined ? {} : { alarmEmail: props.monitoring.alarmEmail }),
      });
      this.output('AlarmTopicArn', { value: this.monitoring.topic.topicArn });
      this.output('DashboardName', { value: this.monitoring.dashboard.dashboardName });
    }

    const stack = Stack.of(this);
    this.parameters = new ServiceParameters(this, 'Parameters', {
      names: props.ssmParameters,
      authorizerFunctionArn: this.authorizerFunction.function.functionArn,
      issuer: this.issuer,
    });

    // RestApi's own `Endpoint` output (the stage's base URL), under a stable name like the others.
    (this.api.node.tryFindChild('Endpoint') as CfnOutput | undefined)?.overrideLogicalId('ApiUrl');
    this.output('TokenUrl', { value: this.tokenUrl, description: 'POST here for tokens' });
    this.output('AuthorizationUrl', {
      value: this.endpointUrl('/oauth2/authorize', props),
      description: 'Send users here (RFC 6749 authorization endpoint, hosted sign-in page)',
    });
    this.output('RevocationUrl', { value: this.endpointUrl('/oauth2/revoke', props) });
    this.output('IntrospectionUrl', { value: this.endpointUrl('/oauth2/introspect', props) });
    this.output('JwksUrl', { value: this.endpointUrl('/.well-known/jwks.json', props) });
    this.output('MetadataUrl', {
      value: this.endpointUrl('/.well-known/oauth-authorization-server', props),
    });
    this.output('IssuerUrl', {
      value: this.issuer,
      description: 'The issuer (RFC 8414) and iss of JWT access tokens; point HttpJwtAuthorizer here',
      exportName: `${stack.stackName}-IssuerUrl`,
    });
    this.output('AuthorizerArn', {
      value: this.authorizerFunction.function.functionArn,
      description: 'Attach to other REST APIs with OAuth2Authorizer.fromFunctionArn',
      exportName: `${stack.stackName}-AuthorizerArn`,
    });
    this.output('AuthorizerArnParameter', {
      value: this.parameters.authorizerFunctionArn.parameterName,
      description: 'SSM parameter holding AuthorizerArn (OAuth2Authorizer.fromSsm)',
    });
    this.output('IssuerParameter', {
      value: this.parameters.issuer.parameterName,
      description: 'SSM parameter holding IssuerUrl',
    });
    this.output('AdminFunctionName', {
      value: this.adminFunction.function.functionName,
      description: 'oauth2-admin --function-name (or --stack)',
    });
    this.output('ClientsTableName', { value: this.clientsTable.tableName });
    this.output('GrantsTableName', { value: this.grantsTable.tableName });
    this.output('HookSecretArn', {
      value: this.hookSecret.secretArn,
      description: 'HMAC key your AuthCheck hook verifies X-OAuth2-Signature with',
    });
  }

  /**
   * The hook secret's rotation function, always deployed so `aws secretsmanager rotate-secret` works
   * by hand; scheduled every `hookSecretRotationDays` when set. It never rotates on deploy.
   */
  private addHookSecretRotation(props: OAuth2TokenServiceProps): ServiceFunction {
    const rotation = new ServiceFunction(this, 'HookSecretRotation', {
      entry: 'hookSecretRotation',
      description: 'Rotates the hook signing secret (Secrets Manager rotation function)',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { LOG_LEVEL: props.logLevel },
    });
    this.hookSecret.addRotationSchedule('Rotation', {
      rotationLambda: rotation.function,
      // 0 days: a rotation function without a schedule (by hand only).
      automaticallyAfter: Duration.days(props.hookSecretRotationDays ?? 0),
      rotateImmediatelyOnUpdate: false,
    });
    Validations.of(rotation).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:GetRandomPassword (added by CDK for rotation functions) has no resource to scope to; the function itself draws its value from the CSPRNG.',
    });
    if (props.hookSecretRotationDays === undefined) {
      Validations.of(this.hookSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation is set up but not scheduled: the deployer’s hook must learn the new value, so it rotates by hand unless hookSecretRotationDays says otherwise (README: Operating the service).',
      });
    }
    return rotation;
  }

  /**
   * An output whose key in the template is exactly `id` (not `TokenServiceTokenUrl2CBDA063`), so
   * `aws cloudformation describe-stacks` users and scripts can rely on the names the README lists.
   * One service per stack, then: a second one would collide on the same keys.
   */
  private output(id: string, props: CfnOutputProps): CfnOutput {
    const output = new CfnOutput(this, id, props);
    output.overrideLogicalId(id);
    return output;
  }

  /**
   * The RFC 8414 issuer: configured, else the custom domain, else the execute-api URL with its stage.
   * Built from the API id and region, not from the stage resource: the function would then depend on
   * the stage, the stage on the deployment, the deployment on the method, and the method on the function.
   */
  private issuerUrl(props: OAuth2TokenServiceProps): string {
    if (props.issuer !== undefined) return props.issuer;
    if (props.customDomain !== undefined) return `https://${props.customDomain.domainName}`;
    const stack = Stack.of(this);
    return `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${STAGE_NAME}`;
  }

  /** With a custom domain the execute-api hostname is disabled: the URLs to publish are the domain's. */
  private endpointUrl(path: string, props: OAuth2TokenServiceProps): string {
    return props.customDomain === undefined
      ? this.api.urlForPath(path)
      : `https://${props.customDomain.domainName}${path}`;
  }

  /** Exactly these actions on exactly this table: no wildcard action, no index unless named. */
  private allow(fn: ServiceFunction, table: dynamodb.Table, actions: string[]): void {
    fn.role.addToPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
  }

  private hookEnvironment(prefix: 'AUTH_CHECK' | 'SESSION_CHECK', hook: HookTarget): Record<string, string> {
    return hook.kind === 'http'
      ? { [`${prefix}_URL`]: hook.url, [`${prefix}_SECRET_ARN`]: this.hookSecret.secretArn }
      : { [`${prefix}_FUNCTION_NAME`]: hook.functionArn };
  }

  /**
   * DeleteItem on the grants table only for lockout items: `dynamodb:LeadingKeys` limits the
   * partition keys a request may name to `lockout#…`, so a compromised function cannot delete grants.
   */
  private allowLockoutDelete(fn: ServiceFunction): void {
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DeleteItem'],
        resources: [this.grantsTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LOCKOUT_KEY_PREFIX}*`] } },
      }),
    );
  }

  /** The secret for an HTTP hook, invoke on exactly that function for a Lambda hook. */
  private wireHook(fn: ServiceFunction, hook: HookTarget): void {
    if (hook.kind === 'http') {
      this.hookSecret.grantRead(fn.role);
      return;
    }
    fn.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [hook.functionArn] }),
    );
  }

  private createApi(props: OAuth2TokenServiceProps): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const api = new apigateway.RestApi(this, 'Api', {
      description: 'OAuth 2.0 token service',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // AWS::ApiGateway::Account is account-wide (one per region, Retain): optional, on by default
      // because a stage with execution logs cannot deploy in an account that has no such role.
      cloudWatchRole: props.cloudWatchRole,
      // With a custom domain the default execute-api hostname is switched off: one TLS policy to reason about.
      disableExecuteApiEndpoint: props.customDomain !== undefined,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Execution logs at ERROR only and never the data trace: request bodies hold passwords.
        dataTraceEnabled: false,
      },
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            effect: iam.Effect.ALLOW,
            principals: [new iam.AnyPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
          }),
          new iam.PolicyStatement({
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
            conditions: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      }),
    });
    if (props.customDomain !== undefined) {
      const domain = api.addDomainName('CustomDomain', {
        domainName: props.customDomain.domainName,
        certificate: acm.Certificate.fromCertificateArn(
          this,
          'Certificate',
          props.customDomain.certificateArn,
        ),
        securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
        endpointType: apigateway.EndpointType.REGIONAL,
      });
      this.output('CustomDomainTarget', {
        value: domain.domainNameAliasDomainName,
        description: `Point ${props.customDomain.domainName} (CNAME or alias) here`,
      });
    }
    this.addGatewayResponses(api);
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Requests are validated by the handlers, which must answer RFC 6749 JSON errors; API Gateway validators cannot.',
    });
    if (props.waf === undefined) {
      Validations.of(api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is opt-in (cdk.json "waf": { "perIpRateLimit": N }) or left to an account-wide web ACL; method throttles and per-username lockout are built in.',
      });
    }
    if (props.cloudWatchRole)
      Validations.of(api).acknowledge({
        id: API_GATEWAY_CLOUDWATCH_ROLE_FINDING,
        reason:
          'API Gateway’s account-level CloudWatch role needs AmazonAPIGatewayPushToCloudWatchLogs; no narrower managed or inline policy is offered.',
      });
    return api;
  }

  /** Errors API Gateway answers itself, in the same RFC shapes and no-store headers as the handlers. */
  private addGatewayResponses(api: apigateway.RestApi): void {
    const noStore = { 'Cache-Control': "'no-store'", Pragma: "'no-cache'" };
    const json = (error: string, description: string) => ({
      'application/json': JSON.stringify({ error, error_description: description }),
    });
    // UNAUTHORIZED (401 invalid_token) and ACCESS_DENIED (403 insufficient_scope, the authorizer's Deny).
    addBearerGatewayResponses(api, REALM);
    api.addGatewayResponse('AuthorizerFailure', {
      type: apigateway.ResponseType.AUTHORIZER_FAILURE,
      statusCode: '503',
      responseHeaders: { ...noStore, 'Retry-After': "'1'" },
      templates: json('temporarily_unavailable', 'The service is temporarily unavailable, retry later'),
    });
    api.addGatewayResponse('Default4xx', {
      type: apigateway.ResponseType.DEFAULT_4XX,
      responseHeaders: noStore,
    });
    api.addGatewayResponse('Default5xx', {
      type: apigateway.ResponseType.DEFAULT_5XX,
      responseHeaders: noStore,
    });
  }
}
