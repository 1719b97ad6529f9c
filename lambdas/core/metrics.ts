import type { IncidentStatus } from './incident.ts';
import { SEVERITIES, type Severity } from './severity.ts';
import { DAY, localToInstant, localWall } from './wall-clock.ts';

/**
 * Incident metrics: MTTD, MTTA, MTTR and MTBF, rolled up per local day. Pure: no clock, no I/O.
 * The definitions, and why they are what they are, are in docs/METRICS.md; in short:
 *
 *   MTTD = detectedAt − startedAt       every incident (open ones too)
 *   MTTA = acknowledgedAt − detectedAt  acknowledged incidents
 *   MTTR = resolvedAt − startedAt       resolved incidents
 *   MTBF = startedAt − the service's previous resolvedAt, when the service was not failing
 *
 * Combining days: a rollup carries its samples (every duration it summarized, sorted), so a
 * period's count, mean, p50 and p90 are computed from the union of the days' samples and are
 * exactly what summarizing the raw values would give — never a mean of means or a percentile of
 * percentiles (see analysis.ts, `summarizePeriod`).
 */

/** What the metrics need of an incident (the store's Incident narrowed; see app/rollup.ts). */
export interface IncidentFacts {
  readonly id: string;
  readonly service: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  /** When the problem began (the earliest alert's own timestamp). */
  readonly startedAt: string;
  /** When Klaxon opened the incident. */
  readonly detectedAt: string;
  /** The first acknowledgement. */
  readonly acknowledgedAt?: string;
  /** Present exactly when the incident is resolved: the metrics go by it, not by `status`. */
  readonly resolvedAt?: string;
  /** "Exclude from metrics": counted in `excluded` only. */
  readonly excluded: boolean;
  readonly escalations: number;
  readonly pagesSent: number;
}

/** A summary of durations in seconds; mean and percentiles rounded to 0.001 s, null when count is 0. */
export interface Stat {
  readonly count: number;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
}

/**
 * Every duration (seconds, ascending) a rollup's Stats were computed from. They make rollups
 * combinable exactly: a period's Stat is `summarize` of the days' samples put together.
 * `mttd.length === mttd stat count`, and so on.
 */
export interface Samples {
  readonly mttd: number[];
  readonly mtta: number[];
  readonly mttr: number[];
  readonly mtbf: number[];
}

export interface Breaches {
  readonly mttd: number;
  readonly mtta: number;
  readonly mttr: number;
}

export interface Rollup {
  /** YYYY-MM-DD in the configured zone. */
  readonly day: string;
  /** '*' = all services. */
  readonly service: string;
  /** '*' = all severities. */
  readonly severity: Severity | '*';
  /** Incidents of the day in this group; excluded ones are not counted. */
  readonly incidents: number;
  /** …of which detected that day. */
  readonly opened: number;
  /** …of which resolved that day. */
  readonly resolved: number;
  /** …of which unresolved. */
  readonly stillOpen: number;
  /** Incidents of the day in this group marked "exclude from metrics". */
  readonly excluded: number;
  /** Durations (MTTD, MTTA, MTTR) that were negative — clock skew — and were counted as 0. */
  readonly clamped: number;
  readonly mttd: Stat;
  readonly mtta: Stat;
  readonly mttr: Stat;
  readonly mtbf: Stat;
  /** Incidents whose duration was at or over the target (TARGETS). */
  readonly breaches: Breaches;
  readonly escalations: number;
  readonly pagesSent: number;
  /** SEV-1/SEV-2 minutes from startedAt to resolvedAt of the incidents resolved that day (error budgets). */
  readonly downtimeMinutes: number;
  /** The durations behind mttd/mtta/mttr/mtbf, for combining days exactly. */
  readonly samples: Samples;
}

/**
 * Seed targets (PRACTICE.md, "The Four Golden Metrics"). A breach is a duration ≥ the target.
 * MTTD's applies to every severity; MTTA's and MTTR's to SEV-1 and SEV-2 only.
 */
export const TARGETS: {
  readonly mttdSeconds: number;
  readonly mttaSeconds: Readonly<Partial<Record<Severity, number>>>;
  readonly mttrSeconds: Readonly<Partial<Record<Severity, number>>>;
} = Object.freeze({
  mttdSeconds: 5 * 60,
  mttaSeconds: Object.freeze({ 'SEV-1': 5 * 60, 'SEV-2': 15 * 60 }),
  mttrSeconds: Object.freeze({ 'SEV-1': 60 * 60, 'SEV-2': 4 * 60 * 60 }),
});

