import { type Alert, MAX_DESCRIPTION, type SourceSeverity, truncate } from '#core/alert';
import { businessStartText } from '#core/business-hours';
import { type ChecklistItemId, tickedByKlaxon } from '#core/checklists';
import { type Classification, classify, mostSevere } from '#core/classification';
import type {
  ActionItemCreateInput,
  ActionItemUpdateInput,
  Brief,
  CreateIncidentInput,
  HandoffInput,
  RoleAssignInput,
  RoleRemoveInput,
  SeverityChangeInput,
  SnoozeInput,
  TimelineNoteInput,
} from '#core/commands';
import { configuredService } from '#core/config';
import { ConflictError, NotFoundError, RetryableError, ValidationError } from '#core/errors';
import { incidentIdFor, randomId, timelineEntryId } from '#core/ids';
import {
  type Incident,
  type Lease,
  postmortemDueAt,
  postmortemRequired,
  ROLE_NAMES,
  snoozedUntil,
  type TimelineEntry,
} from '#core/incident';
import { localDay } from '#core/metrics';
import { SEVERITIES, type Severity } from '#core/severity';
import { type TimerEvent, timerAfter, timerName } from '#core/timers';
import {
  afterAcknowledged,
  afterResolved,
  cancelEscalationTimers,
  cancelIfResolved,
  type EscalationDeps,
  ensureReassess,
  entry,
  inMaintenance,
  isResponder,
  minutes,
  NONE,
  nameOf,
  notify,
  OPENING_LEASE_MS,
  offHoursText,
  offHoursUntil,
  pageLevelOne,
  policyOf,
  postmortemStageAt,
  recipients,
  schedulePostmortemStages,
  startEscalation,
  startOwnerReminders,
  startReminders,
  stopIncidentEscalation,
  stoppedByMaintenance,
  whileEscalating,
  withEffects,
} from './escalation.ts';
import { afterMitigated, monitoringUntil } from './lifecycle.ts';
import { emit } from './lifecycle-events.ts';
import type { ActionItemRecord, ActionItemStore, AlertOutcome, IncidentPatch } from './ports.ts';
import { afterResolveRequest, openingOptions, transitioned } from './process-alert.ts';

/**
 * Incident command: the use cases people drive from the API and the CLI. Each reads the
 * incident, decides, commits conditionally on the version it read (retrying a race), then
 * completes its effects (pages, timers, bus events) and writes its timeline entry last — the
 * completion mark a retried request finds. A request that finds the incident already in the asked-
 * for state answers `changed: false` and completes whatever the first request may have left.
 */

export interface CommandDeps extends EscalationDeps {
  readonly actionItems: ActionItemStore;
}

/** `changed: false`: the incident was already in the asked-for state (a retried request). */
export interface CommandResult {
  readonly incident: Incident;
  readonly changed: boolean;
}

const ATTEMPTS = 5;

async function load(id: string, deps: Pick<EscalationDeps, 'store'>): Promise<Incident> {
  const incident = await deps.store.get(id);
  if (incident === undefined) throw new NotFoundError(`no incident ${id}`);
  return incident;
}

function conflict(incident: Incident, wanted: string): ConflictError {
  return new ConflictError(`incident ${incident.id} is ${incident.status}: cannot ${wanted}`, [
    { field: 'status', message: `is ${incident.status}` },
  ]);
}

/** Patches the incident with what `decide` returns for the version read; retried on races. */
async function patchWithRetry(
  id: string,
  deps: EscalationDeps,
  decide: (incident: Incident) => IncidentPatch | undefined,
): Promise<{ before: Incident; after: Incident; changed: boolean }> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const before = await load(id, deps);
    const patch = decide(before);
    if (patch === undefined) return { before, after: before, changed: false };
    const after = await deps.store.patch(before, patch);
    if (after !== undefined) return { before, after, changed: true };
  }
  throw new RetryableError(`incident ${id} kept changing; retry`);
}

/**
 * Exactly one request runs a change's effects (pages, notices, its timeline entry last), and one
 * that dies midway is still completed. The request whose patch makes the change takes a lease on
 * them in that same patch, keyed by the change's cause. A request that finds the change made and
 * its entry missing — a retry, or the same request sent twice at once — must take the lease
 * first: it is free once the holder's effects failed (it gives it back) or it died (the lease ran
 * out). While it is held, the request is told to retry (503), like a second delivery of an
 * opening (startEscalation).
 */
function leasesWith(incident: Incident, cause: string, token: string, now: Date): Record<string, Lease> {
  // Those that ran out are dropped here: the item keeps only the leases of changes in flight.
  const live = Object.entries(incident.leases ?? {}).filter(([, l]) => Date.parse(l.until) > now.getTime());
  const until = new Date(now.getTime() + OPENING_LEASE_MS).toISOString();
  return { ...Object.fromEntries(live), [cause]: { token, until } };
}

/** Takes the lease on `cause`'s effects; false if its holder completed them meanwhile (`done` is written). */
async function takeLease(
  id: string,
  cause: string,
  token: string,
  done: TimelineEntry,
  deps: CommandDeps,
): Promise<boolean> {
  try {
    await patchWithRetry(id, deps, (incident) => {
      const now = deps.clock();
      const held = incident.leases?.[cause];
      if (held !== undefined && held.token !== token && Date.parse(held.until) > now.getTime())
        throw new RetryableError(`incident ${id}: another request is completing ${cause}; retry`);
      return { leases: leasesWith(incident, cause, token, now) };
    });
    return true;
  } catch (error) {
    if (error instanceof RetryableError && (await deps.store.hasTimelineEntry(done))) return false;
    throw error;
  }
}

/** Runs `cause`'s effects under the lease; if they fail, gives it back so that a retry goes on at once. */
async function underLease(
  id: string,
  cause: string,
  token: string,
  deps: CommandDeps,
  effects: () => Promise<void>,
): Promise<void> {
  try {
    await effects();
  } catch (error) {
    await patchWithRetry(id, deps, (incident) => {
      const { [cause]: held, ...others } = incident.leases ?? {};
      return held?.token === token ? { leases: others } : undefined;
    }).catch(() => undefined);
    throw error;
  }
}

/**
 * A role's change told and recorded once, under the lease on `cause`: `person` gets a notice, then
 * `done` is written with whom it reached (the entry last, so a retry finds the change unfinished).
 */
