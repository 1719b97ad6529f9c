import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbActionItemStore } from '#adapters/aws/action-item-store';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-bus';
import { SchedulerTimers } from '#adapters/aws/scheduler-timers';
import { SnsPager } from '#adapters/aws/sns-pager';
import { ensureTable, type LocalDynamo, startDynalite } from '#adapters/local/dynalite';
import type { CommandDeps } from '#app/command';
import { AckLinks } from '#app/links';
import type { Clock } from '#app/ports';
import { type Alert, type AlertInput, AlertSchema } from '#core/alert';
import { type KlaxonConfig, parseConfig } from '#core/config';
import { randomId } from '#core/ids';

/** What every benchmark module returns: table rows for the report, raw data for the JSON file. */
export interface Row {
  readonly bench: string;
  readonly measure: string;
  readonly klaxon: string;
  readonly floor: string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: 'met' | 'NOT MET' | 'info';
}

export interface BenchResult {
  readonly name: string;
  readonly rows: Row[];
  readonly data: Record<string, unknown>;
  readonly seconds?: number;
}

export interface BenchOptions {
  readonly quick: boolean;
}

const started = Date.now();

/** A progress line on stderr (stdout carries only the final table). */
export function progress(message: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

export const ARN = {
  topic: 'arn:aws:sns:us-east-1:123456789012:klaxon-pages',
  escalate: 'arn:aws:lambda:us-east-1:123456789012:function:klaxon-escalate',
  schedulerRole: 'arn:aws:iam::123456789012:role/klaxon-scheduler',
  schedulerDlq: 'arn:aws:sqs:us-east-1:123456789012:klaxon-timers-dlq',
  secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:klaxon-ack-AbCdEf',
} as const;
export const SCHEDULE_GROUP = 'klaxon-bench-timers';
export const LINK_SECRET = 'bench-link-secret-0123456789abcdef';
export const PUBLIC_URL = 'https://klaxon.example.com';

/** One service, one responder with one email contact, a policy of two levels. */
export const BENCH_CONFIG_INPUT = {
  name: 'klaxon-bench',
  timeZone: 'UTC',
  // Resolved at once (PagerDuty's semantics): the resolve figures are one transition, not a period.
  services: [
    {
      id: 'bench',
      name: 'Bench service',
      escalationPolicy: 'bench-policy',
      ackTimeoutMinutes: 30,
      resolveMonitoringMinutes: 0,
    },
  ],
  responders: [{ id: 'ann', name: 'Ann Oncall', contacts: [{ type: 'email', address: 'ann@example.com' }] }],
  escalationPolicies: [
    {
      id: 'bench-policy',
      levels: [
        { delayMinutes: 5, targets: [{ responder: 'ann' }] },
        { delayMinutes: 10, targets: [{ responder: 'ann' }] },
      ],
    },
  ],
};
export const BENCH_CONFIG: KlaxonConfig = parseConfig(BENCH_CONFIG_INPUT);
export const SERVICE = 'bench';

/** A clock the benchmark moves (the use cases read time only through it). */
export class BenchClock {
  #now: number;
  constructor(start = '2026-11-26T10:00:00.000Z') {
    this.#now = Date.parse(start);
  }
  readonly now: Clock = () => new Date(this.#now);
  advance(ms: number): void {
    this.#now += ms;
  }
}

/**
 * Past every throttle window (the longest is 3 h): moving the clock by this before an operation
 * makes its pages go out instead of being held back by the per-contact throttle.
 */
export const QUIET_GAP_MS = 181 * 60_000;

/** A canonical alert for the bench service; a fresh eventKey unless one is given. */
export function benchAlert(overrides: Partial<AlertInput> & { dedupKey: string }): Alert {
  return AlertSchema.parse({
    eventKey: `bench:${randomId()}`,
    service: SERVICE,
    action: 'trigger',
    summary: 'p99 latency above 2 s on orders-db',
    source: 'orders-db-1',
    severity: 'critical',
    receivedAt: '2026-11-26T10:00:00.000Z',
    origin: 'events-v2',
    ...overrides,
  });
}

export interface Engine {
  readonly dynamo: LocalDynamo;
  readonly db: DynamoDBDocumentClient;
  /** A second client to the same server, for reads that no counter should see. */
  readonly raw: DynamoDBClient;
  table(): Promise<{ tableName: string; store: DynamoDbIncidentStore }>;
  close(): Promise<void>;
}

const openEngines = new Set<Engine>();

/** Closes every engine a benchmark left open (one that threw before its own close). */
export async function closeEngines(): Promise<void> {
  for (const engine of [...openEngines]) await engine.close();
}

/** dynalite in memory, in this process, reached by the real SDK over loopback HTTP. */
export async function startEngine(): Promise<Engine> {
  const dynamo = await startDynalite();
  const db = documentClient(dynamo.client);
  const raw = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let closed = false;
  const engine: Engine = {
    dynamo,
    db,
    raw,
    async table() {
      const tableName = `bench-${randomId().slice(0, 8)}`;
      await ensureTable(dynamo.client, tableName);
      return { tableName, store: new DynamoDbIncidentStore({ tableName, client: db }) };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      openEngines.delete(engine);
      raw.destroy();
      await dynamo.close();
    },
  };
  openEngines.add(engine);
  return engine;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

export interface CallStats {
  calls: number;
  failed: number;
  /** Sum of ConsumedCapacity.CapacityUnits over the calls that returned it. */
  capacity: number;
  /** Calls that returned ConsumedCapacity. */
  withCapacity: number;
}

/** Counts of one window of calls. */
export interface CallSnapshot {
  readonly byLabel: Record<string, CallStats>;
  readonly reads: number;
  readonly writes: number;
  readonly failed: number;
  readonly rcu: number;
  readonly wcu: number;
  /** Calls whose response carried ConsumedCapacity, of all calls that succeeded. */
  readonly capacityReported: string;
  readonly trace: string[];
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { S?: unknown }).S === 'string')
    return (value as { S: string }).S;
  return undefined;
}

/** "KEY", "INC", "TL", "THR", "MW", "gsi3:DAY"…: which kind of item a call touched. */
function targetOf(command: string, input: Record<string, unknown>): string {
  const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  if (key) {
    const pk = stringOf(key.pk) ?? '?';
    const sk = stringOf(key.sk) ?? '';
    const prefix = pk.split('#')[0] ?? pk;
    if (prefix === 'INC') return sk.startsWith('TL#') ? 'TL' : 'INC';
    return prefix;
  }
  if (command === 'Query' || command === 'Scan') {
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const first =
      Object.values(values)
        .map(stringOf)
        .find((v) => v !== undefined) ?? '?';
    const prefix = first.split('#')[0] ?? first;
    return input.IndexName ? `${String(input.IndexName)}:${prefix}` : prefix;
  }
  return 'batch';
}

/**
 * Counts DynamoDB commands at the SDK edge: a middleware on the client (which the document client
 * shares) records each command by name and the kind of item it touched, and asks for
 * ReturnConsumedCapacity TOTAL to sum capacity units. Counted at the initialize step: one count
 * per logical command, SDK retries not included.
 */
export class DynamoCounter {
  enabled = true;
  traceCalls = false;
  #stats = new Map<string, CallStats>();
  #trace: string[] = [];

  attach(client: DynamoDBClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.enabled) return next(args);
        const command = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        const input = args.input as Record<string, unknown>;
        const label = `${command}(${targetOf(command, input)})`;
        const stats = this.#stats.get(label) ?? { calls: 0, failed: 0, capacity: 0, withCapacity: 0 };
        this.#stats.set(label, stats);
        stats.calls++;
        if (this.traceCalls) this.#trace.push(label);
        try {
          const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
          const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
          const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
          if (list.length > 0) stats.withCapacity++;
          for (const c of list)
            stats.capacity += Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0);
          return result;
        } catch (error) {
          stats.failed++;
          if (this.traceCalls) this.#trace[this.#trace.length - 1] += `!${(error as Error).name}`;
          throw error;
        }
      },
      { step: 'initialize', name: 'benchDynamoCounter', priority: 'high' },
    );
    return this;
  }

  /** Puts a call on another client (SNS, Scheduler…) into the trace, in order. */
  mark(label: string): void {
    if (this.enabled && this.traceCalls) this.#trace.push(label);
  }

  reset(): void {
    this.#stats = new Map();
    this.#trace = [];
  }

  snapshot(): CallSnapshot {
    const byLabel: Record<string, CallStats> = {};
    let reads = 0;
    let writes = 0;
    let failed = 0;
    let rcu = 0;
    let wcu = 0;
    let succeeded = 0;
    let withCapacity = 0;
    for (const [label, s] of [...this.#stats.entries()].sort()) {
      byLabel[label] = { ...s };
      const isRead = READS.has(label.split('(')[0] ?? '');
      if (isRead) {
        reads += s.calls;
        rcu += s.capacity;
      } else {
        writes += s.calls;
        wcu += s.capacity;
      }
      failed += s.failed;
      succeeded += s.calls - s.failed;
      withCapacity += s.withCapacity;
    }
    return {
      byLabel,
      reads,
      writes,
      failed,
      rcu,
      wcu,
      capacityReported: `${withCapacity}/${succeeded}`,
      trace: [...this.#trace],
    };
  }
}

export interface MockedAws {
  readonly sns: SNSClient;
  readonly scheduler: SchedulerClient;
  readonly events: EventBridgeClient;
  counts(): { Publish: number; CreateSchedule: number; DeleteSchedule: number; PutEvents: number };
  /** The schedules created so far: name and the timer event JSON they carry. */
  schedules(): { name: string; input: string }[];
  /** The messages published so far (an email's subject, or the message itself). */
  published(): string[];
  reset(): void;
  restore(): void;
}

const fakeCredentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/**
 * SNS, Scheduler and EventBridge clients mocked with aws-sdk-client-mock (per instance): the real
 * adapters build and send the real commands; the mock answers and counts them.
 */
export function mockedAws(onCall: (command: string) => void = () => {}): MockedAws {
  const sns = new SNSClient({ region: 'us-east-1', credentials: fakeCredentials });
  const scheduler = new SchedulerClient({ region: 'us-east-1', credentials: fakeCredentials });
  const events = new EventBridgeClient({ region: 'us-east-1', credentials: fakeCredentials });
  const snsMock = mockClient(sns);
  const schedulerMock = mockClient(scheduler);
  const eventsMock = mockClient(events);
  const answer =
    <T>(command: string, output: T) =>
    () => {
      onCall(command);
      return Promise.resolve(output);
    };
  snsMock.on(PublishCommand).callsFake(answer('Publish', { MessageId: 'bench-message' }));
  schedulerMock
    .on(CreateScheduleCommand)
    .callsFake(
      answer('CreateSchedule', { ScheduleArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/x/y' }),
    );
  schedulerMock.on(DeleteScheduleCommand).callsFake(answer('DeleteSchedule', {}));
  schedulerMock.on(UpdateScheduleCommand).callsFake(answer('UpdateSchedule', { ScheduleArn: 'arn:x' }));
  eventsMock
    .on(PutEventsCommand)
    .callsFake(answer('PutEvents', { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] }));
  return {
    sns,
    scheduler,
    events,
    counts: () => ({
      Publish: snsMock.commandCalls(PublishCommand).length,
      CreateSchedule: schedulerMock.commandCalls(CreateScheduleCommand).length,
      DeleteSchedule: schedulerMock.commandCalls(DeleteScheduleCommand).length,
      PutEvents: eventsMock.commandCalls(PutEventsCommand).length,
    }),
    schedules: () =>
      schedulerMock.commandCalls(CreateScheduleCommand).map((call) => ({
        name: call.args[0].input.Name ?? '',
        input: call.args[0].input.Target?.Input ?? '',
      })),
    published: () =>
      snsMock
        .commandCalls(PublishCommand)
        .map((call) => call.args[0].input.Subject ?? call.args[0].input.Message ?? ''),
    reset: () => {
      snsMock.resetHistory();
      schedulerMock.resetHistory();
      eventsMock.resetHistory();
    },
    restore: () => {
      snsMock.restore();
      schedulerMock.restore();
      eventsMock.restore();
    },
  };
}

/** The use cases' dependencies as `awsPipeline` builds them, with the clients given. */
export function benchDeps(
  store: DynamoDbIncidentStore,
  aws: Pick<MockedAws, 'sns' | 'scheduler' | 'events'>,
  clock: Clock,
  config: KlaxonConfig = BENCH_CONFIG,
): CommandDeps {
  return {
    store,
    actionItems: new DynamoDbActionItemStore(store.table),
    timers: new SchedulerTimers({
      groupName: SCHEDULE_GROUP,
      targetArn: ARN.escalate,
      roleArn: ARN.schedulerRole,
      deadLetterArn: ARN.schedulerDlq,
      client: aws.scheduler,
    }),
    pager: new SnsPager({ topicArn: ARN.topic, timeZone: config.timeZone, client: aws.sns }),
    events: new EventBridgePublisher({ busName: 'klaxon-bench', client: aws.events }),
    clock,
    config,
    links: new AckLinks({ publicUrl: PUBLIC_URL, secret: async () => LINK_SECRET }),
  };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** A deterministic PRNG (mulberry32), so shuffles and mixes repeat from run to run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((sum, s) => sum + numberSize(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((sum, b) => sum + b.length, 0);
  if (v.L !== undefined) return 3 + v.L.reduce((sum, x) => sum + 1 + valueSize(x), 0);
  if (v.M !== undefined) return 3 + Object.keys(v.M).length + itemSize(v.M);
  return 0;
}

/** DynamoDB's item size (attribute names + values), per the developer guide's sizing rules. */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

/** One item as stored, read raw (on a client no counter watches). */
export async function storedItem(
  client: DynamoDBClient,
  tableName: string,
  pk: string,
  sk: string,
): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return Item;
}

/** The stored size of one item in bytes, by DynamoDB's sizing rules. */
export async function storedItemSize(
  client: DynamoDBClient,
  tableName: string,
  pk: string,
  sk: string,
): Promise<number | undefined> {
  const item = await storedItem(client, tableName, pk, sk);
  return item ? itemSize(item) : undefined;
}

export const fmt = {
  ms: (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : '—'),
  x: (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—'),
  kib: (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`,
  kb: (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`,
  n: (v: number) => v.toLocaleString('en-US'),
  perSec: (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`,
};
