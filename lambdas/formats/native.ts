import * as z from 'zod/mini';
import { type Alert, AlertSchema } from '#core/alert';
import { built, lazySchema } from '#core/lazy';
import { parseOrThrow } from '#core/validation';
import { nonBlank, normalizeTimestamp, toIso } from './shared.ts';

/**
 * The native Klaxon schema: what producers put on the Klaxon bus with detail-type
 * "Klaxon Alert". It is the canonical Alert with the fields a producer cannot know or need not
 * repeat made optional and filled from the EventBridge envelope:
 * - eventKey → `native:${envelope.id}` (EventBridge redelivers with the same id)
 * - receivedAt → envelope.time, source → envelope.source
 * - origin → 'native'; an origin that is present is kept, because the ingest function puts
 *   already-normalized alerts (origin 'events-v2', 'alertmanager', ...) with the same detail-type
 * - action → 'trigger', severity → 'error'
 * - `occurredAt` and `receivedAt` (ISO-8601 with `Z` or an offset) are normalized to UTC with
 *   milliseconds, as every format does: stored times are compared and sorted as text.
 */
export const NativeAlertSchema = /* @__PURE__ */ lazySchema(() => {
  const alert = built(AlertSchema);
  // An instant whose UTC form is still a 4-digit year (9999-12-31T23:30-01:00 is not).
  const utcDateTime = alert.shape.receivedAt.check(
    z.refine(
      (v) => normalizeTimestamp(v) !== undefined,
      'must be an ISO-8601 date-time within years 0001-9999 in UTC',
    ),
  );
  return z.extend(alert, {
    eventKey: z.optional(alert.shape.eventKey),
    occurredAt: z.optional(utcDateTime),
    receivedAt: z.optional(utcDateTime),
    source: z.optional(alert.shape.source),
    origin: z.optional(alert.shape.origin),
    action: z._default(alert.shape.action, 'trigger'),
    severity: z._default(alert.shape.severity, 'error'),
  });
});

export type NativeAlert = z.output<typeof NativeAlertSchema>;
export type NativeAlertInput = z.input<typeof NativeAlertSchema>;

/** The parts of the EventBridge envelope the defaults come from. */
export interface NativeEnvelope {
  readonly id: string;
  readonly time: string;
  readonly source: string;
}

/** Validates an event's detail; throws ValidationError naming each bad field. */
export function parseNativeAlert(detail: unknown): NativeAlert {
  return parseOrThrow(NativeAlertSchema, detail, 'Klaxon alert');
}

/** Validates `detail` and fills its defaults from the envelope; timestamps come out in UTC. */
export function nativeToAlert(detail: unknown, envelope: NativeEnvelope): Alert {
  const alert = parseNativeAlert(detail);
  return {
    ...alert,
    eventKey: alert.eventKey ?? `native:${envelope.id}`,
    ...(alert.occurredAt === undefined ? {} : { occurredAt: toIso(alert.occurredAt) }),
    // EventBridge writes the envelope's time without milliseconds (`2024-05-01T12:00:05Z`).
    receivedAt: alert.receivedAt === undefined ? utcOr(envelope.time) : toIso(alert.receivedAt),
    source: alert.source ?? envelope.source,
    origin: alert.origin ?? 'native',
    // Blank is nothing said, as in every other format.
    description: nonBlank(alert.description),
  };
}

/** The envelope time in UTC; kept as it is in the unlikely case it is not a timestamp. */
function utcOr(time: string): string {
  return normalizeTimestamp(time) ?? time;
}