async function noticeUnderLease(
  after: Incident,
  change: { person: string; reason: string; cause: string; token: string; done: TimelineEntry },
  deps: CommandDeps,
): Promise<void> {
  const { person, reason, cause, token, done } = change;
  await underLease(after.id, cause, token, deps, async () => {
    const message = { kind: 'notice', reason, cause, direct: true } as const;
    const effects = await notify(after, [person], message, deps, deps.clock());
    await deps.store.putTimelineEntry({ ...done, ...withEffects(effects) });
  });
}

/**
 * The compare-and-set of the "set to X" commands: `from`, when given, must still be the current
 * value. A late retry that finds a later change (or a request made without seeing it) is refused
 * naming `from`, instead of undoing that change. (Checked after "already X": that is a retry.)
 */
function checkFrom(
  incident: Incident,
  what: string,
  current: string | undefined,
  from: string | null | undefined,
  none = 'nobody',
): void {
  if (from === undefined || (from ?? undefined) === current) return;
  const is = current ?? none;
  throw new ConflictError(`the ${what} of incident ${incident.id} is ${is}, not ${from ?? none}`, [
    { field: 'from', message: `is ${is}` },
  ]);
}

const SOURCE_OF: Readonly<Record<Severity, SourceSeverity>> = {
  'SEV-1': 'critical',
  'SEV-2': 'error',
  'SEV-3': 'warning',
  'SEV-4': 'info',
};

/**
 * Declares an incident by hand (the practice's create_incident): the severity given, or classified
 * from the impact. It opens and escalates like any other; the declaration is the first DECISION.
 */
export async function createIncident(
  input: CreateIncidentInput,
  deps: CommandDeps,
): Promise<{ incident: Incident; classification?: Classification; created: boolean }> {
  const service = configuredService(deps.config, input.service);
  const classification = input.impact ? classify(input.impact) : undefined;
  // Given both, the more severe wins (PRACTICE: never skip the classification; escalate when the
  // impact is worse than assessed): the matrix's own rule, across the two.
  const sev = mostSevere(
    [input.severity, classification?.severity].filter((s): s is Severity => s !== undefined),
  );
  if (sev === undefined) {
    throw new ValidationError('no severity', [{ field: 'severity', message: 'give severity or impact' }]);
  }
  const now = deps.clock();
  // With an idempotency key the same request again is a replay of the same trigger. Once its
  // incident was resolved, an alert of the same key would open another: the key names that one.
  if (input.key !== undefined) {
    const first = await deps.store.get(incidentIdFor(service.id, `manual-${input.key}`, 0));
    // Being resolved or resolved: the retry would count as a new alert (reopen, or open another).
    if (first?.status === 'resolved' || first?.status === 'monitoring')
      return { incident: first, created: false };
  }
  const key = input.key ?? randomId().slice(0, 16);
  const alert: Alert = {
    eventKey: `manual:${service.id}:${key}`,
    service: service.id,
    dedupKey: `manual-${key}`,
    action: 'trigger',
    summary: input.title,
    source: input.who,
    severity: SOURCE_OF[sev],
    receivedAt: now.toISOString(),
    ...(input.description ? { description: truncate(input.description.trim(), MAX_DESCRIPTION) } : {}),
    details: input.description ? { description: input.description } : {},
    links: [],
    images: [],
    origin: 'manual',
    client: input.who,
  };
  const lease = { token: randomId(), until: new Date(now.getTime() + OPENING_LEASE_MS) };
  // The declared impact is kept on the incident (its postmortem states it), not only in the entry.
  const impact = input.impact && Object.keys(input.impact).length > 0 ? { impact: input.impact } : {};
  const outcome = await deps.store.trigger(alert, now, {
    ...openingOptions(alert, deps.config, sev),
    ...impact,
    openingLease: lease,
  });
  const opened = transitioned(outcome, 'opened');
  if (opened === undefined) throw new RetryableError('the new incident could not be opened; retry');
  // (A replay completes what the first request may have left: the entry and startEscalation are idempotent.)
  const given =
    input.severity !== undefined && input.severity !== sev
      ? [`given ${input.severity}: the impact is worse`]
      : [];
  const reasons = classification ? ` (${[...given, ...classification.reasons].join('; ')})` : '';
  await deps.store.putTimelineEntry({
    id: timelineEntryId(opened.id, 'DECISION', 'declared'),
    incidentId: opened.id,
    at: opened.detectedAt,
    type: 'DECISION',
    who: input.who,
    text: `Declared ${sev}${reasons}${input.description ? `: ${input.description}` : ''}`,
  });
  await startEscalation(opened, deps, { token: lease.token, held: outcome.kind === 'opened' });
  return {
    incident: (await deps.store.get(opened.id)) ?? opened,
    ...(classification ? { classification } : {}),
    created: outcome.kind === 'opened',
  };
}

/** Applies a transition by id, with a cause that a retried request repeats. */
async function move(
  incident: Incident,
  to: 'acknowledged' | 'mitigated' | 'monitoring' | 'resolved',
  who: string,
  cause: string,
  deps: EscalationDeps,
  options: { monitoringUntil?: string; resolvedAt?: string; owner?: boolean } = {},
): Promise<AlertOutcome> {
  const now = deps.clock();
  return deps.store.transition(incident.id, to, now, who, cause, {
    // The day the incident belongs to once resolved: that of its resolvedAt (which may be earlier).
    day: localDay(options.resolvedAt ?? now, deps.config.timeZone),
    ...options,
  });
}

/**
 * The cause of one person's acknowledge or resolve from `source` (the API, a signed link): an
 * acknowledgement counts once per escalation (`generation`: an ack timeout or a reopen starts the
 * next), a resolve once per period (`reopens`). A retried request reads the same incident and is
 * recognised as the retry it is (`replayed`: nothing acts twice); the same button or link pressed
 * after the incident came back acts again, with an event and a timeline entry of its own.
 */
export function actCause(source: string, action: 'acknowledge' | 'resolve', incident: Incident): string {
  return `${source}:${action === 'acknowledge' ? incident.generation : incident.reopens}`;
}

