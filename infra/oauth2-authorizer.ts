import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { OAuth2TokenService } from './oauth2-token-service.js';

export interface OAuth2AuthorizerOptions {
  /**
   * API Gateway's result cache. The authorizer allows the whole API per token, so one cached
   * decision is safe across routes; a revoked token may still pass for up to this long. Default 300 s.
   */
  readonly resultsCacheTtl?: Duration;
}

/**
 * Attaches the token service's authorizer to REST APIs outside its stack (the original's
 * "include the authentication policy in my app"). The returned `RequestAuthorizer` grants API
 * Gateway invoke permission on the function and reads `Authorization` as identity source.
 */
export const OAuth2Authorizer = {
  /** By ARN, e.g. `Fn.importValue('OAuth2TokenService-AuthorizerArn')` (same account). */
  fromFunctionArn(
    scope: Construct,
    id: string,
    functionArn: string,
    options: OAuth2AuthorizerOptions = {},
  ): apigateway.RequestAuthorizer {
    // sameEnvironment: lets CDK add the invoke permission for this API to the imported function.
    const handler = lambda.Function.fromFunctionAttributes(scope, `${id}Function`, {
      functionArn,
      sameEnvironment: true,
    });
    return new apigateway.RequestAuthorizer(scope, id, {
      handler,
      identitySources: [apigateway.IdentitySource.header('Authorization')],
      resultsCacheTtl: options.resultsCacheTtl ?? Duration.minutes(5),
    });
  },

  /**
   * By the SSM parameter the token service stack publishes (`ssmParameters.authorizerFunctionArn`,
   * default `/OAuth2TokenService/authorizer-function-arn`): for an API in another repository or
   * app, in the same account and region. CloudFormation reads the parameter at deploy time.
   */
  fromSsm(
    scope: Construct,
    id: string,
    options: OAuth2AuthorizerOptions & { readonly parameterName: string },
  ): apigateway.RequestAuthorizer {
    const { parameterName, ...rest } = options;
    return OAuth2Authorizer.fromFunctionArn(
      scope,
      id,
      ssm.StringParameter.valueForStringParameter(scope, parameterName),
      rest,
    );
  },

  /** The issuer URL the token service stack publishes (`ssmParameters.issuer`), resolved at deploy time. */
  issuerFromSsm(scope: Construct, parameterName: string): string {
    return ssm.StringParameter.valueForStringParameter(scope, parameterName);
  },

  /** From a service in the same CDK app. */
  fromTokenService(
    scope: Construct,
    id: string,
    service: OAuth2TokenService,
    options: OAuth2AuthorizerOptions = {},
  ): apigateway.RequestAuthorizer {
    return new apigateway.RequestAuthorizer(scope, id, {
      handler: service.authorizerFunction.function,
      identitySources: [apigateway.IdentitySource.header('Authorization')],
      resultsCacheTtl: options.resultsCacheTtl ?? Duration.minutes(5),
    });
  },
};
