import { SEEN_WINDOW } from '#adapters/aws/dynamodb-store';
import type { BundleFigures } from './bundles.ts';
import type { CallsData, Operation, OperationCalls } from './calls.ts';
import type { BenchResult, Row } from './harness.ts';
import { round } from './stats.ts';

/**
 * A monthly cost model at AWS list prices, driven by the AWS calls the `calls` benchmark counted
 * per operation. Every price and every traffic assumption is in the two tables below.
 */

export const PRICE_REGION = 'us-east-1 (N. Virginia)';
/**
 * When these list prices were taken from the AWS pricing pages. They were not re-checked when the
 * benchmark ran (the environment has no internet access): check them before relying on the total.
 */
export const PRICE_DATE = '2025-06 (AWS public pricing pages; not re-checked on the run date)';

export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** What the always-free tier (not the 12-month trial) leaves free each month, in units. */
  readonly freePerMonth?: number;
  readonly note?: string;
}

/** The one price table. */
export const PRICES = {
  dynamoWrite: {
    usd: 0.625,
    per: 1e6,
    unit: 'write request unit (on-demand)',
    note: 'after the Nov 2024 on-demand price cut',
  },
  dynamoRead: { usd: 0.125, per: 1e6, unit: 'read request unit (on-demand)' },
  dynamoStorage: { usd: 0.25, per: 1, unit: 'GB-month', freePerMonth: 25 },
  dynamoPitr: { usd: 0.2, per: 1, unit: 'GB-month of continuous backup' },
  lambdaRequest: { usd: 0.2, per: 1e6, unit: 'request', freePerMonth: 1e6 },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 1, unit: 'GB-second (arm64)', freePerMonth: 400_000 },
  eventBridgeCustomEvent: { usd: 1.0, per: 1e6, unit: 'custom event put (64 KB chunk)' },
  schedulerInvocation: {
    usd: 1.0,
    per: 1e6,
    unit: 'scheduled invocation',
    freePerMonth: 14e6,
    note: 'CreateSchedule/DeleteSchedule API calls are not charged',
  },
  snsPublish: { usd: 0.5, per: 1e6, unit: 'Publish request (64 KB chunk)', freePerMonth: 1e6 },
  snsEmail: { usd: 2.0, per: 1e5, unit: 'email notification', freePerMonth: 1000 },
  snsSmsUs: {
    usd: 0.00581,
    per: 1,
    unit: 'SMS to a US number (base price)',
    note: 'plus carrier fees of roughly $0.003; varies by country',
  },
  httpApiRequest: { usd: 1.0, per: 1e6, unit: 'HTTP API request (first 300 M)' },
  s3Put: { usd: 0.005, per: 1000, unit: 'PUT request (S3 Standard)' },
  s3Storage: { usd: 0.023, per: 1, unit: 'GB-month (S3 Standard)' },
  secret: { usd: 0.4, per: 1, unit: 'secret-month' },
  secretApi: { usd: 0.05, per: 10_000, unit: 'API call' },
  logsIngest: { usd: 0.5, per: 1, unit: 'GB ingested (CloudWatch Logs)', freePerMonth: 5 },
  logsStorage: { usd: 0.03, per: 1, unit: 'GB-month archived' },
  customMetric: {
    usd: 0.3,
    per: 1,
    unit: 'custom metric-month (prorated by the hour)',
    freePerMonth: 10,
    note: 'a metric published once a night is billed for ~30 of ~730 hours',
  },
} as const satisfies Record<string, Price>;

