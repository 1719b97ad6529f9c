import { formatDuration } from './analysis.ts';
import { type BlameFinding, checkBlameless } from './blame.ts';
import { impactText } from './classification.ts';
import { isEscalationStep } from './escalation.ts';
import { type Incident, ROLE_NAMES, ROLES, SNOOZE_ENDED, type TimelineEntry } from './incident.ts';
import { localDay, TARGETS } from './metrics.ts';
import { clockTime, utcOffset } from './wall-clock.ts';

/**
 * Blameless postmortems in Markdown, generated from the incident and its timeline, in the
 * practice's structure: executive summary, impact, timeline, five whys, what went well and
 * poorly, action items, lessons learned. Templates add the questions and the suggested action
 * items of common failure modes: they follow the tracked action items in the table, marked
 * `suggested`, unless a tracked item already says the same. The blameless check runs over the
 * draft and is shown with it.
 *
 * Durations, as in docs/METRICS.md: to detect = start → detection, to acknowledge = detection →
 * acknowledgement, to mitigate and to resolve = start → mitigation / resolution; customer impact
 * = start → mitigation, else resolution. The time to acknowledge goes under what went well when it
 * met the severity's MTTA target, under what went poorly when it missed it. The status is `Draft`
 * until the postmortem is published. The Impact section states the user and business impact the
 * incident was declared with (`incident.impact`); what was not declared stays a placeholder.
 */

export const POSTMORTEM_TEMPLATES = [
  'default',
  'deployment',
  'resource-exhaustion',
  'dependency-failure',
] as const;
export type PostmortemTemplate = (typeof POSTMORTEM_TEMPLATES)[number];

export const ACTION_CATEGORIES = ['Prevent', 'Detect', 'Respond', 'Process'] as const;
export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

export interface ActionItem {
  readonly action: string;
  readonly owner: string;
  /** YYYY-MM-DD */
  readonly deadline: string;
  readonly category: ActionCategory;
  readonly status: 'open' | 'done';
}

/** Overdue: still open past its deadline — `today` is a day (YYYY-MM-DD) in the team's zone. */
export function isOverdue(item: Pick<ActionItem, 'status' | 'deadline'>, today: string): boolean {
  return item.status === 'open' && item.deadline < today;
}

export interface PostmortemInput {
  readonly incident: Incident;
  readonly serviceName: string;
  readonly timeline: readonly TimelineEntry[];
  readonly timeZone: string;
  readonly template: PostmortemTemplate;
  readonly authors: readonly string[];
  /** The tracked action items (with their status), oldest first. */
  readonly actionItems?: readonly ActionItem[];
  /** People who may be named in the text, for the blameless check. */
  readonly names?: readonly string[];
}

export interface Postmortem {
  readonly markdown: string;
  readonly blame: readonly BlameFinding[];
}

interface TemplateText {
  readonly firstWhy: string;
  readonly questions: readonly string[];
  readonly suggested: readonly { action: string; category: ActionCategory }[];
}

const TEMPLATES: Readonly<Record<PostmortemTemplate, TemplateText>> = {
  default: {
    firstWhy: 'Why did the service fail?',
    questions: ['What changed shortly before the incident began?', 'Which signal first showed the problem?'],
    suggested: [
      { action: 'Add an alert on the first signal that showed the problem', category: 'Detect' },
      { action: 'Write or update the runbook for this failure mode', category: 'Respond' },
    ],
  },
  deployment: {
    firstWhy: 'Why did the deployment break the service?',
    questions: [
      'Which change was deployed, and how was it tested before production?',
      'Was there a canary or staged rollout, and why did it not stop the change?',
      'How long did the rollback take, and what slowed it down?',
    ],
    suggested: [
      { action: 'Add a canary stage that halts on error-rate or latency regressions', category: 'Prevent' },
      { action: 'Alert on error-rate change within 10 minutes of every deployment', category: 'Detect' },
      { action: 'Make rollback one documented command', category: 'Respond' },
      { action: 'Add the missing test or review check to the release checklist', category: 'Process' },
    ],
  },
  'resource-exhaustion': {
    firstWhy: 'Why did the resource (connections, memory, disk, quota) run out?',
    questions: [
      'Which resource ran out, and how close to its limit did it run before?',
      'Was the growth gradual (capacity) or sudden (a leak, a retry storm, a traffic spike)?',
      'Which limit or back-pressure would have contained it?',
    ],
    suggested: [
      {
        action: 'Set limits and back-pressure so one consumer cannot exhaust the resource',
        category: 'Prevent',
      },
      {
        action: 'Alert at 80% of the resource’s limit, with a forecast of when it runs out',
        category: 'Detect',
      },
      { action: 'Document how to add capacity or shed load quickly', category: 'Respond' },
      { action: 'Review capacity monthly against growth', category: 'Process' },
    ],
  },
  'dependency-failure': {
    firstWhy: 'Why did the failure of the dependency take the service down with it?',
    questions: [
      'Which dependency failed, and did its provider announce it?',
      'How did timeouts, retries and circuit breakers behave?',
      'Which fallback or degraded mode could have served users meanwhile?',
    ],
    suggested: [
      {
        action: 'Add timeouts, bounded retries with jitter and a circuit breaker to the dependency calls',
        category: 'Prevent',
      },
      {
        action: 'Alert on the dependency’s error rate and latency as seen from our side',
        category: 'Detect',
      },
      { action: 'Provide a degraded mode or fallback and document when to switch', category: 'Respond' },
      { action: 'Subscribe to the provider’s status page and escalation path', category: 'Process' },
    ],
  },
};

