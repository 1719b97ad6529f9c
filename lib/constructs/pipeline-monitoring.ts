import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EscalationTimers } from './escalation-timers.ts';
import type { EventRoutes } from './event-routes.ts';

const FIVE_MINUTES = Duration.minutes(5);
/** Short names: they end up in alarm names and dashboard labels. */
const NAME = /^[a-z][a-z0-9-]{0,39}$/;
const TOPIC_ARN = /^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w-]{1,256}$/;

/** Whether `arn` is a standard SNS topic's ARN (what an alarm action can notify). */
export function isTopicArn(arn: string): boolean {
  return TOPIC_ARN.test(arn);
}

export interface WatchedDeadLetterQueue {
  /** Short name (lowercase letters, digits, `-`): `<stack>-dlq-<name>` names the alarm. */
  readonly name: string;
  readonly queue: sqs.IQueue;
  /** What lands in the queue and what to do about it; the alarm's description. */
  readonly description: string;
}

export interface WatchedFunction {
  /** Short name (lowercase letters, digits, `-`) used in widget titles. */
  readonly name: string;
  readonly function: lambda.IFunction;
}

export interface PipelineMonitoringProps {
  /** The ingest API. */
  readonly httpApi: apigwv2.IHttpApi;
  /** Every function of the pipeline: errors, throttles and p90 duration, one widget each. */
  readonly functions: readonly WatchedFunction[];
  /** Every dead-letter queue: one alarm each, and their depth on the dashboard. */
  readonly deadLetterQueues: readonly WatchedDeadLetterQueue[];
  /** The EventBridge rules feeding process-alert (FailedInvocations per route). */
  readonly routes: EventRoutes;
  /** The escalation timers' schedule group (Scheduler attempts, target errors, drops). */
  readonly timers: EscalationTimers;
  /** The function the timers invoke: its async event age is the escalation lag inside Lambda. */
  readonly escalate: lambda.IFunction;
  /**
   * The contact check's `UnreachableContacts` (published every hour, 0 when all is well): alarmed
   * above 0, to the same action as the DLQ alarms.
   */
  readonly unreachableContacts: cloudwatch.IMetric;
  /**
   * An SNS topic every DLQ alarm (and the unreachable-contacts alarm) notifies when it goes into ALARM. It must accept publishes from
   * CloudWatch: unencrypted, or encrypted with a customer-managed key whose policy lets
   * `cloudwatch.amazonaws.com` use it (not the AWS-managed `alias/aws/sns`).
   * @default - no alarm action; the alarms still change state, and CloudWatch's state-change
   *   events reach Klaxon's own CloudWatch route when `config.cloudwatch` is set
   */
  readonly alarmTopicArn?: string;
  /**
   * @default `${stackName}-pipeline`
   */
  readonly dashboardName?: string;
}

/**
 * Operability of the pipeline: one alarm per dead-letter queue (a message in any of them is an
 * alert, a page or a timer that did not get through) and the `<stack>-pipeline` dashboard, from
 * ingest to pages.
 *
 * Each alarm fires when the queue's ApproximateNumberOfMessagesVisible (Maximum over 5 minutes)
 * is at least 1 in one period, and treats missing data as not breaching: SQS stops publishing
 * metrics for a queue that has been idle for hours, and an idle DLQ is the healthy case.
 */
