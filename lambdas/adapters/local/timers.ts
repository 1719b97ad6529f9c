import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Clock, Timers } from '#app/ports';
import type { Timer } from '#core/timers';

export interface LocalTimersOptions {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** Attempts per timer before it is dropped as a dead letter (Scheduler's retry policy). */
  readonly maxAttempts?: number;
  readonly log?: (line: string) => void;
  readonly onDeadLetter?: (timer: { name: string; input: string; error: string }) => void;
}

/** What a fired timer's target receives: the parsed Input, exactly as Scheduler delivers it. */
export type TimerTarget = (input: unknown) => Promise<void>;

/**
 * Theory of operation — local EventBridge Scheduler.
 *
 * Timers are items in the Klaxon table (TIMER#<name>), indexed by due time on gsi2 under the
 * partition TIMERS, so they survive restarts like everything else in the data folder. `schedule`
 * is a conditional put (a second create of the same name is a no-op, like Scheduler's
 * ConflictException), `reschedule` an unconditional one, `cancel` a delete. A poller reads the
 * due timers, in due order, and invokes the target with the timer's Input parsed from JSON —
 * what Scheduler hands the escalate Lambda. A fired timer is deleted (ActionAfterCompletion
 * DELETE) unless it was rescheduled meanwhile; a failed one is retried with backoff and dropped to
 * the dead letters after `maxAttempts`. Between polls the poller sleeps until the next due timer,
 * at most one second, so a timer fires within milliseconds of its time.
 */
export class LocalTimers implements Timers {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #maxAttempts: number;
  readonly #options: LocalTimersOptions;
  #target: TimerTarget | undefined;
  #running: NodeJS.Timeout | undefined;
  #stopped = true;
  #tick: Promise<void> = Promise.resolve();

  constructor(options: LocalTimersOptions) {
    this.#db = options.db;
    this.#table = options.tableName;
    this.#clock = options.clock;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#options = options;
  }

  /** The handler fired timers invoke (the escalate handler). */
  target(target: TimerTarget): void {
    this.#target = target;
  }

  async schedule(timer: Timer): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: this.#item(timer),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async reschedule(timer: Timer): Promise<void> {
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: this.#item(timer) }));
  }

  async cancel(name: string): Promise<void> {
    await this.#db.send(
      new DeleteCommand({ TableName: this.#table, Key: { pk: `TIMER#${name}`, sk: 'TIMER' } }),
    );
  }

  /** Timers not yet fired, in due order (the local inbox page and tests read it). */
  async pending(): Promise<{ name: string; dueAt: string; input: string }[]> {
    return this.#due('\uffff');
  }

  /** Fires every timer due at `now` (default: the clock), in due order. Returns how many fired. */
  async runDue(now: Date = this.#clock()): Promise<number> {
    const target = this.#target;
    if (target === undefined) throw new Error('LocalTimers: no target registered');
    let fired = 0;
    for (const timer of await this.#due(`${now.toISOString()}#\uffff`)) {
      try {
        await target(JSON.parse(timer.input));
        fired++;
        await this.#delete(timer.name, timer.sortKey);
      } catch (error) {
        await this.#failed(timer, error, now);
      }
    }
    return fired;
  }

  /** Starts polling: at least once a second, and exactly when the next timer is due. */
  start(): void {
    this.#stopped = false;
    const loop = async () => {
      let delay = 1000;
      try {
        await this.runDue();
        const [next] = await this.#due('\uffff', 1);
        if (next)
          delay = Math.max(0, Math.min(1000, new Date(next.dueAt).getTime() - this.#clock().getTime()));
      } catch (error) {
        this.#options.log?.(`timers: poll failed: ${String(error)}`);
      }
      if (!this.#stopped) this.#running = setTimeout(() => (this.#tick = loop()), delay);
    };
    this.#tick = loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#running) clearTimeout(this.#running);
    await this.#tick;
  }

  #item(timer: Timer): Record<string, unknown> {
    const dueAt = timer.at.toISOString();
    return {
      pk: `TIMER#${timer.name}`,
      sk: 'TIMER',
      name: timer.name,
      dueAt,
      input: JSON.stringify(timer.event),
      attempts: 0,
      gsi2pk: 'TIMERS',
      gsi2sk: `${dueAt}#${timer.name}`,
    };
  }

  async #due(until: string, limit?: number) {
    const result = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :timers AND gsi2sk <= :until',
        ExpressionAttributeValues: { ':timers': 'TIMERS', ':until': until },
        ...(limit ? { Limit: limit } : {}),
      }),
    );
    return (result.Items ?? []).map((item) => ({
      name: String(item.name),
      dueAt: String(item.dueAt),
      input: String(item.input),
      attempts: Number(item.attempts ?? 0),
      sortKey: String(item.gsi2sk),
    }));
  }

  /** Deletes a fired timer unless it was rescheduled while it ran. */
  async #delete(name: string, sortKey: string): Promise<void> {
    try {
      await this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: `TIMER#${name}`, sk: 'TIMER' },
          ConditionExpression: 'gsi2sk = :sortKey',
          ExpressionAttributeValues: { ':sortKey': sortKey },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async #failed(
    timer: { name: string; input: string; attempts: number; sortKey: string },
    error: unknown,
    now: Date,
  ) {
    const message = error instanceof Error ? error.message : String(error);
    const attempts = timer.attempts + 1;
    if (attempts >= this.#maxAttempts) {
      this.#options.onDeadLetter?.({ name: timer.name, input: timer.input, error: message });
      await this.#delete(timer.name, timer.sortKey);
      return;
    }
    this.#options.log?.(`timers: ${timer.name} attempt ${attempts} failed (${message}); retrying`);
    const retryAt = new Date(now.getTime() + 1000 * 2 ** (attempts - 1)).toISOString();
    await this.#db
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: `TIMER#${timer.name}`, sk: 'TIMER' },
          UpdateExpression: 'SET attempts = :attempts, dueAt = :due, gsi2sk = :sortKey',
          ConditionExpression: 'gsi2sk = :current',
          ExpressionAttributeValues: {
            ':attempts': attempts,
            ':due': retryAt,
            ':sortKey': `${retryAt}#${timer.name}`,
            ':current': timer.sortKey,
          },
        }),
      )
      .catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      });
  }
}
