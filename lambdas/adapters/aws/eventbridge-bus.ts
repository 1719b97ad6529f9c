import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AlertBus, EventPublisher } from '#app/ports';
import type { Alert } from '#core/alert';
import { RetryableError } from '#core/errors';
import { fitAlertToEntry, MAX_PUT_EVENTS_ENTRY_BYTES, putEventsEntrySize } from '#core/event-size';
import { ALERT_DETAIL_TYPE, INGEST_SOURCE, KLAXON_SOURCE } from '#core/routing';

/** Created once per execution environment, reused by every invocation. */
const defaultClient = new EventBridgeClient({});

/** PutEvents takes at most 10 entries and 256 KB per call. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = MAX_PUT_EVENTS_ENTRY_BYTES;
/** Entries that fail inside a successful call (throttling, internal errors) are re-sent this often. */
const ENTRY_ATTEMPTS = 3;
/**
 * PutEvents calls in flight at once: a webhook of a fleet-wide group (thousands of alerts, 10 an
 * entry batch) is put within the http function's 10 seconds, well under the account's PutEvents
 * rate; what EventBridge throttles comes back as failed entries, re-sent above.
 */
const PUT_CONCURRENCY = 8;

/**
 * The Klaxon bus on EventBridge. Retry contract: the SDK retries whole calls; entries that fail
 * individually are re-sent; if any still fails, `RetryableError` is thrown and the caller (the
 * HTTP client, on a 503) re-sends. Duplicates are harmless: alerts carry their idempotency key.
 * An alert too large for one entry (Events v2 bodies may be 512 KB, an entry 256 KB) is shrunk to
 * fit by `fitAlertToEntry` rather than refused by PutEvents on every retry.
 */
export class EventBridgeAlertBus implements AlertBus {
  readonly #busName: string;
  readonly #client: EventBridgeClient;

  constructor(options: { busName: string; client?: EventBridgeClient }) {
    this.#busName = options.busName;
    this.#client = options.client ?? defaultClient;
  }

  async putAlerts(alerts: readonly Alert[]): Promise<void> {
    const entries = alerts.map((alert): PutEventsRequestEntry => {
      const time = new Date(alert.receivedAt);
      const envelope = { source: INGEST_SOURCE, detailType: ALERT_DETAIL_TYPE, time };
      return {
        EventBusName: this.#busName,
        Source: INGEST_SOURCE,
        DetailType: ALERT_DETAIL_TYPE,
        Detail: JSON.stringify(fitAlertToEntry(alert, envelope)),
        Time: time,
      };
    });
    const all = [...batches(entries)];
    for (let i = 0; i < all.length; i += PUT_CONCURRENCY)
      await Promise.all(all.slice(i, i + PUT_CONCURRENCY).map((batch) => this.#put(batch)));
  }

  async #put(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; attempt <= ENTRY_ATTEMPTS && pending.length > 0; attempt++) {
      const result = await this.#client.send(new PutEventsCommand({ Entries: pending }));
      if (!result.FailedEntryCount) return;
      pending = pending.filter((_, i) => result.Entries?.[i]?.ErrorCode !== undefined);
    }
    if (pending.length > 0) {
      throw new RetryableError(
        `EventBridge did not accept ${pending.length} alert(s) after ${ENTRY_ATTEMPTS} attempts`,
      );
    }
  }
}

/** Klaxon's own events (Error Budget Exhausted, …) on the Klaxon bus, source `klaxon`. */
export class EventBridgePublisher implements EventPublisher {
  readonly #busName: string;
  readonly #client: EventBridgeClient;

  constructor(options: { busName: string; client?: EventBridgeClient }) {
    this.#busName = options.busName;
    this.#client = options.client ?? defaultClient;
  }

  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    const result = await this.#client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.#busName,
            Source: KLAXON_SOURCE,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if (result.FailedEntryCount) throw new RetryableError(`EventBridge did not accept "${detailType}"`);
  }
}

function* batches(entries: PutEventsRequestEntry[]): Generator<PutEventsRequestEntry[]> {
  let batch: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (batch.length === MAX_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** EventBridge's documented entry size (Time, Source, DetailType, Detail, Resources). */
function entrySize(entry: PutEventsRequestEntry): number {
  return putEventsEntrySize({
    time: entry.Time,
    source: entry.Source,
    detailType: entry.DetailType,
    detail: entry.Detail,
    resources: entry.Resources,
  });
}
