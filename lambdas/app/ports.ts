import type { Alert } from '#core/alert';
import type { Impact } from '#core/classification';
import type { ContactDirectoryReport, ContactEndpoint } from '#core/contacts';
import type { Incident, IncidentStatus, TimelineEntry } from '#core/incident';
import type { Rollup } from '#core/metrics';
import type { ScheduleOverride } from '#core/oncall';
import type { Page } from '#core/page';
import type { ActionItem } from '#core/postmortem';
import type { Severity } from '#core/severity';
import type { Timer } from '#core/timers';

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
  | { readonly kind: 'mitigated'; readonly incident: Incident }
  /** A resolve entered the monitoring period. */
  | { readonly kind: 'monitoring'; readonly incident: Incident }
  | { readonly kind: 'resolved'; readonly incident: Incident }
  /**
   * This exact input was applied before (at-least-once delivery, a retry after a crash).
   * `caused` names the transition it made then, so follow-up work can be completed idempotently.
   */
  | {
      readonly kind: 'replayed';
      readonly incident: Incident;
      readonly caused: 'opened' | 'appended' | Transition;
    }
  /** Nothing to act on: unknown or closed key, or already in that state. */
  | { readonly kind: 'ignored'; readonly reason: string; readonly incident?: Incident };

/** The transitions people and alerts ask for (a trigger is not one: it opens or appends). */
export type Transition = 'acknowledged' | 'mitigated' | 'monitoring' | 'resolved';

/** What the incident-command use cases change directly, conditional on the version they read. */
export type IncidentPatch = Partial<
  Pick<
    Incident,
    | 'sev'
    | 'severityChanges'
    | 'severityChangedAt'
    | 'severityFrom'
    | 'escalationPolicy'
    | 'generation'
    | 'step'
    | 'stepAt'
    | 'escalation'
    | 'escalations'
    | 'resumedAt'
    | 'resumedBy'
    | 'roles'
    | 'smes'
    | 'rolesAt'
    | 'leases'
    | 'snooze'
    | 'checklist'
    | 'reassessSeq'
    | 'postmortemRequiredAt'
    | 'postmortemBudgetMonth'
    | 'impactSev'
    | 'postmortemDoneAt'
    | 'postmortemDoneBy'
  >
>;

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

export interface TriggerOptions {
  /** Recorded on a new incident: the policy that will page for it. */
  readonly escalationPolicy?: string;
  /** Recorded on a new incident: its severity (else the default mapping of the alert's). */
  readonly sev?: Severity;
  /** Recorded on a new incident: the impact it was declared with (a declaration by hand). */
  readonly impact?: Impact;
  /** Recorded on a new incident: the opener holds the lease on its opening effects until then. */
  readonly openingLease?: { readonly token: string; readonly until: Date };
  /**
   * The configured zone: an open incident is filed under the local day of the start the store
   * records for it (`incidentDay`), which the store decides (an alert re-sent after a resolution
   * starts at that resolution, not at its own older timestamp), and moved with it when a late
   * alert moves it earlier.
   */
  readonly timeZone?: string;
}

