import type { Alert } from '#core/alert';

/**
 * What the ingest edge knows when it normalizes one request: the service its integration key
 * belongs to, when the request arrived, and a request id to derive idempotency keys from when
 * the format has none of its own.
 */
export interface IngestContext {
  readonly service: string;
  /** ISO-8601 time the request arrived. */
  readonly receivedAt: string;
  /** Unique per request; used for idempotency keys when the payload carries none. */
  readonly requestId: string;
}

/** A normalizer turns one validated vendor payload into canonical alerts (zero or more). */
export type Normalizer<T> = (input: T, ctx: IngestContext) => Alert[];
