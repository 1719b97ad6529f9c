import {
  businessHoursFor,
  businessStartText,
  inBusinessHours,
  nextBusinessStart,
} from '#core/business-hours';
import type { EscalationPolicy, KlaxonConfig, Target } from '#core/config';
import { ConflictError, NotFoundError, RetryableError } from '#core/errors';
import { escalationStepText, stepAction, stepCount } from '#core/escalation';
import { timelineEntryId } from '#core/ids';
import {
  type Incident,
  impactRequiring,
  lastStatusUpdate,
  POSTMORTEM_DUE_HOURS,
  POSTMORTEM_REMINDER_HOURS,
  pagedResponders,
  postmortemDueAt,
  postmortemReason,
  postmortemSince,
  SNOOZE_ENDED,
  type Snooze,
  snoozedUntil,
  type TimelineEntry,
  type TimelineType,
} from '#core/incident';
import { localDay, monthOf } from '#core/metrics';
import { onCallAt } from '#core/oncall';
import { contactKey, type Page, type PageKind, pageIncident } from '#core/page';
import { isMajor, reminderIntervalMinutes, type Severity } from '#core/severity';
import { throttleClass, throttleRules } from '#core/throttle';
import { type TimerEvent, timer, timerAfter, timerName } from '#core/timers';
import { clockTime } from '#core/wall-clock';
import { holdForDigest } from './digest.ts';
import { emit } from './lifecycle-events.ts';
import type { AckLinks } from './links.ts';
import type {
  Clock,
  ControlStore,
  EventPublisher,
  IncidentStore,
  MetricsStore,
  Pager,
  Timers,
} from './ports.ts';
import { sendInSlot, takeSlot } from './throttled.ts';

/**
 * Theory of operation — escalation.
 *
 * An incident escalates through the steps of its service's policy (core/escalation.ts). Each step
 * is run by a one-time timer named after (incident, generation, step). Running a step is
 * "claim, then complete":
 *   1. claim: a conditional write on the incident (its version as read, status triggered,
 *      escalation active) records `step` and `stepAt`. An acknowledgement, a resolve or a
 *      maintenance stop that commits first makes the claim fail, so a late timer pages nobody.
 *   2. effects: page the level's targets (schedules resolved to who is on call now), start the
 *      next step's timer (deterministic name: a duplicate create is a no-op). A level with nobody
 *      on call times the next level with someone for now instead (runStep).
 *   3. complete: write the step's timeline entry, whose key is derived from (incident, step,
 *      stepAt). A retry that finds the step claimed but the entry missing repeats the effects;
 *      one that finds the entry does nothing. Pages are therefore at-least-once, never lost.
 * The generation moves on when escalation restarts (ack timeout) or stops (maintenance), which
 * turns every timer of the earlier generation into a no-op without having to find it.
 */

export interface EscalationDeps {
  readonly store: IncidentStore & ControlStore & MetricsStore;
  readonly timers: Timers;
  readonly pager: Pager;
  readonly clock: Clock;
  readonly config: KlaxonConfig;
  readonly links: AckLinks;
  /** The Klaxon bus, for the lifecycle events (Incident Opened, …). */
  readonly events: EventPublisher;
  /** How long one configured minute lasts; 60 000 except in local demos that speed time up. */
  readonly minuteMs?: number;
}

/**
 * Who a notification reached, who the throttle held back, and how many messages went out;
 * `retryAt`: for a reminder the throttle refused, when it allows the first of those contacts one.
 */
export type Effects = { paged: string[]; throttled: string[]; messages: number; retryAt?: number };
export const NONE: Effects = { paged: [], throttled: [], messages: 0 };

export const minutes = (deps: EscalationDeps, n: number) => n * (deps.minuteMs ?? 60_000);

export function policyOf(incident: Incident, config: KlaxonConfig): EscalationPolicy | undefined {
  return config.escalationPolicies.find((p) => p.id === incident.escalationPolicy);
}

export function serviceOf(incident: Incident, config: KlaxonConfig) {
  return config.services.find((s) => s.id === incident.service);
}

export function entry(
  incident: Incident,
  type: TimelineType,
  cause: string,
  at: string,
  who: string,
  text: string,
  effects: Effects = NONE,
): TimelineEntry {
  return {
    id: timelineEntryId(incident.id, type, cause),
    incidentId: incident.id,
    at,
    type,
    who,
    text,
    ...(effects.paged.length > 0 ? { paged: effects.paged } : {}),
    ...(effects.throttled.length > 0 ? { throttled: effects.throttled } : {}),
  };
}

/** The responders a level's targets name: responders as they are, schedules as who is on call. */
export async function recipients(
  targets: readonly Target[],
  deps: EscalationDeps,
  at: Date,
): Promise<string[]> {
  const ids: string[] = [];
  for (const target of targets) {
    if ('responder' in target) {
      ids.push(target.responder);
      continue;
    }
    const schedule = deps.config.schedules.find((s) => s.id === target.schedule);
    if (schedule === undefined) continue;
    ids.push(...onCallAt(schedule, await deps.store.listOverrides(schedule.id, at), at));
  }
  return [...new Set(ids)];
}

/** Whether a maintenance window of the service is active at `now`. */
export async function inMaintenance(service: string, deps: EscalationDeps, now: Date): Promise<boolean> {
  const windows = await deps.store.listMaintenance(service, now);
  return windows.some((w) => new Date(w.from) <= now && now < new Date(w.to));
}

/**
 * When an incident whose severity its business hours hold back may be paged again, if `now` is
 * outside them: their next start. Undefined inside them, or when none apply (its service pages
 * around the clock, its severity is not listed, the config has none).
 */
export function offHoursUntil(incident: Incident, deps: EscalationDeps, now: Date): Date | undefined {
  const hours = businessHoursFor(deps.config, incident.service, incident.sev);
  const zone = deps.config.timeZone;
  if (hours === undefined || inBusinessHours(hours, now.getTime(), zone)) return undefined;
  return new Date(nextBusinessStart(hours, now.getTime(), zone));
}

/** A moment in a timeline entry's text, as people read it: `16:11 Fri 27 Nov (Europe/Berlin)`. */
function zoned(iso: string, deps: EscalationDeps): string {
  return businessStartText(Date.parse(iso), deps.config.timeZone);
}

/** `outside business hours: paging at 09:00 Mon 30 Nov (Europe/Berlin)`. */
export function offHoursText(until: Date, deps: EscalationDeps): string {
  return `outside business hours: paging at ${businessStartText(until.getTime(), deps.config.timeZone)}`;
}

/** Whether its escalation is stopped to wait for business hours (not by a maintenance window). */
export function waitsForBusinessHours(incident: Incident): boolean {
  return incident.escalation === 'stopped' && incident.offHoursGeneration === incident.generation;
}

/**
 * Whether a maintenance window holds its escalation stopped (not the wait for business hours): only
 * while it is triggered. An acknowledgement stops escalation anyway, and keeps the `stopped` a window
 * (or the wait) left — the window's end resumes only unacknowledged incidents — so for an owned one
 * it says nothing about now: its raise asks whether a window or off-hours is in force (inMaintenance,
 * offHoursUntil), and the ack timeout's restart makes it active.
 */
export function stoppedByMaintenance(incident: Incident): boolean {
  return (
    incident.status === 'triggered' && incident.escalation === 'stopped' && !waitsForBusinessHours(incident)
  );
}

/**
 * The timer that resumes an incident waiting for business hours at their start `until`: named for
 * the generation that waits and for that start. An incident about to stop is timed for the
 * generation the stop moves it to, before that stop, so no incident waits without one (a stop that
 * then fails leaves a timer that finds another generation: a no-op); one found still waiting (its
 * timer came inside a window, late, or under other hours) is timed again for the next start — a
 * new name, while the same start's timer, already set, is left as it is.
 */
async function timeBusinessHours(
  incident: Incident,
  generation: number,
  until: Date,
  deps: EscalationDeps,
): Promise<void> {
  await deps.timers.schedule(
    timer({ kind: 'business-hours', incidentId: incident.id, generation, start: until.getTime() }, until),
  );
}

/** Whether `notify` counts the messages it sent on the incident, or leaves that to its caller's last write. */
export type Counting = 'now' | 'by-caller';

/**
 * Builds and sends one message per contact of each responder, through the per-contact throttle;
 * with `only`, to those of their contacts alone (a held reminder's).
 */
