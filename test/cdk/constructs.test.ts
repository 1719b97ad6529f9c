import { readFileSync } from 'node:fs';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { type KlaxonConfig, parseConfig, type Responder } from '#core/config';
import { ConfigError } from '#core/errors';
import { ROUTES, type Route } from '#core/routing';
import { KlaxonApi } from '../../lib/constructs/api.ts';
import { EscalationTimers } from '../../lib/constructs/escalation-timers.ts';
import { KlaxonEventBus } from '../../lib/constructs/event-bus.ts';
import { EventRoutes, toCdkPattern } from '../../lib/constructs/event-routes.ts';
import { AnalystExports, glueComment } from '../../lib/constructs/exports-bucket.ts';
import { KlaxonFunction, type KlaxonFunctionProps } from '../../lib/constructs/klaxon-function.ts';
import { dailyCron, daysWithoutTime, NightlyRollup } from '../../lib/constructs/nightly-rollup.ts';
import { Paging } from '../../lib/constructs/paging.ts';
import { IncidentStore } from '../../lib/constructs/store.ts';

const config: KlaxonConfig = parseConfig(
  JSON.parse(readFileSync(new URL('../../klaxon.config.json', import.meta.url), 'utf8')),
);
const newStack = () => new Stack(new App(), 'Test');
const importedFunction = (stack: Stack) =>
  lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-central-1:123456789012:function:f');

describe('KlaxonFunction', () => {
  const props: KlaxonFunctionProps = {
    entry: 'lambdas/handlers/process-alert.ts',
    serviceName: 'klaxon-test',
    invocation: 'async',
    config,
  };

  it.each([
    ['64 MB', { memorySize: 64 }, /memorySize/],
    ['fractional MB', { memorySize: 512.5 }, /memorySize/],
    ['a 16 min timeout', { timeout: Duration.minutes(16) }, /timeout/],
    ['a service name with spaces', { serviceName: 'has spaces' }, /serviceName/],
    ['a blank entry', { entry: ' ' }, /entry/],
    ['a 65-character function name', { functionName: 'f'.repeat(65) }, /functionName/],
    ['a function name with a colon', { functionName: 'a:b' }, /functionName/],
  ] as const)('rejects %s', (_label, override, message) => {
    expect(() => new KlaxonFunction(newStack(), 'F', { ...props, ...override })).toThrow(message);
  });

  it("lets the caller's environment add to and override its own", () => {
    const stack = newStack();
    new KlaxonFunction(stack, 'F', {
      ...props,
      invocation: 'sync',
      environment: { FEATURE: 'on', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'klaxon-test',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          FEATURE: 'on',
        },
      },
    });
    Template.fromStack(stack).resourceCountIs('AWS::SQS::Queue', 0);
  });
});

describe('EventRoutes', () => {
  const build = (overrides: Partial<ConstructorParameters<typeof EventRoutes>[2]>) => {
    const stack = newStack();
    const bus = new KlaxonEventBus(stack, 'Bus');
    return new EventRoutes(stack, 'Routes', {
      klaxonBus: bus.eventBus,
      targets: { processAlert: importedFunction(stack) },
      ...overrides,
    });
  };
  const route = ROUTES[0] as Route;

  it.each([
    ['duplicate route ids', { routes: [route, route] }, /duplicate route id/],
    ['no routes', { routes: [] }, /must not be empty/],
    ['an empty pattern', { routes: [{ ...route, pattern: {} }] }, /empty pattern/],
    ['186 retries', { retryAttempts: 186 }, /retryAttempts/],
    ['a 25 h event age', { maxEventAge: Duration.hours(25) }, /maxEventAge/],
    ['a 30 s event age', { maxEventAge: Duration.seconds(30) }, /maxEventAge/],
  ] as const)('rejects %s', (_label, override, message) => {
    expect(() => build(override as Partial<ConstructorParameters<typeof EventRoutes>[2]>)).toThrow(message);
  });

  it('rejects a route whose target has no function', () => {
    expect(() => build({ targets: {} as never })).toThrow(/has no function/);
  });

  it('converts wire-form keys to CDK names and passes content filters through', () => {
    expect(
      toCdkPattern({ source: ['a'], 'detail-type': ['b'], detail: { service: [{ prefix: 'check' }] } }),
    ).toEqual({ source: ['a'], detailType: ['b'], detail: { service: [{ prefix: 'check' }] } });
    expect(() => toCdkPattern({ 'detail-typo': ['x'] } as never)).toThrow(/detail-typo/);
  });
});

