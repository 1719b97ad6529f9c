import * as z from 'zod/mini';
import { lazySchema } from './lazy.ts';

/**
 * The canonical Alert: every input format (PagerDuty Events v2, Alertmanager, Grafana,
 * CloudWatch, native) is normalized into this one shape before it reaches the bus.
 * It is also the `detail` of a "Klaxon Alert" event on the Klaxon bus.
 */

export const SOURCE_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type SourceSeverity = (typeof SOURCE_SEVERITIES)[number];

/**
 * trigger opens or adds to an incident; acknowledge and resolve act on the open incident for
 * the dedup key; record is kept on the open incident's timeline but pages nobody
 * (CloudWatch INSUFFICIENT_DATA).
 */
export const ALERT_ACTIONS = ['trigger', 'acknowledge', 'resolve', 'record'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

export const ALERT_ORIGINS = [
  'events-v2',
  'alertmanager',
  'grafana',
  'cloudwatch',
  'native',
  'heartbeat',
  /** Declared by a person (API, CLI). */
  'manual',
] as const;
export type AlertOrigin = (typeof ALERT_ORIGINS)[number];

/**
 * Service ids are slugs: they appear in keys, URLs, SNS attributes and S3 partitions. Built at
 * import (every function's config parse needs it); the schemas below are built on first use.
 */
export const ServiceId = z
  .string()
  .check(
    z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a slug: lowercase letters, digits and dashes, at most 63'),
  );

export const IsoDateTime = /* @__PURE__ */ lazySchema(() => z.iso.datetime({ offset: true }));

/** The longest `description` an alert carries (an alarm's own description's limit). */
export const MAX_DESCRIPTION = 1024;

export const AlertLink = /* @__PURE__ */ lazySchema(() =>
  z.object({
    href: z.url(),
    text: z.optional(z.string().check(z.maxLength(1024))),
  }),
);

export type AlertLink = z.output<typeof AlertLink>;

export const AlertImage = /* @__PURE__ */ lazySchema(() =>
  z.object({
    src: z.url(),
    href: z.optional(z.url()),
    alt: z.optional(z.string().check(z.maxLength(1024))),
  }),
);

export const AlertSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** Idempotency key of this input: the same key twice is the same alert, counted once. */
    eventKey: z.string().check(z.minLength(1), z.maxLength(512)),
    service: ServiceId,
    dedupKey: z.string().check(z.minLength(1), z.maxLength(255)),
    action: z.enum(ALERT_ACTIONS),
    summary: z.string().check(z.minLength(1), z.maxLength(1024)),
    source: z.string().check(z.minLength(1), z.maxLength(255)),
    severity: z.enum(SOURCE_SEVERITIES),
    /** The alert's own timestamp: when the problem began, as the sender saw it. */
    occurredAt: z.optional(IsoDateTime),
    /** When Klaxon received the alert. */
    receivedAt: IsoDateTime,
    component: z.optional(z.string().check(z.maxLength(255))),
    group: z.optional(z.string().check(z.maxLength(255))),
    class: z.optional(z.string().check(z.maxLength(255))),
    /**
     * What the sender said of it beyond the summary, as people read it: Alertmanager's and
     * Grafana's `description` annotation, Events v2 `custom_details`, an alarm's description.
     * The first alert's is kept on its incident and shown on its pages.
     */
    description: z.optional(z.string().check(z.maxLength(MAX_DESCRIPTION))),
    details: z._default(z.record(z.string(), z.unknown()), {}),
    links: z._default(z.array(AlertLink).check(z.maxLength(50)), []),
    images: z._default(z.array(AlertImage).check(z.maxLength(50)), []),
    origin: z.enum(ALERT_ORIGINS),
    /** Name and URL of the sending tool (Events v2 `client`, `client_url`). */
    client: z.optional(z.string().check(z.maxLength(255))),
    clientUrl: z.optional(z.url()),
  }),
);

export type Alert = z.output<typeof AlertSchema>;
export type AlertInput = z.input<typeof AlertSchema>;

/** Cuts `text` to `max` UTF-16 units, marking the cut with an ellipsis and never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
