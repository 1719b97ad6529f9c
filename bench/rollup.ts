import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AttributeValue, QueryCommand as RawQueryCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { FolderExportSink } from '#adapters/local/folder-export-sink';
import { processAlert } from '#app/process-alert';
import { runRollup } from '#app/rollup';
import type { SourceSeverity } from '#core/alert';
import { mapSourceSeverity } from '#core/classification';
import { eventHash, incidentIdFor } from '#core/ids';
import {
  BENCH_CONFIG,
  BenchClock,
  type BenchOptions,
  type BenchResult,
  benchAlert,
  benchDeps,
  DynamoCounter,
  type Engine,
  fmt,
  itemSize,
  mockedAws,
  pool,
  prng,
  progress,
  type Row,
  SERVICE,
  startEngine,
} from './harness.ts';
import { median, round } from './stats.ts';

const DAY = '2026-11-25';
const MINUTE = 60_000;

type Item = Record<string, unknown>;
type State = 'triggered' | 'acknowledged' | 'resolved';

/**
 * One incident item in the shape DynamoDbIncidentStore writes it: the trigger upsert's fields
 * (lambdas/adapters/aws/dynamodb-store.ts, `trigger`), `pagesSent` and `opening` (completeOpening), `escalations`
 * (claimStep), and the acknowledge / resolve transitions' fields; the resolve moves gsi3 to the
 * resolution day. `shapeCheck` below compares the attribute names with an item the store wrote.
 */
export function incidentItem(
  dedupKey: string,
  state: State,
  times: { startedAt: Date; detectedAt: Date; acknowledgedAt?: Date; resolvedAt?: Date },
  severity: SourceSeverity,
  day: string,
  resolutionDay = day,
  escalations = 0,
): Item {
  const id = incidentIdFor(SERVICE, dedupKey, 0);
  const detectedAt = times.detectedAt.toISOString();
  const seen = eventHash(`bench:${dedupKey}:1`);
  const item: Item = {
    pk: `INC#${id}`,
    sk: 'INC',
    id,
    service: SERVICE,
    dedupKey,
    occurrence: 0,
    status: state,
    title: `Synthetic incident ${dedupKey}`,
    source: 'bench-host-1',
    severity,
    origin: 'events-v2',
    startedAt: times.startedAt.toISOString(),
    detectedAt,
    version: 1,
    openedBy: seen,
    generation: 1,
    step: escalations,
    stepAt: detectedAt,
    escalation: 'active',
    reminderSeq: 0,
    escalationPolicy: 'bench-policy',
    gsi3pk: `DAY#${day}`,
    gsi3sk: `${SERVICE}#${id}`,
    gsi1pk: `SVC#${SERVICE}`,
    gsi1sk: `${detectedAt}#${id}`,
    gsi2pk: 'INC',
    gsi2sk: `${detectedAt}#${id}`,
    lastAlertAt: detectedAt,
    alertCount: 1,
    seen: new Set([seen]),
    sev: mapSourceSeverity(severity),
    links: [],
    reopens: 0,
    pagesSent: 1 + escalations,
    // The OPENED entry, kept on the incident item by the opening's last write (completeOpening).
    opening: {
      id: 'opened',
      incidentId: id,
      at: detectedAt,
      type: 'OPENED',
      who: 'events-v2',
      text: `Incident opened: Synthetic incident ${dedupKey}`,
      paged: ['ann'],
    },
  };
  if (escalations > 0) item.escalations = escalations;
  if (state !== 'triggered' && times.acknowledgedAt) {
    const at = times.acknowledgedAt.toISOString();
    Object.assign(item, {
      status: 'acknowledged',
      acknowledgedAt: at,
      lastAcknowledgedAt: at,
      acknowledgedBy: 'ann',
      ackCause: eventHash(`link:${dedupKey}`),
      version: (item.version as number) + 1,
    });
  }
  if (state === 'resolved' && times.resolvedAt) {
    Object.assign(item, {
      status: 'resolved',
      resolvedAt: times.resolvedAt.toISOString(),
      resolvedBy: 'ann',
      resolveCause: eventHash(`resolve:${dedupKey}`),
      resolveCauses: new Set([eventHash(`resolve:${dedupKey}`)]),
      closedAt: times.resolvedAt.toISOString(),
      gsi3pk: `DAY#${resolutionDay}`,
      version: (item.version as number) + 1,
    });
  }
  return item;
}

