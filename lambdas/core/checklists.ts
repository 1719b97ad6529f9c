import {
  type Incident,
  PEOPLE_ENTRY_TYPES,
  postmortemRequired,
  postmortemSince,
  type TimelineEntry,
  type TimelineType,
} from './incident.ts';
import { localDay } from './metrics.ts';
import { clockTime } from './wall-clock.ts';

/**
 * The practice's incident-response checklist, phase by phase, with a stable id per item.
 *
 * Items are ticked by people (stored on the incident as `checklist[itemId] = { at, by }`) or
 * automatically where Klaxon knows the answer: those ticks are derived from the incident, its
 * timeline and its action items every time the view is built, never stored. An automatic tick
 * takes precedence over a person's (it is the recorded fact); a person's tick counts where Klaxon
 * knows nothing. Items whose answer is Klaxon's own record either way (`TICKED_BY_KLAXON`) are
 * never ticked by people.
 *
 * Due times: Initial Response 5 minutes after detection, Mitigation 60 minutes after detection,
 * Resolution when the incident is resolved, Postmortem 72 hours after resolution. Resolution and
 * Postmortem have no due time before the incident is resolved. An item is overdue when it is not
 * done and `now` is past its phase's due time (exactly at the due time is not overdue).
 *
 * The Postmortem phase is due only where a postmortem is required (SEV-1/SEV-2, or resolved while
 * the service's error budget was exhausted, see `postmortemRequired`); otherwise it is shown
 * `optional`, without a due time, never overdue.
 */

export const CHECKLIST_PHASES = ['initial-response', 'mitigation', 'resolution', 'postmortem'] as const;
export type ChecklistPhase = (typeof CHECKLIST_PHASES)[number];

export const CHECKLIST = [
  {
    phase: 'initial-response',
    title: 'Initial Response (0-5 min)',
    items: [
      { id: 'acknowledge', text: 'Acknowledge alert' },
      { id: 'assess-severity', text: 'Assess severity and impact' },
      { id: 'create-ticket', text: 'Create incident ticket' },
      { id: 'notify-stakeholders', text: 'Notify stakeholders' },
      { id: 'assign-ic', text: 'Assign Incident Commander' },
      { id: 'war-room', text: 'Create war room (#incident-YYYYMMDD-description)' },
      { id: 'timeline', text: 'Begin timeline documentation' },
    ],
  },
  {
    phase: 'mitigation',
    title: 'Mitigation (5-60 min)',
    items: [
      { id: 'recent-changes', text: 'Identify recent changes (deployments, configs)' },
      { id: 'mitigation-strategy', text: 'Determine mitigation strategy (rollback/scale/fix)' },
      { id: 'implement-mitigation', text: 'Implement mitigation' },
      { id: 'verify-impact', text: 'Verify impact reduced' },
      { id: 'status-updates', text: 'Provide updates every 15-30 minutes' },
      { id: 'document', text: 'Document all actions and decisions' },
    ],
  },
  {
    phase: 'resolution',
    title: 'Resolution',
    items: [
      { id: 'error-rates', text: 'Error rates back to baseline' },
      { id: 'latency', text: 'Latency within SLOs' },
      { id: 'customer-reports', text: 'No active customer reports' },
      { id: 'stable-15', text: 'System stable 15+ minutes' },
      { id: 'health-checks', text: 'All health checks passing' },
      { id: 'dependencies', text: 'Dependencies verified' },
      { id: 'final-notification', text: 'Send final customer notification' },
      { id: 'schedule-postmortem', text: 'Schedule postmortem (24-48 hours)' },
    ],
  },
  {
    phase: 'postmortem',
    title: 'Postmortem (24-72 hours)',
    items: [
      { id: 'compile-timeline', text: 'Compile timeline from war room' },
      { id: 'gather-metrics', text: 'Gather metrics and graphs' },
      { id: 'draft-postmortem', text: 'Draft postmortem document' },
      { id: 'postmortem-meeting', text: 'Conduct postmortem meeting (blameless)' },
      { id: 'action-items', text: 'Define action items with owners' },
      { id: 'publish-postmortem', text: 'Publish postmortem internally' },
      { id: 'follow-up', text: 'Follow up on action items' },
    ],
  },
] as const satisfies readonly {
  readonly phase: ChecklistPhase;
  readonly title: string;
  readonly items: readonly { readonly id: string; readonly text: string }[];
}[];

export type ChecklistItemId = (typeof CHECKLIST)[number]['items'][number]['id'];

/** (A search, not a module-level Set: a bundle that imports only `tickedByKlaxon` drops the list.) */
export function isChecklistItem(id: string): id is ChecklistItemId {
  return CHECKLIST.some((phase) => phase.items.some((item) => item.id === id));
}

