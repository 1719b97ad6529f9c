import { mostSevere } from '#core/classification';
import type { KlaxonConfig } from '#core/config';
import { exportFiles, incidentExportRow, type RollupExportRow } from '#core/exports';
import type { Incident } from '#core/incident';
import {
  addDays,
  daysBetween,
  type IncidentFacts,
  instant,
  localDay,
  monthlyBudgetMinutes,
  monthOf,
  previousDay,
  type Rollup,
  rollupDay,
} from '#core/metrics';
import { contactKey, type Page } from '#core/page';
import { remindActionItems } from './follow-up.ts';
import type { AckLinks } from './links.ts';
import type {
  ActionItemStore,
  Clock,
  EventPublisher,
  ExportSink,
  IncidentStore,
  MetricsPublisher,
  MetricsStore,
  Pager,
  PreviousResolution,
} from './ports.ts';

/**
 * Theory of operation — the nightly rollup.
 *
 * Every incident carries the day it belongs to on the day index (gsi3): its start day while open,
 * its resolution day once resolved (local days in the configured zone). Rolling up day D:
 *   1. read D's incidents through that index — the items read are exactly D's incidents, no scan
 *      (plus, for MTBF across midnight, one short query per service for its previous resolution
 *      and the incidents of other days it was still failing from);
 *   2. compute the rollups (core/metrics.ts) and replace D's rollup items with them;
 *   3. write the exports (JSON Lines and CSV, incidents and rollups, under dt=D);
 *   4. error budgets: month-to-date SEV-1/SEV-2 downtime per service with an SLO; the first time a
 *      month's budget is used up, "Error Budget Exhausted" goes on the bus and the owners are told
 *      (a conditional put makes that once per service and month, however often D is re-run) —
 *      while the month is current or ended yesterday: a backfill of an older one tells nobody;
 *   5. publish the custom metrics.
 * Every step overwrites by key, so running a day twice gives the same rollup and the same files.
 * An incident open when D is rolled up and resolved later moves to its resolution day: re-running
 * D afterwards no longer counts it there (documented in docs/METRICS.md). A resolution can also be
 * filed under D after D's run (a monitoring period confirms a resolve asked for late on D after
 * midnight): so the nightly run (`runNightlyRollup`, the Lambda's schedule and the local runtime)
 * first re-rolls the days of the last REROLL_DAYS that changed since they were rolled up.
 */

export interface RollupDeps {
  readonly store: IncidentStore & MetricsStore;
  readonly config: KlaxonConfig;
  readonly clock: Clock;
  readonly sink: ExportSink;
  /** Key prefix inside the export bucket or folder ('' or ending in '/'). */
  readonly exportPrefix?: string;
  readonly events: EventPublisher;
  /** Only the rollups' metrics. */
  readonly metrics: Pick<MetricsPublisher, 'publish'>;
  readonly pager: Pager;
  readonly links: AckLinks;
  /** With it, the nightly run follows up overdue postmortem action items (app/follow-up.ts). */
  readonly actionItems?: ActionItemStore;
}

export interface BudgetStatus {
  readonly service: string;
  readonly month: string;
  readonly availability: number;
  readonly budgetMinutes: number;
  readonly usedMinutes: number;
  readonly exhausted: boolean;
  /** True when this run announced the exhaustion (once per service and month). */
  readonly announced: boolean;
}

export interface RollupResult {
  readonly day: string;
  /** Incident items read through the day index: equals `incidents`. */
  readonly itemsRead: number;
  readonly incidents: number;
  readonly rollups: Rollup[];
  readonly files: string[];
  readonly budgets: BudgetStatus[];
}

export function incidentFacts(incident: Incident): IncidentFacts {
  return {
    id: incident.id,
    service: incident.service,
    // The severity it held while its impact lasted, if it was lowered after the impact stopped:
    // a SEV-1 lowered to SEV-3 once mitigated is a SEV-1 in the metrics (its downtime, targets).
    severity: mostSevere([incident.sev, ...(incident.impactSev ? [incident.impactSev] : [])]) ?? incident.sev,
    status: incident.status,
    startedAt: incident.startedAt,
    detectedAt: incident.detectedAt,
    ...(incident.acknowledgedAt ? { acknowledgedAt: incident.acknowledgedAt } : {}),
    ...(incident.resolvedAt ? { resolvedAt: incident.resolvedAt } : {}),
    excluded: incident.excluded,
    escalations: incident.escalations,
    pagesSent: incident.pagesSent,
  };
}

