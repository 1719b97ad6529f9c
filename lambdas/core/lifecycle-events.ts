import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { warRoomName } from './classification.ts';
import { INCIDENT_STATUSES, type Incident } from './incident.ts';
import { once } from './lazy.ts';
import { SEVERITIES } from './severity.ts';

/**
 * Incident lifecycle events: what Klaxon puts on its bus (source `klaxon`, KLAXON_SOURCE) when an
 * incident changes, for chat bots, status pages and audit. The detail-types and the zod schemas
 * below are the contract, and lifecycle-event-docs.ts says what each field means; docs/EVENTS.md
 * explains it, and docs/events/*.schema.json are generated from both (`npm run schemas`; a test
 * keeps them in step).
 *
 * Versioning: `schemaVersion` "1.x" only ever gains optional fields, so the schemas accept any
 * "1.x" and unknown fields; a breaking change is "2.0", published alongside 1.x for one release.
 */

/** The EventBridge `detail-type`s, one per lifecycle event. */
export const LIFECYCLE_EVENT_TYPES = [
  'Incident Opened',
  'Incident Acknowledged',
  'Incident Escalated',
  'Incident Severity Changed',
  'Incident Mitigated',
  'Incident Resolved',
  'Incident Reopened',
  'Postmortem Due',
  'Incident Status Updated',
  'Incident Snoozed',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** The version the builder writes. */
export const LIFECYCLE_SCHEMA_VERSION = '1.0';

// The schemas are built on first use (each type's on its first event), not at import: see lazy.ts.
const isoDateTime = once(() => z.iso.datetime());
const severity = once(() => z.enum(SEVERITIES));

/** The incident as of the event (a snapshot, not a live view). */
const incidentSnapshot = once(() =>
  z.object({
    id: z.string().check(z.minLength(1)),
    service: z.string().check(z.minLength(1)),
    serviceName: z.string().check(z.minLength(1)),
    title: z.string(),
    severity: severity(),
    status: z.enum(INCIDENT_STATUSES),
    detectedAt: isoDateTime(),
    url: z.optional(z.url()),
    warRoom: z.string().check(z.minLength(1)),
  }),
);

function envelope<T extends LifecycleEventType>(type: T) {
  return z.object({
    schemaVersion: z.string().check(z.regex(/^1\.\d+$/)),
    id: z.string().check(z.minLength(1)),
    type: z.literal(type),
    occurredAt: isoDateTime(),
    actor: z.optional(z.string().check(z.minLength(1))),
    incident: incidentSnapshot(),
  });
}

const SEVERITY_RANK: Readonly<Record<(typeof SEVERITIES)[number], number>> = {
  'SEV-1': 1,
  'SEV-2': 2,
  'SEV-3': 3,
  'SEV-4': 4,
};

/**
 * Builds the detail schema of each lifecycle event type. What each field means is in
 * lifecycle-event-docs.ts, which adds it to the published JSON Schemas (kept out of the functions'
 * bundles, which only validate).
 */
const BUILDERS = {
  'Incident Opened': () => envelope('Incident Opened'),
  'Incident Acknowledged': () =>
    z.extend(envelope('Incident Acknowledged'), { acknowledgedAt: isoDateTime() }),
  'Incident Escalated': () =>
    z.extend(envelope('Incident Escalated'), {
      level: z.int().check(z.gte(1)),
      step: z.int().check(z.gte(0)),
      paged: z.array(z.string().check(z.minLength(1))),
      snoozedUntil: z.optional(isoDateTime()),
    }),
  'Incident Severity Changed': () =>
    z
      .extend(envelope('Incident Severity Changed'), {
        from: severity(),
        to: severity(),
        reason: z.string().check(z.minLength(1)),
        direction: z.enum(['raised', 'lowered']),
      })
      .check(
        z.superRefine((detail, ctx) => {
          const expected = SEVERITY_RANK[detail.to] < SEVERITY_RANK[detail.from] ? 'raised' : 'lowered';
          if (detail.from === detail.to) {
            ctx.addIssue({ code: 'custom', path: ['to'], message: `to equals from (${detail.from})` });
          } else if (detail.direction !== expected) {
            ctx.addIssue({
              code: 'custom',
              path: ['direction'],
              message: `${detail.from} → ${detail.to} is ${expected}, not ${detail.direction}`,
            });
          }
        }),
      ),
  'Incident Mitigated': () => z.extend(envelope('Incident Mitigated'), { mitigatedAt: isoDateTime() }),
  'Incident Resolved': () =>
    z.extend(envelope('Incident Resolved'), { resolvedAt: isoDateTime(), monitored: z.boolean() }),
  'Incident Reopened': () => z.extend(envelope('Incident Reopened'), { reopens: z.int().check(z.gte(1)) }),
  'Postmortem Due': () =>
    z.extend(envelope('Postmortem Due'), {
      dueAt: isoDateTime(),
      required: z.literal(true),
      errorBudgetMonth: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}$/))),
      impactSeverity: z.optional(severity()),
    }),
  'Incident Status Updated': () =>
    z.extend(envelope('Incident Status Updated'), {
      update: z.string().check(z.minLength(1)),
      postedAt: isoDateTime(),
    }),
  'Incident Snoozed': () =>
    z.extend(envelope('Incident Snoozed'), { snoozedUntil: isoDateTime(), minutes: z.int().check(z.gte(1)) }),
} as const;