/** The month being priced. */
export const TRAFFIC = {
  alerts: 20_000,
  incidents: 300,
  /** Incidents that end with a resolve alert from the source; the rest are resolved by link. */
  resolvedByAlertShare: 0.8,
  /** Incidents acknowledged by link (each: GET confirm page + POST). */
  ackByLinkShare: 0.9,
  /** Incidents that reach level 2 before anyone acknowledges. */
  escalatedShare: 0.25,
  /** SEV-1/SEV-2 incidents (they get status reminders). */
  sev12Share: 0.6,
  /** Reminders that fire per SEV-1/2 incident before it is resolved. */
  remindersPerSev12: 1,
  /** Acknowledged incidents still open when the 30-minute ack timeout fires. */
  ackTimeoutShare: 0.1,
  /** Nightly rollups per month. */
  rollups: 30,
  /** Invocations that start a new execution environment (traffic this low is mostly cold). */
  coldShare: 0.3,
  /** Init duration on Lambda relative to the local cold module load (512 MB ≈ 1/3 vCPU). */
  initFactor: 3,
  /** Init duration when the bundles benchmark did not run. */
  initMsDefault: 600,
  /** In-region latency assumptions per call, for billed duration. */
  latencyMs: { dynamo: 5, publish: 20, schedule: 25, putEvents: 15, compute: 10 },
  /** Rollup run: its reads, four S3 puts, metrics; at ~10 incidents a day. */
  rollupMs: 2000,
  memoryMb: { http: 512, processAlert: 512, escalate: 512, rollup: 1024 },
  /** Log bytes per invocation: START/END/REPORT lines plus one Powertools JSON line. */
  logBytesPerInvocation: 1100,
  /** One JSON access-log line per API request. */
  accessLogBytes: 450,
  /** Export files per rollup (incidents and rollups, JSON Lines and CSV). */
  exportFilesPerDay: 4,
  /** Custom metrics per service (Incidents, IncidentsStillOpen, TargetBreaches, PagesSent, Escalations, MTTD/MTTA/MTTR p90). */
  metricsPerService: 8,
  services: 1,
  /** Timeline entries per incident and their size, for storage. */
  timelineEntries: 6,
  timelineEntryBytes: 350,
  /** Incident items live in the table and in three GSIs (ALL projection). */
  gsis: 3,
} as const;

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
  readonly usdAfterFreeTier: number;
}

function priced(item: string, quantity: number, price: Price): CostLine {
  const usd = (quantity / price.per) * price.usd;
  const billable = Math.max(0, quantity - (price.freePerMonth ?? 0));
  return {
    item,
    quantity: round(quantity, 2),
    unit: price.unit,
    usd,
    usdAfterFreeTier: (billable / price.per) * price.usd,
  };
}

/**
 * Request units of one operation in real DynamoDB: dynalite reports ConsumedCapacity for the table
 * only, so writes to incident items get the three GSI writes added; a failed conditional write still
 * consumes a write unit (dynalite reports none).
 */
function units(o: OperationCalls): { rru: number; wru: number } {
  return { rru: o.rcu, wru: o.wcu + o.incidentWcu * TRAFFIC.gsis + o.failed };
}

