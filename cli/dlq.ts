import { appendFile, readFile, rename, rm } from 'node:fs/promises';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ALERT_DETAIL_TYPE, type BusName, ROUTES } from '#core/routing';
import { TimerEventSchema } from '#core/timers';

/**
 * `klaxon dlq replay`: re-drives dead letters.
 *
 * Locally the runtime appends them to `<data dir>/dead-letters.jsonl`: bus letters
 * `{route, event, error, attempts, at}` (the whole EventBridge-shaped event) and timer letters
 * `{timer: {name, input, error}, at}`. Bus letters are put again through the running runtime's
 * `POST /local/events/redeliver`, timer letters fired through `POST /local/timers` (the timer's input, as
 * Scheduler delivers it). In AWS, the dead-letter queues are SQS queues: an EventBridge rule's DLQ holds
 * the original event (put back on its bus), a Lambda async DLQ the original invocation payload and
 * Scheduler's DLQ the schedule's Input (both invoked again, asynchronously, on `--function`). A
 * message is deleted only once its re-drive succeeded.
 *
 * Idempotency: a re-put event gets a new event id. Alerts from the ingest API carry their own
 * `eventKey`, so they stay idempotent. A native "Klaxon Alert" without one would default to
 * `native:<new id>` and be counted again; the replay pins `eventKey: native:<original id>` into
 * its detail, which is exactly what process-alert would have derived from the original. A CloudWatch
 * alarm event's eventKey is `cloudwatch:<event id>` and cannot be pinned: re-put, it is a new event
 * (counted again if its first delivery was applied before failing).
 */

/** A bus letter as the local runtime writes it (LocalEventBus DeadLetter). */
export interface LocalBusLetter {
  readonly route: string;
  readonly event: DeliveredEvent;
  readonly error: string;
  readonly attempts: number;
  readonly at: string;
}

/** A timer letter as the local runtime writes it. */
export interface LocalTimerLetter {
  readonly timer: { readonly name: string; readonly input: string; readonly error: string };
  readonly at: string;
}

/** An event in EventBridge's delivery shape. */
export interface DeliveredEvent {
  readonly version?: string;
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account?: string;
  readonly time: string;
  readonly region?: string;
  readonly resources?: readonly string[];
  readonly detail: unknown;
}

export type ParsedLetter =
  | { readonly line: number; readonly kind: 'bus'; readonly letter: LocalBusLetter; readonly text: string }
  | {
      readonly line: number;
      readonly kind: 'timer';
      readonly letter: LocalTimerLetter;
      readonly text: string;
    }
  | { readonly line: number; readonly kind: 'unreadable'; readonly reason: string; readonly text: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether `value` has the fields of an EventBridge event that re-driving needs. */
export function isDeliveredEvent(value: unknown): value is DeliveredEvent {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.source === 'string' &&
    typeof value['detail-type'] === 'string' &&
    typeof value.time === 'string' &&
    'detail' in value
  );
}

/** Parses a dead-letters.jsonl text, line by line; a line that is not a letter is `unreadable`. */
export function parseDeadLetters(text: string): ParsedLetter[] {
  const letters: ParsedLetter[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      letters.push({ line, kind: 'unreadable', reason: 'not JSON', text: raw });
      continue;
    }
    if (isObject(value) && typeof value.route === 'string' && isDeliveredEvent(value.event)) {
      letters.push({ line, kind: 'bus', letter: value as unknown as LocalBusLetter, text: raw });
    } else if (
      isObject(value) &&
      isObject(value.timer) &&
      typeof value.timer.name === 'string' &&
      typeof value.timer.input === 'string'
    ) {
      letters.push({ line, kind: 'timer', letter: value as unknown as LocalTimerLetter, text: raw });
    } else {
      letters.push({ line, kind: 'unreadable', reason: 'neither a bus nor a timer letter', text: raw });
    }
  }
  return letters;
}

/**
 * The detail to put again. A native Klaxon Alert without an `eventKey` gets the one process-alert
 * derived from the original event (`native:<id>`), so that the re-put event is the same alert.
 */
export function redriveDetail(event: DeliveredEvent): unknown {
  if (event['detail-type'] !== ALERT_DETAIL_TYPE || !isObject(event.detail)) return event.detail;
  if (typeof event.detail.eventKey === 'string' && event.detail.eventKey !== '') return event.detail;
  return { ...event.detail, eventKey: `native:${event.id}` };
}

/** Why a re-put of this event will not be recognized as the same input (or undefined when it will). */
export function idempotencyCaveat(event: DeliveredEvent): string | undefined {
  if (event['detail-type'] === ALERT_DETAIL_TYPE) return undefined;
  return `its eventKey derives from the event id, which a re-put changes: counted again if it was applied before`;
}

