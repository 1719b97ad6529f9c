import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionItemFindings,
  compare,
  formatDuration,
  type GroupSummary,
  overdueActionItems,
  type PeriodSummary,
  recommendations,
  summarizeActionItems,
  summarizePeriod,
  worstServices,
} from '#core/analysis';
import {
  dayBounds,
  daysBetween,
  type IncidentFacts,
  incidentDay,
  type Rollup,
  rollupDay,
  round3,
  summarize,
  TARGETS,
} from '#core/metrics';
import { SEVERITIES, type Severity } from '#core/severity';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const iso = (t: number) => new Date(t).toISOString();

/**
 * What the nightly job does for every day from..to: each incident on its day, and for each
 * service the latest resolution, at or before its first start of the day, among its (counted)
 * incidents of other days.
 */
function rollPeriod(incidents: readonly IncidentFacts[], zone: string, from: string, to: string): Rollup[] {
  const counted = incidents.filter((i) => !i.excluded);
  return daysBetween(from, to).flatMap((day) => {
    const ofDay = incidents.filter((i) => incidentDay(i, zone) === day);
    const previousResolvedAt: Record<string, string | undefined> = {};
    for (const service of new Set(ofDay.filter((i) => !i.excluded).map((i) => i.service))) {
      const first = Math.min(
        ...ofDay.filter((i) => i.service === service && !i.excluded).map((i) => Date.parse(i.startedAt)),
      );
      const before = counted
        .filter((i) => i.service === service && !ofDay.includes(i))
        .filter((i) => i.resolvedAt !== undefined && Date.parse(i.resolvedAt) <= first)
        .map((i) => Date.parse(i.resolvedAt as string));
      previousResolvedAt[service] = before.length > 0 ? iso(Math.max(...before)) : undefined;
    }
    return rollupDay(day, zone, ofDay, previousResolvedAt);
  });
}

let nextId = 0;
/** One incident from durations (ms) after `start`; `ack`/`resolve` undefined = not yet. */
function incident(
  start: string,
  d: { detect?: number; ack?: number; resolve?: number },
  over: Partial<IncidentFacts> = {},
): IncidentFacts {
  const t = Date.parse(start);
  const detected = t + (d.detect ?? MIN);
  return {
    id: `i${nextId++}`,
    service: 'api',
    severity: 'SEV-2',
    status: d.resolve !== undefined ? 'resolved' : d.ack !== undefined ? 'acknowledged' : 'triggered',
    startedAt: iso(t),
    detectedAt: iso(detected),
    ...(d.ack !== undefined ? { acknowledgedAt: iso(detected + d.ack) } : {}),
    ...(d.resolve !== undefined ? { resolvedAt: iso(t + d.resolve) } : {}),
    excluded: false,
    escalations: 0,
    pagesSent: 0,
    ...over,
  };
}

function period(incidents: readonly IncidentFacts[], from: string, to: string, zone = 'UTC'): PeriodSummary {
  return summarizePeriod(rollPeriod(incidents, zone, from, to), from, to);
}

// ---------------------------------------------------------------------------------------------

