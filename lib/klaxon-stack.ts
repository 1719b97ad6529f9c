import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { unreachableContactsMetric } from '#adapters/aws/cloudwatch-metrics';
import type { KlaxonConfig } from '#core/config';
import { AckSigningSecret } from './constructs/ack-secret.ts';
import { KlaxonApi, type KlaxonApiProps } from './constructs/api.ts';
import { EscalationTimers } from './constructs/escalation-timers.ts';
import { KlaxonEventBus } from './constructs/event-bus.ts';
import { EventRoutes } from './constructs/event-routes.ts';
import { AnalystExports } from './constructs/exports-bucket.ts';
import { KlaxonFunction } from './constructs/klaxon-function.ts';
import { NightlyRollup } from './constructs/nightly-rollup.ts';
import { Paging } from './constructs/paging.ts';
import { PipelineMonitoring, type WatchedDeadLetterQueue } from './constructs/pipeline-monitoring.ts';
import { IncidentStore } from './constructs/store.ts';

export interface KlaxonStackProps extends StackProps {
  /** The validated config (parseConfig). Embedded into every function bundle. */
  readonly config: KlaxonConfig;
  /**
   * Throttling of the HTTP API.
   * @default KlaxonApi's defaults
   */
  readonly api?: Pick<KlaxonApiProps, 'rateLimit' | 'burstLimit'>;
  /**
   * Key prefix of the analyst exports inside the exports bucket ('' or ending in '/').
   * @default ''
   */
  readonly exportPrefix?: string;
  /**
   * SNS topic that every dead-letter-queue alarm notifies (an ops channel outside Klaxon, which
   * still hears when Klaxon itself is broken). See PipelineMonitoringProps.alarmTopicArn.
   * @default - no alarm action
   */
  readonly alarmTopicArn?: string;
  /**
   * The account's quota of SNS filter policies per topic, when AWS has raised it: one per contact
   * endpoint. See PagingProps.filterPoliciesPerTopic.
   * @default 200, SNS's default quota
   */
  readonly filterPoliciesPerTopic?: number;
}

/**
 * Klaxon in one stack. Stateful resources (table, bus, pages topic, timer group, signing secret,
 * export buckets and their Glue catalog) first and apart; stateless ones (functions, rules, API,
 * the nightly schedule) are built on them and can be replaced freely.
 */
