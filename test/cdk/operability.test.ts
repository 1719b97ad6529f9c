import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config';
import { KlaxonStack } from '../../lib/klaxon-stack.ts';

/**
 * What an operator relies on: stateful resources survive a stack deletion, data is encrypted at
 * rest, every dead-letter queue is alarmed, and the pipeline dashboard shows every function and
 * queue. One stack, built once, from a config with responders and an alarm topic. Bundling is
 * skipped: stack.test.ts covers it.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CDK_CONTEXT = {
  ...JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context,
  'aws:cdk:bundling-stacks': [],
};
const base = JSON.parse(readFileSync(path.join(ROOT, 'klaxon.config.json'), 'utf8'));
const config = parseConfig({
  ...base,
  responders: [
    {
      id: 'alice',
      name: 'Alice',
      contacts: [
        { type: 'email', address: 'alice@example.com' },
        { type: 'sms', number: '+4915112345678' },
      ],
    },
    { id: 'bob', name: 'Bob', contacts: [{ type: 'webhook', url: 'https://hooks.example.com/klaxon' }] },
    { id: 'carol', name: 'Carol', contacts: [{ type: 'email', address: 'carol@example.com' }] },
  ],
});
const ALARM_TOPIC = 'arn:aws:sns:eu-central-1:123456789012:klaxon-ops';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

let stack: KlaxonStack;
let template: Template;
let resources: Record<string, Resource>;

const ref = (value: string): unknown => stack.resolve(value);
const logicalIdOf = (construct: IConstruct): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const resourceOf = (construct: IConstruct): Resource => resources[logicalIdOf(construct)] as Resource;
const ofType = (type: string): [string, Resource][] =>
  Object.entries(resources).filter(([, r]) => r.Type === type);
const newStack = (props: { alarmTopicArn?: string } = {}): KlaxonStack =>
  new KlaxonStack(new App({ context: CDK_CONTEXT }), 'Klaxon', {
    stackName: config.name,
    config,
    ...props,
  });

/** The functions, by the name the dashboard gives them; resolved lazily (it.each runs first). */
const FUNCTIONS = [
  ['http', () => stack.http],
  ['process-alert', () => stack.processAlert],
  ['escalate', () => stack.escalate],
  ['rollup', () => stack.rollup],
] as const;

/** The properties through which a resource names its dead-letter queue. */
interface DeadLetterWiring {
  DeadLetterConfig?: { TargetArn?: unknown };
  Environment?: { Variables?: Record<string, unknown> };
  Targets?: { DeadLetterConfig?: { Arn?: unknown } }[];
  RedrivePolicy?: { deadLetterTargetArn?: unknown };
  Target?: { DeadLetterConfig?: { Arn?: unknown } };
}

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: unknown[] };
}

/**
 * The logical ids of every queue the template wires up as a dead-letter queue: Lambda's
 * DeadLetterConfig, rule targets' DeadLetterConfig, subscriptions' RedrivePolicy, schedules'
 * DeadLetterConfig, and the queue the functions give the timers they create (SCHEDULER_DLQ_ARN).
 */
const deadLetterQueueIds = (): Set<string> => {
  const arns: unknown[] = [];
  for (const [, r] of Object.entries(resources)) {
    const p = r.Properties as DeadLetterWiring;
    if (r.Type === 'AWS::Lambda::Function') {
      arns.push(p.DeadLetterConfig?.TargetArn, p.Environment?.Variables?.SCHEDULER_DLQ_ARN);
    }
    if (r.Type === 'AWS::Events::Rule') {
      for (const target of p.Targets ?? []) arns.push(target.DeadLetterConfig?.Arn);
    }
    if (r.Type === 'AWS::SNS::Subscription') arns.push(p.RedrivePolicy?.deadLetterTargetArn);
    if (r.Type === 'AWS::Scheduler::Schedule') arns.push(p.Target?.DeadLetterConfig?.Arn);
  }
  const ids = new Set<string>();
  for (const arn of arns) {
    const getAtt = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (getAtt?.[1] === 'Arn' && resources[getAtt[0]]?.Type === 'AWS::SQS::Queue') ids.add(getAtt[0]);
  }
  return ids;
};

/**
 * The dashboard's widgets: the body with each CloudFormation reference put back as its JSON
 * (`{"Ref":"…"}`), so metrics can be compared with `JSON.stringify(ref(...))`.
 */
