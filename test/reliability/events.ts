import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RoutedEvent } from '#app/alert-event';
import type { Alert } from '#core/alert';
import { ALERT_DETAIL_TYPE, INGEST_SOURCE } from '#core/routing';

/** Bus events in the shape EventBridge delivers them to process-alert. */

export type BusEnvelope = RoutedEvent & {
  readonly version: '0';
  readonly account: string;
  readonly region: string;
  readonly resources: readonly string[];
};

/** A canonical alert on the Klaxon bus, as the ingest function puts it (JSON, as it travels). */
export function alertEvent(alert: Alert, id: string = randomUUID()): BusEnvelope {
  return {
    version: '0',
    id,
    'detail-type': ALERT_DETAIL_TYPE,
    source: INGEST_SOURCE,
    account: '000000000000',
    time: alert.receivedAt,
    region: 'eu-west-1',
    resources: [],
    detail: JSON.parse(JSON.stringify(alert)) as unknown,
  };
}

const CLOUDWATCH = JSON.parse(
  readFileSync(new URL('../fixtures/cloudwatch-alarm.json', import.meta.url), 'utf8'),
) as BusEnvelope & { detail: { state: Record<string, unknown> } };

/** A "CloudWatch Alarm State Change" event (the documented example) in state `value` at `at`. */
export function cloudWatchEvent(
  value: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA',
  at: string,
  id: string = randomUUID(),
): BusEnvelope {
  return {
    ...CLOUDWATCH,
    id,
    time: at,
    detail: {
      ...CLOUDWATCH.detail,
      state: { ...CLOUDWATCH.detail.state, value, timestamp: at, reason: `${value} at ${at}` },
    },
  };
}

/**
 * A "CloudWatch Alarm Configuration Change" event of the same alarm, deleted at `at` (the shape
 * AWS documents: `operation`, the alarm's name, its last state and configuration).
 */
export function cloudWatchDeletion(at: string, id: string = randomUUID()): BusEnvelope {
  return {
    ...CLOUDWATCH,
    id,
    'detail-type': 'CloudWatch Alarm Configuration Change',
    time: at,
    detail: {
      alarmName: (CLOUDWATCH.detail as unknown as { alarmName: string }).alarmName,
      operation: 'delete',
      state: { value: 'ALARM', timestamp: at },
      configuration: (CLOUDWATCH.detail as unknown as { configuration: unknown }).configuration,
    },
  };
}
