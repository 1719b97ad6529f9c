import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { KlaxonConfig } from '#core/config';
import { localWall } from '#core/wall-clock';
import { KlaxonFunction } from './klaxon-function.ts';
import { schedulerTarget } from './scheduler-target.ts';

/** `HH:MM`, 24 h: the format of `config.metrics.rollupTime`. */
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;
/**
 * The schedule's payload. Scheduler replaces the context attribute with the time the run was
 * scheduled for (ISO 8601, UTC), so a late retry still rolls up the day it was meant for.
 */
export const ROLLUP_INPUT = JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' });
/**
 * The hourly contact check's payload: the rollup function's handler takes `check` apart from the
 * rollups; the scheduled time keeps a retry's events at their ids.
 */
export const CONTACT_CHECK_INPUT = JSON.stringify({
  check: 'contacts',
  scheduledTime: '<aws.scheduler.scheduled-time>',
});

export interface NightlyRollupProps {
  /**
   * The validated config: `metrics.rollupTime` (local `HH:MM`) in `timeZone` is when the rollup
   * runs; the config is also embedded into the function bundle.
   */
  readonly config: KlaxonConfig;
  /**
   * The rollup function's environment, merged with KlaxonFunction's own.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Name of the schedule group holding the nightly schedule (1-64 of [A-Za-z0-9_.-]).
   * @default `${stackName}-rollup`
   */
  readonly groupName?: string;
  /**
   * How often Scheduler retries invoking the function when the invocation fails (0..185).
   * @default 20
   */
  readonly retryAttempts?: number;
  /**
   * How long Scheduler keeps retrying one run (1 min..24 h).
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
  /**
   * How long the dead-letter queue keeps runs Scheduler could not deliver (1 min..14 days).
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * The nightly rollup: the rollup function and a recurring EventBridge Scheduler schedule that
 * invokes it once a day at `config.metrics.rollupTime` in `config.timeZone` (Scheduler follows
 * daylight saving time). A second schedule of the group, `contact-check`, invokes it every hour
 * with `{"check": "contacts"}` (app/contacts.ts), with the same retries and dead-letter queue.
 *
 * The schedule lives in a group of its own, not in the escalation-timer group: the functions may
 * create, update and delete any schedule in the timer group (`EscalationTimers.grantManageSchedules`),
 * and a timer clean-up must not be able to delete or retarget the nightly run. The group also scopes
 * the trust of `role` (aws:SourceArn), so only this group's schedules can assume it.
 */
export class NightlyRollup extends Construct {
  readonly rollup: KlaxonFunction;
  readonly group: scheduler.CfnScheduleGroup;
  /** The schedule group's name (a reference, so users of it deploy after the group). */
  readonly groupName: string;
  readonly groupArn: string;
  readonly schedule: scheduler.CfnSchedule;
  /** Every hour: are the contacts still reachable? */
  readonly contactCheck: scheduler.CfnSchedule;
  /** `cron(<minute> <hour> * * ? *)`, evaluated in `config.timeZone`. */
  readonly scheduleExpression: string;
  /** Assumed by Scheduler: may only invoke the rollup function and write to `dlq`. */
  readonly role: iam.Role;
  /** Runs that Scheduler could not deliver to the rollup function after its retries. */
  readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: NightlyRollupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { rollupTime } = props.config.metrics;
    const { timeZone } = props.config;
    const groupName = props.groupName ?? `${stack.stackName}-rollup`;
    const retryAttempts = props.retryAttempts ?? 20;
    const maxEventAge = props.maxEventAge ?? Duration.hours(6);
    const retention = props.deadLetterRetention ?? Duration.days(14);
    validate(groupName, retryAttempts, maxEventAge, retention);
    this.scheduleExpression = dailyCron(rollupTime);
    warnIfSkippedByDaylightSaving(this, rollupTime, timeZone);

    this.rollup = new KlaxonFunction(this, 'RollupFunction', {
      entry: 'lambdas/handlers/rollup.ts',
      description:
        "Nightly: rolls up the previous day's incidents, checks error budgets, exports for analysts",
      serviceName: 'klaxon-rollup',
      // EventBridge Scheduler invokes Lambda asynchronously.
      invocation: 'async',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      config: props.config,
      ...(props.environment === undefined ? {} : { environment: props.environment }),
    });
    const functionArn = this.rollup.function.functionArn;

    ({
      group: this.group,
      groupName: this.groupName,
      groupArn: this.groupArn,
      dlq: this.dlq,
      role: this.role,
    } = schedulerTarget(this, {
      groupName,
      functionArn,
      retention,
      roleDescription: 'Assumed by EventBridge Scheduler to run the Klaxon nightly rollup',
      deadLetterReason:
        "This queue is the dead-letter queue of the nightly schedule's target (DeadLetterConfig): its " +
        'depth is alarmed (PipelineMonitoring) and it keeps runs for inspection; a run is repeated ' +
        'with `klaxon rollup`. A dead-letter queue of its own would only move the same messages once more.',
    }));