export async function acknowledgeIncident(
  id: string,
  who: string,
  deps: CommandDeps,
): Promise<CommandResult> {
  const incident = await load(id, deps);
  const cause = actCause('api:ack', 'acknowledge', incident);
  const outcome = await actOn(incident, 'acknowledge', { who, channel: 'api', cause }, deps);
  if (transitioned(outcome, 'acknowledged'))
    return { incident: (await deps.store.get(id)) ?? incident, changed: outcome.kind === 'acknowledged' };
  const current = outcome.incident ?? incident;
  if (current.status === 'resolved') throw conflict(current, 'acknowledge');
  return { incident: current, changed: false };
}

export async function mitigateIncident(
  id: string,
  input: { who: string; note?: string },
  deps: CommandDeps,
): Promise<CommandResult> {
  const incident = await load(id, deps);
  const cause = `api:mitigate:${incident.reopens}`;
  // Triggered (never acknowledged, or its acknowledgement lapsed): the mitigator owns it now.
  const outcome = await move(incident, 'mitigated', input.who, cause, deps, {
    owner: incident.status === 'triggered',
  });
  const current = outcome.incident ?? incident;
  // Only while it is still mitigated: every mitigate of one period shares the cause, so without
  // this guard mitigating a resolved incident that was mitigated before looked like a retry
  // (changed: false) instead of the conflict it is.
  const done = current.status === 'mitigated' ? (transitioned(outcome, 'mitigated') ?? current) : undefined;
  if (done) {
    // Completes a first request's effects too (idempotent: MITIGATED is keyed by mitigatedAt).
    await afterMitigated(
      done,
      { who: done.mitigatedBy ?? input.who, channel: 'api', ...noteOf(input) },
      deps,
    );
    return { incident: (await deps.store.get(id)) ?? done, changed: outcome.kind === 'mitigated' };
  }
  // Past mitigation already (mitigated, then a resolve is being watched): nothing to do.
  if (current.status === 'monitoring' && current.mitigatedAt !== undefined)
    return { incident: current, changed: false };
  throw conflict(current, 'mitigate');
}

function noteOf(input: { note?: string }): { note?: string } {
  return input.note ? { note: input.note } : {};
}

/**
 * Acknowledges, or asks to resolve, an incident by id on behalf of a person (a link, the API):
 * a resolve enters the service's monitoring period (resolved at once when it is 0). `cause`
 * identifies the request, so the same request again is `replayed` — and completes the effects
 * its first attempt may not have finished — instead of acting twice.
 */
export async function actOn(
  incident: Incident,
  action: 'acknowledge' | 'resolve',
  act: { who: string; channel: string; cause: string },
  deps: EscalationDeps,
): Promise<AlertOutcome> {
  if (action === 'acknowledge') {
    const outcome = await move(incident, 'acknowledged', act.who, act.cause, deps);
    const done = transitioned(outcome, 'acknowledged');
    if (done) await afterAcknowledged(done, act, deps);
    return outcome;
  }
  const until = monitoringUntil(incident.service, deps, deps.clock());
  const outcome = await move(
    incident,
    until ? 'monitoring' : 'resolved',
    act.who,
    act.cause,
    deps,
    until ? { monitoringUntil: until } : {},
  );
  await afterResolveRequest(outcome, act, deps);
  return outcome;
}

/**
 * Where an "acknowledge all" stands between requests: the incidents from position `from` of the
 * digest's list are still to do, and so are those before it named in `retry` (they failed).
 */
export interface DigestProgress {
  readonly from: number;
  readonly retry: readonly string[];
}

export const DIGEST_START: DigestProgress = { from: 0, retry: [] };

/** What one "acknowledge all" request did. */
export interface DigestAckResult {
  /** Acknowledged now (or by this link before: a retried request). */
  readonly acknowledged: number;
  /** Already acknowledged, resolving or resolved by then; or gone. */
  readonly unchanged: number;
  /** How many failed (they are in `next.retry`), and the first error. */
  readonly failed: number;
  readonly failure?: unknown;
  /** Where the next request goes on; absent when all is done. */
  readonly next?: DigestProgress;
}

/** Incidents acknowledged at once by an "acknowledge all". */
const DIGEST_ACK_CONCURRENCY = 8;

/**
 * A digest's "acknowledge all" link: acknowledges each incident the digest covered (`digestIds`,
 * its list) as its responder, with the link as the source of each one's cause (actCause: per
 * incident, a retry is recognised as such), going on from `at`. Batches go on until `budgetMs` has passed (the
 * function's timeout is far shorter than a thousand acknowledgements); a failed acknowledgement
 * does not stop the others. `next` says where the following request goes on. Progress names only
 * the digest's own incidents: `retry` ids not before `from` in its list are ignored.
 */
export async function acknowledgeDigest(
  digestIds: readonly string[],
  at: DigestProgress,
  act: { who: string; source: string },
  deps: EscalationDeps,
  budgetMs: number,
): Promise<DigestAckResult> {
  const until = Date.now() + budgetMs;
  const from = Math.min(Math.max(0, at.from), digestIds.length);
  const named = new Set(at.retry);
  const retry = digestIds.slice(0, from).filter((id) => named.has(id));
  const ids = [...retry, ...digestIds.slice(from)];
  let acknowledged = 0;
  let unchanged = 0;
  const failed: string[] = [];
  let failure: unknown;
  let started = 0;
  while (started < ids.length) {
    const batch = ids.slice(started, started + DIGEST_ACK_CONCURRENCY);
    started += batch.length;
    const settled = await Promise.allSettled(
      batch.map(async (id) => {
        const incident = await deps.store.get(id);
        if (incident === undefined) return false;
        const cause = actCause(act.source, 'acknowledge', incident);
        const outcome = await actOn(incident, 'acknowledge', { who: act.who, channel: 'link', cause }, deps);
        // Done by this link now or before (a replay of its cause); anything else was left as it was.
        return (
          outcome.kind === 'acknowledged' ||
          (outcome.kind === 'replayed' && outcome.caused === 'acknowledged')
        );
      }),
    );
    for (const [i, result] of settled.entries()) {
      if (result.status === 'fulfilled') {
        if (result.value) acknowledged++;
        else unchanged++;
        continue;
      }
      failed.push(batch[i] as string);
      failure ??= result.reason;
    }
    if (Date.now() >= until) break;
  }
  const done = failed.length === 0 && started === ids.length;
  return {
    acknowledged,
    unchanged,
    failed: failed.length,
    ...(failure === undefined ? {} : { failure }),
    ...(done
      ? {}
      : {
          next: {
            from: from + Math.max(0, started - retry.length),
            retry: [...failed, ...retry.slice(Math.min(started, retry.length))],
          },
        }),
  };
}

