import { describe, expect, it } from 'vitest';
import {
  CHECKLIST,
  type ChecklistActionItem,
  type ChecklistView,
  checklistView,
  isChecklistItem,
  renderChecklist,
  TICKED_BY_KLAXON,
  tickedByKlaxon,
} from '#core/checklists';
import type { Incident, TimelineEntry, TimelineType } from '#core/incident';
import { UNCOMMANDED } from '../support/incident.ts';

const DETECTED = '2026-11-26T13:23:00.000Z';

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'k7f3q2abcdxy',
    service: 'checkout',
    dedupKey: 'checkout-5xx',
    occurrence: 0,
    status: 'triggered',
    title: 'Checkout 5xx above 5%',
    source: 'alb-1',
    severity: 'critical',
    sev: 'SEV-1',
    origin: 'events-v2',
    startedAt: '2026-11-26T13:20:00.000Z',
    detectedAt: DETECTED,
    ...UNCOMMANDED,
    alertCount: 1,
    lastAlertAt: DETECTED,
    version: 1,
    generation: 1,
    step: 0,
    stepAt: DETECTED,
    escalation: 'active',
    reminderSeq: 0,
    escalations: 0,
    pagesSent: 1,
    excluded: false,
    ...overrides,
  };
}

let seq = 0;
function entry(type: TimelineType, at: string, who: string, text = type.toLowerCase()): TimelineEntry {
  seq++;
  return { id: `e${seq}`, incidentId: 'k7f3q2abcdxy', at, type, who, text };
}

const minutes = (n: number, from = DETECTED) => new Date(Date.parse(from) + n * 60_000);
const iso = (n: number, from = DETECTED) => minutes(n, from).toISOString();

function view(
  i: Incident,
  options: { timeline?: TimelineEntry[]; actionItems?: ChecklistActionItem[]; now?: Date } = {},
): ChecklistView {
  return checklistView({
    incident: i,
    timeline: options.timeline ?? [entry('OPENED', DETECTED, 'events-v2')],
    actionItems: options.actionItems ?? [],
    now: options.now ?? minutes(1),
  });
}

const item = (v: ChecklistView, id: string) => {
  const found = v.phases.flatMap((p) => p.items).find((i) => i.id === id);
  if (found === undefined) throw new Error(`no item ${id}`);
  return found;
};
const phase = (v: ChecklistView, name: string) => v.phases.find((p) => p.phase === name);
const doneIds = (v: ChecklistView) =>
  v.phases.flatMap((p) => p.items.filter((i) => i.done).map((i) => i.id)).sort();

describe('the checklist definitions', () => {
  it('has every item of the practice, per phase, with stable ids', () => {
    expect(CHECKLIST.map((p) => [p.phase, p.items.map((i) => i.id)])).toEqual([
      [
        'initial-response',
        [
          'acknowledge',
          'assess-severity',
          'create-ticket',
          'notify-stakeholders',
          'assign-ic',
          'war-room',
          'timeline',
        ],
      ],
      [
        'mitigation',
        [
          'recent-changes',
          'mitigation-strategy',
          'implement-mitigation',
          'verify-impact',
          'status-updates',
          'document',
        ],
      ],
      [
        'resolution',
        [
          'error-rates',
          'latency',
          'customer-reports',
          'stable-15',
          'health-checks',
          'dependencies',
          'final-notification',
          'schedule-postmortem',
        ],
      ],
      [
        'postmortem',
        [
          'compile-timeline',
          'gather-metrics',
          'draft-postmortem',
          'postmortem-meeting',
          'action-items',
          'publish-postmortem',
          'follow-up',
        ],
      ],
    ]);
    expect(CHECKLIST.map((p) => p.title)).toEqual([
      'Initial Response (0-5 min)',
      'Mitigation (5-60 min)',
      'Resolution',
      'Postmortem (24-72 hours)',
    ]);
    const texts = Object.fromEntries(CHECKLIST.flatMap((p) => p.items.map((i) => [i.id, i.text])));
    expect(texts['war-room']).toBe('Create war room (#incident-YYYYMMDD-description)');
    expect(texts['status-updates']).toBe('Provide updates every 15-30 minutes');
    expect(texts['schedule-postmortem']).toBe('Schedule postmortem (24-48 hours)');
    expect(texts['postmortem-meeting']).toBe('Conduct postmortem meeting (blameless)');
  });

  it('recognises item ids', () => {
    expect(isChecklistItem('acknowledge')).toBe(true);
    expect(isChecklistItem('follow-up')).toBe(true);
    expect(isChecklistItem('Acknowledge')).toBe(false);
    expect(isChecklistItem('toString')).toBe(false);
    expect(isChecklistItem('')).toBe(false);
  });
});