    const target = (input: string): scheduler.CfnSchedule.TargetProperty => ({
      arn: functionArn,
      roleArn: this.role.roleArn,
      input,
      retryPolicy: {
        maximumRetryAttempts: retryAttempts,
        maximumEventAgeInSeconds: maxEventAge.toSeconds(),
      },
      deadLetterConfig: { arn: this.dlq.queueArn },
    });
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      name: 'nightly-rollup',
      groupName: this.groupName,
      description: `Klaxon nightly rollup, ${rollupTime} ${timeZone}`,
      scheduleExpression: this.scheduleExpression,
      scheduleExpressionTimezone: timeZone,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: target(ROLLUP_INPUT),
    });
    this.contactCheck = new scheduler.CfnSchedule(this, 'ContactCheck', {
      name: 'contact-check',
      groupName: this.groupName,
      description: 'Klaxon contact check: can every contact still be paged?',
      scheduleExpression: 'rate(1 hour)',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: target(CONTACT_CHECK_INPUT),
    });
    // Scheduler checks the role when the schedule is created: create the policy first.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy !== undefined)
      for (const schedule of [this.schedule, this.contactCheck]) schedule.node.addDependency(policy);
  }
}

/**
 * The Scheduler cron expression for every day at `time` (`HH:MM`, 24 h): `cron(<m> <h> * * ? *)`,
 * minute and hour as plain integers ('02:05' → `cron(5 2 * * ? *)`).
 */
export function dailyCron(time: string): string {
  const match = TIME_OF_DAY.exec(time);
  if (match === null) throw new Error(`NightlyRollup: rollupTime "${time}" must be HH:MM (24 h)`);
  return `cron(${Number(match[2])} ${Number(match[1])} * * ? *)`;
}

/**
 * The days of `year` (YYYY-MM-DD) on which the wall-clock time `time` does not exist in `timeZone`:
 * the hour skipped when daylight saving time starts. EventBridge Scheduler skips a cron run that
 * falls into it.
 */
export function daysWithoutTime(time: string, timeZone: string, year: number): string[] {
  const match = TIME_OF_DAY.exec(time);
  if (match === null) throw new Error(`NightlyRollup: time "${time}" must be HH:MM (24 h)`);
  const [hour, minute] = [Number(match[1]), Number(match[2])];
  /** The wall-clock time in the zone at instant `t`, as if it were UTC (ms). */
  const wall = (t: number): number => localWall(t, timeZone);
  const HOURS_36 = 36 * 3_600_000;
  const skipped: string[] = [];
  for (let day = Date.UTC(year, 0, 1); new Date(day).getUTCFullYear() === year; day += 86_400_000) {
    const local = day + (hour * 60 + minute) * 60_000;
    // The zone's offsets a day and a half before and after; the time exists if either maps onto it.
    const offsets = [
      wall(local - HOURS_36) - (local - HOURS_36),
      wall(local + HOURS_36) - (local + HOURS_36),
    ];
    if (!offsets.some((offset) => wall(local - offset) === local)) {
      skipped.push(new Date(day).toISOString().slice(0, 10));
    }
  }
  return skipped;
}

function warnIfSkippedByDaylightSaving(scope: Construct, time: string, timeZone: string): void {
  const year = new Date().getUTCFullYear();
  const skipped = [year, year + 1].flatMap((y) => daysWithoutTime(time, timeZone, y));
  if (skipped.length === 0) return;
  Annotations.of(scope).addWarningV2(
    'klaxon:rollup-time-skipped-by-dst',
    `metrics.rollupTime ${time} does not exist in ${timeZone} on ${skipped.join(', ')} (daylight saving ` +
      'time starts): EventBridge Scheduler skips that night, so the day before is rolled up and exported ' +
      "only by the next night's run, a day late. Pick a rollupTime outside the skipped hour.",
  );
}

function validate(
  groupName: string,
  retryAttempts: number,
  maxEventAge: Duration,
  retention: Duration,
): void {
  if (!Token.isUnresolved(groupName) && !/^[\w.-]{1,64}$/.test(groupName)) {
    throw new Error(`NightlyRollup: groupName "${groupName}" must be 1-64 of [A-Za-z0-9_.-]`);
  }
  if (groupName === 'default') throw new Error('NightlyRollup: groupName must not be "default"');
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
    throw new Error(`NightlyRollup: retryAttempts must be an integer in 0..185, got ${retryAttempts}`);
  }
  const age = maxEventAge.toSeconds();
  if (age < 60 || age > 86_400) {
    throw new Error(`NightlyRollup: maxEventAge must be 1 min..24 h, got ${age} s`);
  }
  const seconds = retention.toSeconds();
  if (seconds < 60 || seconds > 1_209_600) {
    throw new Error(`NightlyRollup: deadLetterRetention must be 1 min..14 days, got ${seconds} s`);
  }
}