export class KlaxonStack extends Stack {
  readonly store: IncidentStore;
  readonly bus: KlaxonEventBus;
  readonly paging: Paging;
  readonly timers: EscalationTimers;
  readonly ackSecret: AckSigningSecret;
  readonly exports: AnalystExports;
  readonly processAlert: KlaxonFunction;
  readonly http: KlaxonFunction;
  /** The management API (/api/*, IAM-authorized) and /openapi.json. */
  readonly apiFunction: KlaxonFunction;
  readonly escalate: KlaxonFunction;
  /**
   * The escalate function's ARN, formatted from its fixed name: every function (escalate too)
   * and the scheduler role need it, and a reference to the function would be circular.
   */
  readonly escalateFunctionArn: string;
  readonly routes: EventRoutes;
  readonly api: KlaxonApi;
  readonly nightlyRollup: NightlyRollup;
  /** The nightly rollup function (`nightlyRollup.rollup`). */
  readonly rollup: KlaxonFunction;
  /** DLQ alarms and the `<stack>-pipeline` dashboard. */
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: KlaxonStackProps) {
    const { config, api, exportPrefix, alarmTopicArn, filterPoliciesPerTopic, ...stackProps } = props;
    super(scope, id, { description: `Klaxon (${config.name}): alerts in, incidents out`, ...stackProps });

    const escalateFunctionName = `${this.stackName}-escalate`;
    this.escalateFunctionArn = this.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: escalateFunctionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // Stateful.
    this.store = new IncidentStore(this, 'Store');
    this.bus = new KlaxonEventBus(this, 'EventBus');
    this.paging = new Paging(this, 'Paging', {
      responders: config.responders,
      ...(filterPoliciesPerTopic === undefined ? {} : { filterPoliciesPerTopic }),
    });
    this.timers = new EscalationTimers(this, 'EscalationTimers', {
      escalateFunctionArn: this.escalateFunctionArn,
    });
    this.ackSecret = new AckSigningSecret(this, 'AckSigningSecret');
    this.exports = new AnalystExports(this, 'AnalystExports', {
      ...(exportPrefix === undefined ? {} : { prefix: exportPrefix }),
    });
    const table = this.store.table;
    const eventBus = this.bus.eventBus;
    const topic = this.paging.topic;
    const secret = this.ackSecret.secret;

    // Stateless.
    const environment = {
      TABLE_NAME: table.tableName,
      EVENT_BUS_NAME: eventBus.eventBusName,
      PAGES_TOPIC_ARN: topic.topicArn,
      PAGES_TOPIC_DISPLAY_NAME: this.paging.displayName,
      SCHEDULE_GROUP_NAME: this.timers.groupName,
      SCHEDULER_ROLE_ARN: this.timers.role.roleArn,
      SCHEDULER_DLQ_ARN: this.timers.dlq.queueArn,
      ESCALATE_FUNCTION_ARN: this.escalateFunctionArn,
      ACK_SECRET_ARN: secret.secretArn,
    };
    const configuredUrl = config.publicUrl?.replace(/\/+$/, '');
    this.http = new KlaxonFunction(this, 'HttpFunction', {
      entry: 'lambdas/handlers/http.ts',
      description: 'Ingest API, acknowledge links and read endpoints',
      serviceName: 'klaxon-http',
      invocation: 'sync',
      config,
      bundleOpenApi: true,
      // The API's URL would be circular here (this function is its integration): without a
      // configured URL the function derives it from the request.
      environment: configuredUrl === undefined ? environment : { ...environment, PUBLIC_URL: configuredUrl },
    });
    // The management API has its own function: the ingest path (above) stays small and fast to load.
    this.apiFunction = new KlaxonFunction(this, 'ApiFunction', {
      entry: 'lambdas/handlers/api.ts',
      description: 'Management API: incidents, incident command, keys, maintenance, overrides, rollups',
      serviceName: 'klaxon-api',
      invocation: 'sync',
      config,
      environment: configuredUrl === undefined ? environment : { ...environment, PUBLIC_URL: configuredUrl },
    });
    this.api = new KlaxonApi(this, 'Api', {
      handler: this.http.function,
      apiHandler: this.apiFunction.function,
      ...api,
    });
    const linking = { ...environment, PUBLIC_URL: configuredUrl ?? this.api.baseUrl };
    this.processAlert = new KlaxonFunction(this, 'ProcessAlertFunction', {
      entry: 'lambdas/handlers/process-alert.ts',
      description: 'Dedups alerts into incidents: open, append, acknowledge, resolve',
      serviceName: 'klaxon-process-alert',
      invocation: 'async',
      config,
      environment: linking,
    });
    this.escalate = new KlaxonFunction(this, 'EscalateFunction', {
      entry: 'lambdas/handlers/escalate.ts',
      description: 'Fires escalation timers: pages the next level of unacknowledged incidents',
      serviceName: 'klaxon-escalate',
      // EventBridge Scheduler invokes Lambda asynchronously.
      invocation: 'async',
      functionName: escalateFunctionName,
      config,
      environment: linking,
    });
    for (const fn of [this.processAlert, this.http, this.apiFunction, this.escalate]) {
      this.store.grantReadWriteData(fn.function);
      topic.grantPublish(fn.function);
      this.timers.grantManageSchedules(fn.function);
      secret.grantRead(fn.function);
      // http: normalized alerts; all four: incident lifecycle events (docs/EVENTS.md).
      eventBus.grantPutEventsTo(fn.function);
    }

    // Nightly: rollups, error budgets ("Error Budget Exhausted" on the bus, owners paged), exports.
    this.nightlyRollup = new NightlyRollup(this, 'NightlyRollup', {
      config,
      environment: {
        ...linking,
        EXPORT_BUCKET: this.exports.bucket.bucketName,
        EXPORT_PREFIX: this.exports.prefix,
        POWERTOOLS_METRICS_NAMESPACE: 'Klaxon',
        // The contact check's metric carries it: each stack's alarm watches its own stack's check.
        KLAXON_STACK_NAME: this.stackName,
      },
    });
    this.rollup = this.nightlyRollup.rollup;
    const rollupFn = this.rollup.function;
    this.store.grantReadWriteData(rollupFn);
    topic.grantPublish(rollupFn);
    secret.grantRead(rollupFn);
    eventBus.grantPutEventsTo(rollupFn);
    // The hourly contact check: reads the topic's subscriptions and the account's SMS state.
    this.paging.grantContactCheck(rollupFn);
    // Writes only, under the export prefix: the rollup overwrites each day's files, never reads them.
    this.exports.grantWriteExports(rollupFn);

    this.routes = new EventRoutes(this, 'Routes', {
      klaxonBus: eventBus,
      targets: { processAlert: this.processAlert.function },
    });

    // Operability: every DLQ alarmed, one dashboard from ingest to pages.
    const deadLetterQueues: WatchedDeadLetterQueue[] = [
      {
        name: 'rule-delivery',
        queue: this.routes.deliveryDeadLetterQueue,
        description:
          'Alerts EventBridge could not deliver to process-alert after its retries (function missing, ' +
          'throttled, permissions): no incident was opened for them. Each message is the event; fix ' +
          'the cause, then put the events on the bus again.',
      },
      {
        name: 'process-alert',
        queue: deadLetterQueueOf(this.processAlert),
        description:
          'Alert events process-alert failed on every attempt: no incident was opened or updated for ' +
          'them. Each message is the event; see the function log, fix, then put the events on the bus again.',
      },
      {
        name: 'escalate',
        queue: deadLetterQueueOf(this.escalate),
        description:
          'Timers escalate failed on every attempt: an escalation step, acknowledgement timeout, ' +
          'reminder, heartbeat or maintenance start did not run, so someone may not have been paged. ' +
          'Check the open incidents now; each message is the timer input.',
      },
      {
        name: 'rollup',
        queue: deadLetterQueueOf(this.rollup),
        description:
          'The nightly rollup failed on every attempt: rollups, exports and error budgets for the day ' +
          'are missing. See the function log, then re-run it with `klaxon rollup`.',
      },
      {
        name: 'timers',
        queue: this.timers.dlq,
        description:
          'Escalation timers EventBridge Scheduler could not deliver to escalate after its retries: ' +
          'someone may not have been paged. Check the open incidents now; each message is the timer input.',
      },
      {
        name: 'rollup-schedule',
        queue: this.nightlyRollup.dlq,
        description:
          'Nightly runs EventBridge Scheduler could not deliver to the rollup function: re-run the day ' +
          'with `klaxon rollup`.',
      },
      {
        name: 'pages',
        queue: this.paging.deadLetterQueue,
        description:
          'Pages SNS could not deliver to a contact (address gone, SMS or email refused, webhook ' +
          'failing): that person was not paged. The message attributes name the responder and contact.',
      },
    ];
    for (const { name, queue } of deadLetterQueues) {
      // Unreplayed dead letters are stateful: a stack deleted or replaced keeps them (14 days).
      queue.applyRemovalPolicy(RemovalPolicy.RETAIN);
      new CfnOutput(this, `DeadLetterQueueUrl${pascal(name)}`, {
        description: `klaxon dlq replay --queue-url <this> (the ${name} dead-letter queue)`,
        value: queue.queueUrl,
      });
    }
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      httpApi: this.api.httpApi,
      functions: [
        { name: 'http', function: this.http.function },
        { name: 'api', function: this.apiFunction.function },
        { name: 'process-alert', function: this.processAlert.function },
        { name: 'escalate', function: this.escalate.function },
        { name: 'rollup', function: this.rollup.function },
      ],
      deadLetterQueues,
      routes: this.routes,
      timers: this.timers,
      escalate: this.escalate.function,
      unreachableContacts: new cloudwatch.Metric({
        namespace: 'Klaxon',
        ...unreachableContactsMetric(this.stackName),
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      }),
      ...(alarmTopicArn === undefined ? {} : { alarmTopicArn }),
    });

    new CfnOutput(this, 'IngestUrl', {
      description: 'PagerDuty Events v2 compatible enqueue URL',
      value: `${this.api.url}v2/enqueue`,
    });
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the Klaxon API', value: this.api.url });
    new CfnOutput(this, 'EventBusName', {
      description: 'Put native alerts here',
      value: eventBus.eventBusName,
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'PagesTopicArn', {
      description: 'Pages are published here, one message per contact',
      value: topic.topicArn,
    });
    new CfnOutput(this, 'ExportBucketName', {
      description: 'Nightly analyst exports (JSON Lines and CSV, partitioned by dt=YYYY-MM-DD)',
      value: this.exports.bucket.bucketName,
    });
    new CfnOutput(this, 'ProcessAlertFunctionName', {
      description: 'klaxon dlq replay --function <this> for the process-alert and rule-delivery letters',
      value: this.processAlert.function.functionName,
    });
    new CfnOutput(this, 'EscalateFunctionName', {
      description: 'klaxon dlq replay --function <this> for the escalate and timers letters',
      value: this.escalate.function.functionName,
    });
    new CfnOutput(this, 'RollupFunctionName', {
      description: 'Backfill: klaxon rollup --from … --to … --function <this>',
      value: this.rollup.function.functionName,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard: ingest, functions, dead-letter queues, escalation lag',
      value: this.monitoring.dashboard.dashboardName,
    });
    new CfnOutput(this, 'GlueDatabaseName', {
      description: 'Query the exports in Athena: tables incidents, incidents_csv, rollups, rollups_csv',
      value: this.exports.databaseName,
    });
  }
}

/** `rule-delivery` → `RuleDelivery` (output ids are alphanumeric). */
function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());
}

function deadLetterQueueOf(fn: KlaxonFunction): sqs.IQueue {
  if (fn.deadLetterQueue === undefined) {
    throw new Error(
      `KlaxonStack: ${fn.node.path} is invoked asynchronously and must have a dead-letter queue`,
    );
  }
  return fn.deadLetterQueue;
}
