import {
  type Incident,
  pagedResponders,
  postmortemReason,
  postmortemRequired,
  type TimelineEntry,
} from '#core/incident';
import { localDay } from '#core/metrics';
import { isMajor } from '#core/severity';
import { type TimerEvent, timer, timerName } from '#core/timers';
import { clockTime } from '#core/wall-clock';
import {
  afterResolved,
  cancelEscalationTimers,
  cancelIfResolved,
  type EscalationDeps,
  entry,
  isResponder,
  minutes,
  NONE,
  nameOf,
  notify,
  pageLevelOne,
  postmortemStageAt,
  REASSESS_MINUTES,
  reassessAt,
  reassesses,
  remind,
  scheduleReassess,
  sendHeld,
  startOwnerReminders,
  type TimerOutcome,
  withEffects,
} from './escalation.ts';
import { emit } from './lifecycle-events.ts';

/**
 * Theory of operation — the lifecycle beyond escalation.
 *
 *   triggered → acknowledged → mitigated → monitoring → resolved
 *
 * Mitigated: impact stopped; escalation and the ack timeout stop, status reminders go on.
 * Monitoring: a resolve (from an alert source, a link or a person) first watches the service for
 * the service's `resolveMonitoringMinutes`. The store records the alert count at that moment; a
 * `resolve` timer named after (incident, reopens) fires at the end:
 *   - no alert counted since: finishMonitoring (conditional on the version and the count) →
 *     resolved as of the resolve request, then the usual resolution effects;
 *   - an alert was counted: reopen. The trigger that counted it reopens the incident too; whoever
 *     commits the reopen first wins (version guard), the other completes its effects.
 * Reopen: back to triggered in the next generation, level 1 paged again, Incident Reopened on
 * the bus, REOPENED (keyed by the reopen count) written last.
 * Every effect here is idempotent and every use case ends with a timeline entry whose key the
 * retry can compute, so a crash midway is completed, not repeated, by the retry.
 */

/** The end of a resolve's monitoring period for the service; undefined when it resolves at once. */
export function monitoringUntil(service: string, deps: EscalationDeps, now: Date): string | undefined {
  const period = deps.config.services.find((s) => s.id === service)?.resolveMonitoringMinutes ?? 15;
  return period > 0 ? new Date(now.getTime() + minutes(deps, period)).toISOString() : undefined;
}

/** A resolve entered monitoring: stop escalating, start the end-of-period timer, write MONITORING. */
export async function afterMonitoring(
  incident: Incident,
  act: { who: string; channel: string; cause: string },
  deps: EscalationDeps,
): Promise<void> {
  // A replay that arrives after the period ended (reopened, or resolved) has nothing left to do.
  if (incident.status !== 'monitoring') return;
  const at = incident.monitoringSince ?? deps.clock().toISOString();
  const until = incident.monitoringUntil ?? at;
  const done = entry(
    incident,
    'MONITORING',
    act.cause,
    at,
    act.who,
    `Resolve requested by ${nameOf(act.who, deps)} via ${act.channel}: monitoring until ${clockTime(until, deps.config.timeZone)}; a re-trigger reopens it`,
  );
  if (await deps.store.hasTimelineEntry(done)) return;
  await cancelEscalationTimers(incident, deps);
  const event: TimerEvent = { kind: 'resolve', incidentId: incident.id, reopens: incident.reopens };
  await deps.timers.schedule(timer(event, new Date(until)));
  await deps.store.putTimelineEntry(done);
}

/** The monitoring period ended: resolve if it was quiet, else reopen. */
export async function onResolveTimer(
  event: Extract<TimerEvent, { kind: 'resolve' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const incident = await deps.store.get(event.incidentId);
    if (incident === undefined) return 'stale';
    if (incident.reopens === event.reopens + 1) {
      // This period ended in a reopen (by this timer's earlier attempt, or by a trigger): make
      // sure its effects are complete — the retry after a failure midway lands here.
      await afterReopened(incident, deps, { fromTimer: true });
      return 'replayed';
    }
    if (incident.reopens !== event.reopens) return 'stale';
    if (incident.status === 'resolved') {
      // Resolved by this timer before (complete it), or by "resolve now" (nothing to do).
      if (!incident.monitored) return 'stale';
      await afterQuietResolution(incident, deps);
      return 'replayed';
    }
    if (incident.status !== 'monitoring') return 'stale';
    if (incident.alertCount !== incident.monitoringCount) {
      await reopenIncident(incident, deps, { fromTimer: true });
      return 'done';
    }
    const day = localDay(incident.monitoringSince ?? deps.clock(), deps.config.timeZone);
    const finished = await deps.store.finishMonitoring(incident, day);
    if (finished === undefined) continue; // an alert or a person got there first: look again
    await afterQuietResolution(finished, deps);
    return 'done';
  }
  throw new Error(`monitoring of ${event.incidentId} kept racing`);
}

