import type { Alert } from '#core/alert';
import { configuredService, type KlaxonConfig } from '#core/config';
import { ValidationError } from '#core/errors';
import {
  ALERT_DETAIL_TYPE,
  CLOUDWATCH_CONFIG_DETAIL_TYPE,
  CLOUDWATCH_DETAIL_TYPE,
  CLOUDWATCH_SOURCE,
} from '#core/routing';
import {
  cloudWatchDeletionToAlert,
  cloudWatchServicesOf,
  cloudWatchToAlert,
  parseCloudWatchAlarmDeletion,
  parseCloudWatchAlarmEvent,
} from '#formats/cloudwatch';
import { nativeToAlert } from '#formats/native';
import type { EscalationDeps } from './escalation.ts';
import type { AlertOutcome } from './ports.ts';
import { processAlert } from './process-alert.ts';

/** The parts of an EventBridge event Klaxon routes on. */
export interface RoutedEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: unknown;
}

/** Turns an event delivered by a route into the canonical Alert it carries. */
export function alertFromEvent(event: RoutedEvent, config: KlaxonConfig, receivedAt: string): Alert {
  if (event.source === CLOUDWATCH_SOURCE && event['detail-type'] === CLOUDWATCH_DETAIL_TYPE) {
    return cloudWatchToAlert(parseCloudWatchAlarmEvent(event), config, receivedAt);
  }
  if (event['detail-type'] === ALERT_DETAIL_TYPE) {
    const alert = nativeToAlert(event.detail, { id: event.id, time: event.time, source: event.source });
    // The event alone names its service (no integration key, no routing rule checked at synth):
    // one the config does not have (a typo) is refused by name, not opened to page nobody.
    configuredService(config, alert.service);
    return alert;
  }
  throw new ValidationError('no route for this event', [
    {
      field: 'detail-type',
      message: `"${event['detail-type']}" from "${event.source}" is not routed to process-alert`,
    },
  ]);
}

export type AlertEventDeps = EscalationDeps;

/**
 * The process-alert target: parse the routed event → apply the alert → report the outcome.
 * A bad event throws ValidationError: after the target's retries it lands in the dead-letter
 * queue with the whole event, where it can be inspected and re-driven.
 */
export async function handleAlertEvent(event: RoutedEvent, deps: AlertEventDeps): Promise<AlertOutcome> {
  // The CloudWatch route always exists; without a `cloudwatch` section nobody asked for alarms
  // to become incidents. Dropping them beats failing into the dead-letter queue — whose own alarm
  // would then be such an event, and fail again.
  if (event.source === CLOUDWATCH_SOURCE && deps.config.cloudwatch === undefined) {
    return {
      kind: 'ignored',
      reason: 'CloudWatch alarms are not routed: the config has no cloudwatch section',
    };
  }
  // Received when it was put on the bus: a retried delivery keeps that time, so it is still known
  // for a replay after its incident was resolved (an alert received after that would be new).
  const time = Date.parse(event.time);
  const receivedAt = Number.isNaN(time) ? deps.clock().toISOString() : new Date(time).toISOString();
  if (event.source === CLOUDWATCH_SOURCE && event['detail-type'] === CLOUDWATCH_CONFIG_DETAIL_TYPE) {
    return noteDeletedAlarm(parseCloudWatchAlarmDeletion(event), deps, receivedAt);
  }
  const alert = alertFromEvent(event, deps.config, receivedAt);
  return processAlert(alert, deps);
}

/**
 * A deleted alarm: noted on its open incident, under whichever service it was filed (the name
 * routes it, or a tag did — see cloudWatchServicesOf). Not on one opened (or reopened) after the
 * deletion — a late delivery or a replay, after an alarm of the same name was created again and
 * fired — nor on one in its monitoring period (its OK came). Otherwise nothing changes.
 */
async function noteDeletedAlarm(
  event: Parameters<typeof cloudWatchDeletionToAlert>[0],
  deps: AlertEventDeps,
  receivedAt: string,
): Promise<AlertOutcome> {
  const deletedAt = Date.parse(event.time);
  for (const service of cloudWatchServicesOf(event.detail.alarmName, deps.config)) {
    const alert = cloudWatchDeletionToAlert(event, deps.config, receivedAt, service);
    const open = await deps.store.findOpen(service, alert.dedupKey);
    if (open === undefined) continue;
    const since = Math.max(Date.parse(open.detectedAt), Date.parse(open.reopenedAt ?? open.detectedAt));
    if (open.status === 'monitoring' || since > deletedAt)
      return { kind: 'ignored', reason: 'the deleted alarm has no open incident from before its deletion' };
    return processAlert(alert, deps);
  }
  return { kind: 'ignored', reason: 'the deleted alarm has no open incident' };
}