describe('IncidentStore', () => {
  it('refuses RemovalPolicy.DESTROY while deletion protection is on', () => {
    expect(() => new IncidentStore(newStack(), 'S', { removalPolicy: RemovalPolicy.DESTROY })).toThrow(
      /deletionProtection/,
    );
  });
});

describe('KlaxonEventBus', () => {
  it('refuses to take the name of the default bus', () => {
    expect(() => new KlaxonEventBus(newStack(), 'B', { eventBusName: 'default' })).toThrow(/default/);
  });

  it('can run without an archive', () => {
    const stack = newStack();
    new KlaxonEventBus(stack, 'B', { archiveRetention: Duration.days(0) });
    Template.fromStack(stack).resourceCountIs('AWS::Events::Archive', 0);
  });
});

describe('KlaxonApi', () => {
  it.each([
    ['a zero burst', { burstLimit: 0 }, /burstLimit/],
    ['a zero rate', { rateLimit: 0 }, /rateLimit/],
    ['a relative IAM path', { iamAuthorizedPaths: ['api/{proxy+}'] }, /iamAuthorizedPaths/],
  ] as const)('rejects %s', (_label, override, message) => {
    const stack = newStack();
    expect(() => new KlaxonApi(stack, 'Api', { handler: importedFunction(stack), ...override })).toThrow(
      message,
    );
  });
});

describe('Paging', () => {
  const responder = (id: string, ...contacts: Responder['contacts']): Responder => ({
    id,
    name: id,
    contacts,
  });

  it('creates the topic and its DLQ but no subscription without responders', () => {
    const stack = newStack();
    new Paging(stack, 'P', { responders: [] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::SQS::Queue', 1);
  });

  it('gives an SMS contact a redrive policy too (aws-cdk-lib SmsSubscription drops it)', () => {
    const stack = newStack();
    const paging = new Paging(stack, 'P', {
      responders: [responder('carol', { type: 'sms', number: '+4915112345678' })],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sms',
      FilterPolicy: { contact: ['carol-0'] },
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(paging.deadLetterQueue.queueArn) },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(paging.topic.topicArn) } },
          }),
        ]),
      },
    });
  });

  it('shares one subscription between contacts with the same endpoint, filtered to both keys', () => {
    const stack = newStack();
    const paging = new Paging(stack, 'P', {
      responders: [
        responder('alice', { type: 'email', address: 'oncall@example.com' }),
        responder(
          'bob',
          { type: 'sms', number: '+4915112345678' },
          { type: 'email', address: 'OnCall@example.com' },
        ),
      ],
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      FilterPolicy: Match.exact({ contact: ['alice-0', 'bob-1'] }),
    });
    expect(paging.subscriptions['alice-0']).toBe(paging.subscriptions['bob-1']);
  });

  it('encrypts with a customer key when given one', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    new Paging(stack, 'P', { responders: [], masterKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: stack.resolve(key.keyArn),
    });
  });

  it('refuses more contact endpoints than SNS allows filter policies on one topic (200), naming both', () => {
    // Each endpoint is one filtered subscription: the 201st failed `cdk deploy`, not synth.
    const people = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        responder(`p${i}`, { type: 'email', address: `p${i}@example.com` }),
      );
    const build = (responders: Responder[], filterPoliciesPerTopic?: number) =>
      new Paging(newStack(), 'P', {
        responders,
        ...(filterPoliciesPerTopic === undefined ? {} : { filterPoliciesPerTopic }),
      });
    expect(() => build(people(201))).toThrow(ConfigError);
    expect(() => build(people(201))).toThrow(
      /responders: 201 contact endpoints need 201 filtered subscriptions on the pages topic; SNS allows 200 per topic/,
    );
    expect(() => build(people(201))).toThrow(/-c filterPoliciesPerTopic=/);
    Template.fromStack(Stack.of(build(people(200)))).resourceCountIs('AWS::SNS::Subscription', 200);
    // Contacts sharing an endpoint share its subscription, so they count once.
    const shared = [...people(200), responder('team', { type: 'email', address: 'P0@example.com' })];
    expect(Object.keys(build(shared).subscriptions)).toHaveLength(201);
    // With a quota AWS raised.
    Template.fromStack(Stack.of(build(people(201), 250))).resourceCountIs('AWS::SNS::Subscription', 201);
    expect(() => build(people(251), 250)).toThrow(/251 contact endpoints .* SNS allows 250 per topic/);
    for (const bad of [0, 1.5, -3]) {
      expect(() => build([], bad)).toThrow(/filterPoliciesPerTopic must be a positive integer/);
    }
  });

  it.each([
    [
      'duplicate responder ids',
      [
        responder('a', { type: 'email', address: 'a@example.com' }),
        responder('a', { type: 'email', address: 'b@example.com' }),
      ],
      /duplicate responder id "a"/,
    ],
    [
      'a plain-http webhook',
      [responder('a', { type: 'webhook', url: 'http://hooks.example.com/x' })],
      /a-0: webhook URLs must use https/,
    ],
  ] as const)('rejects %s', (_label, responders, message) => {
    expect(() => new Paging(newStack(), 'P', { responders })).toThrow(message);
  });
});

