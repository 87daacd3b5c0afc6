import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { OAuth2TokenService } from '../../infra/oauth2-token-service';
import { DEFAULT_MONITORING_THRESHOLDS, METRICS_NAMESPACE } from '../../infra/service-monitoring';
import { parseStageConfig } from '../../infra/stage-config';
import {
  CDK_JSON_CONTEXT,
  SYNTH_TIMEOUT_MS,
  synthTokenServiceStack,
  type TokenServiceSynth,
} from './synth-stack';
import { logicalIdOf, resourcesOf } from './template-queries';

const withCdkJson = (overrides: Record<string, unknown>) =>
  JSON.stringify({ ...(CDK_JSON_CONTEXT.oauth2 as Record<string, unknown>), ...overrides });

type Resource = { Properties: Record<string, unknown> };
const alarmsOf = (template: Template): Record<string, Resource> =>
  resourcesOf(template, 'AWS::CloudWatch::Alarm') as unknown as Record<string, Resource>;

/** Alarm id (construct id) → its properties, read back through the construct's `alarms` map. */
function alarmsById(synth: TokenServiceSynth): Record<string, Record<string, unknown>> {
  const monitoring = synth.stack.service.monitoring;
  if (monitoring === undefined) throw new Error('no monitoring');
  const byLogicalId = alarmsOf(synth.template);
  return Object.fromEntries(
    Object.entries(monitoring.alarms).map(([id, alarm]) => [
      id,
      (byLogicalId[logicalIdOf(alarm)] as Resource).Properties,
    ]),
  );
}

const FUNCTIONS = ['Token', 'Revocation', 'Introspection', 'Metadata', 'Authorizer', 'Admin'];
const TABLES = ['Clients', 'Grants'];