/** Attribute names of an incident the store itself opened, escalated, acknowledged and resolved. */
async function shapeCheck(
  engine: Engine,
): Promise<{ same: boolean; onlyStore: string[]; onlyBench: string[] }> {
  const { store, tableName } = await engine.table();
  const aws = mockedAws();
  const clock = new BenchClock(`${DAY}T08:00:00.000Z`);
  const deps = benchDeps(store, aws, clock.now);
  const opened = await processAlert(
    benchAlert({ dedupKey: 'shape', receivedAt: clock.now().toISOString() }),
    deps,
  );
  if (opened.kind !== 'opened') throw new Error('rollup shape check: no incident opened');
  clock.advance(5 * MINUTE);
  const claimed = await store.claimStep(opened.incident, 1, clock.now(), false);
  if (claimed === undefined) throw new Error('rollup shape check: step not claimed');
  clock.advance(MINUTE);
  await store.transition(opened.incident.id, 'acknowledged', clock.now(), 'ann', 'link:x');
  clock.advance(MINUTE);
  await store.transition(opened.incident.id, 'resolved', clock.now(), 'ann', 'resolve:x', { day: DAY });
  const { Item } = await engine.db.send(
    new GetCommand({ TableName: tableName, Key: { pk: `INC#${opened.incident.id}`, sk: 'INC' } }),
  );
  aws.restore();
  const t = Date.parse(`${DAY}T08:00:00.000Z`);
  const ours = incidentItem(
    'shape',
    'resolved',
    {
      startedAt: new Date(t),
      detectedAt: new Date(t),
      acknowledgedAt: new Date(t + 6 * MINUTE),
      resolvedAt: new Date(t + 7 * MINUTE),
    },
    'critical',
    DAY,
    DAY,
    1,
  );
  const theirs = new Set(Object.keys(Item ?? {}));
  const mine = new Set(Object.keys(ours));
  const onlyStore = [...theirs].filter((k) => !mine.has(k)).sort();
  const onlyBench = [...mine].filter((k) => !theirs.has(k)).sort();
  return { same: onlyStore.length === 0 && onlyBench.length === 0, onlyStore, onlyBench };
}

const SEVERITIES: readonly [SourceSeverity, number][] = [
  ['critical', 0.2],
  ['error', 0.4],
  ['warning', 0.3],
  ['info', 0.1],
];

/** `count` incidents of `DAY` (70 % resolved, 15 % acknowledged, 15 % open), plus 10 % on each neighbour day. */
async function seed(engine: Engine, tableName: string, count: number, label: string): Promise<number> {
  const random = prng(count);
  const dayStart = Date.parse(`${DAY}T00:00:00.000Z`);
  const items: Item[] = [];
  const make = (i: number, day: string, offsetDays: number) => {
    const r = random();
    const state: State = r < 0.7 ? 'resolved' : r < 0.85 ? 'acknowledged' : 'triggered';
    const pick = random();
    let cumulative = 0;
    const severity =
      SEVERITIES.find(([, share]) => {
        cumulative += share;
        return pick < cumulative;
      })?.[0] ?? 'error';
    const startedAt = new Date(dayStart + offsetDays * 86_400_000 + Math.floor(random() * 18 * 60) * MINUTE);
    const detectedAt = new Date(startedAt.getTime() + Math.floor(random() * 180_000));
    const acknowledgedAt = new Date(detectedAt.getTime() + (1 + Math.floor(random() * 20)) * MINUTE);
    const resolvedAt = new Date(acknowledgedAt.getTime() + (5 + Math.floor(random() * 240)) * MINUTE);
    items.push(
      incidentItem(
        `rollup-${day}-${i}`,
        state,
        { startedAt, detectedAt, acknowledgedAt, resolvedAt },
        severity,
        day,
        day,
        random() < 0.2 ? 1 : 0,
      ),
    );
  };
  for (let i = 0; i < count; i++) make(i, DAY, 0);
  for (let i = 0; i < count / 10; i++) make(i, '2026-11-24', -1);
  for (let i = 0; i < count / 10; i++) make(i, '2026-11-26', 1);
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let written = 0;
  const t0 = performance.now();
  await pool(batches, 8, async (batch) => {
    let pending: Item[] = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await engine.db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (result.UnprocessedItems?.[tableName] ?? []) as Item[];
    }
    written += batch.length;
    if (written % 20_000 < 25) progress(`rollup: ${label} seeded ${fmt.n(written)}/${fmt.n(items.length)}`);
  });
  progress(
    `rollup: ${label} seeded ${fmt.n(items.length)} incident items (${fmt.n(count)} on ${DAY}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return items.length;
}

interface RollupRun {
  readonly incidents: number;
  readonly seeded: number;
  readonly itemsRead: number;
  readonly ratio: number;
  readonly rollupMs: number[];
  readonly floorMs: number[];
  readonly queries: number;
  readonly rcu: number;
  readonly files: number;
  readonly heapMb: number;
  readonly rssMb: number;
  /** The rollup's error, when it failed, and the DynamoDB calls that failed. */
  readonly failure?: { error: string; failedCalls: string[] };
  /** The largest item of the day's rollup as stored (DynamoDB size), how many, and bytes per incident in all. */
  readonly largestRollupItemBytes: number;
  readonly largestRollupGroup: string;
  readonly rollupItems: number;
  readonly rollupBytesPerIncident: number;
}

/** DynamoDB's item size limit. */
const ITEM_LIMIT_BYTES = 400 * 1024;

/** The day's rollup items as the store wrote them (rows, and the chunks that hold their samples). */
async function storedRollupSizes(
  engine: Engine,
  tableName: string,
): Promise<{ bytes: number; group: string }[]> {
  const sizes: { bytes: number; group: string }[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await engine.raw.send(
      new RawQueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `ROLLUP#${DAY}` } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) sizes.push({ bytes: itemSize(item), group: item.sk?.S ?? '' });
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return sizes;
}

