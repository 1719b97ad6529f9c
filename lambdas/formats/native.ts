import type * as z from 'zod';
import { type Alert, AlertSchema } from '#core/alert';
import { lazySchema } from '#core/lazy';
import { parseOrThrow } from '#core/validation';

/**
 * The native Klaxon schema: what producers put on the Klaxon bus with detail-type
 * "Klaxon Alert". It is the canonical Alert with the fields a producer cannot know or need not
 * repeat made optional and filled from the EventBridge envelope:
 * - eventKey → `native:${envelope.id}` (EventBridge redelivers with the same id)
 * - receivedAt → envelope.time, source → envelope.source
 * - origin → 'native'; an origin that is present is kept, because the ingest function puts
 *   already-normalized alerts (origin 'events-v2', 'alertmanager', ...) with the same detail-type
 * - action → 'trigger', severity → 'error'
 */
export const NativeAlertSchema = lazySchema(() => {
  const alert = AlertSchema.unwrap();
  return alert.extend({
    eventKey: alert.shape.eventKey.optional(),
    receivedAt: alert.shape.receivedAt.optional(),
    source: alert.shape.source.optional(),
    origin: alert.shape.origin.optional(),
    action: alert.shape.action.default('trigger'),
    severity: alert.shape.severity.default('error'),
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

/** Validates `detail` and fills its defaults from the envelope. */
export function nativeToAlert(detail: unknown, envelope: NativeEnvelope): Alert {
  const alert = parseNativeAlert(detail);
  return {
    ...alert,
    eventKey: alert.eventKey ?? `native:${envelope.id}`,
    receivedAt: alert.receivedAt ?? envelope.time,
    source: alert.source ?? envelope.source,
    origin: alert.origin ?? 'native',
  };
}
