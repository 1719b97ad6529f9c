import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config';
import {
  type ExportColumn,
  type ExportKeys,
  exportKeys,
  INCIDENT_COLUMNS,
  ROLLUP_COLUMNS,
} from '#core/exports';
import { KlaxonStack } from '../../lib/klaxon-stack.ts';
import { actions, covers, resources, type Statement, templateReader } from '../support/cdk.ts';

/**
 * The nightly rollup and the analyst exports, on a stack built once from the example config with
 * a 02:05 rollup in Europe/Berlin and an export prefix. Bundling is skipped: stack.test.ts covers it.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CDK_CONTEXT = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const base = JSON.parse(readFileSync(path.join(ROOT, 'klaxon.config.json'), 'utf8'));

const config = parseConfig({ ...base, timeZone: 'Europe/Berlin', metrics: { rollupTime: '02:05' } });
const PREFIX = 'analytics/';

let stack: KlaxonStack;
let template: Template;
const { ref, resourceOf, policyStatementsOf } = templateReader(() => ({ stack, template }));

const rollupStatements = (): Statement[] => policyStatementsOf(stack.rollup.function.role?.roleName ?? '');
/** A schedule's template resource (a CfnSchedule is its own CloudFormation element). */
const scheduleOf = (schedule: CfnElement): { Properties: Record<string, unknown> } =>
  template.toJSON().Resources[stack.getLogicalId(schedule)];

const TABLES = [
  ['incidents', 'incidentsJsonl', INCIDENT_COLUMNS, 'json'],
  ['incidents_csv', 'incidentsCsv', INCIDENT_COLUMNS, 'csv'],
  ['rollups', 'rollupsJsonl', ROLLUP_COLUMNS, 'json'],
  ['rollups_csv', 'rollupsCsv', ROLLUP_COLUMNS, 'csv'],
] as const satisfies readonly (readonly [string, keyof ExportKeys, readonly ExportColumn[], string])[];

beforeAll(() => {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  stack = new KlaxonStack(app, 'Klaxon', { stackName: config.name, config, exportPrefix: PREFIX });
  template = Template.fromStack(stack);
});

describe('the nightly schedule', () => {
  it('runs every day at metrics.rollupTime in config.timeZone, on time', () => {
    // The nightly rollup and the hourly contact check.
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    expect(scheduleOf(stack.nightlyRollup.schedule).Properties).toMatchObject({
      // Minute and hour as plain integers: 02:05 is minute 5 of hour 2.
      ScheduleExpression: 'cron(5 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
  });

  it('lives in a group of its own, apart from the escalation timers the functions manage', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 2);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'klaxon-rollup' });
    template.allResourcesProperties('AWS::Scheduler::Schedule', {
      GroupName: ref(stack.nightlyRollup.groupName),
    });
    expect(ref(stack.nightlyRollup.groupName)).not.toEqual(ref(stack.timers.groupName));
  });

  it('tells the function the time the run was scheduled for', () => {
    const input = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'nightly-rollup',
      Target: Match.objectLike({ Input: input }),
    });
    expect(input.asString()).toBe('{"scheduledTime":"<aws.scheduler.scheduled-time>"}');
    expect(JSON.parse(input.asString())).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  it('invokes the rollup function, retrying 20 times within 6 hours, then dead-lettering', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'nightly-rollup',
      Target: {
        Arn: ref(stack.rollup.function.functionArn),
        RoleArn: ref(stack.nightlyRollup.role.roleArn),
        Input: Match.anyValue(),
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21_600 },
        DeadLetterConfig: { Arn: ref(stack.nightlyRollup.dlq.queueArn) },
      },
    });
  });

  it('dead-letters to an encrypted, TLS-only queue kept 14 days', () => {
    expect(resourceOf(stack.nightlyRollup.dlq).Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(stack.nightlyRollup.dlq.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('runs as a role only EventBridge Scheduler may assume, for this account and the rollup group', () => {
    const role = resourceOf(stack.nightlyRollup.role).Properties;
    expect(role.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:SourceArn': ref(stack.nightlyRollup.groupArn),
            },
          },
        },
      ],
    });
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
  });

  it('whose role may only invoke the rollup function and write to the schedule DLQ', () => {
    expect(policyStatementsOf(stack.nightlyRollup.role.roleName)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ref(stack.rollup.function.functionArn) },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack.nightlyRollup.dlq.queueArn) },
    ]);
  });

  it('warns at synth that 02:05 does not exist in Europe/Berlin when daylight saving time starts', () => {
    Annotations.fromStack(stack).hasWarning(
      '/Klaxon/NightlyRollup',
      Match.stringLikeRegexp('rollupTime 02:05 does not exist in Europe/Berlin on \\d{4}-03-\\d\\d'),
    );
  });
});