describe('phase due times and overdue', () => {
  it('Initial Response is due 5 minutes after detection, Mitigation 60; the others wait for resolution', () => {
    const v = view(incident());
    expect(v.phases.map((p) => [p.phase, p.dueAt])).toEqual([
      ['initial-response', '2026-11-26T13:28:00.000Z'],
      ['mitigation', '2026-11-26T14:23:00.000Z'],
      ['resolution', undefined],
      ['postmortem', undefined],
    ]);
    expect(v.overdue).toBe(0);
  });

  it('exactly at the due time is not overdue; a millisecond later is', () => {
    const open = incident();
    expect(view(open, { now: minutes(5) }).overdue).toBe(0);
    const late = view(open, { now: new Date(minutes(5).getTime() + 1) });
    // 7 items, of which create-ticket is ticked by Klaxon from the start.
    expect(late.overdue).toBe(6);
    expect(
      phase(late, 'initial-response')
        ?.items.filter((i) => i.overdue)
        .map((i) => i.id),
    ).toEqual(['acknowledge', 'assess-severity', 'notify-stakeholders', 'assign-ic', 'war-room', 'timeline']);
    expect(phase(late, 'mitigation')?.items.some((i) => i.overdue)).toBe(false);
    expect(view(open, { now: minutes(60) }).overdue).toBe(6);
    expect(view(open, { now: new Date(minutes(60).getTime() + 1) }).overdue).toBe(6 + 6);
  });

  it('Resolution is due when resolved, Postmortem 72 hours later; neither before resolution', () => {
    const resolvedAt = iso(40);
    const resolved = incident({ status: 'resolved', resolvedAt, sev: 'SEV-1' });
    const v = view(resolved, { now: minutes(40) });
    expect(phase(v, 'resolution')?.dueAt).toBe(resolvedAt);
    expect(phase(v, 'postmortem')?.dueAt).toBe('2026-11-29T14:03:00.000Z');
    // At the resolution itself nothing of Resolution is overdue yet.
    expect(phase(v, 'resolution')?.items.some((i) => i.overdue)).toBe(false);
    const after = view(resolved, { now: new Date(minutes(40).getTime() + 1) });
    // 8 items, of which schedule-postmortem is ticked by Klaxon (a SEV-1 requires a postmortem),
    // and stable-15 can no longer be (only an open incident can show 15 quiet minutes).
    expect(phase(after, 'resolution')?.items.filter((i) => i.overdue)).toHaveLength(6);
    expect(phase(after, 'postmortem')?.items.some((i) => i.overdue)).toBe(false);

    const at72h = minutes(40 + 72 * 60);
    expect(phase(view(resolved, { now: at72h }), 'postmortem')?.items.some((i) => i.overdue)).toBe(false);
    const past72h = view(resolved, { now: new Date(at72h.getTime() + 1) });
    expect(phase(past72h, 'postmortem')?.items.filter((i) => i.overdue)).toHaveLength(7);
    // Less the four only an open incident can tick (acknowledge, assign-ic, mitigation, stable-15).
    expect(past72h.overdue).toBe(6 + 6 + 7 + 7 - 4);

    // Monitoring: service restored, not resolved yet — no Resolution or Postmortem due time.
    const monitoring = incident({ status: 'monitoring', resolvedAt, monitoringSince: resolvedAt });
    const m = view(monitoring, { now: minutes(50) });
    expect(phase(m, 'resolution')?.dueAt).toBeUndefined();
    expect(phase(m, 'postmortem')?.dueAt).toBeUndefined();
    expect(m.overdue).toBe(6);
  });

  it('a postmortem that is not required (SEV-3, SEV-4) has no due time: optional, never overdue', () => {
    for (const sev of ['SEV-3', 'SEV-4'] as const) {
      const resolved = incident({ status: 'resolved', resolvedAt: iso(40), sev });
      const v = view(resolved, { now: minutes(40 + 365 * 24 * 60) });
      expect(phase(v, 'postmortem')?.dueAt).toBeUndefined();
      expect(phase(v, 'postmortem')?.optional).toBe(true);
      // Still there to tick, none of it overdue; the other phases are as for any incident.
      expect(phase(v, 'postmortem')?.items).toHaveLength(7);
      expect(phase(v, 'postmortem')?.items.some((i) => i.overdue)).toBe(false);
      expect(v.overdue).toBe(5 + 6 + 8 - 4);
      expect(phase(v, 'resolution')?.optional).toBeUndefined();
      expect(renderChecklist(v, 'UTC')).toContain('\nPostmortem (24-72 hours) — optional\n');
    }
    // SEV-1/SEV-2 require one: not optional.
    for (const sev of ['SEV-1', 'SEV-2'] as const)
      expect(phase(view(incident({ sev })), 'postmortem')?.optional).toBeUndefined();
  });

  it("a SEV-3/4 resolved while its service's error budget was exhausted requires one: due 72 hours on", () => {
    for (const sev of ['SEV-3', 'SEV-4'] as const) {
      const resolved = incident({
        status: 'resolved',
        resolvedAt: iso(40),
        sev,
        postmortemBudgetMonth: '2026-11',
      });
      const v = view(resolved, { now: minutes(40 + 73 * 60) });
      expect(phase(v, 'postmortem')?.optional).toBeUndefined();
      expect(phase(v, 'postmortem')?.dueAt).toBe(iso(40 + 72 * 60));
      expect(item(v, 'schedule-postmortem')).toMatchObject({ done: true, by: 'klaxon' });
      expect(item(v, 'publish-postmortem')).toMatchObject({ done: false, overdue: true });
    }
  });
});