export function costModel(
  calls: CallsData,
  bundles: readonly BundleFigures[] = [],
): {
  lines: CostLine[];
  totalUsd: number;
  totalAfterFreeTierUsd: number;
  smsVariantUsd: number;
  counts: Record<string, number>;
  assumptions: typeof TRAFFIC;
} {
  const ops = calls.operations;
  const t = TRAFFIC;
  const resolvesByAlert = Math.round(t.incidents * t.resolvedByAlertShare);
  const resolvesByLink = t.incidents - resolvesByAlert;
  const duplicates = t.alerts - t.incidents - resolvesByAlert;
  const count: Record<Operation, number> = {
    newIncident: Math.round(t.incidents * t.sev12Share),
    newIncidentSev3: t.incidents - Math.round(t.incidents * t.sev12Share),
    duplicate: duplicates,
    replay: 0,
    escalation: Math.round(t.incidents * t.escalatedShare),
    reminder: Math.round(t.incidents * t.sev12Share * t.remindersPerSev12),
    ackLinkGet: Math.round(t.incidents * t.ackByLinkShare) + resolvesByLink,
    ackLink: Math.round(t.incidents * t.ackByLinkShare),
    resolveLink: resolvesByLink,
    ackEventsV2: 0,
    ackTimeout: Math.round(t.incidents * t.ackByLinkShare * t.ackTimeoutShare),
    resolve: resolvesByAlert,
    ingestCold: Math.round(t.alerts * t.coldShare),
    ingestWarm: t.alerts - Math.round(t.alerts * t.coldShare),
  };

  // DynamoDB: every operation's measured units; duplicates priced at the incident's size as its
  // dedup window fills (each duplicate rewrites the whole item, in the table and in three GSIs).
  let rru = 0;
  let wru = 0;
  for (const [op, n] of Object.entries(count) as [Operation, number][]) {
    if (op === 'duplicate') continue;
    const u = units(ops[op]);
    rru += u.rru * n;
    wru += u.wru * n;
  }
  const perIncident = duplicates / t.incidents;
  let dupWru = 0;
  for (let k = 1; k <= Math.round(perIncident); k++) {
    // The dedup window keeps at most two generations of event hashes.
    const bytes = calls.incidentItemBytes + calls.bytesPerSeenEvent * Math.min(k, 2 * SEEN_WINDOW);
    dupWru += Math.ceil(bytes / 1024) * (1 + t.gsis);
  }
  const dupWruEach = dupWru / Math.max(1, Math.round(perIncident));
  wru += dupWruEach * duplicates;
  rru += units(ops.duplicate).rru * duplicates;
  // Nightly rollup: ~incidents/30 items a day through gsi3 (eventually consistent), rollup puts.
  rru += t.rollups * Math.max(1, Math.ceil(((t.incidents / 30) * calls.incidentItemBytes) / 8192));
  wru += t.rollups * 10;

  // Lambda.
  const callMs = (o: OperationCalls) =>
    t.latencyMs.compute +
    (o.reads + o.writes) * t.latencyMs.dynamo +
    o.Publish * t.latencyMs.publish +
    (o.CreateSchedule + o.DeleteSchedule) * t.latencyMs.schedule +
    o.PutEvents * t.latencyMs.putEvents;
  const httpOps: Operation[] = ['ackLinkGet', 'ackLink', 'resolveLink', 'ingestCold', 'ingestWarm'];
  const processOps: Operation[] = ['newIncident', 'newIncidentSev3', 'duplicate', 'resolve'];
  const escalateOps: Operation[] = ['escalation', 'reminder', 'ackTimeout'];
  const sum = (list: Operation[], f: (op: Operation) => number) => list.reduce((s, op) => s + f(op), 0);
  const invocations = {
    http: sum(httpOps, (op) => count[op]),
    processAlert: sum(processOps, (op) => count[op]),
    escalate: sum(escalateOps, (op) => count[op]),
    rollup: t.rollups,
  };
  const loadMs = (name: string) => bundles.find((b) => b.handler === name)?.loadMs;
  const initMs = (name: string) => {
    const measured = loadMs(name);
    return measured === undefined ? t.initMsDefault : measured * t.initFactor;
  };
  const gbSeconds =
    (sum(httpOps, (op) => count[op] * callMs(ops[op])) / 1000) * (t.memoryMb.http / 1024) +
    (sum(processOps, (op) => count[op] * callMs(ops[op])) / 1000) * (t.memoryMb.processAlert / 1024) +
    (sum(escalateOps, (op) => count[op] * callMs(ops[op])) / 1000) * (t.memoryMb.escalate / 1024) +
    ((t.rollups * t.rollupMs) / 1000) * (t.memoryMb.rollup / 1024) +
    // INIT is billed for on-demand functions on managed runtimes since 1 Aug 2025.
    ((invocations.http * t.coldShare * initMs('http')) / 1000) * (t.memoryMb.http / 1024) +
    ((invocations.processAlert * t.coldShare * initMs('process-alert')) / 1000) *
      (t.memoryMb.processAlert / 1024) +
    ((invocations.escalate * t.coldShare * initMs('escalate')) / 1000) * (t.memoryMb.escalate / 1024) +
    ((t.rollups * initMs('rollup')) / 1000) * (t.memoryMb.rollup / 1024);
  const totalInvocations =
    invocations.http + invocations.processAlert + invocations.escalate + invocations.rollup;

  const publishes = sum(Object.keys(count) as Operation[], (op) => count[op] * ops[op as Operation].Publish);
  const putEvents = sum(
    Object.keys(count) as Operation[],
    (op) => count[op] * ops[op as Operation].PutEvents,
  );
  const apiRequests = invocations.http;
  const schedulerInvocations = invocations.escalate + t.rollups;
  // The link secret is fetched once per execution environment, and only by one that signs or
  // checks a link: at most once per such operation.
  const secretOps: Operation[] = [
    'newIncident',
    'newIncidentSev3',
    'escalation',
    'reminder',
    'ackTimeout',
    'ackLinkGet',
    'ackLink',
    'resolveLink',
  ];
  const coldWithSecret = sum(secretOps, (op) => count[op]);
  const logGb =
    (totalInvocations * t.logBytesPerInvocation + apiRequests * t.accessLogBytes + t.rollups * 5000) / 1e9;
  const storageGb =
    (t.incidents * (calls.incidentItemBytes + calls.bytesPerSeenEvent * perIncident) * (1 + t.gsis) +
      t.incidents * t.timelineEntries * t.timelineEntryBytes) /
    1e9;
  const metricMonths = t.metricsPerService * t.services * (t.rollups / 730);

  const lines: CostLine[] = [
    priced('DynamoDB writes', wru, PRICES.dynamoWrite),
    priced('DynamoDB reads', rru, PRICES.dynamoRead),
    priced('DynamoDB storage (month 1)', storageGb, PRICES.dynamoStorage),
    priced('DynamoDB PITR', storageGb, PRICES.dynamoPitr),
    priced('Lambda requests', totalInvocations, PRICES.lambdaRequest),
    priced('Lambda duration incl. INIT', gbSeconds, PRICES.lambdaArmGbSecond),
    priced('API Gateway HTTP API', apiRequests, PRICES.httpApiRequest),
    priced('EventBridge custom events', putEvents, PRICES.eventBridgeCustomEvent),
    priced('EventBridge Scheduler', schedulerInvocations, PRICES.schedulerInvocation),
    priced('SNS Publish', publishes, PRICES.snsPublish),
    priced('SNS email deliveries', publishes, PRICES.snsEmail),
    priced('S3 PUT (exports)', t.rollups * t.exportFilesPerDay, PRICES.s3Put),
    priced('Secrets Manager secret', 1, PRICES.secret),
    priced('Secrets Manager GetSecretValue', coldWithSecret, PRICES.secretApi),
    priced('CloudWatch Logs ingestion', logGb, PRICES.logsIngest),
    priced('CloudWatch Logs storage', logGb, PRICES.logsStorage),
    priced('CloudWatch custom metrics (EMF)', metricMonths, PRICES.customMetric),
  ];
  const totalUsd = lines.reduce((s, l) => s + l.usd, 0);
  const totalAfterFreeTierUsd = lines.reduce((s, l) => s + l.usdAfterFreeTier, 0);
  const email = lines.find((l) => l.item === 'SNS email deliveries')?.usd ?? 0;
  const smsVariantUsd = totalUsd - email + (publishes / PRICES.snsSmsUs.per) * PRICES.snsSmsUs.usd;
  return {
    lines,
    totalUsd,
    totalAfterFreeTierUsd,
    smsVariantUsd,
    counts: {
      ...count,
      invocations: totalInvocations,
      publishes,
      putEvents,
      schedulerInvocations,
      wru: round(wru, 1),
      rru: round(rru, 1),
      duplicateWruEach: round(dupWruEach, 2),
      gbSeconds: round(gbSeconds, 1),
    },
    assumptions: TRAFFIC,
  };
}