/** What the contact check may do: read the pages topic's subscriptions, and the account's SMS state. */
const CONTACT_CHECK_STATEMENTS = () => [
  {
    Effect: 'Allow',
    Action: [
      'sns:CheckIfPhoneNumberIsOptedOut',
      'sns:GetSMSSandboxAccountStatus',
      'sns:ListSMSSandboxPhoneNumbers',
    ],
    Resource: '*',
  },
];

describe('the contact check', () => {
  it('runs every hour on its own schedule in the rollup group, with the time it was scheduled for', () => {
    expect(scheduleOf(stack.nightlyRollup.contactCheck).Properties).toEqual({
      Name: 'contact-check',
      GroupName: ref(stack.nightlyRollup.groupName),
      Description: expect.stringContaining('contact'),
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: ref(stack.rollup.function.functionArn),
        RoleArn: ref(stack.nightlyRollup.role.roleArn),
        Input: '{"check":"contacts","scheduledTime":"<aws.scheduler.scheduled-time>"}',
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21_600 },
        DeadLetterConfig: { Arn: ref(stack.nightlyRollup.dlq.queueArn) },
      },
    });
  });

  it('may list the pages topic subscriptions, and read the SMS opt-outs and sandbox, which take no resource', () => {
    const grants = rollupStatements().flatMap((s) =>
      actions(s)
        .filter((a) => a.startsWith('sns:') && a !== 'sns:Publish')
        .map((a) => [a, JSON.stringify(s.Resource)]),
    );
    expect(grants).toEqual([
      ['sns:ListSubscriptionsByTopic', JSON.stringify(ref(stack.paging.topic.topicArn))],
      ['sns:CheckIfPhoneNumberIsOptedOut', '"*"'],
      ['sns:GetSMSSandboxAccountStatus', '"*"'],
      ['sns:ListSMSSandboxPhoneNumbers', '"*"'],
    ]);
    // Nothing that changes a subscription or the opt-out list.
    for (const [action] of grants) expect(action).toMatch(/^sns:(List|Get|Check)/);
  });

  it('is alarmed when its own stack’s UnreachableContacts > 0, the metric the function publishes', () => {
    const env = (
      resourceOf(stack.rollup.function).Properties as { Environment: { Variables: Record<string, unknown> } }
    ).Environment.Variables;
    expect(env.KLAXON_STACK_NAME).toBe(stack.stackName);
    const properties = resourceOf(stack.monitoring.unreachableContactsAlarm).Properties as {
      Dimensions: { Name: string; Value: string }[];
    };
    // Two stacks in one account (staging, prod) must not set off each other's alarm.
    expect(
      [...properties.Dimensions].sort((a: { Name: string }, b: { Name: string }) =>
        a.Name.localeCompare(b.Name),
      ),
    ).toEqual([
      { Name: 'service', Value: 'klaxon-contacts' },
      { Name: 'stack', Value: stack.stackName },
    ]);
    expect(properties).toMatchObject({
      AlarmName: 'klaxon-unreachable-contacts',
      Namespace: 'Klaxon',
      MetricName: 'UnreachableContacts',
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
  });
});

describe('the exports bucket', () => {
  it('is SSE-S3 encrypted, fully blocked from public access, bucket-owner-enforced, versioned, retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    });
    expect(resourceOf(stack.exports.bucket).Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('keeps the versions a re-run day replaced for 90 days', () => {
    expect(resourceOf(stack.exports.bucket).Properties).toMatchObject({
      LifecycleConfiguration: {
        Rules: expect.arrayContaining([
          expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('refuses every request without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(stack.exports.bucket.bucketName),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('logs server access to a separate private bucket, kept a year and retained', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(resourceOf(stack.exports.bucket).Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: ref(stack.exports.accessLogsBucket.bucketName),
      LogFilePrefix: 'exports/',
    });
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        LoggingConfiguration: Match.absent(),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] },
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicPolicy: true }),
      }),
    });
  });

  it('lets only S3 log delivery, for the exports bucket of this account, write the access logs', () => {
    const statements = new Capture();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(stack.exports.accessLogsBucket.bucketName),
      PolicyDocument: { Statement: statements },
    });
    const allows = (statements.asArray() as Statement[]).filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [ref(stack.exports.accessLogsBucket.bucketArn), '/exports/*']] },
        Condition: {
          ArnLike: { 'aws:SourceArn': ref(stack.exports.bucket.bucketArn) },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      }),
    ]);
  });
});