describe('automatic ticks', () => {
  it('a new incident has its ticket from the start, by klaxon; its war room is only named (a person creates it)', () => {
    const v = view(incident());
    expect(doneIds(v)).toEqual(['create-ticket']);
    expect(item(v, 'create-ticket')).toEqual({
      id: 'create-ticket',
      text: 'Create incident ticket',
      done: true,
      at: DETECTED,
      by: 'klaxon',
      auto: true,
      overdue: false,
    });
    expect(item(v, 'war-room')).toMatchObject({ done: false, auto: false });
    expect(tickedByKlaxon('war-room', 'inc1')).toBeUndefined();
    expect(item(v, 'acknowledge')).toEqual({
      id: 'acknowledge',
      text: 'Acknowledge alert',
      done: false,
      auto: false,
      overdue: false,
    });
  });

  it('acknowledge ← the acknowledgement', () => {
    const v = view(incident({ status: 'acknowledged', acknowledgedAt: iso(2), acknowledgedBy: 'alice' }));
    expect(item(v, 'acknowledge')).toMatchObject({ done: true, at: iso(2), by: 'alice', auto: true });
  });

  it('assign-ic ← the first role assignment or handoff naming the incident commander', () => {
    const timeline = [
      entry('OPENED', DETECTED, 'events-v2'),
      entry('ROLE_ASSIGNED', iso(1), 'alice', 'bob is tech lead'),
      entry('ROLE_ASSIGNED', iso(2), 'alice', 'alice is incident commander'),
      entry('HANDOFF', iso(30), 'alice', 'Handoff to carol'),
    ];
    const v = view(incident({ roles: { commander: 'carol', 'tech-lead': 'bob' } }), { timeline });
    expect(item(v, 'assign-ic')).toMatchObject({ done: true, at: iso(2), by: 'alice', auto: true });

    // A handoff counts too (it always names the incoming commander).
    const handoff = view(incident({ roles: { commander: 'carol' } }), {
      timeline: [entry('OPENED', DETECTED, 'events-v2'), entry('HANDOFF', iso(3), 'alice', 'to carol')],
    });
    expect(item(handoff, 'assign-ic')).toMatchObject({ done: true, at: iso(3), by: 'alice', auto: true });

    // The commander is set but no entry says when: as of detection.
    const untold = view(incident({ roles: { commander: 'alice' } }));
    expect(item(untold, 'assign-ic')).toMatchObject({ done: true, at: DETECTED, by: 'alice', auto: true });

    // Other roles only, or a commander entry without a commander now: not ticked.
    expect(item(view(incident({ roles: { 'tech-lead': 'bob' } }), { timeline }), 'assign-ic').done).toBe(
      false,
    );
  });

  it('assess-severity ← the first severity change', () => {
    const timeline = [
      entry('OPENED', DETECTED, 'events-v2'),
      entry('SEVERITY_CHANGED', iso(4), 'alice', 'SEV-1 → SEV-2: 20% of users'),
      entry('SEVERITY_CHANGED', iso(20), 'bob', 'SEV-2 → SEV-1'),
    ];
    const v = view(incident(), { timeline });
    expect(item(v, 'assess-severity')).toMatchObject({ done: true, at: iso(4), by: 'alice', auto: true });
    expect(item(view(incident()), 'assess-severity').done).toBe(false);
  });

  it('assess-severity ← the declaration, for an incident declared by a person', () => {
    // What createIncident opens: origin manual, the declarer as source, "Declared SEV-x" at detection.
    const declared = incident({ origin: 'manual', source: 'alice', severity: 'error', sev: 'SEV-2' });
    const timeline = [
      entry('OPENED', DETECTED, 'alice'),
      entry('DECISION', DETECTED, 'alice', 'Declared SEV-2: checkout errors for EU users'),
    ];
    const v = view(declared, { timeline, now: minutes(10) });
    expect(item(v, 'assess-severity')).toMatchObject({
      done: true,
      at: DETECTED,
      by: 'alice',
      auto: true,
      overdue: false,
    });
    // A later change does not move it: the declaration was the first assessment.
    const changed = [...timeline, entry('SEVERITY_CHANGED', iso(20), 'bob', 'SEV-2 → SEV-1')];
    expect(item(view(declared, { timeline: changed }), 'assess-severity')).toMatchObject({
      at: DETECTED,
      by: 'alice',
    });
    // An alert's severity came from the source mapping: not assessed until a person changes it,
    // whatever a person writes on the timeline.
    const alerted = view(incident(), {
      timeline: [entry('OPENED', DETECTED, 'events-v2'), entry('DECISION', iso(1), 'bob', 'Declared SEV-1')],
      now: minutes(10),
    });
    expect(item(alerted, 'assess-severity')).toMatchObject({ done: false, overdue: true });
  });

  it('timeline ← the first entry written by a person (system entries do not count)', () => {
    const timeline = [
      entry('OPENED', DETECTED, 'events-v2'),
      entry('ACKNOWLEDGED', iso(1), 'alice'),
      entry('ESCALATED', iso(2), 'klaxon'),
      entry('OBSERVATION', iso(3), 'bob', 'Error rate 35%'),
      entry('DECISION', iso(4), 'alice', 'Rollback'),
    ];
    expect(item(view(incident(), { timeline }), 'timeline')).toMatchObject({
      done: true,
      at: iso(3),
      by: 'bob',
      auto: true,
    });
    expect(item(view(incident(), { timeline: timeline.slice(0, 3) }), 'timeline').done).toBe(false);
    for (const type of ['ACTION', 'DECISION', 'QUESTION', 'ANSWER', 'UPDATE'] as const)
      expect(item(view(incident(), { timeline: [entry(type, iso(9), 'dan')] }), 'timeline').done).toBe(true);
  });

  it('status-updates ← the first status update (UPDATE); other entries do not count, a person may tick it', () => {
    const timeline = [
      entry('OPENED', DETECTED, 'events-v2'),
      entry('OBSERVATION', iso(3), 'bob', 'Error rate 35%'),
      entry('REMINDED', iso(16), 'klaxon', 'Status update reminder 1'),
      entry('UPDATE', iso(18), 'dave', 'Checkout failing for EU users; rollback under way'),
      entry('UPDATE', iso(33), 'dave', 'Rolled back; error rate falling'),
    ];
    expect(item(view(incident(), { timeline }), 'status-updates')).toMatchObject({
      done: true,
      at: iso(18),
      by: 'dave',
      auto: true,
    });
    expect(item(view(incident(), { timeline: timeline.slice(0, 3) }), 'status-updates').done).toBe(false);
    const told = incident({ checklist: { 'status-updates': { at: iso(20), by: 'dave' } } });
    expect(item(view(told, { timeline: timeline.slice(0, 3) }), 'status-updates')).toMatchObject({
      done: true,
      auto: false,
    });
  });

  it('implement-mitigation ← the mitigation', () => {
    const v = view(incident({ status: 'mitigated', mitigatedAt: iso(25), mitigatedBy: 'bob' }));
    expect(item(v, 'implement-mitigation')).toMatchObject({ done: true, at: iso(25), by: 'bob', auto: true });
    expect(item(view(incident()), 'implement-mitigation').done).toBe(false);
  });

  describe('stable-15 ← a quiet monitoring period of 15+ minutes, at its end', () => {
    const requested = iso(40);
    /** Resolved at the quiet end of a monitoring period of `period` minutes (lifecycle's finishMonitoring). */
    const quiet = (period: number, since = requested, overrides: Partial<Incident> = {}) =>
      incident({
        status: 'resolved',
        sev: 'SEV-3',
        monitoringSince: since,
        monitoringBy: 'alice',
        monitoringUntil: iso(period, since),
        resolvedAt: since,
        resolvedBy: 'alice',
        closedAt: iso(period, since),
        monitored: true,
        ...overrides,
      });
    const timeline = [
      entry('OPENED', DETECTED, 'events-v2'),
      entry('MONITORING', requested, 'alice'),
      entry('RESOLVED', iso(55), 'alice'),
    ];

    it('ticked at the end of the period (when stability was shown), not at the resolve request', () => {
      expect(item(view(quiet(15), { timeline }), 'stable-15')).toMatchObject({
        done: true,
        at: iso(55),
        by: 'klaxon',
        auto: true,
      });
      expect(item(view(quiet(30), { timeline }), 'stable-15')).toMatchObject({ done: true, at: iso(70) });
    });

    it('not ticked for "resolve now" during monitoring (one minute in)', () => {
      const now = incident({
        status: 'resolved',
        sev: 'SEV-3',
        monitoringSince: requested,
        monitoringUntil: iso(55),
        resolvedAt: requested,
        resolvedBy: 'bob',
        closedAt: iso(41),
      });
      const v = view(now, { timeline: [...timeline.slice(0, 2), entry('RESOLVED', iso(41), 'bob')] });
      expect(item(v, 'stable-15').done).toBe(false);
    });

    it('not ticked when the monitoring period is under 15 minutes', () => {
      expect(item(view(quiet(5), { timeline }), 'stable-15').done).toBe(false);
      expect(item(view(quiet(14.99), { timeline }), 'stable-15').done).toBe(false);
    });

    it('not ticked when a REOPENED entry follows the monitoring period', () => {
      const reopened = [...timeline.slice(0, 2), entry('REOPENED', iso(45), 'klaxon')];
      // Reopened, then resolved at once: the only MONITORING entry is the reopened period's.
      const resolvedNow = incident({
        status: 'resolved',
        sev: 'SEV-3',
        resolvedAt: iso(60),
        closedAt: iso(60),
      });
      expect(item(view(resolvedNow, { timeline: reopened }), 'stable-15').done).toBe(false);
      // Whatever the incident says, a reopen after the period began means it did not hold.
      expect(item(view(quiet(15), { timeline: reopened }), 'stable-15').done).toBe(false);
    });

    it('a reopen before a later quiet period does not count against it', () => {
      const v = view(quiet(15, iso(60)), {
        timeline: [
          ...timeline.slice(0, 2),
          entry('REOPENED', iso(45), 'klaxon'),
          entry('MONITORING', iso(60), 'alice'),
          entry('RESOLVED', iso(75), 'alice'),
        ],
      });
      expect(item(v, 'stable-15')).toMatchObject({ done: true, at: iso(75), by: 'klaxon', auto: true });
    });

    it('not ticked while monitoring, or when resolved without monitoring', () => {
      const monitoring = incident({
        status: 'monitoring',
        monitoringSince: requested,
        monitoringUntil: iso(55),
        resolvedAt: requested,
      });
      expect(
        item(view(monitoring, { timeline: timeline.slice(0, 2), now: minutes(60) }), 'stable-15').done,
      ).toBe(false);
      const atOnce = incident({
        status: 'resolved',
        sev: 'SEV-3',
        resolvedAt: requested,
        closedAt: requested,
      });
      expect(item(view(atOnce), 'stable-15').done).toBe(false);
    });
  });

  it('schedule-postmortem ← resolved, when the severity requires a postmortem (SEV-1, SEV-2)', () => {
    for (const sev of ['SEV-1', 'SEV-2'] as const)
      expect(
        item(view(incident({ status: 'resolved', resolvedAt: iso(40), sev })), 'schedule-postmortem'),
      ).toMatchObject({ done: true, at: iso(40), by: 'klaxon', auto: true });
    for (const sev of ['SEV-3', 'SEV-4'] as const)
      expect(
        item(view(incident({ status: 'resolved', resolvedAt: iso(40), sev })), 'schedule-postmortem').done,
      ).toBe(false);
    const open = incident({ status: 'monitoring', resolvedAt: iso(40), monitoringSince: iso(40) });
    expect(item(view(open), 'schedule-postmortem').done).toBe(false);
  });

  it('action-items ← the first action item; follow-up ← all of them done, at the last, by who did it', () => {
    const first: ChecklistActionItem = { createdAt: iso(100), createdBy: 'alice', status: 'open' };
    const items: ChecklistActionItem[] = [
      { createdAt: iso(200), createdBy: 'bob', status: 'done', doneAt: iso(900), doneBy: 'carol' },
      first,
    ];
    const open = view(incident(), { actionItems: items });
    expect(item(open, 'action-items')).toMatchObject({ done: true, at: iso(100), by: 'alice', auto: true });
    expect(item(open, 'follow-up').done).toBe(false);

    const allDone = view(incident(), {
      actionItems: [items[0] as ChecklistActionItem, { ...first, status: 'done', doneAt: iso(700) }],
    });
    expect(item(allDone, 'follow-up')).toMatchObject({ done: true, at: iso(900), by: 'carol', auto: true });

    const none = view(incident());
    expect(item(none, 'action-items').done).toBe(false);
    expect(item(none, 'follow-up').done).toBe(false);
  });

  it('publish-postmortem ← the postmortem was published', () => {
    const v = view(
      incident({
        status: 'resolved',
        resolvedAt: iso(40),
        postmortemDoneAt: iso(2000),
        postmortemDoneBy: 'carol',
      }),
    );
    expect(item(v, 'publish-postmortem')).toMatchObject({
      done: true,
      at: iso(2000),
      by: 'carol',
      auto: true,
    });
  });
});