describe('EscalationTimers', () => {
  const arn = 'arn:aws:lambda:eu-central-1:123456789012:function:klaxon-escalate';

  it.each([
    ['a qualified function ARN', { escalateFunctionArn: `${arn}:live` }, /escalateFunctionArn/],
    [
      'a queue ARN',
      { escalateFunctionArn: 'arn:aws:sqs:eu-central-1:123456789012:q' },
      /escalateFunctionArn/,
    ],
    ['a group name with a slash', { escalateFunctionArn: arn, groupName: 'a/b' }, /groupName/],
    ['the default group', { escalateFunctionArn: arn, groupName: 'default' }, /groupName/],
    [
      'a 15-day DLQ',
      { escalateFunctionArn: arn, deadLetterRetention: Duration.days(15) },
      /deadLetterRetention/,
    ],
  ] as const)('rejects %s', (_label, props, message) => {
    expect(() => new EscalationTimers(newStack(), 'T', props)).toThrow(message);
  });

  it('grants schedule management in its group and PassRole on its role only', () => {
    const stack = newStack();
    const timers = new EscalationTimers(stack, 'T', { escalateFunctionArn: arn, groupName: 'g' });
    const role = new iam.Role(stack, 'Caller', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    timers.grantManageSchedules(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [stack.resolve(role.roleName)],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'scheduler:CreateSchedule',
              'scheduler:DeleteSchedule',
              'scheduler:UpdateSchedule',
              'scheduler:GetSchedule',
            ],
            Resource: {
              'Fn::Join': ['', Match.arrayWith([':schedule/', stack.resolve(timers.groupName), '/*'])],
            },
          },
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: stack.resolve(timers.role.roleArn),
            Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          },
        ],
      },
    });
  });
});

