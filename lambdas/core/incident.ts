import type { AlertLink, AlertOrigin, SourceSeverity } from './alert.ts';
import type { Impact } from './classification.ts';
import { isMajor, type Severity } from './severity.ts';
import { clockTime } from './wall-clock.ts';

/**
 * Incidents. Statuses and timeline types are closed unions: a new one is a deliberate change
 * here, checked everywhere by the compiler.
 */

/**
 * triggered → acknowledged → mitigated → (monitoring) → resolved. A resolve first enters
 * `monitoring` (the service's monitoring period, default 15 minutes): a re-trigger of the key
 * during it reopens the same incident; a quiet period ends in `resolved`. "Resolve now" and a
 * period of 0 go straight to `resolved`.
 */
export const INCIDENT_STATUSES = [
  'triggered',
  'acknowledged',
  'mitigated',
  'monitoring',
  'resolved',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Roles one person holds at a time. */
export const SINGLE_ROLES = ['commander', 'tech-lead', 'comms-lead', 'scribe'] as const;
export type SingleRole = (typeof SINGLE_ROLES)[number];
/** The war room's roles (the practice's IC, tech lead, comms lead, scribe, SMEs); `sme` is a list. */
export const ROLES = [...SINGLE_ROLES, 'sme'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_NAMES: Readonly<Record<Role, string>> = {
  commander: 'incident commander',
  'tech-lead': 'tech lead',
  'comms-lead': 'comms lead',
  scribe: 'scribe',
  sme: 'subject-matter expert',
};

/** A lease on a change's effects: the token of the request that holds it, and until when. */
export interface Lease {
  readonly token: string;
  readonly until: string;
}

/**
 * An acknowledged incident snoozed (PagerDuty's Snooze): its acknowledgement lapses at `until`
 * instead of at the ack timeout. In force only while the incident is still acknowledged in the
 * `generation` it was snoozed in (snoozedUntil): a transition removes it, and the lapse at its end
 * restarts escalation in the next generation (which keeps it, for the ACK_TIMEOUT entry to say so).
 * `cause` (who, minutes, from) tells a retried request from a new snooze.
 */
export interface Snooze {
  readonly until: string;
  readonly by: string;
  readonly at: string;
  readonly generation: number;
  readonly cause: string;
}

/** A checklist item ticked by a person. */
export interface Tick {
  readonly at: string;
  readonly by: string;
}

export interface Incident {
  readonly id: string;
  readonly service: string;
  readonly dedupKey: string;
  /** How many incidents this (service, dedup key) had before this one. */
  readonly occurrence: number;
  readonly status: IncidentStatus;
  readonly title: string;
  readonly source: string;
  /** The sender's severity of the first alert. */
  readonly severity: SourceSeverity;
  /** The incident's severity: mapped from the source at opening, then re-assessed by people. */
  readonly sev: Severity;
  /**
   * The impact a person declared the incident with (users affected, revenue, SLA risk): the
   * postmortem's Impact section states it. Absent for an alert's incident, or one declared with a
   * severity alone; set once, at opening.
   */
  readonly impact?: Impact;
  readonly origin: AlertOrigin;
  /** When the problem began: the earliest own timestamp of the alerts counted in (else when Klaxon received the first). */
  readonly startedAt: string;
  /** When Klaxon opened the incident. */
  readonly detectedAt: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  /** The latest acknowledgement (after an ack timeout an incident can be acknowledged again). */
  readonly lastAcknowledgedAt?: string;
  /** The latest snooze of its acknowledgement (see Snooze: in force only as snoozedUntil says). */
  readonly snooze?: Snooze;
  /** Impact stopped (the practice's mitigation): escalation and the ack timeout stop. */
  readonly mitigatedAt?: string;
  readonly mitigatedBy?: string;
  /** A resolve under observation: since when, by whom, and the alert count it must not pass. */
  readonly monitoringSince?: string;
  readonly monitoringBy?: string;
  readonly monitoringUntil?: string;
  readonly monitoringCount?: number;
  /** How often a re-trigger during monitoring reopened it, and when last. */
  readonly reopens: number;
  readonly reopenedAt?: string;
  /** When service was restored: the resolve request (the start of a quiet monitoring period). */
  readonly resolvedAt?: string;
  readonly resolvedBy?: string;
  /** When it became resolved (resolvedAt can be earlier: the start of a monitoring period). */
  readonly closedAt?: string;
  /** Resolved at the quiet end of a monitoring period (not by "resolve now"). */
  readonly monitored?: boolean;
  /** How often people changed the severity, and when last: keys the SEVERITY_CHANGED entries. */
  readonly severityChanges: number;
  readonly severityChangedAt?: string;
  /** The severity before the latest change (completes a change whose effects failed midway). */
  readonly severityFrom?: Severity;
  readonly roles: Readonly<Partial<Record<SingleRole, string>>>;
  readonly smes: readonly string[];
  /**
   * When each role was last given or taken away (`commander`, …, `sme:<person>`): keys the
   * ROLE_ASSIGNED, HANDOFF and ROLE_REMOVED entries, so a request retried after a failure midway
   * finds (or completes) its entry. A key whose role nobody holds was last taken away, from the
   * person in `<key>-removed` (a single role's; an SME's is in the key); `handoff` and
   * `commander-from` are the last handoff's time and the commander it came from.
   */
  readonly rolesAt: Readonly<Record<string, string>>;
  /**
   * Leases on the effects of changes being completed (a severity change, a role, a handoff), by
   * the change's cause: one request at a time runs them (see app/command.ts). Those that ran out
   * are dropped as the next is taken.
   */
  readonly leases?: Readonly<Record<string, Lease>>;
  /** Checklist items ticked by people, by item id (automatic ticks are derived, not stored). */
  readonly checklist: Readonly<Record<string, Tick>>;
  /** Links of the first alert (runbooks, dashboards). */
  readonly links: readonly AlertLink[];
  /** What the first alert's sender said of it beyond the summary (Alert `description`). */
  readonly description?: string;
  /** The last severity re-assessment reminder sent to the incident commander. */
  readonly reassessSeq: number;
  /**
   * When a raise after resolution made the postmortem required (SEV-3/4 to SEV-1/2): its reminder
   * and deadline count from then, not from the resolution, whose 24 and 48 hours may have passed.
   */
  readonly postmortemRequiredAt?: string;
  /**
   * The month (YYYY-MM, the config's zone) whose exhausted error budget requires the postmortem:
   * resolved after its service's budget for that month was recorded exhausted, it requires one
   * whatever its severity (and keeps requiring it when the severity is lowered).
   */
  readonly postmortemBudgetMonth?: string;
  /**
   * The severity it held when its impact stopped (mitigated, else the resolve request of a
   * monitoring period still running), recorded when it is lowered after that (PRACTICE:
   * "de-escalate when mitigation reduces impact"): the impact was that severe, and a SEV-1/2 keeps
   * requiring its postmortem. A lowering before, a re-assessment (a misclassified alert, a false
   * alarm), and a raise after it, leave this unset.
   */
  readonly impactSev?: Severity;
  /** The postmortem was published (`postmortemRequired` says when one is; due 48 hours after `postmortemSince`). */
  readonly postmortemDoneAt?: string;
  readonly postmortemDoneBy?: string;
  /** Trigger alerts counted into this incident (each input event once). */
  readonly alertCount: number;
  readonly lastAlertAt: string;
  /** Bumped by every state change; state changes are conditional on the version they read. */
  readonly version: number;
  /** The service's escalation policy when the incident opened; absent: nobody is paged. */
  readonly escalationPolicy?: string;
  /**
   * Escalation generation: starts at 1, and a restart (ack timeout) or a stop (maintenance)
   * moves it on, so that every timer of an earlier generation fires as a no-op.
   */
  readonly generation: number;
  /** The last escalation step run in this generation (see core/escalation.ts). */
  readonly step: number;
  /** When that step was claimed. */
  readonly stepAt: string;
  /**
   * `stopped` by a maintenance window or to wait for business hours; `exhausted` after the last
   * step. Read only while triggered: an acknowledgement keeps what it found (a window's end resumes
   * only unacknowledged incidents), and a restart (ack timeout, reopen) makes it active.
   */
  readonly escalation: 'active' | 'stopped' | 'exhausted';
  /** The last status-update reminder sent, and when it was claimed. */
  readonly reminderSeq: number;
  readonly reminderAt?: string;
  /** When a running escalation was stopped (maintenance): keys its ESCALATION_STOPPED entry. */
  readonly stoppedAt?: string;
  /** When escalation resumed after maintenance: keys that ESCALATED entry (a retry completes it). */
  readonly resumedAt?: string;
  /**
   * What resumed it (`maintenance window <id>`, `the wait for business hours`): only a retry of the
   * same cause completes a resume left midway, so a window's end and the start's timer at the same
   * moment page level 1 once.
   */
  readonly resumedBy?: string;
  /**
   * The generation stopped to wait for business hours (its `bh-` timer resumes it): stopped for
   * that reason while `escalation` is `stopped` in this very generation.
   */
  readonly offHoursGeneration?: number;
  /** Escalations beyond level 1 (later steps and ack-timeout restarts). */
  readonly escalations: number;
  /** Messages sent to contacts for this incident (pages, reminders, notices). */
  readonly pagesSent: number;
  /** Its opening effects are done (level 1 paged, the next step timed, OPENED recorded). */
  readonly opened?: true;
  /** Left out of every metric (a test, a duplicate, a drill). */
  readonly excluded: boolean;
}

/**
 * How an ACK_TIMEOUT entry begins when the lapse was a snooze's end (not the service's ack
 * timeout): the postmortem tells the two apart by it.
 */
export const SNOOZE_ENDED = 'Still unresolved when the snooze by ';

/**
 * What people write on the timeline (the war room's message types). An UPDATE is a status update
 * for stakeholders: the status-update reminder counts its interval from the latest one.
 */
export const PEOPLE_ENTRY_TYPES = [
  'ACTION',
  'DECISION',
  'OBSERVATION',
  'QUESTION',
  'ANSWER',
  'UPDATE',
] as const;
export type PeopleEntryType = (typeof PEOPLE_ENTRY_TYPES)[number];

export const TIMELINE_TYPES = [
  'OPENED',
  'RECORDED',
  'ESCALATED',
  'ACKNOWLEDGED',
  'ACK_TIMEOUT',
  'REMINDED',
  'ESCALATION_EXHAUSTED',
  'ESCALATION_STOPPED',
  // PEOPLE_ENTRY_TYPES as they were first listed; a later one (UPDATE) is appended below.
  'ACTION',
  'DECISION',
  'OBSERVATION',
  'QUESTION',
  'ANSWER',
  'RESOLVED',
  // Appended, never inserted: the position orders same-instant entries in the store's keys.
  'MITIGATED',
  'MONITORING',
  'REOPENED',
  'SEVERITY_CHANGED',
  'ROLE_ASSIGNED',
  'HANDOFF',
  'CHECKLIST',
  'REASSESS_REMINDED',
  'POSTMORTEM_REMINDED',
  'POSTMORTEM_OVERDUE',
  'POSTMORTEM_PUBLISHED',
  'DIGESTED',
  'UPDATE',
  'ROLE_REMOVED',
  'SNOOZED',
] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

/** A timeline entry: a system entry written by Klaxon, or a person's ACTION, DECISION, …. */
export interface TimelineEntry {
  readonly id: string;
  readonly incidentId: string;
  readonly at: string;
  readonly type: TimelineType;
  /** Who or what caused it: a person, or the integration/origin of an alert. */
  readonly who: string;
  readonly text: string;
  /** Responders paged by this event. */
  readonly paged?: readonly string[];
  /** Contacts (contact keys) the throttle held back. */
  readonly throttled?: readonly string[];
}

/**
 * When the latest status update (UPDATE entry) at or before `at` was posted, if any: the status-
 * update reminder's interval runs from it.
 */
export function lastStatusUpdate(timeline: readonly TimelineEntry[], at?: string): string | undefined {
  let latest: string | undefined;
  for (const e of timeline)
    if (e.type === 'UPDATE' && (at === undefined || e.at <= at) && (latest === undefined || e.at > latest))
      latest = e.at;
  return latest;
}

/** Everyone ever paged for this incident, from its timeline. */
export function pagedResponders(timeline: readonly TimelineEntry[]): string[] {
  return [...new Set(timeline.flatMap((e) => e.paged ?? []))];
}

/** When a snooze in force ends: the incident is acknowledged in the generation it was snoozed in. */
export function snoozedUntil(
  incident: Pick<Incident, 'status' | 'generation' | 'snooze'>,
): string | undefined {
  const { snooze } = incident;
  return incident.status === 'acknowledged' && snooze?.generation === incident.generation
    ? snooze.until
    : undefined;
}

export function isOpen(incident: Pick<Incident, 'status'>): boolean {
  return incident.status !== 'resolved';
}

/**
 * SEV-1 and SEV-2 incidents require a postmortem, due 48 hours after resolution — and so does any
 * incident resolved while its service's error budget for the month was exhausted.
 */
export const POSTMORTEM_REMINDER_HOURS = 24;
export const POSTMORTEM_DUE_HOURS = 48;

export function postmortemRequired(
  incident: Pick<Incident, 'sev' | 'postmortemBudgetMonth'> & Partial<Pick<Incident, 'impactSev'>>,
): boolean {
  return (
    isMajor(incident.sev) ||
    (incident.impactSev !== undefined && isMajor(incident.impactSev)) ||
    incident.postmortemBudgetMonth !== undefined
  );
}

/** The SEV-1/2 it held when its impact stopped, when that (not its severity now) requires the postmortem. */
export function impactRequiring(
  incident: Pick<Incident, 'sev'> & Partial<Pick<Incident, 'impactSev'>>,
): Severity | undefined {
  const { impactSev } = incident;
  return impactSev !== undefined && isMajor(impactSev) && !isMajor(incident.sev) ? impactSev : undefined;
}

/**
 * Why a postmortem is required when its severity would not require one (SEV-3/4, or lowered to
 * it): the severity it held when its impact stopped, or the exhausted error budget, as the
 * timeline and reminders say it. Undefined otherwise.
 */
export function postmortemReason(
  incident: Pick<Incident, 'sev' | 'service' | 'postmortemBudgetMonth'> &
    Partial<Pick<Incident, 'impactSev'>>,
): string | undefined {
  if (isMajor(incident.sev)) return undefined;
  const impact = impactRequiring(incident);
  if (impact !== undefined) return `required: it was ${impact} until its impact stopped`;
  if (incident.postmortemBudgetMonth === undefined) return undefined;
  return `required: ${incident.service}'s error budget for ${incident.postmortemBudgetMonth} is exhausted`;
}

/**
 * What the postmortem's reminder and deadline count from: the resolution, or the later raise that
 * made a postmortem required (its hours would otherwise be over before anyone was asked).
 */
export function postmortemSince(
  incident: Pick<Incident, 'resolvedAt' | 'postmortemRequiredAt'>,
): string | undefined {
  return incident.postmortemRequiredAt ?? incident.resolvedAt;
}

/** When the postmortem is due: 48 hours after resolution (or the raise that required it). */
export function postmortemDueAt(
  incident: Pick<Incident, 'sev' | 'resolvedAt' | 'postmortemRequiredAt' | 'postmortemBudgetMonth'>,
): string | undefined {
  const since = postmortemSince(incident);
  if (!postmortemRequired(incident) || since === undefined) return undefined;
  return new Date(Date.parse(since) + POSTMORTEM_DUE_HOURS * 3_600_000).toISOString();
}

/**
 * `[HH:MM] [@who] [TYPE] text`, the war-room format, in the given time zone; then who the entry
 * paged, and whose contacts the throttle held back (a page waits for a digest, a reminder or
 * notice is dropped) — else a held page would show nowhere but in the JSON.
 */
export function renderTimelineEntry(entry: TimelineEntry, timeZone: string): string {
  const paged = entry.paged?.length ? ` · paged: ${entry.paged.join(', ')}` : '';
  const held = entry.throttled?.length ? ` · throttled: ${entry.throttled.join(', ')}` : '';
  return `[${clockTime(entry.at, timeZone)}] [@${entry.who}] [${entry.type}] ${entry.text}${paged}${held}`;
}