export async function notify(
  incident: Incident,
  responderIds: readonly string[],
  message: {
    kind: PageKind;
    reason: string;
    level?: number;
    cause: string;
    /** One person telling another (a role, a handoff): sent even when the throttle would hold it. */
    direct?: true;
  },
  deps: EscalationDeps,
  now: Date,
  counting: Counting = 'now',
  only?: readonly string[],
): Promise<Effects> {
  const effects: Effects = { paged: [], throttled: [], messages: 0 };
  const about = pageIncident(incident, deps.config);
  for (const responderId of responderIds) {
    const responder = deps.config.responders.find((r) => r.id === responderId);
    if (responder === undefined) continue;
    const actionable = message.kind !== 'notice' && incident.status !== 'resolved';
    const links = {
      incident: await deps.links.viewLink(incident.id, responder.id, now),
      ...(actionable && incident.status === 'triggered'
        ? { acknowledge: await deps.links.link(incident.id, 'ack', responder.id, now) }
        : {}),
      ...(actionable ? { resolve: await deps.links.link(incident.id, 'resolve', responder.id, now) } : {}),
    };
    let sent = false;
    for (const [index, contact] of responder.contacts.entries()) {
      const key = contactKey(responder.id, index);
      if (only !== undefined && !only.includes(key)) continue;
      const page: Page = {
        id: timelineEntryId(incident.id, message.cause, key),
        kind: message.kind,
        incident: about,
        responder: { id: responder.id, name: responder.name },
        contact: { ...contact, key },
        ...(message.level !== undefined ? { level: message.level } : {}),
        reason: message.reason,
        links,
      };
      const rules = throttleRules(contact.type, message.kind, deps.minuteMs);
      const throttleKey = `${key}#${throttleClass(message.kind, incident.sev)}`;
      const slot = await takeSlot(deps.store, throttleKey, rules, now);
      if (!slot.allowed && message.direct) {
        // Counted by no slot: what a person sends another is as rare as their actions.
        await deps.pager.send(page);
        sent = true;
        effects.messages++;
        continue;
      }
      if (!slot.allowed) {
        effects.throttled.push(key);
        // Pages are held for a digest; a reminder is sent later by its caller (holdReminder);
        // notices (who acknowledged or resolved) are dropped: each repeats what the timeline says.
        if (message.kind === 'page') await holdForDigest(key, incident.id, slot.retryAt, deps);
        else if (message.kind === 'reminder')
          effects.retryAt = Math.min(effects.retryAt ?? slot.retryAt, slot.retryAt);
        continue;
      }
      await sendInSlot(deps, throttleKey, page, now);
      sent = true;
      effects.messages++;
    }
    if (sent) effects.paged.push(responder.id);
  }
  if (counting === 'now') await deps.store.countPages(incident.id, effects.messages);
  return effects;
}

/** What running a step came to: who it paged, whether it was the fallback, what its entry adds. */
export interface StepRun {
  readonly effects: Effects;
  readonly exhausted: boolean;
  /** Appended to the step's entry: nobody on call there, and what runs instead. */
  readonly note: string;
}

/**
 * Step `step`'s effects: page its level (or the fallback when exhausted) and start the next timer.
 * A level with nobody on call (a schedule's gap, a rotation not begun) is not a page into the
 * void followed by the level's whole delay: PagerDuty gives an incident to the first level with
 * someone on call, so the next such step of its round is timed for now, and the entry says why;
 * past the round's end the next round keeps its time (nextStaffedStep).
 */
export async function runStep(
  incident: Incident,
  policy: EscalationPolicy,
  step: number,
  deps: EscalationDeps,
  now: Date,
  counting: Counting = 'now',
): Promise<StepRun> {
  const action = stepAction(policy, step);
  const cause = `step:${incident.generation}:${step}`;
  if (action.kind === 'exhausted') {
    const fallback = serviceOf(incident, deps.config)?.fallback;
    const ids = fallback ? await recipients([fallback], deps, now) : [];
    const effects = await notify(
      incident,
      ids,
      { kind: 'page', reason: 'Escalation exhausted: nobody acknowledged', cause },
      deps,
      now,
      counting,
    );
    const note =
      fallback === undefined
        ? ' — no fallback: nobody paged'
        : reachable(ids, deps)
          ? ''
          : ' — nobody on call for the fallback: nobody paged';
    return { effects, exhausted: true, note };
  }
  // biome-ignore lint/style/noNonNullAssertion: stepAction bounds the level
  const level = policy.levels[action.level]!;
  const ids = await recipients(level.targets, deps, now);
  if (!reachable(ids, deps)) {
    const { next, empty, after } = await nextStaffedStep(policy, step, deps, now);
    const then = stepAction(policy, next);
    const levels = [action.level, ...empty].map((l) => `level ${l + 1}`).join(', nor at ');
    const at = after === undefined ? atOnce(deps) : new Date(now.getTime() + minutes(deps, after));
    await deps.timers.schedule(
      timer(
        {
          kind: 'escalate',
          incidentId: incident.id,
          generation: incident.generation,
          step: next,
          ...(after === undefined ? { atOnce: true as const } : {}),
        },
        at,
      ),
    );
    const what =
      then.kind !== 'page'
        ? 'on to the fallback now'
        : after === undefined
          ? `level ${then.level + 1} is paged now`
          : `level ${then.level + 1} is tried again at ${clockTime(at.toISOString(), deps.config.timeZone)} (repeat ${then.round})`;
    return { effects: NONE, exhausted: false, note: ` — nobody on call at ${levels}: ${what}` };
  }
  const reason =
    step === 0
      ? 'New incident'
      : `Escalated to level ${action.level + 1}${action.round > 0 ? ` (repeat ${action.round})` : ''}`;
  const effects = await notify(
    incident,
    ids,
    { kind: 'page', reason, level: action.level + 1, cause },
    deps,
    now,
    counting,
  );
  const next: TimerEvent = {
    kind: 'escalate',
    incidentId: incident.id,
    generation: incident.generation,
    step: step + 1,
  };
  await deps.timers.schedule(timer(next, new Date(now.getTime() + minutes(deps, level.delayMinutes))));
  return { effects, exhausted: false, note: '' };
}

/** Whether any of these ids is a configured responder (someone a page can reach). */
function reachable(ids: readonly string[], deps: EscalationDeps): boolean {
  return ids.some((id) => isResponder(id, deps));
}

/** Whether `id` is a configured responder. */
export const isResponder = (id: string | undefined, deps: Pick<EscalationDeps, 'config'>): id is string =>
  id !== undefined && deps.config.responders.some((r) => r.id === id);

/**
 * After `step`'s empty level: the first later level of its round with someone on call now, run at
 * once. When the rest of the round is empty and the policy repeats, the next round begins `after`
 * the delays of the levels passed over (the cadence the steps would have had: a schedule's gap
 * ends, someone comes on call; and a person who escalated into an empty level is not paged back
 * at once); after the last round, the exhausted step (the fallback) at once. `empty`: the levels
 * passed over, also empty.
 */
async function nextStaffedStep(
  policy: EscalationPolicy,
  step: number,
  deps: EscalationDeps,
  now: Date,
): Promise<{ next: number; empty: number[]; after?: number }> {
  const empty: number[] = [];
  const levels = policy.levels.length;
  const last = Math.min((Math.floor(step / levels) + 1) * levels, stepCount(policy));
  let after = 0;
  for (let next = step; next < last; next++) {
    const action = stepAction(policy, next);
    if (action.kind !== 'page') break;
    // biome-ignore lint/style/noNonNullAssertion: stepAction bounds the level
    const level = policy.levels[action.level]!;
    if (next > step) {
      if (reachable(await recipients(level.targets, deps, now), deps)) return { next, empty };
      empty.push(action.level);
    }
    after += level.delayMinutes;
  }
  if (last < stepCount(policy)) return { next: last, empty, after };
  return { next: stepCount(policy), empty };
}

/**
 * A timer for "now": a moment ahead by a clock read just before it is created (Scheduler is
 * asked for a time still to come; it fires within its minute's precision, locally at once).
 */
export function atOnce(deps: EscalationDeps): Date {
  return new Date(deps.clock().getTime() + AT_ONCE_MS);
}
const AT_ONCE_MS = 1000;

/**
 * A new incident: page level 1 and start the timer for level 2 (status-update reminders wait for
 * an owner: see startReminders), then complete the opening in one write (OPENED on the incident
 * item, the page count, the lease given back). Called again on a replay, it does nothing once
 * the incident is `opened`.
 */
export async function startEscalation(
  incident: Incident,
  deps: EscalationDeps,
  lease?: OpeningLease,
): Promise<void> {
  const opened = entry(
    incident,
    'OPENED',
    incident.id,
    incident.detectedAt,
    incident.origin,
    `Incident opened: ${incident.title}`,
  );
  // The delivery that just created it knows nobody opened it before; another sees `opened` (or,
  // for an incident opened before OPENED moved onto the incident item, its entry).
  if (incident.opened || (lease?.held !== true && (await deps.store.hasTimelineEntry(opened)))) return;
  if (lease !== undefined && !lease.held) {
    const at = deps.clock();
    const until = new Date(at.getTime() + OPENING_LEASE_MS);
    if (!(await deps.store.claimOpening(incident.id, lease.token, at, until))) {
      // Opened meanwhile (its last write gave the lease back), or still being opened.
      if ((await deps.store.get(incident.id))?.opened) return;
      throw new RetryableError(`incident ${incident.id} is being opened by another delivery; retry later`);
    }
  }
  try {
    await openingEffects(incident, opened, deps);
  } catch (error) {
    // Let this delivery's retry take the lease at once (a crash leaves it to run out instead).
    if (lease !== undefined) await deps.store.releaseOpening(incident.id, lease.token).catch(() => undefined);
    throw error;
  }
}