export function runCost(calls: CallsData, bundles: readonly BundleFigures[] = []): BenchResult {
  const model = costModel(calls, bundles);
  const usd = (v: number) => `$${v < 0.01 ? v.toFixed(4) : v.toFixed(2)}`;
  const top = [...model.lines].sort((a, b) => b.usd - a.usd).slice(0, 3);
  const rows: Row[] = [
    {
      bench: 'cost model',
      measure: `${TRAFFIC.alerts.toLocaleString('en-US')} alerts, ${TRAFFIC.incidents} incidents / month`,
      klaxon: `${usd(model.totalUsd)} list; ${usd(model.totalAfterFreeTierUsd)} after free tiers`,
      floor: '—',
      ratio: '—',
      goal: `${PRICE_REGION}, prices ${PRICE_DATE.slice(0, 7)}`,
      met: 'info',
    },
    {
      bench: 'cost model',
      measure: 'largest items',
      klaxon: top.map((l) => `${l.item} ${usd(l.usd)}`).join('; '),
      floor: '—',
      ratio: '—',
      goal: `SMS instead of email: ${usd(model.smsVariantUsd)}`,
      met: 'info',
    },
  ];
  return {
    name: 'cost',
    rows,
    data: {
      region: PRICE_REGION,
      priceDate: PRICE_DATE,
      prices: PRICES,
      ...model,
      lines: model.lines.map((l) => ({
        ...l,
        usd: round(l.usd, 4),
        usdAfterFreeTier: round(l.usdAfterFreeTier, 4),
      })),
      totalUsd: round(model.totalUsd, 4),
      totalAfterFreeTierUsd: round(model.totalAfterFreeTierUsd, 4),
      smsVariantUsd: round(model.smsVariantUsd, 4),
    },
  };
}