/**
 * How many days before the day it rolls up the nightly run looks back for days whose rollup has
 * changed. A resolve with a monitoring period (up to 24 h, `resolveMonitoringMinutes` ≤ 1440) is
 * resolved when it was asked for — possibly after that day's run: 2 days cover that with room for
 * a late or retried run.
 */
export const REROLL_DAYS = 2;

/**
 * The nightly run for `day`: first, oldest first, each of the REROLL_DAYS days before it is rolled
 * up if its own night was missed, or re-rolled if it was rolled up before and has changed since —
 * it had incidents still open, or its incidents now give other rollups (an incident resolved after
 * the day's run but filed under it, like a resolve confirmed by its monitoring period after
 * midnight; one that moved to its resolution day; an exclusion) — rewriting its rollups, exports
 * and error budgets; then rolls up `day`. Every step is idempotent. Re-rolled days do not publish
 * the custom metrics again (they are a once-a-night reading: publishing a day twice would count it
 * twice); a missed night's day publishes them, once, as its night would have.
 */
export async function runNightlyRollup(day: string, deps: RollupDeps): Promise<RollupResult[]> {
  const earlier = daysBetween(addDays(day, -REROLL_DAYS), addDays(day, -1));
  // One day more: whether the day before the first was rolled up (a missed night, below).
  const stored = await deps.store.listRollups(addDays(day, -REROLL_DAYS - 1), earlier.at(-1) as string);
  const rolledUp = new Set(stored.map((r) => r.day));
  const fresh = new Map<string, readonly Rollup[]>();
  const results: RollupResult[] = [];
  for (const past of earlier) {
    const before = stored.filter((r) => r.day === past);
    // Never rolled up, though the day before it was: its night's run was missed (Scheduler skips
    // a time the clocks jump over — 01:30 in London on the last Sunday of March — or its retries
    // ran out). Rolled up now, its metrics published as that night's would have been. Before
    // the first rolled-up day (a new deployment) a day is a backfill's business.
    const missed = before.length === 0;
    if (missed && !rolledUp.has(addDays(past, -1))) continue;
    const stillOpen = before.some((r) => r.service === '*' && r.severity === '*' && r.stillOpen > 0);
    const now = await computeDay(past, deps);
    if (!missed && !stillOpen && sameRollups(before, now.rollups)) continue;
    results.push(await writeDay(now, deps, { fresh, publish: missed }));
    fresh.set(past, now.rollups);
    rolledUp.add(past);
  }
  results.push(await writeDay(await computeDay(day, deps), deps, { fresh, publish: true }));
  const { actionItems } = deps;
  if (actionItems !== undefined) await remindActionItems(day, { ...deps, actionItems });
  return results;
}

/** Rolls up one local day (YYYY-MM-DD). */
export async function runRollup(day: string, deps: RollupDeps): Promise<RollupResult> {
  return writeDay(await computeDay(day, deps), deps, { fresh: new Map(), publish: true });
}

interface ComputedDay {
  readonly day: string;
  readonly incidents: readonly Incident[];
  readonly itemsRead: number;
  readonly rollups: Rollup[];
}

/** Reads a day's incidents (and what MTBF needs of other days) and computes its rollups. */
async function computeDay(day: string, deps: RollupDeps): Promise<ComputedDay> {
  const { incidents, itemsRead } = await deps.store.incidentsOfDay(day);
  const facts = incidents.map(incidentFacts);

  const previousResolvedAt: Record<string, string | undefined> = {};
  const unresolvedBefore: Record<string, PreviousResolution['unresolved']> = {};
  const ofDay = new Set(facts.map((f) => f.id));
  for (const service of new Set(facts.filter((f) => !f.excluded).map((f) => f.service))) {
    // The earliest start as an instant: stored timestamps may carry offsets, so text order is not
    // time order ('…T10:00:00+02:00' is 08:00Z, before '…T09:00:00Z').
    const first = earliest(facts.filter((f) => f.service === service && !f.excluded).map((f) => f.startedAt));
    if (first === undefined) continue;
    const previous = await deps.store.previousResolution(service, first);
    previousResolvedAt[service] = previous.resolvedAt;
    // Other days' incidents still failing at the first start (e.g. opened yesterday, resolved
    // tomorrow): no gap while they last.
    unresolvedBefore[service] = previous.unresolved.filter((i) => !ofDay.has(i.id));
  }
  const rollups = rollupDay(day, deps.config.timeZone, facts, previousResolvedAt, unresolvedBefore);
  return { day, incidents, itemsRead, rollups };
}

