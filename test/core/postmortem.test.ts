import { describe, expect, it } from 'vitest';
import type { Incident, TimelineEntry } from '#core/incident';
import { type ActionItem, generatePostmortem, POSTMORTEM_TEMPLATES } from '#core/postmortem';
import { UNCOMMANDED } from '../support/incident.ts';

const incident: Incident = {
  id: 'k7f3q2abcdxy',
  service: 'checkout',
  dedupKey: 'checkout-5xx',
  occurrence: 0,
  status: 'resolved',
  title: 'Checkout 5xx above 5%',
  source: 'alb-1',
  severity: 'critical',
  sev: 'SEV-1',
  origin: 'events-v2',
  startedAt: '2026-11-26T13:20:00.000Z',
  detectedAt: '2026-11-26T13:23:00.000Z',
  acknowledgedAt: '2026-11-26T13:27:00.000Z',
  acknowledgedBy: 'alice',
  resolvedAt: '2026-11-26T14:05:00.000Z',
  resolvedBy: 'alice',
  ...UNCOMMANDED,
  alertCount: 14,
  lastAlertAt: '2026-11-26T13:50:00.000Z',
  version: 3,
  generation: 1,
  step: 1,
  stepAt: '2026-11-26T13:28:00.000Z',
  escalation: 'active',
  reminderSeq: 2,
  escalations: 1,
  pagesSent: 3,
  excluded: false,
};

const timeline: TimelineEntry[] = [
  {
    id: 'a',
    incidentId: incident.id,
    at: '2026-11-26T13:23:00.000Z',
    type: 'OPENED',
    who: 'events-v2',
    text: 'Incident opened: Checkout 5xx above 5%',
  },
  {
    id: 'b',
    incidentId: incident.id,
    at: '2026-11-26T13:27:00.000Z',
    type: 'ACKNOWLEDGED',
    who: 'alice',
    text: 'Acknowledged by Alice via link',
  },
  {
    id: 'c',
    incidentId: incident.id,
    at: '2026-11-26T14:05:00.000Z',
    type: 'RESOLVED',
    who: 'alice',
    text: 'Resolved | rollback done',
  },
];

const generate = (template: (typeof POSTMORTEM_TEMPLATES)[number]) =>
  generatePostmortem({
    incident,
    serviceName: 'Checkout API',
    timeline,
    timeZone: 'Europe/Berlin',
    template,
    authors: ['alice', 'bob'],
    names: ['Alice', 'Bob'],
  });