/** Enters the monitoring period, or with `now` (or a period of 0) resolves at once. */
export async function resolveIncident(
  id: string,
  input: { who: string; now: boolean },
  deps: CommandDeps,
): Promise<CommandResult> {
  const incident = await load(id, deps);
  // No early answer for an incident already monitoring or resolved: a retried request must reach
  // the transition, which recognises its cause and completes what the first attempt left.
  if (input.now) {
    const cause = actCause('api:resolve-now', 'resolve', incident);
    // Service was restored when the resolve was first asked for, if it is being watched and the
    // period was quiet so far (the store checks it as it writes); an alert counted in the period
    // (its reopen on the way) means it was not: resolved now, so that alert is in this incident's time.
    const quiet = incident.status === 'monitoring' && incident.monitoringSince !== undefined;
    let outcome = await move(incident, 'resolved', input.who, cause, deps, {
      ...(quiet ? { resolvedAt: incident.monitoringSince } : {}),
    });
    if (quiet && outcome.kind === 'ignored' && outcome.incident?.status === 'monitoring')
      outcome = await move(incident, 'resolved', input.who, cause, deps);
    const done = transitioned(outcome, 'resolved');
    if (done) {
      await afterResolved(done, { who: input.who, channel: 'api', cause }, deps);
      return { incident: (await deps.store.get(id)) ?? done, changed: outcome.kind === 'resolved' };
    }
    return { incident: outcome.incident ?? incident, changed: false };
  }
  const cause = actCause('api:resolve', 'resolve', incident);
  const outcome = await actOn(incident, 'resolve', { who: input.who, channel: 'api', cause }, deps);
  const changed = outcome.kind === 'monitoring' || outcome.kind === 'resolved';
  return { incident: (await deps.store.get(id)) ?? outcome.incident ?? incident, changed };
}

/**
 * Snoozes an acknowledged incident (PagerDuty's Snooze): its acknowledgement lapses `minutes` from
 * now instead of at the ack timeout — the ack-timeout timer of its generation is moved there (made,
 * if the service has none) — and then it re-triggers as at an ack timeout (onAckTimeout; a timer
 * that comes before the snooze's end sets it again and does nothing else). Acknowledged only, as at
 * PagerDuty: a mitigated incident has no lapse to move, a triggered one is acknowledged first. The
 * snooze is one patch on the version read (so conditional on the status and generation it saw: a
 * lapse or a resolve that committed first makes it a 409); its effects — the timer moved, the
 * event, SNOOZED last — are keyed by the stored snooze, so a retry (the same who, minutes and
 * `from`) or a twin running at once completes them again to the same result.
 */
export async function snoozeIncident(
  id: string,
  input: SnoozeInput,
  deps: EscalationDeps,
): Promise<CommandResult> {
  const now = deps.clock();
  const from = input.from && new Date(input.from).toISOString();
  const cause = `${input.who}:${input.minutes}:${from}`;
  const { after, changed } = await patchWithRetry(id, deps, (incident) => {
    if (incident.status !== 'acknowledged') throw conflict(incident, 'snooze (only an acknowledged one)');
    const current = snoozedUntil(incident);
    if (current !== undefined && incident.snooze?.cause === cause) return undefined;
    checkFrom(incident, 'snooze', current, from, 'none');
    const until = new Date(now.getTime() + minutes(deps, input.minutes)).toISOString();
    const at = now.toISOString();
    return { snooze: { until, by: input.who, at, generation: incident.generation, cause } };
  });
  // biome-ignore lint/style/noNonNullAssertion: set by this request or the one it retries
  const { until, by, at, generation, cause: made } = after.snooze!;
  // Two snoozes in one instant (one with `from` the other's end) are two: keyed by their causes too.
  const key = `snooze:${at}:${made}`;
  const done = entry(
    after,
    'SNOOZED',
    key,
    at,
    by,
    `Snoozed by ${nameOf(by, deps)} until ${businessStartText(Date.parse(until), deps.config.timeZone)}`,
  );
  if (!changed && (await deps.store.hasTimelineEntry(done))) return { incident: after, changed };
  const lapse: TimerEvent = { kind: 'ack-timeout', incidentId: id, generation };
  // Not to arrive before the snooze's end (Scheduler fires anywhere in its minute): one that did
  // would find it still snoozed and only set itself again while being delivered.
  await deps.timers.reschedule(timerAfter(lapse, new Date(until)));
  await cancelIfResolved(id, [lapse], deps);
  await emit(
    deps,
    'Incident Snoozed',
    after,
    { snoozedUntil: until, minutes: input.minutes },
    { cause: key, at, actor: by },
  );
  await deps.store.putTimelineEntry(done);
  return { incident: after, changed };
}

const rank = (sev: Severity) => SEVERITIES.indexOf(sev);

/**
 * Escalates or de-escalates with a reason. Raising re-pages with the new severity's policy: a
 * triggered incident restarts escalation from level 1 in the next generation; an acknowledged
 * or mitigated one pages level 1 once, so the people a bigger incident needs know of it.
 * Lowering pages nobody, except that a triggered incident whose new severity has another policy
 * restarts under that policy from level 1 (its running escalation was the old policy's).
 */