/**
 * The items whose answer is Klaxon's own record, done or not: a person's tick would contradict it
 * (an "acknowledged" tick on an incident that goes on escalating, a "published" one on a
 * postmortem that still goes overdue). People cannot tick or untick them — the command that makes
 * the fact ticks them — and a tick stored before that rule is not shown. The other automatic
 * ticks (severity assessed, timeline begun, postmortem scheduled) record only that it happened in
 * Klaxon; there a person's tick says it happened elsewhere.
 *
 * Each: the API request (under `/api/incidents/<id>/`) and the `klaxon` command that tick it; none
 * for what the incident has from the moment it opens. Plain literals: a bundle that does not use
 * them drops them.
 */
export const TICKED_BY_KLAXON: Readonly<Partial<Record<ChecklistItemId, readonly string[]>>> = {
  acknowledge: ['POST acknowledge', 'ack <id>'],
  'create-ticket': [],
  'assign-ic': ['POST roles', 'role assign <id> commander <person>'],
  'implement-mitigation': ['POST mitigate', 'mitigate <id>'],
  // At the quiet end of the monitoring period that a resolve (without "now") begins.
  'stable-15': ['POST resolve', 'resolve <id>'],
  'action-items': ['POST action-items', 'actions add <id>'],
  'publish-postmortem': ['POST postmortem/publish', 'postmortem publish <id>'],
  'follow-up': ['PATCH action-items/<item>', 'actions done <id> <item>'],
};

/**
 * Of those, the facts only an open incident can gain: once it is resolved without them (the
 * source resolved it before anyone acknowledged; `resolve --now`, or a monitoring period under 15
 * minutes, never showed 15 quiet minutes), nothing can tick them any more, and an item nobody can
 * finish is not overdue — it stays not done, as the record says.
 */
const ONLY_WHILE_OPEN: readonly ChecklistItemId[] = [
  'acknowledge',
  'assign-ic',
  'implement-mitigation',
  'stable-15',
];

/** Why a person cannot tick or untick `item` of incident `id`, with the command; undefined when they can. */
export function tickedByKlaxon(item: ChecklistItemId, id: string): string | undefined {
  const how = TICKED_BY_KLAXON[item];
  if (how === undefined) return undefined;
  const [request, command] = how;
  return request === undefined || command === undefined
    ? 'is ticked by Klaxon when the incident opens'
    : `is ticked by Klaxon: ${request.replace(' ', ` /api/incidents/${id}/`)}, klaxon ${command.replace('<id>', id)}`;
}

/** Minutes after detection. */
export const INITIAL_RESPONSE_DUE_MINUTES = 5;
export const MITIGATION_DUE_MINUTES = 60;
/**
 * Hours after resolution: the end of the practice's "Postmortem (24-72 hours)" phase, in which the
 * postmortem is written, held, published and followed up. Not POSTMORTEM_DUE_HOURS (48,
 * core/incident.ts), the incident's postmortem deadline (reminder at 24 h, overdue at 48 h), which
 * follows the practice's "Schedule postmortem (24-48 hours)": the practice gives the two separately.
 */
export const POSTMORTEM_PHASE_DUE_HOURS = 72;
/** "System stable 15+ minutes": the quiet monitoring period it takes to tick it automatically. */
export const STABLE_MINUTES = 15;

/** The bits of an action item the checklist needs (ActionItemRecord has them all). */
export interface ChecklistActionItem {
  readonly createdAt: string;
  readonly createdBy?: string;
  readonly status: 'open' | 'done';
  readonly doneAt?: string;
  readonly doneBy?: string;
}

export interface ChecklistInput {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEntry[];
  readonly actionItems: readonly ChecklistActionItem[];
  readonly now: Date;
}

export interface ChecklistItemView {
  readonly id: ChecklistItemId;
  readonly text: string;
  readonly done: boolean;
  readonly at?: string;
  readonly by?: string;
  /** Ticked by Klaxon from what it knows, not by a person. */
  readonly auto: boolean;
  readonly overdue: boolean;
  /** Not required of this incident (scheduling a postmortem it does not require): never overdue. */
  readonly optional?: true;
}

export interface ChecklistPhaseView {
  readonly phase: ChecklistPhase;
  readonly title: string;
  readonly dueAt?: string;
  /** Nothing in it is required (the postmortem of an incident that does not require one). */
  readonly optional?: true;
  readonly items: readonly ChecklistItemView[];
}

export interface ChecklistView {
  readonly phases: readonly ChecklistPhaseView[];
  /** Items not done past their phase's due time. */
  readonly overdue: number;
}

/** Who Klaxon's own ticks are by. */
const KLAXON = 'klaxon';

interface AutoTick {
  readonly at?: string;
  readonly by?: string;
}

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

