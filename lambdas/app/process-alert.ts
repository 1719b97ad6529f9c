import type { Alert } from '#core/alert';
import { mapSourceSeverity } from '#core/classification';
import type { KlaxonConfig } from '#core/config';
import { randomId, timelineEntryId } from '#core/ids';
import type { Incident } from '#core/incident';
import { once } from '#core/lazy';
import { localDay } from '#core/metrics';
import type { Severity } from '#core/severity';
import {
  afterAcknowledged,
  afterResolved,
  type EscalationDeps,
  OPENING_LEASE_MS,
  startEscalation,
} from './escalation.ts';
import { afterMonitoring, afterReopened, monitoringUntil, reopenIncident } from './lifecycle.ts';
import type { AlertOutcome, Transition, TriggerOptions } from './ports.ts';

export type ProcessAlertDeps = EscalationDeps;

/**
 * Applies one canonical alert to the incidents.
 * 1. trigger: count it into the open incident for its key, or open one — a new incident starts
 *    escalating (page level 1, timer for level 2)
 *    acknowledge / resolve: move the open incident for its key, stop escalation, tell responders
 *    record: note it on the open incident's timeline, page nobody
 * 2. on a replay of the input that made a transition, complete that transition's effects again
 *    (each is idempotent, and done once its timeline entry exists), so a crash between the
 *    steps is repaired by the retry
 */
export async function processAlert(alert: Alert, deps: ProcessAlertDeps): Promise<AlertOutcome> {
  const now = deps.clock();
  const who = alert.client ?? alert.origin;
  const cause = { who, channel: alert.origin, cause: alert.eventKey };
  switch (alert.action) {
    case 'trigger': {
      // Built only if the store needs its full upsert (not for a warm process's append), then kept.
      const opening = once(() => ({
        ...openingOptions(alert, deps.config),
        openingLease: { token: randomId(), until: new Date(now.getTime() + OPENING_LEASE_MS) },
      }));
      const outcome = await deps.store.trigger(alert, now, opening);
      const opened = transitioned(outcome, 'opened');
      // The delivery that created it holds the opening lease; another delivery of the same event
      // (a replay) must take it first, or is retried later — level 1 is paged once.
      if (opened)
        await startEscalation(opened, deps, {
          token: opening().openingLease.token,
          held: outcome.kind === 'opened',
        });
      // Counted into a monitoring incident — now, or by an earlier delivery of this alert whose
      // reopen did not complete (the period's count moved). A replay of an alert counted before
      // the period began changes nothing.
      const appended =
        outcome.kind === 'appended' ||
        (outcome.kind === 'replayed' &&
          outcome.caused === 'appended' &&
          outcome.incident.monitoringCount !== undefined &&
          outcome.incident.alertCount > outcome.incident.monitoringCount);
      if (appended && outcome.incident.status === 'monitoring')
        await reopenIncident(outcome.incident, deps, { eventKey: alert.eventKey });
      // A replay after a reopen this trigger made: complete the reopen's effects (idempotent).
      else if (outcome.kind === 'replayed' && outcome.incident.reopens > 0)
        await afterReopened(outcome.incident, deps);
      return outcome;
    }
    case 'acknowledge': {
      const outcome = await deps.store.acknowledge(alert, now, who);
      const acknowledged = transitioned(outcome, 'acknowledged');
      if (acknowledged) await afterAcknowledged(acknowledged, cause, deps);
      return outcome;
    }
    case 'resolve': {
      const until = monitoringUntil(alert.service, deps, now);
      const outcome = await deps.store.resolve(alert, now, who, {
        day: localDay(now, deps.config.timeZone),
        ...(until ? { monitoringUntil: until } : {}),
      });
      await afterResolveRequest(outcome, cause, deps);
      return outcome;
    }
    case 'record': {
      const incident = await deps.store.findOpen(alert.service, alert.dedupKey);
      if (incident === undefined) return { kind: 'ignored', reason: 'no open incident to record on' };
      await deps.store.putTimelineEntry({
        id: timelineEntryId(incident.id, 'RECORDED', alert.eventKey),
        incidentId: incident.id,
        at: alert.occurredAt ?? alert.receivedAt,
        type: 'RECORDED',
        who,
        text: alert.summary,
      });
      return { kind: 'ignored', reason: 'recorded on the timeline; nobody is paged', incident };
    }
  }
}

/**
 * What a new incident is opened with: its severity from the service's mapping of the sender's
 * (or the one given), the escalation policy for that severity, and the zone of the day it belongs
 * to (the store files it under its start's day: it decides the start).
 */
export function openingOptions(alert: Alert, config: KlaxonConfig, sev?: Severity): TriggerOptions {
  const service = config.services.find((s) => s.id === alert.service);
  const severity = sev ?? mapSourceSeverity(alert.severity, service?.severityMapping);
  const policy = service?.severityPolicies[severity] ?? service?.escalationPolicy;
  return {
    timeZone: config.timeZone,
    sev: severity,
    ...(policy ? { escalationPolicy: policy } : {}),
  };
}

/** A resolve's follow-up, now or for a replay: its monitoring period's start, or the resolution's. */
export async function afterResolveRequest(
  outcome: AlertOutcome,
  act: { who: string; channel: string; cause: string },
  deps: EscalationDeps,
): Promise<void> {
  const monitoring = transitioned(outcome, 'monitoring');
  if (monitoring) await afterMonitoring(monitoring, act, deps);
  const resolved = transitioned(outcome, 'resolved');
  if (resolved) await afterResolved(resolved, act, deps);
}

/** The incident, if the outcome made transition `to`, now or (for a replay) the first time. */
export function transitioned(outcome: AlertOutcome, to: 'opened' | Transition): Incident | undefined {
  if (outcome.kind === to || (outcome.kind === 'replayed' && outcome.caused === to)) return outcome.incident;
  return undefined;
}
