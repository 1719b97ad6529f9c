import type { Alert } from '#core/alert';
import { timelineEntryId } from '#core/ids';
import type { Incident, TimelineEntry, TimelineType } from '#core/incident';
import type { AlertOutcome, Clock, IncidentStore } from './ports.ts';

export interface ProcessAlertDeps {
  readonly store: IncidentStore;
  readonly clock: Clock;
}

/**
 * Applies one canonical alert to the incidents.
 * 1. trigger: count it into the open incident for its key, or open one
 *    acknowledge / resolve: move the open incident for its key
 *    record: note it on the open incident, page nobody
 * 2. write the timeline entry the transition earned (again, idempotently, on a replay, so a
 *    crash between the two steps is repaired by the retry)
 */
export async function processAlert(alert: Alert, deps: ProcessAlertDeps): Promise<AlertOutcome> {
  const now = deps.clock();
  const who = alert.client ?? alert.origin;
  switch (alert.action) {
    case 'trigger': {
      const outcome = await deps.store.trigger(alert, now);
      await recordTransition(alert, outcome, who, deps.store);
      return outcome;
    }
    case 'acknowledge': {
      const outcome = await deps.store.acknowledge(alert, now, who);
      await recordTransition(alert, outcome, who, deps.store);
      return outcome;
    }
    case 'resolve': {
      const outcome = await deps.store.resolve(alert, now, who);
      await recordTransition(alert, outcome, who, deps.store);
      return outcome;
    }
    case 'record': {
      const incident = await deps.store.findOpen(alert.service, alert.dedupKey);
      if (incident === undefined) return { kind: 'ignored', reason: 'no open incident to record on' };
      const at = alert.occurredAt ?? alert.receivedAt;
      await deps.store.putTimelineEntry(entry(incident, 'RECORDED', alert, at, who, alert.summary));
      return { kind: 'ignored', reason: 'recorded on the timeline; nobody is paged', incident };
    }
  }
}

async function recordTransition(
  alert: Alert,
  outcome: AlertOutcome,
  who: string,
  store: IncidentStore,
): Promise<void> {
  const transition = outcome.kind === 'replayed' ? outcome.caused : outcome.kind;
  if (outcome.kind === 'ignored' || transition === 'appended') return;
  const { incident } = outcome;
  switch (transition) {
    case 'opened':
      await store.putTimelineEntry(
        entry(incident, 'OPENED', alert, incident.detectedAt, who, `Incident opened: ${incident.title}`),
      );
      return;
    case 'acknowledged':
      await store.putTimelineEntry(
        entry(
          incident,
          'ACKNOWLEDGED',
          alert,
          incident.acknowledgedAt ?? alert.receivedAt,
          who,
          `Acknowledged via ${alert.origin}`,
        ),
      );
      return;
    case 'resolved':
      await store.putTimelineEntry(
        entry(
          incident,
          'RESOLVED',
          alert,
          incident.resolvedAt ?? alert.receivedAt,
          who,
          `Resolved via ${alert.origin}`,
        ),
      );
      return;
  }
}

function entry(
  incident: Incident,
  type: TimelineType,
  alert: Alert,
  at: string,
  who: string,
  text: string,
): TimelineEntry {
  return {
    id: timelineEntryId(incident.id, type, alert.eventKey),
    incidentId: incident.id,
    at,
    type,
    who,
    text,
  };
}
