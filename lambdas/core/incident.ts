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
  readonly resolvedAt?: string;
  readonly resolvedBy?: string;
  /** Trigger alerts counted into this incident (each input event once). */
  readonly alertCount: number;
  readonly lastAlertAt: string;
  /** Bumped by every state change; later issues condition writes on it. */
  readonly version: number;
}

/** In the order entries of the same instant are shown. */
export const TIMELINE_TYPES = ['OPENED', 'RECORDED', 'ACKNOWLEDGED', 'RESOLVED'] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

/** A system entry written by Klaxon (people's entries arrive with the incident-command issue). */
export interface TimelineEntry {
  readonly id: string;
  readonly incidentId: string;
  readonly at: string;
  readonly type: TimelineType;
  /** Who or what caused it: a person, or the integration/origin of an alert. */
  readonly who: string;
  readonly text: string;
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