/**
 * Who runs a new incident's opening effects: the delivery that created it holds the lease from
 * the upsert on (`held`); any other delivery of the same event must take it first.
 */
export interface OpeningLease {
  readonly token: string;
  readonly held: boolean;
}

/** How long the opening effects are leased: far longer than they take, shorter than a retry's delay. */
export const OPENING_LEASE_MS = 30_000;

async function openingEffects(
  incident: Incident,
  opened: TimelineEntry,
  deps: EscalationDeps,
): Promise<void> {
  const now = deps.clock();
  const { effects, note } =
    policyOf(incident, deps.config) === undefined
      ? { effects: NONE, note: ' — no escalation policy: nobody paged' }
      : await pageLevelOne(incident, deps, now, 'by-caller');
  await ensureReassess(incident, deps); // a commander named at declaration: from the first mark
  await emit(deps, 'Incident Opened', incident, {}, { cause: 'opened', at: incident.detectedAt });
  await deps.store.completeOpening(
    incident.id,
    { ...opened, text: opened.text + note, ...withEffects(effects) },
    effects.messages,
  );
}

/**
 * When a required postmortem's reminder (24 hours after resolution, or after the raise that
 * required it) or deadline (48) comes.
 */
export function postmortemStageAt(
  incident: Pick<Incident, 'resolvedAt' | 'detectedAt' | 'postmortemRequiredAt'>,
  stage: 'reminder' | 'due',
  deps: EscalationDeps,
): string {
  const hours = stage === 'due' ? POSTMORTEM_DUE_HOURS : POSTMORTEM_REMINDER_HOURS;
  return new Date(
    Date.parse(postmortemSince(incident) ?? incident.detectedAt) + minutes(deps, hours * 60),
  ).toISOString();
}

/**
 * Times a required postmortem's reminder and deadline (`postmortemStageAt`). With `after`, a stage
 * already behind it is not set: it would be sent late, stamped before what required it.
 */
export async function schedulePostmortemStages(
  incident: Pick<Incident, 'id' | 'resolvedAt' | 'detectedAt' | 'postmortemRequiredAt'>,
  deps: EscalationDeps,
  after?: Date,
): Promise<void> {
  for (const stage of ['reminder', 'due'] as const) {
    const at = new Date(postmortemStageAt(incident, stage, deps));
    if (after !== undefined && at.getTime() <= after.getTime()) continue;
    await deps.timers.schedule(timer({ kind: 'postmortem', incidentId: incident.id, stage }, at));
  }
}

/**
 * Step 0 of the incident's generation: level 1 paged and the next step timed — unless a
 * maintenance window is active, which stops its escalation instead (nobody paged, noted), or
 * its severity waits for business hours: stopped as well, until their start's timer resumes it.
 */
export async function pageLevelOne(
  incident: Incident,
  deps: EscalationDeps,
  now: Date,
  counting: Counting = 'now',
): Promise<{ effects: Effects; note: string; waits?: true }> {
  // Stopped without an entry of its own: the caller's entry says why nobody was paged.
  const stop = (until?: Date) =>
    whileEscalating(incident, deps, async (current) => {
      if (until !== undefined) await timeBusinessHours(current, current.generation + 1, until, deps);
      const stopped = await deps.store.stopEscalation(current, undefined, { offHours: until !== undefined });
      return stopped === undefined ? 'raced' : 'acted';
    });
  if (await inMaintenance(incident.service, deps, now)) {
    await stop();
    return { effects: NONE, note: ' — maintenance window: nobody paged', waits: true };
  }
  const until = offHoursUntil(incident, deps, now);
  if (until !== undefined) {
    // A retry that finds it waiting already leaves it (and its timer) as it is.
    if (!waitsForBusinessHours(incident)) await stop(until);
    return { effects: NONE, note: ` — ${offHoursText(until, deps)}`, waits: true };
  }
  const policy = policyOf(incident, deps.config);
  return policy ? await runStep(incident, policy, 0, deps, now, counting) : { effects: NONE, note: '' };
}

/** Severity re-assessment every 30 minutes while open, at fixed times from detection. */
export const REASSESS_MINUTES = 30;

export function reassessAt(incident: Incident, seq: number, deps: EscalationDeps): Date {
  return new Date(Date.parse(incident.detectedAt) + minutes(deps, REASSESS_MINUTES * seq));
}

/**
 * Whether the severity re-assessment reminders run: while there is someone to ask — an incident
 * commander, or for a SEV-1 and SEV-2 its acknowledger (until there is a commander). Before that,
 * escalation is what runs; the chain starts at the next 30-minute mark after acknowledgement.
 */
export function reassesses(incident: Incident): boolean {
  return incident.roles.commander !== undefined || (isMajor(incident.sev) && owned(incident));
}

/**
 * Whether its acknowledger still owns it: not once it is triggered again (the acknowledgement timed
 * out, or it reopened) — escalation runs again, and reminders wait for the next acknowledgement.
 */
export function owned(incident: Incident): boolean {
  return incident.acknowledgedBy !== undefined && incident.status !== 'triggered';
}

/**
 * Starts the re-assessment chain at its next 30-minute mark, if it should run and is not running.
 * Returns the timer it started, if any.
 */
export async function ensureReassess(
  incident: Incident,
  deps: EscalationDeps,
): Promise<TimerEvent | undefined> {
  if (incident.status === 'resolved' || !reassesses(incident)) return undefined;
  const elapsed = deps.clock().getTime() - Date.parse(incident.detectedAt);
  const due = Math.floor(elapsed / minutes(deps, REASSESS_MINUTES)) + 1;
  return scheduleReassess(incident, Math.max(due, incident.reassessSeq + 1), deps);
}

export async function scheduleReassess(
  incident: Incident,
  seq: number,
  deps: EscalationDeps,
): Promise<TimerEvent> {
  const event: TimerEvent = { kind: 'reassess', incidentId: incident.id, seq };
  await deps.timers.schedule(timer(event, reassessAt(incident, seq, deps)));
  return event;
}

/**
 * Status-update reminders, every 15 minutes for a SEV-1 and 30 for a SEV-2, once the incident has
 * an owner (its acknowledger; until then escalation runs): the next one is one interval from
 * now, unless the chain is running (its pending timer is left as it is). Returns the timer it
 * started, if any.
 *
 * `statusUpdated`: a status update (UPDATE entry) was posted, so the pending reminder moves to one
 * interval after the latest update — unless a reminder came after it (a retried update: the chain
 * has moved on). `changedFrom`: see below.
 */
export async function startReminders(
  incident: Incident,
  deps: EscalationDeps,
  options: { changedFrom?: Severity; statusUpdated?: true } = {},
): Promise<TimerEvent | undefined> {
  const interval = reminderIntervalMinutes(incident.sev);
  if (interval === undefined || incident.status === 'resolved' || incident.acknowledgedBy === undefined)
    return undefined;
  const event: TimerEvent = { kind: 'reminder', incidentId: incident.id, seq: incident.reminderSeq + 1 };
  if (options.changedFrom === undefined && options.statusUpdated === undefined) {
    await deps.timers.schedule(timer(event, new Date(deps.clock().getTime() + minutes(deps, interval))));
    return event;
  }
  const old = options.changedFrom === undefined ? interval : reminderIntervalMinutes(options.changedFrom);
  if (options.changedFrom !== undefined && old === interval) return event;
  const since = await reminderSince(incident, deps);
  if (options.changedFrom === undefined) {
    if (since?.update !== true) return event;
    await deps.timers.reschedule(timer(event, new Date(Date.parse(since.at) + minutes(deps, interval))));
    return event;
  }
  // The severity changed: the pending reminder follows the new interval. It was due at the last
  // reminder, acknowledgement or status update plus the old interval — every change keeps it
  // there — so a shorter interval moves it up (to now + the new one, never later than it was due)
  // and a longer one moves it back (to the last of them plus the new one).
  const soon = deps.clock().getTime() + minutes(deps, interval);
  const due =
    old === undefined || since === undefined
      ? soon
      : interval < old
        ? Math.min(soon, Date.parse(since.at) + minutes(deps, old))
        : Date.parse(since.at) + minutes(deps, interval);
  await deps.timers.reschedule(timer(event, new Date(due)));
  return event;
}

