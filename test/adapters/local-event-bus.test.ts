import { describe, expect, it } from 'vitest';
import { type BusEvent, LocalEventBus } from '#adapters/local/event-bus';
import type { Alert } from '#core/alert';
import { ValidationError } from '#core/errors';
import { putEventsEntrySize } from '#core/event-size';
import { makeAlert } from '../support/alerts.ts';

describe('local event bus: the PutEvents entry limit, as in AWS', () => {
  it('shrinks an alert too large for one entry the way the EventBridge bus does, and delivers it', async () => {
    const bus = new LocalEventBus({ maxAttempts: 1 });
    const delivered: BusEvent[] = [];
    bus.register('processAlert', async (event) => {
      delivered.push(event);
    });
    const alert = makeAlert({ details: { log: 'x'.repeat(300 * 1024), host: 'db-1' } });
    await bus.putAlerts([alert]);
    await bus.drain();
    expect(delivered).toHaveLength(1);
    const [event] = delivered;
    const detail = event?.detail as Alert;
    const size = putEventsEntrySize({
      time: event?.time,
      source: event?.source,
      detailType: event?.['detail-type'],
      detail: JSON.stringify(detail),
    });
    expect(size).toBeLessThanOrEqual(256 * 1024);
    expect(detail).toMatchObject({
      dedupKey: alert.dedupKey,
      summary: alert.summary,
      severity: alert.severity,
      details: { host: 'db-1', 'klaxon:truncated': { shortened: ['details.log'] } },
    });
  });

  it('refuses any other entry over 256 KB, as PutEvents does', () => {
    const bus = new LocalEventBus();
    const put = (bytes: number) =>
      bus.put('klaxon', {
        source: 'acme.billing',
        'detail-type': 'Klaxon Alert',
        detail: { blob: 'x'.repeat(bytes) },
      });
    expect(() => put(300 * 1024)).toThrow(ValidationError);
    expect(put(200 * 1024).id).toMatch(/./);
  });
});

describe('local event bus: where an event comes from', () => {
  const alarm = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-latency';
  const put = (entry: { resources?: string[]; region?: string; detail?: unknown }) =>
    new LocalEventBus().put('default', {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: {},
      ...entry,
    });

  it("takes an AWS service's event's region and account from its resource's ARN, as AWS sends it", () => {
    expect(put({ resources: [alarm] })).toMatchObject({ region: 'eu-west-1', account: '123456789012' });
    expect(put({ detail: { alarmArn: alarm } })).toMatchObject({
      region: 'eu-west-1',
      account: '123456789012',
    });
  });

  it('keeps a region the entry gives; without an ARN, the local defaults', () => {
    expect(put({ resources: [alarm], region: 'us-west-2' })).toMatchObject({ region: 'us-west-2' });
    expect(put({}).account).toBe('000000000000');
  });
});