/**
 * Text inside a line: every line break (LF, CR or CRLF — CommonMark ends a line at each) becomes a
 * space, so a title or a note cannot start a heading, a list or a table row of its own.
 */
const inline = (text: string) => text.replace(/\r\n|\r|\n/g, ' ');
/** Text in a table cell: inline, and `|` escaped. */
const cell = (text: string) => inline(text).replace(/\|/g, '\\|');

/**
 * `HH:MM`, or `YYYY-MM-DD HH:MM` with the date, in the zone; with `offset`, its UTC offset then
 * (the hour a clock goes back happens twice: only the offset tells the two apart).
 */
function localTime(iso: string, timeZone: string, withDate = false, offset = false): string {
  const time = clockTime(iso, timeZone);
  const shown = withDate ? `${localDay(iso, timeZone)} ${time}` : time;
  return offset ? `${shown} ${utcOffset(iso, timeZone)}` : shown;
}

/**
 * How the document names its times' zone: the zone and its one UTC offset over every time shown
 * (`Europe/Berlin, UTC+01:00`), or the zone alone when a clock change falls among them — then each
 * time carries its own offset (`perTime`).
 */
function zoneLabel(times: readonly (string | undefined)[], timeZone: string) {
  const offsets = new Set(times.flatMap((t) => (t === undefined ? [] : [utcOffset(t, timeZone)])));
  const [only] = offsets;
  return offsets.size <= 1 && only !== undefined
    ? { label: `${timeZone}, ${only}`, perTime: false }
    : { label: timeZone, perTime: offsets.size > 1 };
}

const between = (from: string | undefined, to: string | undefined) =>
  from && to ? formatDuration(Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000)) : undefined;

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** `Incident commander: alice`, … for the roles that are held, in the practice's order. */
function roleLines(incident: Incident): string[] {
  const lines: string[] = [];
  for (const role of ROLES) {
    if (role === 'sme') {
      if (incident.smes.length > 0)
        lines.push(
          `- ${capitalized(ROLE_NAMES.sme)}${incident.smes.length > 1 ? 's' : ''}: ${cell(incident.smes.join(', '))}`,
        );
      continue;
    }
    const person = incident.roles[role];
    if (person !== undefined) lines.push(`- ${capitalized(ROLE_NAMES[role])}: ${cell(person)}`);
  }
  return lines;
}

const sameAction = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The time to acknowledge against the MTTA target of the severity (docs/METRICS.md; a breach is at
 * or over it, as in the rollups): `well` within it, `poorly` when it missed it. A severity without
 * a target (SEV-3/4) has the time stated under what went well, as a fact.
 */
function acknowledgementLine(incident: Incident): { well?: string; poorly?: string } {
  const { detectedAt, acknowledgedAt } = incident;
  const took = between(detectedAt, acknowledgedAt);
  if (took === undefined || acknowledgedAt === undefined) return {};
  const said = `- The page was acknowledged ${took} after detection`;
  const target = TARGETS.mttaSeconds[incident.sev];
  if (target === undefined) return { well: `${said}.` };
  const against = `the ${formatDuration(target)} target for ${incident.sev}`;
  return Date.parse(acknowledgedAt) - Date.parse(detectedAt) >= target * 1000
    ? { poorly: `${said}, missing ${against}.` }
    : { well: `${said}, within ${against}.` };
}