/**
 * When the pending status reminder's interval began: at the last reminder (or the
 * acknowledgement), or at a status update posted after it (`update`). Read from the timeline, so
 * an update whose own move of the reminder failed still counts.
 */
async function reminderSince(
  incident: Incident,
  deps: EscalationDeps,
): Promise<{ at: string; update: boolean } | undefined> {
  const since = incident.reminderAt ?? incident.lastAcknowledgedAt ?? incident.acknowledgedAt;
  const updated = lastStatusUpdate(await deps.store.timeline(incident.id));
  if (updated !== undefined && (since === undefined || updated > since)) return { at: updated, update: true };
  return since === undefined ? undefined : { at: since, update: false };
}

/**
 * What an incident's new owner is reminded of: status updates, and re-assessing its severity.
 * `changedFrom`: its severity changed from this one, so the pending reminder follows the new
 * interval (startReminders).
 */
export async function startOwnerReminders(
  incident: Incident,
  deps: EscalationDeps,
  options: { changedFrom?: Severity } = {},
): Promise<TimerEvent[]> {
  const started = [await startReminders(incident, deps, options), await ensureReassess(incident, deps)];
  return started.filter((t) => t !== undefined);
}

/**
 * A resolve that ran to completion while these timers were being started cancelled the timers
 * before they existed: cancel them now.
 */
export async function cancelIfResolved(
  incidentId: string,
  started: readonly TimerEvent[],
  deps: EscalationDeps,
): Promise<void> {
  if (started.length === 0 || (await deps.store.get(incidentId))?.status !== 'resolved') return;
  for (const event of started) await deps.timers.cancel(timerName(event));
}

export function withEffects(effects: Pick<Effects, 'paged' | 'throttled'>): Partial<TimelineEntry> {
  return {
    ...(effects.paged.length > 0 ? { paged: effects.paged } : {}),
    ...(effects.throttled.length > 0 ? { throttled: effects.throttled } : {}),
  };
}

export type TimerOutcome = 'done' | 'stale' | 'replayed' | 'stopped' | 'rescheduled';

/** The timers whose message is a reminder: status updates, re-assessment, a postmortem's. */
export type ReminderEvent = Extract<TimerEvent, { kind: 'reminder' | 'reassess' | 'postmortem' }>;

/**
 * A reminder the contact throttle refused is not dropped (its chain's next one may be far off, a
 * postmortem's has none; and one incident's reminders must not starve another's): its timer is
 * set again, `held` for those contacts alone, for when the throttle allows one (`retryAt`, a
 * moment ahead at the earliest), and named after how many times it was held — a retry that
 * holds it again creates the same timer (a no-op). The flood stays bounded: a held reminder
 * takes a slot like any other, and is held again if another took it.
 */
async function holdReminder(event: ReminderEvent, effects: Effects, deps: EscalationDeps): Promise<void> {
  if (effects.retryAt === undefined || effects.throttled.length === 0) return;
  const held = { to: effects.throttled, n: (event.held?.n ?? 0) + 1 };
  const at = new Date(Math.max(effects.retryAt, atOnce(deps).getTime()));
  await deps.timers.schedule(timer({ ...event, held }, at));
}

/**
 * Sends a reminder timer's message to `owners` (with `only`, to those of their contacts alone)
 * and holds it for the contacts the throttle refuses (holdReminder): every reminder goes through
 * here, so none can be dropped by a caller that forgot the hold.
 */
export async function remind(
  event: ReminderEvent,
  incident: Incident,
  owners: readonly string[],
  message: { reason: string; cause: string },
  deps: EscalationDeps,
  now: Date,
  only?: readonly string[],
): Promise<Effects> {
  const effects = await notify(incident, owners, { kind: 'reminder', ...message }, deps, now, 'now', only);
  await holdReminder(event, effects, deps);
  return effects;
}

/**
 * A held reminder's timer fired (the caller found it still wanted): send it to the held contacts
 * of `owners`, hold it again for those the throttle still refuses, and write its own entry after
 * `first`, the reminder's (its type and time, keyed by how many times it was held): a retry, or
 * the same hold created again by a late retry of the reminder, finds it and sends nothing.
 */
export async function sendHeld(
  incident: Incident,
  event: ReminderEvent,
  held: { to: string[]; n: number },
  owners: readonly string[],
  message: { reason: string; cause: string },
  first: TimelineEntry,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const done = entry(incident, first.type, `${message.cause}:held:${held.n}`, first.at, 'klaxon', first.text);
  if (await deps.store.hasTimelineEntry(done)) return 'replayed';
  const now = deps.clock();
  const effects = await remind(event, incident, owners, message, deps, now, held.to);
  // Held contacts no longer among the owners (a commander named, someone else acknowledged): nobody.
  const time = clockTime(now.toISOString(), deps.config.timeZone);
  const outcome =
    effects.paged.length > 0
      ? `sent at ${time}`
      : effects.throttled.length > 0
        ? `held again at ${time}`
        : `dropped at ${time}: its contacts are no longer asked`;
  await deps.store.putTimelineEntry({
    ...done,
    text: `${done.text}, held by the throttle: ${outcome}`,
    ...withEffects(effects),
  });
  return 'done';
}

/** The escalate timer of (generation, step) fired. */
export async function onEscalateTimer(
  event: Extract<TimerEvent, { kind: 'escalate' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock();
    let incident = await deps.store.get(event.incidentId);
    if (incident === undefined || incident.status !== 'triggered' || incident.generation !== event.generation)
      return 'stale';
    const policy = policyOf(incident, deps.config);
    if (policy === undefined) return 'stale';
    const exhausted = stepAction(policy, event.step).kind === 'exhausted';
    const type: TimelineType = exhausted ? 'ESCALATION_EXHAUSTED' : 'ESCALATED';
    if (incident.step === event.step) {
      // Claimed before: a replay, or a retry after a crash between claim and completion.
      if (await deps.store.hasTimelineEntry(stepEntry(incident, type, event.step))) return 'replayed';
    } else {
      // Later than the step claimed, not only the next: a step whose level had nobody on call
      // times the next step with someone for now (runStep), passing over empty levels.
      if (incident.step >= event.step || incident.escalation !== 'active') return 'stale';
      if (await inMaintenance(incident.service, deps, now)) {
        if ((await stopIncidentEscalation(incident, deps, 'maintenance window')) === 'raced') continue;
        return 'stopped';
      }
      // Due outside business hours: this step waits, stopped, and escalation resumes (from level 1,
      // as after a maintenance window) at their start — unless it goes on from the step just run
      // (`atOnce`: its level was empty), which business hours did not hold (a person's escalate now).
      const until = event.atOnce ? undefined : offHoursUntil(incident, deps, now);
      if (until !== undefined) {
        if ((await stopIncidentEscalation(incident, deps, offHoursText(until, deps), until)) === 'raced')
          continue;
        return 'stopped';
      }
      if (incident.step > 0) await recordPreviousStep(incident, incident.step, event.step, deps);
      const claimed = await deps.store.claimStep(incident, event.step, now, exhausted);
      if (claimed === undefined) continue; // changed under us: look again
      incident = claimed;
    }
    await completeStep(incident, policy, event.step, deps, now, stepEntry(incident, type, event.step));
    return 'done';
  }
  throw new Error(`escalation of ${event.incidentId} kept racing`);
}

/**
 * A claimed step's effects: page its level (or the fallback), time the next step, tell the bus,
 * then write its entry `done` (the completion mark) and settle with a commit that raced it.
 * `actor`: a person escalated before the step's time (the event names them); once the pages are
 * out, the step's own timer, still due, is cancelled. Returns who was paged.
 */
async function completeStep(
  incident: Incident,
  policy: EscalationPolicy,
  step: number,
  deps: EscalationDeps,
  now: Date,
  done: TimelineEntry,
  actor?: string,
): Promise<Effects> {
  const { effects, note } = await runStep(incident, policy, step, deps, now);
  if (actor !== undefined)
    await deps.timers.cancel(
      timerName({ kind: 'escalate', incidentId: incident.id, generation: incident.generation, step }),
    );
  const action = stepAction(policy, step);
  if (action.kind === 'page') {
    await emit(
      deps,
      'Incident Escalated',
      incident,
      { level: action.level + 1, step, paged: effects.paged },
      {
        cause: `step:${incident.generation}:${step}`,
        at: incident.stepAt,
        ...(actor !== undefined ? { actor } : {}),
      },
    );
  }
  await deps.store.putTimelineEntry({ ...done, text: done.text + note, ...withEffects(effects) });
  await settleAfterStep(incident, effects, deps);
  return effects;
}