/**
 * Writes a computed day: its rollups, exports and error budgets, and (`publish`) the custom
 * metrics. `fresh`: rollups of earlier days written by this run (the index may lag a write).
 */
async function writeDay(
  { day, incidents, itemsRead, rollups }: ComputedDay,
  deps: RollupDeps,
  options: { fresh: ReadonlyMap<string, readonly Rollup[]>; publish: boolean },
): Promise<RollupResult> {
  const files = exportFiles(deps.exportPrefix ?? '', day, {
    incidents: incidents.map(incidentExportRow),
    rollups: rollups.map(rollupRow),
  });
  for (const file of files) await deps.sink.put(file.key, file.body, file.contentType);

  const budgets = await errorBudgets(day, rollups, deps, options.fresh);
  // Stored once its exports and budgets are done: a stored day is one the night completed, and a
  // run that failed before (its retries spent) leaves the day to the next night (runNightlyRollup).
  // The metrics go last: once the day is stored a failed publish is not retried by a later night
  // (publishing twice would count the day twice).
  await deps.store.putRollups(day, rollups);
  if (options.publish) await deps.metrics.publish(rollups);
  return {
    day,
    itemsRead,
    incidents: incidents.length,
    rollups,
    files: files.map((f) => f.key),
    budgets,
  };
}

/** Whether two days' rollups are the same rows (in any order). */
function sameRollups(a: readonly Rollup[], b: readonly Rollup[]): boolean {
  const canonical = (rows: readonly Rollup[]) => rows.map((r) => stableJson(r)).sort();
  const [x, y] = [canonical(a), canonical(b)];
  return x.length === y.length && x.every((row, i) => row === y[i]);
}

/** JSON with object keys sorted (a row read back may list its fields in another order). */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The earliest of ISO date-times by instant (epoch ms), as a UTC ISO string; undefined for none. */
function earliest(times: readonly string[]): string | undefined {
  let min: number | undefined;
  for (const time of times) {
    const t = instant(time, 'startedAt');
    if (min === undefined || t < min) min = t;
  }
  return min === undefined ? undefined : new Date(min).toISOString();
}

/**
 * Month-to-date error budgets of the services with an SLO, announcing exhaustion once — only while
 * it is news: for the current month, or the one that ended yesterday (the nightly run on the 1st
 * rolls up its last day); both in the configured zone. A re-run or backfill of an older month
 * returns its status and tells nobody (no event for pipelines to freeze on, no notice, no record).
 */
