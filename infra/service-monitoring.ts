import { Duration, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** The handlers' metric namespace (lambdas/http/service-metrics.ts): infra names it, never imports it. */
export const METRICS_NAMESPACE = 'OAuth2TokenService';

/** Alarm thresholds; every one has a default (README: Operating the service). */
export interface MonitoringThresholds {
  /** % of token requests answered 503 in 5 minutes. */
  readonly tokenServerErrorRatePercent: number;
  /** % of AuthCheck calls that failed (timeout, unreachable, error status, bad answer, signature refused) in 5 minutes. */
  readonly authCheckFailureRatePercent: number;
  /** p99 of the AuthCheck call over 5 minutes, milliseconds. */
  readonly authCheckLatencyP99Ms: number;
  /** Authorizer checks that failed on a dependency in 5 minutes. */
  readonly authorizerUnavailable: number;
  /** Refresh-token replays in 5 minutes (1 = any). */
  readonly refreshReuse: number;
  /** Usernames locked out in 5 minutes (credential stuffing). */
  readonly lockoutsPer5Minutes: number;
  /** Errors of one function in 5 minutes. */
  readonly lambdaErrors: number;
  /** Throttled invocations of one function in 5 minutes. */
  readonly lambdaThrottles: number;
  /** Throttled requests on one table in 5 minutes. */
  readonly dynamoDbThrottledRequests: number;
  /** DynamoDB system errors (500s) on one table in 5 minutes. */
  readonly dynamoDbSystemErrors: number;
  /** API Gateway 5xx answers in 5 minutes. */
  readonly apiGateway5xx: number;
  /** API Gateway latency p99 over 5 minutes, milliseconds. */
  readonly apiGatewayLatencyP99Ms: number;
}

export const DEFAULT_MONITORING_THRESHOLDS: MonitoringThresholds = Object.freeze({
  tokenServerErrorRatePercent: 5,
  authCheckFailureRatePercent: 10,
  authCheckLatencyP99Ms: 2000,
  authorizerUnavailable: 5,
  refreshReuse: 1,
  lockoutsPer5Minutes: 20,
  lambdaErrors: 1,
  lambdaThrottles: 1,
  dynamoDbThrottledRequests: 1,
  dynamoDbSystemErrors: 1,
  apiGateway5xx: 5,
  apiGatewayLatencyP99Ms: 5000,
});

export interface ServiceMonitoringProps {
  /** The `service` dimension the handlers write (their `METRICS_SERVICE_NAME`). */
  readonly serviceName: string;
  /** Functions to watch, by a short PascalCase name used in alarm ids and the dashboard. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly tables: Readonly<Record<string, dynamodb.Table>>;
  readonly api: apigateway.RestApi;
  readonly thresholds: MonitoringThresholds;
  /** Alarms go here; without it the construct makes its own (encrypted, TLS-only) topic. */
  readonly alarmTopic?: sns.ITopic;
  /** Subscribes this address to the construct's own topic (it must confirm the subscription). */
  readonly alarmEmail?: string;
}

const PERIOD = Duration.minutes(5);
/** The operations the service uses (an alarm's math may hold 10 metrics, so not all 14). */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.SCAN,
];

/**
 * Alarms and a dashboard for the token service: its own metrics (EMF, namespace
 * `OAuth2TokenService`), each function's errors, throttles, duration, and the tables' and the API's
 * own. Every alarm notifies `topic` when it fires and when it clears.
 */
