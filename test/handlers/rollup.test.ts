import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '#core/errors';

// The handler's own logic, without DynamoDB, S3 or EventBridge behind it.
const runRollups = vi.hoisted(() => vi.fn(async (_days: string[], _deps: object, _log?: unknown) => []));
const runNightlyRollup = vi.hoisted(() =>
  vi.fn(async (day: string) => [{ day: '2026-11-19' }, { day }] as { day: string }[]),
);
vi.mock('#app/rollup', () => ({ runRollups, runNightlyRollup }));
const checkContacts = vi.hoisted(() =>
  vi.fn(async (_deps: unknown, at?: Date) => ({
    checkedAt: (at ?? new Date()).toISOString(),
    contacts: 5,
    unreachable: 1,
    problems: [],
  })),
);
vi.mock('#app/contacts', () => ({ checkContacts }));

let handler: (event: unknown) => Promise<unknown>;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('TABLE_NAME', 'klaxon');
  vi.stubEnv('EVENT_BUS_NAME', 'klaxon-bus');
  vi.stubEnv('PAGES_TOPIC_ARN', 'arn:aws:sns:eu-west-1:123456789012:pages');
  vi.stubEnv('SCHEDULE_GROUP_NAME', 'klaxon-timers');
  vi.stubEnv('SCHEDULER_ROLE_ARN', 'arn:aws:iam::123456789012:role/scheduler');
  vi.stubEnv('SCHEDULER_DLQ_ARN', 'arn:aws:sqs:eu-west-1:123456789012:timers-dlq');
  vi.stubEnv('ESCALATE_FUNCTION_ARN', 'arn:aws:lambda:eu-west-1:123456789012:function:escalate');
  vi.stubEnv('ACK_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ack');
  vi.stubEnv('PUBLIC_URL', 'https://abc.execute-api.eu-west-1.amazonaws.com/');
  vi.stubEnv('EXPORT_BUCKET', 'exports');
  vi.stubEnv('KLAXON_CONFIG_JSON', await readFile('klaxon.config.json', 'utf8'));
  ({ handler } = await import('#handlers/rollup'));
});
afterAll(() => {
  vi.unstubAllEnvs();
});
beforeEach(() => {
  runRollups.mockClear();
  runNightlyRollup.mockClear();
  checkContacts.mockClear();
});

describe('the rollup Lambda', () => {
  it('backfills {from, to} day by day, and the nightly schedule rolls up the previous local day', async () => {
    expect(await handler({ from: '2026-02-27', to: '2026-03-02' })).toEqual({
      days: ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02'],
    });
    expect(await handler({ from: '2026-03-02', to: '2026-03-02' })).toEqual({ days: ['2026-03-02'] });
    expect(await handler({ day: '2026-02-28' })).toEqual({ days: ['2026-02-28'] });
    // The days it reports are the days it rolled up, with the function's exports and metrics.
    expect(runRollups.mock.calls.map(([days]) => days)).toEqual([
      ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02'],
      ['2026-03-02'],
      ['2026-02-28'],
    ]);
    for (const [, deps] of runRollups.mock.calls)
      expect(deps).toMatchObject({
        sink: expect.any(Object),
        metrics: expect.any(Object),
        events: expect.any(Object),
      });
    // 23:30 UTC is 00:30 the next day in Berlin (klaxon.config.json): the nightly run of Nov 20,
    // which also reports the earlier days it re-rolled.
    expect(await handler({ scheduledTime: '2026-11-20T23:30:00Z' })).toEqual({
      days: ['2026-11-19', '2026-11-20'],
    });
    expect(runNightlyRollup).toHaveBeenCalledWith('2026-11-20', expect.anything());
  });

  it('refuses a range whose from is after its to, naming both fields, and rolls up nothing', async () => {
    const refused = await handler({ from: '2026-03-02', to: '2026-03-01' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({
      message: 'invalid rollup event: from, to (from is after to)',
      errors: [
        { field: 'from', message: 'must not be after to (2026-03-01)' },
        { field: 'to', message: 'must not be before from (2026-03-02)' },
      ],
    });
    expect(runRollups).not.toHaveBeenCalled();
    expect(runNightlyRollup).not.toHaveBeenCalled();
  });
});

describe('the contact check event', () => {
  it('{"check":"contacts"} runs the contact check as of the scheduled time, and no rollup', async () => {
    expect(await handler({ check: 'contacts', scheduledTime: '2026-11-26T10:00:00Z' })).toEqual({
      checkedAt: '2026-11-26T10:00:00.000Z',
      contacts: 5,
      unreachable: 1,
    });
    expect(checkContacts).toHaveBeenCalledWith(
      expect.objectContaining({ directory: expect.anything(), warn: expect.any(Function) }),
      new Date('2026-11-26T10:00:00Z'),
    );
    // By hand, without a scheduled time: as of now.
    await handler({ check: 'contacts' });
    expect(checkContacts).toHaveBeenLastCalledWith(expect.anything(), undefined);
    expect(runRollups).not.toHaveBeenCalled();
    expect(runNightlyRollup).not.toHaveBeenCalled();
  });

  it('refuses an unknown check by its field, and runs nothing', async () => {
    const refused = await handler({ check: 'contact', scheduledTime: '2026-11-26T10:00:00Z' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).message).toContain('check');
    expect(checkContacts).not.toHaveBeenCalled();
    expect(runNightlyRollup).not.toHaveBeenCalled();
  });
});