export interface LocalReplayOptions {
  /** `<data dir>/dead-letters.jsonl` */
  readonly file: string;
  /** The running local runtime, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  readonly token: string;
  readonly dryRun?: boolean;
  readonly fetch?: typeof fetch;
}

export interface ReplayEntry {
  /** Where it came from: `line 3` or an SQS message id. */
  readonly from: string;
  /** eventbridge, lambda, scheduler, bus, timer, unreadable */
  readonly kind: string;
  /** What was (or, with --dry-run, would be) done. */
  readonly action: string;
  readonly status: 'replayed' | 'would replay' | 'skipped' | 'failed';
  readonly detail?: string;
}

export interface ReplayReport {
  readonly entries: ReplayEntry[];
  readonly replayed: number;
  readonly failed: number;
  readonly skipped: number;
}

function report(entries: ReplayEntry[]): ReplayReport {
  const count = (status: ReplayEntry['status']) => entries.filter((e) => e.status === status).length;
  return { entries, replayed: count('replayed'), failed: count('failed'), skipped: count('skipped') };
}

/**
 * Re-drives the local dead letters through a running local runtime. The file is first moved
 * aside (so letters the runtime appends meanwhile are not lost), then every letter that was not
 * re-driven (unreadable lines, failures) is appended back to it.
 */
export async function replayLocalDeadLetters(options: LocalReplayOptions): Promise<ReplayReport> {
  const doFetch = options.fetch ?? fetch;
  let source = options.file;
  if (!options.dryRun) {
    source = `${options.file}.replaying-${process.pid}-${Date.now()}`;
    try {
      await rename(options.file, source);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return report([]);
      throw error;
    }
  }
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return report([]);
    throw error;
  }
  const entries: ReplayEntry[] = [];
  const keep: string[] = [];
  for (const parsed of parseDeadLetters(text)) {
    const from = `line ${parsed.line}`;
    if (parsed.kind === 'unreadable') {
      entries.push({ from, kind: 'unreadable', action: 'kept', status: 'skipped', detail: parsed.reason });
      keep.push(parsed.text);
      continue;
    }
    if (parsed.kind === 'timer') {
      const { name, input } = parsed.letter.timer;
      const action = `POST /local/timers (${name})`;
      if (options.dryRun) {
        entries.push({ from, kind: 'timer', action, status: 'would replay', detail: input });
        continue;
      }
      try {
        let body: unknown;
        try {
          body = JSON.parse(input);
        } catch {
          throw new Error('its input is not JSON');
        }
        const res = await doFetch(new URL('/local/timers', options.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body: JSON.stringify(body),
        });
        const answer = (await res.json().catch(() => ({}))) as { outcome?: string; message?: string };
        if (res.status !== 200) throw new Error(`${res.status} ${answer.message ?? res.statusText}`);
        entries.push({
          from,
          kind: 'timer',
          action: `${action} → ${answer.outcome ?? '?'}`,
          status: 'replayed',
        });
      } catch (error) {
        entries.push({ from, kind: 'timer', action, status: 'failed', detail: String(error) });
        keep.push(parsed.text);
      }
      continue;
    }
    const { event, route } = parsed.letter;
    const bus: BusName = ROUTES.find((r) => r.id === route)?.bus ?? 'klaxon';
    const caveat = undefined; // re-delivered with its original id: idempotent
    const action = `POST /local/events/redeliver (${bus} bus, ${event['detail-type']} from ${event.source}, id ${event.id})`;
    if (options.dryRun) {
      entries.push({
        from,
        kind: 'bus',
        action,
        status: 'would replay',
        ...(caveat ? { detail: caveat } : {}),
      });
      continue;
    }
    // The original event, id and all: every idempotency key derived from it stays the same.
    const body = { bus, event };
    try {
      const res = await doFetch(new URL('/local/events/redeliver', options.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify(body),
      });
      const answer = (await res.json().catch(() => ({}))) as { id?: string; message?: string };
      if (res.status !== 202) throw new Error(`${res.status} ${answer.message ?? res.statusText}`);
      entries.push({
        from,
        kind: 'bus',
        action: `${action} → ${answer.id ?? '?'}`,
        status: 'replayed',
        ...(caveat ? { detail: caveat } : {}),
      });
    } catch (error) {
      entries.push({ from, kind: 'bus', action, status: 'failed', detail: String(error) });
      keep.push(parsed.text);
    }
  }
  if (!options.dryRun) {
    if (keep.length > 0) await appendFile(options.file, `${keep.join('\n')}\n`);
    await rm(source, { force: true });
  }
  return report(entries);
}

