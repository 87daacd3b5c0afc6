import { Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface JwtHttpApiStackProps extends StackProps {
  /** Our issuer; default: the token service stack's export `<tokenServiceStackName>-IssuerUrl`. */
  readonly issuer?: string;
  readonly tokenServiceStackName?: string;
  /** What our JWTs carry as `aud` for this API: a client audience, or the service's accessTokenAudience. */
  readonly audience: string;
}

/**
 * An example HTTP API owned by another team that checks our JWT access tokens with API Gateway's
 * built-in JWT authorizer: no Lambda authorizer, no database read, no code of ours. API Gateway reads
 * `<issuer>/.well-known/openid-configuration`, fetches the `jwks_uri`, and checks signature, `iss`,
 * `aud`, `exp`/`nbf` and, per route, the `scope` claim. The backend sees the verified claims.
 */
export class JwtHttpApiStack extends Stack {
  readonly api: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: JwtHttpApiStackProps) {
    super(scope, id, {
      description: 'Example HTTP API checking OAuth 2.0 JWT access tokens natively',
      ...props,
    });
    const issuer =
      props.issuer ?? Fn.importValue(`${props.tokenServiceStackName ?? 'OAuth2TokenService'}-IssuerUrl`);
    const authorizer = new HttpJwtAuthorizer('OAuth2Jwt', issuer, { jwtAudience: [props.audience] });

    // The downstream team's own backend: it only reads the claims API Gateway verified.
    const backendLogs = new logs.LogGroup(this, 'OrdersLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const backend = new lambda.Function(this, 'Orders', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      logGroup: backendLogs,
      code: lambda.Code.fromInline(
        'exports.handler = async (event) => { const c = event.requestContext.authorizer.jwt.claims; ' +
          'return { statusCode: 200, headers: { "content-type": "application/json" }, ' +
          'body: JSON.stringify({ orders: [], sub: c.sub, client_id: c.client_id, scope: c.scope }) }; };',
      ),
    });
    const integration = new HttpLambdaIntegration('OrdersIntegration', backend);

    this.api = new apigwv2.HttpApi(this, 'OrdersHttpApi', { defaultAuthorizer: authorizer });
    this.api.addRoutes({
      path: '/orders',
      methods: [apigwv2.HttpMethod.GET],
      integration,
      authorizationScopes: ['orders:read'],
    });
    this.api.addRoutes({
      path: '/orders',
      methods: [apigwv2.HttpMethod.POST],
      integration,
      authorizationScopes: ['orders:write'],
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const stage = this.api.defaultStage?.node.defaultChild as apigwv2.CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        status: '$context.status',
        sub: '$context.authorizer.claims.sub',
      }),
    };
    for (const [id, reason] of [
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'Example backend: the Lambda basic execution role writes its own logs only.',
      ],
      ['AwsSolutions-L1', 'Example backend on Node.js 24, the latest runtime at the time of writing.'],
      ['AwsSolutions-APIG4', 'Every route is behind the built-in JWT authorizer (defaultAuthorizer).'],
    ] as const) {
      Validations.of(this).acknowledge({ id, reason });
    }
  }
}