describe('NightlyRollup', () => {
  it.each([
    ['00:00', 'cron(0 0 * * ? *)'],
    ['01:30', 'cron(30 1 * * ? *)'],
    ['02:15', 'cron(15 2 * * ? *)'],
    ['09:05', 'cron(5 9 * * ? *)'],
    ['23:59', 'cron(59 23 * * ? *)'],
  ])('runs %s every day as %s', (time, expression) => {
    expect(dailyCron(time)).toBe(expression);
  });

  it.each(['24:00', '2:15', '02:60', '0215', ''])('rejects the rollup time "%s"', (time) => {
    expect(() => dailyCron(time)).toThrow(/HH:MM/);
  });

  it('finds the nights a local time is skipped by the start of daylight saving time', () => {
    expect(daysWithoutTime('02:15', 'Europe/Berlin', 2026)).toEqual(['2026-03-29']);
    expect(daysWithoutTime('02:30', 'America/New_York', 2026)).toEqual(['2026-03-08']);
    expect(daysWithoutTime('01:30', 'Europe/Berlin', 2026)).toEqual([]);
    // The autumn change repeats 02:00-02:59 instead: Scheduler runs such a time once.
    expect(daysWithoutTime('02:15', 'Europe/London', 2026)).toEqual([]);
    expect(daysWithoutTime('03:00', 'Europe/Berlin', 2026)).toEqual([]);
    expect(daysWithoutTime('02:15', 'UTC', 2026)).toEqual([]);
  });

  it('does not warn for a rollup time that exists every day', () => {
    const stack = newStack();
    new NightlyRollup(stack, 'R', { config: { ...config, metrics: { rollupTime: '01:30' } } });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('rollupTime'));
  });

  it.each([
    ['a group name with a slash', { groupName: 'a/b' }, /groupName/],
    ['the default group', { groupName: 'default' }, /groupName/],
    ['186 retries', { retryAttempts: 186 }, /retryAttempts/],
    ['a 25 h event age', { maxEventAge: Duration.hours(25) }, /maxEventAge/],
    ['a 15-day DLQ', { deadLetterRetention: Duration.days(15) }, /deadLetterRetention/],
  ] as const)('rejects %s', (_label, override, message) => {
    expect(() => new NightlyRollup(newStack(), 'R', { config, ...override })).toThrow(message);
  });
});

describe('AnalystExports', () => {
  it('names the database after the stack: lowercase, other characters as "_"', () => {
    const stack = new Stack(new App(), 'S', { stackName: 'My-Klaxon-2' });
    const exports = new AnalystExports(stack, 'E');
    expect(exports.databaseName).toBe('my_klaxon_2_metrics');
    Template.fromStack(stack).hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: Match.objectLike({ Name: 'my_klaxon_2_metrics' }),
    });
  });

  it('puts the tables at the top of the bucket without a prefix', () => {
    const stack = newStack();
    const exports = new AnalystExports(stack, 'E');
    expect(exports.prefix).toBe('');
    Template.fromStack(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'rollups_csv',
        StorageDescriptor: Match.objectLike({
          Location: {
            'Fn::Join': ['', ['s3://', stack.resolve(exports.bucket.bucketName), '/rollups_csv/']],
          },
        }),
      }),
    });
  });

  it.each([
    ['a prefix without a trailing slash', { prefix: 'exports' }, /prefix/],
    ['a prefix with a leading slash', { prefix: '/exports/' }, /prefix/],
    ['an uppercase database name', { databaseName: 'Klaxon' }, /databaseName/],
    [
      'a fractional-day retention',
      { noncurrentVersionRetention: Duration.hours(36) },
      /noncurrentVersionRetention/,
    ],
    ['no access-log retention', { accessLogRetention: Duration.days(0) }, /accessLogRetention/],
  ] as const)('rejects %s', (_label, props, message) => {
    expect(() => new AnalystExports(newStack(), 'E', props)).toThrow(message);
  });

  it("cuts column descriptions to Glue's 255 characters", () => {
    expect(glueComment('short')).toBe('short');
    const cut = glueComment('x'.repeat(300));
    expect([...cut]).toHaveLength(255);
    expect(cut.endsWith('…')).toBe(true);
    expect(glueComment('é'.repeat(255))).toBe('é'.repeat(255));
  });
});