// -----------------------------------------------------------------------------------------------
// AWS: the SQS dead-letter queues.

export type SqsLetterKind = 'eventbridge' | 'lambda' | 'scheduler' | 'unknown';

const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue;

/**
 * What kind of dead letter a message is. EventBridge puts RULE_ARN (and TARGET_ARN, ERROR_CODE,
 * …) on the messages of a rule target's DLQ; Scheduler puts SCHEDULE_ARN (and TARGET_ARN,
 * ERROR_CODE, …); Lambda's async DLQ has RequestID, ErrorCode and ErrorMessage. Without
 * attributes, the body decides: an event envelope is an EventBridge letter, a TimerEvent a
 * Scheduler one.
 */
export function classifySqsLetter(message: Message): SqsLetterKind {
  if (attribute(message, 'RULE_ARN') !== undefined) return 'eventbridge';
  if (attribute(message, 'SCHEDULE_ARN') !== undefined) return 'scheduler';
  if (attribute(message, 'RequestID') !== undefined || attribute(message, 'ErrorCode') !== undefined)
    return 'lambda';
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return 'unknown';
  }
  if (isDeliveredEvent(body)) return 'eventbridge';
  if (TimerEventSchema.safeParse(body).success) return 'scheduler';
  return 'unknown';
}

/** The bus of a rule ARN: `…:rule/<bus>/<rule>` for a custom bus, `…:rule/<rule>` for the default one. */
export function busOfRuleArn(arn: string | undefined): string | undefined {
  const match = /:rule\/(.+)$/.exec(arn ?? '');
  if (match?.[1] === undefined) return undefined;
  const parts = match[1].split('/');
  return parts.length > 1 ? parts.slice(0, -1).join('/') : 'default';
}

export interface SqsReplayOptions {
  readonly queueUrl: string;
  readonly sqs: SQSClient;
  readonly eventBridge: EventBridgeClient;
  readonly lambda: LambdaClient;
  /** The bus for EventBridge letters whose RULE_ARN does not name one. */
  readonly bus?: string;
  /** The function to invoke for Lambda and Scheduler letters (and for aws.* events). */
  readonly functionName?: string;
  readonly dryRun?: boolean;
  /** Stop after this many messages (default 1000). */
  readonly max?: number;
  /** Long-poll wait per ReceiveMessage (default 1 s: an empty answer then means an empty queue). */
  readonly waitSeconds?: number;
  /** How long a received message stays hidden while it is re-driven (default 60 s). */
  readonly visibilityTimeout?: number;
}

/** A received message's identity across receives (its receipt handle changes with each). */
const idOf = (m: Message) => m.MessageId ?? m.ReceiptHandle ?? '';

/**
 * How long a kept letter that came back is hidden for: long enough for the rest of the queue,
 * short enough that a run that dies leaves nothing hidden for long.
 */
const KEPT_HIDDEN_SECONDS = 900;

/**
 * Drains a dead-letter queue: receives messages until the queue answers empty, re-drives each,
 * deletes it once the re-drive succeeded. Messages that were not deleted (failures, --dry-run)
 * are made visible again at the end.
 */
export async function replaySqsDeadLetters(options: SqsReplayOptions): Promise<ReplayReport> {
  const max = options.max ?? 1000;
  const entries: ReplayEntry[] = [];
  /** Kept letters by id, with the receipt handle of their latest receive (what releases them). */
  const release = new Map<string, Message>();
  const seen = new Set<string>();
  // Answers of kept letters only, in a row: each hides the letters it brings back, so more of them
  // than it takes to hide every kept letter once means the queue keeps answering what it should
  // not (a failed visibility change): the run ends rather than loops.
  let seenOnly = 0;
  while (seen.size < max) {
    const received = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        WaitTimeSeconds: options.waitSeconds ?? 1,
        VisibilityTimeout: options.visibilityTimeout ?? 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    // A kept letter back (the run outlasted its visibility): hidden for longer, so that the letters
    // not received yet come next (SQS tends to answer the oldest), and released at the end by its
    // new receipt handle.
    for (const again of messages.filter((m) => release.has(idOf(m)))) {
      release.set(idOf(again), again);
      await options.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: again.ReceiptHandle,
          VisibilityTimeout: KEPT_HIDDEN_SECONDS,
        }),
      );
    }
    const fresh = messages.filter((m) => !seen.has(idOf(m)));
    if (fresh.length > 0) seenOnly = 0;
    else if (++seenOnly > Math.ceil(release.size / 10) + 2) break;
    for (const message of fresh) {
      seen.add(idOf(message));
      const entry = await redriveMessage(message, options);
      entries.push(entry);
      if (entry.status === 'replayed') {
        await options.sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      } else {
        release.set(idOf(message), message);
      }
    }
  }
  for (const message of release.values()) {
    try {
      await options.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch (error) {
      // Its visibility ran out already (a long run): it is visible again, as this would make it.
      const name = (error as { name?: string }).name;
      if (name !== 'MessageNotInflight' && name !== 'ReceiptHandleIsInvalid') throw error;
    }
  }
  return report(entries);
}

