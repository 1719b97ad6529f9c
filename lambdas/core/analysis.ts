import { daysBetween, localDay, type Rollup, round3, summarize, TARGETS } from './metrics.ts';
import { isOverdue } from './postmortem.ts';
import { SEVERITIES, type Severity } from './severity.ts';

/**
 * Period analysis over daily rollups — what the practice's analyze_mttr script does: summaries
 * per period, severity and service, period-over-period comparison, worst services, and plain
 * recommendations. Pure: rollups in, numbers and sentences out.
 *
 * Combining: counts add; every Stat is `summarize` of the days' samples put together, so a
 * period's mean, p50 and p90 are exactly those of the raw durations (docs/METRICS.md).
 */

/**
 * One group over a period: a rollup's numbers without its day and group keys — counts summed
 * over the daily rows (`stillOpen`: each day's count when it was rolled up), Stats from their samples.
 */
export type GroupSummary = Omit<Rollup, 'day' | 'service' | 'severity' | 'samples'>;

export interface PeriodSummary extends GroupSummary {
  readonly from: string;
  readonly to: string;
  /** Days in from..to. */
  readonly days: number;
  /** Days in from..to without an overall rollup (never rolled up: the numbers miss them). */
  readonly missingDays: string[];
  /** By severity, over all services (SEV-1..SEV-4 order, present ones only). */
  readonly bySeverity: Record<string, GroupSummary>;
  /** By service id (sorted, present ones only). */
  readonly byService: Record<string, GroupSummary>;
}

export type Metric = 'mttd' | 'mtta' | 'mttr' | 'mtbf';
export const METRICS: readonly Metric[] = ['mttd', 'mtta', 'mttr', 'mtbf'];

export interface Comparison {
  readonly metric: Metric;
  /** 'all' | 'severity:SEV-2' | 'service:api' */
  readonly scope: string;
  /** Means in seconds; null where the period has no value. */
  readonly previous: number | null;
  readonly current: number | null;
  /** current / previous − 1, rounded to 0.001; null unless both are known and previous > 0 (0 → 0 is 0). */
  readonly change: number | null;
}

/** A rise of at least this ratio (+50%) in MTTA or MTTR is called out. */
export const RISE_RATIO = 1.5;
/** A fall of MTBF to at most this ratio (−25%) is called out. */
export const FALL_RATIO = 0.75;
/** "Many still open": at least this many, and at least STILL_OPEN_SHARE of the incidents. */
export const STILL_OPEN_MIN = 3;
export const STILL_OPEN_SHARE = 0.1;

