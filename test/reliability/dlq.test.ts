import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleAlertEvent } from '#app/alert-event';
import type { Pager } from '#app/ports';
import type { Incident } from '#core/incident';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import {
  busOfRuleArn,
  classifySqsLetter,
  parseDeadLetters,
  type ReplayReport,
  replayLocalDeadLetters,
  replaySqsDeadLetters,
} from '../../cli/dlq.ts';
import { eventually } from '../support/local-process.ts';
import { cloudWatchEvent } from './events.ts';

/**
 * `klaxon dlq replay`: the AWS half against mocked SQS, EventBridge and Lambda clients (exact
 * inputs, deletes only after a successful re-drive), the local half against a running local
 * runtime whose dead letters are real (process-alert made to fail until it recovers).
 */

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Klaxon-DeliveryDeadLetterQueue';
const KLAXON_RULE = 'arn:aws:events:eu-west-1:123456789012:rule/KlaxonBus/Klaxon-AlertsToProcessor';
const DEFAULT_RULE = 'arn:aws:events:eu-west-1:123456789012:rule/Klaxon-CloudWatchAlarmsToProcessor';

const attributes = (values: Record<string, string>): Message['MessageAttributes'] =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));

/** A native alert put by a producer, without an eventKey. */
const nativeEvent = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'Klaxon Alert',
  source: 'acme.billing',
  account: '123456789012',
  time: '2026-11-26T10:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:ecs:eu-west-1:123456789012:service/billing'],
  detail: { service: 'billing', dedupKey: 'invoices-stuck', summary: 'Invoices stuck for 30 minutes' },
};
/** A canonical alert from the ingest API: it carries its eventKey. */
const ingestEvent = {
  ...nativeEvent,
  id: '0d3a2c55-9a3e-4a43-8d1b-0f1c2b9e7a10',
  source: 'klaxon.ingest',
  resources: [],
  detail: {
    eventKey: 'events-v2:abc',
    service: 'checkout',
    dedupKey: 'disk',
    action: 'trigger',
    summary: 'Disk full',
    source: 'db-1',
    severity: 'critical',
    receivedAt: '2026-11-26T10:00:00.000Z',
    origin: 'events-v2',
  },
};
const alarmEvent = cloudWatchEvent(
  'ALARM',
  '2026-11-26T10:00:00.000Z',
  'b5f3c0de-1111-4222-8333-944455556666',
);
const timerInput = { kind: 'escalate', incidentId: 'abcdefghijkl', generation: 1, step: 2 };

const ruleLetter = (id: string, event: unknown, rule = KLAXON_RULE): Message => ({
  MessageId: id,
  ReceiptHandle: `receipt-${id}`,
  Body: JSON.stringify(event),
  MessageAttributes: attributes({
    RULE_ARN: rule,
    TARGET_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:klaxon-process-alert',
    ERROR_CODE: 'SDK_CLIENT_ERROR',
    ERROR_MESSAGE: 'Unable to invoke Lambda function',
  }),
});
const lambdaLetter = (id: string, payload: unknown): Message => ({
  MessageId: id,
  ReceiptHandle: `receipt-${id}`,
  Body: JSON.stringify(payload),
  MessageAttributes: attributes({
    RequestID: '9f1c8a5e-0000-4000-8000-000000000001',
    ErrorCode: '200',
    ErrorMessage: 'ConditionalCheckFailed… retries exhausted',
  }),
});
const schedulerLetter = (id: string, input: unknown): Message => ({
  MessageId: id,
  ReceiptHandle: `receipt-${id}`,
  Body: JSON.stringify(input),
  MessageAttributes: attributes({
    SCHEDULE_ARN: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/Klaxon-timers/esc-abcdefghijkl-1-2',
    TARGET_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:klaxon-escalate',
    ERROR_CODE: 'AWS.Scheduler.InternalServerError',
    RETRY_ATTEMPTS: '10',
  }),
});