async function afterQuietResolution(incident: Incident, deps: EscalationDeps): Promise<void> {
  await afterResolved(
    incident,
    {
      who: incident.monitoringBy ?? 'klaxon',
      channel: 'monitoring',
      cause: `quiet:${incident.reopens}`,
      ...(incident.monitoringUntil ? { at: incident.monitoringUntil } : {}),
    },
    deps,
    // The period's own timer is running: cancelling it would drop its retry if an effect failed.
    { keepResolveTimer: true },
  );
}

/**
 * A trigger arrived during monitoring (or the period ended with alerts counted): reopen. Safe to
 * call from both sides of the race: the winner of the conditional reopen runs its effects; the
 * loser leaves them to it (running them too could page level 1 twice) — the winner is a trigger
 * delivery or a timer, both retried on failure, and their retries complete a reopen left midway.
 */
export async function reopenIncident(
  incident: Incident,
  deps: EscalationDeps,
  options: { fromTimer?: boolean; eventKey?: string } = {},
): Promise<void> {
  let current: Incident | undefined = incident;
  for (let attempt = 0; attempt < 5 && current !== undefined; attempt++) {
    if (current.status !== 'monitoring') return;
    const reopened = await deps.store.reopen(current, deps.clock(), options.eventKey);
    if (reopened !== undefined) {
      await afterReopened(reopened, deps, options);
      return;
    }
    current = await deps.store.get(incident.id);
  }
}

/** Pages level 1 again, puts Incident Reopened on the bus, writes REOPENED. Idempotent. */
export async function afterReopened(
  incident: Incident,
  deps: EscalationDeps,
  options: { fromTimer?: boolean } = {},
): Promise<void> {
  if (incident.reopens === 0) return;
  // Keyed by the reopen's own time: later escalation steps move stepAt, not this.
  const at = incident.reopenedAt ?? incident.stepAt;
  const done = entry(
    incident,
    'REOPENED',
    `reopen:${incident.reopens}`,
    at,
    'klaxon',
    'Reopened: the alert fired again during the monitoring period',
  );
  if (await deps.store.hasTimelineEntry(done)) return;
  // As at opening: during a maintenance window nobody is paged.
  const { effects, note } = await pageLevelOne(incident, deps, deps.clock());
  await emit(
    deps,
    'Incident Reopened',
    incident,
    { reopens: incident.reopens },
    { cause: `reopen:${incident.reopens}`, at },
  );
  // The period's timer is stale now; unless it is the one running (cancelling itself would drop
  // its retry if anything here failed), it is withdrawn.
  if (!options.fromTimer)
    await deps.timers.cancel(
      timerName({ kind: 'resolve', incidentId: incident.id, reopens: incident.reopens - 1 }),
    );
  await deps.store.putTimelineEntry({ ...done, text: done.text + note, ...withEffects(effects) });
}

/** Mitigated: stop escalating, tell the responders, put Incident Mitigated on the bus, write MITIGATED. */
export async function afterMitigated(
  incident: Incident,
  act: { who: string; channel: string; note?: string },
  deps: EscalationDeps,
): Promise<void> {
  const at = incident.mitigatedAt ?? deps.clock().toISOString();
  const done = entry(
    incident,
    'MITIGATED',
    `mitigated:${at}`,
    at,
    act.who,
    `Mitigated by ${nameOf(act.who, deps)} via ${act.channel}${act.note ? `: ${act.note}` : ''}`,
  );
  if (await deps.store.hasTimelineEntry(done)) return;
  await cancelEscalationTimers(incident, deps);
  // Mitigating acknowledges too: a SEV-1/2 now has an owner to remind.
  await cancelIfResolved(incident.id, await startOwnerReminders(incident, deps), deps);
  const paged = pagedResponders(await deps.store.timeline(incident.id)).filter((id) => id !== act.who);
  await notify(
    incident,
    paged,
    { kind: 'notice', reason: `Mitigated by ${nameOf(act.who, deps)}`, cause: `mitigated:${at}` },
    deps,
    deps.clock(),
  );
  await emit(
    deps,
    'Incident Mitigated',
    incident,
    { mitigatedAt: at },
    {
      cause: `mitigated:${at}`,
      at,
      actor: act.who,
    },
  );
  await deps.store.putTimelineEntry(done);
}

/** Who re-assesses: the incident commander; without one, the acknowledger of a SEV-1/SEV-2. */
function assessor(incident: Incident, deps: EscalationDeps): string[] {
  const ic = incident.roles.commander;
  if (ic !== undefined) return isResponder(ic, deps) ? [ic] : [];
  const acker = incident.acknowledgedBy;
  if (isMajor(incident.sev) && acker !== undefined) return isResponder(acker, deps) ? [acker] : [];
  return [];
}