describe('summarizePeriod', () => {
  const incidents = [
    incident('2026-05-01T10:00:00Z', { ack: 2 * MIN, resolve: MIN }),
    incident('2026-05-02T10:00:00Z', { ack: 2 * MIN, resolve: MIN }),
    incident('2026-05-02T11:00:00Z', { ack: 2 * MIN, resolve: MIN }),
    incident(
      '2026-05-02T12:00:00Z',
      { ack: 20 * MIN, resolve: 10 * MIN },
      { service: 'web', severity: 'SEV-1' },
    ),
    incident('2026-05-04T12:00:00Z', {}, { severity: 'SEV-3', excluded: true }),
  ];
  const summary = period(incidents, '2026-05-01', '2026-05-04');

  it('combines days from their samples: a true mean, not a mean of daily means', () => {
    // Daily MTTR means are 60 s and 240 s (mean of means 150); the four incidents average 195 s.
    expect(summary.mttr).toEqual({ count: 4, mean: 195, p50: 60, p90: 438 });
    expect(summary).toMatchObject({
      from: '2026-05-01',
      to: '2026-05-04',
      days: 4,
      incidents: 4,
      resolved: 4,
    });
    expect(summary.excluded).toBe(1);
    expect(summary.mtbf).toEqual(summarize([24 * 3600 - 60, 3600 - 60]));
  });

  it('splits by service and severity, in a fixed key order', () => {
    expect(Object.keys(summary.byService)).toEqual(['api', 'web']);
    expect(Object.keys(summary.bySeverity)).toEqual(['SEV-1', 'SEV-2', 'SEV-3']);
    expect(summary.byService.api).toMatchObject({ incidents: 3, mtta: { count: 3, mean: 120 }, excluded: 1 });
    expect(summary.bySeverity['SEV-1']).toMatchObject({
      incidents: 1,
      breaches: { mttd: 0, mtta: 1, mttr: 0 },
    });
    expect(summary.bySeverity['SEV-3']).toMatchObject({
      incidents: 0,
      excluded: 1,
      mttd: { count: 0, mean: null },
    });
    expect(summary.downtimeMinutes).toBe(13);
  });

  it('lists the days that have no rollup', () => {
    const rollups = rollPeriod(incidents, 'UTC', '2026-05-01', '2026-05-04').filter(
      (r) => r.day !== '2026-05-03',
    );
    expect(summarizePeriod(rollups, '2026-04-30', '2026-05-04').missingDays).toEqual([
      '2026-04-30',
      '2026-05-03',
    ]);
    expect(summary.missingDays).toEqual([]);
  });

  it('ignores rollups outside the period', () => {
    const rollups = rollPeriod(incidents, 'UTC', '2026-05-01', '2026-05-04');
    expect(summarizePeriod(rollups, '2026-05-02', '2026-05-02')).toMatchObject({ days: 1, incidents: 3 });
  });

  it('refuses two rollups of the same day and group, and a reversed period', () => {
    const rollups = rollPeriod(incidents, 'UTC', '2026-05-01', '2026-05-02');
    expect(() => summarizePeriod([...rollups, rollups[0] as Rollup], '2026-05-01', '2026-05-02')).toThrow(
      /two rollups/,
    );
    expect(() => summarizePeriod(rollups, '2026-05-02', '2026-05-01')).toThrow(RangeError);
  });

  it('of no rollups: zeros and nulls, every day missing', () => {
    const empty = summarizePeriod([], '2026-05-01', '2026-05-02');
    expect(empty).toMatchObject({
      incidents: 0,
      mtta: { count: 0, mean: null },
      bySeverity: {},
      byService: {},
    });
    expect(empty.missingDays).toEqual(['2026-05-01', '2026-05-02']);
  });
});

// ---------------------------------------------------------------------------------------------
// Exactness: combining daily rollups over a period equals summarizing the raw values.

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York'];
const SERVICES = ['api', 'web', 'db'];

const step = fc.record({
  severity: fc.constantFrom(...SEVERITIES),
  /** Seconds since the service's previous resolution (non-overlapping chains) or the previous start. */
  gap: fc.integer({ min: 0, max: 30 * 3600 }),
  duration: fc.integer({ min: 0, max: 20 * 3600 }),
  detect: fc.integer({ min: -90, max: 1200 }),
  ack: fc.option(fc.integer({ min: -30, max: 3 * 3600 }), { nil: undefined }),
  excluded: fc.boolean(),
  escalations: fc.nat(3),
  pagesSent: fc.nat(8),
  ms: fc.integer({ min: 0, max: 999 }),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

const scenario = fc.record({
  zone: fc.constantFrom(...ZONES),
  firstDay: fc.constantFrom('2026-03-27', '2026-05-10', '2026-10-23', '2026-12-30'),
  chains: fc.array(fc.array(step, { minLength: 1, maxLength: 8 }), {
    minLength: 1,
    maxLength: SERVICES.length,
  }),
  lastOpen: fc.boolean(),
  /** Overlapping: each start counts its gap from the previous start, not the previous resolution. */
  overlapping: fc.boolean(),
});

function incidentsOf(s: typeof scenario extends fc.Arbitrary<infer T> ? T : never): IncidentFacts[] {
  const base = dayBounds(s.firstDay, s.zone).start.getTime();
  return s.chains.flatMap((chain, c) => {
    let t = base;
    return chain.map((st: Step, i) => {
      const started = t + st.gap * SEC + st.ms;
      const open = s.lastOpen && i === chain.length - 1;
      const resolved = started + st.duration * SEC;
      t = s.overlapping ? started : resolved;
      const detected = started + st.detect * SEC;
      return {
        id: `${SERVICES[c]}-${i}`,
        service: SERVICES[c] as string,
        severity: st.severity,
        status: open ? 'triggered' : 'resolved',
        startedAt: iso(started),
        detectedAt: iso(detected),
        ...(st.ack !== undefined ? { acknowledgedAt: iso(detected + st.ack * SEC) } : {}),
        ...(open ? {} : { resolvedAt: iso(resolved) }),
        excluded: st.excluded,
        escalations: st.escalations,
        pagesSent: st.pagesSent,
      } satisfies IncidentFacts;
    });
  });
}

const secs = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from)) / SEC;

