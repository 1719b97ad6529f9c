import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  InternalServerException,
  ResourceNotFoundException,
  SchedulerClient,
  ServiceQuotaExceededException,
  ThrottlingException,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { atExpression, SchedulerTimers } from '#adapters/aws/scheduler-timers';
import { type TimerEvent, timer, timerAfter, timerName } from '#core/timers';

const scheduler = mockClient(SchedulerClient);

beforeEach(() => {
  scheduler.reset();
});

const options = {
  groupName: 'klaxon-timers',
  targetArn: 'arn:aws:lambda:eu-central-1:123456789012:function:klaxon-escalate',
  roleArn: 'arn:aws:iam::123456789012:role/klaxon-scheduler',
  deadLetterArn: 'arn:aws:sqs:eu-central-1:123456789012:klaxon-timers-dlq',
};

function timers(): SchedulerTimers {
  return new SchedulerTimers({ ...options, client: new SchedulerClient({}) });
}

const escalate: TimerEvent = { kind: 'escalate', incidentId: '7kq2mzx4ab3c', generation: 3, step: 1 };
const at = new Date('2026-11-26T10:05:00.000Z');

/** Everything Scheduler needs for one timer: the full Create/Update input. */
function scheduleInput(event: TimerEvent, expression = 'at(2026-11-26T10:05:00)') {
  return {
    Name: timerName(event),
    GroupName: 'klaxon-timers',
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: options.targetArn,
      RoleArn: options.roleArn,
      Input: JSON.stringify(event),
      RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: options.deadLetterArn },
    },
  };
}

const creates = () => scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
const updates = () => scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input);
const deletes = () => scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input);

/** Scheduler's exceptions carry the service's `Message` besides the JS `message`. */
const fault = (message: string) => ({ message, Message: message, $metadata: {} });

describe('Scheduler timers: schedule', () => {
  it('creates one one-time UTC schedule, deleted after it fires, that invokes escalate with the event', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await timers().schedule(timer(escalate, at));
    expect(creates()).toEqual([scheduleInput(escalate)]);
    expect(creates()[0]?.Name).toBe('esc-7kq2mzx4ab3c-3-1');
    expect(scheduler.calls()).toHaveLength(1);
  });

  it('passes the event as the target input, which parses back to the same event', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const event: TimerEvent = {
      kind: 'heartbeat',
      heartbeatId: 'nightly-backup',
      armedAt: '2026-11-26T09:05:00.123+01:00',
    };
    await timers().schedule(timer(event, at));
    const input = creates()[0]?.Target?.Input;
    expect(input).toBe(JSON.stringify(event));
    expect(JSON.parse(input ?? 'null')).toEqual(event);
  });

  it('rounds a time with milliseconds up to the next second (never fires early)', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await timers().schedule(timer(escalate, new Date('2026-11-26T10:05:00.001Z')));
    expect(creates()).toEqual([scheduleInput(escalate, 'at(2026-11-26T10:05:01)')]);
  });

  it('sets a timer that must not arrive early for the whole minute after its moment (at() fires anywhere in its minute)', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    scheduler.on(UpdateScheduleCommand).resolves({});
    const end: TimerEvent = { kind: 'maintenance-end', service: 'checkout', windowId: 'w1' };
    await timers().schedule(timerAfter(end, new Date('2026-11-26T10:30:45.000Z')));
    await timers().reschedule(timerAfter(end, new Date('2026-11-26T10:31:00.000Z')));
    expect(creates()).toEqual([scheduleInput(end, 'at(2026-11-26T10:31:00)')]);
    // A whole minute is its own minute: Scheduler fires from its first second.
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input.ScheduleExpression).toBe(
      'at(2026-11-26T10:31:00)',
    );
  });

  it('writes the time in UTC whatever the offset it was given in', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await timers().schedule(timer(escalate, new Date('2026-11-26T23:59:59.500-05:00')));
    expect(creates()[0]?.ScheduleExpression).toBe('at(2026-11-27T05:00:00)');
  });

  it('takes a ConflictException as "already scheduled": one call, no second timer, no throw', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException(fault('exists')));
    await expect(timers().schedule(timer(escalate, at))).resolves.toBeUndefined();
    expect(creates()).toEqual([scheduleInput(escalate)]);
    expect(scheduler.calls()).toHaveLength(1);
  });

  it('creating the same timer twice sends the same name both times', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .resolvesOnce({})
      .rejects(new ConflictException(fault('exists')));
    const t = timers();
    await t.schedule(timer(escalate, at));
    await t.schedule(timer(escalate, at));
    expect(creates()).toEqual([scheduleInput(escalate), scheduleInput(escalate)]);
  });

  it.each([
    ['ThrottlingException', () => new ThrottlingException(fault('slow down'))],
    ['ServiceQuotaExceededException', () => new ServiceQuotaExceededException(fault('too many schedules'))],
    ['InternalServerException', () => new InternalServerException(fault('oops'))],
    ['ValidationException', () => new ValidationException(fault('bad name'))],
    ['a plain Error', () => new Error('socket hang up')],
  ])('throws any other error (%s) for the caller to retry', async (_name, error) => {
    const thrown = error();
    scheduler.on(CreateScheduleCommand).rejects(thrown);
    await expect(timers().schedule(timer(escalate, at))).rejects.toBe(thrown);
    expect(creates()).toHaveLength(1);
  });
});

