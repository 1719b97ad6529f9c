import type { Alert } from '#core/alert';
import { timelineEntryId } from '#core/ids';
import type { Incident } from '#core/incident';
import { localDay } from '#core/metrics';
import { afterAcknowledged, afterResolved, type EscalationDeps, startEscalation } from './escalation.ts';
import type { AlertOutcome } from './ports.ts';

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
      const policy = deps.config.services.find((s) => s.id === alert.service)?.escalationPolicy;
      const day = localDay(alert.occurredAt ?? alert.receivedAt, deps.config.timeZone);
      const outcome = await deps.store.trigger(alert, now, {
        day,
        ...(policy ? { escalationPolicy: policy } : {}),
      });
      const opened = transitioned(outcome, 'opened');
      if (opened) await startEscalation(opened, deps);
      return outcome;
    }
    case 'acknowledge': {
      const outcome = await deps.store.acknowledge(alert, now, who);
      const acknowledged = transitioned(outcome, 'acknowledged');
      if (acknowledged) await afterAcknowledged(acknowledged, cause, deps);
      return outcome;
    }
    case 'resolve': {
      const outcome = await deps.store.resolve(alert, now, who, localDay(now, deps.config.timeZone));
      const resolved = transitioned(outcome, 'resolved');
      if (resolved) await afterResolved(resolved, cause, deps);
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

/** The incident, if the outcome made transition `to`, now or (for a replay) the first time. */
function transitioned(
  outcome: AlertOutcome,
  to: 'opened' | 'acknowledged' | 'resolved',
): Incident | undefined {
  if (outcome.kind === to || (outcome.kind === 'replayed' && outcome.caused === to)) return outcome.incident;
  return undefined;
}