/** The group computed straight from incidents; `gaps` are the MTBF gaps ending at each of them. */
function reference(
  incidents: readonly IncidentFacts[],
  gaps: ReadonlyMap<string, number>,
): Partial<GroupSummary> {
  const mttd = incidents.map((i) => secs(i.startedAt, i.detectedAt));
  const acked = incidents.filter((i) => i.acknowledgedAt !== undefined);
  const resolved = incidents.filter((i) => i.resolvedAt !== undefined);
  const target = (t: Partial<Record<Severity, number>>, i: IncidentFacts) =>
    t[i.severity] ?? Number.POSITIVE_INFINITY;
  return {
    incidents: incidents.length,
    resolved: resolved.length,
    stillOpen: incidents.length - resolved.length,
    mttd: summarize(mttd),
    mtta: summarize(acked.map((i) => secs(i.detectedAt, i.acknowledgedAt as string))),
    mttr: summarize(resolved.map((i) => secs(i.startedAt, i.resolvedAt as string))),
    mtbf: summarize(incidents.flatMap((i) => (gaps.has(i.id) ? [gaps.get(i.id) as number] : []))),
    breaches: {
      mttd: mttd.filter((v) => v >= TARGETS.mttdSeconds).length,
      mtta: acked.filter(
        (i) => secs(i.detectedAt, i.acknowledgedAt as string) >= target(TARGETS.mttaSeconds, i),
      ).length,
      mttr: resolved.filter(
        (i) => secs(i.startedAt, i.resolvedAt as string) >= target(TARGETS.mttrSeconds, i),
      ).length,
    },
    escalations: incidents.reduce((s, i) => s + i.escalations, 0),
    pagesSent: incidents.reduce((s, i) => s + i.pagesSent, 0),
  };
}

/** MTBF over the whole period, per service: start − previous (non-excluded) incident's resolution. */
function chainGaps(incidents: readonly IncidentFacts[]): Map<string, number> {
  const gaps = new Map<string, number>();
  for (const service of SERVICES) {
    const chain = incidents
      .filter((i) => i.service === service)
      .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    chain.forEach((i, k) => {
      const prev = chain[k - 1]?.resolvedAt;
      if (prev !== undefined) gaps.set(i.id, secs(prev, i.startedAt));
    });
  }
  return gaps;
}

