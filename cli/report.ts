import {
  type ActionItemSummary,
  actionItemFindings,
  type Comparison,
  compare,
  type FollowedItem,
  formatDuration,
  type GroupSummary,
  overdueActionItems,
  type PeriodSummary,
  recommendations,
  summarizeActionItems,
  summarizePeriod,
  worstServices,
} from '#core/analysis';
import type { Rollup, Stat } from '#core/metrics';
import { isOverdue } from '#core/postmortem';

/** What `klaxon metrics` computes from the rollups of two consecutive periods. */
export interface MetricsReport {
  readonly current: PeriodSummary;
  readonly previous: PeriodSummary;
  readonly comparisons: Comparison[];
  readonly worst: { mtta: { service: string; value: number }[]; mttr: { service: string; value: number }[] };
  readonly recommendations: string[];
  /** The postmortem action items due in each period, and those overdue today. */
  readonly actionItems?: {
    readonly current: ActionItemSummary;
    readonly previous: ActionItemSummary;
    readonly overdue: number;
  };
}

/** The action items to follow up, with the team's zone and today's day in it. */
export interface ActionItemsInput {
  readonly items: readonly FollowedItem[];
  readonly timeZone: string;
  /** YYYY-MM-DD in `timeZone`: items open with an earlier deadline are overdue. */
  readonly today: string;
}

/**
 * The items a report of the two periods from..to reads (due in them, or open past their deadline
 * today), without those of incidents excluded from metrics (drills, tests), as the rollups leave
 * the incidents out: each of their incidents asked once.
 */
export async function withoutExcluded<T extends FollowedItem>(
  all: readonly T[],
  report: { readonly from: string; readonly to: string; readonly today: string },
  excluded: (incidentId: string) => Promise<boolean>,
): Promise<T[]> {
  const items = all.filter(
    (i) => (i.deadline >= report.from && i.deadline <= report.to) || isOverdue(i, report.today),
  );
  const left = new Set<string>();
  for (const id of new Set(items.map((i) => i.incidentId))) if (await excluded(id)) left.add(id);
  return items.filter((i) => !left.has(i.incidentId));
}

/** The period of `days` days ending on `to`, and the one before it. */
export function periods(to: string, days: number): { current: [string, string]; previous: [string, string] } {
  const end = new Date(`${to}T00:00:00Z`);
  const shift = (n: number) => new Date(end.getTime() - n * 86_400_000).toISOString().slice(0, 10);
  return { current: [shift(days - 1), to], previous: [shift(2 * days - 1), shift(days)] };
}

export function buildReport(
  rollups: readonly Rollup[],
  to: string,
  days: number,
  actions?: ActionItemsInput,
): MetricsReport {
  const p = periods(to, days);
  const within = ([from, until]: [string, string]) => rollups.filter((r) => r.day >= from && r.day <= until);
  const current = summarizePeriod(within(p.current), ...p.current);
  const previous = summarizePeriod(within(p.previous), ...p.previous);
  const followed =
    actions === undefined
      ? undefined
      : {
          current: summarizeActionItems(actions.items, ...p.current, actions.timeZone, actions.today),
          previous: summarizeActionItems(actions.items, ...p.previous, actions.timeZone, actions.today),
          overdue: overdueActionItems(actions.items, actions.today),
        };
  return {
    current,
    previous,
    comparisons: compare(current, previous),
    worst: { mtta: worstServices(current, 'mtta', 3), mttr: worstServices(current, 'mttr', 3) },
    recommendations: [
      ...recommendations(current, previous),
      ...(followed ? actionItemFindings(followed.current, followed.previous, followed.overdue) : []),
    ],
    ...(followed
      ? {
          actionItems: {
            current: followed.current,
            previous: followed.previous,
            overdue: followed.overdue.length,
          },
        }
      : {}),
  };
}

const fmt = (seconds: number | null) => (seconds === null ? '—' : formatDuration(seconds));
const pct = (change: number | null) =>
  change === null ? '' : change === 0 ? '±0%' : `${change > 0 ? '+' : ''}${Math.round(change * 100)}%`;

