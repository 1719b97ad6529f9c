import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import type { Alert } from '#core/alert';
import { RetryableError } from '#core/errors';
import { putEventsEntrySize } from '#core/event-size';
import { makeAlert } from '../support/alerts.ts';

const eventBridge = mockClient(EventBridgeClient);

beforeEach(() => {
  eventBridge.reset();
});

describe('EventBridge alert bus', () => {
  it('puts each alert as a "Klaxon Alert" from klaxon.ingest on the Klaxon bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const alert = makeAlert();
    await new EventBridgeAlertBus({ busName: 'klaxon-bus', client: new EventBridgeClient({}) }).putAlerts([
      alert,
    ]);
    expect(eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input)).toEqual([
      {
        Entries: [
          {
            EventBusName: 'klaxon-bus',
            Source: 'klaxon.ingest',
            DetailType: 'Klaxon Alert',
            Detail: JSON.stringify(alert),
            Time: new Date(alert.receivedAt),
          },
        ],
      },
    ]);
  });

  it('shrinks an alert too large for one entry to fit under 256 KB, instead of a PutEvents that always fails', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const alert = makeAlert({ details: { log: 'x'.repeat(300 * 1024), host: 'db-1' } });
    const small = makeAlert();
    await new EventBridgeAlertBus({ busName: 'b', client: new EventBridgeClient({}) }).putAlerts([
      alert,
      small,
    ]);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries).toHaveLength(2);
    const [big, other] = entries;
    expect(
      putEventsEntrySize({
        time: big?.Time,
        source: big?.Source,
        detailType: big?.DetailType,
        detail: big?.Detail,
      }),
    ).toBeLessThanOrEqual(256 * 1024);
    const detail = JSON.parse(big?.Detail ?? '{}') as Alert;
    expect(detail).toMatchObject({
      eventKey: alert.eventKey,
      dedupKey: alert.dedupKey,
      summary: alert.summary,
      severity: alert.severity,
      details: { host: 'db-1', 'klaxon:truncated': { removed: [], shortened: ['details.log'] } },
    });
    // Alerts that fit go as they are, and each batch stays under the PutEvents request limit.
    expect(other?.Detail).toBe(JSON.stringify(small));
    for (const call of eventBridge.commandCalls(PutEventsCommand)) {
      const bytes = (call.args[0].input.Entries ?? []).reduce(
        (sum, e) =>
          sum +
          putEventsEntrySize({ time: e.Time, source: e.Source, detailType: e.DetailType, detail: e.Detail }),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('sends at most 10 entries per call', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const alerts = Array.from({ length: 23 }, () => makeAlert());
    await new EventBridgeAlertBus({ busName: 'b', client: new EventBridgeClient({}) }).putAlerts(alerts);
    const sizes = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
  });

  it('puts a fleet-wide group (1,200 alerts) with at most 8 calls in flight, every alert once', async () => {
    let inFlight = 0;
    let most = 0;
    eventBridge.on(PutEventsCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      return { FailedEntryCount: 0 };
    });
    const alerts = Array.from({ length: 1200 }, (_, i) => makeAlert({ dedupKey: `host-${i}` }));
    await new EventBridgeAlertBus({ busName: 'b', client: new EventBridgeClient({}) }).putAlerts(alerts);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(120);
    const put = calls.flatMap((c) =>
      (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.Detail ?? '{}')),
    );
    expect(put.map((a: Alert) => a.dedupKey).sort()).toEqual(alerts.map((a) => a.dedupKey).sort());
    expect(most).toBe(8);
  });

  it('re-sends only the entries EventBridge failed', async () => {
    const alerts = [makeAlert(), makeAlert()];
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: '1' }, { ErrorCode: 'ThrottlingException' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: '2' }] });
    await new EventBridgeAlertBus({ busName: 'b', client: new EventBridgeClient({}) }).putAlerts(alerts);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries?.map((e) => e.Detail)).toEqual([JSON.stringify(alerts[1])]);
  });

  it('throws a retryable error when an entry keeps failing, so the sender retries', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    const bus = new EventBridgeAlertBus({ busName: 'b', client: new EventBridgeClient({}) });
    await expect(bus.putAlerts([makeAlert()])).rejects.toBeInstanceOf(RetryableError);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });
});