describe('combining daily rollups is exact', () => {
  it('period numbers equal those of the raw incidents, overall, per service and per severity', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const incidents = incidentsOf(s);
        const days = incidents.map((i) => incidentDay(i, s.zone)).sort();
        const from = days[0] as string;
        const to = days[days.length - 1] as string;
        const rollups = rollPeriod(incidents, s.zone, from, to);
        const summary = summarizePeriod(rollups, from, to);
        const counted = incidents.filter((i) => !i.excluded);
        // Without overlaps MTBF is a property of the whole period too; with them a gap depends on
        // what each day's rollup could see, so compare with the days' gaps put together.
        const gaps = s.overlapping
          ? new Map(
              rollups
                .filter((r) => r.service === '*')
                .flatMap((r) => r.samples.mtbf.map((v, k) => [`${r.day}${k}`, v])),
            )
          : chainGaps(counted);
        const expectGroup = (actual: GroupSummary | undefined, members: readonly IncidentFacts[]) => {
          const { mtbf, ...expected } = reference(members, gaps);
          expect(actual).toMatchObject(s.overlapping ? expected : { ...expected, mtbf });
        };
        expectGroup(summary, counted);
        if (s.overlapping) expect(summary.mtbf).toEqual(summarize([...gaps.values()]));
        expect(summary.excluded).toBe(incidents.length - counted.length);
        expect(summary.missingDays).toEqual([]);
        for (const service of Object.keys(summary.byService)) {
          expectGroup(
            summary.byService[service],
            counted.filter((i) => i.service === service),
          );
        }
        for (const severity of Object.keys(summary.bySeverity)) {
          expectGroup(
            summary.bySeverity[severity],
            counted.filter((i) => i.severity === severity),
          );
        }
        const downtime = counted
          .filter((i) => (i.severity === 'SEV-1' || i.severity === 'SEV-2') && i.resolvedAt !== undefined)
          .reduce((sum, i) => sum + secs(i.startedAt, i.resolvedAt as string) / 60, 0);
        expect(Math.abs(summary.downtimeMinutes - round3(downtime))).toBeLessThanOrEqual(
          0.0005 * (days.length + 2),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order of the rollups', () => {
    fc.assert(
      fc.property(
        scenario.chain((s) => {
          const incidents = incidentsOf(s);
          const days = incidents.map((i) => incidentDay(i, s.zone)).sort();
          const from = days[0] as string;
          const to = days[days.length - 1] as string;
          const rollups = rollPeriod(incidents, s.zone, from, to);
          return fc.tuple(
            fc.constant({ rollups, from, to }),
            fc.shuffledSubarray(rollups, { minLength: rollups.length }),
          );
        }),
        ([{ rollups, from, to }, shuffled]) => {
          const a = summarizePeriod(rollups, from, to);
          const b = summarizePeriod(shuffled, from, to);
          expect(b).toEqual(a);
          expect(recommendations(b, a)).toEqual(recommendations(a, a));
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('compare', () => {
  const previous = period(
    [
      incident('2026-04-01T10:00:00Z', { ack: 6 * MIN, resolve: HOUR }),
      incident('2026-04-02T10:00:00Z', { ack: 6 * MIN, resolve: HOUR }, { service: 'web' }),
    ],
    '2026-04-01',
    '2026-04-30',
  );
  const current = period(
    [
      incident('2026-05-01T10:00:00Z', { ack: 12 * MIN, resolve: HOUR }),
      incident(
        '2026-05-02T10:00:00Z',
        { ack: 3 * MIN, resolve: 2 * HOUR },
        { service: 'db', severity: 'SEV-1' },
      ),
    ],
    '2026-05-01',
    '2026-05-31',
  );
  const comparisons = compare(current, previous);

  it('covers every metric × scope in a fixed order: all, severities, services', () => {
    const scopes = ['all', 'severity:SEV-1', 'severity:SEV-2', 'service:api', 'service:db', 'service:web'];
    expect(comparisons.map((c) => `${c.metric} ${c.scope}`)).toEqual(
      ['mttd', 'mtta', 'mttr', 'mtbf'].flatMap((m) => scopes.map((s) => `${m} ${s}`)),
    );
  });

  it('compares means; change is current/previous − 1, null where a side is missing', () => {
    const find = (metric: string, scope: string) =>
      comparisons.find((c) => c.metric === metric && c.scope === scope);
    expect(find('mtta', 'service:api')).toEqual({
      metric: 'mtta',
      scope: 'service:api',
      previous: 360,
      current: 720,
      change: 1,
    });
    expect(find('mtta', 'all')).toMatchObject({ previous: 360, current: 450, change: 0.25 });
    expect(find('mttr', 'service:db')).toMatchObject({ previous: null, current: 7200, change: null });
    expect(find('mttr', 'service:web')).toMatchObject({ previous: 3600, current: null, change: null });
    expect(find('mttd', 'all')).toMatchObject({ previous: 60, current: 60, change: 0 });
  });

  it('0 → 0 is no change; 0 → something has no ratio', () => {
    const zero = period(
      [incident('2026-04-01T10:00:00Z', { detect: 0, ack: 0 })],
      '2026-04-01',
      '2026-04-01',
    );
    const some = period(
      [incident('2026-05-01T10:00:00Z', { detect: 0, ack: MIN })],
      '2026-05-01',
      '2026-05-01',
    );
    expect(compare(zero, zero).find((c) => c.metric === 'mtta' && c.scope === 'all')?.change).toBe(0);
    expect(compare(some, zero).find((c) => c.metric === 'mtta' && c.scope === 'all')?.change).toBeNull();
  });
});

describe('worstServices', () => {
  const summary = period(
    [
      incident('2026-05-01T10:00:00Z', { ack: 10 * MIN, resolve: HOUR }, { service: 'api' }),
      incident('2026-05-01T11:00:00Z', { ack: 20 * MIN, resolve: 3 * HOUR }, { service: 'web' }),
      incident('2026-05-01T12:00:00Z', { ack: 10 * MIN, resolve: 2 * HOUR }, { service: 'auth' }),
      incident('2026-05-01T13:00:00Z', {}, { service: 'db' }),
    ],
    '2026-05-01',
    '2026-05-01',
  );

  it('ranks by mean, highest first, ties by id, leaving out services without a value', () => {
    expect(worstServices(summary, 'mtta', 10)).toEqual([
      { service: 'web', value: 1200 },
      { service: 'api', value: 600 },
      { service: 'auth', value: 600 },
    ]);
    expect(worstServices(summary, 'mttr', 2)).toEqual([
      { service: 'web', value: 3 * 3600 },
      { service: 'auth', value: 2 * 3600 },
    ]);
    expect(worstServices(summary, 'mttr', 0)).toEqual([]);
  });
});

describe('formatDuration', () => {
  it('picks one or two units', () => {
    expect([45, 360, 780, 3600, 3900, 2 * 86_400 + 3 * 3600, 86_400].map(formatDuration)).toEqual([
      '45s',
      '6m',
      '13m',
      '1h',
      '1h 5m',
      '2d 3h',
      '1d',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('recommendations', () => {
  const sev2 = (start: string, ackMinutes: number) =>
    incident(start, { detect: MIN, ack: ackMinutes * MIN, resolve: HOUR }, { severity: 'SEV-2' });
  const april = period([sev2('2026-04-10T10:00:00Z', 6)], '2026-04-01', '2026-04-30');
  const may = period([sev2('2026-05-10T10:00:00Z', 13)], '2026-05-01', '2026-05-31');

  it('doubled SEV-2 MTTA: on-call and alert quality', () => {
    expect(recommendations(may, april)).toEqual([
      'MTTA for SEV-2 doubled (6m → 13m): check alert quality and on-call coverage.',
    ]);
  });

  it('nothing to say about a healthy, steady period', () => {
    expect(recommendations(april, april)).toEqual([]);
    expect(recommendations(april, may)).toEqual([]); // MTTA fell
  });

  it('a rise of 50% is enough; below it, within target, is not', () => {
    const nine = period([sev2('2026-05-10T10:00:00Z', 9)], '2026-05-01', '2026-05-31');
    const eight = period([sev2('2026-05-10T10:00:00Z', 8.9)], '2026-05-01', '2026-05-31');
    expect(recommendations(nine, april)).toEqual([
      'MTTA for SEV-2 rose 50% (6m → 9m): check alert quality and on-call coverage.',
    ]);
    expect(recommendations(eight, april)).toEqual([]);
  });

  it('over target without history; rise and target together in one sentence', () => {
    const slow = period([sev2('2026-05-10T10:00:00Z', 16)], '2026-05-01', '2026-05-31');
    const empty = summarizePeriod([], '2026-04-01', '2026-04-30');
    expect(recommendations(slow, empty)).toEqual([
      'MTTA for SEV-2 is 16m, over the 15m target (1 of 1 incidents): check alert quality and on-call coverage.',
    ]);
    expect(recommendations(slow, april)).toEqual([
      'MTTA for SEV-2 rose 2.7× (6m → 16m), over the 15m target (1 of 1 incidents): check alert quality and on-call coverage.',
    ]);
  });

  it('every rule, in a fixed order: MTTD, MTTA by severity, MTTR by severity, MTBF by service, still open', () => {
    const prev = period(
      [
        incident('2026-04-01T00:00:00Z', { ack: MIN, resolve: HOUR }, { service: 'web', severity: 'SEV-3' }),
        incident('2026-04-01T05:00:00Z', { ack: MIN, resolve: HOUR }, { service: 'web', severity: 'SEV-3' }),
        incident('2026-04-02T00:00:00Z', { ack: MIN, resolve: HOUR }, { severity: 'SEV-3' }),
      ],
      '2026-04-01',
      '2026-04-30',
    );
    const cur = period(
      [
        // web: MTBF from 4h to 3h (−25%, just enough); SEV-3 MTTR from 1h to 2h.
        incident(
          '2026-05-01T00:00:00Z',
          { ack: MIN, resolve: 2 * HOUR },
          { service: 'web', severity: 'SEV-3' },
        ),
        incident(
          '2026-05-01T05:00:00Z',
          { ack: MIN, resolve: 2 * HOUR },
          { service: 'web', severity: 'SEV-3' },
        ),
        // SEV-1 slow to detect, acknowledge and resolve.
        incident(
          '2026-05-03T00:00:00Z',
          { detect: 20 * MIN, ack: 10 * MIN, resolve: 2 * HOUR },
          { severity: 'SEV-1' },
        ),
        incident('2026-05-04T00:00:00Z', { detect: 20 * MIN }, { severity: 'SEV-4' }),
        incident('2026-05-04T01:00:00Z', { detect: 20 * MIN }, { service: 'db', severity: 'SEV-4' }),
        incident('2026-05-04T02:00:00Z', { detect: 20 * MIN }, { service: 'auth', severity: 'SEV-4' }),
      ],
      '2026-05-01',
      '2026-05-31',
    );
    const text = recommendations(cur, prev);
    expect(text).toEqual([
      'MTTD is 14m, over the 5m target (4 of 6 incidents): add synthetic monitoring and alert on symptoms earlier, so problems are detected sooner.',
      'MTTA for SEV-1 is 10m, over the 5m target (1 of 1 incidents): check alert quality and on-call coverage.',
      'MTTR for SEV-1 is 2h, over the 1h target (1 of 1 incidents): improve runbooks, automate the common fixes and make rollback a single step.',
      'MTTR for SEV-3 doubled (1h → 2h): improve runbooks, automate the common fixes and make rollback a single step.',
      'MTBF for web fell 25% (4h → 3h): follow up the postmortem action items and add tests for the failures that recur.',
      '3 of 6 incidents (50%) are still open: triage them — resolve what is over, and mark drills and duplicates "exclude from metrics".',
    ]);
  });
});

describe('postmortem action items', () => {
  const item = (deadline: string, status: 'open' | 'done', doneAt?: string, incidentId = 'inc1') => ({
    incidentId,
    action: `due ${deadline}`,
    owner: 'bob',
    deadline,
    status,
    ...(doneAt ? { doneAt } : {}),
  });

  it('counts an item in the period of its deadline; on time by the end of that day in the zone', () => {
    const items = [
      // 23:59 in Auckland on Mar 1 is 10:59 UTC: on time; 11:00 UTC is Mar 2 there: late.
      item('2026-03-01', 'done', '2026-03-01T10:59:00Z'),
      item('2026-03-01', 'done', '2026-03-01T11:00:00Z'),
      item('2026-03-02', 'open'),
      item('2026-02-28', 'done', '2026-02-01T00:00:00Z'),
    ];
    expect(summarizeActionItems(items, '2026-03-01', '2026-03-07', 'Pacific/Auckland')).toEqual({
      due: 3,
      doneOnTime: 1,
      doneLate: 1,
      open: 1,
      onTime: 0.333,
    });
    // Asked on Mar 2 (--to today): the item still open on its deadline's day is not late yet.
    expect(
      summarizeActionItems(items, '2026-03-01', '2026-03-07', 'Pacific/Auckland', '2026-03-02'),
    ).toMatchObject({
      due: 2,
      open: 0,
      onTime: 0.5,
    });
    expect(summarizeActionItems([], '2026-03-01', '2026-03-07', 'UTC')).toEqual({
      due: 0,
      doneOnTime: 0,
      doneLate: 0,
      open: 0,
      onTime: null,
    });
  });

  it('lists the overdue (open, deadline before today) oldest first, and calls out a low on-time share only from 3 items due', () => {
    const items = [
      item('2026-03-05', 'open', undefined, 'b'),
      item('2026-03-02', 'open'),
      item('2026-03-09', 'open'),
    ];
    expect(overdueActionItems(items, '2026-03-09').map((i) => i.deadline)).toEqual([
      '2026-03-02',
      '2026-03-05',
    ]);
    const two = { due: 2, doneOnTime: 0, doneLate: 0, open: 2, onTime: 0 };
    const none = { due: 0, doneOnTime: 0, doneLate: 0, open: 0, onTime: null };
    expect(actionItemFindings(two, none, [])).toEqual([]);
    expect(actionItemFindings({ ...two, due: 3, open: 3 }, none, [])).toEqual([
      '0% of the 3 action items due in the period were done by their deadline: set deadlines the owners can keep, and review open items at each postmortem meeting.',
    ]);
  });
});