async function rollupAt(
  engine: Engine,
  count: number,
  repeats: number,
  counter: DynamoCounter,
): Promise<RollupRun> {
  const label = `${fmt.n(count)}/day`;
  const { store, tableName } = await engine.table();
  const seeded = await seed(engine, tableName, count, label);
  const folder = await mkdtemp(path.join(tmpdir(), 'klaxon-bench-exports-'));
  const aws = mockedAws();
  const clock = new BenchClock('2026-11-26T01:30:00.000Z');
  const deps = {
    ...benchDeps(store, aws, clock.now),
    sink: new FolderExportSink(folder),
    events: { publish: async () => {} },
    metrics: { publish: async () => {} },
  };
  const rollupMs: number[] = [];
  const floorMs: number[] = [];
  let itemsRead = 0;
  let incidents = 0;
  let files = 0;
  let queries = 0;
  let rcu = 0;
  let heapMb = 0;
  let rssMb = 0;
  let failure: RollupRun['failure'];
  for (let r = 0; r < repeats && failure === undefined; r++) {
    // The floor: the same day's items read through the same index with bare Query calls.
    const f0 = performance.now();
    let floorItems = 0;
    let start: Item | undefined;
    do {
      const page = await engine.db.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: 'gsi3',
          KeyConditionExpression: 'gsi3pk = :day',
          ExpressionAttributeValues: { ':day': `DAY#${DAY}` },
          ExclusiveStartKey: start,
        }),
      );
      floorItems += page.Items?.length ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    floorMs.push(performance.now() - f0);
    if (floorItems !== count) throw new Error(`rollup floor read ${floorItems} items, expected ${count}`);

    counter.reset();
    const t0 = performance.now();
    try {
      const result = await runRollup(DAY, deps);
      rollupMs.push(performance.now() - t0);
      itemsRead = result.itemsRead;
      incidents = result.incidents;
      files = result.files.length;
      const all = result.rollups.find((x) => x.service === '*' && x.severity === '*');
      if (incidents !== count || (all !== undefined && all.incidents !== count))
        throw new Error(`rollup of ${count} incidents saw ${incidents}`);
    } catch (error) {
      const failedCalls = Object.entries(counter.snapshot().byLabel)
        .filter(([, s]) => s.failed > 0)
        .map(([callLabel, s]) => `${callLabel} ×${s.failed}`);
      failure = { error: `${(error as Error).name}: ${(error as Error).message}`, failedCalls };
      progress(
        `rollup: ${label} FAILED after ${fmt.ms(performance.now() - t0)}: ${failure.error} (${failedCalls.join(', ')})`,
      );
    }
    const snap = counter.snapshot();
    queries = snap.byLabel['Query(gsi3:DAY)']?.calls ?? 0;
    rcu = snap.byLabel['Query(gsi3:DAY)']?.capacity ?? 0;
    const memory = process.memoryUsage();
    heapMb = Math.max(heapMb, memory.heapUsed / 2 ** 20);
    rssMb = Math.max(rssMb, memory.rss / 2 ** 20);
    if (failure === undefined) {
      progress(
        `rollup: ${label} run ${r + 1}/${repeats}: ${fmt.n(itemsRead)} items read for ${fmt.n(incidents)} incidents in ${fmt.ms(rollupMs.at(-1) ?? 0)} (bare read ${fmt.ms(floorMs.at(-1) ?? 0)})`,
      );
    }
  }
  if (failure !== undefined) {
    // The day-index read is runRollup's first step (the same call): its figures stand.
    const day = await store.incidentsOfDay(DAY);
    itemsRead = day.itemsRead;
    incidents = day.incidents.length;
  }
  // What the day's rollup items weigh, as stored (a run that failed may have stored none or some).
  const sizes = await storedRollupSizes(engine, tableName);
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a), { bytes: 0, group: '' });
  const totalRollupBytes = sizes.reduce((sum, x) => sum + x.bytes, 0);
  aws.restore();
  await rm(folder, { recursive: true, force: true });
  return {
    incidents,
    seeded,
    itemsRead,
    ratio: round(itemsRead / incidents, 4),
    rollupMs: rollupMs.map((v) => round(v, 1)),
    floorMs: floorMs.map((v) => round(v, 1)),
    queries,
    rcu,
    files,
    heapMb: round(heapMb, 0),
    rssMb: round(rssMb, 0),
    ...(failure ? { failure } : {}),
    largestRollupItemBytes: largest.bytes,
    largestRollupGroup: largest.group,
    rollupItems: sizes.length,
    rollupBytesPerIncident: round(totalRollupBytes / count, 2),
  };
}