export class PipelineMonitoring extends Construct {
  /** The alarm on each dead-letter queue, by its `name`. */
  readonly deadLetterAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** `<stack>-unreachable-contacts`: some contact can no longer be paged. */
  readonly unreachableContactsAlarm: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validate(props);
    const dashboardName = props.dashboardName ?? `${stack.stackName}-pipeline`;
    const topic =
      props.alarmTopicArn === undefined
        ? undefined
        : sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);

    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const dlq of props.deadLetterQueues) {
      const alarm = new cloudwatch.Alarm(this, `DeadLetterAlarm-${dlq.name}`, {
        alarmName: `${stack.stackName}-dlq-${dlq.name}`,
        alarmDescription: dlq.description,
        metric: depth(dlq.queue),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (topic !== undefined) alarm.addAlarmAction(new actions.SnsAction(topic));
      alarms[dlq.name] = alarm;
    }
    this.deadLetterAlarms = alarms;
    // Hourly data points: one period is one check. Missing data (a check that failed and is being
    // retried) keeps the state, so an alarm raised stays until a check finds nobody unreachable.
    this.unreachableContactsAlarm = new cloudwatch.Alarm(this, 'UnreachableContactsAlarm', {
      alarmName: `${stack.stackName}-unreachable-contacts`,
      alarmDescription:
        'The hourly contact check found contacts that can no longer be paged (unsubscribed, never ' +
        'confirmed, SMS opted out, or not verified in the SMS sandbox). The rollup function log ' +
        '("contact unreachable") and the "Contact Unreachable" events name each contact and the fix; ' +
        'README: When a contact stops getting pages.',
      metric: props.unreachableContacts,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    if (topic !== undefined) this.unreachableContactsAlarm.addAlarmAction(new actions.SnsAction(topic));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.hours(24),
      widgets: [
        ingestWidgets(props.httpApi),
        props.functions.map(functionWidget),
        [
          new cloudwatch.GraphWidget({
            title: 'Dead-letter queues: messages waiting',
            width: 12,
            left: props.deadLetterQueues.map((dlq) => depth(dlq.queue, dlq.name)),
            leftYAxis: { min: 0 },
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Dead-letter queue and contact alarms',
            width: 12,
            alarms: [...Object.values(alarms), this.unreachableContactsAlarm],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Escalation lag: escalate async event age (ms)',
            width: 8,
            left: [
              props.escalate.metric('AsyncEventAge', {
                statistic: 'p90',
                label: 'p90',
                period: FIVE_MINUTES,
              }),
              props.escalate.metric('AsyncEventAge', {
                statistic: cloudwatch.Stats.MAXIMUM,
                label: 'max',
                period: FIVE_MINUTES,
              }),
            ],
            leftYAxis: { min: 0 },
          }),
          new cloudwatch.GraphWidget({
            title: 'Escalation timers (EventBridge Scheduler)',
            width: 8,
            left: [
              props.timers.metric('InvocationAttemptCount', { label: 'attempts' }),
              props.timers.metric('TargetErrorCount', { label: 'target errors' }),
              props.timers.metric('InvocationDroppedCount', { label: 'dropped' }),
              props.timers.metric('InvocationsSentToDeadLetterCount', { label: 'sent to DLQ' }),
            ],
            leftYAxis: { min: 0 },
          }),
          new cloudwatch.GraphWidget({
            title: 'EventBridge rules: failed invocations',
            width: 8,
            left: Object.keys(props.routes.rules).map((routeId) =>
              props.routes.metricFailedInvocations(routeId, { label: routeId, period: FIVE_MINUTES }),
            ),
            leftYAxis: { min: 0 },
          }),
        ],
      ],
    });
  }
}

/** Messages waiting in a DLQ (Maximum over 5 minutes): the alarmed metric, and the dashboard's lines. */
function depth(queue: sqs.IQueue, label?: string): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({
    statistic: cloudwatch.Stats.MAXIMUM,
    period: FIVE_MINUTES,
    ...(label === undefined ? {} : { label }),
  });
}

function ingestWidgets(api: apigwv2.IHttpApi): cloudwatch.IWidget[] {
  const requests = api.metricCount({ statistic: cloudwatch.Stats.SUM, label: 'requests' });
  const clientErrors = api.metricClientError({ statistic: cloudwatch.Stats.SUM, label: '4xx' });
  const serverErrors = api.metricServerError({ statistic: cloudwatch.Stats.SUM, label: '5xx' });
  return [
    new cloudwatch.GraphWidget({
      title: 'Ingest (HTTP API): requests, 4xx, 5xx',
      width: 16,
      left: [requests],
      right: [clientErrors, serverErrors],
      leftYAxis: { min: 0 },
      rightYAxis: { min: 0 },
    }),
    new cloudwatch.SingleValueWidget({
      title: 'Ingest over the time range',
      width: 8,
      metrics: [requests, clientErrors, serverErrors],
      setPeriodToTimeRange: true,
    }),
  ];
}

function functionWidget({ name, function: fn }: WatchedFunction): cloudwatch.IWidget {
  return new cloudwatch.GraphWidget({
    title: `${name}: errors, throttles, p90 duration`,
    width: 6,
    left: [
      fn.metricErrors({ statistic: cloudwatch.Stats.SUM, label: 'errors' }),
      fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, label: 'throttles' }),
    ],
    right: [fn.metricDuration({ statistic: 'p90', label: 'p90 duration (ms)' })],
    leftYAxis: { min: 0 },
    rightYAxis: { min: 0 },
  });
}

function validate(props: PipelineMonitoringProps): void {
  for (const [kind, items] of [
    ['deadLetterQueues', props.deadLetterQueues],
    ['functions', props.functions],
  ] as const) {
    const names = new Set<string>();
    for (const { name } of items) {
      if (!NAME.test(name)) {
        throw new Error(
          `PipelineMonitoring: ${kind} name "${name}" must be 1-40 of [a-z0-9-], starting with a letter`,
        );
      }
      if (names.has(name)) throw new Error(`PipelineMonitoring: duplicate ${kind} name "${name}"`);
      names.add(name);
    }
  }
  const arn = props.alarmTopicArn;
  if (arn !== undefined && !Token.isUnresolved(arn) && !isTopicArn(arn)) {
    throw new Error(`PipelineMonitoring: alarmTopicArn "${arn}" is not an SNS topic ARN`);
  }
  const name = props.dashboardName;
  if (name !== undefined && !Token.isUnresolved(name) && !/^[\w-]{1,255}$/.test(name)) {
    throw new Error(`PipelineMonitoring: dashboardName "${name}" must be 1-255 of [A-Za-z0-9_-]`);
  }
}