describe('dlq replay, AWS (SQS dead-letter queues)', () => {
  const sqs = mockClient(SQSClient);
  const eventBridge = mockClient(EventBridgeClient);
  const lambda = mockClient(LambdaClient);
  const clients = () => ({
    sqs: new SQSClient({}),
    eventBridge: new EventBridgeClient({}),
    lambda: new LambdaClient({}),
  });

  beforeEach(() => {
    sqs.reset();
    eventBridge.reset();
    lambda.reset();
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'new-id' }] });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  });
  const queue = (...messages: Message[]) =>
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
  const inputs = <T>(calls: { args: [{ input: T }] }[]) => calls.map((c) => c.args[0].input);

  it('an EventBridge rule letter goes back on its bus, then is deleted; the native one keeps its identity', async () => {
    queue(ruleLetter('m1', nativeEvent), ruleLetter('m2', ingestEvent));
    const result = await replaySqsDeadLetters({ queueUrl: QUEUE, ...clients() });
    expect(result).toMatchObject({ replayed: 2, failed: 0 });
    expect(inputs(sqs.commandCalls(ReceiveMessageCommand))[0]).toEqual({
      QueueUrl: QUEUE,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 60,
      MessageAttributeNames: ['All'],
    });
    expect(inputs(eventBridge.commandCalls(PutEventsCommand))).toEqual([
      {
        Entries: [
          {
            EventBusName: 'KlaxonBus',
            Source: 'acme.billing',
            DetailType: 'Klaxon Alert',
            // process-alert would have derived `native:<id>` from the original event: pinned.
            Detail: JSON.stringify({ ...nativeEvent.detail, eventKey: `native:${nativeEvent.id}` }),
            Time: new Date('2026-11-26T10:00:00Z'),
            Resources: nativeEvent.resources,
          },
        ],
      },
      {
        Entries: [
          {
            EventBusName: 'KlaxonBus',
            Source: 'klaxon.ingest',
            DetailType: 'Klaxon Alert',
            Detail: JSON.stringify(ingestEvent.detail),
            Time: new Date('2026-11-26T10:00:00Z'),
          },
        ],
      },
    ]);
    expect(inputs(sqs.commandCalls(DeleteMessageCommand))).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'receipt-m1' },
      { QueueUrl: QUEUE, ReceiptHandle: 'receipt-m2' },
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
  });

  it('--bus overrides the bus of the rule ARN', async () => {
    queue(ruleLetter('m1', ingestEvent));
    await replaySqsDeadLetters({ queueUrl: QUEUE, bus: 'other-bus', ...clients() });
    expect(inputs(eventBridge.commandCalls(PutEventsCommand))[0]?.Entries?.[0]?.EventBusName).toBe(
      'other-bus',
    );
  });

  it('a CloudWatch event cannot be re-put (aws.* source): kept without --function, invoked with its id with it', async () => {
    queue(ruleLetter('m1', alarmEvent, DEFAULT_RULE));
    const without = await replaySqsDeadLetters({ queueUrl: QUEUE, ...clients() });
    expect(without).toMatchObject({ replayed: 0, failed: 1 });
    expect(without.entries[0]?.detail).toMatch(/PutEvents refuses source aws\.cloudwatch: pass --function/);
    expect(eventBridge.commandCalls(PutEventsCommand)).toEqual([]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toEqual([]);
    expect(inputs(sqs.commandCalls(ChangeMessageVisibilityCommand))).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'receipt-m1', VisibilityTimeout: 0 },
    ]);

    sqs.reset();
    sqs.on(DeleteMessageCommand).resolves({});
    queue(ruleLetter('m1', alarmEvent, DEFAULT_RULE));
    const withFunction = await replaySqsDeadLetters({
      queueUrl: QUEUE,
      functionName: 'klaxon-process-alert',
      ...clients(),
    });
    expect(withFunction).toMatchObject({ replayed: 1, failed: 0 });
    const [invoke] = inputs(lambda.commandCalls(InvokeCommand));
    expect({ ...invoke, Payload: Buffer.from(invoke?.Payload as Uint8Array).toString('utf8') }).toEqual({
      FunctionName: 'klaxon-process-alert',
      InvocationType: 'Event',
      Payload: JSON.stringify(alarmEvent),
    });
    expect(inputs(sqs.commandCalls(DeleteMessageCommand))).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'receipt-m1' },
    ]);
  });

  it.each([
    [
      'a Lambda async letter (process-alert)',
      lambdaLetter('m1', ingestEvent),
      'klaxon-process-alert',
      ingestEvent,
    ],
    ['a Scheduler letter (escalate)', schedulerLetter('m1', timerInput), 'klaxon-escalate', timerInput],
  ])(
    '%s invokes --function asynchronously with the exact payload, then is deleted',
    async (_name, message, fn, payload) => {
      queue(message);
      expect(await replaySqsDeadLetters({ queueUrl: QUEUE, functionName: fn, ...clients() })).toMatchObject({
        replayed: 1,
        failed: 0,
      });
      const [invoke] = inputs(lambda.commandCalls(InvokeCommand));
      expect({ ...invoke, Payload: Buffer.from(invoke?.Payload as Uint8Array).toString('utf8') }).toEqual({
        FunctionName: fn,
        InvocationType: 'Event',
        Payload: JSON.stringify(payload),
      });
      expect(inputs(sqs.commandCalls(DeleteMessageCommand))).toEqual([
        { QueueUrl: QUEUE, ReceiptHandle: 'receipt-m1' },
      ]);
    },
  );

  it('nothing is deleted whose re-drive failed; those messages are made visible again', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    });
    lambda
      .on(InvokeCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    queue(
      ruleLetter('m1', ingestEvent),
      lambdaLetter('m2', ingestEvent),
      lambdaLetter('m3', ingestEvent),
      { MessageId: 'm4', ReceiptHandle: 'receipt-m4', Body: 'not json' },
      schedulerLetter('m5', { kind: 'escalate' }),
    );
    const result = await replaySqsDeadLetters({
      queueUrl: QUEUE,
      functionName: 'klaxon-process-alert',
      ...clients(),
    });
    expect(result).toMatchObject({ replayed: 0, failed: 5 });
    expect(result.entries.map((e) => e.detail)).toEqual([
      expect.stringContaining('ThrottlingException: Rate exceeded'),
      expect.stringContaining('Rate exceeded'),
      expect.stringContaining('Rate exceeded'),
      'not a dead letter this command knows',
      'the body is not a timer input',
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toEqual([]);
    expect(inputs(sqs.commandCalls(ChangeMessageVisibilityCommand)).map((i) => i.ReceiptHandle)).toEqual([
      'receipt-m1',
      'receipt-m2',
      'receipt-m3',
      'receipt-m4',
      'receipt-m5',
    ]);
  });

  it('a Lambda or Scheduler letter without --function is kept', async () => {
    queue(lambdaLetter('m1', ingestEvent), schedulerLetter('m2', timerInput));
    const result = await replaySqsDeadLetters({ queueUrl: QUEUE, ...clients() });
    expect(result.entries.map((e) => [e.status, e.detail])).toEqual([
      ['failed', '--function is required to invoke it'],
      ['failed', '--function is required to invoke it'],
    ]);
    expect(lambda.commandCalls(InvokeCommand)).toEqual([]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toEqual([]);
  });

  it('--dry-run lists every message and acts on none, then makes them visible again', async () => {
    queue(
      ruleLetter('m1', nativeEvent),
      ruleLetter('m2', alarmEvent, DEFAULT_RULE),
      schedulerLetter('m3', timerInput),
    );
    const result = await replaySqsDeadLetters({
      queueUrl: QUEUE,
      functionName: 'klaxon-escalate',
      dryRun: true,
      ...clients(),
    });
    expect(result.entries.map((e) => [e.from, e.kind, e.status, e.action])).toEqual([
      [
        'm1',
        'eventbridge',
        'would replay',
        `PutEvents on KlaxonBus: Klaxon Alert from acme.billing (was ${nativeEvent.id})`,
      ],
      [
        'm2',
        'eventbridge',
        'would replay',
        'Invoke klaxon-escalate (async): the original aws.cloudwatch event',
      ],
      ['m3', 'scheduler', 'would replay', 'Invoke klaxon-escalate (async): the schedule input'],
    ]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toEqual([]);
    expect(lambda.commandCalls(InvokeCommand)).toEqual([]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toEqual([]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(3);
  });

  it('stops when the queue keeps answering only messages it has already seen, and at --max', async () => {
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [lambdaLetter('m1', ingestEvent)] });
    const dry = await replaySqsDeadLetters({
      queueUrl: QUEUE,
      functionName: 'f',
      dryRun: true,
      ...clients(),
    });
    expect(dry.entries).toHaveLength(1);
    // The letter it keeps, answered again and again (its hiding failing): a bounded number of times.
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(5);
    sqs.reset();
    sqs.on(DeleteMessageCommand).resolves({});
    let n = 0;
    sqs.on(ReceiveMessageCommand).callsFake(() => ({ Messages: [lambdaLetter(`m${++n}`, ingestEvent)] }));
    const capped = await replaySqsDeadLetters({ queueUrl: QUEUE, functionName: 'f', max: 3, ...clients() });
    expect(capped.replayed).toBe(3);
  });

  // Regression test: a run longer than the visibility timeout got its kept letters back, took an
  // answer of only those for the end of the queue, and left the letters it had not received yet.
  it('a kept letter that shows up again is not the end of the queue; it is released by its latest receipt handle', async () => {
    const answers = [
      [lambdaLetter('kept', ingestEvent)],
      [{ ...lambdaLetter('kept', ingestEvent), ReceiptHandle: 'kept-again' }],
      [lambdaLetter('later', ingestEvent)],
      [],
    ];
    sqs.on(ReceiveMessageCommand).callsFake(() => ({ Messages: answers.shift() ?? [] }));
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const dry = await replaySqsDeadLetters({
      queueUrl: QUEUE,
      functionName: 'f',
      dryRun: true,
      ...clients(),
    });
    expect(dry.entries.map((e) => e.from)).toEqual(['kept', 'later']);
    // Back once: hidden for the rest of the run; at the end both released, by their latest handles.
    expect(
      sqs
        .commandCalls(ChangeMessageVisibilityCommand)
        .map((c) => [c.args[0].input.ReceiptHandle, c.args[0].input.VisibilityTimeout]),
    ).toEqual([
      ['kept-again', 900],
      ['kept-again', 0],
      ['receipt-later', 0],
    ]);
  });

  // Regression test (a model of SQS: oldest visible first, hidden on receive for its visibility
  // timeout): 30 kept letters, then 150 whose re-drive takes 0.5 s each. After 60 s the kept ones
  // came back, several answers held only them, and the run took that for the end of the queue.
  it('a queue larger than one visibility timeout is drained: kept letters that come back do not end the run', async () => {
    let now = 0;
    let receipts = 0;
    const letters = [
      ...Array.from({ length: 30 }, (_, i) => ruleLetter(`cw${i}`, alarmEvent)),
      ...Array.from({ length: 150 }, (_, i) => ruleLetter(`n${i}`, { ...nativeEvent, id: `ev-n${i}` })),
    ].map((m) => ({ m, visibleAt: 0, handle: '' }));
    sqs
      .on(ReceiveMessageCommand)
      .callsFake((input: { MaxNumberOfMessages?: number; VisibilityTimeout?: number }) => {
        const out = letters.filter((l) => l.visibleAt <= now).slice(0, input.MaxNumberOfMessages ?? 1);
        for (const l of out) {
          l.visibleAt = now + (input.VisibilityTimeout ?? 30) * 1000;
          l.handle = `h${++receipts}`;
        }
        now += 20;
        return { Messages: out.map((l) => ({ ...l.m, ReceiptHandle: l.handle })) };
      });
    sqs.on(DeleteMessageCommand).callsFake((input: { ReceiptHandle?: string }) => {
      const i = letters.findIndex((l) => l.handle === input.ReceiptHandle);
      if (i >= 0) letters.splice(i, 1);
      return {};
    });
    sqs
      .on(ChangeMessageVisibilityCommand)
      .callsFake((input: { ReceiptHandle?: string; VisibilityTimeout?: number }) => {
        const l = letters.find((x) => x.handle === input.ReceiptHandle);
        if (l) l.visibleAt = now + (input.VisibilityTimeout ?? 0) * 1000;
        return {};
      });
    eventBridge.on(PutEventsCommand).callsFake(() => {
      now += 500;
      return { FailedEntryCount: 0, Entries: [{ EventId: 'new-id' }] };
    });
    // The CloudWatch letters cannot be re-put (aws.* source) and, without --function, are kept.
    const report = await replaySqsDeadLetters({ queueUrl: QUEUE, ...clients() });
    expect(now).toBeGreaterThan(60_000);
    expect({ replayed: report.replayed, left: letters.map((l) => l.m.MessageId) }).toEqual({
      replayed: 150,
      left: Array.from({ length: 30 }, (_, i) => `cw${i}`),
    });
    // Every kept letter visible again at the end.
    expect(letters.every((l) => l.visibleAt <= now)).toBe(true);
  });

  it('a kept letter whose visibility ran out before the end is not an error: the report stands', async () => {
    queue(lambdaLetter('m1', ingestEvent));
    sqs.on(ChangeMessageVisibilityCommand).rejects(
      Object.assign(new Error('Message does not exist or is not available for visibility timeout change'), {
        name: 'MessageNotInflight',
      }),
    );
    const dry = await replaySqsDeadLetters({
      queueUrl: QUEUE,
      functionName: 'f',
      dryRun: true,
      ...clients(),
    });
    expect(dry.entries.map((e) => e.status)).toEqual(['would replay']);
  });

  it('any other failure to release a kept letter is an error', async () => {
    queue(lambdaLetter('m2', ingestEvent));
    sqs
      .on(ChangeMessageVisibilityCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(
      replaySqsDeadLetters({ queueUrl: QUEUE, functionName: 'f', dryRun: true, ...clients() }),
    ).rejects.toThrow('denied');
  });

  it('classifies by the attributes each service sets, else by the body', () => {
    expect(classifySqsLetter(ruleLetter('a', nativeEvent))).toBe('eventbridge');
    expect(classifySqsLetter(lambdaLetter('b', nativeEvent))).toBe('lambda');
    expect(classifySqsLetter(schedulerLetter('c', timerInput))).toBe('scheduler');
    expect(classifySqsLetter({ Body: JSON.stringify(nativeEvent) })).toBe('eventbridge');
    expect(classifySqsLetter({ Body: JSON.stringify(timerInput) })).toBe('scheduler');
    expect(classifySqsLetter({ Body: '[]' })).toBe('unknown');
    expect(busOfRuleArn(KLAXON_RULE)).toBe('KlaxonBus');
    expect(busOfRuleArn(DEFAULT_RULE)).toBe('default');
    expect(busOfRuleArn(undefined)).toBeUndefined();
  });
});

// -----------------------------------------------------------------------------------------------

describe('dlq replay, local runtime', () => {
  const run = promisify(execFile);
  let dataDir: string;
  let runtime: LocalRuntime;
  let file: string;
  /** While true, process-alert counts the alert, then fails to page (SNS is down). */
  let down = true;
  const lines = async () =>
    (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  /** A dead-lettered level-2 timer of the Events v2 incident, as the runtime writes one. */
  let timerLetter = '';
  let original: string[] = [];
  let replayed: ReplayReport;

  const incidentsOf = async () =>
    (await runtime.store.list({})).incidents.reduce<Record<string, Incident>>(
      (all, i) => Object.assign(all, { [i.dedupKey]: i }),
      {},
    );
  const pagedFor = (id: string | undefined) =>
    runtime.pager.inbox.filter((e) => e.page.incident.id === id && e.page.kind === 'page').length;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'klaxon-dlq-'));
    file = join(dataDir, 'dead-letters.jsonl');
    runtime = await startLocalRuntime({ dataDir, configPath: 'klaxon.config.json', port: 0 });
    const flaky: Pager = {
      send: async (page) => {
        if (down) throw new Error('SNS is down');
        await runtime.pager.send(page);
      },
    };
    runtime.bus.register('processAlert', async (event) => {
      await handleAlertEvent(event, { ...runtime.deps, pager: flaky });
    });
    const post = (path: string, body: unknown, auth = true) =>
      fetch(`${runtime.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(auth ? { authorization: `Bearer ${runtime.apiToken}` } : {}),
        },
        body: JSON.stringify(body),
      });
    // Three alerts whose processing fails after they were counted: an Events v2 trigger, a native
    // producer's alert without eventKey, a CloudWatch alarm. The bus retries, then dead-letters.
    const v2 = await post(
      '/v2/enqueue',
      {
        routing_key: runtime.integrationKeys.checkout,
        event_action: 'trigger',
        dedup_key: 'disk-full',
        payload: { summary: 'Disk 95% full on db-1', source: 'db-1', severity: 'critical' },
      },
      false,
    );
    expect(v2.status).toBe(202);
    for (const entry of [
      {
        bus: 'klaxon',
        source: nativeEvent.source,
        'detail-type': 'Klaxon Alert',
        detail: { service: 'platform', dedupKey: 'invoices-stuck', summary: 'Invoices stuck' },
      },
      {
        bus: 'default',
        source: alarmEvent.source,
        'detail-type': alarmEvent['detail-type'],
        detail: alarmEvent.detail,
        resources: alarmEvent.resources,
        time: alarmEvent.time,
        region: alarmEvent.region,
      },
    ]) {
      expect((await post('/local/events', entry)).status).toBe(202);
    }
    await runtime.bus.drain();
    original = await eventually(async () => ((await lines()).length === 3 ? lines() : undefined));
    const disk = (await incidentsOf())['disk-full'];
    const input = { kind: 'escalate', incidentId: disk?.id, generation: 1, step: 1 };
    timerLetter = JSON.stringify({
      timer: { name: `esc-${disk?.id}-1-1`, input: JSON.stringify(input), error: 'SNS is down' },
      at: new Date().toISOString(),
    });
    await appendFile(file, `${timerLetter}\nnot json at all\n`);
    down = false;
  }, 60_000);
  afterAll(async () => {
    await runtime?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the runtime wrote real dead letters: counted incidents that paged nobody', async () => {
    expect(parseDeadLetters((await lines()).join('\n')).map((l) => l.kind)).toEqual([
      'bus',
      'bus',
      'bus',
      'timer',
      'unreadable',
    ]);
    const incidents = await incidentsOf();
    expect(Object.values(incidents).map((i) => i.alertCount)).toEqual([1, 1, 1]);
    expect(runtime.pager.inbox).toEqual([]);
  });

  it('--dry-run lists the letters and changes nothing', async () => {
    const before = await lines();
    const result = await replayLocalDeadLetters({
      file,
      url: runtime.url,
      token: runtime.apiToken,
      dryRun: true,
    });
    expect(result.entries.map((e) => [e.from, e.kind, e.status])).toEqual([
      ['line 1', 'bus', 'would replay'],
      ['line 2', 'bus', 'would replay'],
      ['line 3', 'bus', 'would replay'],
      ['line 4', 'timer', 'would replay'],
      ['line 5', 'unreadable', 'skipped'],
    ]);
    // Re-delivered with their original ids: no letter carries the "counted again" caveat locally.
    expect(result.entries.filter((e) => e.detail?.includes('counted again'))).toHaveLength(0);
    expect(await lines()).toEqual(before);
  });

  it('klaxon dlq replay re-drives every letter through the runtime and keeps what it cannot read', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/klaxon.ts', 'dlq', 'replay', '--url', runtime.url, '--json'],
      { env: { ...process.env, KLAXON_DATA_DIR: dataDir } },
    );
    replayed = JSON.parse(stdout) as ReplayReport;
    expect(replayed).toMatchObject({ replayed: 4, failed: 0, skipped: 1 });
    expect(replayed.entries[3]?.action).toMatch(/^POST \/local\/timers \(esc-[a-z2-7]{12}-1-1\) → done$/);
    await runtime.bus.drain();
    expect(await lines()).toEqual(['not json at all']);
  });

  it('the Events v2 alert and the native one (its eventKey pinned) complete their opening: counted once, paged', async () => {
    const incidents = await incidentsOf();
    for (const key of ['disk-full', 'invoices-stuck']) {
      expect({ key, count: incidents[key]?.alertCount, paged: pagedFor(incidents[key]?.id) > 0 }).toEqual({
        key,
        count: 1,
        paged: true,
      });
    }
    expect((await runtime.store.timeline(incidents['invoices-stuck']?.id ?? '')).map((e) => e.type)).toEqual([
      'OPENED',
    ]);
  });

  it('the timer letter fired: the Events v2 incident escalated to level 2 (carol paged)', async () => {
    const disk = (await incidentsOf())['disk-full'];
    const types = (await runtime.store.timeline(disk?.id ?? '')).map((e) => e.type);
    expect([...types].sort()).toEqual(['ESCALATED', 'OPENED']);
    expect(disk?.step).toBe(1);
    expect(
      runtime.pager.inbox.filter((e) => e.page.incident.id === disk?.id && e.page.responder.id === 'carol'),
    ).toHaveLength(1);
  });

  // BUG (missing endpoint): a CloudWatch alarm's eventKey is `cloudwatch:<event id>`, and
  // POST /local/events gives the re-put event a new id, so the re-driven letter is a new alert:
  // counted again (`appended`), and — since only the event that opened an incident completes its
  // opening — the incident it had opened is never paged and never escalates.
  // Steps: a CloudWatch ALARM is put on the default bus; process-alert counts it, then fails to
  // page (5 attempts) → dead letter; `klaxon dlq replay`. Expected: alertCount 1, level 1 paged.
  // Actual: alertCount 2, nobody paged, no escalation timer. Needed: a local endpoint that
  // re-delivers a whole event with its original id — e.g. POST /local/events/redeliver
  // {bus, event} → LocalEventBus.deliver(bus, event) — which `dlq replay` would then use for bus
  // letters (as it uses POST /local/timers for timer letters). The same holds in AWS, where
  // PutEvents refuses aws.* sources anyway: `--function` invokes process-alert with the original
  // event instead.
  it('the CloudWatch alarm completes its opening too: counted once, paged', async () => {
    const alarm = (await incidentsOf())[alarmEvent.resources[0] ?? ''];
    expect({ count: alarm?.alertCount, paged: pagedFor(alarm?.id) > 0 }).toEqual({ count: 1, paged: true });
  });

  it('re-driving the same letters again changes nothing for the alerts that carry their identity', async () => {
    const before = await incidentsOf();
    await appendFile(file, `${original.slice(0, 2).join('\n')}\n`);
    const again = await replayLocalDeadLetters({ file, url: runtime.url, token: runtime.apiToken });
    await runtime.bus.drain();
    expect(again).toMatchObject({ replayed: 2, failed: 0 });
    const after = await incidentsOf();
    expect([after['disk-full'], after['invoices-stuck']]).toEqual([
      before['disk-full'],
      before['invoices-stuck'],
    ]);
    expect(runtime.bus.deadLetters.slice(3)).toEqual([]);
  });

  it('a file that does not exist is nothing to do', async () => {
    const result = await replayLocalDeadLetters({
      file: join(dataDir, 'none.jsonl'),
      url: runtime.url,
      token: runtime.apiToken,
    });
    expect(result).toEqual({ entries: [], replayed: 0, failed: 0, skipped: 0 });
  });

  it('a letter the runtime refuses stays in the file', async () => {
    const refused = JSON.stringify({
      route: 'AlertsToProcessor',
      event: { ...nativeEvent, detail: 'not an object' },
      error: 'x',
      attempts: 5,
      at: nativeEvent.time,
    });
    await rm(file, { force: true });
    await appendFile(file, `${refused}\n`);
    const result = await replayLocalDeadLetters({ file, url: runtime.url, token: runtime.apiToken });
    expect(result).toMatchObject({ replayed: 0, failed: 1 });
    expect(result.entries[0]?.detail).toMatch(/^Error: 400 /);
    expect(await lines()).toEqual([refused]);
  });
});