export class ServiceMonitoring extends Construct {
  readonly topic: sns.ITopic;
  /** Every alarm, by construct id; template tests pin each one. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    this.topic = props.alarmTopic ?? this.createTopic(props.alarmEmail);
    const t = props.thresholds;
    const service = (metricName: string, statistic = 'Sum', dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: props.serviceName, ...dimensions },
        statistic,
        period: PERIOD,
      });
    const rate = (label: string, numerator: string, denominator: string) =>
      new cloudwatch.MathExpression({
        expression: 'IF(total > 0, 100 * failed / total, 0)',
        usingMetrics: { failed: service(numerator), total: service(denominator) },
        label,
        period: PERIOD,
      });

    const alarms: Record<string, cloudwatch.Alarm> = {};
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No traffic is no problem: missing data never fires an alarm.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} (README: Operating the service, alarm ${alarmId})`,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      created.addOkAction(new actions.SnsAction(this.topic));
      alarms[alarmId] = created;
      return created;
    };

    alarm(
      'TokenServerErrorRate',
      rate('token 503 %', 'TokenServerErrors', 'TokenRequests'),
      t.tokenServerErrorRatePercent,
      'Token requests answered 503 temporarily_unavailable, % of all token requests',
    );
    alarm(
      'AuthCheckFailureRate',
      rate('AuthCheck failures %', 'AuthCheckFailures', 'AuthCheckCalls'),
      t.authCheckFailureRatePercent,
      'AuthCheck calls that failed (timeout, unreachable, error status, bad answer, signature refused), %',
    );
    alarm(
      'AuthCheckLatencyP99',
      service('AuthCheckLatency', 'p99'),
      t.authCheckLatencyP99Ms,
      'AuthCheck call latency p99, ms',
    );
    alarm(
      'AuthorizerUnavailable',
      service('AuthorizerUnavailable'),
      t.authorizerUnavailable,
      'Authorizer checks that failed on a dependency (callers got 503)',
    );
    alarm(
      'RefreshTokenReuse',
      service('RefreshReuseDetected'),
      t.refreshReuse,
      'A consumed refresh token came back: possible token theft; the grant was revoked',
    );
    alarm(
      'LockoutSpike',
      service('UsernameLockouts'),
      t.lockoutsPer5Minutes,
      'Usernames locked out by failed passwords: possible credential stuffing',
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        t.lambdaErrors,
        `${name} function errors (crashes, timeouts)`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
        t.lambdaThrottles,
        `${name} function throttled invocations (concurrency limit)`,
      );
    }
    for (const [name, table] of Object.entries(props.tables)) {
      alarm(
        `${name}TableThrottles`,
        table.metricThrottledRequestsForOperations({ operations: TABLE_OPERATIONS, period: PERIOD }),
        t.dynamoDbThrottledRequests,
        `${name} table throttled requests`,
      );
      alarm(
        `${name}TableSystemErrors`,
        table.metricSystemErrorsForOperations({ operations: TABLE_OPERATIONS, period: PERIOD }),
        t.dynamoDbSystemErrors,
        `${name} table DynamoDB system errors`,
      );
    }
    alarm(
      'ApiGateway5xx',
      props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      t.apiGateway5xx,
      'API Gateway 5xx answers (any route)',
    );
    alarm(
      'ApiGatewayLatencyP99',
      props.api.metricLatency({ period: PERIOD, statistic: 'p99' }),
      t.apiGatewayLatencyP99Ms,
      'API Gateway latency p99, ms',
    );
    this.alarms = alarms;
    this.dashboard = this.createDashboard(props, service, alarms);
  }

  private createTopic(email: string | undefined): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'OAuth 2.0 token service alarms',
      enforceSSL: true,
    });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and metric values, no user data; CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer-managed key needs a kms:* root policy. Pass an encrypted topic as alarmTopic to have one.',
    });
    if (email !== undefined) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  private createDashboard(
    props: ServiceMonitoringProps,
    service: (
      metricName: string,
      statistic?: string,
      dimensions?: Record<string, string>,
    ) => cloudwatch.Metric,
    alarms: Record<string, cloudwatch.Alarm>,
  ): cloudwatch.Dashboard {
    // SEARCH: one line per dimension value (grant type, error code, failure kind, function) as they appear.
    const search = (label: string, dimension: string, metricName: string, statistic = 'Sum') =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},service,${dimension}} service="${props.serviceName}" MetricName="${metricName}"', '${statistic}', 300)`,
        label,
        usingMetrics: {},
        period: PERIOD,
      });
    const functions = Object.entries(props.functions);
    const tables = Object.entries(props.tables);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(alarms),
        width: 24,
        height: 4,
      }),
    );
    dashboard.addWidgets(
      graph('Tokens issued by grant type', [search('issued', 'GrantType', 'TokensIssued')]),
      graph('Token requests refused by error', [search('refused', 'ErrorCode', 'TokenRequestsRefused')]),
      graph('Refresh reuse, lockouts, token 503s', [
        service('RefreshReuseDetected'),
        service('UsernameLockouts'),
        service('TokenServerErrors'),
      ]),
    );
    dashboard.addWidgets(
      graph('AuthCheck latency (ms)', [
        service('AuthCheckLatency', 'p50'),
        service('AuthCheckLatency', 'p99'),
      ]),
      graph('AuthCheck failures by kind', [search('failures', 'Kind', 'AuthCheckFailures')]),
      graph('Authorizer', [
        service('AuthorizerAllowed'),
        service('AuthorizerDenied'),
        service('AuthorizerUnavailable'),
      ]),
    );
    dashboard.addWidgets(
      graph('Revocations, introspections, admin actions', [
        search('revocations', 'Reason', 'Revocations'),
        search('introspections', 'Active', 'Introspections'),
        search('admin', 'Action', 'AdminActions'),
      ]),
      graph(
        'Lambda duration p99 (ms)',
        functions.map(([name, fn]) => fn.metricDuration({ period: PERIOD, statistic: 'p99', label: name })),
      ),
      graph('Cold starts by function', [search('cold starts', 'Function', 'ColdStarts')]),
    );
    dashboard.addWidgets(
      graph(
        'Lambda errors and throttles',
        functions.flatMap(([name, fn]) => [
          fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: `${name} errors` }),
          fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: `${name} throttles` }),
        ]),
      ),
      graph(
        'DynamoDB throttles and system errors',
        // SEARCH, not the per-operation math: two tables' expressions would share metric ids in one graph.
        tables.map(
          ([name, table]) =>
            new cloudwatch.MathExpression({
              expression: `SEARCH('{AWS/DynamoDB,TableName,Operation} TableName="${table.tableName}" (MetricName="ThrottledRequests" OR MetricName="SystemErrors")', 'Sum', 300)`,
              label: name,
              usingMetrics: {},
              period: PERIOD,
            }),
        ),
      ),
      graph('API Gateway 5xx and latency p99', [
        props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
        props.api.metricLatency({ period: PERIOD, statistic: 'p99' }),
      ]),
    );
    return dashboard;
  }
}
