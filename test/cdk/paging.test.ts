import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config';
import { KlaxonStack } from '../../lib/klaxon-stack.ts';
import { actions, covers, resources, type Statement, templateReader } from '../support/cdk.ts';

/**
 * Escalation and paging resources, on a stack built once from a config with responders (the
 * repository's klaxon.config.json has none yet). Bundling is skipped: stack.test.ts covers it.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CDK_CONTEXT = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const base = JSON.parse(readFileSync(path.join(ROOT, 'klaxon.config.json'), 'utf8'));

const config = parseConfig({
  ...base,
  publicUrl: 'https://pager.example.com/',
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
    // The example config's policies and fallback page carol.
    { id: 'carol', name: 'Carol', contacts: [{ type: 'email', address: 'carol@example.com' }] },
  ],
});

let stack: KlaxonStack;
let template: Template;
const { ref, resourceOf, policyStatementsOf } = templateReader(() => ({ stack, template }));

/** Every identity-policy statement in the template: policies, managed policies, inline role policies. */
const allStatements = (): Statement[] => {
  const docs = [
    ...Object.values(template.findResources('AWS::IAM::Policy')).map((r) => r.Properties.PolicyDocument),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map(
      (r) => r.Properties.PolicyDocument,
    ),
    ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
      (r.Properties.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument),
    ),
  ] as { Statement: Statement[] }[];
  return docs.flatMap((doc) => doc.Statement);
};
/** The three functions, resolved lazily: it.each reads its table before beforeAll builds the stack. */
const FUNCTIONS = [
  ['process-alert', () => stack.processAlert],
  ['http', () => stack.http],
  ['escalate', () => stack.escalate],
] as const;

beforeAll(() => {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  stack = new KlaxonStack(app, 'Klaxon', { stackName: config.name, config });
  template = Template.fromStack(stack);
});

describe('escalation timers', () => {
  it('live in a schedule group named after the stack', () => {
    // The other group holds the nightly rollup (rollup.test.ts).
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 2);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'klaxon-timers' });
  });

  it('are fired by a role only EventBridge Scheduler may assume, for this account and group', () => {
    expect(resourceOf(stack.timers.role).Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': ref(stack.timers.groupArn),
              },
            },
          },
        ],
      },
    });
    expect(resourceOf(stack.timers.role).Properties.ManagedPolicyArns).toBeUndefined();
    expect(resourceOf(stack.timers.role).Properties.Policies).toBeUndefined();
  });

  it('whose role may only invoke the escalate function and write to the scheduler DLQ', () => {
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(stack.timers.role.roleName)],
      PolicyDocument: { Statement: statements },
    });
    expect(statements.asArray()).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ref(stack.escalateFunctionArn) },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack.timers.dlq.queueArn) },
    ]);
    // ...and that ARN is the escalate function's: its name, in this account and region.
    const name = resourceOf(stack.escalate.function).Properties.FunctionName;
    expect(name).toBe('klaxon-escalate');
    expect(JSON.stringify(ref(stack.escalateFunctionArn))).toMatch(/:function:klaxon-escalate"\]\]\}$/);
    expect(policyStatementsOf(stack.timers.role.roleName)).toHaveLength(2);
  });

  it('that Scheduler could not deliver are kept 14 days in an encrypted, TLS-only DLQ', () => {
    const id = stack.getLogicalId(stack.timers.dlq.node.defaultChild as CfnElement);
    expect(resourceOf(stack.timers.dlq).Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('function permissions', () => {
  it.each(FUNCTIONS)('%s may manage schedules in the timer group only', (_name, lazy) => {
    const fn = lazy();
    const scheduler = policyStatementsOf(fn.function.role?.roleName ?? '').filter((s) =>
      actions(s).some((a) => a.startsWith('scheduler:')),
    );
    expect(scheduler).toHaveLength(1);
    expect([...actions(scheduler[0] as Statement)].sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:GetSchedule',
      'scheduler:UpdateSchedule',
    ]);
    expect(scheduler[0]).toEqual({
      Effect: 'Allow',
      Action: expect.any(Array),
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':scheduler:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':schedule/',
            ref(stack.timers.groupName),
            '/*',
          ],
        ],
      },
    });
  });

  it.each(FUNCTIONS)(
    '%s may pass the scheduler role, to Scheduler only, and no other role',
    (_name, lazy) => {
      const fn = lazy();
      const passRole = policyStatementsOf(fn.function.role?.roleName ?? '').filter((s) =>
        actions(s).some((a) => covers(a, 'iam:PassRole')),
      );
      expect(passRole).toEqual([
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: ref(stack.timers.role.roleArn),
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
      ]);
    },
  );

  it('nowhere allow iam:PassRole or scheduler actions on "*"', () => {
    const all = allStatements();
    expect(all.length).toBeGreaterThan(0);
    for (const s of all.filter((s) => s.Effect === 'Allow')) {
      if (actions(s).some((a) => covers(a, 'iam:PassRole') || a.startsWith('scheduler:'))) {
        expect(resources(s)).not.toContain('*');
        expect(JSON.stringify(resources(s))).not.toMatch(/role\/\*/);
      }
    }
  });

  it.each(FUNCTIONS)('%s may publish to the pages topic and nothing else in SNS', (_name, lazy) => {
    const fn = lazy();
    const sns = policyStatementsOf(fn.function.role?.roleName ?? '').filter((s) =>
      actions(s).some((a) => a.startsWith('sns:')),
    );
    expect(sns).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: ref(stack.paging.topic.topicArn) },
    ]);
  });

  it.each(FUNCTIONS)('%s may read the signing secret, and only it', (_name, lazy) => {
    const fn = lazy();
    const secrets = policyStatementsOf(fn.function.role?.roleName ?? '').filter((s) =>
      actions(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secrets).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: ref(stack.ackSecret.secret.secretArn),
      },
    ]);
  });
});