export interface IncidentStore {
  /**
   * Counts a trigger into the open incident for its (service, dedup key), or opens one. `options`
   * matter only to a new incident, and (`timeZone`) to one whose start an alert moves earlier:
   * given as a function, it is called only for the full upsert (which may create one) or such a
   * move, not for the short append of a key this process knows is open.
   */
  trigger(alert: Alert, now: Date, options?: TriggerOptions | (() => TriggerOptions)): Promise<AlertOutcome>;
  /** Acknowledges the open incident for the alert's key, if it is still triggered. */
  acknowledge(alert: Alert, now: Date, who: string): Promise<AlertOutcome>;
  /**
   * Resolves the open incident for the alert's key: into `monitoring` when `monitoringUntil` is
   * given, else to `resolved` (the next trigger opens a new incident). `day` is the resolution's
   * local day: the incident moves to it on the day index.
   */
  resolve(
    alert: Alert,
    now: Date,
    who: string,
    options?: { day?: string; monitoringUntil?: string },
  ): Promise<AlertOutcome>;
  /**
   * Moves an incident by id: acknowledged (from triggered), mitigated (from triggered or
   * acknowledged), monitoring (from any of those), resolved (from any open status). `cause`
   * identifies the input (an event key, a link use, a request): the same cause again is
   * `replayed`, not applied twice. `resolvedAt` backdates a resolution to when monitoring began,
   * only while no alert was counted since it began (else `ignored`: resolve as of now instead).
   * `owner`: a mitigation of a triggered incident (nobody owns it: never acknowledged, or its
   * acknowledgement lapsed) makes the mitigator its acknowledger, as of now.
   */
  transition(
    id: string,
    to: Transition,
    now: Date,
    who: string,
    cause: string,
    options?: { day?: string; monitoringUntil?: string; resolvedAt?: string; owner?: boolean },
  ): Promise<AlertOutcome>;
  /**
   * The quiet end of a monitoring period: resolved as of `monitoringSince` (guard: still
   * monitoring, the version as read, and no alert counted since the resolve).
   */
  finishMonitoring(incident: Incident, day: string): Promise<Incident | undefined>;
  /**
   * A re-trigger during monitoring: back to triggered, `reopens` + 1, escalation restarted in the
   * next generation at step 0 (guard: monitoring, the version as read). `eventKey`: the trigger
   * that reopened it, recognised on its redelivery however late.
   */
  reopen(incident: Incident, now: Date, eventKey?: string): Promise<Incident | undefined>;
  /** Sets these fields if the incident still has the version it was read at. */
  patch(incident: Incident, set: IncidentPatch): Promise<Incident | undefined>;
  /**
   * Takes the lease on a new incident's opening effects (pages, timers, OPENED) until `until`:
   * true when nobody holds it (or the holder's lease ran out) and it is not opened yet. A second
   * delivery of the opening event that finds it held is retried later instead of paging level 1
   * again.
   */
  claimOpening(id: string, token: string, now: Date, until: Date): Promise<boolean>;
  /** Gives the lease back (the holder's effects failed; its retry may take it at once). */
  releaseOpening(id: string, token: string): Promise<void>;
  /** Counts messages sent for an incident (metrics). */
  countPages(incidentId: string, sent: number): Promise<void>;
  /**
   * The last write of a new incident's opening, in one: its OPENED entry, the messages its
   * level-1 page sent, the opening lease given back. A second completion changes nothing.
   */
  completeOpening(incidentId: string, opened: TimelineEntry, sent: number): Promise<void>;
  /** Marks an incident as left out of (or back in) the metrics. */
  setExcluded(incidentId: string, excluded: boolean): Promise<Incident | undefined>;
  /**
   * The escalation claims below are conditional on the incident's version as read, plus their
   * own guard; each returns the updated incident, or undefined when the condition failed.
   */
  /**
   * Runs escalation step `step` (guard: triggered, escalation active — or, `offHours`, stopped to
   * wait for business hours in this generation, which it makes active again).
   */
  claimStep(
    incident: Incident,
    step: number,
    now: Date,
    exhausted: boolean,
    options?: { offHours?: boolean },
  ): Promise<Incident | undefined>;
  /** Ack timeout: back to triggered in the next generation at step 0 (guard: acknowledged). */
  restartEscalation(incident: Incident, now: Date): Promise<Incident | undefined>;
  /**
   * Maintenance, or business hours (`offHours`: records the new generation as waiting for them):
   * escalation stopped, next generation (guard: open).
   */
  stopEscalation(
    incident: Incident,
    now?: Date,
    options?: { offHours?: boolean },
  ): Promise<Incident | undefined>;
  /** Status-update reminder `seq` (guard: open, previous reminder was seq - 1). */
  claimReminder(incident: Incident, seq: number, now: Date): Promise<Incident | undefined>;
  /** The open incident for a key, if any. */
  findOpen(service: string, dedupKey: string): Promise<Incident | undefined>;
  get(id: string): Promise<Incident | undefined>;
  list(filter: IncidentFilter): Promise<IncidentPage>;
  /**
   * The ids of a service's incidents not resolved, newest first, read from an index (eventually
   * consistent: read each again before acting on it). The store filters as it reads, so the
   * service's resolved history costs reads but no round trip per page of it.
   */
  openIncidentIds(service: string): Promise<string[]>;
  /** Idempotent: an entry with the same id is overwritten, not added — or, `ifAbsent`, left as it is. */
  putTimelineEntry(entry: TimelineEntry, options?: { ifAbsent?: boolean }): Promise<void>;
  /**
   * A person's entry with an idempotency key (its id derived from the key), written once however
   * many retries race with their own times: the first writer's entry is kept (`created`), the
   * others get it back. Each (re)writes that entry, so a retry completes a first attempt that died.
   */
  putTimelineEntryOnce(entry: TimelineEntry): Promise<{ entry: TimelineEntry; created: boolean }>;
  /** Many entries (of any incidents) at once, in batches; each is a put, as putTimelineEntry's. */
  putTimelineEntries(entries: readonly TimelineEntry[]): Promise<void>;
  timeline(incidentId: string): Promise<TimelineEntry[]>;
  /** Whether the entry with this (incident, at, type, id) exists: the completion mark of a step. */
  hasTimelineEntry(entry: Pick<TimelineEntry, 'incidentId' | 'at' | 'type' | 'id'>): Promise<boolean>;
  putIntegration(integration: Integration): Promise<void>;
  findIntegration(keyHash: string): Promise<Integration | undefined>;
}

