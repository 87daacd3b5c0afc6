import { CustomResource, Duration, SecretValue, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PUBLIC_KEYS_ITEM_KEY } from '../lambdas/store/table-definitions.js';
import { ServiceFunction } from './service-function.js';

export interface SigningKeysProps {
  readonly clientsTable: dynamodb.ITable;
  readonly grantsTable: dynamodb.ITable;
  readonly rotationDays: number;
  readonly publishAheadSeconds: number;
  readonly logLevel: string;
}

/**
 * Custody and rotation of the JWT signing keys. The private key set lives only in a Secrets Manager
 * secret (KMS-encrypted), created empty (`{"keys":[]}`): no key is ever in the template, an
 * environment variable or an output. The rotation function makes the first key at deploy time (a
 * custom resource served by the rotation function itself, no provider framework; the token function
 * depends on it, so no token request can come before the first key) and checks daily
 * whether a rotation is due. The public half is published to one item of the grants table, which the
 * verifiers read; they never get the secret.
 */
export class SigningKeys extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly rotationFunction: ServiceFunction;
  /** The deploy-time run: make a construct depend on it to exist only once the first key does. */
  readonly firstKey: CustomResource;
  /** Environment for a function that rotates keys (the admin function's rotate-signing-key). */
  readonly rotationEnvironment: Record<string, string>;

  constructor(scope: Construct, id: string, props: SigningKeysProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'PrivateKeys', {
      description: 'JWT access-token signing keys (private; rotated by the service, never output)',
      // An empty key set, not a key: the first key is generated inside the rotation function.
      secretStringValue: SecretValue.unsafePlainText('{"keys":[]}'),
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by the service itself (daily check, signingKeyRotationDays; rotate-signing-key): a key must be published before it signs, which Secrets Manager rotation cannot sequence.',
    });
    this.rotationEnvironment = {
      SIGNING_KEYS_SECRET_ARN: this.secret.secretArn,
      SIGNING_KEY_ROTATION_DAYS: String(props.rotationDays),
      SIGNING_KEY_PUBLISH_AHEAD_SECONDS: String(props.publishAheadSeconds),
    };

    this.rotationFunction = new ServiceFunction(this, 'Rotation', {
      entry: 'signingKeyRotation',
      description: 'JWT signing keys: first key at deploy, daily rotation check',
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: {
        CLIENTS_TABLE: props.clientsTable.tableName,
        GRANTS_TABLE: props.grantsTable.tableName,
        LOG_LEVEL: props.logLevel,
        ...this.rotationEnvironment,
      },
    });
    this.grantRotate(this.rotationFunction, props.grantsTable);

    new events.Rule(this, 'DailyRotationCheck', {
      description: 'Rotates the JWT signing key when it is signingKeyRotationDays old',
      schedule: events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(this.rotationFunction.function, { retryAttempts: 2 })],
    });

    this.firstKey = new CustomResource(this, 'FirstKey', {
      serviceToken: this.rotationFunction.function.functionArn,
      resourceType: 'Custom::SigningKeys',
      // A new value on every change of the settings re-runs the check (harmless: it rotates only when due).
      properties: { rotationDays: props.rotationDays, publishAheadSeconds: props.publishAheadSeconds },
    });
    this.firstKey.node.addDependency(this.secret, props.grantsTable);
    // The function answers CloudFormation's pre-signed URL; its role must exist with its rights first.
    this.firstKey.node.addDependency(this.rotationFunction.role);
  }

  /** Read the private keys (GetSecretValue only): the token function, which signs. */
  grantSign(fn: ServiceFunction): void {
    this.secret.grantRead(fn.role);
  }

  /** Read and write the private keys, and publish the public ones. */
  grantRotate(fn: ServiceFunction, grantsTable: dynamodb.ITable): void {
    this.secret.grantRead(fn.role);
    this.secret.grantWrite(fn.role);
    fn.role.addToPolicy(publicKeyItemStatement(grantsTable, ['dynamodb:PutItem']));
  }

  /** Read the public key item only (the JWKS function): no secret, no grant. */
  static grantReadPublicKeys(fn: ServiceFunction, grantsTable: dynamodb.ITable): void {
    fn.role.addToPolicy(publicKeyItemStatement(grantsTable, ['dynamodb:GetItem']));
  }
}

/** Exactly the public key item of the grants table (`dynamodb:LeadingKeys`). */
const publicKeyItemStatement = (table: dynamodb.ITable, actions: string[]) =>
  new iam.PolicyStatement({
    actions,
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PUBLIC_KEYS_ITEM_KEY] } },
  });