describe('monitoring (default on)', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synth: TokenServiceSynth;
  beforeAll(() => {
    synth = synthTokenServiceStack({
      oauth2: withCdkJson({ monitoring: { alarmEmail: 'ops@example.com' }, hookSecretRotationDays: 30 }),
      bundle: false,
    });
  }, SYNTH_TIMEOUT_MS);

  it('stays clean under cdk-nag', () => {
    expect(synth.nag.violations).toEqual([]);
  });

  it('pins every alarm: metric, statistic, threshold (the documented default), comparison', () => {
    const alarms = alarmsById(synth);
    const t = DEFAULT_MONITORING_THRESHOLDS;
    const expected: Record<string, number> = {
      TokenServerErrorRate: t.tokenServerErrorRatePercent,
      AuthCheckFailureRate: t.authCheckFailureRatePercent,
      AuthCheckLatencyP99: t.authCheckLatencyP99Ms,
      AuthorizerUnavailable: t.authorizerUnavailable,
      RefreshTokenReuse: t.refreshReuse,
      LockoutSpike: t.lockoutsPer5Minutes,
      ...Object.fromEntries(
        FUNCTIONS.flatMap((fn) => [
          [`${fn}Errors`, t.lambdaErrors],
          [`${fn}Throttles`, t.lambdaThrottles],
        ]),
      ),
      ...Object.fromEntries(
        TABLES.flatMap((table) => [
          [`${table}TableThrottles`, t.dynamoDbThrottledRequests],
          [`${table}TableSystemErrors`, t.dynamoDbSystemErrors],
        ]),
      ),
      ApiGateway5xx: t.apiGateway5xx,
      ApiGatewayLatencyP99: t.apiGatewayLatencyP99Ms,
    };
    expect(Object.keys(alarms).sort()).toEqual(Object.keys(expected).sort());
    expect(Object.keys(alarmsOf(synth.template))).toHaveLength(Object.keys(expected).length);
    const topic = { Ref: logicalIdOf(synth.stack.service.monitoring?.topic as sns.Topic) };
    for (const [id, threshold] of Object.entries(expected)) {
      expect({ id, ...alarms[id] }).toMatchObject({
        id,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        OKActions: [topic],
      });
    }
    const serviceDimension = [{ Name: 'service', Value: 'OAuth2TokenService' }];
    expect(alarms.AuthCheckLatencyP99).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: 'AuthCheckLatency',
      ExtendedStatistic: 'p99',
      Period: 300,
      Dimensions: serviceDimension,
    });
    for (const [id, metricName] of [
      ['AuthorizerUnavailable', 'AuthorizerUnavailable'],
      ['RefreshTokenReuse', 'RefreshReuseDetected'],
      ['LockoutSpike', 'UsernameLockouts'],
    ] as const) {
      expect(alarms[id]).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: metricName,
        Statistic: 'Sum',
        Period: 300,
        Dimensions: serviceDimension,
      });
    }
    for (const [id, numerator, denominator] of [
      ['TokenServerErrorRate', 'TokenServerErrors', 'TokenRequests'],
      ['AuthCheckFailureRate', 'AuthCheckFailures', 'AuthCheckCalls'],
    ] as const) {
      const metrics = alarms[id]?.Metrics as Array<Record<string, unknown>>;
      expect(metrics.find((m) => m.Expression !== undefined)).toMatchObject({
        Expression: 'IF(total > 0, 100 * failed / total, 0)',
      });
      const named = (metricId: string) =>
        (metrics.find((m) => m.Id === metricId)?.MetricStat as Record<string, unknown>)?.Metric;
      expect(named('failed')).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: numerator,
        Dimensions: serviceDimension,
      });
      expect(named('total')).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: denominator,
        Dimensions: serviceDimension,
      });
    }
    for (const fn of FUNCTIONS) {
      expect(alarms[`${fn}Errors`]).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
      });
      expect(alarms[`${fn}Throttles`]).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Statistic: 'Sum',
      });
    }
    for (const table of TABLES) {
      const throttles = JSON.stringify(alarms[`${table}TableThrottles`]?.Metrics);
      expect(throttles).toContain('ThrottledRequests');
      expect(JSON.stringify(alarms[`${table}TableSystemErrors`]?.Metrics)).toContain('SystemErrors');
    }
    expect(alarms.ApiGateway5xx).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
    });
    expect(alarms.ApiGatewayLatencyP99).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
    });
  });

  it('alarms go to a TLS-only topic with the e-mail subscription from cdk.json', () => {
    synth.template.resourceCountIs('AWS::SNS::Topic', 1);
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [{ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
      },
    });
  });

  it('a dashboard shows the service metrics, Lambda duration and cold starts', () => {
    const dashboards = Object.values(resourcesOf(synth.template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const name of [
      'TokensIssued',
      'TokenRequestsRefused',
      'RefreshReuseDetected',
      'UsernameLockouts',
      'AuthCheckLatency',
      'AuthCheckFailures',
      'AuthorizerAllowed',
      'AuthorizerDenied',
      'AuthorizerUnavailable',
      'Revocations',
      'Introspections',
      'AdminActions',
      'ColdStarts',
      'Duration',
      'ThrottledRequests',
      '5XXError',
    ]) {
      expect(body).toContain(name);
    }
  });

  it('the functions write the metrics under this stack name, and the hook secret rotates every 30 days', () => {
    const token = resourcesOf(synth.template, 'AWS::Lambda::Function')[
      logicalIdOf(synth.stack.service.tokenFunction.function)
    ];
    expect(token?.Properties.Environment).toMatchObject({
      Variables: { METRICS_SERVICE_NAME: 'OAuth2TokenService', METRICS_BY_CLIENT: 'false' },
    });
    // Only Secrets Manager may invoke the rotation function.
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      FunctionName: {
        'Fn::GetAtt': [logicalIdOf(synth.stack.service.hookSecretRotationFunction.function), 'Arn'],
      },
    });
    synth.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: {
        'Fn::GetAtt': [logicalIdOf(synth.stack.service.hookSecretRotationFunction.function), 'Arn'],
      },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });
});

describe('monitoring: false, and a topic passed in', { timeout: SYNTH_TIMEOUT_MS }, () => {
  it('monitoring false: no alarm, topic or dashboard; rotation by hand only (no schedule)', () => {
    const synth = synthTokenServiceStack({ oauth2: withCdkJson({ monitoring: false }), bundle: false });
    expect(synth.stack.service.monitoring).toBeUndefined();
    for (const type of ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard', 'AWS::SNS::Topic']) {
      synth.template.resourceCountIs(type, 0);
    }
    const schedules = Object.values(resourcesOf(synth.template, 'AWS::SecretsManager::RotationSchedule'));
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.Properties.RotationRules).toBeUndefined();
    expect(synth.nag.violations).toEqual([]);
  });

  it('alarms go to the topic passed in, and the construct makes none of its own', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Embedding');
    const topic = new sns.Topic(stack, 'OpsTopic', { enforceSSL: true });
    Validations.of(topic).acknowledge({ id: 'AwsSolutions-SNS2', reason: 'test topic' });
    const service = new OAuth2TokenService(stack, 'TokenService', {
      ...parseStageConfig(CDK_JSON_CONTEXT.oauth2),
      alarmTopic: topic,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(service.monitoring?.topic).toBe(topic);
    for (const alarm of Object.values(alarmsOf(template))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalIdOf(topic) }]);
    }
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });
});