describe('Scheduler timers: reschedule', () => {
  it('updates the schedule with the same full input', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await timers().reschedule(timer(escalate, at));
    expect(updates()).toEqual([scheduleInput(escalate)]);
    expect(creates()).toEqual([]);
  });

  it('creates the schedule when there is none to update (it already fired or was never made)', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException(fault('no such schedule')));
    scheduler.on(CreateScheduleCommand).resolves({});
    await timers().reschedule(timer(escalate, at));
    expect(updates()).toEqual([scheduleInput(escalate)]);
    expect(creates()).toEqual([scheduleInput(escalate)]);
    expect(scheduler.calls()).toHaveLength(2);
  });

  it('takes a Conflict on the fallback create as done (a concurrent create won)', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException(fault('gone')));
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException(fault('exists')));
    await expect(timers().reschedule(timer(escalate, at))).resolves.toBeUndefined();
    expect(scheduler.calls()).toHaveLength(2);
  });

  it('throws any other update error without creating', async () => {
    const thrown = new ThrottlingException(fault('slow down'));
    scheduler.on(UpdateScheduleCommand).rejects(thrown);
    await expect(timers().reschedule(timer(escalate, at))).rejects.toBe(thrown);
    expect(creates()).toEqual([]);
  });

  it('throws an error of the fallback create', async () => {
    const thrown = new InternalServerException(fault('oops'));
    scheduler.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException(fault('gone')));
    scheduler.on(CreateScheduleCommand).rejects(thrown);
    await expect(timers().reschedule(timer(escalate, at))).rejects.toBe(thrown);
  });
});

describe('Scheduler timers: cancel', () => {
  it('deletes the schedule by name in the group', async () => {
    scheduler.on(DeleteScheduleCommand).resolves({});
    await timers().cancel('esc-7kq2mzx4ab3c-3-1');
    expect(deletes()).toEqual([{ Name: 'esc-7kq2mzx4ab3c-3-1', GroupName: 'klaxon-timers' }]);
    expect(scheduler.calls()).toHaveLength(1);
  });

  it('takes ResourceNotFoundException as "already fired or cancelled"', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException(fault('no such schedule')));
    await expect(timers().cancel('esc-7kq2mzx4ab3c-3-1')).resolves.toBeUndefined();
    expect(deletes()).toHaveLength(1);
  });

  it('throws any other error', async () => {
    const thrown = new ThrottlingException(fault('slow down'));
    scheduler.on(DeleteScheduleCommand).rejects(thrown);
    await expect(timers().cancel('esc-7kq2mzx4ab3c-3-1')).rejects.toBe(thrown);
  });

  it('does not take a Conflict as success', async () => {
    const thrown = new ConflictException(fault('busy'));
    scheduler.on(DeleteScheduleCommand).rejects(thrown);
    await expect(timers().cancel('esc-7kq2mzx4ab3c-3-1')).rejects.toBe(thrown);
  });
});