export async function changeSeverity(
  id: string,
  input: SeverityChangeInput,
  deps: CommandDeps,
): Promise<CommandResult> {
  const now = deps.clock();
  const token = randomId();
  const { before, after, changed } = await patchWithRetry(id, deps, (incident) => {
    if (incident.sev === input.severity) return undefined;
    checkFrom(incident, 'severity', incident.sev, input.from);
    const raised = rank(input.severity) < rank(incident.sev);
    const service = deps.config.services.find((s) => s.id === incident.service);
    // The policy a new incident of this severity would get (a lowering returns to the default).
    const policy =
      service?.severityPolicies[input.severity] ?? service?.escalationPolicy ?? incident.escalationPolicy;
    // A triggered incident restarts escalation under the new severity when raised, or when the
    // new severity has another policy (the old one's timers go stale: the next step of the old
    // policy must not run as a step of the new one). Not while a maintenance window stopped its
    // escalation: nobody is paged then.
    const restart =
      incident.status === 'triggered' &&
      !stoppedByMaintenance(incident) &&
      (raised || (policy !== undefined && policy !== incident.escalationPolicy));
    // Lowered once its impact stopped (PRACTICE: "de-escalate when mitigation reduces impact"):
    // its impact was the severity it held then, which keeps requiring its postmortem. Only a
    // severity it already held when the impact stopped counts (a raise after that, then its
    // correction, is not its impact); the first such lowering records it.
    const stopped = impactStoppedAt(incident);
    const impactSev =
      !raised &&
      incident.impactSev === undefined &&
      stopped !== undefined &&
      (incident.severityChangedAt === undefined || incident.severityChangedAt <= stopped)
        ? { impactSev: incident.sev }
        : {};
    return {
      sev: input.severity,
      ...impactSev,
      severityFrom: incident.sev,
      severityChanges: incident.severityChanges + 1,
      severityChangedAt: now.toISOString(),
      // Raised after resolution into needing a postmortem: if the deadline it had (counted from
      // the resolution, or an earlier raise) has passed, it is required as of now and its reminder
      // and deadline count from here; a deadline still ahead (lowered, then raised back) stays.
      ...(incident.status === 'resolved' &&
      !postmortemRequired(incident) &&
      postmortemRequired({ sev: input.severity }) &&
      Date.parse(postmortemStageAt(incident, 'due', deps)) <= now.getTime()
        ? { postmortemRequiredAt: now.toISOString() }
        : {}),
      leases: leasesWith(incident, `sev:${incident.severityChanges + 1}`, token, now),
      ...(policy !== undefined ? { escalationPolicy: policy } : {}),
      ...(restart
        ? {
            generation: incident.generation + 1,
            step: 0,
            stepAt: now.toISOString(),
            escalation: 'active' as const,
            // Level 1 of the new severity's policy pages: not an escalation beyond level 1
            // (`escalations` does not move, as for a reopen or a resume).
          }
        : {}),
    };
  });
  if (!changed) {
    await completeSeverityChange(after, input, token, deps);
    return { incident: after, changed: false };
  }
  await underLease(id, `sev:${after.severityChanges}`, token, deps, () =>
    afterSeverityChanged(before, after, input, deps),
  );
  return { incident: (await deps.store.get(id)) ?? after, changed: true };
}

/**
 * When its impact stopped: mitigated, or (without a mitigation) the resolve request of its
 * monitoring period. A resolved incident never mitigated has no such moment: lowering it is a
 * re-assessment after the fact (it was not that severe), which drops its postmortem.
 */
function impactStoppedAt(incident: Incident): string | undefined {
  if (incident.mitigatedAt !== undefined) return incident.mitigatedAt;
  if (incident.status === 'monitoring') return incident.monitoringSince;
  return undefined;
}

function severityEntry(incident: Incident, who: string, text: string): TimelineEntry {
  return entry(
    incident,
    'SEVERITY_CHANGED',
    `sev:${incident.severityChanges}`,
    incident.severityChangedAt ?? incident.detectedAt,
    who,
    text,
  );
}

/**
 * A retried request whose change is stored: if its entry is missing (the first attempt failed
 * midway, or is still at work: the lease tells), run its effects from what the incident recorded
 * — the severity it came from and, for a restart, the step-0 claim made at the change — each
 * keyed as the first attempt keyed it.
 */
async function completeSeverityChange(
  incident: Incident,
  input: SeverityChangeInput,
  token: string,
  deps: CommandDeps,
): Promise<void> {
  if (incident.severityChanges === 0 || incident.severityFrom === undefined) return;
  const done = severityEntry(incident, input.who, '');
  if (await deps.store.hasTimelineEntry(done)) return;
  const cause = `sev:${incident.severityChanges}`;
  if (!(await takeLease(incident.id, cause, token, done, deps))) return;
  const restarted = incident.step === 0 && incident.stepAt === incident.severityChangedAt;
  const before: Incident = {
    ...incident,
    sev: incident.severityFrom,
    ...(restarted ? { generation: incident.generation - 1 } : {}),
  };
  await underLease(incident.id, cause, token, deps, () =>
    afterSeverityChanged(before, incident, input, deps),
  );
}

async function afterSeverityChanged(
  before: Incident,
  after: Incident,
  input: SeverityChangeInput,
  deps: CommandDeps,
): Promise<void> {
  const raised = rank(after.sev) < rank(before.sev);
  const restarted = after.generation !== before.generation;
  const now = deps.clock();
  let effects = NONE;
  let note = '';
  // Not while a maintenance window holds a triggered incident stopped (its end pages level 1); an
  // owned one is paged unless a window or off-hours is in force now (the `stopped` an
  // acknowledgement kept from a window or a wait is not).
  if (
    (raised || restarted) &&
    after.status !== 'resolved' &&
    after.status !== 'monitoring' &&
    !stoppedByMaintenance(after)
  ) {
    const policy = policyOf(after, deps.config);
    const offHours = offHoursUntil(after, deps, now);
    if (policy !== undefined && (await inMaintenance(after.service, deps, now))) {
      // As at opening: nobody is paged in a maintenance window. A restarted escalation waits,
      // stopped, and the window's end pages its level 1 (like any incident the window kept quiet).
      if (restarted) {
        await cancelEscalationTimers(before, deps);
        await whileEscalating(after, deps, (current) =>
          stopIncidentEscalation(current, deps, 'maintenance window'),
        );
      }
      note = ' (maintenance window: nobody paged)';
    } else if (policy !== undefined) {
      if (restarted) {
        // Restarted: the old generation's timers are stale; level 1 pages now, the next step is timed.
        await cancelEscalationTimers(before, deps);
        // Its new severity may wait for business hours (SEV-4 → SEV-3, both held back at night).
        ({ effects, note } = await pageLevelOne(after, deps, now));
      } else if (offHours !== undefined) {
        // Owned already, and its new severity still waits for business hours: level 1 is not woken.
        note = ` (${offHoursText(offHours, deps)}: nobody paged)`;
      } else {
        const level = policy.levels[0];
        const ids = level ? await recipients(level.targets, deps, now) : [];
        effects = await notify(
          after,
          ids,
          {
            kind: 'page',
            reason: `Raised to ${after.sev}: ${input.reason}`,
            level: 1,
            cause: `sev:${after.severityChanges}`,
          },
          deps,
          now,
        );
      }
    }
  }
  // A more severe incident may need reminders it did not have (SEV-3 → SEV-1), or sooner ones
  // (SEV-2 → SEV-1: every 15 minutes from now, not the 30 started before), once it has an owner.
  const reminders = await startOwnerReminders(after, deps, { changedFrom: before.sev });
  await cancelIfResolved(after.id, reminders, deps);
  await emit(
    deps,
    'Incident Severity Changed',
    after,
    { from: before.sev, to: after.sev, reason: input.reason, direction: raised ? 'raised' : 'lowered' },
    {
      cause: `sev:${after.severityChanges}`,
      at: after.severityChangedAt ?? now.toISOString(),
      actor: input.who,
    },
  );
  // Raised to SEV-1/2 after resolution: its postmortem is now required, due 48 h after the raise.
  if (
    after.status === 'resolved' &&
    postmortemRequired(after) &&
    !postmortemRequired(before) &&
    after.postmortemDoneAt === undefined
  ) {
    // A stage already behind (the 24-hour reminder of a deadline that stays) is not sent late.
    await schedulePostmortemStages(after, deps, now);
    const dueAt = postmortemDueAt(after);
    if (dueAt !== undefined)
      await emit(
        deps,
        'Postmortem Due',
        after,
        { dueAt },
        {
          cause: `postmortem:sev:${after.severityChanges}`,
          at: after.severityChangedAt ?? now.toISOString(),
        },
      );
  }
  await deps.store.putTimelineEntry({
    ...severityEntry(
      after,
      input.who,
      `${raised ? 'Escalated' : 'De-escalated'} ${before.sev} → ${after.sev}: ${input.reason}${note}`,
    ),
    ...withEffects(effects),
  });
}