function combine(rows: readonly Rollup[]): GroupSummary {
  const sum = (f: (r: Rollup) => number) => rows.reduce((total, r) => total + f(r), 0);
  const stat = (metric: Metric) => summarize(rows.flatMap((r) => r.samples[metric]));
  return {
    incidents: sum((r) => r.incidents),
    opened: sum((r) => r.opened),
    resolved: sum((r) => r.resolved),
    stillOpen: sum((r) => r.stillOpen),
    excluded: sum((r) => r.excluded),
    clamped: sum((r) => r.clamped),
    mttd: stat('mttd'),
    mtta: stat('mtta'),
    mttr: stat('mttr'),
    mtbf: stat('mtbf'),
    breaches: {
      mttd: sum((r) => r.breaches.mttd),
      mtta: sum((r) => r.breaches.mtta),
      mttr: sum((r) => r.breaches.mttr),
    },
    escalations: sum((r) => r.escalations),
    pagesSent: sum((r) => r.pagesSent),
    downtimeMinutes: round3(sum((r) => r.downtimeMinutes)),
  };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The period from..to (inclusive local days) from the rollups of those days; rollups of other
 * days are ignored. Overall numbers come from the ('*', '*') rows, services from their '*' rows,
 * severities from the (service, severity) rows. Throws RangeError for from > to, and for two
 * rollups of the same (day, service, severity) — mixing an old run with a re-run would count twice.
 */
export function summarizePeriod(rollups: readonly Rollup[], from: string, to: string): PeriodSummary {
  const days = daysBetween(from, to);
  if (days.length === 0) throw new RangeError(`period from ${from} to ${to} is empty`);
  const inPeriod = rollups.filter((r) => r.day >= from && r.day <= to);
  const seen = new Set<string>();
  for (const r of inPeriod) {
    const key = `${r.day} ${r.service} ${r.severity}`;
    if (seen.has(key)) throw new RangeError(`two rollups for ${key}`);
    seen.add(key);
  }
  const overall = inPeriod.filter((r) => r.service === '*' && r.severity === '*');
  const covered = new Set(overall.map((r) => r.day));

  const byService: Record<string, GroupSummary> = {};
  const services = [...new Set(inPeriod.filter((r) => r.service !== '*').map((r) => r.service))].sort(
    compareStrings,
  );
  for (const service of services) {
    byService[service] = combine(inPeriod.filter((r) => r.service === service && r.severity === '*'));
  }
  const bySeverity: Record<string, GroupSummary> = {};
  for (const severity of SEVERITIES) {
    const rows = inPeriod.filter((r) => r.service !== '*' && r.severity === severity);
    if (rows.length > 0) bySeverity[severity] = combine(rows);
  }
  return {
    from,
    to,
    days: days.length,
    missingDays: days.filter((d) => !covered.has(d)),
    ...combine(overall),
    bySeverity,
    byService,
  };
}

function changeOf(previous: number | null, current: number | null): number | null {
  if (previous === null || current === null) return null;
  if (previous === 0) return current === 0 ? 0 : null;
  return round3(current / previous - 1);
}

/** Scopes present in either summary: 'all', then severities (SEV order), then services (sorted). */
function scopes(
  current: PeriodSummary,
  previous: PeriodSummary,
): { scope: string; of: (s: PeriodSummary) => GroupSummary | undefined }[] {
  const severities = SEVERITIES.filter((s) => s in current.bySeverity || s in previous.bySeverity);
  const services = [...new Set([...Object.keys(current.byService), ...Object.keys(previous.byService)])].sort(
    compareStrings,
  );
  return [
    { scope: 'all', of: (s: PeriodSummary) => s },
    ...severities.map((sev) => ({ scope: `severity:${sev}`, of: (s: PeriodSummary) => s.bySeverity[sev] })),
    ...services.map((svc) => ({ scope: `service:${svc}`, of: (s: PeriodSummary) => s.byService[svc] })),
  ];
}

/**
 * Period over period, by mean: for each metric (MTTD, MTTA, MTTR, MTBF), the scopes 'all', every
 * severity and every service present in either period, in that order.
 */
export function compare(current: PeriodSummary, previous: PeriodSummary): Comparison[] {
  const list = scopes(current, previous);
  return METRICS.flatMap((metric) =>
    list.map(({ scope, of }) => {
      const cur = of(current)?.[metric].mean ?? null;
      const prev = of(previous)?.[metric].mean ?? null;
      return { metric, scope, previous: prev, current: cur, change: changeOf(prev, cur) };
    }),
  );
}

/** The n services with the highest mean MTTA or MTTR (ties by id); services without a value are left out. */
export function worstServices(
  summary: PeriodSummary,
  metric: 'mtta' | 'mttr',
  n: number,
): { service: string; value: number }[] {
  return Object.entries(summary.byService)
    .flatMap(([service, s]) => (s[metric].mean === null ? [] : [{ service, value: s[metric].mean }]))
    .sort((a, b) => b.value - a.value || compareStrings(a.service, b.service))
    .slice(0, Math.max(0, Math.floor(n)));
}

/** 45s, 13m, 1h 5m, 2d 3h — for sentences; numbers stay in seconds everywhere else. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 24 * 60)
    return minutes % 60 === 0 ? `${minutes / 60}h` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  const hours = Math.round(seconds / 3600);
  return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** 'rose 60%', 'doubled' (2–2.5×), 'rose 3.5×', 'fell 40%'. */
function movement(ratio: number): string {
  if (ratio >= 2.5) return `rose ${(Math.round(ratio * 10) / 10).toString()}×`;
  if (ratio >= 2) return 'doubled';
  if (ratio >= 1) return `rose ${Math.round((ratio - 1) * 100)}%`;
  return `fell ${Math.round((1 - ratio) * 100)}%`;
}

const ADVICE = {
  mttd: 'add synthetic monitoring and alert on symptoms earlier, so problems are detected sooner.',
  mtta: 'check alert quality and on-call coverage.',
  mttr: 'improve runbooks, automate the common fixes and make rollback a single step.',
  mtbf: 'follow up the postmortem action items and add tests for the failures that recur.',
  open: 'triage them — resolve what is over, and mark drills and duplicates "exclude from metrics".',
} as const;

/** "MTTA for SEV-2 doubled (6m → 13m), over the 15m target (3 of 8 incidents)" — or undefined. */
function responseFinding(
  metric: 'mtta' | 'mttr',
  severity: Severity,
  current: GroupSummary,
  previous: GroupSummary | undefined,
): string | undefined {
  const cur = current[metric].mean;
  if (cur === null) return undefined;
  const target = (metric === 'mtta' ? TARGETS.mttaSeconds : TARGETS.mttrSeconds)[severity];
  const prev = previous?.[metric].mean ?? null;
  const rose = prev !== null && prev > 0 && cur >= RISE_RATIO * prev;
  const over = target !== undefined && cur >= target ? target : undefined;
  if (!rose && over === undefined) return undefined;
  const name = `${metric.toUpperCase()} for ${severity}`;
  const head = rose
    ? `${name} ${movement(cur / (prev as number))} (${formatDuration(prev as number)} → ${formatDuration(cur)})`
    : `${name} is ${formatDuration(cur)}`;
  const tail =
    over !== undefined
      ? `, over the ${formatDuration(over)} target (${current.breaches[metric]} of ${current[metric].count} incidents)`
      : '';
  return `${head}${tail}: ${ADVICE[metric]}`;
}

/**
 * Plain-language findings, in a fixed order:
 *   1. MTTD (all incidents) at or over its target → detection;
 *   2. MTTA per severity (SEV-1..4) at or over target, or up ≥ 50% → alert quality, on-call;
 *   3. MTTR per severity at or over target, or up ≥ 50% → runbooks, automation, rollback;
 *   4. MTBF per service (sorted) down ≥ 25% → action items, testing;
 *   5. many still open (≥ 3 and ≥ 10% of incidents) → triage.
 * Means are compared; a rule on a change needs a value in both periods.
 */
export function recommendations(current: PeriodSummary, previous: PeriodSummary): string[] {
  const out: string[] = [];
  const mttd = current.mttd.mean;
  if (mttd !== null && mttd >= TARGETS.mttdSeconds) {
    out.push(
      `MTTD is ${formatDuration(mttd)}, over the ${formatDuration(TARGETS.mttdSeconds)} target ` +
        `(${current.breaches.mttd} of ${current.mttd.count} incidents): ${ADVICE.mttd}`,
    );
  }
  for (const metric of ['mtta', 'mttr'] as const) {
    for (const severity of SEVERITIES) {
      const group = current.bySeverity[severity];
      const finding = group && responseFinding(metric, severity, group, previous.bySeverity[severity]);
      if (finding !== undefined) out.push(finding);
    }
  }
  for (const [service, group] of Object.entries(current.byService).sort(([a], [b]) => compareStrings(a, b))) {
    const cur = group.mtbf.mean;
    const prev = previous.byService[service]?.mtbf.mean ?? null;
    if (cur !== null && prev !== null && prev > 0 && cur <= FALL_RATIO * prev) {
      out.push(
        `MTBF for ${service} ${movement(cur / prev)} (${formatDuration(prev)} → ${formatDuration(cur)}): ${ADVICE.mtbf}`,
      );
    }
  }
  const { stillOpen, incidents } = current;
  if (stillOpen >= STILL_OPEN_MIN && stillOpen >= STILL_OPEN_SHARE * incidents) {
    const share = Math.round((stillOpen / incidents) * 100);
    out.push(`${stillOpen} of ${incidents} incidents (${share}%) are still open: ${ADVICE.open}`);
  }
  return out;
}

/** What `summarizeActionItems` reads of an action item (ActionItemRecord has these). */
export interface FollowedItem {
  readonly incidentId: string;
  readonly action: string;
  readonly owner: string;
  /** YYYY-MM-DD, a day in the team's zone. */
  readonly deadline: string;
  readonly status: 'open' | 'done';
  /** When it was marked done (an instant). */
  readonly doneAt?: string;
}

/**
 * What became of the postmortem action items due in a period — PRACTICE: "Ignore action item
 * completion → same incidents repeat". An item counts in the period its deadline falls in.
 */
export interface ActionItemSummary {
  readonly due: number;
  /** Done by the end of their deadline's day, in the team's zone. */
  readonly doneOnTime: number;
  readonly doneLate: number;
  /** Not done, their deadline's day over (one still open on or before it is not counted yet). */
  readonly open: number;
  /** doneOnTime / due, rounded to 0.001; null with nothing due. */
  readonly onTime: number | null;
}

export function summarizeActionItems(
  items: readonly FollowedItem[],
  from: string,
  to: string,
  timeZone: string,
  today?: string,
): ActionItemSummary {
  // An item still open on its deadline's day is not late yet: counted once that day is over.
  const due = items.filter(
    (i) =>
      i.deadline >= from &&
      i.deadline <= to &&
      (i.status === 'done' || today === undefined || isOverdue(i, today)),
  );
  const onTime = (i: FollowedItem) =>
    i.status === 'done' && i.doneAt !== undefined && localDay(i.doneAt, timeZone) <= i.deadline;
  const doneOnTime = due.filter(onTime).length;
  const open = due.filter((i) => i.status === 'open').length;
  return {
    due: due.length,
    doneOnTime,
    doneLate: due.length - doneOnTime - open,
    open,
    onTime: due.length === 0 ? null : round3(doneOnTime / due.length),
  };
}

/** Open items whose deadline is before `today` (YYYY-MM-DD in the team's zone), oldest deadline first. */
export function overdueActionItems<T extends FollowedItem>(items: readonly T[], today: string): T[] {
  return items
    .filter((i) => isOverdue(i, today))
    .sort((a, b) => compareStrings(a.deadline, b.deadline) || compareStrings(a.incidentId, b.incidentId));
}

/** Below this share of items done on time (with at least ACTION_ITEMS_MIN due), it is called out. */
export const ACTION_ITEMS_ON_TIME = 0.8;
export const ACTION_ITEMS_MIN = 3;

/** The action items' recommendations: overdue ones to follow up, a low on-time share. */
export function actionItemFindings(
  current: ActionItemSummary,
  previous: ActionItemSummary,
  overdue: readonly FollowedItem[],
): string[] {
  const out: string[] = [];
  const [oldest] = overdue;
  if (oldest !== undefined) {
    out.push(
      `${overdue.length} postmortem action item${overdue.length === 1 ? ' is' : 's are'} past ${overdue.length === 1 ? 'its' : 'their'} deadline ` +
        `(oldest: "${oldest.action}", @${oldest.owner}, due ${oldest.deadline}, incident ${oldest.incidentId}): ` +
        'follow them up with their owners — unfinished action items let the same incidents repeat.',
    );
  }
  if (current.onTime !== null && current.due >= ACTION_ITEMS_MIN && current.onTime < ACTION_ITEMS_ON_TIME) {
    const before =
      previous.onTime === null ? '' : ` (${Math.round(previous.onTime * 100)}% the period before)`;
    out.push(
      `${Math.round(current.onTime * 100)}% of the ${current.due} action items due in the period were done by their deadline${before}: ` +
        'set deadlines the owners can keep, and review open items at each postmortem meeting.',
    );
  }
  return out;
}