/** The Markdown under one `## heading`, up to the next. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const rest = markdown.slice(start + heading.length + 4);
  const end = rest.indexOf('\n## ');
  return end < 0 ? rest : rest.slice(0, end);
}

describe('postmortem generation', () => {
  it.each(POSTMORTEM_TEMPLATES)('template %s has every section of the practice, in order', (template) => {
    const { markdown } = generate(template);
    const headings = markdown.split('\n').filter((l) => l.startsWith('## '));
    expect(headings).toEqual([
      '## Executive Summary',
      '## Impact',
      '## Timeline',
      '## Root Cause Analysis (Five Whys)',
      '## What Went Well',
      '## What Went Poorly',
      '## Action Items',
      '## Lessons Learned',
      '## Blameless check (advisory)',
    ]);
    expect(markdown.startsWith('# Postmortem: Checkout 5xx above 5%\n')).toBe(true);
    expect(section(markdown, 'Root Cause Analysis (Five Whys)').match(/^\d\. /gm)).toHaveLength(5);
  });

  it('computes the impact durations from the incident', () => {
    const impact = section(generate('default').markdown, 'Impact');
    expect(impact).toContain(
      '- Started 2026-11-26 14:20, detected 2026-11-26 14:23, resolved 2026-11-26 15:05 (Europe/Berlin, UTC+01:00)',
    );
    expect(impact).toContain('- Time to detect: 3m; to acknowledge: 4m; to resolve: 45m');
    expect(impact).toContain('- Alerts: 14; escalations: 1; pages sent: 3');
    expect(section(generate('default').markdown, 'Executive Summary')).toContain(
      'It lasted 45m from its start until it was resolved; it was detected after 3m and acknowledged 4m later.',
    );
  });

  it('the impact declared with the incident fills its Impact lines; without one they stay placeholders', () => {
    const declared = generatePostmortem({
      incident: {
        ...incident,
        impact: { usersAffectedPercent: 60, revenuePerHour: 12000, slaRisk: 'maybe' },
      },
      serviceName: 'Checkout API',
      timeline,
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: [],
    });
    const impact = section(declared.markdown, 'Impact');
    expect(impact).toContain('- User impact: 60% of users affected (declared)');
    expect(impact).toContain('- Business impact: $12,000 revenue per hour; SLA at risk: maybe (declared)');
    expect(impact).not.toContain('_share of users affected');
    expect(impact).not.toContain('_revenue, SLA credits');
    // Only what was declared: the rest stays a placeholder.
    const usersOnly = section(
      generatePostmortem({
        incident: { ...incident, impact: { usersAffectedPercent: 5 } },
        serviceName: 'Checkout API',
        timeline,
        timeZone: 'Europe/Berlin',
        template: 'default',
        authors: [],
      }).markdown,
      'Impact',
    );
    expect(usersOnly).toContain('- User impact: 5% of users affected (declared)');
    expect(usersOnly).toContain('- Business impact: _revenue, SLA credits, reputation_');
    const none = section(generate('default').markdown, 'Impact');
    expect(none).toContain('- User impact: _share of users affected, failed requests, support tickets_');
    expect(none).toContain('- Business impact: _revenue, SLA credits, reputation_');
  });

  it('renders the timeline as a table in the configured zone, escaping pipes', () => {
    const table = section(generate('default').markdown, 'Timeline');
    expect(table).toContain('| Time (Europe/Berlin, UTC+01:00) | Event |');
    expect(table).toContain('| 14:23 | [OPENED] Incident opened: Checkout 5xx above 5% (@events-v2) |');
    expect(table).toContain('| 15:05 | [RESOLVED] Resolved \\| rollback done (@alice) |');
  });

  it('suggests the action items of each template, one per category', () => {
    const deployment = section(generate('deployment').markdown, 'Action Items');
    expect(deployment).toContain(
      '| Add a canary stage that halts on error-rate or latency regressions | _owner_ | _date_ | Prevent | suggested |',
    );
    for (const category of ['Prevent', 'Detect', 'Respond', 'Process'])
      expect(deployment).toContain(`| ${category} |`);
    expect(section(generate('resource-exhaustion').markdown, 'Root Cause Analysis (Five Whys)')).toContain(
      '1. Why did the resource (connections, memory, disk, quota) run out? → _answer_',
    );
    expect(section(generate('dependency-failure').markdown, 'Root Cause Analysis (Five Whys)')).toContain(
      '- How did timeouts, retries and circuit breakers behave?',
    );
  });

  it('lists the tracked action items first, then the template’s suggestions', () => {
    const { markdown } = generatePostmortem({
      incident,
      serviceName: 'Checkout API',
      timeline,
      timeZone: 'UTC',
      template: 'default',
      authors: [],
      actionItems: [
        {
          action: 'Alert on 5xx > 1%',
          owner: 'bob',
          deadline: '2026-12-10',
          category: 'Detect',
          status: 'done',
        },
      ],
    });
    expect(section(markdown, 'Action Items').trim().split('\n').slice(2)).toEqual([
      '| Alert on 5xx > 1% | bob | 2026-12-10 | Detect | done |',
      '| Add an alert on the first signal that showed the problem | _owner_ | _date_ | Detect | suggested |',
      '| Write or update the runbook for this failure mode | _owner_ | _date_ | Respond | suggested |',
    ]);
  });

  it('is blameless as generated, and the check flags blame in the text', () => {
    expect(generate('deployment').blame).toEqual([]);
    expect(section(generate('default').markdown, 'Blameless check (advisory)').trim()).toBe(
      'No blaming language found.',
    );
    const blaming = generatePostmortem({
      incident,
      serviceName: 'Checkout API',
      timeline: [
        ...timeline,
        { ...timeline[0], id: 'd', type: 'RECORDED', text: 'Bob deployed bad code' } as TimelineEntry,
      ],
      timeZone: 'UTC',
      template: 'default',
      authors: ['alice'],
      names: ['Bob'],
    });
    expect(blaming.blame.map((f) => f.phrase)).toEqual(['Bob deployed bad code']);
    expect(section(blaming.markdown, 'Blameless check (advisory)')).toContain(
      'names a person as the cause of a bad change',
    );
  });
});

/** An incident run with the full incident command: re-assessed, mitigated, roles, a handoff. */
const commanded: Incident = {
  ...incident,
  sev: 'SEV-2',
  mitigatedAt: '2026-11-26T13:50:00.000Z',
  mitigatedBy: 'alice',
  severityChanges: 1,
  roles: { commander: 'carol', 'tech-lead': 'alice', scribe: 'dan' },
  smes: ['erin', 'frank'],
};

