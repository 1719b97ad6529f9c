import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import type { Alert } from '#core/alert';
import { hashIntegrationKey, newIntegrationKey } from '#core/ids';
import { createHttpApp } from '#http/app';
import {
  BenchClock,
  type BenchOptions,
  type BenchResult,
  benchAlert,
  benchDeps,
  type CallSnapshot,
  DynamoCounter,
  mockedAws,
  progress,
  QUIET_GAP_MS,
  type Row,
  SERVICE,
  startEngine,
  storedItemSize,
} from './harness.ts';

/**
 * AWS calls per operation, counted at the SDK edge: DynamoDB by a middleware on the client (with
 * ReturnConsumedCapacity TOTAL added to every command), SNS / Scheduler / EventBridge by
 * aws-sdk-client-mock on the clients handed to the real adapters. The operations are the real use
 * cases (processAlert, handleTimerEvent, the Hono app's link and ingest routes) on dynalite.
 */

export interface OperationCalls {
  readonly reads: number;
  readonly writes: number;
  /** Conditional checks that failed (each still a billed write in DynamoDB). */
  readonly failed: number;
  readonly rcu: number;
  readonly wcu: number;
  /** WCU of writes to incident (INC) items, which carry three GSIs (ALL projection). */
  readonly incidentWcu: number;
  readonly capacityReported: string;
  readonly byLabel: CallSnapshot['byLabel'];
  readonly trace: string[];
  readonly Publish: number;
  readonly CreateSchedule: number;
  readonly DeleteSchedule: number;
  readonly PutEvents: number;
  /** The same counts in every repetition. */
  readonly stable: boolean;
  readonly reps: number;
}

export const OPERATIONS = {
  newIncident: 'new incident, SEV-1 (critical)',
  newIncidentSev3: 'new incident, SEV-3 (warning)',
  duplicate: 'duplicate alert',
  replay: 'replayed alert (same event)',
  escalation: 'escalation step fires',
  reminder: 'status reminder fires',
  ackLinkGet: 'ack link opened (GET confirm page)',
  ackLink: 'acknowledge by link (POST)',
  ackEventsV2: 'acknowledge by Events v2',
  ackTimeout: 'ack timeout fires',
  resolve: 'resolve by Events v2',
  resolveLink: 'resolve by link (POST)',
  ingestCold: 'ingest POST /v2/enqueue (key not cached)',
  ingestWarm: 'ingest POST /v2/enqueue (key cached)',
} as const;
export type Operation = keyof typeof OPERATIONS;

export type CallsData = {
  readonly operations: Record<Operation, OperationCalls>;
  /** Incident item size (bytes) after opening, and per further counted event (the `seen` set). */
  readonly incidentItemBytes: number;
  readonly bytesPerSeenEvent: number;
  readonly dynaliteReturnsConsumedCapacity: boolean;
};

