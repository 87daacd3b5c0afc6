import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface AdminAccessProps {
  readonly adminFunction: lambda.IFunction;
  /** IAM role or user ARNs that may invoke the admin function. */
  readonly invokerArns: readonly string[];
}

/**
 * Who may invoke the admin function. Two parts, because a Lambda resource-based policy can only
 * allow, never deny:
 * - a resource-based permission for each named principal: for principals of other accounts this is
 *   the whole list, since without it they cannot invoke at all;
 * - for the function's own account, where any identity policy allowing `lambda:InvokeFunction`
 *   (`AdministratorAccess`, `lambda:*` on `*`) still works, a deny-everyone-else policy
 *   (`aws:PrincipalArn` not one of the named ARNs), published as the output `AdminInvokeGuardPolicy`
 *   to attach as an AWS Organizations service control policy (or a permissions boundary). Only an
 *   explicit Deny evaluated for every caller actually restricts invocation.
 */
export class AdminAccess extends Construct {
  readonly guardPolicy: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: AdminAccessProps) {
    super(scope, id);
    props.invokerArns.forEach((arn, index) => {
      props.adminFunction.addPermission(`Invoker${index}`, {
        principal: new iam.ArnPrincipal(arn),
        action: 'lambda:InvokeFunction',
      });
    });
    const functionArn = props.adminFunction.functionArn;
    this.guardPolicy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'OnlyNamedPrincipalsInvokeTheOAuth2Admin',
          effect: iam.Effect.DENY,
          actions: ['lambda:InvokeFunction'],
          // Qualified ARNs (`:$LATEST`, versions, aliases) too.
          resources: [functionArn, `${functionArn}:*`],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...props.invokerArns] } },
        }),
      ],
    });
    new CfnOutput(this, 'AdminInvokeGuardPolicy', {
      description:
        'Attach as an SCP (or permissions boundary): denies invoking the admin function to every principal not named in adminInvokerArns',
      value: Stack.of(this).toJsonString(this.guardPolicy.toJSON()),
    });
  }
}