/** `once`, `2 times`. */
const times = (n: number) => (n === 1 ? 'once' : `${n} times`);

/**
 * What the escalation record says went poorly, from the timeline: the steps escalation took
 * beyond the first page before the first acknowledgement (the `escalations` counter also counts
 * restarts, which page level 1 again), and the ack timeouts (or snoozes) that restarted it after one.
 */
function escalationLines(incident: Incident, timeline: readonly TimelineEntry[]): string[] {
  const ackedAt = incident.acknowledgedAt;
  const steps = timeline.filter(
    (e) => isEscalationStep(e) && (ackedAt === undefined || e.at <= ackedAt),
  ).length;
  const ends = timeline.filter((e) => e.type === 'ACK_TIMEOUT');
  const snoozes = ends.filter((e) => e.text.startsWith(SNOOZE_ENDED)).length;
  const lapses = ends.length - snoozes;
  return [
    ...(steps === 0
      ? []
      : ackedAt === undefined
        ? [`- Escalation was needed ${times(steps)} and nobody acknowledged.`]
        : [`- Escalation was needed ${times(steps)} before someone acknowledged.`]),
    ...(lapses === 0
      ? []
      : [`- It stayed unresolved past the ack timeout ${times(lapses)}: escalation restarted from level 1.`]),
    ...(snoozes === 0
      ? []
      : [`- It stayed unresolved past its snooze ${times(snoozes)}: escalation restarted from level 1.`]),
  ];
}

