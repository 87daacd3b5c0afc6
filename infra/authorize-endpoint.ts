import { type Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ServiceFunction } from './service-function.js';

/** Items the authorize function may touch in the grants table: codes and lockouts, never a grant. */
export const AUTHORIZE_LEADING_KEYS = ['code#*', 'lockout#*'] as const;

export interface AuthorizeEndpointProps {
  /** The API's `/oauth2` resource: `GET` and `POST /oauth2/authorize` are added under it. */
  readonly oauth2Resource: apigateway.IResource;
  readonly clientsTable: dynamodb.ITable;
  readonly grantsTable: dynamodb.ITable;
  /** Tables, TLS, log level, lockout, hooks, issuer: everything but the form secret. */
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
}

/**
 * `GET` / `POST /oauth2/authorize`: the authorize function with its own role and its own
 * anti-forgery secret. The role reads clients, and in the grants table only code and lockout
 * items (a `dynamodb:LeadingKeys` condition): the sign-in page can issue codes, never tokens.
 * The caller wires the AuthCheck / session-check hooks on `fn.role`.
 */
export class AuthorizeEndpoint extends Construct {
  readonly fn: ServiceFunction;
  readonly formSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: AuthorizeEndpointProps) {
    super(scope, id);
    this.formSecret = new secretsmanager.Secret(this, 'FormSecret', {
      description: 'HMAC key binding the hosted sign-in form to the browser and request it was served for',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.formSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the sign-in form key only invalidates the forms open at that moment (users start again); rotate it by hand with put-secret-value when needed.',
    });

    this.fn = new ServiceFunction(this, 'Function', {
      entry: 'authorize',
      description: 'OAuth 2.0 authorize endpoint and hosted sign-in page (GET/POST /oauth2/authorize)',
      memorySize: 512,
      timeout: props.timeout,
      environment: { ...props.environment, AUTHORIZE_FORM_SECRET_ARN: this.formSecret.secretArn },
    });
    this.formSecret.grantRead(this.fn.role);
    this.fn.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.clientsTable.tableArn] }),
    );
    // Code items (PutItem), lockout items (conditional Get/Update/PutItem; never deleted): by key prefix only.
    this.fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.grantsTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...AUTHORIZE_LEADING_KEYS] } },
      }),
    );

    const resource = props.oauth2Resource.addResource('authorize');
    const integration = new apigateway.LambdaIntegration(this.fn.function);
    for (const httpMethod of ['GET', 'POST']) {
      const method = resource.addMethod(httpMethod, integration);
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'The authorize endpoint is where users sign in (RFC 6749 section 3.1); it authenticates them itself, an API Gateway authorizer cannot.',
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'The token service is the identity provider; it signs users in itself, not with Cognito.',
      });
    }
  }
}