async function redriveMessage(message: Message, options: SqsReplayOptions): Promise<ReplayEntry> {
  const from = message.MessageId ?? '?';
  const kind = classifySqsLetter(message);
  const body = message.Body ?? '';
  const invoke = async (why: string): Promise<ReplayEntry> => {
    if (options.functionName === undefined) {
      return { from, kind, action: why, status: 'failed', detail: '--function is required to invoke it' };
    }
    const action = `Invoke ${options.functionName} (async): ${why}`;
    if (options.dryRun) return { from, kind, action, status: 'would replay' };
    try {
      const out = await options.lambda.send(
        new InvokeCommand({
          FunctionName: options.functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(body, 'utf8'),
        }),
      );
      if (out.StatusCode !== 202) throw new Error(`status ${out.StatusCode ?? '?'}`);
      return { from, kind, action, status: 'replayed' };
    } catch (error) {
      return { from, kind, action, status: 'failed', detail: String(error) };
    }
  };

  switch (kind) {
    case 'lambda':
      return invoke('the original invocation payload');
    case 'scheduler': {
      if (!TimerEventSchema.safeParse(safeJson(body)).success)
        return { from, kind, action: 'none', status: 'failed', detail: 'the body is not a timer input' };
      return invoke('the schedule input');
    }
    case 'unknown':
      return { from, kind, action: 'none', status: 'failed', detail: 'not a dead letter this command knows' };
    case 'eventbridge': {
      const event = safeJson(body);
      if (!isDeliveredEvent(event))
        return {
          from,
          kind,
          action: 'none',
          status: 'failed',
          detail: 'the body is not an EventBridge event',
        };
      if (event.source.startsWith('aws.')) {
        // PutEvents refuses sources that start with "aws." (NotAuthorizedForSourceException): an AWS
        // service's event can only be re-driven to its target, with its original id (idempotent).
        return options.functionName === undefined
          ? {
              from,
              kind,
              action: 'none',
              status: 'failed',
              detail: `PutEvents refuses source ${event.source}: pass --function <process-alert function> to invoke it with the original event`,
            }
          : invoke(`the original ${event.source} event`);
      }
      const bus = options.bus ?? busOfRuleArn(attribute(message, 'RULE_ARN'));
      if (bus === undefined)
        return { from, kind, action: 'none', status: 'failed', detail: 'no bus: pass --bus <EventBusName>' };
      const caveat = idempotencyCaveat(event);
      const action = `PutEvents on ${bus}: ${event['detail-type']} from ${event.source} (was ${event.id})`;
      if (options.dryRun)
        return { from, kind, action, status: 'would replay', ...(caveat ? { detail: caveat } : {}) };
      try {
        const out = await options.eventBridge.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: bus,
                Source: event.source,
                DetailType: event['detail-type'],
                Detail: JSON.stringify(redriveDetail(event)),
                Time: new Date(event.time),
                ...(event.resources && event.resources.length > 0 ? { Resources: [...event.resources] } : {}),
              },
            ],
          }),
        );
        if (out.FailedEntryCount) {
          const failed = out.Entries?.[0];
          throw new Error(`${failed?.ErrorCode ?? 'failed'}: ${failed?.ErrorMessage ?? ''}`);
        }
        return {
          from,
          kind,
          action: `${action} → ${out.Entries?.[0]?.EventId ?? '?'}`,
          status: 'replayed',
          ...(caveat ? { detail: caveat } : {}),
        };
      } catch (error) {
        return { from, kind, action, status: 'failed', detail: String(error) };
      }
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One line per entry, for the terminal. */
export function renderReplay(result: ReplayReport): string {
  const lines = result.entries.map(
    (e) =>
      `${e.status.padEnd(12)} ${e.from}  [${e.kind}] ${e.action}${e.detail ? `\n             ${e.detail}` : ''}`,
  );
  lines.push(`${result.replayed} replayed, ${result.failed} failed, ${result.skipped} skipped`);
  return `${lines.join('\n')}\n`;
}