function phaseDueAt(phase: ChecklistPhase, incident: Incident): string | undefined {
  const resolvedAt = incident.status === 'resolved' ? incident.resolvedAt : undefined;
  switch (phase) {
    case 'initial-response':
      return plus(incident.detectedAt, INITIAL_RESPONSE_DUE_MINUTES * 60_000);
    case 'mitigation':
      return plus(incident.detectedAt, MITIGATION_DUE_MINUTES * 60_000);
    case 'resolution':
      return resolvedAt;
    case 'postmortem':
      // From the resolution, or the raise after it that made a postmortem required.
      return resolvedAt === undefined || !postmortemRequired(incident)
        ? undefined
        : plus(postmortemSince(incident) ?? resolvedAt, POSTMORTEM_PHASE_DUE_HOURS * 3_600_000);
  }
}

const isOptional = (phase: ChecklistPhase, incident: Incident) =>
  phase === 'postmortem' && !postmortemRequired(incident);

const fromEntry = (entry: TimelineEntry | undefined): AutoTick | undefined =>
  entry === undefined ? undefined : { at: entry.at, by: entry.who };

const PEOPLE_TYPES: ReadonlySet<TimelineType> = /* @__PURE__ */ new Set(PEOPLE_ENTRY_TYPES);

/**
 * When the system was shown stable for STABLE_MINUTES: the end of the monitoring period that
 * resolved the incident, when that period ran its course quietly (`monitored`: not "resolve now"),
 * lasted that long, and no REOPENED entry follows its start. A finished period has the resolve
 * request as `resolvedAt`/`monitoringSince` and its end as `closedAt`/`monitoringUntil`.
 */
function stableAt(incident: Incident, timeline: readonly TimelineEntry[]): string | undefined {
  if (incident.status !== 'resolved' || incident.monitored !== true) return undefined;
  const since = incident.monitoringSince ?? incident.resolvedAt;
  const until = incident.monitoringUntil ?? incident.closedAt;
  if (since === undefined || until === undefined) return undefined;
  if (Date.parse(until) - Date.parse(since) < STABLE_MINUTES * 60_000) return undefined;
  // Its MONITORING entry is at `since`; a REOPENED after that says the period did not hold.
  if (timeline.some((e) => e.type === 'REOPENED' && e.at > since)) return undefined;
  return until;
}

/** Names the incident commander: a handoff always does; a role assignment when it says so. */
const namesCommander = (e: TimelineEntry) =>
  e.type === 'HANDOFF' || (e.type === 'ROLE_ASSIGNED' && /commander|\bIC\b/i.test(e.text));

/** What Klaxon knows, item by item. */
function automaticTicks(input: ChecklistInput): Partial<Record<ChecklistItemId, AutoTick>> {
  const { incident } = input;
  const timeline = [...input.timeline].sort((a, b) => a.at.localeCompare(b.at));
  const first = (test: (e: TimelineEntry) => boolean) => timeline.find(test);
  const resolved = incident.status === 'resolved' && incident.resolvedAt !== undefined;
  const ticks: Partial<Record<ChecklistItemId, AutoTick>> = {};

  if (incident.acknowledgedAt !== undefined)
    ticks.acknowledge = { at: incident.acknowledgedAt, by: incident.acknowledgedBy };
  // The incident exists from the moment it opens. Its war room is only named from it
  // (warRoomName): a person creates the channel, and ticks the item.
  ticks['create-ticket'] = { at: incident.detectedAt, by: KLAXON };
  const commander = incident.roles.commander;
  if (commander !== undefined)
    ticks['assign-ic'] = fromEntry(first(namesCommander)) ?? { at: incident.detectedAt, by: commander };
  // A declared incident's severity is the declarer's assessment (given, or classified from the
  // impact they described; its DECISION "Declared SEV-x" entry has the same time and person). An
  // alert's is mapped from its source: assessed when a person first changes it.
  ticks['assess-severity'] =
    incident.origin === 'manual'
      ? { at: incident.detectedAt, by: incident.source }
      : fromEntry(first((e) => e.type === 'SEVERITY_CHANGED'));
  ticks.timeline = fromEntry(first((e) => PEOPLE_TYPES.has(e.type)));
  // "Provide updates every 15-30 minutes": the first status update posted in Klaxon (later ones
  // restart the status-update reminder). A person's tick says they are given elsewhere.
  ticks['status-updates'] = fromEntry(first((e) => e.type === 'UPDATE'));
  if (incident.mitigatedAt !== undefined)
    ticks['implement-mitigation'] = { at: incident.mitigatedAt, by: incident.mitigatedBy };
  const stable = stableAt(incident, timeline);
  if (stable !== undefined) ticks['stable-15'] = { at: stable, by: KLAXON };
  if (resolved && postmortemRequired(incident))
    ticks['schedule-postmortem'] = { at: incident.resolvedAt, by: KLAXON };

  const items = input.actionItems;
  if (items.length > 0) {
    const oldest = items.reduce((a, b) => (b.createdAt < a.createdAt ? b : a));
    ticks['action-items'] = { at: oldest.createdAt, by: oldest.createdBy };
    if (items.every((i) => i.status === 'done')) {
      // Ticked when, and by whom, the last of them was done.
      const last = items
        .filter((i) => i.doneAt !== undefined)
        .reduce<ChecklistActionItem | undefined>(
          (a, b) => ((a?.doneAt ?? '') > (b.doneAt ?? '') ? a : b),
          undefined,
        );
      ticks['follow-up'] = { at: last?.doneAt, by: last?.doneBy };
    }
  }
  if (incident.postmortemDoneAt !== undefined)
    ticks['publish-postmortem'] = { at: incident.postmortemDoneAt, by: incident.postmortemDoneBy };
  return ticks;
}

