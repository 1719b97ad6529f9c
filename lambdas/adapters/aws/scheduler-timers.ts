import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { Timers } from '#app/ports';
import type { Timer } from '#core/timers';

/** Created once per execution environment, reused by every invocation. */
const defaultClient = new SchedulerClient({});

export interface SchedulerTimersOptions {
  /** The dedicated schedule group. */
  readonly groupName: string;
  /** The escalate function: the one target every timer invokes. */
  readonly targetArn: string;
  /** The role Scheduler assumes; it may invoke only the escalate function. */
  readonly roleArn: string;
  /** Where Scheduler puts a timer whose invocations all failed. */
  readonly deadLetterArn: string;
  readonly client?: SchedulerClient;
}

/**
 * Timers on EventBridge Scheduler: one-time `at()` schedules, FlexibleTimeWindow OFF, deleted
 * after they fire. Retry contract: a create of an existing name is a ConflictException and
 * means "already scheduled" (names are deterministic); a delete of a missing one means "already
 * fired or cancelled"; everything else is thrown for the caller's retry.
 */
export class SchedulerTimers implements Timers {
  readonly #options: SchedulerTimersOptions;
  readonly #client: SchedulerClient;

  constructor(options: SchedulerTimersOptions) {
    this.#options = options;
    this.#client = options.client ?? defaultClient;
  }

  async schedule(timer: Timer): Promise<void> {
    try {
      await this.#client.send(new CreateScheduleCommand(this.#input(timer)));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
    }
  }

  async reschedule(timer: Timer): Promise<void> {
    try {
      await this.#client.send(new UpdateScheduleCommand(this.#input(timer)));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await this.schedule(timer);
    }
  }

  async cancel(name: string): Promise<void> {
    try {
      await this.#client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#options.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  #input(timer: Timer): CreateScheduleCommandInput {
    return {
      Name: timer.name,
      GroupName: this.#options.groupName,
      // at() fires anywhere in its minute: a timer that must not arrive early gets the next one.
      ScheduleExpression: atExpression(
        timer.notEarly ? new Date(Math.ceil(timer.at.getTime() / 60_000) * 60_000) : timer.at,
      ),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: this.#options.targetArn,
        RoleArn: this.#options.roleArn,
        Input: JSON.stringify(timer.event),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: this.#options.deadLetterArn },
      },
    };
  }
}

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the second; Scheduler invokes it anywhere in that
 * minute (60-second precision): a handler whose moment matters checks it (app/timers.ts, notYet).
 */
export function atExpression(at: Date): string {
  const seconds = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  return `at(${seconds.toISOString().slice(0, 19)})`;
}