const dashboardWidgets = (): Widget[] => {
  const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] as [string, Resource];
  const [, parts] = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const tokens: unknown[] = [];
  const body = parts
    .map((part) => (typeof part === 'string' ? part : `@@${tokens.push(part) - 1}@@`))
    .join('');
  const restored = JSON.parse(body, (_key, value) =>
    typeof value === 'string'
      ? value.replace(/@@(\d+)@@/g, (_m, i: string) => JSON.stringify(tokens[Number(i)]))
      : value,
  );
  return restored.widgets;
};
/** Every metric line of the dashboard as [namespace, name, dimension values...], options dropped. */
const dashboardMetrics = (): string[][] =>
  dashboardWidgets().flatMap((w) =>
    (w.properties.metrics ?? []).map((line) => line.filter((x): x is string => typeof x === 'string')),
  );
const json = (value: string): string => JSON.stringify(ref(value));

beforeAll(() => {
  stack = newStack({ alarmTopicArn: ALARM_TOPIC });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

describe('stateful resources', () => {
  it.each([
    ['the incident table', () => stack.store.table],
    ['the exports bucket', () => stack.exports.bucket],
    ['the access-logs bucket', () => stack.exports.accessLogsBucket],
    ['the signing secret', () => stack.ackSecret.secret],
  ])('%s is retained when it leaves the stack or is replaced', (_label, construct) => {
    expect(resourceOf(construct())).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('the table has point-in-time recovery', () => {
    expect(resourceOf(stack.store.table).Properties).toMatchObject({
      Replicas: [{ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }],
    });
  });
});

describe('encryption at rest', () => {
  it('the table: SSE with KMS', () => {
    expect(resourceOf(stack.store.table).Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
    });
  });

  it('every queue: SQS-managed SSE or a KMS key', () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThan(0);
    for (const [id, queue] of queues) {
      const p = queue.Properties;
      expect(p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined, id).toBe(true);
    }
  });

  it('the pages topic: a KMS key', () => {
    expect(resourceOf(stack.paging.topic).Properties.KmsMasterKeyId).toBeDefined();
  });

  it('every bucket: server-side encryption', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(2);
    for (const [, bucket] of buckets) {
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms)/) } },
        ],
      });
    }
  });

  it('the signing secret: generated by Secrets Manager (KMS-encrypted), never in the template', () => {
    const { Properties } = resourceOf(stack.ackSecret.secret);
    expect(Properties.GenerateSecretString).toBeDefined();
    expect(Properties.SecretString).toBeUndefined();
  });
});

describe('function roles', () => {
  it.each(FUNCTIONS)('%s: no AWS managed policy; logs go to its own log group only', (_name, fn) => {
    const role = resourceOf(fn().role).Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toEqual([
      {
        PolicyName: 'Logs',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: ref(fn().logGroup.logGroupArn),
            },
          ],
        },
      },
    ]);
    expect(resourceOf(fn().function).Properties.Role).toEqual(ref(fn().role.roleArn));
  });
});