async function errorBudgets(
  day: string,
  today: readonly Rollup[],
  deps: RollupDeps,
  fresh: ReadonlyMap<string, readonly Rollup[]>,
): Promise<BudgetStatus[]> {
  const services = deps.config.services.filter((s) => s.slo !== undefined);
  if (services.length === 0) return [];
  const month = monthOf(day);
  const now = deps.clock();
  const current = [localDay(now, deps.config.timeZone), previousDay(now, deps.config.timeZone)].map(monthOf);
  const news = current.includes(month);
  // Earlier days of the month from the store; today and the days this run re-rolled from the run
  // (the index may lag a write).
  const earlier = [
    ...(await deps.store.listRollups(`${month}-01`, day)).filter((r) => r.day !== day && !fresh.has(r.day)),
    ...[...fresh].filter(([d]) => d < day && monthOf(d) === month).flatMap(([, rows]) => rows),
  ];
  const statuses: BudgetStatus[] = [];
  for (const service of services) {
    // biome-ignore lint/style/noNonNullAssertion: filtered above
    const slo = service.slo!;
    const rows = [...earlier, ...today].filter((r) => r.service === service.id && r.severity === '*');
    const usedMinutes = Math.round(rows.reduce((sum, r) => sum + r.downtimeMinutes, 0) * 1000) / 1000;
    const budgetMinutes = monthlyBudgetMinutes(slo.availability);
    const exhausted = usedMinutes >= budgetMinutes;
    let announced = false;
    if (news && exhausted && (await deps.store.claimBudgetNotice(service.id, month, now))) {
      announced = true;
      const detail = {
        version: 1,
        service: service.id,
        month,
        availability: slo.availability,
        budgetMinutes,
        usedMinutes,
        day,
      };
      await deps.events.publish('Error Budget Exhausted', detail);
      for (const page of budgetPages(service.id, service.name, slo.owners, detail, deps))
        await deps.pager.send(page);
      await deps.store.completeBudgetNotice(service.id, month);
    }
    statuses.push({
      service: service.id,
      month,
      availability: slo.availability,
      budgetMinutes,
      usedMinutes,
      exhausted,
      announced,
    });
  }
  return statuses;
}

function budgetPages(
  service: string,
  serviceName: string,
  owners: readonly string[],
  detail: { month: string; budgetMinutes: number; usedMinutes: number; availability: number },
  deps: RollupDeps,
): Page[] {
  const now = deps.clock().toISOString();
  const title = `Error budget exhausted for ${detail.month}: ${detail.usedMinutes} of ${detail.budgetMinutes} minutes used (SLO ${detail.availability}%)`;
  return owners.flatMap((ownerId) => {
    const owner = deps.config.responders.find((r) => r.id === ownerId);
    if (owner === undefined) return [];
    return owner.contacts.map(
      (contact, index): Page => ({
        id: `budget-${service}-${detail.month}-${contactKey(owner.id, index)}`,
        kind: 'notice',
        incident: {
          id: `budget-${service}-${detail.month}`,
          title,
          service,
          serviceName,
          severity: 'SEV-2',
          status: 'triggered',
          detectedAt: now,
          alertCount: 0,
          source: 'Klaxon: error budget',
          alertLinks: [],
        },
        responder: { id: owner.id, name: owner.name },
        contact: { ...contact, key: contactKey(owner.id, index) },
        reason: 'Error budget exhausted: consider freezing non-critical deploys',
        links: { incident: `${deps.links.publicUrl}/api/rollups?service=${service}&from=${detail.month}-01` },
      }),
    );
  });
}

/** One rollups-export row (columns: core/exports.ts ROLLUP_COLUMNS). */
export function rollupRow(r: Rollup): RollupExportRow {
  return {
    day: r.day,
    service: r.service,
    severity: r.severity,
    incidents: r.incidents,
    opened: r.opened,
    resolved: r.resolved,
    still_open: r.stillOpen,
    excluded: r.excluded,
    mttd_mean: r.mttd.mean,
    mttd_p50: r.mttd.p50,
    mttd_p90: r.mttd.p90,
    mtta_mean: r.mtta.mean,
    mtta_p50: r.mtta.p50,
    mtta_p90: r.mtta.p90,
    mttr_mean: r.mttr.mean,
    mttr_p50: r.mttr.p50,
    mttr_p90: r.mttr.p90,
    mtbf_mean: r.mtbf.mean,
    mtbf_p50: r.mtbf.p50,
    mtbf_p90: r.mtbf.p90,
    breaches_mttd: r.breaches.mttd,
    breaches_mtta: r.breaches.mtta,
    breaches_mttr: r.breaches.mttr,
    escalations: r.escalations,
    pages_sent: r.pagesSent,
    downtime_minutes: r.downtimeMinutes,
    clamped: r.clamped,
  };
}

/** Rolls up every day from..to (inclusive), reporting progress. */
export async function runRollups(
  days: readonly string[],
  deps: RollupDeps,
  onProgress?: (done: number, total: number, result: RollupResult) => void,
): Promise<RollupResult[]> {
  const results: RollupResult[] = [];
  for (const [i, day] of days.entries()) {
    const result = await runRollup(day, deps);
    results.push(result);
    onProgress?.(i + 1, days.length, result);
  }
  return results;
}