/** Assigns a role (an SME is added to the list); the assignee is told if they are a responder. */
/**
 * PRACTICE: "IC is NOT the person fixing the technical issue". One person as both incident
 * commander and tech lead is said in the answer (`warning`), not refused: a team of two may have to.
 */
function bothRoles(incident: Incident): { warning?: string } {
  const commander = incident.roles.commander;
  if (commander === undefined || incident.roles['tech-lead'] !== commander) return {};
  return {
    warning: `${commander} is both the incident commander and the tech lead: the commander coordinates and does not fix the issue (PRACTICE); give one of the roles to someone else when you can`,
  };
}

export async function assignRole(
  id: string,
  input: RoleAssignInput,
  deps: CommandDeps,
): Promise<CommandResult> {
  mustBeResponder(input.person, 'person', deps);
  const clock = deps.clock();
  const now = clock.toISOString();
  const token = randomId();
  const key = input.role === 'sme' ? `sme:${input.person}` : input.role;
  const { after, changed } = await patchWithRetry(id, deps, (incident) => {
    if (incident.status === 'resolved') throw conflict(incident, 'assign roles');
    const rolesAt = { ...incident.rolesAt, [key]: now };
    const leases = leasesWith(incident, `role:${key}:${now}`, token, clock);
    if (input.role === 'sme') {
      return incident.smes.includes(input.person)
        ? undefined
        : { smes: [...incident.smes, input.person], rolesAt, leases };
    }
    if (incident.roles[input.role] === input.person) return undefined;
    checkFrom(incident, ROLE_NAMES[input.role], incident.roles[input.role], input.from);
    return { roles: { ...incident.roles, [input.role]: input.person }, rolesAt, leases };
  });
  // A retry finds the role given: it completes what the first attempt may have left (the
  // re-assessment chain a new commander starts, the notice, the entry), keyed by when it was given.
  const at = after.rolesAt[key] ?? now;
  if (input.role === 'commander') await ensureReassess(after, deps);
  const done = entry(
    after,
    'ROLE_ASSIGNED',
    `role:${key}:${at}`,
    at,
    input.who,
    `${nameOf(input.person, deps)} is ${input.role === 'sme' ? 'a' : 'the'} ${ROLE_NAMES[input.role]}`,
  );
  // (A commander who came by a handoff has its HANDOFF entry instead.)
  const byHandoff = key === 'commander' && after.rolesAt.handoff === at;
  const cause = `role:${key}:${at}`;
  if (
    !changed &&
    (after.rolesAt[key] === undefined ||
      byHandoff ||
      (await deps.store.hasTimelineEntry(done)) ||
      !(await takeLease(id, cause, token, done, deps)))
  )
    return { incident: after, changed: false, ...bothRoles(after) };
  await noticeUnderLease(
    after,
    {
      person: input.person,
      reason: `${nameOf(input.who, deps)} made you ${ROLE_NAMES[input.role]}`,
      cause,
      token,
      done,
    },
    deps,
  );
  return { incident: after, changed, ...bothRoles(after) };
}

/**
 * Takes a role away, or an SME off the list: "Bob is no longer the scribe" on the timeline, and
 * Bob is told. `from` is the compare-and-set of the assignment: a role another holds by then is a
 * 409 naming `from`. A role nobody holds (an SME not on the list) is a retry (`changed: false`),
 * which completes the entry of the removal that emptied it, keyed by when it was made. Without a
 * commander nothing needs rescheduling: the status reminder and the re-assessment read the roles
 * when they fire (statusOwners, assessor) and go to the acknowledger of a SEV-1/2; a SEV-3/4's
 * re-assessment chain ends, and naming a commander again restarts it.
 */