describe('the Glue catalog', () => {
  it('is one database named after the stack', () => {
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: Match.objectLike({ Name: 'klaxon_metrics' }),
    });
    expect(stack.exports.databaseName).toBe('klaxon_metrics');
    template.resourceCountIs('AWS::Glue::Table', 4);
    expect(stack.exports.tableNames).toEqual({
      incidents: 'incidents',
      incidents_csv: 'incidents_csv',
      rollups: 'rollups',
      rollups_csv: 'rollups_csv',
    });
  });

  describe.each(TABLES)('table %s', (name, key, columns, format) => {
    const table = () => {
      const found = Object.values(
        template.findResources('AWS::Glue::Table', { Properties: { TableInput: { Name: name } } }),
      );
      expect(found).toHaveLength(1);
      return found[0]?.Properties as {
        DatabaseName: unknown;
        TableInput: {
          TableType: string;
          Parameters: Record<string, unknown>;
          PartitionKeys: unknown[];
          StorageDescriptor: {
            Location: unknown;
            Columns: { Name: string; Type: string; Comment: string }[];
            InputFormat: string;
            OutputFormat: string;
            SerdeInfo: { SerializationLibrary: string; Parameters: Record<string, string> };
          };
        };
      };
    };
    /** `s3://<bucket>/<path>` as the template holds it. */
    const s3Url = (path: string) => ({
      'Fn::Join': ['', ['s3://', ref(stack.exports.bucket.bucketName), `/${path}`]],
    });
    /** The folder the rollup writes `day` to, from exportKeys (the handler's own key layout). */
    const folderOf = (day: string) => {
      const object = exportKeys(PREFIX, day)[key];
      return object.slice(0, object.lastIndexOf('/') + 1);
    };

    it('is an external table in the database, over the folder the rollup writes to', () => {
      const t = table();
      expect(t.DatabaseName).toEqual(ref(stack.exports.database.ref));
      expect(t.TableInput.TableType).toBe('EXTERNAL_TABLE');
      expect(folderOf('2026-11-26')).toBe(`${PREFIX}${name}/dt=2026-11-26/`);
      expect(t.TableInput.StorageDescriptor.Location).toEqual(s3Url(`${PREFIX}${name}/`));
    });

    it('is partitioned by dt (string) with date projection from 2020-01-01 to now', () => {
      const t = table();
      expect(t.TableInput.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
      expect(t.TableInput.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': '2020-01-01,NOW',
        // Athena substitutes ${dt}: the template is the folder exportKeys gives each day.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholder, not a template
        'storage.location.template': s3Url(folderOf('2026-11-26').replace('2026-11-26', '${dt}')),
      });
    });

    it('has the export columns, in order, each described', () => {
      const declared = table().TableInput.StorageDescriptor.Columns;
      expect(declared.map((c) => c.Name)).toEqual(columns.map((c) => c.name));
      // OpenCSVSerde reads strings only: the CSV tables are all-string, the JSON tables typed.
      expect(declared.map((c) => c.Type)).toEqual(columns.map((c) => (format === 'csv' ? 'string' : c.type)));
      for (const c of declared) expect(c.Comment.length).toBeGreaterThan(0);
    });

    it(`reads ${format === 'csv' ? 'CSV with a header line' : 'JSON Lines'} as text`, () => {
      const { Parameters, StorageDescriptor } = table().TableInput;
      expect(StorageDescriptor.InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
      expect(StorageDescriptor.OutputFormat).toBe(
        'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      );
      if (format === 'csv') {
        expect(StorageDescriptor.SerdeInfo).toEqual({
          SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
          Parameters: expect.objectContaining({ separatorChar: ',', quoteChar: '"' }),
        });
        expect(Parameters['skip.header.line.count']).toBe('1');
      } else {
        expect(StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
        expect(Parameters['skip.header.line.count']).toBeUndefined();
      }
    });
  });
});

describe('the rollup function', () => {
  it('runs the rollup handler on Node.js 22/arm64 with 1 GB and 5 minutes, async with a DLQ', () => {
    const dlq = stack.rollup.deadLetterQueue;
    expect(dlq).toBeDefined();
    expect(resourceOf(stack.rollup.function).Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 300,
      DeadLetterConfig: { TargetArn: ref(dlq?.queueArn ?? '') },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(stack.rollup.function.functionName),
      MaximumRetryAttempts: 2,
    });
  });

  it('gets the shared environment plus the export bucket and prefix and the metrics namespace', () => {
    expect(resourceOf(stack.rollup.function).Properties).toMatchObject({
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'klaxon-rollup',
          TABLE_NAME: ref(stack.store.table.tableName),
          EVENT_BUS_NAME: ref(stack.bus.eventBus.eventBusName),
          PAGES_TOPIC_ARN: ref(stack.paging.topic.topicArn),
          SCHEDULE_GROUP_NAME: ref(stack.timers.groupName),
          SCHEDULER_ROLE_ARN: ref(stack.timers.role.roleArn),
          SCHEDULER_DLQ_ARN: ref(stack.timers.dlq.queueArn),
          ESCALATE_FUNCTION_ARN: ref(stack.escalateFunctionArn),
          ACK_SECRET_ARN: ref(stack.ackSecret.secret.secretArn),
          PUBLIC_URL: ref(stack.api.httpApi.apiEndpoint),
          EXPORT_BUCKET: ref(stack.exports.bucket.bucketName),
          EXPORT_PREFIX: PREFIX,
          POWERTOOLS_METRICS_NAMESPACE: 'Klaxon',
        },
      },
    });
  });

  it('may only put objects, under the export prefix of the exports bucket', () => {
    const s3 = rollupStatements().filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    const [statement] = s3 as [Statement];
    expect(resources(statement)).toEqual([
      { 'Fn::Join': ['', [ref(stack.exports.bucket.bucketArn), `/${PREFIX}*`]] },
    ]);
    expect(actions(statement)).toContain('s3:PutObject');
    for (const action of actions(statement)) {
      expect(['s3:GetObject', 's3:DeleteObject', 's3:ListBucket', 's3:PutBucketPolicy']).not.toContain(
        action,
      );
      expect(action).toMatch(/^s3:(Put|Abort)/);
    }
  });

  it('may read and write the table, publish pages and read the signing secret, each only that', () => {
    const statements = rollupStatements();
    const of = (service: string) => statements.filter((s) => actions(s).some((a) => a.startsWith(service)));
    expect(of('dynamodb:').flatMap(resources)).toEqual([
      ref(stack.store.table.tableArn),
      { 'Fn::Join': ['', [ref(stack.store.table.tableArn), '/index/*']] },
    ]);
    expect(of('sns:')).toEqual([
      {
        Effect: 'Allow',
        // Publish pages; list the topic's subscriptions (the contact check, below).
        Action: ['sns:ListSubscriptionsByTopic', 'sns:Publish'],
        Resource: ref(stack.paging.topic.topicArn),
      },
      ...CONTACT_CHECK_STATEMENTS(),
    ]);
    expect(of('secretsmanager:').flatMap(resources)).toEqual([ref(stack.ackSecret.secret.secretArn)]);
  });

  it('may put events (Error Budget Exhausted) on the Klaxon bus only', () => {
    const putEvents = rollupStatements().filter((s) => actions(s).some((a) => covers(a, 'events:PutEvents')));
    expect(putEvents).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: ref(stack.bus.eventBus.eventBusArn) },
    ]);
  });

  it('may not manage escalation timers nor pass any role', () => {
    const all = rollupStatements().flatMap(actions);
    expect(all.filter((a) => a.startsWith('scheduler:') || covers(a, 'iam:PassRole'))).toEqual([]);
  });
});

describe('event permissions', () => {
  it('nowhere allow PutEvents on anything but the Klaxon bus', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
    const putEvents = statements.filter(
      (s) => s.Effect === 'Allow' && actions(s).some((a) => covers(a, 'events:PutEvents')),
    );
    // http, api, process-alert, escalate (alerts, lifecycle events) and the rollup.
    expect(putEvents).toHaveLength(5);
    for (const s of putEvents) expect(resources(s)).toEqual([ref(stack.bus.eventBus.eventBusArn)]);
  });
});

describe('outputs', () => {
  it('name the exports bucket and the Glue database', () => {
    template.hasOutput('ExportBucketName', { Value: ref(stack.exports.bucket.bucketName) });
    template.hasOutput('GlueDatabaseName', { Value: 'klaxon_metrics' });
  });
});
