import type { AlertOrigin, SourceSeverity } from './alert.ts';

/**
 * Incidents. Statuses and timeline types are closed unions: a new one is a deliberate change
 * here, checked everywhere by the compiler.
 */

export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface Incident {
  readonly id: string;
  readonly service: string;
  readonly dedupKey: string;
  /** How many incidents this (service, dedup key) had before this one. */
  readonly occurrence: number;
  readonly status: IncidentStatus;
  readonly title: string;
  readonly source: string;
  readonly severity: SourceSeverity;
  readonly origin: AlertOrigin;
  /** When the problem began: the first alert's own timestamp, else when Klaxon received it. */
  readonly startedAt: string;
  /** When Klaxon opened the incident. */
  readonly detectedAt: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  /** The latest acknowledgement (after an ack timeout an incident can be acknowledged again). */
  readonly lastAcknowledgedAt?: string;
  readonly resolvedAt?: string;
  readonly resolvedBy?: string;
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
  /** `stopped` by a maintenance window; `exhausted` after the last step. */
  readonly escalation: 'active' | 'stopped' | 'exhausted';
  /** The last status-update reminder sent, and when it was claimed. */
  readonly reminderSeq: number;
  readonly reminderAt?: string;
  /** When a running escalation was stopped (maintenance): keys its ESCALATION_STOPPED entry. */
  readonly stoppedAt?: string;
  /** Escalations beyond level 1 (later steps and ack-timeout restarts). */
  readonly escalations: number;
  /** Messages sent to contacts for this incident (pages, reminders, notices). */
  readonly pagesSent: number;
  /** Left out of every metric (a test, a duplicate, a drill). */
  readonly excluded: boolean;
}

/** In the order entries of the same instant are shown. */
/** What people write on the timeline (the war room's message types). */
export const PEOPLE_ENTRY_TYPES = ['ACTION', 'DECISION', 'OBSERVATION', 'QUESTION', 'ANSWER'] as const;
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
  ...PEOPLE_ENTRY_TYPES,
  'RESOLVED',
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

/** Everyone ever paged for this incident, from its timeline. */
export function pagedResponders(timeline: readonly TimelineEntry[]): string[] {
  return [...new Set(timeline.flatMap((e) => e.paged ?? []))];
}

export function isOpen(incident: Pick<Incident, 'status'>): boolean {
  return incident.status !== 'resolved';
}

/** `[HH:MM] [@who] [TYPE] text`, the war-room format, in the given time zone. */
export function renderTimelineEntry(entry: TimelineEntry, timeZone: string): string {
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(entry.at));
  return `[${time}] [@${entry.who}] [${entry.type}] ${entry.text}`;
}
