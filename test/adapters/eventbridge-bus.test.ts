import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import { RetryableError } from '#core/errors';
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

  it('sends at most 10 entries per call', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const alerts = Array.from({ length: 23 }, () => makeAlert());
    await new EventBridgeAlertBus({ busName: 'b', client: new EventBridgeClient({}) }).putAlerts(alerts);
    const sizes = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
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