/**
 * A person escalates a triggered incident now (PagerDuty's and GoAlert's "Escalate"): the policy's
 * next step runs at once, as its timer would — same claim, same pages, the step after it timed
 * from now — and its entry names the person. `from`, the step the client saw, makes it a
 * compare-and-set: once the incident is past it (this request's earlier attempt, or the step's
 * timer), the request is satisfied and changes nothing. The step's own timer, due later, is
 * cancelled once the pages are out; one that fires first finds the step claimed (and, if the
 * pages are not out yet, repeats them: at least once, as for a replayed timer), and one left by a
 * crash between the claim and the pages sends them at its time.
 */
export async function escalateNow(
  id: string,
  input: { who: string; from?: number | undefined },
  deps: EscalationDeps,
): Promise<{ incident: Incident; changed: boolean; paged: string[]; held: string[] }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock();
    const incident = await deps.store.get(id);
    if (incident === undefined) throw new NotFoundError(`no incident ${id}`);
    if (input.from !== undefined && incident.step > input.from)
      return { incident, changed: false, paged: [], held: [] };
    if (incident.status !== 'triggered')
      throw new ConflictError(
        `incident ${id} is ${incident.status}: only a triggered incident escalates (to bring someone in, assign them a role)`,
        [{ field: 'status', message: `is ${incident.status}` }],
      );
    const policy = policyOf(incident, deps.config);
    // A person asked: business hours hold back the timers, not them (a maintenance window does).
    const waiting = waitsForBusinessHours(incident) && !(await inMaintenance(incident.service, deps, now));
    if (policy === undefined || (incident.escalation !== 'active' && !waiting))
      throw new ConflictError(
        `incident ${id} does not escalate: ${policy === undefined ? 'its service has no escalation policy' : `its escalation is ${incident.escalation}${incident.escalation === 'stopped' ? ' (maintenance window)' : ''}`}`,
        [
          {
            field: 'escalation',
            message: policy === undefined ? 'no escalation policy' : `is ${incident.escalation}`,
          },
        ],
      );
    if (input.from !== undefined && incident.step < input.from)
      throw new ConflictError(`incident ${id} is at escalation step ${incident.step}, not ${input.from}`, [
        { field: 'from', message: `the incident is at step ${incident.step}` },
      ]);
    const step = incident.step + 1;
    const exhausted = stepAction(policy, step).kind === 'exhausted';
    if (step > 1) await recordPreviousStep(incident, step - 1, step, deps);
    const claimed = await deps.store.claimStep(incident, step, now, exhausted, { offHours: waiting });
    if (claimed === undefined) continue; // changed under us: look again
    const done = stepEntry(claimed, exhausted ? 'ESCALATION_EXHAUSTED' : 'ESCALATED', step);
    const effects = await completeStep(
      claimed,
      policy,
      step,
      deps,
      now,
      { ...done, who: input.who, text: `${done.text} (escalated by ${nameOf(input.who, deps)})` },
      input.who,
    );
    return {
      incident: (await deps.store.get(id)) ?? claimed,
      changed: true,
      paged: effects.paged,
      held: effects.throttled,
    };
  }
  throw new RetryableError(`incident ${id} kept changing; retry`);
}

/**
 * Step `step` paged and timed this one (or this timer would not exist), but its completion — the
 * entry — may have failed, and its retry would now find a later step claimed: record it from
 * what is known (without who was paged; its own write, if it comes first, keeps that).
 */
async function recordPreviousStep(
  incident: Incident,
  step: number,
  by: number,
  deps: EscalationDeps,
): Promise<void> {
  const previous = stepEntry(incident, 'ESCALATED', step);
  if (await deps.store.hasTimelineEntry(previous)) return;
  await deps.store.putTimelineEntry(
    { ...previous, text: `${previous.text} (recorded by step ${by}: its own record had failed)` },
    { ifAbsent: true },
  );
}

/**
 * An acknowledgement (or resolve) that commits after this step's claim but before its pages went
 * out finds neither the next timer (not yet scheduled) nor these responders (not yet on the
 * timeline). Whichever finishes second cleans up: read the incident again, and if it is no
 * longer escalating, cancel the timer this step scheduled and tell the responders it just paged.
 */
async function settleAfterStep(stepped: Incident, effects: Effects, deps: EscalationDeps): Promise<void> {
  const now = await deps.store.get(stepped.id);
  if (now === undefined || (now.status === 'triggered' && now.generation === stepped.generation)) return;
  await deps.timers.cancel(
    timerName({
      kind: 'escalate',
      incidentId: stepped.id,
      generation: stepped.generation,
      step: stepped.step + 1,
    }),
  );
  if (effects.paged.length === 0 || now.status === 'triggered') return;
  const [verb, by] =
    now.status === 'resolved'
      ? ['Resolved', now.resolvedBy]
      : now.status === 'monitoring'
        ? ['Resolve requested', now.monitoringBy]
        : now.status === 'mitigated'
          ? ['Mitigated', now.mitigatedBy]
          : ['Acknowledged', now.acknowledgedBy];
  await notify(
    now,
    effects.paged.filter((id) => id !== by),
    {
      kind: 'notice',
      reason: `${verb} by ${nameOf(by ?? 'someone', deps)}`,
      cause: `settle:${stepped.generation}:${stepped.step}`,
    },
    deps,
    deps.clock(),
  );
}

export function stepEntry(incident: Incident, type: TimelineType, step: number): TimelineEntry {
  const action =
    type === 'ESCALATION_EXHAUSTED' ? 'Escalation exhausted: nobody acknowledged' : escalationStepText(step);
  return entry(incident, type, `step:${incident.generation}:${step}`, incident.stepAt, 'klaxon', action);
}

/**
 * After an acknowledgement (link, Events v2, CLI): stop escalation at once (cancel the pending
 * step timer — a late one is a no-op anyway), start the ack timeout, tell the other responders,
 * then write ACKNOWLEDGED.
 */
export async function afterAcknowledged(
  incident: Incident,
  ack: { who: string; channel: string; cause: string },
  deps: EscalationDeps,
): Promise<void> {
  // Keyed by the stored acknowledgement time, so a replay at any later moment finds it.
  const at = incident.lastAcknowledgedAt ?? incident.acknowledgedAt ?? deps.clock().toISOString();
  const done = entry(
    incident,
    'ACKNOWLEDGED',
    ack.cause,
    at,
    ack.who,
    `Acknowledged by ${nameOf(ack.who, deps)} via ${ack.channel}`,
  );
  if (await deps.store.hasTimelineEntry(done)) return;
  const now = deps.clock();
  await deps.timers.cancel(
    timerName({
      kind: 'escalate',
      incidentId: incident.id,
      generation: incident.generation,
      step: incident.step + 1,
    }),
  );
  const timeout = serviceOf(incident, deps.config)?.ackTimeoutMinutes ?? 30;
  const started: TimerEvent[] = [];
  if (timeout > 0 && incident.status === 'acknowledged') {
    const event: TimerEvent = {
      kind: 'ack-timeout',
      incidentId: incident.id,
      generation: incident.generation,
    };
    await deps.timers.schedule(timer(event, new Date(now.getTime() + minutes(deps, timeout))));
    started.push(event);
  }
  // A SEV-1/2 now has an owner to remind of status updates and to ask to re-assess.
  started.push(...(await startOwnerReminders(incident, deps)));
  await cancelIfResolved(incident.id, started, deps);
  await emit(
    deps,
    'Incident Acknowledged',
    incident,
    { acknowledgedAt: at },
    { cause: `ack:${ack.cause}`, at, actor: ack.who },
  );
  const others = pagedResponders(await deps.store.timeline(incident.id)).filter((id) => id !== ack.who);
  const effects = await notify(
    incident,
    others,
    {
      kind: 'notice',
      reason: `Acknowledged by ${nameOf(ack.who, deps)} via ${ack.channel}`,
      cause: `ack:${ack.cause}`,
    },
    deps,
    now,
  );
  await deps.store.putTimelineEntry({
    ...done,
    ...(effects.paged.length > 0 ? { text: `${done.text}; told ${effects.paged.join(', ')}` } : {}),
  });
}

/**
 * After resolution: cancel every pending timer, tell the responders who were paged, put Incident
 * Resolved (and, when a postmortem is required — SEV-1/SEV-2, or the service's error budget is
 * exhausted — Postmortem Due with its reminder timers) on the bus, write RESOLVED.
 * `at` places the entry (a quiet monitoring period ends at its `monitoringUntil`).
 */