const commandTimeline: TimelineEntry[] = [
  timeline[0] as TimelineEntry,
  timeline[1] as TimelineEntry,
  {
    id: 'd',
    incidentId: incident.id,
    at: '2026-11-26T13:30:00.000Z',
    type: 'SEVERITY_CHANGED',
    who: 'bob',
    text: 'SEV-1 → SEV-2: about 20% of users affected',
  },
  {
    id: 'e',
    incidentId: incident.id,
    at: '2026-11-26T13:40:00.000Z',
    type: 'HANDOFF',
    who: 'bob',
    text: 'Incident commander handed off to carol\nStatus: error rate falling',
  },
  {
    id: 'f',
    incidentId: incident.id,
    at: '2026-11-26T13:50:00.000Z',
    type: 'MITIGATED',
    who: 'alice',
    text: 'Mitigated: rollback done',
  },
  timeline[2] as TimelineEntry,
];

const tracked: ActionItem[] = [
  { action: 'Alert on 5xx > 1%', owner: 'bob', deadline: '2026-12-10', category: 'Detect', status: 'done' },
  {
    action: 'Fix the retry storm',
    owner: 'alice',
    deadline: '2026-12-20',
    category: 'Prevent',
    status: 'open',
  },
];

const SUGGESTIONS: Readonly<Record<(typeof POSTMORTEM_TEMPLATES)[number], number>> = {
  default: 2,
  deployment: 4,
  'resource-exhaustion': 4,
  'dependency-failure': 4,
};

const FIRST_WHY: Readonly<Record<(typeof POSTMORTEM_TEMPLATES)[number], string>> = {
  default: '1. Why did the service fail? → _answer_',
  deployment: '1. Why did the deployment break the service? → _answer_',
  'resource-exhaustion': '1. Why did the resource (connections, memory, disk, quota) run out? → _answer_',
  'dependency-failure': '1. Why did the failure of the dependency take the service down with it? → _answer_',
};

const generateCommanded = (
  template: (typeof POSTMORTEM_TEMPLATES)[number],
  overrides: Partial<Incident> = {},
  actionItems: readonly ActionItem[] = tracked,
) =>
  generatePostmortem({
    incident: { ...commanded, ...overrides },
    serviceName: 'Checkout API',
    timeline: commandTimeline,
    timeZone: 'Europe/Berlin',
    template,
    authors: ['carol'],
    actionItems,
    names: ['Alice', 'Bob', 'Carol', 'Dan', 'Erin', 'Frank'],
  });

