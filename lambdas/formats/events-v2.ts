import * as z from 'zod/mini';
import { type Alert, SOURCE_SEVERITIES } from '#core/alert';
import { lazySchema, once } from '#core/lazy';
import { parseOrThrow } from '#core/validation';
import {
  descriptionOf,
  HttpUrl,
  isPlainObject,
  MAX_ATTACHMENTS,
  MAX_SHORT,
  MAX_SUMMARY,
  OptionalHttpUrl,
  optionalText,
  toIso,
  truncate,
  VendorTimestamp,
} from './shared.ts';
import type { IngestContext } from './types.ts';

/**
 * PagerDuty Events API v2 (`POST /v2/enqueue`), so that any tool that can page PagerDuty can
 * page Klaxon by changing the URL. https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 *
 * Differences from PagerDuty, on purpose:
 * - `routing_key` is any string of 1..255 characters. PagerDuty's keys are 32 characters and it
 *   rejects other lengths; Klaxon's integration keys are its own, so only their presence is
 *   checked here (the HTTP layer authenticates them).
 * - A trigger without `dedup_key` gets the request id as its dedup key (PagerDuty generates a
 *   random one); the HTTP layer answers it as `{"dedup_key": ...}` like PagerDuty does.
 * - On acknowledge and resolve, `payload` is optional and its fields are all optional:
 *   PagerDuty ignores it there, and refusing a resolve over a half-filled payload would leave an
 *   incident open. Fields that are present are still type-checked.
 * - `source`, `component`, `group`, `class` and `client` longer than 255 characters are cut to
 *   255 (ending in an ellipsis), not refused: PagerDuty documents no maximum for them.
 * - `client_url`, `links[].href`, `images[].src|href` must be absolute http(s) URLs when given
 *   (an empty string counts as absent). More than 50 links or images are cut to 50.
 */

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `${what} is required` : undefined;

const Severity = /* @__PURE__ */ lazySchema(() =>
  z.enum(SOURCE_SEVERITIES, {
    error: (issue) =>
      issue.input === undefined ? 'severity is required' : `must be one of ${SOURCE_SEVERITIES.join(', ')}`,
  }),
);

const payloadFields = once(() => ({
  timestamp: z.nullish(VendorTimestamp),
  component: z.nullish(z.string()),
  group: z.nullish(z.string()),
  class: z.nullish(z.string()),
  /** Any JSON. PagerDuty shows objects as key/value pairs and anything else as text. */
  custom_details: z.optional(z.unknown()),
}));

const TriggerPayload = /* @__PURE__ */ lazySchema(() =>
  z.object(
    {
      summary: z
        .string({ error: required('summary') })
        .check(z.trim(), z.minLength(1, 'summary must not be empty'), z.maxLength(MAX_SUMMARY)),
      // PagerDuty documents no maximum: a long source is cut to 255 when mapped, like component.
      source: z
        .string({ error: required('source') })
        .check(z.trim(), z.minLength(1, 'source must not be empty')),
      severity: Severity,
      ...payloadFields(),
    },
    { error: required('payload') },
  ),
);

const UpdatePayload = /* @__PURE__ */ lazySchema(() =>
  z.object({
    summary: z.nullish(z.string().check(z.maxLength(MAX_SUMMARY))),
    source: z.nullish(z.string()),
    severity: z.nullish(Severity),
    ...payloadFields(),
  }),
);

const Link = /* @__PURE__ */ lazySchema(() =>
  z.object({
    href: HttpUrl,
    text: z.nullish(z.string()),
  }),
);

const Image = /* @__PURE__ */ lazySchema(() =>
  z.object({
    src: HttpUrl,
    href: OptionalHttpUrl,
    alt: z.nullish(z.string()),
  }),
);

const commonFields = once(() => ({
  routing_key: z.string({ error: required('routing_key') }).check(z.minLength(1), z.maxLength(255)),
  client: z.nullish(z.string()),
  client_url: OptionalHttpUrl,
  links: z.nullish(z.array(Link)),
  images: z.nullish(z.array(Image)),
}));

const TriggerEvent = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...commonFields(),
    event_action: z.literal('trigger'),
    dedup_key: z.nullish(z.string().check(z.maxLength(255))),
    payload: TriggerPayload,
  }),
);

const UpdateEvent = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...commonFields(),
    event_action: z.enum(['acknowledge', 'resolve']),
    dedup_key: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'dedup_key is required for acknowledge and resolve' : undefined,
      })
      .check(z.minLength(1, 'dedup_key is required for acknowledge and resolve'), z.maxLength(255)),
    payload: z.nullish(UpdatePayload),
  }),
);

export const EventsV2EventSchema = /* @__PURE__ */ lazySchema(() =>
  z.discriminatedUnion('event_action', [TriggerEvent, UpdateEvent], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'event_action must be one of trigger, acknowledge, resolve'
        : undefined,
  }),
);

export type EventsV2Event = z.output<typeof EventsV2EventSchema>;

/** Validates a request body; throws ValidationError naming each bad field (`payload.summary`). */
export function parseEventsV2(body: unknown): EventsV2Event {
  return parseOrThrow(EventsV2EventSchema, body, 'Events API v2 event');
}

/**
 * The dedup key an event acts on: its own, or for a trigger without one, the request id.
 * The HTTP layer returns it to the caller so that it can acknowledge and resolve later.
 */
export function eventsV2DedupKey(event: EventsV2Event, ctx: IngestContext): string {
  return event.dedup_key ? event.dedup_key : ctx.requestId;
}

function detailsOf(customDetails: unknown): Record<string, unknown> {
  if (customDetails === undefined || customDetails === null) return {};
  return isPlainObject(customDetails) ? customDetails : { custom_details: customDetails };
}

/** Normalizes one validated event to a canonical Alert for the service its routing key belongs to. */
export function eventsV2ToAlert(event: EventsV2Event, ctx: IngestContext): Alert {
  const dedupKey = eventsV2DedupKey(event, ctx);
  const payload = event.payload ?? undefined;
  // Clients that serialize unset fields as null are common; null means absent throughout.
  const summary =
    optionalText(payload?.summary, MAX_SUMMARY) ?? truncate(`${event.event_action} ${dedupKey}`, MAX_SUMMARY);
  return {
    eventKey: `events-v2:${ctx.requestId}`,
    service: ctx.service,
    dedupKey,
    action: event.event_action,
    summary,
    source: optionalText(payload?.source, MAX_SHORT) ?? 'events-v2',
    severity: payload?.severity ?? 'info',
    occurredAt: payload?.timestamp ? toIso(payload.timestamp) : undefined,
    receivedAt: ctx.receivedAt,
    component: optionalText(payload?.component, MAX_SHORT),
    group: optionalText(payload?.group, MAX_SHORT),
    class: optionalText(payload?.class, MAX_SHORT),
    description: descriptionOf(payload?.custom_details),
    details: detailsOf(payload?.custom_details),
    links: (event.links ?? []).slice(0, MAX_ATTACHMENTS).map((l) => ({
      href: l.href.trim(),
      text: optionalText(l.text, 1024),
    })),
    images: (event.images ?? []).slice(0, MAX_ATTACHMENTS).map((i) => ({
      src: i.src.trim(),
      href: i.href,
      alt: optionalText(i.alt, 1024),
    })),
    origin: 'events-v2',
    client: optionalText(event.client, MAX_SHORT),
    clientUrl: event.client_url,
  };
}