export async function afterResolved(
  incident: Incident,
  resolution: { who: string; channel: string; cause: string; at?: string },
  deps: EscalationDeps,
  options: { keepResolveTimer?: boolean } = {},
): Promise<void> {
  // When it became resolved (a resolve now during monitoring: after the MONITORING entry).
  const at = resolution.at ?? incident.closedAt ?? incident.resolvedAt ?? deps.clock().toISOString();
  const done = entry(
    incident,
    'RESOLVED',
    resolution.cause,
    at,
    resolution.who,
    resolution.channel === 'monitoring'
      ? `Resolved: quiet through the monitoring period since ${zoned(incident.monitoringSince ?? at, deps)}`
      : `Resolved by ${nameOf(resolution.who, deps)} via ${resolution.channel}`,
  );
  if (await deps.store.hasTimelineEntry(done)) return;
  const now = deps.clock();
  await cancelTimers(incident, deps, options);
  const paged = pagedResponders(await deps.store.timeline(incident.id)).filter((id) => id !== resolution.who);
  await notify(
    incident,
    paged,
    {
      kind: 'notice',
      reason:
        resolution.channel === 'monitoring'
          ? 'Resolved: stable through the monitoring period'
          : `Resolved by ${nameOf(resolution.who, deps)}`,
      cause: `resolve:${resolution.cause}`,
    },
    deps,
    now,
  );
  const resolvedAt = incident.resolvedAt ?? at;
  await emit(
    deps,
    'Incident Resolved',
    incident,
    { resolvedAt, monitored: resolution.channel === 'monitoring' },
    { cause: `resolve:${resolution.cause}`, at, actor: resolution.who },
  );
  const required = await withBudgetPostmortem(incident, resolvedAt, deps);
  const dueAt = postmortemDueAt(required);
  let note = '';
  if (dueAt !== undefined && required.postmortemDoneAt === undefined) {
    await schedulePostmortemStages({ ...required, resolvedAt }, deps);
    const month = required.postmortemBudgetMonth;
    const impact = impactRequiring(required);
    await emit(
      deps,
      'Postmortem Due',
      required,
      {
        dueAt,
        ...(month !== undefined ? { errorBudgetMonth: month } : {}),
        ...(impact !== undefined ? { impactSeverity: impact } : {}),
      },
      { cause: `postmortem:${resolution.cause}`, at },
    );
    const reason = postmortemReason(required);
    note = `; postmortem due by ${zoned(dueAt, deps)}${reason !== undefined ? ` (${reason})` : ''}`;
  }
  await deps.store.putTimelineEntry({ ...done, text: done.text + note });
}

/**
 * "Postmortem all incidents" once the error budget is exhausted: resolved at or after its
 * service's budget for the month of `resolvedAt` (config's zone) was recorded exhausted, the
 * incident records that month as `postmortemBudgetMonth` — before the postmortem's timers are
 * scheduled, so they, the checklist and the views find it required whatever the severity. One read
 * of the budget item (none for a service without an SLO, or once the month is recorded). Compared
 * with when the exhaustion was recorded, not with now, a replay decides as the first run did; an
 * incident resolved before it is not changed afterwards.
 */
async function withBudgetPostmortem(
  incident: Incident,
  resolvedAt: string,
  deps: EscalationDeps,
): Promise<Incident> {
  if (incident.postmortemBudgetMonth !== undefined || serviceOf(incident, deps.config)?.slo === undefined)
    return incident;
  const month = monthOf(localDay(resolvedAt, deps.config.timeZone));
  const exhaustedAt = await deps.store.budgetExhaustedAt(incident.service, month);
  if (exhaustedAt === undefined || Date.parse(exhaustedAt) > Date.parse(resolvedAt)) return incident;
  // Conditional on the version read: a concurrent change (a severity change, a replay that set it)
  // is read again and kept.
  let current: Incident | undefined = incident;
  for (let attempt = 0; attempt < 5 && current !== undefined; attempt++) {
    if (current.postmortemBudgetMonth !== undefined) return current;
    const patched = await deps.store.patch(current, { postmortemBudgetMonth: month });
    if (patched !== undefined) return patched;
    current = await deps.store.get(incident.id);
  }
  throw new RetryableError(`recording the error-budget postmortem of ${incident.id} kept racing`);
}

/** The escalation timers of the incident's current generation: the next step and the ack timeout. */
export async function cancelEscalationTimers(incident: Incident, deps: EscalationDeps): Promise<void> {
  const { id, generation, step } = incident;
  await deps.timers.cancel(timerName({ kind: 'escalate', incidentId: id, generation, step: step + 1 }));
  await deps.timers.cancel(timerName({ kind: 'ack-timeout', incidentId: id, generation }));
}

export async function cancelTimers(
  incident: Incident,
  deps: EscalationDeps,
  options: { keepResolveTimer?: boolean } = {},
): Promise<void> {
  const { id, reminderSeq, reassessSeq, reopens } = incident;
  await cancelEscalationTimers(incident, deps);
  await deps.timers.cancel(timerName({ kind: 'reminder', incidentId: id, seq: reminderSeq + 1 }));
  await deps.timers.cancel(timerName({ kind: 'reassess', incidentId: id, seq: reassessSeq + 1 }));
  if (!options.keepResolveTimer)
    await deps.timers.cancel(timerName({ kind: 'resolve', incidentId: id, reopens }));
}

/**
 * The ack timeout fired: an acknowledged incident stayed unresolved. Re-page the acknowledger and
 * restart escalation from level 1 in the next generation.
 */
export async function onAckTimeout(
  event: Extract<TimerEvent, { kind: 'ack-timeout' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock();
    let incident = await deps.store.get(event.incidentId);
    if (incident === undefined) return 'stale';
    if (incident.generation === event.generation + 1 && incident.status === 'triggered') {
      if (await deps.store.hasTimelineEntry(ackTimeoutEntry(incident, deps))) return 'replayed';
    } else {
      if (incident.status !== 'acknowledged' || incident.generation !== event.generation) return 'stale';
      // Snoozed: the acknowledgement lapses at the snooze's end. This timer came before it (the one
      // the snooze moves, fired before the move or delivered twice): it sets the end again — should
      // the snooze's own move have failed — and does nothing else. Set so as not to arrive early
      // (timerAfter), as the snooze sets it.
      const until = Date.parse(snoozedUntil(incident) ?? '');
      if (until > now.getTime()) {
        await deps.timers.reschedule(timerAfter(event, new Date(Math.max(until, atOnce(deps).getTime()))));
        return 'rescheduled';
      }
      const restarted = await deps.store.restartEscalation(incident, now);
      if (restarted === undefined) continue;
      incident = restarted;
    }
    // In a maintenance window the acknowledgement still lapses, but nobody is paged: the incident
    // waits, stopped, like any unacknowledged one, and escalates from level 1 when the window ends.
    // (Stopping moves the generation on, so a retry of this timer finds it stale.)
    if (await inMaintenance(incident.service, deps, now)) {
      const why = 'maintenance window (the acknowledgement timed out)';
      await whileEscalating(incident, deps, (current) => stopIncidentEscalation(current, deps, why));
      return recordWaitingLapse(incident, 'maintenance window: paging when it ends', deps);
    }
    // Outside business hours for its severity the same, until they begin.
    const until = offHoursUntil(incident, deps, now);
    if (until !== undefined) {
      const why = `the acknowledgement timed out ${offHoursText(until, deps)}`;
      await whileEscalating(incident, deps, (current) => stopIncidentEscalation(current, deps, why, until));
      return recordWaitingLapse(incident, offHoursText(until, deps), deps);
    }
    const policy = policyOf(incident, deps.config);
    const { effects: step, note } = policy
      ? await runStep(incident, policy, 0, deps, now)
      : { effects: NONE, note: '' };
    const effects = await repageAcknowledger(incident, step, `ackto:${incident.generation}`, deps, now);
    const done = ackTimeoutEntry(incident, deps);
    await deps.store.putTimelineEntry({ ...done, text: done.text + note, ...withEffects(effects) });
    return 'done';
  }
  throw new Error(`ack timeout of ${event.incidentId} kept racing`);
}

/**
 * Level 1 of a restart after an ack timeout paged (`step`): the acknowledger is paged too, unless
 * level 1 just paged them, and the bus told (Incident Escalated, level 1 again). Who both reached.
 */
async function repageAcknowledger(
  incident: Incident,
  step: Effects,
  cause: string,
  deps: EscalationDeps,
  now: Date,
): Promise<Effects> {
  const snoozed = snoozeEnded(incident);
  const acker = incident.acknowledgedBy;
  const ackerEffects =
    isResponder(acker, deps) && !step.paged.includes(acker)
      ? await notify(
          incident,
          [acker],
          {
            kind: 'page',
            reason: `${snoozed ? 'Snoozed' : 'Acknowledged'} but still unresolved: escalation restarted`,
            cause,
          },
          deps,
          now,
        )
      : NONE;
  const paged = [...new Set([...ackerEffects.paged, ...step.paged])];
  await emit(
    deps,
    'Incident Escalated',
    incident,
    { level: 1, step: 0, paged, ...(snoozed ? { snoozedUntil: snoozed.until } : {}) },
    { cause, at: incident.stepAt },
  );
  return {
    paged,
    throttled: [...ackerEffects.throttled, ...step.throttled],
    messages: ackerEffects.messages + step.messages,
  };
}

