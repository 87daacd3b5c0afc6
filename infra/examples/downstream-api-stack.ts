import { Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { OAuth2Authorizer } from '../oauth2-authorizer';
import { API_GATEWAY_CLOUDWATCH_ROLE_FINDING } from '../oauth2-token-service';

export interface DownstreamApiStackProps extends StackProps {
  /** Defaults to the token service stack's export `<tokenServiceStackName>-AuthorizerArn`. */
  readonly authorizerArn?: string;
  readonly tokenServiceStackName?: string;
}

/**
 * `$context.authorizer.<key>` as a JSON string value: escaped, so a user id holding `"` cannot add
 * JSON fields. `escapeJavaScript` also turns `'` into `\'`, which JSON does not allow, hence the
 * `replaceAll` (API Gateway's documented workaround).
 */
export const authorizerValue = (key: string): string =>
  `"$util.escapeJavaScript($context.authorizer.${key}).replaceAll("\\\\'","'")"`;

/** A mock integration answering who the caller is (what a real backend would read). */
function callerEcho(): apigateway.MockIntegration {
  return new apigateway.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [
      {
        statusCode: '200',
        responseTemplates: {
          'application/json': `{"orders":[],"user_id":${authorizerValue('user_id')},"client_id":${authorizerValue('client_id')},"scope":${authorizerValue('scope')}}`,
        },
      },
    ],
  });
}

/**
 * An example API owned by another team: `/orders` and `/inventory` protected by the token service's
 * authorizer with scopes per route, answering (from a mock integration) who the caller is.
 */
export class DownstreamApiStack extends Stack {
  readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: DownstreamApiStackProps = {}) {
    super(scope, id, { description: 'Example downstream API using the OAuth 2.0 authorizer', ...props });
    const authorizerArn =
      props.authorizerArn ??
      Fn.importValue(`${props.tokenServiceStackName ?? 'OAuth2TokenService'}-AuthorizerArn`);
    const authorizer = OAuth2Authorizer.fromFunctionArn(this, 'OAuth2', authorizerArn);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new apigateway.RestApi(this, 'OrdersApi', {
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      },
    });
    // API Gateway's own 401/403 in RFC 6750 shapes (403 insufficient_scope for a route's Deny).
    OAuth2Authorizer.addGatewayResponses(this.api);

    const orders = this.api.root.addResource('orders');
    const order = orders.addResource('{id}');
    const inventory = this.api.root.addResource('inventory');
    // Scopes per route. Without a declaration a route takes user tokens only, with no scope.
    for (const [resource, httpMethod, requirements] of [
      [orders, 'GET', { scopes: ['orders:read'] }],
      [orders, 'POST', { scopes: ['orders:write'] }],
      [order, 'GET', { scopes: ['orders:read'] }],
      // A machine-to-machine route: client_credentials tokens welcome.
      [inventory, 'GET', { scopes: ['inventory:read'], allowClientTokens: true }],
    ] as const) {
      const method = resource.addMethod(httpMethod, callerEcho(), {
        authorizer,
        methodResponses: [{ statusCode: '200' }],
      });
      OAuth2Authorizer.protect(method, requirements);
    }
    for (const [id, reason] of [
      ['AwsSolutions-APIG2', 'Example API: a mock integration with no request body to validate.'],
      ['AwsSolutions-APIG3', 'Example API: WAF is the deployer’s choice.'],
      [
        'AwsSolutions-COG4',
        'Protected by the OAuth 2.0 token service’s Lambda authorizer, by design not Cognito.',
      ],
      [
        API_GATEWAY_CLOUDWATCH_ROLE_FINDING,
        'API Gateway’s account-level CloudWatch role needs AmazonAPIGatewayPushToCloudWatchLogs.',
      ],
    ] as const) {
      Validations.of(this).acknowledge({ id, reason });
    }
  }
}
