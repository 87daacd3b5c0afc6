import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

/** Where the stack publishes what other stacks and repositories look up (names from the stage config). */
export interface ServiceParameterNames {
  /** SSM parameter holding the authorizer function's ARN (`OAuth2Authorizer.fromSsm`). */
  readonly authorizerFunctionArn: string;
  /** SSM parameter holding the issuer URL (RFC 8414), e.g. for resource servers that check it. */
  readonly issuer: string;
}

export interface ServiceParametersProps {
  readonly names: ServiceParameterNames;
  readonly authorizerFunctionArn: string;
  readonly issuer: string;
}

/**
 * The authorizer ARN and the issuer as SSM String parameters: unlike a CloudFormation export, a
 * parameter can be read by a stack in another repository, app or pipeline without binding the two
 * stacks together (an export cannot change while another stack imports it).
 */
export class ServiceParameters extends Construct {
  readonly authorizerFunctionArn: ssm.StringParameter;
  readonly issuer: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: ServiceParametersProps) {
    super(scope, id);
    this.authorizerFunctionArn = new ssm.StringParameter(this, 'AuthorizerFunctionArn', {
      parameterName: props.names.authorizerFunctionArn,
      stringValue: props.authorizerFunctionArn,
      description: 'OAuth 2.0 token service: the Lambda authorizer to attach (OAuth2Authorizer.fromSsm)',
    });
    this.issuer = new ssm.StringParameter(this, 'Issuer', {
      parameterName: props.names.issuer,
      stringValue: props.issuer,
      description: 'OAuth 2.0 token service: the issuer URL (RFC 8414)',
    });
  }
}
