import type { Alert } from '#core/alert';
import type { Incident, IncidentStatus, TimelineEntry } from '#core/incident';

/**
 * Ports: what the use cases need from the outside world. Each has an AWS implementation and a
 * local one. Retry contract: a method either completes or throws; `RetryableError` (and any
 * SDK error) means "the whole unit of work may be retried safely" because every write below is
 * conditional or idempotent.
 */

/** Why a trigger/acknowledge/resolve changed (or did not change) an incident. */
export type AlertOutcome =
  /** This alert opened a new incident. */
  | { readonly kind: 'opened'; readonly incident: Incident }
  /** This alert was counted into an open incident. */
  | { readonly kind: 'appended'; readonly incident: Incident }
  | { readonly kind: 'acknowledged'; readonly incident: Incident }
  | { readonly kind: 'resolved'; readonly incident: Incident }
  /**
   * This exact input was applied before (at-least-once delivery, a retry after a crash).
   * `caused` names the transition it made then, so follow-up work can be completed idempotently.
   */
  | {
      readonly kind: 'replayed';
      readonly incident: Incident;
      readonly caused: 'opened' | 'appended' | 'acknowledged' | 'resolved';
    }
  /** Nothing to act on: unknown or closed key, or already in that state. */
  | { readonly kind: 'ignored'; readonly reason: string; readonly incident?: Incident };

export interface IncidentFilter {
  readonly status?: IncidentStatus;
  readonly service?: string;
  /** 1..100, default 50. */
  readonly limit?: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
}

export interface IncidentPage {
  readonly incidents: Incident[];
  readonly nextCursor?: string;
}

export interface Integration {
  readonly keyHash: string;
  readonly service: string;
  readonly name: string;
  readonly createdAt: string;
}

export interface IncidentStore {
  /** Counts a trigger into the open incident for its (service, dedup key), or opens one. */
  trigger(alert: Alert, now: Date): Promise<AlertOutcome>;
  /** Acknowledges the open incident for the alert's key, if it is still triggered. */
  acknowledge(alert: Alert, now: Date, who: string): Promise<AlertOutcome>;
  /** Resolves the open incident for the alert's key; the next trigger opens a new incident. */
  resolve(alert: Alert, now: Date, who: string): Promise<AlertOutcome>;
  /** The open incident for a key, if any. */
  findOpen(service: string, dedupKey: string): Promise<Incident | undefined>;
  get(id: string): Promise<Incident | undefined>;
  list(filter: IncidentFilter): Promise<IncidentPage>;
  /** Idempotent: an entry with the same id is overwritten, not added. */
  putTimelineEntry(entry: TimelineEntry): Promise<void>;
  timeline(incidentId: string): Promise<TimelineEntry[]>;
  putIntegration(integration: Integration): Promise<void>;
  findIntegration(keyHash: string): Promise<Integration | undefined>;
}

/** The Klaxon event bus. Throws when any event could not be put after retries. */
export interface AlertBus {
  putAlerts(alerts: readonly Alert[]): Promise<void>;
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