describe("people's ticks", () => {
  it('a tick by a person marks the item done, not automatic, and never overdue', () => {
    const ticked = incident({ checklist: { 'notify-stakeholders': { at: iso(3), by: 'dan' } } });
    const v = view(ticked, { now: minutes(10) });
    expect(item(v, 'notify-stakeholders')).toEqual({
      id: 'notify-stakeholders',
      text: 'Notify stakeholders',
      done: true,
      at: iso(3),
      by: 'dan',
      auto: false,
      overdue: false,
    });
    expect(v.overdue).toBe(5);
  });

  it('what Klaxon knows wins over a person’s tick; unknown ids are ignored', () => {
    const v = view(
      incident({
        acknowledgedAt: iso(2),
        acknowledgedBy: 'alice',
        checklist: {
          acknowledge: { at: iso(1), by: 'bob' },
          'not-an-item': { at: iso(1), by: 'bob' },
        },
      }),
    );
    expect(item(v, 'acknowledge')).toMatchObject({ done: true, at: iso(2), by: 'alice', auto: true });
    expect(v.phases.flatMap((p) => p.items)).toHaveLength(28);
  });

  it('a person’s tick of an item only Klaxon ticks is not shown: the record says it is not done', () => {
    // Ticks stored before such ticks were refused: a triggered incident is not acknowledged, a
    // postmortem without postmortemDoneAt is not published, whoever ticked it.
    const ticks = Object.fromEntries(
      Object.keys(TICKED_BY_KLAXON).map((id) => [id, { at: iso(1), by: 'bob' }]),
    );
    const v = view(incident({ status: 'resolved', resolvedAt: iso(40), checklist: ticks }), {
      now: minutes(41),
    });
    for (const id of ['acknowledge', 'assign-ic', 'implement-mitigation', 'stable-15', 'action-items'])
      expect(item(v, id), id).toMatchObject({ done: false });
    expect(item(v, 'publish-postmortem')).toMatchObject({ done: false });
    expect(item(v, 'follow-up')).toMatchObject({ done: false });
    expect(item(v, 'create-ticket')).toMatchObject({ done: true, by: 'klaxon', auto: true });
    // Where Klaxon only records that something happened, a person's tick still counts.
    const assessed = view(incident({ checklist: { 'assess-severity': { at: iso(1), by: 'bob' } } }));
    expect(item(assessed, 'assess-severity')).toMatchObject({ done: true, by: 'bob', auto: false });
  });
});

