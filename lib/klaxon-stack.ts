import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { KlaxonConfig } from '#core/config';
import { KlaxonApi, type KlaxonApiProps } from './constructs/api.ts';
import { KlaxonEventBus } from './constructs/event-bus.ts';
import { EventRoutes } from './constructs/event-routes.ts';
import { KlaxonFunction } from './constructs/klaxon-function.ts';
import { IncidentStore } from './constructs/store.ts';

export interface KlaxonStackProps extends StackProps {
  /** The validated config (parseConfig). Embedded into every function bundle. */
  readonly config: KlaxonConfig;
  /**
   * Throttling of the HTTP API.
   * @default KlaxonApi's defaults
   */
  readonly api?: Pick<KlaxonApiProps, 'rateLimit' | 'burstLimit'>;
}

/**
 * Klaxon in one stack. Stateful resources (table, bus) first and apart; stateless ones (functions,
 * rules, API) are built on them and can be replaced freely.
 */
export class KlaxonStack extends Stack {
  readonly store: IncidentStore;
  readonly bus: KlaxonEventBus;
  readonly processAlert: KlaxonFunction;
  readonly http: KlaxonFunction;
  readonly routes: EventRoutes;
  readonly api: KlaxonApi;

  constructor(scope: Construct, id: string, props: KlaxonStackProps) {
    const { config, api, ...stackProps } = props;
    super(scope, id, { description: `Klaxon (${config.name}): alerts in, incidents out`, ...stackProps });

    // Stateful.
    this.store = new IncidentStore(this, 'Store');
    this.bus = new KlaxonEventBus(this, 'EventBus');
    const table = this.store.table;
    const eventBus = this.bus.eventBus;

    // Stateless.
    const environment = { TABLE_NAME: table.tableName, EVENT_BUS_NAME: eventBus.eventBusName };
    this.processAlert = new KlaxonFunction(this, 'ProcessAlertFunction', {
      entry: 'lambdas/handlers/process-alert.ts',
      description: 'Dedups alerts into incidents: open, append, acknowledge, resolve',
      serviceName: 'klaxon-process-alert',
      invocation: 'async',
      config,
      environment,
    });
    this.http = new KlaxonFunction(this, 'HttpFunction', {
      entry: 'lambdas/handlers/http.ts',
      description: 'Ingest API, acknowledge links and read endpoints',
      serviceName: 'klaxon-http',
      invocation: 'sync',
      config,
      environment,
    });
    table.grantReadWriteData(this.processAlert.function);
    table.grantReadWriteData(this.http.function);
    eventBus.grantPutEventsTo(this.http.function);

    this.routes = new EventRoutes(this, 'Routes', {
      klaxonBus: eventBus,
      targets: { processAlert: this.processAlert.function },
    });
    this.api = new KlaxonApi(this, 'Api', { handler: this.http.function, ...api });

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
  }
}
