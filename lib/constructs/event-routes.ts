import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type BusName, type EventPattern, ROUTES, type Route, type RouteTarget } from '#core/routing';
import { acknowledgeNag } from '../nag.ts';

export interface EventRoutesProps {
  /** Klaxon's custom bus: where routes with `bus: 'klaxon'` listen. */
  readonly klaxonBus: events.IEventBus;
  /** The function behind each route target. */
  readonly targets: Readonly<Record<RouteTarget, lambda.IFunction>>;
  /**
   * The routes to create rules for.
   * @default ROUTES (lambdas/core/routing.ts, shared with the local runtime)
   */
  readonly routes?: readonly Route[];
  /**
   * How often EventBridge retries delivering an event to the target (0..185).
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps trying to deliver an event (1 min..24 h).
   * @default Duration.hours(24)
   */
  readonly maxEventAge?: Duration;
}

/**
 * One EventBridge rule per route. Events that EventBridge cannot deliver to the target (throttled,
 * function missing) land in `deliveryDeadLetterQueue`; events that the function accepted but
 * failed to process land in that function's own DLQ.
 */
export class EventRoutes extends Construct {
  readonly rules: Readonly<Record<string, events.Rule>>;
  readonly deliveryDeadLetterQueue: sqs.Queue;
  /** The bus each rule listens on, by route id. */
  readonly #buses: Readonly<Record<string, { name: BusName; bus: events.IEventBus }>>;

  constructor(scope: Construct, id: string, props: EventRoutesProps) {
    super(scope, id);
    const routes = props.routes ?? ROUTES;
    const retryAttempts = props.retryAttempts ?? 8;
    const maxEventAge = props.maxEventAge ?? Duration.hours(24);
    validate(routes, props, retryAttempts, maxEventAge);

    this.deliveryDeadLetterQueue = new sqs.Queue(this, 'DeliveryDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(
      this.deliveryDeadLetterQueue,
      'AwsSolutions-SQS3',
      "This queue is the dead-letter queue of every route target (the rules' DeadLetterConfig): " +
        'its depth is alarmed (PipelineMonitoring) and it keeps messages 14 days for inspection and ' +
        'replay. A dead-letter queue of its own would only move the same messages once more.',
    );

    const buses: Record<BusName, events.IEventBus> = {
      klaxon: props.klaxonBus,
      default: events.EventBus.fromEventBusName(this, 'DefaultBus', 'default'),
    };
    const rules: Record<string, events.Rule> = {};
    const ruleBuses: Record<string, { name: BusName; bus: events.IEventBus }> = {};
    for (const route of routes) {
      ruleBuses[route.id] = { name: route.bus, bus: buses[route.bus] };
      rules[route.id] = new events.Rule(this, route.id, {
        description: route.description,
        eventBus: buses[route.bus],
        eventPattern: toCdkPattern(route.pattern),
        targets: [
          new targets.LambdaFunction(props.targets[route.target], {
            retryAttempts,
            maxEventAge,
            deadLetterQueue: this.deliveryDeadLetterQueue,
          }),
        ],
      });
    }
    this.rules = rules;
    this.#buses = ruleBuses;
  }

  /**
   * `AWS/Events` FailedInvocations of one route's rule (Sum): events its target never received
   * after the retries and that could not be sent to the DLQ either. EventBridge publishes it only
   * when it is not zero, and names a custom-bus rule by `EventBusName` and `RuleName`, a
   * default-bus rule by `RuleName` alone.
   */
  metricFailedInvocations(routeId: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const rule = this.rules[routeId];
    const bus = this.#buses[routeId];
    if (rule === undefined || bus === undefined) throw new Error(`EventRoutes: no route "${routeId}"`);
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'FailedInvocations',
      statistic: cloudwatch.Stats.SUM,
      dimensionsMap:
        bus.name === 'default'
          ? { RuleName: rule.ruleName }
          : { EventBusName: bus.bus.eventBusName, RuleName: rule.ruleName },
      ...props,
    });
  }
}

/** Wire-form pattern keys (as EventBridge and the local bus read them) to CDK's property names. */
const CDK_KEYS: Readonly<Record<string, keyof events.EventPattern>> = {
  source: 'source',
  'detail-type': 'detailType',
  detail: 'detail',
  account: 'account',
  region: 'region',
  resources: 'resources',
  id: 'id',
  time: 'time',
  version: 'version',
};

/**
 * Converts a wire-form pattern to CDK's shape. Values pass through untouched, so content filters
 * (`{ prefix: 'x' }`) synthesize exactly as written.
 */
export function toCdkPattern(pattern: EventPattern): events.EventPattern {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    const cdkKey = CDK_KEYS[key];
    if (cdkKey === undefined) throw new Error(`EventRoutes: unsupported event pattern key "${key}"`);
    out[cdkKey] = value;
  }
  return out as events.EventPattern;
}

function validate(
  routes: readonly Route[],
  props: EventRoutesProps,
  retryAttempts: number,
  maxEventAge: Duration,
): void {
  if (routes.length === 0) throw new Error('EventRoutes: routes must not be empty');
  const ids = new Set<string>();
  for (const route of routes) {
    if (ids.has(route.id)) throw new Error(`EventRoutes: duplicate route id "${route.id}"`);
    ids.add(route.id);
    if (Object.keys(route.pattern).length === 0) {
      throw new Error(`EventRoutes: route "${route.id}" has an empty pattern (it would match nothing)`);
    }
    if (props.targets[route.target] === undefined) {
      throw new Error(`EventRoutes: route "${route.id}" targets "${route.target}", which has no function`);
    }
  }
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
    throw new Error(`EventRoutes: retryAttempts must be an integer in 0..185, got ${retryAttempts}`);
  }
  const age = maxEventAge.toSeconds();
  if (age < 60 || age > 86_400) {
    throw new Error(`EventRoutes: maxEventAge must be 1 min..24 h, got ${age} s`);
  }
}