export async function runCalls(options: BenchOptions): Promise<BenchResult & { data: CallsData }> {
  const reps = options.quick ? 2 : 5;
  const engine = await startEngine();
  const { store, tableName } = await engine.table();
  const counter = new DynamoCounter().attach(engine.dynamo.client);
  counter.traceCalls = true;
  const aws = mockedAws((command) => counter.mark(command));
  const clock = new BenchClock();
  const deps = benchDeps(store, aws, clock.now);
  const app = createHttpApp({
    ...deps,
    bus: new EventBridgeAlertBus({ busName: 'klaxon-bench', client: aws.events }),
    apiAuth: async (_c, next) => {
      await next();
    },
  });
  const integrationKey = newIntegrationKey();
  await store.putIntegration({
    keyHash: hashIntegrationKey(integrationKey),
    service: SERVICE,
    name: 'bench',
    createdAt: clock.now().toISOString(),
  });

  const samples = new Map<Operation, OperationCalls[]>();
  const measure = async (operation: Operation, run: () => Promise<string>, expect: string) => {
    counter.reset();
    aws.reset();
    const outcome = await run();
    if (outcome !== expect) throw new Error(`calls: ${operation} gave "${outcome}", expected "${expect}"`);
    const snap = counter.snapshot();
    const incidentWcu = Object.entries(snap.byLabel)
      .filter(([label]) => !label.startsWith('Get') && !label.startsWith('Query') && label.endsWith('(INC)'))
      .reduce((sum, [, s]) => sum + s.capacity, 0);
    const list = samples.get(operation) ?? [];
    list.push({
      reads: snap.reads,
      writes: snap.writes,
      failed: snap.failed,
      rcu: snap.rcu,
      wcu: snap.wcu,
      incidentWcu,
      capacityReported: snap.capacityReported,
      byLabel: snap.byLabel,
      trace: snap.trace,
      ...aws.counts(),
      stable: true,
      reps: 1,
    });
    samples.set(operation, list);
  };
  const at = () => clock.now().toISOString();
  const minutes = (n: number) => clock.advance(n * 60_000);
  const kind = async (alert: Alert) => (await processAlert(alert, deps)).kind;

  let itemBytes = 0;
  let bytesPerEvent = 0;
  for (let rep = 0; rep < reps; rep++) {
    progress(`calls: repetition ${rep + 1}/${reps}`);
    clock.advance(QUIET_GAP_MS);
    const key = `calls-a-${rep}`;
    let incidentId = '';
    await measure(
      'newIncident',
      async () => {
        const outcome = await processAlert(benchAlert({ dedupKey: key, receivedAt: at() }), deps);
        incidentId = outcome.kind === 'ignored' ? '' : outcome.incident.id;
        return outcome.kind;
      },
      'opened',
    );
    const size1 = await storedItemSize(engine.raw, tableName, `INC#${incidentId}`, 'INC');
    clock.advance(1000);
    const duplicate = benchAlert({ dedupKey: key, receivedAt: at() });
    await measure('duplicate', () => kind(duplicate), 'appended');
    await measure('replay', () => kind(duplicate), 'replayed');
    const size2 = await storedItemSize(engine.raw, tableName, `INC#${incidentId}`, 'INC');
    itemBytes = size1 ?? 0;
    bytesPerEvent = (size2 ?? 0) - (size1 ?? 0);

    minutes(5);
    await measure(
      'escalation',
      () => handleTimerEvent({ kind: 'escalate', incidentId, generation: 1, step: 1 }, deps),
      'done',
    );
    minutes(11);
    const link = await deps.links.link(incidentId, 'ack', 'ann', clock.now());
    const path = new URL(link).pathname;
    await measure(
      'ackLinkGet',
      async () => String((await app.request(path, { method: 'GET' })).status),
      '200',
    );
    await measure(
      'ackLink',
      async () => {
        const response = await app.request(path, { method: 'POST' });
        const body = await response.text();
        return `${response.status} ${body.includes('Escalation stopped') ? 'acknowledged' : body.slice(0, 200)}`;
      },
      '200 acknowledged',
    );
    // Status reminders start with an owner: the first comes 15 minutes after the acknowledgement.
    minutes(15);
    await measure('reminder', () => handleTimerEvent({ kind: 'reminder', incidentId, seq: 1 }, deps), 'done');
    minutes(15);
    await measure(
      'ackTimeout',
      () => handleTimerEvent({ kind: 'ack-timeout', incidentId, generation: 1 }, deps),
      'done',
    );
    minutes(4);
    await measure(
      'resolve',
      () => kind(benchAlert({ dedupKey: key, action: 'resolve', receivedAt: at() })),
      'resolved',
    );

    minutes(10);
    const keyB = `calls-b-${rep}`;
    const openedB = await processAlert(benchAlert({ dedupKey: keyB, receivedAt: at() }), deps);
    const idB = openedB.kind === 'ignored' ? '' : openedB.incident.id;
    minutes(1);
    await measure(
      'ackEventsV2',
      () => kind(benchAlert({ dedupKey: keyB, action: 'acknowledge', receivedAt: at() })),
      'acknowledged',
    );
    minutes(5);
    const resolvePath = new URL(await deps.links.link(idB, 'resolve', 'ann', clock.now())).pathname;
    await measure(
      'resolveLink',
      async () => {
        const response = await app.request(resolvePath, { method: 'POST' });
        const body = await response.text();
        return `${response.status} ${body.includes('every pending page is cancelled') ? 'resolved' : body.slice(0, 200)}`;
      },
      '200 resolved',
    );
    minutes(10);
    await measure(
      'newIncidentSev3',
      () => kind(benchAlert({ dedupKey: `calls-c-${rep}`, severity: 'warning', receivedAt: at() })),
      'opened',
    );

    // The http function's integration-key cache lives per app (per warm Lambda): a fresh app is cold.
    const fresh = createHttpApp({
      ...deps,
      bus: new EventBridgeAlertBus({ busName: 'klaxon-bench', client: aws.events }),
      apiAuth: async (_c, next) => {
        await next();
      },
    });
    const enqueue = (target: typeof app) => async () => {
      const response = await target.request('/v2/enqueue', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          routing_key: integrationKey,
          event_action: 'trigger',
          dedup_key: `calls-d-${rep}`,
          payload: { summary: 'Disk 95% full on db-1', source: 'db-1', severity: 'critical' },
        }),
      });
      return String(response.status);
    };
    await measure('ingestCold', enqueue(fresh), '202');
    await measure('ingestWarm', enqueue(fresh), '202');
  }

  const operations = {} as Record<Operation, OperationCalls>;
  for (const [operation, list] of samples) {
    const first = list[0] as OperationCalls;
    const signature = (s: OperationCalls) =>
      JSON.stringify([s.trace, s.Publish, s.CreateSchedule, s.DeleteSchedule, s.PutEvents]);
    const avg = (f: (s: OperationCalls) => number) => list.reduce((sum, s) => sum + f(s), 0) / list.length;
    operations[operation] = {
      ...first,
      rcu: avg((s) => s.rcu),
      wcu: avg((s) => s.wcu),
      incidentWcu: avg((s) => s.incidentWcu),
      stable: list.every((s) => signature(s) === signature(first)),
      reps: list.length,
    };
  }
  const capacitySeen = Object.values(operations).some((o) => o.rcu + o.wcu > 0);
  aws.restore();
  await engine.close();

  const data: CallsData = {
    operations,
    incidentItemBytes: itemBytes,
    bytesPerSeenEvent: bytesPerEvent,
    dynaliteReturnsConsumedCapacity: capacitySeen,
  };
  return { name: 'calls', rows: callRows(data), data };
}