describe('dead-letter queue alarms', () => {
  const alarms = () =>
    ofType('AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .filter((a) => a.Namespace === 'AWS/SQS');
  const queueNameOf = (alarm: Record<string, unknown>): unknown =>
    (alarm.Dimensions as { Name: string; Value: unknown }[] | undefined)?.find((d) => d.Name === 'QueueName')
      ?.Value;

  it('every queue in the stack is a dead-letter queue', () => {
    expect([...deadLetterQueueIds()].sort()).toEqual(
      ofType('AWS::SQS::Queue')
        .map(([id]) => id)
        .sort(),
    );
    expect(deadLetterQueueIds().size).toBe(7);
  });

  it('each is retained (unreplayed letters outlive the stack) and named in an output for `klaxon dlq replay`', () => {
    const outputs = Object.entries(template.findOutputs('*'))
      .filter(([id]) => id.startsWith('DeadLetterQueueUrl'))
      .map(([, o]) => o.Value);
    for (const id of deadLetterQueueIds()) {
      expect(template.toJSON().Resources[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      expect(outputs, id).toContainEqual({ Ref: id });
    }
    expect(outputs).toHaveLength(deadLetterQueueIds().size);
    template.hasOutput('DeadLetterQueueUrlRuleDelivery', {});
    template.hasOutput('ProcessAlertFunctionName', { Value: ref(stack.processAlert.function.functionName) });
    template.hasOutput('EscalateFunctionName', { Value: ref(stack.escalate.function.functionName) });
  });

  it('each dead-letter queue has exactly one alarm on its depth', () => {
    for (const id of deadLetterQueueIds()) {
      const mine = alarms().filter(
        (a) => JSON.stringify(queueNameOf(a)) === JSON.stringify({ 'Fn::GetAtt': [id, 'QueueName'] }),
      );
      expect(mine, id).toHaveLength(1);
    }
    expect(alarms()).toHaveLength(deadLetterQueueIds().size);
  });

  it('fires on one visible message in one 5-minute period; silence is not breaching', () => {
    for (const alarm of alarms()) {
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('are named after the stack and say what is lost and what to do', () => {
    for (const alarm of alarms()) {
      expect(alarm.AlarmName).toMatch(new RegExp(`^${stack.stackName}-dlq-[a-z-]+$`));
      expect(String(alarm.AlarmDescription).length).toBeGreaterThan(60);
    }
    expect(Object.keys(stack.monitoring.deadLetterAlarms).sort()).toEqual([
      'escalate',
      'pages',
      'process-alert',
      'rollup',
      'rollup-schedule',
      'rule-delivery',
      'timers',
    ]);
  });

  it('notify the alarm topic when one is configured, as the unreachable-contacts alarm does', () => {
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([ALARM_TOPIC]);
    const contacts = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.Namespace !== 'AWS/SQS');
    expect(contacts.map(([, a]) => [a.Properties.MetricName, a.Properties.AlarmActions])).toEqual([
      ['UnreachableContacts', [ALARM_TOPIC]],
    ]);
  });

  it('have no action without one', () => {
    const plain = Template.fromStack(newStack());
    // The seven DLQ alarms and the unreachable-contacts alarm.
    plain.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    plain.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
  });

  it('refuse an alarm topic that is not an SNS topic ARN', () => {
    expect(() => newStack({ alarmTopicArn: 'arn:aws:sqs:eu-central-1:123456789012:q' })).toThrow(
      /alarmTopicArn/,
    );
  });
});

describe('the pipeline dashboard', () => {
  it('is named <stack>-pipeline', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: `${stack.stackName}-pipeline`,
    });
    template.hasOutput('DashboardName', { Value: ref(stack.monitoring.dashboard.dashboardName) });
  });

  it('shows ingest: requests, 4xx and 5xx of the HTTP API', () => {
    const api = json(stack.api.httpApi.apiId);
    for (const name of ['Count', '4xx', '5xx']) {
      expect(dashboardMetrics()).toContainEqual(['AWS/ApiGateway', name, 'ApiId', api]);
    }
  });

  it.each(FUNCTIONS)('shows %s: errors, throttles and p90 duration', (name, fn) => {
    const fnName = json(fn().function.functionName);
    const widget = dashboardWidgets().find((w) => String(w.properties.title).startsWith(`${name}:`));
    expect(widget?.properties.metrics).toEqual([
      ['AWS/Lambda', 'Errors', 'FunctionName', fnName, expect.objectContaining({ stat: 'Sum' })],
      ['AWS/Lambda', 'Throttles', 'FunctionName', fnName, expect.objectContaining({ stat: 'Sum' })],
      ['AWS/Lambda', 'Duration', 'FunctionName', fnName, expect.objectContaining({ stat: 'p90' })],
    ]);
  });

  it('shows the depth of every dead-letter queue', () => {
    for (const id of deadLetterQueueIds()) {
      expect(dashboardMetrics()).toContainEqual([
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        JSON.stringify({ 'Fn::GetAtt': [id, 'QueueName'] }),
      ]);
    }
    const status = dashboardWidgets().find((w) => w.type === 'alarm');
    // The seven DLQ alarms and the unreachable-contacts alarm.
    expect(status?.properties.alarms).toHaveLength(8);
  });

  it('shows escalation lag: the escalate async event age and the timer group in Scheduler', () => {
    const metrics = dashboardMetrics();
    expect(metrics).toContainEqual([
      'AWS/Lambda',
      'AsyncEventAge',
      'FunctionName',
      json(stack.escalate.function.functionName),
    ]);
    const group = json(stack.timers.groupName);
    for (const name of ['InvocationAttemptCount', 'TargetErrorCount', 'InvocationDroppedCount']) {
      expect(metrics).toContainEqual(['AWS/Scheduler', name, 'ScheduleGroup', group]);
    }
  });

  it('shows failed invocations of every EventBridge rule, by bus', () => {
    const metrics = dashboardMetrics();
    const { AlertsToProcessor, CloudWatchAlarmsToProcessor } = stack.routes.rules;
    expect(metrics).toContainEqual([
      'AWS/Events',
      'FailedInvocations',
      'EventBusName',
      json(stack.bus.eventBus.eventBusName),
      'RuleName',
      json(AlertsToProcessor?.ruleName ?? ''),
    ]);
    // Default-bus rules are named by RuleName alone.
    expect(metrics).toContainEqual([
      'AWS/Events',
      'FailedInvocations',
      'RuleName',
      json(CloudWatchAlarmsToProcessor?.ruleName ?? ''),
    ]);
  });
});