/**
 * An acknowledgement that lapsed where nobody may be paged (a maintenance window, outside business
 * hours), its incident stopped: the lapse is recorded all the same (the postmortem counts them),
 * saying until when it waits — written after the stop, so a retry that finds it unwritten still
 * stops it. The resume that ends the wait pages the acknowledger too (owesLapsedPage).
 */
async function recordWaitingLapse(
  incident: Incident,
  waits: string,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const done = ackTimeoutEntry(incident, deps);
  await deps.store.putTimelineEntry({ ...done, text: `${done.text} — ${waits}` });
  return 'stopped';
}

/**
 * Whether the acknowledger is owed the page of an ack timeout that lapsed while nobody could be
 * paged: no page reached them since the last lapse (ACK_TIMEOUT).
 */
async function owesLapsedPage(incident: Incident, deps: EscalationDeps): Promise<boolean> {
  const acker = incident.acknowledgedBy;
  if (!isResponder(acker, deps)) return false;
  const timeline = await deps.store.timeline(incident.id);
  const lapse = timeline.findLastIndex((e) => e.type === 'ACK_TIMEOUT');
  return lapse >= 0 && !timeline.slice(lapse).some((e) => (e.paged ?? []).includes(acker));
}

function ackTimeoutEntry(incident: Incident, deps: EscalationDeps): TimelineEntry {
  const snoozed = snoozeEnded(incident);
  return entry(
    incident,
    'ACK_TIMEOUT',
    `ackto:${incident.generation}`,
    incident.stepAt,
    'klaxon',
    snoozed
      ? `${SNOOZE_ENDED}${nameOf(snoozed.by, deps)} ended: escalation restarted`
      : 'Acknowledged but unresolved past the ack timeout: escalation restarted',
  );
}

/**
 * The snooze that the lapse restarting this incident (now in the next generation) ended: a snoozed
 * acknowledgement lapses only at the snooze's end (onAckTimeout), and the restart keeps the snooze.
 */
function snoozeEnded(restarted: Incident): Snooze | undefined {
  const { snooze } = restarted;
  return snooze?.generation === restarted.generation - 1 ? snooze : undefined;
}

/**
 * A status-update reminder is due: remind its owners (`statusOwners`) — unless a status update
 * (UPDATE) was posted within the interval before it. Posting one moves the pending reminder
 * (startReminders); should that move have failed, or lost a race with this timer, the reminder
 * asks nobody, and the next one is one interval after the update.
 */
export async function onReminder(
  event: Extract<TimerEvent, { kind: 'reminder' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  let lostClaim = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock();
    const incident = await deps.store.get(event.incidentId);
    if (incident === undefined || incident.status === 'resolved' || incident.reminderSeq > event.seq)
      return 'stale';
    const interval = reminderIntervalMinutes(incident.sev);
    if (interval === undefined) return 'stale';
    // Triggered again with no role named: nobody to ask, the chain ends unclaimed (escalation
    // runs; the next acknowledgement starts it again at this seq).
    if (statusRoles(incident, deps).length === 0 && !owned(incident)) return 'stale';
    if (event.held !== undefined) {
      // Held by the throttle: still wanted unless a later reminder was claimed (it says the same),
      // the resolve is being watched, or someone posted a status update since it was claimed.
      if (incident.reminderSeq !== event.seq || incident.status === 'monitoring') return 'stale';
      const remindedAt = incident.reminderAt ?? incident.stepAt;
      const timeline = await deps.store.timeline(incident.id);
      if ((lastStatusUpdate(timeline) ?? '') > remindedAt) return 'stale';
      return sendHeld(
        incident,
        event,
        event.held,
        statusOwners(incident, timeline, deps),
        { reason: statusReason(incident), cause: `reminder:${event.seq}` },
        reminderEntry(incident, event.seq, remindedAt),
        deps,
      );
    }
    // This delivery's claim lost to another delivery of the same timer, which is sending it now
    // (its own retry completes it if it dies): one reminder, not two.
    if (lostClaim && incident.reminderSeq === event.seq) return 'stale';
    let claimed: Incident | undefined;
    if (incident.reminderSeq === event.seq) {
      // Claimed before: done if its entry exists, else a retry after a failure midway — finish it.
      const at = incident.reminderAt ?? incident.stepAt;
      if (await deps.store.hasTimelineEntry(reminderEntry(incident, event.seq, at))) return 'replayed';
      claimed = incident;
    } else {
      claimed = await deps.store.claimReminder(incident, event.seq, now);
      lostClaim = claimed === undefined;
      if (claimed === undefined) continue; // changed under us (a role, a severity, a twin): look again
    }
    const remindedAt = claimed.reminderAt ?? now.toISOString();
    // Updates up to the claim only: a retry decides as its first attempt did.
    const timeline = await deps.store.timeline(incident.id);
    const updatedAt = lastStatusUpdate(timeline, remindedAt);
    const updated =
      updatedAt !== undefined && Date.parse(updatedAt) + minutes(deps, interval) > Date.parse(remindedAt);
    // While a resolve is being watched there is nothing to update people on: the chain goes on quietly.
    const owners = claimed.status === 'monitoring' || updated ? [] : statusOwners(claimed, timeline, deps);
    const effects = await remind(
      event,
      claimed,
      owners,
      { reason: statusReason(claimed), cause: `reminder:${event.seq}` },
      deps,
      now,
    );
    const next: TimerEvent = { kind: 'reminder', incidentId: incident.id, seq: event.seq + 1 };
    const nextAt = (updated ? Date.parse(updatedAt) : now.getTime()) + minutes(deps, interval);
    await deps.timers.schedule(timer(next, new Date(nextAt)));
    const done = reminderEntry(claimed, event.seq, remindedAt);
    await deps.store.putTimelineEntry({
      ...done,
      ...(updated
        ? { text: `${done.text} not sent: status updated at ${clockTime(updatedAt, deps.config.timeZone)}` }
        : {}),
      ...withEffects(effects),
    });
    return 'done';
  }
  throw new Error(`reminder ${event.seq} of ${event.incidentId} kept racing`);
}

/**
 * Who is asked for a status update: the war room's communications lead and incident commander
 * once they are named (the practice's "Comms Lead: external updates", the IC accountable for
 * them); before that the acknowledger; failing that (not a configured responder), whoever was
 * paged last.
 */
function statusOwners(
  incident: Incident,
  timeline: readonly TimelineEntry[],
  deps: EscalationDeps,
): readonly string[] {
  const roles = statusRoles(incident, deps);
  if (roles.length > 0) return roles;
  if (!owned(incident)) return [];
  if (isResponder(incident.acknowledgedBy, deps)) return [incident.acknowledgedBy];
  return [...timeline].reverse().find((e) => (e.paged ?? []).length > 0)?.paged ?? [];
}

/** The comms lead and the incident commander, once named (and configured responders). */
function statusRoles(incident: Incident, deps: EscalationDeps): string[] {
  const roles = [incident.roles['comms-lead'], incident.roles.commander];
  return [...new Set(roles.filter((id) => isResponder(id, deps)))];
}

const statusReason = (incident: Incident) => `Still ${incident.status}: post a status update`;

function reminderEntry(incident: Incident, seq: number, at: string): TimelineEntry {
  return entry(incident, 'REMINDED', `reminder:${seq}`, at, 'klaxon', `Status update reminder ${seq}`);
}

/** What acting on one incident came to: done, nothing to do, or it changed since it was read. */
export type Acted = 'acted' | 'unchanged' | 'raced';

/**
 * Stops one incident's escalation (maintenance; with `until`, business hours, whose start's timer
 * resumes it): next generation, timers cancelled, timeline noted.
 */
export async function stopIncidentEscalation(
  incident: Incident,
  deps: EscalationDeps,
  why: string,
  until?: Date,
): Promise<Acted> {
  let stopped: Incident | undefined;
  let running: Incident;
  if (incident.escalation === 'stopped') {
    // Stopped before: done, unless a failure midway left its timers or its entry behind.
    if (incident.stoppedAt === undefined) return 'unchanged';
    if (await deps.store.hasTimelineEntry(stopEntry(incident, why))) return 'unchanged';
    stopped = incident;
    running = { ...incident, generation: incident.generation - 1 };
  } else {
    if (until !== undefined) await timeBusinessHours(incident, incident.generation + 1, until, deps);
    stopped = await deps.store.stopEscalation(incident, deps.clock(), { offHours: until !== undefined });
    if (stopped === undefined) return 'raced';
    running = incident;
  }
  await cancelTimers(running, deps);
  await deps.store.putTimelineEntry(stopEntry(stopped, why));
  return 'acted';
}