/** Every 30 minutes while open: remind the incident commander to re-assess the severity. */
export async function onReassess(
  event: Extract<TimerEvent, { kind: 'reassess' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const incident = await deps.store.get(event.incidentId);
    if (incident === undefined || incident.status === 'resolved' || incident.reassessSeq > event.seq)
      return 'stale';
    // No commander and not SEV-1/2 (any more): the chain ends; assigning a commander restarts it.
    if (!reassesses(incident)) return 'stale';
    const at = reassessAt(incident, event.seq, deps).toISOString();
    const done = reassessEntry(incident, event.seq, at);
    if (event.held !== undefined) {
      // Held by the throttle: still wanted until the next mark is claimed (it asks the same).
      if (incident.reassessSeq !== event.seq || incident.status === 'monitoring') return 'stale';
      return sendHeld(
        incident,
        event,
        event.held,
        assessor(incident, deps),
        { reason: reassessReason(incident), cause: `reassess:${event.seq}` },
        done,
        deps,
      );
    }
    let claimed: Incident | undefined = incident;
    if (incident.reassessSeq === event.seq) {
      if (await deps.store.hasTimelineEntry(done)) return 'replayed';
    } else {
      // (A chain restarted later by a new commander skips the marks that passed meanwhile.)
      claimed = await deps.store.patch(incident, { reassessSeq: event.seq });
      if (claimed === undefined) continue;
    }
    const effects =
      claimed.status === 'monitoring'
        ? NONE
        : await remind(
            event,
            claimed,
            assessor(claimed, deps),
            { reason: reassessReason(claimed), cause: `reassess:${event.seq}` },
            deps,
            deps.clock(),
          );
    await scheduleReassess(claimed, event.seq + 1, deps);
    await deps.store.putTimelineEntry({ ...done, ...withEffects(effects) });
    return 'done';
  }
  throw new Error(`re-assessment of ${event.incidentId} kept racing`);
}

const reassessReason = (incident: Incident) =>
  `Re-assess the severity (now ${incident.sev}): escalate or de-escalate with a reason`;

function reassessEntry(incident: Incident, seq: number, at: string): TimelineEntry {
  return entry(
    incident,
    'REASSESS_REMINDED',
    `reassess:${seq}`,
    at,
    'klaxon',
    `Severity re-assessment ${seq} (every ${REASSESS_MINUTES} minutes while open): still ${incident.sev}?`,
  );
}

/** A required postmortem: remind at 24 hours, mark overdue at 48, unless it was published. */
export async function onPostmortemTimer(
  event: Extract<TimerEvent, { kind: 'postmortem' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const incident = await deps.store.get(event.incidentId);
  // (Lowered below SEV-2 after resolution: no postmortem is required any more — unless the error
  // budget requires it, which a lowering does not change.)
  if (
    incident === undefined ||
    incident.status !== 'resolved' ||
    incident.postmortemDoneAt !== undefined ||
    !postmortemRequired(incident)
  )
    return 'stale';
  const due = event.stage === 'due';
  const at = postmortemStageAt(incident, event.stage, deps);
  // SEV-3/4: say why it is required (the exhausted error budget).
  const reason = postmortemReason(incident);
  const why = reason !== undefined ? ` (${reason})` : '';
  const done = entry(
    incident,
    due ? 'POSTMORTEM_OVERDUE' : 'POSTMORTEM_REMINDED',
    `postmortem:${event.stage}`,
    at,
    'klaxon',
    due
      ? `Postmortem overdue: not published 48 hours after ${incident.postmortemRequiredAt ? 'it became required' : 'resolution'}${why}`
      : `Postmortem due in 24 hours${why}`,
  );
  // The first of commander, resolver, acknowledger who is a configured responder: a resolve by an
  // alert source (resolvedBy "events-v2") used to end the chain there and remind nobody.
  const owner = [incident.roles.commander, incident.resolvedBy, incident.acknowledgedBy].find((id) =>
    isResponder(id, deps),
  );
  const owners = owner !== undefined ? [owner] : [];
  const message = {
    reason: `${due ? 'Postmortem overdue: publish it' : 'Postmortem due in 24 hours'}${why}`,
    cause: `postmortem:${event.stage}`,
  };
  // Held by the throttle: still wanted while the postmortem is (checked above).
  if (event.held !== undefined) return sendHeld(incident, event, event.held, owners, message, done, deps);
  if (await deps.store.hasTimelineEntry(done)) return 'replayed';
  const effects = await remind(event, incident, owners, message, deps, deps.clock());
  await deps.store.putTimelineEntry({ ...done, ...withEffects(effects) });
  return 'done';
}