type DetailSchemas = { readonly [T in LifecycleEventType]: ReturnType<(typeof BUILDERS)[T]> };

const built: Partial<Record<LifecycleEventType, z.ZodMiniType>> = {};

/** The detail schema of `type`, built on its first use. */
function schemaOf<T extends LifecycleEventType>(type: T): DetailSchemas[T] {
  let schema = built[type];
  if (schema === undefined) {
    schema = BUILDERS[type]();
    built[type] = schema;
  }
  return schema as DetailSchemas[T];
}

/** The detail schema of each type, for subscribers that validate with zod (each built when first read). */
export const LIFECYCLE_EVENT_SCHEMAS: Readonly<Record<LifecycleEventType, z.ZodMiniType>> =
  Object.defineProperties(
    {} as Record<LifecycleEventType, z.ZodMiniType>,
    Object.fromEntries(
      LIFECYCLE_EVENT_TYPES.map((type) => [type, { get: () => schemaOf(type), enumerable: true }]),
    ),
  );

/** The `detail` of a lifecycle event of type T. */
export type LifecycleEventDetail<T extends LifecycleEventType = LifecycleEventType> = z.output<
  DetailSchemas[T]
>;

type EnvelopeKey = keyof z.output<ReturnType<typeof envelope>>;

/**
 * What the builder needs beyond the incident and the context, by type: the per-type fields
 * (`LifecycleEventExtras['Incident Escalated']` is `{ level, step, paged }`).
 */
export type LifecycleEventExtras = {
  [T in LifecycleEventType]: Omit<LifecycleEventDetail<T>, EnvelopeKey | 'required'>;
};

/** The fields of the incident an event carries. An `Incident` is one. */
export type LifecycleIncident = Pick<Incident, 'id' | 'service' | 'title' | 'sev' | 'status' | 'detectedAt'>;

export interface LifecycleEventContext {
  /**
   * A stable key of the logical event, the same on every retry (e.g. the id of the timeline entry
   * that recorded it). The event id is derived from it, the type and the incident id.
   */
  readonly id: string;
  readonly occurredAt: string;
  readonly actor?: string;
  readonly serviceName: string;
  /** The config's time zone: dates the war-room name. */
  readonly timeZone: string;
  /**
   * The incident's page. Left out of the event unless it is an absolute http(s) URL (a local
   * runtime may not know its public URL yet): a link is not worth failing the use case for.
   */
  readonly url?: string;
}

/** Arguments of EventPublisher.publish. */
export interface LifecycleEvent<T extends LifecycleEventType = LifecycleEventType> {
  readonly detailType: T;
  readonly detail: LifecycleEventDetail<T>;
}

/**
 * The event id: 32 hex characters of SHA-256 over (type, incident id, key). Including the type
 * keeps two events recorded by one entry (Incident Resolved and Postmortem Due) apart.
 */
export function lifecycleEventId(type: LifecycleEventType, incidentId: string, key: string): string {
  const hash = createHash('sha256');
  for (const part of ['lifecycle', type, incidentId, key]) hash.update(part).update('\u0000');
  return hash.digest('hex').slice(0, 32);
}

/**
 * Builds a lifecycle event: pass the result's `detailType` and `detail` to EventPublisher.publish.
 * Pure and deterministic. The detail is validated against its schema, so an invalid one (a bug in
 * the caller) throws here instead of reaching subscribers.
 */
export function lifecycleEvent<T extends LifecycleEventType>(
  type: T,
  incident: LifecycleIncident,
  extras: LifecycleEventExtras[T],
  context: LifecycleEventContext,
): LifecycleEvent<T> {
  const candidate = {
    schemaVersion: LIFECYCLE_SCHEMA_VERSION,
    id: lifecycleEventId(type, incident.id, context.id),
    type,
    occurredAt: context.occurredAt,
    ...(context.actor === undefined ? {} : { actor: context.actor }),
    incident: {
      id: incident.id,
      service: incident.service,
      serviceName: context.serviceName,
      title: incident.title,
      severity: incident.sev,
      status: incident.status,
      detectedAt: incident.detectedAt,
      ...(context.url !== undefined && isAbsoluteUrl(context.url) ? { url: context.url } : {}),
      warRoom: warRoomName(incident.title, incident.detectedAt, context.timeZone),
    },
    ...extras,
    ...(type === 'Postmortem Due' ? { required: true } : {}),
  };
  const result = schemaOf(type).safeParse(candidate);
  if (!result.success) {
    throw new Error(`lifecycleEvent: invalid "${type}" detail: ${z.prettifyError(result.error)}`);
  }
  // Parsing strips keys the schema does not know, so the detail holds exactly the documented fields.
  return { detailType: type, detail: result.data as LifecycleEventDetail<T> };
}

function isAbsoluteUrl(url: string): boolean {
  return /^https?:\/\//i.test(url) && URL.canParse(url);
}

/** Validates a received detail of the given type; throws a ZodError naming the bad fields. */
export function parseLifecycleEventDetail<T extends LifecycleEventType>(
  type: T,
  detail: unknown,
): LifecycleEventDetail<T> {
  return schemaOf(type).parse(detail) as LifecycleEventDetail<T>;
}