function stopEntry(stopped: Incident, why: string): TimelineEntry {
  return entry(
    stopped,
    'ESCALATION_STOPPED',
    `stop:${stopped.generation}`,
    stopped.stoppedAt ?? stopped.stepAt,
    'klaxon',
    `Escalation stopped: ${why}`,
  );
}

/**
 * A maintenance window started: stop the escalations in flight for the service — those of its
 * unacknowledged incidents. An incident someone owns (acknowledged, mitigated) keeps its status
 * reminders and its ack timeout (which, should it fire in the window, stops the incident then);
 * a resolve being watched escalates nothing, and its end-of-period timer must stay. An exhausted
 * escalation has nothing in flight either: stopped, the window's end would run its policy again.
 */
export async function stopEscalationsFor(
  service: string,
  deps: EscalationDeps,
  why: string,
): Promise<number> {
  return countOfService(service, deps, async (incident) =>
    incident.status === 'triggered' && incident.escalation !== 'exhausted'
      ? stopIncidentEscalation(incident, deps, why)
      : 'unchanged',
  );
}

/**
 * Runs `act` on every open incident of a service; how many it acted on. The ids come from an
 * index, which is eventually consistent: each incident is read again (consistently) before `act`
 * sees it, and read once more when it changed in between (an acknowledgement, a role, …) — a
 * stale version would make its conditional write fail, and the incident would stay as it was
 * (left stopped after its window ended). One the index still shows resolved stays so: a resolved
 * incident is never reopened (a reopen happens in monitoring). The store filters the resolved
 * history as it reads: a service with years of incidents costs a few Query calls, not one per
 * hundred of them (a window's start or end would otherwise outlast the function's timeout).
 */
async function countOfService(
  service: string,
  deps: EscalationDeps,
  act: (incident: Incident) => Promise<Acted>,
): Promise<number> {
  const ids = [...(await deps.store.openIncidentIds(service))];
  let count = 0;
  // A few at a time: a window over a storm's hundreds of incidents must end inside the function's
  // timeout (each incident is a handful of calls; races on one are actOnLatest's).
  const worker = async () => {
    for (let id = ids.shift(); id !== undefined; id = ids.shift())
      if ((await actOnLatest(id, deps, act)) === 'acted') count++;
  };
  await Promise.all(Array.from({ length: SERVICE_WALK_CONCURRENCY }, worker));
  return count;
}
/** How many of a service's incidents a window's start or end acts on at once. */
const SERVICE_WALK_CONCURRENCY = 8;

/**
 * Runs `act` on the incident as it is now (a consistent read), and again on a fresh read while it
 * comes back 'raced' (another write moved the version on). Three races in a row throw a
 * RetryableError: the caller's retry (a timer, a request) goes over it again, and what was done
 * is `unchanged` the second time.
 */
export async function actOnLatest(
  id: string,
  deps: EscalationDeps,
  act: (incident: Incident) => Promise<Acted>,
): Promise<Acted> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const incident = await deps.store.get(id);
    const acted = incident === undefined ? 'unchanged' : await act(incident);
    if (acted !== 'raced') return acted;
  }
  throw new RetryableError(`incident ${id} kept changing; retry`);
}

/**
 * Runs `stop` on the incident as it is now while it still escalates in `incident`'s generation
 * (triggered, active), and again on a fresh read after a race (a role, a reminder's claim): a stop
 * that lost one and was left at that would leave it active with no timer — paged by nobody, not
 * even when the window ends or business hours begin. Anything else (acknowledged, restarted,
 * stopped already) is not its business.
 */
export async function whileEscalating(
  incident: Incident,
  deps: EscalationDeps,
  stop: (current: Incident) => Promise<Acted>,
): Promise<Acted> {
  return actOnLatest(incident.id, deps, async (current) =>
    current.status === 'triggered' &&
    current.escalation === 'active' &&
    current.generation === incident.generation
      ? stop(current)
      : 'unchanged',
  );
}

export function nameOf(who: string, deps: EscalationDeps): string {
  return deps.config.responders.find((r) => r.id === who)?.name ?? who;
}

/**
 * A maintenance window ended (or was deleted): every incident of the service it stopped that is
 * still unacknowledged escalates again — from level 1 in the next generation — as GoAlert's
 * maintenance mode does when it ends. Not while another window of the service is active.
 */
export async function resumeEscalationsFor(
  service: string,
  deps: EscalationDeps,
  why: string,
): Promise<number> {
  if (await inMaintenance(service, deps, deps.clock())) return 0;
  return countOfService(service, deps, async (incident) =>
    incident.status === 'triggered' ? resumeIncidentEscalation(incident, deps, why) : 'unchanged',
  );
}

/**
 * Resumes one stopped incident (claim: next generation at step 0, `resumedBy` its cause), or
 * completes a resume left midway by the same cause.
 */
/** Its escalation was resumed (claimed) and has run no step since: the resume's effects may be owed. */
function resumeClaimed(incident: Incident): boolean {
  return incident.escalation === 'active' && incident.step === 0 && incident.resumedAt === incident.stepAt;
}

async function resumeIncidentEscalation(
  incident: Incident,
  deps: EscalationDeps,
  why: string,
): Promise<Acted> {
  let running: Incident | undefined;
  // Waiting for business hours still to come: their timer resumes it, not a window's end — one for
  // the next start, which the timer it had may have missed (it came inside the window, late, or
  // under hours since changed).
  const until = waitsForBusinessHours(incident) ? offHoursUntil(incident, deps, deps.clock()) : undefined;
  if (until !== undefined) {
    await timeBusinessHours(incident, incident.generation, until, deps);
    return 'unchanged';
  }
  if (incident.escalation === 'stopped') {
    const now = deps.clock().toISOString();
    // Level 1 pages again: not an escalation beyond it (`escalations` does not move, as for a reopen).
    running = await deps.store.patch(incident, {
      generation: incident.generation + 1,
      step: 0,
      stepAt: now,
      escalation: 'active',
      resumedAt: now,
      resumedBy: why,
    });
    if (running === undefined) return 'raced'; // changed meanwhile: read again, decide again
  } else if (resumeClaimed(incident) && (incident.resumedBy === undefined || incident.resumedBy === why)) {
    // Resumed before by this cause (a retry): its effects may not have completed. Resumed by
    // another (a window's end and the start's timer at once), that one pages.
    running = incident;
  } else {
    return 'unchanged';
  }
  const done = entry(
    running,
    'ESCALATED',
    `resume:${running.generation}`,
    running.resumedAt ?? running.stepAt,
    'klaxon',
    `Escalation resumed: ${why} ended`,
  );
  if (await deps.store.hasTimelineEntry(done)) return 'unchanged';
  // Resumed outside business hours (a window that ends at night): waits again for their start.
  const at = deps.clock();
  const { effects: step, note, waits } = await pageLevelOne(running, deps, at);
  // Its ack timeout lapsed in the wait: the acknowledger is paged now too, as at a lapse in hours.
  const owed = !waits && (await owesLapsedPage(running, deps));
  const effects = owed
    ? await repageAcknowledger(running, step, `resume:${running.generation}`, deps, at)
    : step;
  const lapsed = owed
    ? ` — the acknowledgement had timed out: ${nameOf(running.acknowledgedBy ?? '', deps)} paged too`
    : '';
  await deps.store.putTimelineEntry({ ...done, text: done.text + note + lapsed, ...withEffects(effects) });
  return 'acted';
}

/**
 * Business hours began for an incident stopped to wait for them (`generation`, the stop's): it
 * escalates again from level 1, as after a maintenance window — if it is still triggered and
 * waiting in that generation (else acknowledged, resolved, raised, or resumed by a retry's twin:
 * a no-op), and not in a maintenance window, whose end resumes it. A retry after the resume's
 * claim completes it (resumeIncidentEscalation; not a resume a window's end claimed: `resumedBy`);
 * a delivery whose claim lost to another one's, which is paging now, stops (one page, not two).
 */
export async function onBusinessHours(
  event: Extract<TimerEvent, { kind: 'business-hours' }>,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  let lost = false;
  const acted = await actOnLatest(event.incidentId, deps, async (incident) => {
    const waiting = incident.generation === event.generation && waitsForBusinessHours(incident);
    const resumed = !lost && incident.generation === event.generation + 1 && resumeClaimed(incident);
    if (incident.status !== 'triggered' || !(waiting || resumed)) return 'unchanged';
    if (await inMaintenance(incident.service, deps, deps.clock())) return 'unchanged';
    const outcome = await resumeIncidentEscalation(incident, deps, 'the wait for business hours');
    lost = outcome === 'raced';
    return outcome;
  });
  return acted === 'acted' ? 'done' : 'stale';
}