describe('the pages topic', () => {
  it('is encrypted with the AWS-managed SNS key and refuses publishes without TLS', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: 'alias/aws/sns',
      DisplayName: 'Klaxon',
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(stack.paging.topic.topicArn)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('has one subscription per contact, each filtered to that contact by message attribute', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 4);
    const common = {
      TopicArn: ref(stack.paging.topic.topicArn),
      FilterPolicyScope: 'MessageAttributes',
      RedrivePolicy: { deadLetterTargetArn: ref(stack.paging.deadLetterQueue.queueArn) },
    };
    template.hasResourceProperties('AWS::SNS::Subscription', {
      ...common,
      Protocol: 'email',
      Endpoint: 'alice@example.com',
      FilterPolicy: Match.exact({ contact: ['alice-0'] }),
      RawMessageDelivery: Match.absent(),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      ...common,
      Protocol: 'sms',
      Endpoint: '+4915112345678',
      FilterPolicy: Match.exact({ contact: ['alice-1'] }),
      RawMessageDelivery: Match.absent(),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      ...common,
      Protocol: 'https',
      Endpoint: 'https://hooks.example.com/klaxon',
      FilterPolicy: Match.exact({ contact: ['bob-0'] }),
      RawMessageDelivery: true,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      ...common,
      Protocol: 'email',
      Endpoint: 'carol@example.com',
      FilterPolicy: Match.exact({ contact: ['carol-0'] }),
    });
    expect(Object.keys(stack.paging.subscriptions).sort()).toEqual([
      'alice-0',
      'alice-1',
      'bob-0',
      'carol-0',
    ]);
  });

  it('delivers webhook pages as application/json, retrying for minutes within the 3,600 s SNS allows', () => {
    // SNS's default: text/plain (JSON-by-content-type receivers saw no body), 3 retries 20 s apart.
    const policy = template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'https' } });
    const [subscription] = Object.values(policy);
    const delivery = subscription?.Properties.DeliveryPolicy;
    expect(delivery.requestPolicy).toEqual({ headerContentType: 'application/json' });
    const retry = delivery.healthyRetryPolicy;
    const phases = retry.numNoDelayRetries + retry.numMinDelayRetries + retry.numMaxDelayRetries;
    expect(phases).toBeLessThanOrEqual(retry.numRetries);
    expect(retry.numRetries).toBeLessThanOrEqual(100);
    // At the maximum delay alone the retries outlast a receiver down for 5 minutes...
    expect(retry.numMaxDelayRetries * retry.maxDelayTarget).toBeGreaterThanOrEqual(300);
    // ...and even every retry at the maximum delay stays within SNS's hard limit.
    expect(retry.numRetries * retry.maxDelayTarget).toBeLessThanOrEqual(3600);
    // Only HTTP/S subscriptions take a delivery policy.
    const others = template.findResources('AWS::SNS::Subscription', {
      Properties: { DeliveryPolicy: Match.anyValue() },
    });
    expect(Object.keys(others)).toEqual(Object.keys(policy));
  });

  it('sends pages SNS cannot deliver to an encrypted DLQ that only this topic may write to', () => {
    expect(resourceOf(stack.paging.deadLetterQueue).Properties).toMatchObject({ SqsManagedSseEnabled: true });
    const id = stack.getLogicalId(stack.paging.deadLetterQueue.node.defaultChild as CfnElement);
    const allows = Object.values(
      template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: id }] } }),
    )
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: { Effect: string }) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'sns.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': ref(stack.paging.topic.topicArn) } },
      }),
    ]);
  });
});

describe('the acknowledge-link signing secret', () => {
  it('is 64 generated letters and digits, kept when the stack goes', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      }),
    });
  });
});

describe('with config.publicUrl', () => {
  it.each(FUNCTIONS)('%s links to the configured URL, without its trailing slash', (_name, lazy) => {
    const fn = lazy();
    expect(resourceOf(fn.function).Properties).toMatchObject({
      Environment: { Variables: { PUBLIC_URL: 'https://pager.example.com' } },
    });
  });
});