describe('timer names', () => {
  /** EventBridge Scheduler's rule for schedule names. */
  const SCHEDULE_NAME = /^[0-9a-zA-Z_.-]{1,64}$/;
  const incidentId = '7kq2mzx4ab3c';

  it.each<[TimerEvent, string]>([
    [{ kind: 'escalate', incidentId, generation: 1, step: 0 }, 'esc-7kq2mzx4ab3c-1-0'],
    [{ kind: 'escalate', incidentId, generation: 12, step: 7 }, 'esc-7kq2mzx4ab3c-12-7'],
    [{ kind: 'ack-timeout', incidentId, generation: 2 }, 'ackto-7kq2mzx4ab3c-2'],
    [{ kind: 'reminder', incidentId, seq: 4 }, 'rem-7kq2mzx4ab3c-4'],
    [
      { kind: 'heartbeat', heartbeatId: 'nightly-backup', armedAt: '2026-11-26T10:00:00.000Z' },
      'hb-nightly-backup',
    ],
    [{ kind: 'maintenance', service: 'checkout', windowId: 'ab12cd34ef56' }, 'mw-checkout-ab12cd34ef56'],
  ])('names %j %s, a valid Scheduler name', async (event, name) => {
    expect(timerName(event)).toBe(name);
    expect(name).toMatch(SCHEDULE_NAME);
    scheduler.on(CreateScheduleCommand).resolves({});
    await timers().schedule(timer(event, at));
    expect(creates()).toEqual([scheduleInput(event)]);
    expect(creates()[0]?.Name).toBe(name);
  });

  it('is deterministic and distinct per (incident, generation, step)', () => {
    const a = timerName({ kind: 'escalate', incidentId, generation: 1, step: 2 });
    expect(timerName({ kind: 'escalate', incidentId, generation: 1, step: 2 })).toBe(a);
    expect(timerName({ kind: 'escalate', incidentId, generation: 2, step: 2 })).not.toBe(a);
    expect(timerName({ kind: 'escalate', incidentId, generation: 1, step: 3 })).not.toBe(a);
  });

  it('stays valid for the largest escalation, ack-timeout and reminder counters', () => {
    const big = Number.MAX_SAFE_INTEGER;
    for (const event of [
      { kind: 'escalate', incidentId, generation: big, step: big },
      { kind: 'ack-timeout', incidentId, generation: big },
      { kind: 'reminder', incidentId, seq: big },
    ] as const) {
      expect(timerName(event)).toMatch(SCHEDULE_NAME);
    }
  });

  // `hb-` + a 63-character heartbeat id would be 66 > Scheduler's 64: the name ends in a hash instead.
  it('is a valid, distinct Scheduler name for a 63-character heartbeat id', () => {
    const heartbeatId = `a${'b'.repeat(62)}`;
    expect(heartbeatId).toHaveLength(63);
    const armedAt = '2026-11-26T10:00:00.000Z';
    const name = timerName({ kind: 'heartbeat', heartbeatId, armedAt });
    expect(name).toMatch(SCHEDULE_NAME);
    expect(name.startsWith('hb-abbb')).toBe(true);
    expect(timerName({ kind: 'heartbeat', heartbeatId: `${heartbeatId.slice(0, 62)}c`, armedAt })).not.toBe(
      name,
    );
  });

  // `mw-<service>-<12-char window id>` exceeds 64 for service ids over 48 characters.
  it('is a valid, distinct Scheduler name for a 63-character service id', () => {
    const service = `s${'v'.repeat(62)}`;
    const name = timerName({ kind: 'maintenance', service, windowId: 'ab12cd34ef56' });
    expect(name).toMatch(SCHEDULE_NAME);
    expect(timerName({ kind: 'maintenance', service, windowId: 'ab12cd34ef57' })).not.toBe(name);
  });
});

describe('atExpression', () => {
  it.each([
    ['2026-11-26T10:05:00.000Z', 'at(2026-11-26T10:05:00)'],
    ['2026-11-26T10:05:00.001Z', 'at(2026-11-26T10:05:01)'],
    ['2026-11-26T10:05:00.999Z', 'at(2026-11-26T10:05:01)'],
    ['2026-12-31T23:59:59.999Z', 'at(2027-01-01T00:00:00)'],
  ])('%s → %s', (iso, expression) => {
    expect(atExpression(new Date(iso))).toBe(expression);
  });
});
