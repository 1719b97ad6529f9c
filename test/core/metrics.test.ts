import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  dayBounds,
  daysBetween,
  type IncidentFacts,
  incidentDay,
  localDay,
  monthlyBudgetMinutes,
  monthOf,
  percentile,
  previousDay,
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

/** An incident with defaults: resolved SEV-2 of service api, timestamps given as ISO. */
function facts(
  id: string,
  over: Partial<IncidentFacts> & Pick<IncidentFacts, 'startedAt' | 'detectedAt'>,
): IncidentFacts {
  return {
    id,
    service: 'api',
    severity: 'SEV-2',
    status: over.resolvedAt ? 'resolved' : over.acknowledgedAt ? 'acknowledged' : 'triggered',
    excluded: false,
    escalations: 0,
    pagesSent: 0,
    ...over,
  };
}

const iso = (t: number) => new Date(t).toISOString();
const row = (rollups: Rollup[], service: string, severity: Severity | '*') =>
  rollups.find((r) => r.service === service && r.severity === severity);

// ---------------------------------------------------------------------------------------------

describe('percentile (type 7, linear between closest ranks)', () => {
  it('matches numpy.percentile on known values', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1, 12);
    expect(percentile([15, 20, 35, 40, 50], 40)).toBe(29);
    expect(percentile([3, 7], 0)).toBe(3);
    expect(percentile([3, 7], 100)).toBe(7);
    expect(percentile([42], 90)).toBe(42);
  });

  it('rejects an empty list, p outside 0..100, unsorted or non-finite values', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
    expect(() => percentile([2, 1], 50)).toThrow(RangeError);
    expect(() => percentile([1, Number.POSITIVE_INFINITY], 50)).toThrow(RangeError);
  });

  const sorted = fc
    .array(fc.double({ min: -1e12, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 60 })
    .map((xs) => [...xs].sort((a, b) => a - b));
  const p = fc.double({ min: 0, max: 100, noNaN: true });

  it('is monotone in p and stays within [min, max]', () => {
    fc.assert(
      fc.property(sorted, p, p, (xs, p1, p2) => {
        const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1];
        const a = percentile(xs, lo);
        const b = percentile(xs, hi);
        expect(a).toBeLessThanOrEqual(b);
        for (const v of [a, b]) {
          expect(v).toBeGreaterThanOrEqual(xs[0] as number);
          expect(v).toBeLessThanOrEqual(xs[xs.length - 1] as number);
        }
      }),
    );
  });

  it('p0 is the minimum and p100 the maximum', () => {
    fc.assert(
      fc.property(sorted, (xs) => {
        expect(percentile(xs, 0)).toBe(xs[0]);
        expect(percentile(xs, 100)).toBe(xs[xs.length - 1]);
      }),
    );
  });
});

