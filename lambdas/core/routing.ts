/**
 * Routing rules: the one definition of which events reach which handler. The CDK stack turns
 * each route into an EventBridge rule; the local runtime's in-process bus matches events with the
 * very same patterns. Patterns are written in EventBridge's wire form.
 */

/** `detail-type` of a canonical or native alert on the Klaxon bus. */
export const ALERT_DETAIL_TYPE = 'Klaxon Alert';
/** `source` the ingest HTTP function puts on normalized alerts. */
export const INGEST_SOURCE = 'klaxon.ingest';
/** `source` of the events Klaxon itself publishes (Error Budget Exhausted, lifecycle events). */
export const KLAXON_SOURCE = 'klaxon';
export const CLOUDWATCH_SOURCE = 'aws.cloudwatch';
export const CLOUDWATCH_DETAIL_TYPE = 'CloudWatch Alarm State Change';
/** CloudWatch's event for an alarm created, updated or deleted: only deletions are routed. */
export const CLOUDWATCH_CONFIG_DETAIL_TYPE = 'CloudWatch Alarm Configuration Change';

export type BusName = 'klaxon' | 'default';
export type RouteTarget = 'processAlert';

/** An EventBridge event pattern in wire form (`detail-type`, not `detailType`). */
export interface EventPattern {
  readonly source?: readonly (string | Record<string, unknown>)[];
  readonly 'detail-type'?: readonly (string | Record<string, unknown>)[];
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface Route {
  /** Stable id: the CDK construct id and the local bus's rule name. */
  readonly id: string;
  readonly description: string;
  readonly bus: BusName;
  readonly pattern: EventPattern;
  readonly target: RouteTarget;
}

export const ROUTES: readonly Route[] = [
  {
    id: 'AlertsToProcessor',
    description: 'Canonical alerts from the ingest API and native alerts from producers',
    bus: 'klaxon',
    pattern: { 'detail-type': [ALERT_DETAIL_TYPE] },
    target: 'processAlert',
  },
  {
    id: 'CloudWatchAlarmsToProcessor',
    description: 'CloudWatch alarm state changes from the default bus',
    bus: 'default',
    pattern: { source: [CLOUDWATCH_SOURCE], 'detail-type': [CLOUDWATCH_DETAIL_TYPE] },
    target: 'processAlert',
  },
  {
    id: 'CloudWatchAlarmDeletionsToProcessor',
    description: 'CloudWatch alarm deletions from the default bus, noted on the open incident of the alarm',
    bus: 'default',
    pattern: {
      source: [CLOUDWATCH_SOURCE],
      'detail-type': [CLOUDWATCH_CONFIG_DETAIL_TYPE],
      detail: { operation: ['delete'] },
    },
    target: 'processAlert',
  },
];