export interface MaintenanceWindow {
  readonly id: string;
  readonly service: string;
  readonly from: string;
  readonly to: string;
  readonly reason?: string;
  readonly createdAt: string;
}

/** The pages a contact's throttle held, waiting for its digest. */
export interface HeldPages {
  readonly incidentIds: string[];
  /** Held beyond what the store names (a storm of more than about 1,000 incidents): only counted. */
  readonly overflow: number;
  /** When the digest is due (epoch ms); absent when nothing waits. */
  readonly due?: number;
  /** The contact's recent page sends (epoch ms), as the throttle keeps them. */
  readonly history: number[];
}

/** A digest that was sent: what its "acknowledge all" link acts on. */
export interface DigestRecord {
  readonly id: string;
  /** The contact key it went to, and its responder: the one the link acts as. */
  readonly contact: string;
  readonly responderId: string;
  /** Every held incident it covered, most urgent first (the message names the first 20). */
  readonly incidentIds: string[];
  readonly sentAt: string;
}

/** Operational state written at runtime: maintenance windows, schedule overrides, throttles, pings. */
export interface ControlStore {
  putMaintenance(window: MaintenanceWindow): Promise<void>;
  /** Windows of a service that have not ended by `now`. */
  listMaintenance(service: string, now: Date): Promise<MaintenanceWindow[]>;
  deleteMaintenance(service: string, id: string): Promise<boolean>;
  putOverride(override: ScheduleOverride): Promise<void>;
  /** Overrides of a schedule that have not ended by `now`. */
  listOverrides(scheduleId: string, now: Date): Promise<ScheduleOverride[]>;
  deleteOverride(scheduleId: string, id: string): Promise<boolean>;
  /**
   * Atomically applies `decide` to a contact's send history for one message class and stores the
   * result; true when the message may go. Conditional on the history it read, retried on races.
   */
  takeThrottle(
    key: string,
    decide: (history: readonly number[]) => { allowed: boolean; history: number[] },
  ): Promise<boolean>;
  /**
   * Holds a page the throttle refused: `incidentId` joins the contact's held set, whose digest is
   * due at `due` (epoch ms) unless one is due already. Idempotent (a set; past about 1,000 held
   * incidents only a count, which a retry counts again).
   */
  holdPage(key: string, incidentId: string, due: number): Promise<void>;
  /** The incidents held for a contact's digest, when it is due, and the contact's send history. */
  heldPages(key: string): Promise<HeldPages>;
  /** Drops these incidents (and this much overflow) from the held set, if the digest is still due at `due`. */
  releaseHeld(key: string, held: Pick<HeldPages, 'incidentIds' | 'overflow'>, due: number): Promise<boolean>;
  /**
   * Moves the digest due at `from` to `to`; with `to` undefined, clears it — only if nothing is
   * held any more. False when the condition failed (moved already, or something was held since).
   */
  moveDigest(key: string, from: number, to: number | undefined): Promise<boolean>;
  /** Keeps a sent digest until `expiresAt` (its links' expiry); its id is new, written once. */
  putDigest(digest: DigestRecord, expiresAt: Date): Promise<void>;
  getDigest(id: string): Promise<DigestRecord | undefined>;
  /**
   * Records a heartbeat's ping at `at`, keeping the latest: a slower concurrent ping with an
   * earlier time does not move it back.
   */
  recordPing(heartbeatId: string, at: Date): Promise<void>;
  /** When the heartbeat was last pinged (a consistent read); undefined before its first ping. */
  lastPing(heartbeatId: string): Promise<string | undefined>;
}