describe('summarize', () => {
  it('gives count, mean, p50, p90 rounded to 0.001, nulls when empty', () => {
    expect(summarize([])).toEqual({ count: 0, mean: null, p50: null, p90: null });
    expect(summarize([100, 1, 3, 2, 4])).toEqual({ count: 5, mean: 22, p50: 3, p90: 61.6 });
    expect(summarize([0.0004, 1 / 3])).toEqual({ count: 2, mean: 0.167, p50: 0.167, p90: 0.3 });
  });

  const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 80 });

  it('mean is sum/count (to the rounding), p50 ≤ p90, both within [min, max]', () => {
    fc.assert(
      fc.property(values, (xs) => {
        const s = summarize(xs);
        const sum = xs.reduce((a, b) => a + b, 0);
        expect(s.count).toBe(xs.length);
        expect(Math.abs((s.mean as number) - sum / xs.length)).toBeLessThanOrEqual(0.0005 + 1e-9);
        expect(s.p50 as number).toBeLessThanOrEqual(s.p90 as number);
        expect(s.p50 as number).toBeGreaterThanOrEqual(round3(Math.min(...xs)));
        expect(s.p90 as number).toBeLessThanOrEqual(round3(Math.max(...xs)));
      }),
    );
  });

  it('does not depend on the order of the values', () => {
    fc.assert(
      fc.property(
        values.chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length }))),
        ([xs, shuffled]) => {
          expect(summarize(shuffled)).toEqual(summarize(xs));
        },
      ),
    );
  });

  it('of a constant array is that constant everywhere', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 200 }), (ms, n) => {
        const c = ms / 1000;
        expect(summarize(Array.from({ length: n }, () => c))).toEqual({ count: n, mean: c, p50: c, p90: c });
      }),
    );
  });

  it('rejects non-finite values', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('local days', () => {
  it('addDays moves by calendar days, across months and years', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-11-21', -2)).toBe('2026-11-19');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(() => addDays('2026-02-30', 1)).toThrow(RangeError);
  });

  it('DST: Europe/Berlin and America/New_York have 23- and 25-hour days', () => {
    const hours = (day: string, zone: string) => {
      const { start, end } = dayBounds(day, zone);
      return (end.getTime() - start.getTime()) / HOUR;
    };
    expect(dayBounds('2026-03-29', 'Europe/Berlin')).toEqual({
      start: new Date('2026-03-28T23:00:00Z'),
      end: new Date('2026-03-29T22:00:00Z'),
    });
    expect(hours('2026-03-29', 'Europe/Berlin')).toBe(23);
    expect(dayBounds('2026-10-25', 'Europe/Berlin')).toEqual({
      start: new Date('2026-10-24T22:00:00Z'),
      end: new Date('2026-10-25T23:00:00Z'),
    });
    expect(hours('2026-10-25', 'Europe/Berlin')).toBe(25);
    expect(hours('2026-03-28', 'Europe/Berlin')).toBe(24);
    expect(dayBounds('2026-03-08', 'America/New_York')).toEqual({
      start: new Date('2026-03-08T05:00:00Z'),
      end: new Date('2026-03-09T04:00:00Z'),
    });
    expect(hours('2026-03-08', 'America/New_York')).toBe(23);
    expect(hours('2026-11-01', 'America/New_York')).toBe(25);
    expect(hours('2026-05-12', 'UTC')).toBe(24);
  });

  it('a zone that skips midnight starts the day at the change (America/Santiago, 2026-09-06)', () => {
    // Clocks go from 00:00 (UTC−4) to 01:00 (UTC−3): the day begins at 01:00 local, 04:00Z.
    expect(dayBounds('2026-09-06', 'America/Santiago')).toEqual({
      start: new Date('2026-09-06T04:00:00Z'),
      end: new Date('2026-09-07T03:00:00Z'),
    });
  });

  it('localDay agrees with dayBounds at every instant', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'America/Santiago',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2031-01-01T00:00:00Z') }),
        (zone, t) => {
          const day = localDay(new Date(t), zone);
          const { start, end } = dayBounds(day, zone);
          expect(start.getTime()).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(end.getTime());
          expect(localDay(start, zone)).toBe(day);
          expect(localDay(new Date(end.getTime() - 1), zone)).toBe(day);
          expect(dayBounds(daysBetween(day, '2031-12-31')[1] as string, zone).start).toEqual(end);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('incidentDay: resolution day in the zone, an open incident by its start day', () => {
    const lateEvening = { startedAt: '2026-05-12T20:00:00Z', resolvedAt: '2026-05-12T22:30:00Z' };
    expect(incidentDay(lateEvening, 'UTC')).toBe('2026-05-12');
    expect(incidentDay(lateEvening, 'Europe/Berlin')).toBe('2026-05-13'); // 00:30 CEST
    expect(incidentDay(lateEvening, 'America/New_York')).toBe('2026-05-12');
    const open = { startedAt: '2026-05-13T02:00:00Z' };
    expect(incidentDay(open, 'UTC')).toBe('2026-05-13');
    expect(incidentDay(open, 'America/New_York')).toBe('2026-05-12'); // 22:00 EDT
    // Started on the 10th, resolved on the 12th: it belongs to the 12th.
    expect(
      incidentDay({ startedAt: '2026-05-10T08:00:00Z', resolvedAt: '2026-05-12T08:00:00Z' }, 'UTC'),
    ).toBe('2026-05-12');
  });

  it('previousDay: the nightly run at 01:30 local rolls up yesterday, also on DST nights', () => {
    expect(previousDay(new Date('2026-05-12T23:30:00Z'), 'Europe/Berlin')).toBe('2026-05-12'); // 01:30 on the 13th
    expect(previousDay(new Date('2026-05-12T23:30:00Z'), 'UTC')).toBe('2026-05-11');
    expect(previousDay(new Date('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toBe('2026-03-28'); // 01:30 CET
    expect(previousDay(new Date('2026-10-24T23:30:00Z'), 'Europe/Berlin')).toBe('2026-10-24'); // 01:30 CEST
    expect(previousDay(new Date('2026-01-01T06:30:00Z'), 'America/New_York')).toBe('2025-12-31');
    expect(previousDay(new Date('2028-03-01T01:30:00Z'), 'UTC')).toBe('2028-02-29');
  });

  it('daysBetween is inclusive, crosses months, years and leap days, and is empty when reversed', () => {
    expect(daysBetween('2028-02-27', '2028-03-01')).toEqual([
      '2028-02-27',
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(daysBetween('2026-12-31', '2027-01-01')).toEqual(['2026-12-31', '2027-01-01']);
    expect(daysBetween('2026-05-12', '2026-05-12')).toEqual(['2026-05-12']);
    expect(daysBetween('2026-05-13', '2026-05-12')).toEqual([]);
    expect(daysBetween('2026-01-01', '2026-12-31')).toHaveLength(365);
  });

  it('rejects what is not a day or an instant with an offset', () => {
    expect(() => daysBetween('2026-02-30', '2026-03-01')).toThrow(RangeError);
    expect(() => dayBounds('2026-5-1', 'UTC')).toThrow(RangeError);
    expect(() => monthOf('May 2026')).toThrow(RangeError);
    expect(() => localDay('2026-05-12T10:00:00', 'UTC')).toThrow(RangeError); // no offset: host-dependent
    expect(localDay('2026-05-12T23:30:00-04:00', 'UTC')).toBe('2026-05-13');
  });

  it('monthOf', () => {
    expect(monthOf('2026-05-12')).toBe('2026-05');
  });
});

describe('monthlyBudgetMinutes (average month, 30.4375 days)', () => {
  it('99.9% allows 43.83 minutes', () => {
    expect(monthlyBudgetMinutes(99.9)).toBe(43.83);
    expect(monthlyBudgetMinutes(99.95)).toBe(21.915);
    expect(monthlyBudgetMinutes(99.99)).toBe(4.383);
    expect(monthlyBudgetMinutes(99)).toBe(438.3);
    expect(monthlyBudgetMinutes(100)).toBe(0);
    expect(() => monthlyBudgetMinutes(101)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('rollupDay: a hand-made day', () => {
  const day = '2026-05-12';
  const incidents: IncidentFacts[] = [
    // SEV-2 that began yesterday evening and was resolved at 01:00 today.
    facts('c', {
      startedAt: '2026-05-11T22:00:00Z',
      detectedAt: '2026-05-11T22:01:00Z',
      acknowledgedAt: '2026-05-11T22:03:00Z',
      resolvedAt: '2026-05-12T01:00:00Z',
      pagesSent: 1,
    }),
    facts('a', {
      severity: 'SEV-1',
      startedAt: '2026-05-12T09:00:00Z',
      detectedAt: '2026-05-12T09:02:00Z',
      acknowledgedAt: '2026-05-12T09:05:00Z',
      resolvedAt: '2026-05-12T09:50:00Z',
      escalations: 1,
      pagesSent: 3,
    }),
    // Every duration exactly at its SEV-2 target: MTTD 5m+1m (over), MTTA 15m, MTTR 4h.
    facts('b', {
      startedAt: '2026-05-12T11:00:00Z',
      detectedAt: '2026-05-12T11:06:00Z',
      acknowledgedAt: '2026-05-12T11:21:00Z',
      resolvedAt: '2026-05-12T15:00:00Z',
      escalations: 2,
      pagesSent: 4,
    }),
    facts('d', {
      severity: 'SEV-3',
      startedAt: '2026-05-12T16:00:00Z',
      detectedAt: '2026-05-12T16:00:30Z',
      pagesSent: 1,
    }),
    facts('e', {
      severity: 'SEV-1',
      startedAt: '2026-05-12T12:00:00Z',
      detectedAt: '2026-05-12T12:00:00Z',
      resolvedAt: '2026-05-12T20:00:00Z',
      excluded: true,
      escalations: 5,
      pagesSent: 9,
    }),
    // The alert's own timestamp is 10 s after Klaxon opened the incident: MTTD clamped to 0.
    facts('f', {
      service: 'web',
      severity: 'SEV-4',
      startedAt: '2026-05-12T12:00:10Z',
      detectedAt: '2026-05-12T12:00:00Z',
      acknowledgedAt: '2026-05-12T12:10:00Z',
      resolvedAt: '2026-05-12T12:30:00Z',
      pagesSent: 1,
    }),
  ];
  const rollups = rollupDay(day, 'UTC', incidents, { api: '2026-05-11T21:00:00Z' });

  it('has an overall row, then per service its row and one per severity present', () => {
    expect(rollups.map((r) => `${r.service}/${r.severity}`)).toEqual([
      '*/*',
      'api/*',
      'api/SEV-1',
      'api/SEV-2',
      'api/SEV-3',
      'web/*',
      'web/SEV-4',
    ]);
  });

  it('overall: exact counts, stats, breaches, downtime', () => {
    expect(row(rollups, '*', '*')).toEqual({
      day,
      service: '*',
      severity: '*',
      incidents: 5,
      opened: 4, // c was detected yesterday
      resolved: 4,
      stillOpen: 1,
      excluded: 1,
      clamped: 1,
      mttd: { count: 5, mean: 114, p50: 60, p90: 264 },
      mtta: { count: 4, mean: 450, p50: 390, p90: 810 },
      mttr: { count: 4, mean: 7497.5, p50: 6900, p90: 13320 },
      // c: 22:00 − 21:00 (previous day's resolution); a: 09:00 − 01:00; b: 11:00 − 09:50; d: 16:00 − 15:00.
      mtbf: { count: 4, mean: 10050, p50: 3900, p90: 21420 },
      breaches: { mttd: 1, mtta: 1, mttr: 1 },
      escalations: 3,
      pagesSent: 10,
      downtimeMinutes: 470, // a 50 + b 240 + c 180 (SEV-1/SEV-2 resolved today)
      samples: {
        mttd: [0, 30, 60, 120, 360],
        mtta: [120, 180, 600, 900],
        mttr: [1790, 3000, 10800, 14400],
        mtbf: [3600, 3600, 4200, 28800],
      },
    });
  });

  it('per service and severity: gaps belong to the incident that ends them', () => {
    const sev2 = row(rollups, 'api', 'SEV-2');
    expect(sev2).toMatchObject({ incidents: 2, opened: 1, resolved: 2, excluded: 0, downtimeMinutes: 420 });
    expect(sev2?.samples.mtbf).toEqual([3600, 4200]);
    expect(row(rollups, 'api', 'SEV-1')).toMatchObject({
      incidents: 1,
      excluded: 1,
      escalations: 1,
      mtbf: { count: 1, mean: 28800 },
      breaches: { mttd: 0, mtta: 0, mttr: 0 },
    });
    expect(row(rollups, 'api', 'SEV-3')).toMatchObject({ incidents: 1, stillOpen: 1, downtimeMinutes: 0 });
    expect(row(rollups, 'web', '*')).toMatchObject({
      incidents: 1,
      clamped: 1,
      mttd: { count: 1, mean: 0 },
      mtbf: { count: 0, mean: null, p50: null, p90: null },
      downtimeMinutes: 0, // SEV-4 uses no error budget
    });
  });

  it('resolved and downtime go by the resolution day, even for an incident of another day', () => {
    const other = facts('z', {
      severity: 'SEV-1',
      startedAt: '2026-05-13T08:00:00Z',
      detectedAt: '2026-05-13T08:00:00Z',
      resolvedAt: '2026-05-13T09:00:00Z',
    });
    expect(row(rollupDay(day, 'UTC', [other], {}), '*', '*')).toMatchObject({
      incidents: 1,
      opened: 0,
      resolved: 0,
      downtimeMinutes: 0,
      mttr: { count: 1, mean: 3600 },
    });
  });

  it('a day without incidents still has its overall row, all zero', () => {
    const [only, ...rest] = rollupDay(day, 'UTC', [], {});
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      service: '*',
      severity: '*',
      incidents: 0,
      excluded: 0,
      downtimeMinutes: 0,
    });
    expect(only?.mttr).toEqual({ count: 0, mean: null, p50: null, p90: null });
  });

  it('rejects duplicate ids, unknown severities and instants without an offset', () => {
    const a = incidents[1] as IncidentFacts;
    expect(() => rollupDay(day, 'UTC', [a, a], {})).toThrow(/twice/);
    expect(() => rollupDay(day, 'UTC', [{ ...a, severity: 'SEV-9' as Severity }], {})).toThrow(RangeError);
    expect(() => rollupDay(day, 'UTC', [{ ...a, detectedAt: '2026-05-12 09:02' }], {})).toThrow(/detectedAt/);
    expect(() => rollupDay('2026-13-01', 'UTC', [], {})).toThrow(RangeError);
  });
});

describe('rollupDay: breaches at exactly the target', () => {
  const at = Date.parse('2026-05-12T10:00:00Z');
  /** One resolved incident with the given durations in ms. */
  const one = (severity: Severity, mttd: number, mtta: number, mttr: number) =>
    row(
      rollupDay(
        '2026-05-12',
        'UTC',
        [
          facts('x', {
            severity,
            startedAt: iso(at),
            detectedAt: iso(at + mttd),
            acknowledgedAt: iso(at + mttd + mtta),
            resolvedAt: iso(at + mttr),
          }),
        ],
        {},
      ),
      '*',
      '*',
    )?.breaches;

  it('uses the seed targets', () => {
    expect(TARGETS).toEqual({
      mttdSeconds: 300,
      mttaSeconds: { 'SEV-1': 300, 'SEV-2': 900 },
      mttrSeconds: { 'SEV-1': 3600, 'SEV-2': 14400 },
    });
  });

  it('a duration equal to the target is a breach; a millisecond less is not', () => {
    expect(one('SEV-1', 5 * MIN, 5 * MIN, HOUR)).toEqual({ mttd: 1, mtta: 1, mttr: 1 });
    expect(one('SEV-1', 5 * MIN - 1, 5 * MIN - 1, HOUR - 1)).toEqual({ mttd: 0, mtta: 0, mttr: 0 });
    expect(one('SEV-2', 5 * MIN, 15 * MIN, 4 * HOUR)).toEqual({ mttd: 1, mtta: 1, mttr: 1 });
    expect(one('SEV-2', 0, 15 * MIN - 1, 4 * HOUR - 1)).toEqual({ mttd: 0, mtta: 0, mttr: 0 });
  });

  it('SEV-3 and SEV-4 have no MTTA or MTTR target, but MTTD applies to all', () => {
    expect(one('SEV-3', 5 * MIN, 10 * HOUR, 20 * HOUR)).toEqual({ mttd: 1, mtta: 0, mttr: 0 });
    expect(one('SEV-4', 4 * MIN, 10 * HOUR, 20 * HOUR)).toEqual({ mttd: 0, mtta: 0, mttr: 0 });
  });
});

describe('rollupDay: MTBF', () => {
  const day = '2026-05-12';
  const t = (hhmm: string) => `2026-05-12T${hhmm}:00Z`;
  const inc = (id: string, from: string, to?: string, service = 'api') =>
    facts(id, { service, startedAt: t(from), detectedAt: t(from), ...(to ? { resolvedAt: t(to) } : {}) });
  const gaps = (incidents: IncidentFacts[], previous: Record<string, string | undefined> = {}) =>
    row(rollupDay(day, 'UTC', incidents, previous), '*', '*')?.samples.mtbf;

  it('across the day boundary: the first gap runs from the previous resolution', () => {
    expect(gaps([inc('a', '02:00', '03:00')], { api: '2026-05-11T23:00:00Z' })).toEqual([3 * 3600]);
    expect(gaps([inc('a', '02:00', '03:00')], {})).toEqual([]); // no known previous failure
    expect(gaps([inc('a', '02:00', '03:00')], { api: undefined })).toEqual([]);
  });

  it('overlapping incidents contribute no gap, even after a shorter one ended', () => {
    const incidents = [
      inc('long', '10:00', '12:00'),
      inc('short', '10:30', '10:45'),
      inc('inside', '11:00', '11:30'), // 'long' is still failing at 11:00
      inc('after', '13:00', '13:10'),
    ];
    expect(gaps(incidents, { api: t('08:00') })).toEqual([3600, 7200]); // after: 13:00 − 12:00; long: 10:00 − 08:00
  });

  it('an incident still open blocks the gaps after it; a gap of 0 counts', () => {
    expect(gaps([inc('a', '01:00', '02:00'), inc('open', '03:00'), inc('b', '04:00', '05:00')])).toEqual([
      3600,
    ]);
    expect(gaps([inc('a', '01:00', '02:00'), inc('b', '02:00', '03:00')])).toEqual([0]);
  });

  it('an incident of another day still failing at a start suppresses the gap (open or resolved later)', () => {
    const gapsWith = (
      incidents: IncidentFacts[],
      others: { id: string; startedAt: string; resolvedAt?: string }[],
    ) =>
      row(rollupDay(day, 'UTC', incidents, { api: '2026-05-11T06:00:00Z' }, { api: others }), '*', '*')
        ?.samples.mtbf;
    const day_ = [inc('a', '02:00', '03:00'), inc('b', '13:00', '13:10')];
    // Opened yesterday, still open: no gap all day.
    expect(gapsWith(day_, [{ id: 'y', startedAt: '2026-05-11T20:00:00Z' }])).toEqual([]);
    // Opened yesterday, resolved tomorrow: the same.
    expect(
      gapsWith(day_, [{ id: 'y', startedAt: '2026-05-11T20:00:00Z', resolvedAt: '2026-05-13T01:00:00Z' }]),
    ).toEqual([]);
    // Opened yesterday, resolved at 12:00 (in the data of a later day by then): a is an overlap,
    // b's gap runs from 12:00.
    expect(gapsWith(day_, [{ id: 'y', startedAt: '2026-05-11T20:00:00Z', resolvedAt: t('12:00') }])).toEqual([
      3600,
    ]);
    // Without it: a's gap from the previous resolution (20 h), b's from a (10 h).
    expect(gapsWith(day_, [])).toEqual([10 * 3600, 20 * 3600]);
    // One of the day's own incidents cannot be another day's.
    expect(() => rollupDay(day, 'UTC', day_, {}, { api: [{ id: 'a', startedAt: t('02:00') }] })).toThrow(
      /not of another day/,
    );
  });

  it('a previous resolution after the first start is an overlap, not a negative gap', () => {
    expect(gaps([inc('a', '02:00', '03:00')], { api: t('02:30') })).toEqual([]);
  });

  it('is per service; the overall row has every service’s gaps', () => {
    const incidents = [
      inc('a1', '01:00', '02:00'),
      inc('w1', '01:30', '02:30', 'web'),
      inc('a2', '03:00', '04:00'),
      inc('w2', '06:30', '07:00', 'web'),
    ];
    const rollups = rollupDay(day, 'UTC', incidents, {});
    expect(row(rollups, 'api', '*')?.samples.mtbf).toEqual([3600]);
    expect(row(rollups, 'web', '*')?.samples.mtbf).toEqual([4 * 3600]);
    expect(row(rollups, '*', '*')?.samples.mtbf).toEqual([3600, 4 * 3600]);
  });

  it('incidents starting at the same instant are taken in id order, whatever the input order', () => {
    const first = { ...inc('b-open', '03:00'), severity: 'SEV-1' as const };
    const second = { ...inc('c', '03:00', '04:00'), severity: 'SEV-3' as const };
    const both = [inc('a', '01:00', '02:00'), first, second];
    const rollups = rollupDay(day, 'UTC', both, {});
    expect(row(rollups, 'api', 'SEV-1')?.samples.mtbf).toEqual([3600]); // b-open: 03:00 − 02:00
    expect(row(rollups, 'api', 'SEV-3')?.samples.mtbf).toEqual([]); // c: b-open is still failing
    expect(rollupDay(day, 'UTC', [second, first, both[0] as IncidentFacts], {})).toEqual(rollups);
  });

  it('excluded incidents are not in the chain', () => {
    const excluded = { ...inc('x', '03:00', '05:00'), excluded: true };
    expect(gaps([inc('a', '01:00', '02:00'), excluded, inc('b', '04:00', '04:30')])).toEqual([2 * 3600]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties of rollupDay over generated days.

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
const DAYS = ['2026-03-29', '2026-05-12', '2026-10-25', '2026-11-01', '2026-12-31'];
const SERVICES = ['api', 'web', 'db'];

const rawIncident = fc.record({
  service: fc.constantFrom(...SERVICES),
  severity: fc.constantFrom(...SEVERITIES),
  resolved: fc.boolean(),
  /** Minute of the day of the resolution (resolved) or the start (open): ties are likely. */
  minute: fc.integer({ min: 0, max: 25 * 60 - 1 }),
  /** Seconds from start to resolution; a few negative (skew). */
  duration: fc.integer({ min: -30, max: 2 * 86_400 }),
  /** Seconds from start to detection; negative = an alert timestamp after detection. */
  detect: fc.integer({ min: -120, max: 1800 }),
  ack: fc.option(fc.integer({ min: -60, max: 7200 }), { nil: undefined }),
  excluded: fc.boolean(),
  escalations: fc.nat(4),
  pagesSent: fc.nat(12),
});
type RawIncident = typeof rawIncident extends fc.Arbitrary<infer T> ? T : never;

/** Incidents that belong to `day` in `zone`: resolved that day, or open and started that day. */
function materialize(day: string, zone: string, raws: readonly RawIncident[]): IncidentFacts[] {
  const { start, end } = dayBounds(day, zone);
  return raws.map((r, i) => {
    const anchor = Math.min(start.getTime() + r.minute * MIN, end.getTime() - 1);
    const startedAt = r.resolved ? anchor - r.duration * SEC : anchor;
    const detectedAt = startedAt + r.detect * SEC;
    return {
      id: `inc-${String(i).padStart(3, '0')}`,
      service: r.service,
      severity: r.severity,
      status: r.resolved ? 'resolved' : r.ack !== undefined ? 'acknowledged' : 'triggered',
      startedAt: iso(startedAt),
      detectedAt: iso(detectedAt),
      ...(r.ack !== undefined ? { acknowledgedAt: iso(detectedAt + r.ack * SEC) } : {}),
      ...(r.resolved ? { resolvedAt: iso(anchor) } : {}),
      excluded: r.excluded,
      escalations: r.escalations,
      pagesSent: r.pagesSent,
    };
  });
}

const generatedDay = fc
  .record({
    day: fc.constantFrom(...DAYS),
    zone: fc.constantFrom(...ZONES),
    raws: fc.array(rawIncident, { maxLength: 25 }),
    previous: fc.record({
      api: fc.option(fc.integer({ min: 1, max: 3 * 86_400 }), { nil: undefined }),
      web: fc.option(fc.integer({ min: 1, max: 3 * 86_400 }), { nil: undefined }),
    }),
  })
  .map(({ day, zone, raws, previous }) => {
    const incidents = materialize(day, zone, raws);
    const start = dayBounds(day, zone).start.getTime();
    // A previous resolution some time before the day began (before every start, for most draws).
    const previousResolvedAt = Object.fromEntries(
      Object.entries(previous).map(([s, ago]) => [s, ago === undefined ? undefined : iso(start - ago * SEC)]),
    );
    return { day, zone, incidents, previousResolvedAt };
  });

const COUNTS = [
  'incidents',
  'opened',
  'resolved',
  'stillOpen',
  'excluded',
  'clamped',
  'escalations',
  'pagesSent',
] as const;

function expectSumsTo(parts: readonly Rollup[], whole: Rollup): void {
  for (const field of COUNTS)
    expect(
      parts.reduce((s, r) => s + r[field], 0),
      field,
    ).toBe(whole[field]);
  for (const b of ['mttd', 'mtta', 'mttr'] as const) {
    expect(
      parts.reduce((s, r) => s + r.breaches[b], 0),
      `breaches.${b}`,
    ).toBe(whole.breaches[b]);
  }
  for (const m of ['mttd', 'mtta', 'mttr', 'mtbf'] as const) {
    expect(
      parts.flatMap((r) => r.samples[m]).sort((a, b) => a - b),
      `samples.${m}`,
    ).toEqual(whole.samples[m]);
  }
  const downtime = parts.reduce((s, r) => s + r.downtimeMinutes, 0);
  expect(Math.abs(downtime - whole.downtimeMinutes)).toBeLessThanOrEqual(0.0005 * (parts.length + 1));
}

describe('rollupDay properties', () => {
  it('counts add up: per row, services to overall, severities to their service', () => {
    fc.assert(
      fc.property(generatedDay, ({ day, zone, incidents, previousResolvedAt }) => {
        const rollups = rollupDay(day, zone, incidents, previousResolvedAt);
        const counted = incidents.filter((i) => !i.excluded);
        const overall = rollups[0] as Rollup;
        expect([overall.service, overall.severity]).toEqual(['*', '*']);
        expect(overall.incidents).toBe(counted.length);
        expect(overall.excluded).toBe(incidents.length - counted.length);
        for (const r of rollups) {
          expect(r.day).toBe(day);
          expect(r.incidents).toBe(r.resolved + r.stillOpen);
          expect(r.opened).toBeLessThanOrEqual(r.incidents);
          expect(r.mttd.count).toBe(r.incidents);
          expect(r.mttr.count).toBe(r.resolved);
          expect(r.mtta.count).toBeLessThanOrEqual(r.incidents);
          expect(r.mtbf.count).toBeLessThanOrEqual(r.incidents);
          expect(r.breaches.mttd).toBeLessThanOrEqual(r.mttd.count);
          expect(r.breaches.mtta).toBeLessThanOrEqual(r.mtta.count);
          expect(r.breaches.mttr).toBeLessThanOrEqual(r.mttr.count);
          expect(r.clamped).toBeLessThanOrEqual(r.mttd.count + r.mtta.count + r.mttr.count);
          expect(r.downtimeMinutes).toBeGreaterThanOrEqual(0);
          for (const m of ['mttd', 'mtta', 'mttr', 'mtbf'] as const) {
            expect(r[m]).toEqual(summarize(r.samples[m]));
            expect(r.samples[m]).toEqual([...r.samples[m]].sort((a, b) => a - b));
            for (const v of r.samples[m]) expect(v).toBeGreaterThanOrEqual(0);
          }
        }
        const serviceRows = rollups.filter((r) => r.service !== '*' && r.severity === '*');
        expectSumsTo(serviceRows, overall);
        for (const s of serviceRows) {
          expectSumsTo(
            rollups.filter((r) => r.service === s.service && r.severity !== '*'),
            s,
          );
        }
        // Downtime is exactly the SEV-1/SEV-2 incidents resolved that day.
        const downtimeMs = counted
          .filter((i) => (i.severity === 'SEV-1' || i.severity === 'SEV-2') && i.resolvedAt !== undefined)
          .reduce((s, i) => s + Math.max(0, Date.parse(i.resolvedAt as string) - Date.parse(i.startedAt)), 0);
        expect(overall.downtimeMinutes).toBe(round3(downtimeMs / MIN));
      }),
      { numRuns: 200 },
    );
  });

  it('excluded incidents change no number but `excluded`', () => {
    fc.assert(
      fc.property(generatedDay, ({ day, zone, incidents, previousResolvedAt }) => {
        const all = rollupDay(day, zone, incidents, previousResolvedAt);
        const without = rollupDay(
          day,
          zone,
          incidents.filter((i) => !i.excluded),
          previousResolvedAt,
        );
        const strip = ({ excluded: _, ...rest }: Rollup) => rest;
        const blank = strip(rollupDay(day, zone, [], {})[0] as Rollup);
        for (const r of all) {
          const match = row(without, r.service, r.severity);
          // A group only excluded incidents fall in has a row of zeros (and its `excluded`).
          expect(strip(r)).toEqual(
            match ? strip(match) : { ...blank, service: r.service, severity: r.severity },
          );
        }
        expect(without.every((r) => row(all, r.service, r.severity) !== undefined)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('permuting the input does not change the output', () => {
    fc.assert(
      fc.property(
        generatedDay.chain((g) =>
          fc.tuple(fc.constant(g), fc.shuffledSubarray(g.incidents, { minLength: g.incidents.length })),
        ),
        ([{ day, zone, incidents, previousResolvedAt }, shuffled]) => {
          expect(rollupDay(day, zone, shuffled, previousResolvedAt)).toEqual(
            rollupDay(day, zone, incidents, previousResolvedAt),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
