import { performance } from 'node:perf_hooks';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { atExpression } from '#adapters/aws/scheduler-timers';
import { processAlert } from '#app/process-alert';
import { incidentIdFor } from '#core/ids';
import {
  ARN,
  BenchClock,
  type BenchOptions,
  type BenchResult,
  benchAlert,
  benchDeps,
  fmt,
  mockedAws,
  progress,
  QUIET_GAP_MS,
  SCHEDULE_GROUP,
  SERVICE,
  startEngine,
} from './harness.ts';
import { median, p99, round } from './stats.ts';

/**
 * Time to open an incident (processAlert of a trigger for a new key, through every effect: page,
 * timers, timeline) against the floor: the bare GetItem + UpdateItem + PutItem + Publish +
 * CreateSchedule an incident minimally needs, issued with the same clients on the same dynalite
 * and the same mocked SNS / Scheduler. Runs alternate (Klaxon, floor, floor, Klaxon, …) so that
 * drift hits both; the figure is the ratio of the medians. A second floor issues bare the very
 * calls Klaxon makes (the `calls` benchmark's trace), to separate "more calls" from "slower code".
 */
export async function runOpenLatency(options: BenchOptions): Promise<BenchResult> {
  const runs = options.quick ? 100 : 400;
  const warmup = options.quick ? 20 : 50;
  const engine = await startEngine();
  const { store, tableName } = await engine.table();
  const aws = mockedAws();
  const clock = new BenchClock();
  const deps = benchDeps(store, aws, clock.now);
  const db = engine.db;

  const klaxon = async (i: number) => {
    clock.advance(QUIET_GAP_MS); // outside every throttle window: each new incident really pages
    const outcome = await processAlert(
      benchAlert({ dedupKey: `open-${i}`, receivedAt: clock.now().toISOString() }),
      deps,
    );
    if (outcome.kind !== 'opened') throw new Error(`open-latency: expected opened, got ${outcome.kind}`);
  };

  const bare = async (i: number, extra: boolean) => {
    const key = `${extra ? 'same' : 'floor'}-${i}`;
    const id = incidentIdFor(SERVICE, key, 0);
    const now = new Date().toISOString();
    const get = (pk: string, sk: string) =>
      db.send(new GetCommand({ TableName: tableName, Key: { pk, sk }, ConsistentRead: true }));
    await get(`KEY#${SERVICE}#${key}`, 'KEY');
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `INC#${id}`, sk: 'INC' },
        UpdateExpression:
          'SET #id = if_not_exists(#id, :id), title = if_not_exists(title, :title), #status = if_not_exists(#status, :triggered), detectedAt = if_not_exists(detectedAt, :now) ADD alertCount :one',
        ConditionExpression: 'attribute_not_exists(pk) OR #status <> :resolved',
        ExpressionAttributeNames: { '#id': 'id', '#status': 'status' },
        ExpressionAttributeValues: {
          ':id': id,
          ':title': 'p99 latency above 2 s on orders-db',
          ':triggered': 'triggered',
          ':resolved': 'resolved',
          ':now': now,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (extra) {
      // Klaxon's own (the `calls` benchmark's trace, warm process): maintenance windows, the
      // contact's throttle slot (one conditional write), page, timer, event, one completing update.
      await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND sk > :now',
          ExpressionAttributeValues: { ':pk': `MW#${SERVICE}`, ':now': now },
          ConsistentRead: true,
        }),
      );
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `THR#${key}#page`, sk: 'THR', sent: [Date.now()], version: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    }
    await aws.sns.send(
      new PublishCommand({
        TopicArn: ARN.topic,
        Subject: '[SEV-1] p99 latency above 2 s on orders-db',
        Message: 'p99 latency above 2 s on orders-db\nAcknowledge: https://klaxon.example.com/a/x',
      }),
    );
    await aws.scheduler.send(
      new CreateScheduleCommand({
        Name: `esc-${id}-1-1`,
        GroupName: SCHEDULE_GROUP,
        ScheduleExpression: atExpression(new Date(Date.now() + 300_000)),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: ARN.escalate, RoleArn: ARN.schedulerRole, Input: JSON.stringify({ step: 1 }) },
      }),
    );
    const opened = {
      id: 'opened',
      incidentId: id,
      at: now,
      type: 'OPENED',
      who: 'events-v2',
      text: 'Incident opened: p99 latency above 2 s on orders-db',
      paged: ['ann'],
    };
    if (!extra) {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `INC#${id}`, sk: `TL#${now}#0#opened`, ...opened },
        }),
      );
      return;
    }
    await aws.events.send(
      new PutEventsCommand({
        Entries: [{ Source: 'klaxon', DetailType: 'Incident Opened', Detail: JSON.stringify({ id }) }],
      }),
    );
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `INC#${id}`, sk: 'INC' },
        UpdateExpression: 'SET opening = :opened ADD pagesSent :n',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(opening)',
        ExpressionAttributeValues: { ':opened': opened, ':n': 1 },
      }),
    );
  };

  const variants = [
    { name: 'klaxon', run: klaxon },
    { name: 'floor', run: (i: number) => bare(i, false) },
    { name: 'same calls', run: (i: number) => bare(i, true) },
  ] as const;
  const times: Record<string, number[]> = { klaxon: [], floor: [], 'same calls': [] };
  progress(`open-latency: ${warmup} warm-up + ${runs} timed runs of each variant`);
  for (let i = 0; i < warmup + runs; i++) {
    // Rotate the order so that no variant always runs right after another one.
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(i + k) % variants.length] as (typeof variants)[number];
      const t0 = performance.now();
      await v.run(i);
      const elapsed = performance.now() - t0;
      if (i >= warmup) times[v.name]?.push(elapsed);
    }
    if ((i + 1) % 100 === 0) progress(`open-latency: ${i + 1}/${warmup + runs}`);
  }
  aws.restore();
  await engine.close();

  const summary = Object.fromEntries(
    Object.entries(times).map(([name, list]) => [
      name,
      { median: median(list), p99: p99(list), runs: list.length },
    ]),
  ) as Record<'klaxon' | 'floor' | 'same calls', { median: number; p99: number; runs: number }>;
  const ratio = summary.klaxon.median / summary.floor.median;
  const sameRatio = summary.klaxon.median / summary['same calls'].median;
  return {
    name: 'open-latency',
    rows: [
      {
        bench: 'open latency',
        measure: `open an incident, median of ${runs}`,
        klaxon: `${fmt.ms(summary.klaxon.median)} (p99 ${fmt.ms(summary.klaxon.p99)})`,
        floor: `${fmt.ms(summary.floor.median)} (p99 ${fmt.ms(summary.floor.p99)})`,
        ratio: fmt.x(ratio),
        goal: '≤ 1.3×',
        met: ratio <= 1.3 ? 'met' : 'NOT MET',
      },
      {
        bench: 'open latency',
        measure: "vs Klaxon's own 8 calls issued bare",
        klaxon: fmt.ms(summary.klaxon.median),
        floor: fmt.ms(summary['same calls'].median),
        ratio: fmt.x(sameRatio),
        goal: '(diagnostic)',
        met: 'info',
      },
    ],
    data: {
      runs,
      warmup,
      summary,
      ratio: round(ratio, 3),
      ratioToSameCalls: round(sameRatio, 3),
      floorCalls: ['GetItem', 'UpdateItem', 'PutItem', 'Publish', 'CreateSchedule'],
    },
  };
}