/** A postmortem action item, tracked to done. */
export interface ActionItemRecord extends ActionItem {
  readonly id: string;
  readonly incidentId: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly doneAt?: string;
  /** Who marked it done (while it is). */
  readonly doneBy?: string;
  /** The last change after its creation, and who made it. */
  readonly updatedAt?: string;
  readonly updatedBy?: string;
  /** The last day (YYYY-MM-DD) its owner was reminded of it past its deadline (app/follow-up.ts). */
  readonly remindedOn?: string;
}

/** What an update of an action item sets: only the fields given. */
export interface ActionItemChange {
  readonly status?: 'open' | 'done';
  readonly owner?: string;
  readonly deadline?: string;
}

export interface ActionItemStore {
  /**
   * Sets only the fields of `change` (and who changed it, when) in one conditional write, so that
   * updates of different fields in flight together all hold. Done keeps the first doneAt/doneBy;
   * open drops them. When every field already has its value (a retry), nothing is written. The
   * item after; undefined if there is none.
   */
  updateActionItem(
    incidentId: string,
    id: string,
    change: ActionItemChange,
    by: { readonly who: string; readonly at: string },
  ): Promise<ActionItemRecord | undefined>;
  /**
   * Creates the item unless one with its (incident, id) exists: `created`, or the stored one — so
   * requests that race with one idempotency key (and their own times) make one item and all answer it.
   */
  createActionItem(item: ActionItemRecord): Promise<{ item: ActionItemRecord; created: boolean }>;
  getActionItem(incidentId: string, id: string): Promise<ActionItemRecord | undefined>;
  /** One incident's items, oldest first. */
  actionItems(incidentId: string): Promise<ActionItemRecord[]>;
  /** Items across incidents, by deadline (earliest first). */
  listActionItems(filter: { status?: 'open' | 'done' }): Promise<ActionItemRecord[]>;
  /**
   * Claims the follow-up notice `key` (an owner's contact, that day) for one sender: `claimed`
   * when nobody claimed it, or a claim older than `staleAfterMs` was never completed (its sender
   * died); `held` while another holds it; `sent` once it was (app/follow-up.ts).
   */
  claimFollowUp(key: string, at: Date, staleAfterMs: number): Promise<'claimed' | 'held' | 'sent'>;
  /** Marks the follow-up notice `key` as sent. */
  completeFollowUp(key: string): Promise<void>;
  /** Records that the item's owner was reminded of it on `day` (YYYY-MM-DD). */
  markReminded(incidentId: string, id: string, day: string): Promise<void>;
}