export function generatePostmortem(input: PostmortemInput): Postmortem {
  const { incident, timeZone } = input;
  const template = TEMPLATES[input.template];
  const severity = incident.sev;
  const date = localDay(incident.detectedAt, timeZone);
  // Only a resolved incident has a final resolution time (monitoring may still reopen it).
  const resolvedAt = incident.status === 'resolved' ? incident.resolvedAt : undefined;
  const detect = between(incident.startedAt, incident.detectedAt);
  const acknowledge = between(incident.detectedAt, incident.acknowledgedAt);
  const mitigate = between(incident.startedAt, incident.mitigatedAt);
  const resolve = between(incident.startedAt, resolvedAt);
  const impactEnd = incident.mitigatedAt ?? resolvedAt;
  const customerImpact = between(incident.startedAt, impactEnd);
  const roles = roleLines(incident);
  // What the declaration said of users and business; placeholders for what it did not.
  const declared = incident.impact === undefined ? {} : impactText(incident.impact);
  const tracked = input.actionItems ?? [];
  const items: { action: string; owner: string; deadline: string; category: string; status: string }[] = [
    ...tracked,
    ...template.suggested
      .filter((s) => !tracked.some((t) => sameAction(t.action, s.action)))
      .map((s) => ({ ...s, owner: '_owner_', deadline: '_date_', status: 'suggested' })),
  ];
  // Times alone while the timeline stays on the incident's day; with the date once it leaves it
  // (a 24-hour incident would otherwise read 23:45, then 23:50 the next day).
  const timelineDates = input.timeline.some((e) => localDay(e.at, timeZone) !== date);
  const zone = zoneLabel(
    [
      incident.startedAt,
      incident.detectedAt,
      incident.mitigatedAt,
      resolvedAt,
      incident.postmortemDoneAt,
      ...input.timeline.map((e) => e.at),
    ],
    timeZone,
  );
  const at = (iso: string, withDate = true) => localTime(iso, timeZone, withDate, zone.perTime);
  const detected = `it was detected after ${detect}${acknowledge ? ` and acknowledged ${acknowledge} later` : ''}`;
  const acknowledged = acknowledgementLine(incident);
  // Once published (postmortem publish), the document says so instead of "Draft".
  const published =
    incident.postmortemDoneAt === undefined
      ? undefined
      : `Published ${at(incident.postmortemDoneAt)}${incident.postmortemDoneBy ? ` by ${cell(incident.postmortemDoneBy)}` : ''}`;

  const lines = [
    `# Postmortem: ${inline(incident.title)}`,
    '',
    '| | |',
    '|---|---|',
    `| Incident | ${incident.id} |`,
    `| Service | ${cell(input.serviceName)} (${incident.service}) |`,
    `| Severity | ${severity} |`,
    `| Date | ${date} (${timeZone}) |`,
    `| Authors | ${input.authors.length > 0 ? cell(input.authors.join(', ')) : '_authors_'} |`,
    `| Status | ${published ?? 'Draft'} |`,
    '',
    '> Blameless: this document is about how the system and the process behaved, not about who did',
    '> what. Ask "what allowed this?", never "who did this?".',
    '',
    '## Executive Summary',
    '',
    `On ${date}, ${inline(input.serviceName)} had a ${severity} incident: ${inline(incident.title)}.`,
    resolvedAt
      ? `It lasted ${resolve} from its start until it was resolved; ${detected}.`
      : incident.status === 'monitoring'
        ? `It is being monitored before it is resolved; ${detected}.`
        : `It is not resolved yet; ${detected}.`,
    ...(mitigate ? [`Customer impact was mitigated ${mitigate} after it began.`] : []),
    '_Add one sentence on the impact on users and how service was restored._',
    '',
    ...(roles.length > 0 ? ['Roles:', '', ...roles, ''] : []),
    '## Impact',
    '',
    `- Started ${at(incident.startedAt)}, detected ${at(incident.detectedAt)}${incident.mitigatedAt ? `, mitigated ${at(incident.mitigatedAt)}` : ''}${resolvedAt ? `, resolved ${at(resolvedAt)}` : ''} (${zone.label})`,
    `- Time to detect: ${detect ?? '—'}; to acknowledge: ${acknowledge ?? '—'}; ${mitigate ? `to mitigate: ${mitigate}; ` : ''}to resolve: ${resolve ?? '— (open)'}`,
    `- Customer impact: ${customerImpact === undefined ? '— (ongoing)' : `${customerImpact} (start to ${incident.mitigatedAt ? 'mitigation' : 'resolution'})`}`,
    `- Alerts: ${incident.alertCount}; escalations: ${incident.escalations}; pages sent: ${incident.pagesSent}`,
    `- User impact: ${declared.users ? `${declared.users} (declared)` : '_share of users affected, failed requests, support tickets_'}`,
    `- Business impact: ${declared.business ? `${declared.business} (declared)` : '_revenue, SLA credits, reputation_'}`,
    '- Technical metrics: _error rate, latency, saturation at peak_',
    '',
    '## Timeline',
    '',
    `| Time (${zone.label}) | Event |`,
    '|---|---|',
    ...input.timeline.map(
      (e) => `| ${at(e.at, timelineDates)} | [${e.type}] ${cell(e.text)} (@${cell(e.who)}) |`,
    ),
    '',
    '## Root Cause Analysis (Five Whys)',
    '',
    ...template.questions.map((q) => `- ${q}`),
    '',
    `1. ${template.firstWhy} → _answer_`,
    '2. Why did that happen? → _answer_',
    '3. Why did that happen? → _answer_',
    '4. Why did that happen? → _answer_',
    '5. Why did that happen? → _answer_',
    '',
    '## What Went Well',
    '',
    ...(acknowledged.well ? [acknowledged.well] : []),
    '- _What helped: alerts, runbooks, tools, coordination_',
    '',
    '## What Went Poorly',
    '',
    ...(acknowledged.poorly ? [acknowledged.poorly] : []),
    ...escalationLines(incident, input.timeline),
    ...(incident.reopens > 0
      ? [`- It recurred during monitoring and was reopened ${times(incident.reopens)}.`]
      : []),
    '- _What got in the way: missing signals, unclear ownership, slow tooling (describe the system, not people)_',
    '',
    '## Action Items',
    '',
    '| Action | Owner | Deadline | Category | Status |',
    '|---|---|---|---|---|',
    ...items.map(
      (a) => `| ${cell(a.action)} | ${cell(a.owner)} | ${a.deadline} | ${a.category} | ${a.status} |`,
    ),
    '',
    '## Lessons Learned',
    '',
    '- _Key takeaways for the organization_',
    '',
  ];
  const draft = lines.join('\n');
  const blame = checkBlameless(draft, input.names ?? []);
  const advisory = [
    '## Blameless check (advisory)',
    '',
    ...(blame.length === 0
      ? ['No blaming language found.']
      : blame.map((f) => `- “${f.sentence}” ${f.reason}. Try: ${f.suggestion}`)),
    '',
  ];
  return { markdown: `${draft}\n${advisory.join('\n')}`, blame };
}