export async function removeRole(
  id: string,
  input: RoleRemoveInput,
  deps: CommandDeps,
): Promise<CommandResult> {
  const clock = deps.clock();
  const now = clock.toISOString();
  const token = randomId();
  const key = input.role === 'sme' ? `sme:${input.person}` : input.role;
  const { before, after, changed } = await patchWithRetry(id, deps, (incident) => {
    if (incident.status === 'resolved') throw conflict(incident, 'remove roles');
    const leases = leasesWith(incident, `unrole:${key}:${now}`, token, clock);
    if (input.role === 'sme') {
      if (!incident.smes.includes(input.person)) return undefined;
      const smes = incident.smes.filter((p) => p !== input.person);
      return { smes, rolesAt: { ...incident.rolesAt, [key]: now }, leases };
    }
    const holder = incident.roles[input.role];
    if (holder === undefined) return undefined;
    checkFrom(incident, ROLE_NAMES[input.role], holder, input.from);
    const { [input.role]: _, ...roles } = incident.roles;
    return { roles, rolesAt: { ...incident.rolesAt, [key]: now, [`${key}-removed`]: holder }, leases };
  });
  // Who lost the role: now, or (a retry) as the removal recorded it.
  const person =
    input.role === 'sme'
      ? input.person
      : changed
        ? before.roles[input.role]
        : after.rolesAt[`${key}-removed`];
  const at = after.rolesAt[key];
  // Never given, or never taken away: nothing to complete.
  if (at === undefined || person === undefined) return { incident: after, changed: false };
  const cause = `unrole:${key}:${at}`;
  const done = entry(
    after,
    'ROLE_REMOVED',
    cause,
    at,
    input.who,
    `${nameOf(person, deps)} is no longer ${input.role === 'sme' ? 'a' : 'the'} ${ROLE_NAMES[input.role]}`,
  );
  if (
    !changed &&
    ((await deps.store.hasTimelineEntry(done)) || !(await takeLease(id, cause, token, done, deps)))
  )
    return { incident: after, changed: false };
  await noticeUnderLease(
    after,
    {
      person,
      reason: `${nameOf(input.who, deps)} took you off as ${ROLE_NAMES[input.role]}`,
      cause,
      token,
      done,
    },
    deps,
  );
  return { incident: after, changed };
}

/**
 * A role goes to a configured responder (PagerDuty lets you pick only its users): the role's
 * notice, and a commander's reminders, reach only a responder's contacts — a typo would end them
 * unseen.
 */
function mustBeResponder(person: string, field: string, deps: CommandDeps): void {
  if (isResponder(person, deps)) return;
  throw new ValidationError('unknown responder', [
    { field, message: `"${person}" is not a responder in the config (responders[].id)` },
  ]);
}

/** The practice's IC handoff brief, as one timeline entry. */
export function renderBrief(from: string | undefined, to: string, brief: Brief): string {
  return [`Incident commander handoff${from ? ` from ${from}` : ''} to ${to}.`, ...briefParts(brief)].join(
    ' | ',
  );
}

/** The brief's five parts, as the timeline entry and the new commander's notice give them. */
function briefParts(brief: Brief): string[] {
  return [
    `Status and impact: ${brief.status}`,
    `Tried: ${brief.tried}`,
    `Current strategy: ${brief.strategy}`,
    `Key people: ${brief.people}`,
    `Pending decisions: ${brief.decisions}`,
  ];
}

/** Hands the incident commander role over, recording the brief; the new IC is told. */
export async function handOff(id: string, input: HandoffInput, deps: CommandDeps): Promise<CommandResult> {
  mustBeResponder(input.to, 'to', deps);
  const clock = deps.clock();
  const now = clock.toISOString();
  const token = randomId();
  const { before, after, changed } = await patchWithRetry(id, deps, (incident) => {
    if (incident.status === 'resolved') throw conflict(incident, 'hand off');
    if (incident.roles.commander === input.to) return undefined;
    checkFrom(incident, ROLE_NAMES.commander, incident.roles.commander, input.from);
    return {
      roles: { ...incident.roles, commander: input.to },
      rolesAt: {
        ...incident.rolesAt,
        commander: now,
        handoff: now,
        'commander-from': incident.roles.commander ?? '',
      },
      leases: leasesWith(incident, `handoff:${now}`, token, clock),
    };
  });
  // Keyed by when the role changed hands: a retry finds the brief, or writes it (it has the same).
  const at = after.rolesAt.commander ?? now;
  const from = changed ? before.roles.commander : after.rolesAt['commander-from'] || undefined;
  const cause = `handoff:${at}`;
  const done = entry(
    after,
    'HANDOFF',
    cause,
    at,
    input.who,
    renderBrief(from ? nameOf(from, deps) : undefined, nameOf(input.to, deps), input.brief),
  );
  let written: TimelineEntry | undefined | null;
  if (!changed) {
    // A handoff to the commander there is: the retry of the handoff that made them commander (the
    // same brief, or its entry still to write) completes it; anything else would drop its brief.
    // (A commander who was assigned, not handed over to, has a ROLE_ASSIGNED entry and no brief.)
    written = after.rolesAt.handoff === at ? await handoffEntry(after, done.id, deps) : null;
    if (written === null || (written !== undefined && written.text !== done.text)) {
      throw new ConflictError(`${input.to} is already the incident commander of ${after.id}`, [
        { field: 'to', message: 'is the incident commander already' },
      ]);
    }
  }
  // (After the refusal above, which changes nothing: a retry completes the chain a commander starts.)
  await ensureReassess(after, deps);
  if (!changed && (written !== undefined || !(await takeLease(id, cause, token, done, deps))))
    return { incident: after, changed: false, ...bothRoles(after) };
  await noticeUnderLease(
    after,
    {
      person: input.to,
      // The brief itself (PRACTICE: "Brief new IC on: …"): the new commander may be on a phone.
      reason: [
        `You are now the incident commander (handoff from ${nameOf(from ?? input.who, deps)})`,
        ...briefParts(input.brief),
      ].join(' | '),
      cause,
      token,
      done,
    },
    deps,
  );
  return { incident: after, changed, ...bothRoles(after) };
}

/** The HANDOFF entry with this id, if it was written. */
async function handoffEntry(
  incident: Incident,
  id: string,
  deps: CommandDeps,
): Promise<TimelineEntry | undefined> {
  return (await deps.store.timeline(incident.id)).find((e) => e.id === id);
}

/**
 * A person's ACTION, DECISION, OBSERVATION, QUESTION, ANSWER or status UPDATE on the timeline.
 * With a key, the first request's note is the one (`created: false` for the others), even when
 * retries race. An UPDATE then moves the pending status-update reminder to one interval after it
 * (each retry again: the move is idempotent, and one that finds a reminder after the update leaves
 * the chain alone).
 */
