import { performance } from 'node:perf_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { DIGEST_LIST } from '#app/digest';
import type { EscalationDeps } from '#app/escalation';
import { systemClock } from '#app/ports';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import type { Alert } from '#core/alert';
import { incidentIdFor } from '#core/ids';
import {
  type BenchOptions,
  type BenchResult,
  benchAlert,
  benchDeps,
  DynamoCounter,
  type Engine,
  fmt,
  itemSize,
  type MockedAws,
  mockedAws,
  pool,
  prng,
  progress,
  type Row,
  SERVICE,
  shuffle,
  startEngine,
  storedItem,
} from './harness.ts';
import { round } from './stats.ts';

/** DynamoDB's write limit per partition, so per item: write units a second. */
const PARTITION_WCU = 1000;
/** DynamoDB's item size limit. */
const ITEM_LIMIT_BYTES = 400 * 1024;
const CONCURRENCY = 64;
/** Lambda's asynchronous invocation: the first attempt and two retries, then the dead-letter queue. */
const ATTEMPTS = 3;

interface StormRun {
  readonly alerts: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly outcomes: Record<string, number>;
  readonly errors: Record<string, number>;
  /** Alerts that failed every attempt: what would land in the dead-letter queue. */
  readonly lost: number;
  /** Per tenth of the run: throughput and WCU per trigger update of the incident item. */
  readonly windows: { done: number; perSecond: number; wcuPerUpdate: number }[];
  readonly wcu: number;
  readonly rcu: number;
  readonly reads: number;
  readonly writes: number;
}

async function stormKlaxon(
  alerts: readonly Alert[],
  deps: EscalationDeps,
  counter: DynamoCounter,
  label: string,
): Promise<StormRun> {
  const outcomes: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let lost = 0;
  let done = 0;
  const windowSize = Math.max(1, Math.floor(alerts.length / 10));
  const windows: StormRun['windows'] = [];
  counter.reset();
  const t0 = performance.now();
  let windowStart = t0;
  let lastUpdates = { withCapacity: 0, capacity: 0 };
  await pool(alerts, CONCURRENCY, async (alert) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await processAlert(alert, deps);
        outcomes[outcome.kind] = (outcomes[outcome.kind] ?? 0) + 1;
        break;
      } catch (error) {
        const e = error as Error;
        const name = `${e.name || 'Error'}: ${String(e.message)
          .replace(/storm-\d+/g, '<key>')
          .slice(0, 80)}`;
        errors[name] = (errors[name] ?? 0) + 1;
        if (attempt >= ATTEMPTS) {
          lost++;
          break;
        }
      }
    }
    done++;
    if (done % windowSize === 0) {
      const now = performance.now();
      // Per update that reported capacity: dynalite reports none for a failed conditional write.
      const updates = counter.snapshot().byLabel['UpdateItem(INC)'] ?? { withCapacity: 0, capacity: 0 };
      const calls = updates.withCapacity - lastUpdates.withCapacity;
      windows.push({
        done,
        perSecond: round(windowSize / ((now - windowStart) / 1000), 1),
        wcuPerUpdate: round(calls > 0 ? (updates.capacity - lastUpdates.capacity) / calls : 0, 2),
      });
      lastUpdates = { withCapacity: updates.withCapacity, capacity: updates.capacity };
      windowStart = now;
      if (windows.length % 2 === 0) progress(`storms: ${label} ${done}/${alerts.length}`);
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  const snap = counter.snapshot();
  return {
    alerts: alerts.length,
    seconds: round(seconds, 2),
    perSecond: round(alerts.length / seconds, 1),
    outcomes,
    errors,
    lost,
    windows,
    wcu: snap.wcu,
    rcu: snap.rcu,
    reads: snap.reads,
    writes: snap.writes,
  };
}