function statCells(stat: Stat, verbose: boolean): string {
  return verbose ? `${fmt(stat.mean)} (p50 ${fmt(stat.p50)}, p90 ${fmt(stat.p90)})` : fmt(stat.mean);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function groupRow(name: string, g: GroupSummary, verbose: boolean): string[] {
  return [
    name,
    String(g.incidents),
    statCells(g.mttd, verbose),
    statCells(g.mtta, verbose),
    statCells(g.mttr, verbose),
    statCells(g.mtbf, verbose),
    String(g.breaches.mttd + g.breaches.mtta + g.breaches.mttr),
  ];
}

/** The plain-text report, as the practice's analysis script prints it. */
export function renderReport(
  report: MetricsReport,
  options: { compareServices: boolean; bySeverity: boolean; verbose: boolean },
): string {
  const { current, previous } = report;
  const change = (metric: string) => report.comparisons.find((c) => c.metric === metric && c.scope === 'all');
  const out: string[] = [];
  out.push(
    `Incident metrics ${current.from} … ${current.to} (${current.days} days), compared with ${previous.from} … ${previous.to}`,
  );
  out.push('');
  out.push(
    table([
      ['', 'now', 'before', 'change'],
      ['incidents', String(current.incidents), String(previous.incidents), ''],
      ...(['mttd', 'mtta', 'mttr', 'mtbf'] as const).map((m) => [
        `${m.toUpperCase()} (mean)`,
        fmt(current[m].mean),
        fmt(previous[m].mean),
        pct(change(m)?.change ?? null),
      ]),
      ['still open', String(current.stillOpen), String(previous.stillOpen), ''],
      [
        'target breaches',
        `MTTD ${current.breaches.mttd}, MTTA ${current.breaches.mtta}, MTTR ${current.breaches.mttr}`,
        '',
        '',
      ],
    ]),
  );
  const head = ['', 'incidents', 'MTTD', 'MTTA', 'MTTR', 'MTBF', 'breaches'];
  if (options.bySeverity && Object.keys(current.bySeverity).length > 0) {
    out.push(
      '',
      'By severity',
      table([head, ...Object.entries(current.bySeverity).map(([s, g]) => groupRow(s, g, options.verbose))]),
    );
  }
  if (options.compareServices && Object.keys(current.byService).length > 0) {
    const services = Object.entries(current.byService).sort(
      ([a, x], [b, y]) => (y.mttr.mean ?? -1) - (x.mttr.mean ?? -1) || a.localeCompare(b),
    );
    out.push(
      '',
      'By service (worst MTTR first)',
      table([head, ...services.map(([s, g]) => groupRow(s, g, options.verbose))]),
    );
  }
  if (report.worst.mtta.length > 0) {
    out.push(
      '',
      `Slowest to acknowledge: ${report.worst.mtta.map((w) => `${w.service} ${fmt(w.value)}`).join(', ')}`,
    );
  }
  const items = report.actionItems;
  if (items !== undefined && (items.current.due > 0 || items.previous.due > 0 || items.overdue > 0)) {
    const share = (s: ActionItemSummary) => (s.onTime === null ? '—' : `${Math.round(s.onTime * 100)}%`);
    out.push(
      '',
      'Postmortem action items (by deadline)',
      table([
        ['', 'now', 'before'],
        ['due', String(items.current.due), String(items.previous.due)],
        ['done on time', String(items.current.doneOnTime), String(items.previous.doneOnTime)],
        ['done late', String(items.current.doneLate), String(items.previous.doneLate)],
        ['still open', String(items.current.open), String(items.previous.open)],
        ['on time', share(items.current), share(items.previous)],
      ]),
      `Overdue today: ${items.overdue}`,
    );
  }
  if (options.verbose && current.missingDays.length > 0) {
    out.push('', `Days never rolled up (not in these numbers): ${current.missingDays.join(', ')}`);
  }
  out.push('', 'Recommendations');
  out.push(
    ...(report.recommendations.length > 0
      ? report.recommendations.map((r) => `- ${r}`)
      : current.incidents === 0
        ? ['- None: no incident in the period (a day is counted once rolled up, the night after it).']
        : ['- None: keep it up.']),
  );
  return `${out.join('\n')}\n`;
}

/** A one-line progress bar: `[#######.............] 7/20 2026-11-07`. */
export function progressBar(done: number, total: number, label: string, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
}
