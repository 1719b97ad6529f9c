import { describe, expect, it } from 'vitest';
import type { Incident, TimelineEntry } from '#core/incident';
import { generatePostmortem, POSTMORTEM_TEMPLATES } from '#core/postmortem';

const incident: Incident = {
  id: 'k7f3q2abcdxy',
  service: 'checkout',
  dedupKey: 'checkout-5xx',
  occurrence: 0,
  status: 'resolved',
  title: 'Checkout 5xx above 5%',
  source: 'alb-1',
  severity: 'critical',
  origin: 'events-v2',
  startedAt: '2026-11-26T13:20:00.000Z',
  detectedAt: '2026-11-26T13:23:00.000Z',
  acknowledgedAt: '2026-11-26T13:27:00.000Z',
  acknowledgedBy: 'alice',
  resolvedAt: '2026-11-26T14:05:00.000Z',
  resolvedBy: 'alice',
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
      '- Started 2026-11-26 14:20, detected 2026-11-26 14:23, resolved 2026-11-26 15:05 (Europe/Berlin)',
    );
    expect(impact).toContain('- Time to detect: 3m; to acknowledge: 4m; to resolve: 45m');
    expect(impact).toContain('- Alerts: 14; escalations: 1; pages sent: 3');
    expect(section(generate('default').markdown, 'Executive Summary')).toContain(
      'It lasted 45m from its start until it was resolved; it was detected after 3m and acknowledged 4m later.',
    );
  });

  it('renders the timeline as a table in the configured zone, escaping pipes', () => {
    const table = section(generate('default').markdown, 'Timeline');
    expect(table).toContain('| Time (Europe/Berlin) | Event |');
    expect(table).toContain('| 14:23 | [OPENED] Incident opened: Checkout 5xx above 5% (@events-v2) |');
    expect(table).toContain('| 15:05 | [RESOLVED] Resolved \\| rollback done (@alice) |');
  });

  it('suggests the action items of each template, one per category', () => {
    const deployment = section(generate('deployment').markdown, 'Action Items');
    expect(deployment).toContain(
      '| Add a canary stage that halts on error-rate or latency regressions | _owner_ | _date_ | Prevent | open |',
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

  it('uses the tracked action items when there are some', () => {
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