/** Severities whose resolved minutes use up the error budget. */
const BUDGET_SEVERITIES: ReadonlySet<Severity> = new Set(['SEV-1', 'SEV-2']);

/** Length of the average month in days (365.25 / 12): 99.9% → 43.83 minutes, the figure the practice uses. */
export const AVERAGE_MONTH_DAYS = 30.4375;

const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------
// Statistics

/** Rounds to 0.001 (milliseconds, for seconds); never returns -0. */
export function round3(x: number): number {
  const r = Math.round(x * 1000) / 1000;
  return r === 0 ? 0 : r;
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of finite values sorted ascending, by linear interpolation
 * between the closest ranks — Hyndman & Fan type 7, numpy's and Excel PERCENTILE.INC's default:
 * with h = (n − 1)·p/100, the value is x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) (0-based).
 * So p50 of an even count is the mean of the middle two, p0 the minimum, p100 the maximum.
 * Throws RangeError for an empty list, p outside [0, 100], or values not finite and ascending.
 */
export function percentile(sortedAscending: readonly number[], p: number): number {
  const n = sortedAscending.length;
  if (n === 0) throw new RangeError('percentile of an empty list');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile p must be within 0..100, got ${p}`);
  for (let i = 0; i < n; i++) {
    const v = sortedAscending[i] as number;
    if (!Number.isFinite(v)) throw new RangeError(`percentile of a non-finite value: ${v}`);
    if (i > 0 && v < (sortedAscending[i - 1] as number))
      throw new RangeError('percentile needs values sorted ascending');
  }
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const a = sortedAscending[lo] as number;
  if (h === lo || lo + 1 >= n) return a;
  const b = sortedAscending[lo + 1] as number;
  // Clamped so rounding can never step outside [a, b] (keeps the result monotone in p).
  return Math.min(Math.max(a + (h - lo) * (b - a), a), b);
}

/**
 * count, mean, p50 and p90 of finite values (any order), rounded to 0.001. The sum is taken in
 * ascending order, so the same multiset of values always gives the same Stat, bit for bit.
 */
export function summarize(values: readonly number[]): Stat {
  for (const v of values)
    if (!Number.isFinite(v)) throw new RangeError(`cannot summarize a non-finite value: ${v}`);
  const sorted = [...values].sort((a, b) => a - b);
  const count = sorted.length;
  if (count === 0) return { count: 0, mean: null, p50: null, p90: null };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count,
    mean: round3(sum / count),
    p50: round3(percentile(sorted, 50)),
    p90: round3(percentile(sorted, 90)),
  };
}

// ---------------------------------------------------------------------------------------------
// Local days

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of `day` 00:00 UTC; RangeError unless `day` is a real YYYY-MM-DD date. */
function parseDay(day: string): number {
  const m = DAY_PATTERN.exec(day);
  if (m === null) throw new RangeError(`not a day (YYYY-MM-DD): "${day}"`);
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (formatDay(t) !== day) throw new RangeError(`not a calendar day: "${day}"`);
  return t;
}

/** YYYY-MM-DD of a wall-clock value (a local date-time encoded as if it were UTC). */
function formatDay(wall: number): string {
  return new Date(wall).toISOString().slice(0, 10);
}

/** ISO date-times must carry their offset ('Z' or ±HH:MM): no dependence on the host's zone. */
const OFFSET_PATTERN = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch milliseconds of an ISO date-time with an offset; RangeError naming `what` otherwise. */
export function instant(iso: string | Date, what: string): number {
  const t =
    typeof iso === 'string' ? (OFFSET_PATTERN.test(iso) ? Date.parse(iso) : Number.NaN) : iso.getTime();
  if (!Number.isFinite(t))
    throw new RangeError(`${what}: not an ISO date-time with an offset: "${String(iso)}"`);
  return t;
}

/** The local day (YYYY-MM-DD) of an instant in `timeZone`. */
export function localDay(iso: string | Date, timeZone: string): string {
  return formatDay(localWall(instant(iso, 'localDay'), timeZone));
}

/**
 * Which day an incident belongs to: its resolution day in the zone; an open incident by its
 * start day. (An incident open when its start day was rolled up moves to its resolution day.)
 */
export function incidentDay(
  incident: Pick<IncidentFacts, 'startedAt' | 'resolvedAt'>,
  timeZone: string,
): string {
  return localDay(incident.resolvedAt ?? incident.startedAt, timeZone);
}

/** The day before the local day of `at` (what the nightly run at 01:30 local rolls up). */
export function previousDay(at: Date, timeZone: string): string {
  return formatDay(parseDay(localDay(at, timeZone)) - DAY);
}

/**
 * [start, end) instants of a local day, correct across DST (23/25-hour days). A day starts at the
 * first instant its local clock shows 00:00 — or, where a change skips midnight, at the change.
 */
export function dayBounds(day: string, timeZone: string): { start: Date; end: Date } {
  const wall = parseDay(day);
  return {
    start: new Date(localToInstant(wall, timeZone)),
    end: new Date(localToInstant(wall + DAY, timeZone)),
  };
}

/** The day `n` days after `day` (before it when n < 0). */
export function addDays(day: string, n: number): string {
  return formatDay(parseDay(day) + n * DAY);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysFrom(from: string, to: string): number {
  return Math.round((parseDay(to) - parseDay(from)) / DAY);
}

/** Every local day from..to inclusive (empty when from > to). */
export function daysBetween(from: string, to: string): string[] {
  const end = parseDay(to);
  const days: string[] = [];
  for (let t = parseDay(from); t <= end; t += DAY) days.push(formatDay(t));
  return days;
}

/** 'YYYY-MM' of a day. */
export function monthOf(day: string): string {
  parseDay(day);
  return day.slice(0, 7);
}

/**
 * Minutes of downtime a month an availability objective allows, over the average Gregorian month
 * (30.4375 days = 43 830 minutes): (100 − availability)% of it, rounded to 0.001.
 * 99.9 → 43.83, 99.95 → 21.915, 99.99 → 4.383.
 */
export function monthlyBudgetMinutes(availability: number): number {
  if (!(availability >= 0 && availability <= 100)) {
    throw new RangeError(`availability must be a percentage within 0..100, got ${availability}`);
  }
  return round3(((100 - availability) / 100) * AVERAGE_MONTH_DAYS * 24 * 60);
}

// ---------------------------------------------------------------------------------------------
// Rollups

/** One incident, measured (milliseconds; durations already clamped to ≥ 0). */
interface Measured {
  readonly facts: IncidentFacts;
  readonly started: number;
  readonly resolved: number | undefined;
  readonly mttd: number;
  readonly mtta: number | undefined;
  readonly mttr: number | undefined;
  readonly clamped: number;
  readonly openedToday: boolean;
  readonly resolvedToday: boolean;
  readonly downtime: number;
  /** MTBF: the gap before this incident, attributed to it (it ends the gap). */
  gap?: number;
}

interface Accumulator {
  incidents: number;
  opened: number;
  resolved: number;
  stillOpen: number;
  excluded: number;
  clamped: number;
  mttd: number[];
  mtta: number[];
  mttr: number[];
  mtbf: number[];
  breaches: { mttd: number; mtta: number; mttr: number };
  escalations: number;
  pagesSent: number;
  downtime: number;
}

function measure(facts: IncidentFacts, day: string, timeZone: string): Measured {
  const at = (field: 'startedAt' | 'detectedAt' | 'acknowledgedAt' | 'resolvedAt') => {
    const value = facts[field];
    return value === undefined ? undefined : instant(value, `incident ${facts.id} ${field}`);
  };
  const started = at('startedAt') as number;
  const detected = at('detectedAt') as number;
  const acknowledged = at('acknowledgedAt');
  const resolved = at('resolvedAt');
  let clamped = 0;
  const duration = (from: number, to: number | undefined): number | undefined => {
    if (to === undefined) return undefined;
    if (to < from) {
      clamped++;
      return 0;
    }
    return to - from;
  };
  const mttr = duration(started, resolved);
  const resolvedToday = resolved !== undefined && localDay(new Date(resolved), timeZone) === day;
  return {
    facts,
    started,
    resolved,
    mttd: duration(started, detected) as number,
    mtta: duration(detected, acknowledged),
    mttr,
    clamped,
    openedToday: localDay(new Date(detected), timeZone) === day,
    resolvedToday,
    downtime: resolvedToday && BUDGET_SEVERITIES.has(facts.severity) ? (mttr ?? 0) : 0,
  };
}

/** An incident of another day, as far as MTBF needs it (epoch ms). */
interface Interval {
  readonly started: number;
  readonly resolved: number | undefined;
}

/**
 * MTBF gaps of one service's incidents of the day, in place. In start order, an incident's gap
 * is its start minus the latest resolution before it (the previous incidents of the day, or
 * `previousResolvedAt` for the first). No gap when that is unknown, or when the service was still
 * failing: an earlier incident — of the day, or one of `unresolved` (other days' incidents not
 * resolved at the first start) that started at or before it — resolved after this one started
 * (overlap) or is still open. The `unresolved` are part of the chain but get no gap themselves.
 */
function assignGaps(
  incidents: Measured[],
  previousResolvedAt: number | undefined,
  unresolved: readonly Interval[],
): void {
  incidents.sort((a, b) => a.started - b.started || compareStrings(a.facts.id, b.facts.id));
  const others = [...unresolved].sort((a, b) => a.started - b.started);
  let lastResolved = previousResolvedAt;
  let failing = false;
  const follow = (i: Interval) => {
    if (i.resolved === undefined) failing = true;
    else lastResolved = lastResolved === undefined ? i.resolved : Math.max(lastResolved, i.resolved);
  };
  let next = 0;
  for (const m of incidents) {
    for (; next < others.length && (others[next] as Interval).started <= m.started; next++)
      follow(others[next] as Interval);
    if (!failing && lastResolved !== undefined && m.started >= lastResolved) m.gap = m.started - lastResolved;
    follow(m);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyAccumulator(): Accumulator {
  return {
    incidents: 0,
    opened: 0,
    resolved: 0,
    stillOpen: 0,
    excluded: 0,
    clamped: 0,
    mttd: [],
    mtta: [],
    mttr: [],
    mtbf: [],
    breaches: { mttd: 0, mtta: 0, mttr: 0 },
    escalations: 0,
    pagesSent: 0,
    downtime: 0,
  };
}

function add(acc: Accumulator, m: Measured): void {
  const { facts } = m;
  const mttaTarget = TARGETS.mttaSeconds[facts.severity];
  const mttrTarget = TARGETS.mttrSeconds[facts.severity];
  acc.incidents++;
  if (m.openedToday) acc.opened++;
  if (m.resolvedToday) acc.resolved++;
  if (m.resolved === undefined) acc.stillOpen++;
  acc.clamped += m.clamped;
  acc.mttd.push(m.mttd);
  if (m.mttd >= TARGETS.mttdSeconds * 1000) acc.breaches.mttd++;
  if (m.mtta !== undefined) {
    acc.mtta.push(m.mtta);
    if (mttaTarget !== undefined && m.mtta >= mttaTarget * 1000) acc.breaches.mtta++;
  }
  if (m.mttr !== undefined) {
    acc.mttr.push(m.mttr);
    if (mttrTarget !== undefined && m.mttr >= mttrTarget * 1000) acc.breaches.mttr++;
  }
  if (m.gap !== undefined) acc.mtbf.push(m.gap);
  acc.escalations += facts.escalations;
  acc.pagesSent += facts.pagesSent;
  acc.downtime += m.downtime;
}

/** Milliseconds → seconds, ascending. */
function seconds(ms: readonly number[]): number[] {
  return ms.map((v) => v / 1000).sort((a, b) => a - b);
}

function toRollup(day: string, service: string, severity: Severity | '*', acc: Accumulator): Rollup {
  const samples: Samples = {
    mttd: seconds(acc.mttd),
    mtta: seconds(acc.mtta),
    mttr: seconds(acc.mttr),
    mtbf: seconds(acc.mtbf),
  };
  return {
    day,
    service,
    severity,
    incidents: acc.incidents,
    opened: acc.opened,
    resolved: acc.resolved,
    stillOpen: acc.stillOpen,
    excluded: acc.excluded,
    clamped: acc.clamped,
    mttd: summarize(samples.mttd),
    mtta: summarize(samples.mtta),
    mttr: summarize(samples.mttr),
    mtbf: summarize(samples.mtbf),
    breaches: { ...acc.breaches },
    escalations: acc.escalations,
    pagesSent: acc.pagesSent,
    downtimeMinutes: round3(acc.downtime / MINUTE),
    samples,
  };
}

/**
 * Rollups of one day: one overall ('*', '*') — always, even for a day without incidents — then
 * per service (by id): its '*' row and one per severity present (SEV-1..SEV-4 order). A group is
 * present when any incident of the day, excluded or not, falls in it. `incidents` are the day's
 * incidents (the caller reads them by the day key; ids must be unique).
 * `previousResolvedAt[service]` is the latest resolution of that service (non-excluded incidents)
 * before that service's first incident start of the day, or undefined: MTBF across the boundary.
 * `unresolvedBefore[service]` are that service's non-excluded incidents of other days that started
 * before its first start of the day and were not resolved then (still open, or resolved later):
 * the service was still failing, so they suppress the gaps of the day's incidents they overlap.
 *
 * MTBF gaps are per service; a gap is attributed to the incident that ends it, so a
 * (service, severity) row holds the gaps ending at incidents of that severity, a service row all
 * of the service's gaps and the overall row every service's gaps together.
 */
export function rollupDay(
  day: string,
  timeZone: string,
  incidents: readonly IncidentFacts[],
  previousResolvedAt: Readonly<Record<string, string | undefined>>,
  unresolvedBefore: Readonly<
    Record<string, readonly Pick<IncidentFacts, 'id' | 'startedAt' | 'resolvedAt'>[] | undefined>
  > = {},
): Rollup[] {
  parseDay(day);
  const ids = new Set<string>();
  for (const incident of incidents) {
    if (ids.has(incident.id))
      throw new RangeError(`incident ${incident.id} appears twice in the day's incidents`);
    ids.add(incident.id);
    if (incident.service === '*') throw new RangeError(`incident ${incident.id}: '*' is not a service`);
    if (!SEVERITIES.includes(incident.severity)) {
      throw new RangeError(`incident ${incident.id}: unknown severity "${incident.severity}"`);
    }
  }

  for (const list of Object.values(unresolvedBefore)) {
    for (const other of list ?? []) {
      if (ids.has(other.id))
        throw new RangeError(`incident ${other.id} is one of the day's incidents, not of another day`);
    }
  }

  const measured = incidents.filter((i) => !i.excluded).map((i) => measure(i, day, timeZone));
  const byService = new Map<string, Measured[]>();
  for (const m of measured) {
    const list = byService.get(m.facts.service);
    if (list === undefined) byService.set(m.facts.service, [m]);
    else list.push(m);
  }
  for (const [service, list] of byService) {
    const previous = previousResolvedAt[service];
    const unresolved = (unresolvedBefore[service] ?? []).map(
      (i): Interval => ({
        started: instant(i.startedAt, `unresolvedBefore.${service} ${i.id} startedAt`),
        resolved:
          i.resolvedAt === undefined
            ? undefined
            : instant(i.resolvedAt, `unresolvedBefore.${service} ${i.id} resolvedAt`),
      }),
    );
    assignGaps(
      list,
      previous === undefined ? undefined : instant(previous, `previousResolvedAt.${service}`),
      unresolved,
    );
  }

  const groups = new Map<string, { service: string; severity: Severity | '*'; acc: Accumulator }>();
  const groupsOf = (facts: IncidentFacts): Accumulator[] =>
    (
      [
        ['*', '*'],
        [facts.service, '*'],
        [facts.service, facts.severity],
      ] as const
    ).map(([service, severity]) => {
      const key = `${service}\u0000${severity}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { service, severity, acc: emptyAccumulator() };
        groups.set(key, group);
      }
      return group.acc;
    });
  groups.set(`*\u0000*`, { service: '*', severity: '*', acc: emptyAccumulator() });
  for (const incident of incidents) {
    if (incident.excluded) for (const acc of groupsOf(incident)) acc.excluded++;
  }
  for (const m of measured) for (const acc of groupsOf(m.facts)) add(acc, m);

  const severityRank = (s: Severity | '*') => (s === '*' ? -1 : SEVERITIES.indexOf(s));
  return [...groups.values()]
    .sort((a, b) =>
      a.service === b.service
        ? severityRank(a.severity) - severityRank(b.severity)
        : a.service === '*'
          ? -1
          : b.service === '*'
            ? 1
            : compareStrings(a.service, b.service),
    )
    .map((g) => toRollup(day, g.service, g.severity, g.acc));
}