export async function runRollupBench(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.quick ? [10_000] : [10_000, 100_000];
  const engine = await startEngine();
  const counter = new DynamoCounter().attach(engine.dynamo.client);
  const shape = await shapeCheck(engine);
  progress(`rollup: seeded item shape ${shape.same ? 'matches' : 'DIFFERS from'} the store's own item`);
  const runs: Record<string, RollupRun> = {};
  const rows: Row[] = [];
  for (const size of sizes) {
    const run = await rollupAt(engine, size, size >= 100_000 ? 1 : options.quick ? 1 : 3, counter);
    runs[String(size)] = run;
    const time = median(run.rollupMs);
    const floor = median(run.floorMs);
    rows.push(
      {
        bench: 'nightly rollup',
        measure: `${fmt.n(size)} incidents/day: items read`,
        klaxon: `${fmt.n(run.itemsRead)} (${run.queries} Query pages, ${fmt.n(run.rcu)} RCU)`,
        floor: `${fmt.n(run.incidents)} incidents`,
        ratio: run.ratio.toFixed(2),
        goal: '1.0',
        met: run.ratio === 1 ? 'met' : 'NOT MET',
      },
      run.failure === undefined
        ? {
            bench: 'nightly rollup',
            measure: `${fmt.n(size)} incidents/day: time${run.rollupMs.length > 1 ? `, median of ${run.rollupMs.length}` : ''}`,
            klaxon: `${(time / 1000).toFixed(2)} s (heap ${run.heapMb} MB)`,
            floor: `${(floor / 1000).toFixed(2)} s bare read`,
            ratio: fmt.x(time / floor),
            goal: 'completes (no time goal set)',
            met: 'met',
          }
        : {
            bench: 'nightly rollup',
            measure: `${fmt.n(size)} incidents/day: run`,
            klaxon: `FAILED: ${run.failure.failedCalls.join(', ')} ${run.failure.error.replace(/^ValidationException: /, '')}`,
            floor: `${(floor / 1000).toFixed(2)} s bare read`,
            ratio: '—',
            goal: 'completes (no time goal set)',
            met: 'NOT MET',
          },
      {
        bench: 'nightly rollup',
        measure: `${fmt.n(size)} incidents/day: largest rollup item`,
        klaxon: `${fmt.kib(run.largestRollupItemBytes)} (${run.largestRollupGroup}); ${fmt.n(run.rollupItems)} items, ${run.rollupBytesPerIncident} B/incident in all`,
        floor: '400 KiB item limit',
        ratio: fmt.x(run.largestRollupItemBytes / ITEM_LIMIT_BYTES),
        goal: 'every item under the limit (samples stored in chunks)',
        met:
          run.failure === undefined && run.rollupItems > 0 && run.largestRollupItemBytes < ITEM_LIMIT_BYTES
            ? 'met'
            : 'NOT MET',
      },
    );
  }
  await engine.close();
  return {
    name: 'rollup',
    rows,
    data: {
      day: DAY,
      seeding: 'BatchWriteItem of items in the store shape (shape check against a store-written item)',
      shapeCheck: shape,
      runs,
      config: { services: BENCH_CONFIG.services.length },
    },
  };
}