/** The checklist of an incident as of `now`: every item, ticked or not, with overdue flags. */
export function checklistView(input: ChecklistInput): ChecklistView {
  const { incident, now } = input;
  const auto = automaticTicks(input);
  let overdue = 0;
  const phases = CHECKLIST.map((phase): ChecklistPhaseView => {
    const dueAt = phaseDueAt(phase.phase, incident);
    const late = dueAt !== undefined && now.getTime() > Date.parse(dueAt);
    const items = phase.items.map((item): ChecklistItemView => {
      const automatic = auto[item.id];
      const person =
        Object.hasOwn(incident.checklist, item.id) && TICKED_BY_KLAXON[item.id] === undefined
          ? incident.checklist[item.id]
          : undefined;
      const tick = automatic ?? person;
      // Scheduling a postmortem nobody requires is up to the team: never overdue.
      const optional = item.id === 'schedule-postmortem' && !postmortemRequired(incident);
      if (tick === undefined) {
        const lateNow =
          late && !optional && !(incident.status === 'resolved' && ONLY_WHILE_OPEN.includes(item.id));
        if (lateNow) overdue++;
        return {
          id: item.id,
          text: item.text,
          done: false,
          auto: false,
          overdue: lateNow,
          ...(optional ? { optional: true as const } : {}),
        };
      }
      return {
        id: item.id,
        text: item.text,
        done: true,
        ...(tick.at === undefined ? {} : { at: tick.at }),
        ...(tick.by === undefined ? {} : { by: tick.by }),
        auto: automatic !== undefined,
        overdue: false,
      };
    });
    return {
      phase: phase.phase,
      title: phase.title,
      ...(dueAt === undefined ? {} : { dueAt }),
      ...(isOptional(phase.phase, incident) ? { optional: true as const } : {}),
      items,
    };
  });
  return { phases, overdue };
}

/**
 * The checklist as text for a terminal:
 *
 *     Initial Response (0-5 min) — due 14:35
 *       [x] Acknowledge alert (alice 14:32, auto)
 *       [ ] Notify stakeholders OVERDUE
 *
 * An optional phase says so in place of a due time (`Postmortem (24-72 hours) — optional`).
 *
 * Times are `HH:MM` in the zone, with the date in front when they fall on another day than the
 * first phase's due time (the incident's day).
 */
export function renderChecklist(view: ChecklistView, timeZone: string): string {
  const firstDue = view.phases.find((p) => p.dueAt !== undefined)?.dueAt;
  const homeDay = firstDue === undefined ? undefined : localDay(firstDue, timeZone);
  const time = (iso: string) => {
    const day = localDay(iso, timeZone);
    const hhmm = clockTime(iso, timeZone);
    return day === homeDay ? hhmm : `${day} ${hhmm}`;
  };
  const lines: string[] = [];
  for (const phase of view.phases) {
    if (lines.length > 0) lines.push('');
    const due = phase.dueAt === undefined ? '' : ` — due ${time(phase.dueAt)}`;
    lines.push(`${phase.title}${phase.optional ? ' — optional' : due}`);
    for (const item of phase.items) {
      const when = [item.by, item.at === undefined ? '' : time(item.at)].filter(Boolean).join(' ');
      const note = [when, item.auto ? 'auto' : ''].filter(Boolean).join(', ');
      lines.push(
        `  [${item.done ? 'x' : ' '}] ${item.text}${note ? ` (${note})` : ''}${item.optional ? ' (optional: no postmortem required)' : ''}${item.overdue ? ' OVERDUE' : ''}`,
      );
    }
  }
  lines.push('', view.overdue === 0 ? 'Nothing overdue.' : `${view.overdue} overdue.`);
  return `${lines.join('\n')}\n`;
}