/** What MTBF needs of a service's incidents before a day's first start (MetricsStore). */
export interface PreviousResolution {
  readonly resolvedAt: string | undefined;
  /** Started at or before the bound and not resolved then: the service was still failing. */
  readonly unresolved: readonly { id: string; startedAt: string; resolvedAt?: string }[];
}

/** Where rollups live and how they are read. */
export interface MetricsStore {
  /** Every incident that belongs to `day`, read through the day index; `itemsRead` for the proof. */
  incidentsOfDay(day: string): Promise<{ incidents: Incident[]; itemsRead: number }>;
  /**
   * For MTBF across the day boundary, among a service's recent incidents detected before `before`
   * (not excluded): the latest resolution at or before `before`, and those that started by then
   * and were not resolved then (still open, or resolved later). Times compare as instants.
   */
  previousResolution(service: string, before: string): Promise<PreviousResolution>;
  /** Replaces the day's rollups with these (a re-run leaves exactly the new set). */
  putRollups(day: string, rollups: readonly Rollup[]): Promise<void>;
  /** Rollups of the days from..to inclusive, in day order. */
  listRollups(from: string, to: string): Promise<Rollup[]>;
  /**
   * True the first time it is called for (service, month) — or again while the announcement it
   * claimed was never completed: "notify once", even when the first attempt failed midway.
   */
  claimBudgetNotice(service: string, month: string, at: Date): Promise<boolean>;
  /** Marks the (service, month) announcement as made. */
  completeBudgetNotice(service: string, month: string): Promise<void>;
  /**
   * When the (service, month) error budget was recorded exhausted (its notice claimed), if it
   * was: a resolution after that requires a postmortem whatever the severity. One read.
   */
  budgetExhaustedAt(service: string, month: string): Promise<string | undefined>;
}

/**
 * Where analyst exports go (S3 in AWS, a folder locally). Retry contract: `put` overwrites the
 * object at `key` as a whole, so a repeated put is harmless; a thrown error means "retry".
 */
export interface ExportSink {
  put(key: string, body: string, contentType: string): Promise<void>;
}

/** Custom metrics (CloudWatch through Powertools Metrics in AWS). */
export interface MetricsPublisher {
  publish(rollups: readonly Rollup[]): Promise<void>;
  /**
   * `UnreachableContacts`: how many contacts the contact check found unreachable, 0 included (the
   * alarm on it needs a data point every check).
   */
  publishUnreachableContacts(count: number): Promise<void>;
}

/**
 * What the delivery service knows of the contact endpoints (SNS in AWS: the pages topic's
 * subscriptions, the SMS opt-out list, the SMS sandbox). Read only; throws when it cannot tell
 * (throttled, denied), so the check is retried rather than report a guess.
 */
export interface ContactDirectory {
  report(endpoints: readonly ContactEndpoint[]): Promise<ContactDirectoryReport>;
}

/**
 * Events Klaxon itself puts on its bus: Error Budget Exhausted and the incident lifecycle events
 * (core/lifecycle-events.ts). At least once: a retried use case may publish an event again with
 * the same `detail.id`, which subscribers use to drop duplicates.
 */
export interface EventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}

/**
 * One-time timers (EventBridge Scheduler in AWS, table items polled locally). Retry contract:
 * every method is idempotent; any thrown error means "retry".
 */
export interface Timers {
  /** Creates a timer; a timer of the same name that already exists is left as it is. */
  schedule(timer: Timer): Promise<void>;
  /** Creates a timer or moves an existing one of the same name to the new time. */
  reschedule(timer: Timer): Promise<void>;
  /** Deletes a timer; one that already fired or never existed is fine. */
  cancel(name: string): Promise<void>;
}

/** Sends one page to one contact (SNS in AWS, console and inbox locally). Throws to retry. */
export interface Pager {
  send(page: Page): Promise<void>;
}

/** The Klaxon event bus. Throws when any event could not be put after retries. */
export interface AlertBus {
  putAlerts(alerts: readonly Alert[]): Promise<void>;
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