export async function addNote(
  id: string,
  input: TimelineNoteInput,
  deps: CommandDeps,
): Promise<{ entry: TimelineEntry; created: boolean }> {
  const incident = await load(id, deps);
  const note: TimelineEntry = {
    id: input.key ? timelineEntryId(incident.id, 'NOTE', input.key) : randomId().slice(0, 13),
    incidentId: incident.id,
    at: deps.clock().toISOString(),
    type: input.type,
    who: input.who,
    text: input.text,
  };
  // Its time is part of its sort key: only the store's claim on the id keeps a retry from adding it twice.
  const added = input.key
    ? await deps.store.putTimelineEntryOnce(note)
    : await deps.store.putTimelineEntry(note).then(() => ({ entry: note, created: true }));
  if (added.entry.type === 'UPDATE') {
    // Read after the entry is written: a reminder claimed meanwhile has its successor moved instead.
    const current = await load(id, deps);
    const reminder = await startReminders(current, deps, { statusUpdated: true });
    if (reminder !== undefined) await cancelIfResolved(id, [reminder], deps);
    // For chat bots and status pages. Its id comes from the entry's, so a retry (keyed) puts the
    // same event again — one a crash after the entry left unsent goes out then.
    await emit(
      deps,
      'Incident Status Updated',
      current,
      { update: added.entry.text, postedAt: added.entry.at },
      { cause: `update:${added.entry.id}`, at: added.entry.at, actor: added.entry.who },
    );
  }
  return added;
}

/**
 * Ticks (or unticks) a checklist item by hand. An item Klaxon alone ticks from its record (the
 * acknowledgement, the mitigation, the published postmortem, …) is refused with a 409 naming the
 * command that does it: a person's tick would contradict what Klaxon knows.
 */
export async function tickChecklist(
  id: string,
  item: ChecklistItemId,
  input: { who: string; done: boolean },
  deps: CommandDeps,
): Promise<CommandResult> {
  const now = deps.clock().toISOString();
  const { after, changed } = await patchWithRetry(id, deps, (incident) => {
    const refused = tickedByKlaxon(item, incident.id);
    if (refused !== undefined)
      throw new ConflictError(`checklist item ${item} is not ticked by hand`, [
        { field: 'item', message: refused },
      ]);
    const ticked = incident.checklist[item] !== undefined;
    if (ticked === input.done) return undefined;
    const checklist = { ...incident.checklist };
    if (input.done) checklist[item] = { at: now, by: input.who };
    else delete checklist[item];
    return { checklist };
  });
  // A tick is keyed by its stored time, so a retry writes the entry its first attempt may not have.
  const tick = after.checklist[item];
  if (changed || (input.done && tick !== undefined)) {
    const at = input.done && tick !== undefined ? tick.at : now;
    await deps.store.putTimelineEntry(
      entry(
        after,
        'CHECKLIST',
        `check:${item}:${input.done ? at : after.version}`,
        at,
        input.done && tick !== undefined ? tick.by : input.who,
        `${input.done ? 'Ticked' : 'Unticked'} checklist item ${item}`,
      ),
    );
  }
  return { incident: after, changed };
}

/** Marks the postmortem published: its reminders stop. */
export async function publishPostmortem(id: string, who: string, deps: CommandDeps): Promise<CommandResult> {
  const now = deps.clock().toISOString();
  const { after, changed } = await patchWithRetry(id, deps, (incident) => {
    if (incident.status !== 'resolved') throw conflict(incident, 'publish a postmortem before resolution');
    if (incident.postmortemDoneAt !== undefined) return undefined;
    return { postmortemDoneAt: now, postmortemDoneBy: who };
  });
  for (const stage of ['reminder', 'due'] as const)
    await deps.timers.cancel(timerName({ kind: 'postmortem', incidentId: id, stage }));
  // Keyed by the stored publication: a retry (re)writes the same entry, never a second one.
  const at = after.postmortemDoneAt ?? now;
  const by = after.postmortemDoneBy ?? who;
  await deps.store.putTimelineEntry(
    entry(after, 'POSTMORTEM_PUBLISHED', 'postmortem', at, by, `Postmortem published by ${nameOf(by, deps)}`),
  );
  return { incident: after, changed };
}

/**
 * Tracks a postmortem action item. With a key, the first request's item is the one (`created:
 * false` for the others): its id is derived from the key and created only if absent, so retries
 * that race make one item and all answer it.
 */
export async function addActionItem(
  incidentId: string,
  input: ActionItemCreateInput,
  deps: CommandDeps,
): Promise<{ actionItem: ActionItemRecord; created: boolean }> {
  await load(incidentId, deps);
  const id = input.key
    ? timelineEntryId(incidentId, 'ACTION_ITEM', input.key).slice(0, 12)
    : randomId().slice(0, 12);
  const existing = input.key ? await deps.actionItems.getActionItem(incidentId, id) : undefined;
  if (existing) return { actionItem: existing, created: false };
  // A retry the next day has returned above.
  refusePastDeadline(input.deadline, deps);
  const item: ActionItemRecord = {
    id,
    incidentId,
    action: input.action,
    owner: input.owner,
    deadline: input.deadline,
    category: input.category,
    status: 'open',
    createdAt: deps.clock().toISOString(),
    createdBy: input.who,
  };
  const { item: first, created } = await deps.actionItems.createActionItem(item);
  return { actionItem: first, created };
}

/** An action item is due today at the earliest, in the team's zone: 400 naming `deadline` otherwise. */
function refusePastDeadline(deadline: string, deps: CommandDeps): void {
  const today = localDay(deps.clock(), deps.config.timeZone);
  if (deadline < today) {
    throw new ValidationError('deadline in the past', [
      { field: 'deadline', message: `is before today (${today} in ${deps.config.timeZone})` },
    ]);
  }
}

/**
 * Changes an item's status, owner or deadline: only the fields given are written (two people
 * changing different fields at once both hold), with who changed it; a retry writes nothing.
 */
export async function updateActionItem(
  incidentId: string,
  itemId: string,
  input: ActionItemUpdateInput,
  deps: CommandDeps,
): Promise<ActionItemRecord> {
  const { who, ...change } = input;
  if (change.deadline !== undefined) {
    // A retry the next day of a change to what was then today finds that deadline set already.
    const current = await deps.actionItems.getActionItem(incidentId, itemId);
    if (current?.deadline !== change.deadline) {
      refusePastDeadline(change.deadline, deps);
      // Done is measured against the deadline it had (klaxon metrics: on time or late).
      if (current?.status === 'done' && change.status !== 'open')
        throw new ValidationError('deadline of a done item', [
          {
            field: 'deadline',
            message: 'cannot move the deadline of a done item: reopen it first (status open)',
          },
        ]);
    }
  }
  const updated = await deps.actionItems.updateActionItem(incidentId, itemId, change, {
    who,
    at: deps.clock().toISOString(),
  });
  if (updated === undefined) throw new NotFoundError(`no action item ${itemId} on incident ${incidentId}`);
  return updated;
}