describe('items only an open incident can tick', () => {
  it('are not overdue once it is resolved without them (nothing can tick them any more)', () => {
    // The source resolved it before anyone acknowledged, with "resolve now": no acknowledgement,
    // no mitigation, no quiet 15 minutes — a day later, none of those is overdue.
    const resolved = incident({ status: 'resolved', resolvedAt: iso(30) });
    const v = view(resolved, { now: minutes(24 * 60) });
    for (const id of ['acknowledge', 'assign-ic', 'implement-mitigation', 'stable-15'])
      expect(item(v, id), id).toMatchObject({ done: false, overdue: false });
    // What can still be done after the resolution still can be late.
    expect(item(v, 'notify-stakeholders')).toMatchObject({ done: false, overdue: true });
    // While it is open they are overdue as before.
    const open = view(incident(), { now: minutes(70) });
    expect(item(open, 'acknowledge')).toMatchObject({ done: false, overdue: true });
  });
});

describe('renderChecklist', () => {
  it('renders each phase with its due time, ticks with who and when, and OVERDUE', () => {
    const v = view(
      incident({
        status: 'acknowledged',
        acknowledgedAt: iso(2),
        acknowledgedBy: 'alice',
        checklist: { 'notify-stakeholders': { at: iso(3), by: 'dan' } },
      }),
      { now: minutes(10) },
    );
    const text = renderChecklist(v, 'Europe/Berlin');
    expect(text.split('\n').slice(0, 9)).toEqual([
      'Initial Response (0-5 min) — due 14:28',
      '  [x] Acknowledge alert (alice 14:25, auto)',
      '  [ ] Assess severity and impact OVERDUE',
      '  [x] Create incident ticket (klaxon 14:23, auto)',
      '  [x] Notify stakeholders (dan 14:26)',
      '  [ ] Assign Incident Commander OVERDUE',
      '  [ ] Create war room (#incident-YYYYMMDD-description) OVERDUE',
      '  [ ] Begin timeline documentation OVERDUE',
      '',
    ]);
    expect(text).toContain('Mitigation (5-60 min) — due 15:23\n  [ ] Identify recent changes');
    expect(text).toContain('\nResolution\n  [ ] Error rates back to baseline\n');
    expect(text).toContain('\nPostmortem (24-72 hours)\n');
    expect(text.endsWith('\n4 overdue.\n')).toBe(true);
  });

  it('puts the date in front of times on another day than the incident’s', () => {
    const v = view(incident({ status: 'resolved', resolvedAt: iso(40), postmortemDoneAt: iso(48 * 60) }), {
      now: minutes(40),
    });
    const text = renderChecklist(v, 'UTC');
    expect(text).toContain('Postmortem (24-72 hours) — due 2026-11-29 14:03');
    expect(text).toContain('  [x] Publish postmortem internally (2026-11-28 13:23, auto)');
    expect(text).toContain('Resolution — due 14:03');
    expect(text.endsWith('\n')).toBe(true);
  });
});