/** The floor: one bare conditional UpdateItem per alert, same concurrency, same dynalite. */
async function stormFloor(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly string[],
  counter: DynamoCounter,
  prefix = 'FLOOR',
): Promise<StormRun> {
  counter.reset();
  const now = new Date().toISOString();
  const t0 = performance.now();
  await pool(keys, CONCURRENCY, async (key) => {
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `${prefix}#${key}`, sk: 'INC' },
        UpdateExpression: 'SET lastAlertAt = :now ADD alertCount :one',
        ConditionExpression: 'attribute_not_exists(pk) OR #status <> :resolved',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':now': now, ':one': 1, ':resolved': 'resolved' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  });
  const seconds = (performance.now() - t0) / 1000;
  const snap = counter.snapshot();
  return {
    alerts: keys.length,
    seconds: round(seconds, 2),
    perSecond: round(keys.length / seconds, 1),
    outcomes: {},
    errors: {},
    lost: 0,
    windows: [],
    wcu: snap.wcu,
    rcu: snap.rcu,
    reads: snap.reads,
    writes: snap.writes,
  };
}

/** Attempts that threw and were retried (as Lambda retries an asynchronous invocation). */
const retried = (run: StormRun) => Object.values(run.errors).reduce((sum, n) => sum + n, 0);

async function setup(engine: Engine): Promise<{
  store: DynamoDbIncidentStore;
  tableName: string;
  aws: MockedAws;
  deps: EscalationDeps;
}> {
  const { store, tableName } = await engine.table();
  const aws = mockedAws();
  return { store, tableName, aws, deps: benchDeps(store, aws, systemClock) };
}

