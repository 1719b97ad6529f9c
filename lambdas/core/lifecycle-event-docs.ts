import * as z from 'zod/mini';
import {
  LIFECYCLE_EVENT_SCHEMAS,
  LIFECYCLE_EVENT_TYPES,
  type LifecycleEventType,
} from './lifecycle-events.ts';

/**
 * What each lifecycle event and field means: the documentation of the contract whose schemas are
 * in lifecycle-events.ts, joined to them when the JSON Schemas in docs/events are generated
 * (`npm run schemas`). Kept apart from the schemas so that the functions, which only build and
 * validate events, do not bundle it.
 */

/** The fields every event has. */
const ENVELOPE: Readonly<Record<string, string>> = {
  schemaVersion: '"1.0" today; any "1.x" only adds optional fields.',
  id: 'Event id: a retry of the same logical event has the same id. De-duplicate on it.',
  type: 'The event type, equal to the EventBridge detail-type.',
  occurredAt: 'When the change happened (order events by this, not by arrival).',
  actor: 'Who caused it: a responder id, or the alert source.',
  incident: 'The incident as of the event.',
};

/** The incident snapshot's fields. */
const INCIDENT: Readonly<Record<string, string>> = {
  id: 'Incident id (stable, 12 characters).',
  service: 'Service id from the config.',
  serviceName: 'Display name of the service.',
  title: 'Title: the summary of the alert that opened the incident.',
  severity: 'The incident severity now, SEV-1 (worst) to SEV-4.',
  status: 'The incident status now.',
  detectedAt: 'When Klaxon opened the incident.',
  url: "The incident's page in Klaxon, when a public URL is known.",
  warRoom: 'The war-room channel name, `#incident-YYYYMMDD-<slug>`.',
};

/** Each type: what it announces, and its own fields. */
const TYPES: Readonly<Record<LifecycleEventType, { description: string; fields: Record<string, string> }>> = {
  'Incident Opened': {
    description: 'A new incident, published after its first page went out.',
    fields: {},
  },
  'Incident Acknowledged': {
    description: 'A responder acknowledged the incident.',
    fields: { acknowledgedAt: 'When it was acknowledged.' },
  },
  'Incident Escalated': {
    description:
      'An escalation step beyond the first page ran and paged responders: at its time, or at once because a person escalated (`actor`).',
    fields: {
      level: 'The escalation level paged (1 again after an ack-timeout restart).',
      step: 'The escalation step that ran.',
      paged: 'Ids of the responders paged by this step.',
      snoozedUntil:
        'Present when this is the restart at the end of a snooze (the incident stayed unresolved through it): when the snooze ended.',
    },
  },
  'Incident Severity Changed': {
    description: 'A person raised or lowered the severity, with a reason.',
    fields: {
      from: 'The severity before.',
      to: 'The severity after.',
      reason: 'Why, as the person wrote it.',
      direction: 'raised: towards SEV-1 (more severe); lowered: towards SEV-4.',
    },
  },
  'Incident Mitigated': {
    description: 'Impact stopped; escalation stops.',
    fields: { mitigatedAt: 'When impact stopped.' },
  },
  'Incident Resolved': {
    description: 'Resolved now, or at the quiet end of its monitoring period.',
    fields: {
      resolvedAt: 'When service was restored (the resolve request).',
      monitored: 'true when it ended a quiet monitoring period; false for a resolve without one.',
    },
  },
  'Incident Reopened': {
    description: 'A re-trigger during monitoring reopened the incident.',
    fields: { reopens: 'How often the incident has been reopened, this one included.' },
  },
  'Postmortem Due': {
    description:
      "A SEV-1 or SEV-2 incident was resolved (or one lowered from SEV-1/2 after its impact stopped, or any incident while its service's error budget for the month is exhausted), or a resolved one raised to SEV-1/2: its postmortem is due 48 hours later.",
    fields: {
      dueAt: 'When the postmortem is due: 48 hours after resolution, or after the raise that required it.',
      required: 'Always true: only incidents that require a postmortem publish this.',
      errorBudgetMonth:
        "YYYY-MM: present when the incident was resolved after its service's error budget for that month was recorded exhausted, which requires a postmortem whatever the severity.",
      impactSeverity:
        'SEV-1 or SEV-2: present when the incident was lowered after its impact stopped (mitigated, or in its monitoring period): the severity it held then, which requires the postmortem (`incident.severity` is the lowered one).',
    },
  },
  'Incident Status Updated': {
    description:
      'A person posted a status update (an UPDATE timeline entry) for stakeholders; `actor` is who posted it.',
    fields: {
      update: 'The update, as the person wrote it.',
      postedAt: 'When it was posted (the timeline entry’s time).',
    },
  },
  'Incident Snoozed': {
    description:
      'A person (`actor`) snoozed the acknowledged incident: its acknowledgement lapses at `snoozedUntil` instead of at the ack timeout, and then escalation restarts from level 1 (an Incident Escalated with `snoozedUntil`).',
    fields: {
      snoozedUntil:
        'When the snooze ends: unless resolved or mitigated by then, the incident is triggered again.',
      minutes: 'How long it was snoozed for.',
    },
  },
};

/** What the published JSON Schemas say a timestamp is (zod's own pattern also checks the calendar). */
const ISO_UTC_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$';

type JsonSchema = z.core.JSONSchema.BaseSchema;

/**
 * JSON Schema (draft 2020-12) of each type's detail, as published in docs/events. Input mode: no
 * `additionalProperties: false`, so a 1.0 validator accepts 1.x details with new optional fields.
 * Refinements (the severity direction) are not expressible and are left out. Every field carries
 * its description; a field without one fails here, so a new field cannot go undocumented.
 */
export function lifecycleEventJsonSchemas(): Record<LifecycleEventType, JsonSchema> {
  const schemas: Partial<Record<LifecycleEventType, JsonSchema>> = {};
  for (const type of LIFECYCLE_EVENT_TYPES) {
    const schema = z.toJSONSchema(LIFECYCLE_EVENT_SCHEMAS[type], {
      io: 'input',
      override: ({ jsonSchema }) => {
        if (jsonSchema.format === 'date-time') jsonSchema.pattern = ISO_UTC_PATTERN;
      },
    });
    const { description, fields } = TYPES[type];
    annotate(schema, { ...ENVELOPE, ...fields }, type);
    annotate(propertyOf(schema, 'incident', type), INCIDENT, `${type}: incident`);
    schemas[type] = { ...schema, title: type, description };
  }
  return schemas as Record<LifecycleEventType, JsonSchema>;
}

/** Sets each property's description; throws for a property that has none. */
function annotate(schema: JsonSchema, descriptions: Readonly<Record<string, string>>, where: string): void {
  for (const name of Object.keys(schema.properties ?? {})) {
    const text = descriptions[name];
    if (text === undefined) throw new Error(`lifecycle event docs: ${where}.${name} has no description`);
    propertyOf(schema, name, where).description = text;
  }
}

function propertyOf(schema: JsonSchema, name: string, where: string): JsonSchema {
  const property = schema.properties?.[name];
  if (property === undefined || typeof property === 'boolean')
    throw new Error(`lifecycle event docs: ${where} has no property ${name}`);
  return property;
}