const rw = (o: { reads: number; writes: number }) => `${o.reads} R / ${o.writes} W`;
const others = (o: OperationCalls) =>
  [
    `${o.Publish} Publish`,
    `${o.CreateSchedule} Create`,
    ...(o.DeleteSchedule ? [`${o.DeleteSchedule} DeleteSchedule`] : []),
    ...(o.PutEvents ? [`${o.PutEvents} PutEvents`] : []),
  ].join(', ');

function callRows(data: CallsData): Row[] {
  const ops = data.operations;
  const rows: Row[] = [];
  const open = ops.newIncident;
  const open3 = ops.newIncidentSev3;
  const dup = ops.duplicate;
  const bench = 'AWS calls';
  for (const [label, o] of [
    ['new incident SEV-1', open],
    ['new incident SEV-3', open3],
  ] as const) {
    rows.push({
      bench,
      measure: `${label}: DynamoDB`,
      klaxon: rw(o),
      floor: '1 R / 2 W',
      ratio: `${(o.writes / 2).toFixed(2)}× W`,
      goal: '≤ 2 writes',
      met: o.writes <= 2 ? 'met' : 'NOT MET',
    });
    rows.push({
      bench,
      measure: `${label}: SNS / Scheduler`,
      klaxon: others(o),
      floor: '1 Publish, 1 Create',
      ratio: `${(o.CreateSchedule / 1).toFixed(2)}× Create`,
      goal: '1 Publish + 1 CreateSchedule',
      met: o.Publish === 1 && o.CreateSchedule === 1 ? 'met' : 'NOT MET',
    });
  }
  rows.push({
    bench,
    measure: 'duplicate alert',
    klaxon: `${rw(dup)}; ${others(dup)}`,
    floor: '0 R / 1 W',
    ratio: `${(dup.writes + dup.reads).toFixed(2)}× calls`,
    goal: '1 cond. update, 0 Publish, 0 schedules',
    met:
      dup.writes === 1 &&
      dup.byLabel['UpdateItem(INC)']?.calls === 1 &&
      dup.Publish === 0 &&
      dup.CreateSchedule === 0
        ? 'met'
        : 'NOT MET',
  });
  for (const op of ['ackLink', 'ackEventsV2', 'escalation', 'resolve', 'resolveLink'] as const) {
    const o = ops[op];
    rows.push({
      bench,
      measure: OPERATIONS[op],
      klaxon: `${rw(o)}; ${others(o)}`,
      floor: '—',
      ratio: '—',
      goal: '—',
      met: 'info',
    });
  }
  rows.push({
    bench,
    measure: 'capacity units (dynalite)',
    klaxon: data.dynaliteReturnsConsumedCapacity
      ? `new SEV-1 ${open.rcu} RCU / ${open.wcu} WCU; dup ${dup.rcu} RCU / ${dup.wcu} WCU`
      : 'dynalite returned no ConsumedCapacity',
    floor: '—',
    ratio: '—',
    goal: 'table only; GSI writes not reported',
    met: 'info',
  });
  return rows;
}

/** A readable account of one operation's calls, for the report. */
export function describe(o: OperationCalls): string {
  return o.trace.join(' → ');
}