describe('postmortem from the incident lifecycle and its tracked action items', () => {
  it.each(POSTMORTEM_TEMPLATES)('template %s: every section, one by one', (template) => {
    const { markdown, blame } = generateCommanded(template);

    // Severity: the incident's own (re-assessed), not the sender's.
    expect(markdown).toContain('| Severity | SEV-2 |');
    const summary = section(markdown, 'Executive Summary');
    expect(summary).toContain('On 2026-11-26, Checkout API had a SEV-2 incident: Checkout 5xx above 5%.');
    expect(summary).toContain(
      'It lasted 45m from its start until it was resolved; it was detected after 3m and acknowledged 4m later.',
    );
    expect(summary).toContain('Customer impact was mitigated 30m after it began.');
    expect(summary).toContain(
      [
        'Roles:',
        '',
        '- Incident commander: carol',
        '- Tech lead: alice',
        '- Scribe: dan',
        '- Subject-matter experts: erin, frank',
      ].join('\n'),
    );

    const impact = section(markdown, 'Impact');
    expect(impact).toContain(
      '- Started 2026-11-26 14:20, detected 2026-11-26 14:23, mitigated 2026-11-26 14:50, resolved 2026-11-26 15:05 (Europe/Berlin, UTC+01:00)',
    );
    expect(impact).toContain('- Time to detect: 3m; to acknowledge: 4m; to mitigate: 30m; to resolve: 45m');
    expect(impact).toContain('- Customer impact: 30m (start to mitigation)');

    const rows = section(markdown, 'Timeline').trim().split('\n').slice(2);
    expect(rows).toEqual([
      '| 14:23 | [OPENED] Incident opened: Checkout 5xx above 5% (@events-v2) |',
      '| 14:27 | [ACKNOWLEDGED] Acknowledged by Alice via link (@alice) |',
      '| 14:30 | [SEVERITY_CHANGED] SEV-1 → SEV-2: about 20% of users affected (@bob) |',
      '| 14:40 | [HANDOFF] Incident commander handed off to carol Status: error rate falling (@bob) |',
      '| 14:50 | [MITIGATED] Mitigated: rollback done (@alice) |',
      '| 15:05 | [RESOLVED] Resolved \\| rollback done (@alice) |',
    ]);

    expect(section(markdown, 'Root Cause Analysis (Five Whys)')).toContain(FIRST_WHY[template]);

    const actions = section(markdown, 'Action Items').trim().split('\n');
    expect(actions.slice(0, 4)).toEqual([
      '| Action | Owner | Deadline | Category | Status |',
      '|---|---|---|---|---|',
      '| Alert on 5xx > 1% | bob | 2026-12-10 | Detect | done |',
      '| Fix the retry storm | alice | 2026-12-20 | Prevent | open |',
    ]);
    const suggested = actions.slice(4);
    expect(suggested).toHaveLength(SUGGESTIONS[template]);
    for (const row of suggested)
      expect(row).toMatch(/^\| [^|]+ \| _owner_ \| _date_ \| \w+ \| suggested \|$/);

    // Naming the people in their roles is not blame.
    expect(blame).toEqual([]);
  });

  it('customer impact runs to the resolution when there was no mitigation, and is ongoing while open', () => {
    const unmitigated = generateCommanded('default', { mitigatedAt: undefined, mitigatedBy: undefined });
    const impact = section(unmitigated.markdown, 'Impact');
    expect(impact).toContain('- Time to detect: 3m; to acknowledge: 4m; to resolve: 45m');
    expect(impact).toContain('- Customer impact: 45m (start to resolution)');
    expect(section(unmitigated.markdown, 'Executive Summary')).not.toContain('mitigated');

    const open = generateCommanded('default', {
      status: 'acknowledged',
      mitigatedAt: undefined,
      resolvedAt: undefined,
      resolvedBy: undefined,
    });
    expect(section(open.markdown, 'Impact')).toContain(
      '- Time to detect: 3m; to acknowledge: 4m; to resolve: — (open)\n- Customer impact: — (ongoing)',
    );
    expect(section(open.markdown, 'Executive Summary')).toContain(
      'It is not resolved yet; it was detected after 3m and acknowledged 4m later.',
    );

    // Mitigated but not resolved: the impact ended at the mitigation.
    const mitigated = generateCommanded('default', { status: 'mitigated', resolvedAt: undefined });
    expect(section(mitigated.markdown, 'Impact')).toContain(
      '- Time to detect: 3m; to acknowledge: 4m; to mitigate: 30m; to resolve: — (open)\n- Customer impact: 30m (start to mitigation)',
    );
  });

  it('a monitoring incident is not reported as resolved yet', () => {
    const { markdown } = generateCommanded('default', {
      status: 'monitoring',
      monitoringSince: '2026-11-26T14:05:00.000Z',
    });
    expect(section(markdown, 'Executive Summary')).toContain(
      'It is being monitored before it is resolved; it was detected after 3m and acknowledged 4m later.',
    );
    const impact = section(markdown, 'Impact');
    expect(impact).toContain(
      '- Started 2026-11-26 14:20, detected 2026-11-26 14:23, mitigated 2026-11-26 14:50 (Europe/Berlin, UTC+01:00)',
    );
    expect(impact).toContain('to resolve: — (open)');
  });

  it('lists only the roles that are held, and no roles block without any', () => {
    const one = generateCommanded('default', { roles: { 'comms-lead': 'gina' }, smes: ['erin'] });
    expect(section(one.markdown, 'Executive Summary')).toContain(
      'Roles:\n\n- Comms lead: gina\n- Subject-matter expert: erin\n',
    );
    const none = generateCommanded('default', { roles: {}, smes: [] });
    expect(section(none.markdown, 'Executive Summary')).not.toContain('Roles:');
  });

  it('does not repeat a suggestion that is already tracked', () => {
    const adopted: ActionItem = {
      action: 'make rollback one documented command',
      owner: 'alice',
      deadline: '2026-12-01',
      category: 'Respond',
      status: 'open',
    };
    const actions = section(generateCommanded('deployment', {}, [adopted]).markdown, 'Action Items');
    expect(actions).toContain(
      '| make rollback one documented command | alice | 2026-12-01 | Respond | open |',
    );
    expect(actions).not.toContain('| Make rollback one documented command |');
    expect(actions.match(/\| suggested \|/g)).toHaveLength(3);
  });

  it('says when the incident recurred during monitoring', () => {
    expect(section(generateCommanded('default', { reopens: 2 }).markdown, 'What Went Poorly')).toContain(
      '- It recurred during monitoring and was reopened 2 times.',
    );
    expect(section(generateCommanded('default', { reopens: 1 }).markdown, 'What Went Poorly')).toContain(
      '- It recurred during monitoring and was reopened once.',
    );
    expect(section(generateCommanded('default').markdown, 'What Went Poorly')).not.toContain('reopened');
  });

  it('counts the escalation steps before the first acknowledgement from the timeline, not the counter', () => {
    const at = (minute: number) => new Date(Date.parse(incident.detectedAt) + minute * 60_000).toISOString();
    const step = (
      minute: number,
      text: string,
      type: TimelineEntry['type'] = 'ESCALATED',
    ): TimelineEntry => ({
      id: `s${minute}`,
      incidentId: incident.id,
      at: at(minute),
      type,
      who: 'klaxon',
      text,
    });
    // The counter (9) also counts restarts: the draft does not go by it.
    const poorly = (counted: Incident, entries: TimelineEntry[]) =>
      section(
        generatePostmortem({
          incident: { ...counted, escalations: 9 },
          serviceName: 'Checkout API',
          timeline: entries,
          timeZone: 'UTC',
          template: 'default',
          authors: [],
        }).markdown,
        'What Went Poorly',
      )
        .split('\n')
        .filter((l) => /escalat/i.test(l));
    // Two steps, then the acknowledgement (13:27 = minute 4); a step after it does not count, nor
    // does escalation resuming after a maintenance window (level 1 again).
    const entries = [
      step(1, 'Escalation resumed: maintenance window ended'),
      step(2, 'Escalation step 1'),
      step(3, 'Escalation step 2 (recorded by step 3: its own record had failed)'),
      step(30, 'Escalation step 1'),
    ];
    expect(poorly(incident, entries)).toEqual([
      '- Escalation was needed 2 times before someone acknowledged.',
    ]);
    expect(poorly(incident, entries.slice(0, 2))).toEqual([
      '- Escalation was needed once before someone acknowledged.',
    ]);
    const { acknowledgedAt: _a, acknowledgedBy: _b, ...unacknowledged } = incident;
    expect(poorly(unacknowledged, entries)).toEqual([
      '- Escalation was needed 3 times and nobody acknowledged.',
    ]);
    expect(poorly(incident, [])).toEqual([]);
    expect(
      poorly(incident, [
        step(34, 'Acknowledged but unresolved past the ack timeout: escalation restarted', 'ACK_TIMEOUT'),
        step(64, 'Acknowledged but unresolved past the ack timeout: escalation restarted', 'ACK_TIMEOUT'),
      ]),
    ).toEqual(['- It stayed unresolved past the ack timeout 2 times: escalation restarted from level 1.']);
    // A snooze's end is a lapse of its own kind: said as such, not as the ack timeout.
    expect(
      poorly(incident, [
        step(34, 'Acknowledged but unresolved past the ack timeout: escalation restarted', 'ACK_TIMEOUT'),
        step(200, 'Still unresolved when the snooze by Alice ended: escalation restarted', 'ACK_TIMEOUT'),
      ]),
    ).toEqual([
      '- It stayed unresolved past the ack timeout once: escalation restarted from level 1.',
      '- It stayed unresolved past its snooze once: escalation restarted from level 1.',
    ]);
  });

  it('is a draft until the postmortem is published, then says when and by whom', () => {
    expect(generate('default').markdown).toContain('| Status | Draft |');
    const { markdown } = generatePostmortem({
      incident: { ...incident, postmortemDoneAt: '2026-11-27T09:30:00.000Z', postmortemDoneBy: 'carol' },
      serviceName: 'Checkout API',
      timeline,
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: [],
    });
    expect(markdown).toContain('| Status | Published 2026-11-27 10:30 by carol |');
    expect(markdown).not.toContain('| Status | Draft |');
  });

  it('an acknowledgement within the MTTA target went well; one that missed it went poorly', () => {
    const ackAfter = (sev: Incident['sev'], minutes: number) => {
      const { markdown, blame } = generatePostmortem({
        incident: {
          ...incident,
          sev,
          acknowledgedAt: new Date(Date.parse(incident.detectedAt) + minutes * 60_000).toISOString(),
        },
        serviceName: 'Checkout API',
        timeline,
        timeZone: 'Europe/Berlin',
        template: 'default',
        authors: [],
      });
      const lines = (heading: string) =>
        section(markdown, heading)
          .split('\n')
          .filter((l) => l.includes('acknowledged'));
      expect(blame).toEqual([]);
      return { well: lines('What Went Well'), poorly: lines('What Went Poorly') };
    };
    // SEV-1: 5 minutes (a breach is at or over the target, as in the metrics).
    expect(ackAfter('SEV-1', 4)).toEqual({
      well: ['- The page was acknowledged 4m after detection, within the 5m target for SEV-1.'],
      poorly: [],
    });
    expect(ackAfter('SEV-1', 5)).toEqual({
      well: [],
      poorly: ['- The page was acknowledged 5m after detection, missing the 5m target for SEV-1.'],
    });
    // SEV-2: 15 minutes.
    expect(ackAfter('SEV-2', 12).poorly).toEqual([]);
    expect(ackAfter('SEV-2', 20).poorly).toEqual([
      '- The page was acknowledged 20m after detection, missing the 15m target for SEV-2.',
    ]);
    // SEV-3 has no target: the time is only stated.
    expect(ackAfter('SEV-3', 40)).toEqual({
      well: ['- The page was acknowledged 40m after detection.'],
      poorly: [],
    });
  });

  it('keeps line breaks in the title and the text from starting headings or splitting table rows', () => {
    const { markdown } = generatePostmortem({
      incident: { ...incident, title: 'Checkout down\r\n## Lessons Learned\rinjected\nhere' },
      serviceName: 'Checkout API',
      timeline: [
        { ...(timeline[0] as TimelineEntry), text: 'Note\r| 99:99 | [FAKE] row |' },
        { ...(timeline[1] as TimelineEntry), who: 'alice\r\nbob' },
      ],
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: ['alice\rbob'],
    });
    const lines = markdown.split(/\r\n|\r|\n/);
    expect(lines[0]).toBe('# Postmortem: Checkout down ## Lessons Learned injected here');
    expect(lines.filter((l) => l === '## Lessons Learned')).toHaveLength(1);
    expect(section(markdown, 'Executive Summary')).toContain(
      'On 2026-11-26, Checkout API had a SEV-1 incident: Checkout down ## Lessons Learned injected here.',
    );
    expect(markdown).toContain('| Authors | alice bob |');
    expect(markdown).not.toContain('\r');
    expect(section(markdown, 'Timeline').trim().split('\n').slice(2)).toEqual([
      '| 14:23 | [OPENED] Note \\| 99:99 \\| [FAKE] row \\| (@events-v2) |',
      '| 14:27 | [ACKNOWLEDGED] Acknowledged by Alice via link (@alice bob) |',
    ]);
  });

  /** One of the timeline's entries, at another time, type and text. */
  const entry = (id: string, at: string, type: string, text: string): TimelineEntry => ({
    ...(timeline[0] as TimelineEntry),
    id,
    at,
    type: type as TimelineEntry['type'],
    text,
  });

  it('dates the timeline rows when the timeline leaves the incident’s day', () => {
    // Detected 23:45 in Berlin, resolved 24 hours later: times alone would read 23:45 … 23:50.
    const { markdown } = generatePostmortem({
      incident: {
        ...incident,
        startedAt: '2026-11-26T22:40:00.000Z',
        detectedAt: '2026-11-26T22:45:00.000Z',
        acknowledgedAt: '2026-11-26T22:50:00.000Z',
        resolvedAt: '2026-11-27T22:50:00.000Z',
      },
      serviceName: 'Checkout API',
      timeline: [
        entry('a', '2026-11-26T22:45:00.000Z', 'OPENED', 'Incident opened'),
        entry('b', '2026-11-26T22:50:00.000Z', 'ACKNOWLEDGED', 'Acknowledged'),
        entry('c', '2026-11-27T22:50:00.000Z', 'RESOLVED', 'Resolved'),
      ],
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: [],
    });
    expect(markdown).toContain('| Date | 2026-11-26 (Europe/Berlin) |');
    expect(section(markdown, 'Timeline').trim().split('\n').slice(2)).toEqual([
      '| 2026-11-26 23:45 | [OPENED] Incident opened (@events-v2) |',
      '| 2026-11-26 23:50 | [ACKNOWLEDGED] Acknowledged (@events-v2) |',
      '| 2026-11-27 23:50 | [RESOLVED] Resolved (@events-v2) |',
    ]);
  });

  it('gives each time its UTC offset when the clocks go back during the incident (02:30 happens twice)', () => {
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET. 00:30 and 01:30 UTC both read 02:30.
    const { markdown } = generatePostmortem({
      incident: {
        ...incident,
        startedAt: '2026-10-25T00:25:00.000Z',
        detectedAt: '2026-10-25T00:30:00.000Z',
        acknowledgedAt: '2026-10-25T00:35:00.000Z',
        mitigatedAt: undefined,
        resolvedAt: '2026-10-25T01:30:00.000Z',
      },
      serviceName: 'Checkout API',
      timeline: [
        entry('a', '2026-10-25T00:30:00.000Z', 'OPENED', 'Incident opened'),
        entry('b', '2026-10-25T01:30:00.000Z', 'RESOLVED', 'Resolved'),
      ],
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: [],
    });
    expect(section(markdown, 'Timeline').trim().split('\n').slice(0, 4)).toEqual([
      '| Time (Europe/Berlin) | Event |',
      '|---|---|',
      '| 02:30 UTC+02:00 | [OPENED] Incident opened (@events-v2) |',
      '| 02:30 UTC+01:00 | [RESOLVED] Resolved (@events-v2) |',
    ]);
    expect(markdown).toContain(
      '- Started 2026-10-25 02:25 UTC+02:00, detected 2026-10-25 02:30 UTC+02:00, resolved 2026-10-25 02:30 UTC+01:00 (Europe/Berlin)',
    );
  });
});