export async function runStorms(options: BenchOptions): Promise<BenchResult> {
  const oneKeyAlerts = options.quick ? 2_000 : 10_000;
  const spreadAlerts = options.quick ? 2_000 : 10_000;
  const spreadKeys = options.quick ? 200 : 1_000;
  const engine = await startEngine();
  const counter = new DynamoCounter().attach(engine.dynamo.client);
  const rows: Row[] = [];

  // Storm 1: every alert on one key.
  const one = await setup(engine);
  const receivedAt = new Date().toISOString();
  const oneAlerts = Array.from({ length: oneKeyAlerts }, () =>
    benchAlert({ dedupKey: 'storm-one', receivedAt }),
  );
  progress(`storms: floor, ${oneKeyAlerts} conditional UpdateItem on one item at concurrency ${CONCURRENCY}`);
  const floorOne = await stormFloor(
    engine.db,
    one.tableName,
    Array.from({ length: oneKeyAlerts }, () => 'one'),
    counter,
  );
  // A diagnostic second floor: the same bare update of an item that, like an incident, is in the
  // table's three indexes (projection ALL) — what index maintenance alone costs on this engine.
  await engine.db.send(
    new PutCommand({
      TableName: one.tableName,
      Item: {
        pk: 'INDEXED#one',
        sk: 'INC',
        ...Object.fromEntries(
          ['gsi1', 'gsi2', 'gsi3'].flatMap((g) => [
            [`${g}pk`, 'FLOOR'],
            [`${g}sk`, receivedAt],
          ]),
        ),
      },
    }),
  );
  progress(
    `storms: floor, ${oneKeyAlerts} conditional UpdateItem on one indexed item at concurrency ${CONCURRENCY}`,
  );
  const floorIndexed = await stormFloor(
    engine.db,
    one.tableName,
    Array.from({ length: oneKeyAlerts }, () => 'one'),
    counter,
    'INDEXED',
  );
  progress(`storms: Klaxon, ${oneKeyAlerts} alerts on one key at concurrency ${CONCURRENCY}`);
  const klaxonOne = await stormKlaxon(oneAlerts, one.deps, counter, 'one key');
  const incident = await one.store.findOpen(SERVICE, 'storm-one');
  const second = await one.store.get(incidentIdFor(SERVICE, 'storm-one', 1));
  const listed = (await one.store.list({ service: SERVICE, limit: 100 })).incidents.length;
  const oneCounts = one.aws.counts();
  const raw = incident ? await storedItem(engine.raw, one.tableName, `INC#${incident.id}`, 'INC') : undefined;
  const itemBytes = raw ? itemSize(raw) : 0;
  // The dedup window: two generations of event hashes, so the item stays bounded however long the storm.
  const seenMembers = (raw?.seen?.SS?.length ?? 0) + (raw?.seenPrev?.SS?.length ?? 0);
  const firstWindow = klaxonOne.windows[0]?.wcuPerUpdate ?? 0;
  const lastWindow = klaxonOne.windows.at(-1)?.wcuPerUpdate ?? 0;
  const peakWcu = Math.max(0, ...klaxonOne.windows.map((w) => w.wcuPerUpdate));
  const oneRatio = klaxonOne.perSecond / floorOne.perSecond;
  const oneCorrect =
    incident?.alertCount === oneKeyAlerts && second === undefined && listed === 1 && oneCounts.Publish === 1;
  rows.push(
    {
      bench: 'alert storm',
      measure: `${fmt.n(oneKeyAlerts)} alerts, 1 key, c=${CONCURRENCY}: result`,
      klaxon: `${listed} incident, ${oneCounts.Publish} Publish, count ${fmt.n(incident?.alertCount ?? 0)}, lost ${klaxonOne.lost}, ${fmt.n(retried(klaxonOne))} retried`,
      floor: `count ${fmt.n(oneKeyAlerts)}`,
      ratio: '—',
      goal: `1 incident, 1 page, count ${fmt.n(oneKeyAlerts)}`,
      met: oneCorrect ? 'met' : 'NOT MET',
    },
    {
      bench: 'alert storm',
      measure: `${fmt.n(oneKeyAlerts)} alerts, 1 key: throughput`,
      klaxon: fmt.perSec(klaxonOne.perSecond),
      floor: fmt.perSec(floorOne.perSecond),
      ratio: fmt.x(oneRatio),
      goal: '≥ 0.8×',
      met: oneRatio >= 0.8 ? 'met' : 'NOT MET',
    },
    {
      bench: 'alert storm',
      measure: '1 key: throughput vs an indexed item',
      klaxon: fmt.perSec(klaxonOne.perSecond),
      floor: `${fmt.perSec(floorIndexed.perSecond)} (the bare update of an item in the 3 indexes)`,
      ratio: fmt.x(klaxonOne.perSecond / floorIndexed.perSecond),
      goal: '(diagnostic)',
      met: 'info',
    },
    {
      bench: 'alert storm',
      measure: '1 key: item size (dedup window)',
      klaxon: `${fmt.kib(itemBytes)} (${seenMembers} event hashes); WCU/update ${firstWindow} → ${lastWindow}, peak ${peakWcu}`,
      floor: 'item < 1 KiB; 1 WCU/update',
      ratio: fmt.x(klaxonOne.wcu / Math.max(1, floorOne.wcu)),
      goal: `bounded, far below the ${fmt.kib(ITEM_LIMIT_BYTES)} item limit`,
      met: itemBytes < ITEM_LIMIT_BYTES / 20 ? 'met' : 'NOT MET',
    },
    {
      // dynalite has no partition limits; in AWS one item takes at most 1,000 write units a second,
      // so the item's size caps a storm on one incident (the index partitions, shared by every
      // incident of a service — gsi1 — or of the table — gsi2 —, cap all storms together too).
      bench: 'alert storm',
      measure: '1 key: AWS ceiling (1,000 WCU/s per item; table writes only)',
      klaxon: `${fmt.perSec(PARTITION_WCU / Math.max(1, peakWcu))} at the peak ${peakWcu} WCU/update`,
      floor: `${fmt.perSec(PARTITION_WCU)} at 1 WCU/update`,
      ratio: fmt.x(1 / Math.max(1, peakWcu)),
      goal: '(diagnostic: not modelled by dynalite)',
      met: 'info',
    },
  );
  one.aws.restore();

  // Storm 2: alerts spread over many keys, in a shuffled order (races on new keys included).
  const spread = await setup(engine);
  const perKey = spreadAlerts / spreadKeys;
  const random = prng(42);
  const keyList = shuffle(
    Array.from({ length: spreadAlerts }, (_, i) => `storm-${i % spreadKeys}`),
    random,
  );
  const spreadList = keyList.map((dedupKey) => benchAlert({ dedupKey, receivedAt }));
  progress(`storms: floor, ${spreadAlerts} conditional UpdateItem over ${spreadKeys} items`);
  const floorSpread = await stormFloor(engine.db, spread.tableName, keyList, counter);
  progress(`storms: Klaxon, ${spreadAlerts} alerts over ${spreadKeys} keys at concurrency ${CONCURRENCY}`);
  const klaxonSpread = await stormKlaxon(spreadList, spread.deps, counter, `${spreadKeys} keys`);

  progress('storms: reading every incident and its timeline back');
  counter.enabled = false;
  let incidents = 0;
  let counted = 0;
  let wrongCount = 0;
  let opened = 0;
  let paged = 0;
  let throttled = 0;
  await pool(
    Array.from({ length: spreadKeys }, (_, i) => `storm-${i}`),
    16,
    async (key) => {
      const found = await spread.store.findOpen(SERVICE, key);
      if (found === undefined) return;
      incidents++;
      counted += found.alertCount;
      if (found.alertCount !== perKey) wrongCount++;
      const entry = (await spread.store.timeline(found.id)).find((e) => e.type === 'OPENED');
      if (entry === undefined) return;
      opened++;
      if ((entry.paged ?? []).length > 0) paged++;
      if ((entry.throttled ?? []).length > 0) throttled++;
    },
  );
  let listedSpread = 0;
  let cursor: string | undefined;
  do {
    const page = await spread.store.list({ service: SERVICE, limit: 100, ...(cursor ? { cursor } : {}) });
    listedSpread += page.incidents.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  counter.enabled = true;
  const stormCounts = spread.aws.counts();
  // The contact's page-throttle history as stored: one entry per page it let through.
  const throttleItem = await storedItem(engine.raw, spread.tableName, 'THR#ann-0#page', 'THR');
  const throttleHistory = throttleItem?.sent?.L?.length ?? 0;
  const heldBefore = await spread.store.heldPages('ann-0#page');
  // The held pages go out when the throttle allows a page again: fire each digest timer the storm
  // created, at its due time (in AWS, EventBridge Scheduler does), and read what it sent.
  progress('storms: firing the digest timers the storm set');
  const digestTimers = [
    ...new Map(
      spread.aws
        .schedules()
        .filter((s) => s.name.startsWith('dig-'))
        .map((s) => [s.name, JSON.parse(s.input) as { due: number }]),
    ).values(),
  ];
  const publishedBefore = spread.aws.published().length;
  for (const event of digestTimers) {
    const at = new Date(event.due);
    await handleTimerEvent(event, { ...spread.deps, clock: () => at });
  }
  const digestMessages = spread.aws.published().slice(publishedBefore);
  const heldAfter = await spread.store.heldPages('ann-0#page');
  // "[995 incidents waiting] [SEV-1] …": how many incidents each digest reached.
  const inDigests = digestMessages.reduce(
    (sum, m) => sum + Number(/^\[?(\d+) incidents? waiting/.exec(m)?.[1] ?? 0),
    0,
  );
  const spreadCounts = spread.aws.counts();
  const reached = stormCounts.Publish + inDigests;
  const spreadRatio = klaxonSpread.perSecond / floorSpread.perSecond;
  const nothingLost =
    incidents === spreadKeys &&
    listedSpread === spreadKeys &&
    counted === spreadAlerts &&
    wrongCount === 0 &&
    opened === spreadKeys &&
    paged + throttled === spreadKeys &&
    klaxonSpread.lost === 0;
  const allPaged =
    reached === spreadKeys &&
    heldBefore.incidentIds.length === throttled &&
    heldBefore.overflow === 0 &&
    heldAfter.incidentIds.length + heldAfter.overflow === 0 &&
    heldAfter.due === undefined;
  rows.push(
    {
      bench: 'alert storm',
      measure: `${fmt.n(spreadAlerts)} alerts, ${fmt.n(spreadKeys)} keys: nothing lost`,
      klaxon: `${fmt.n(incidents)} incidents (${fmt.n(listedSpread)} listed), count ${fmt.n(counted)}, ${fmt.n(opened)} OPENED, lost ${klaxonSpread.lost}, ${fmt.n(retried(klaxonSpread))} retried`,
      floor: `count ${fmt.n(spreadAlerts)}`,
      ratio: '—',
      goal: `${fmt.n(spreadKeys)} incidents, read back`,
      met: nothingLost ? 'met' : 'NOT MET',
    },
    {
      bench: 'alert storm',
      measure: `${fmt.n(spreadKeys)} keys: pages`,
      klaxon: `${fmt.n(reached)} incidents paged: ${fmt.n(stormCounts.Publish)} alone (throttle: 5 per 15 min; ${throttleHistory} in its history), ${fmt.n(inDigests)} held and sent in ${digestMessages.length} digest${digestMessages.length === 1 ? '' : 's'} when it allowed (${fmt.n(Math.min(inDigests, DIGEST_LIST))} named with links, the rest counted; ${digestTimers.length} timer${digestTimers.length === 1 ? '' : 's'})`,
      floor: `${fmt.n(spreadKeys)} pages`,
      ratio: fmt.x(reached / spreadKeys),
      goal: `${fmt.n(spreadKeys)} pages`,
      met: allPaged ? 'met' : 'NOT MET',
    },
    {
      bench: 'alert storm',
      measure: `${fmt.n(spreadKeys)} keys: throughput`,
      klaxon: fmt.perSec(klaxonSpread.perSecond),
      floor: fmt.perSec(floorSpread.perSecond),
      ratio: fmt.x(spreadRatio),
      goal: '(no goal set)',
      met: 'info',
    },
  );
  spread.aws.restore();
  await engine.close();

  return {
    name: 'storms',
    rows,
    data: {
      concurrency: CONCURRENCY,
      attemptsPerAlert: ATTEMPTS,
      oneKey: {
        alerts: oneKeyAlerts,
        klaxon: klaxonOne,
        floor: floorOne,
        floorIndexed,
        ratio: round(oneRatio, 3),
        incidentAlertCount: incident?.alertCount,
        secondIncident: second !== undefined,
        listedIncidents: listed,
        aws: oneCounts,
        itemBytes,
        seenMembers,
        peakWcuPerUpdate: peakWcu,
        correct: oneCorrect,
      },
      spread: {
        alerts: spreadAlerts,
        keys: spreadKeys,
        klaxon: klaxonSpread,
        floor: floorSpread,
        ratio: round(spreadRatio, 3),
        incidents,
        listedIncidents: listedSpread,
        alertCountSum: counted,
        incidentsWithWrongCount: wrongCount,
        openedEntries: opened,
        openedWithPage: paged,
        openedWithThrottle: throttled,
        throttleHistoryEntries: throttleHistory,
        heldBeforeDigest: heldBefore.incidentIds.length + heldBefore.overflow,
        digestTimers: digestTimers.length,
        digestMessages,
        incidentsInDigests: inDigests,
        incidentsPaged: reached,
        heldAfterDigest: heldAfter.incidentIds.length + heldAfter.overflow,
        aws: { storm: stormCounts, withDigests: spreadCounts },
        nothingLost,
      },
    },
  };
}
