import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifecycleEventJsonSchemas } from '#core/lifecycle-event-docs';
import {
  LIFECYCLE_EVENT_SCHEMAS,
  LIFECYCLE_EVENT_TYPES,
  LIFECYCLE_SCHEMA_VERSION,
  type LifecycleEventContext,
  type LifecycleEventDetail,
  type LifecycleEventExtras,
  type LifecycleEventType,
  type LifecycleIncident,
  lifecycleEvent,
  lifecycleEventId,
  parseLifecycleEventDetail,
} from '#core/lifecycle-events';
import { ALERT_DETAIL_TYPE, INGEST_SOURCE, KLAXON_SOURCE, ROUTES } from '#core/routing';
import { matchesPattern } from '../../lambdas/adapters/local/event-pattern.ts';
import { eventSchemaFiles, ROOT, SCHEMA_DIR, schemaFileName } from '../../scripts/event-schemas.ts';

// Detected 23:40 UTC, which is already the next day in Berlin: the war room is dated locally.
const incident: LifecycleIncident = {
  id: '7kq2mzx4ab3c',
  service: 'checkout',
  title: 'Checkout 5xx above 2%',
  sev: 'SEV-2',
  status: 'acknowledged',
  detectedAt: '2026-11-26T23:40:00.000Z',
};

const context: LifecycleEventContext = {
  id: 'entry-1',
  occurredAt: '2026-11-26T23:45:00.000Z',
  actor: 'alice',
  serviceName: 'Checkout',
  timeZone: 'Europe/Berlin',
  url: 'https://klaxon.example.com/api/incidents/7kq2mzx4ab3c',
};

const EXTRAS: LifecycleEventExtras = {
  'Incident Opened': {},
  'Incident Acknowledged': { acknowledgedAt: '2026-11-26T23:45:00.000Z' },
  'Incident Escalated': { level: 2, step: 1, paged: ['bob', 'carol'] },
  'Incident Severity Changed': {
    from: 'SEV-3',
    to: 'SEV-2',
    reason: 'Checkout down in EU',
    direction: 'raised',
  },
  'Incident Mitigated': { mitigatedAt: '2026-11-26T23:45:00.000Z' },
  'Incident Resolved': { resolvedAt: '2026-11-26T23:30:00.000Z', monitored: true },
  'Incident Reopened': { reopens: 1 },
  'Postmortem Due': { dueAt: '2026-11-28T23:30:00.000Z' },
  'Incident Status Updated': {
    update: 'EU checkout restored; watching error rates',
    postedAt: '2026-11-26T23:45:00.000Z',
  },
  'Incident Snoozed': { snoozedUntil: '2026-11-27T01:45:00.000Z', minutes: 120 },
};

const snapshot = {
  id: '7kq2mzx4ab3c',
  service: 'checkout',
  serviceName: 'Checkout',
  title: 'Checkout 5xx above 2%',
  severity: 'SEV-2',
  status: 'acknowledged',
  detectedAt: '2026-11-26T23:40:00.000Z',
  url: 'https://klaxon.example.com/api/incidents/7kq2mzx4ab3c',
  warRoom: '#incident-20261127-checkout-5xx-above-2',
} as const;

const common = {
  schemaVersion: '1.0',
  occurredAt: '2026-11-26T23:45:00.000Z',
  actor: 'alice',
  incident: snapshot,
} as const;

/**
 * Hand-written: what subscribers receive for the inputs above (also the shape docs/EVENTS.md
 * shows). The ids are pinned: a change to the id derivation would make a retry across a deploy
 * look like a new event to every subscriber.
 */
const EXAMPLES: { [T in LifecycleEventType]: LifecycleEventDetail<T> } = {
  'Incident Opened': { ...common, id: '5c4d68965b50dbe245cfd5f85393d9b8', type: 'Incident Opened' },
  'Incident Acknowledged': {
    ...common,
    id: '8cafe55c3791291dc6cfa28390ad85b6',
    type: 'Incident Acknowledged',
    acknowledgedAt: '2026-11-26T23:45:00.000Z',
  },
  'Incident Escalated': {
    ...common,
    id: '02ef9c8bb4a9756521953d3ac8ae2b14',
    type: 'Incident Escalated',
    level: 2,
    step: 1,
    paged: ['bob', 'carol'],
  },
  'Incident Severity Changed': {
    ...common,
    id: '35fd8050b3f5f431e900178be57fe9e5',
    type: 'Incident Severity Changed',
    from: 'SEV-3',
    to: 'SEV-2',
    reason: 'Checkout down in EU',
    direction: 'raised',
  },
  'Incident Mitigated': {
    ...common,
    id: '914cf97082ec183c78003a96c6b0de9f',
    type: 'Incident Mitigated',
    mitigatedAt: '2026-11-26T23:45:00.000Z',
  },
  'Incident Resolved': {
    ...common,
    id: 'd8e1509852a65cd29492466540e621d1',
    type: 'Incident Resolved',
    resolvedAt: '2026-11-26T23:30:00.000Z',
    monitored: true,
  },
  'Incident Reopened': {
    ...common,
    id: 'f7d6aaa9fda33be0511f9c157d81ea33',
    type: 'Incident Reopened',
    reopens: 1,
  },
  'Postmortem Due': {
    ...common,
    id: 'fbf09629a771a8b32bdcad72caca5a06',
    type: 'Postmortem Due',
    dueAt: '2026-11-28T23:30:00.000Z',
    required: true,
  },
  'Incident Status Updated': {
    ...common,
    id: '73109355938261d6c6259a25ecc1032c',
    type: 'Incident Status Updated',
    update: 'EU checkout restored; watching error rates',
    postedAt: '2026-11-26T23:45:00.000Z',
  },
  'Incident Snoozed': {
    ...common,
    id: '31532b33f55555f53d158b0424f7ab1e',
    type: 'Incident Snoozed',
    snoozedUntil: '2026-11-27T01:45:00.000Z',
    minutes: 120,
  },
};

const build = <T extends LifecycleEventType>(type: T, ctx: LifecycleEventContext = context) =>
  lifecycleEvent(type, incident, EXTRAS[type], ctx);

/** The issue paths zod reports for a detail, as `a.b` strings. */
function issuePaths(type: LifecycleEventType, detail: unknown): string[] {
  const result = LIFECYCLE_EVENT_SCHEMAS[type].safeParse(detail);
  return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
}

/** The subset of JSON Schema the published schemas use for objects: required and known keys. */
function checkAgainstJsonSchema(schema: Record<string, unknown>, value: unknown, at = ''): string[] {
  if (schema.type !== 'object') return [];
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const object = value as Record<string, unknown>;
  const problems = ((schema.required ?? []) as string[])
    .filter((key) => !(key in object))
    .map((key) => `${at}${key} missing`);
  for (const [key, v] of Object.entries(object)) {
    const property = properties[key];
    if (property === undefined) problems.push(`${at}${key} not in the schema`);
    else problems.push(...checkAgainstJsonSchema(property, v, `${at}${key}.`));
  }
  return problems;
}

describe('lifecycle event types', () => {
  it('are the ten documented detail-types, at schema version 1.0', () => {
    expect(LIFECYCLE_EVENT_TYPES).toEqual([
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
    ]);
    expect(LIFECYCLE_SCHEMA_VERSION).toBe('1.0');
    expect(Object.keys(LIFECYCLE_EVENT_SCHEMAS).sort()).toEqual([...LIFECYCLE_EVENT_TYPES].sort());
  });

  it('never match a route that feeds process-alert, so they cannot loop back as alerts', () => {
    for (const type of LIFECYCLE_EVENT_TYPES) {
      const event = { source: KLAXON_SOURCE, 'detail-type': type, detail: build(type).detail };
      for (const route of ROUTES) {
        expect(matchesPattern(route.pattern, event), `${type} matches route ${route.id}`).toBe(false);
      }
    }
    // The matcher does match what these routes are for.
    const alert = { source: INGEST_SOURCE, 'detail-type': ALERT_DETAIL_TYPE, detail: {} };
    expect(ROUTES.some((r) => r.target === 'processAlert' && matchesPattern(r.pattern, alert))).toBe(true);
  });

  it('are all described in docs/EVENTS.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/EVENTS.md'), 'utf8');
    for (const type of LIFECYCLE_EVENT_TYPES) {
      expect(doc, `docs/EVENTS.md has no "### ${type}"`).toContain(`### ${type}\n`);
      expect(doc).toContain(`events/${schemaFileName(type)}`);
    }
  });
});

describe('lifecycleEvent', () => {
  it.each(LIFECYCLE_EVENT_TYPES)(
    'builds "%s" exactly as the hand-written example, valid by its schema',
    (type) => {
      const event = build(type);
      const example = EXAMPLES[type];
      expect(event.detailType).toBe(type);
      expect(event.detail).toEqual(example);
      expect(LIFECYCLE_EVENT_SCHEMAS[type].safeParse(event.detail).success).toBe(true);
      expect(parseLifecycleEventDetail(type, example)).toEqual(example);
      // And the published JSON Schema agrees on which keys there are.
      const jsonSchema = lifecycleEventJsonSchemas()[type] as Record<string, unknown>;
      expect(checkAgainstJsonSchema(jsonSchema, event.detail)).toEqual([]);
      expect(JSON.parse(JSON.stringify(event.detail))).toEqual(event.detail);
    },
  );

  it('leaves actor and url out when unknown, and url when it is not absolute', () => {
    const { actor: _, url: __, ...bare } = context;
    const detail = build('Incident Opened', bare).detail;
    expect(detail).not.toHaveProperty('actor');
    expect(detail.incident).not.toHaveProperty('url');
    const relative = build('Incident Opened', { ...context, url: '/api/incidents/7kq2mzx4ab3c' }).detail;
    expect(relative.incident).not.toHaveProperty('url');
    expect(LIFECYCLE_EVENT_SCHEMAS['Incident Opened'].safeParse(detail).success).toBe(true);
  });

  it('drops fields the schema does not know', () => {
    const extras = { ...EXTRAS['Incident Reopened'], internal: 'x' };
    expect(lifecycleEvent('Incident Reopened', incident, extras, context).detail).not.toHaveProperty(
      'internal',
    );
  });

  it('types the extras per event type, and throws on what the types would not allow', () => {
    expect(() =>
      // @ts-expect-error: Severity Changed needs to, reason and direction
      lifecycleEvent('Incident Severity Changed', incident, { from: 'SEV-3' }, context),
    ).toThrow(/at to\n[\s\S]*at reason\n[\s\S]*at direction$/);
    expect(() =>
      // @ts-expect-error: level must be a number
      lifecycleEvent('Incident Escalated', incident, { level: '2', step: 1, paged: [] }, context),
    ).toThrow(/at level$/);
    expect(() =>
      // @ts-expect-error: Opened's extras do not fit Acknowledged
      lifecycleEvent('Incident Acknowledged', incident, EXTRAS['Incident Opened'], context),
    ).toThrow(/at acknowledgedAt$/);
  });

  it('throws on an invalid detail, naming the field', () => {
    expect(() => build('Incident Opened', { ...context, occurredAt: 'yesterday' })).toThrow(/at occurredAt$/);
    expect(() => build('Incident Opened', { ...context, serviceName: '' })).toThrow(
      /at incident\.serviceName$/,
    );
    expect(() =>
      lifecycleEvent('Incident Escalated', incident, { level: 0, step: 1, paged: [] }, context),
    ).toThrow(/at level$/);
    expect(() =>
      lifecycleEvent(
        'Incident Severity Changed',
        incident,
        { from: 'SEV-3', to: 'SEV-2', reason: 'x', direction: 'lowered' },
        context,
      ),
    ).toThrow(/SEV-3 → SEV-2 is raised, not lowered\n\s*→ at direction$/);
  });
});

describe('the detail schemas', () => {
  it.each([
    ['Incident Opened', 'schemaVersion', { schemaVersion: '2.0' }],
    ['Incident Opened', 'type', { type: 'Incident Resolved' }],
    ['Incident Opened', 'id', { id: '' }],
    ['Incident Opened', 'occurredAt', { occurredAt: '2026-11-26 23:45' }],
    ['Incident Opened', 'actor', { actor: '' }],
    ['Incident Opened', 'incident.severity', { incident: { ...snapshot, severity: 'SEV-5' } }],
    ['Incident Opened', 'incident.status', { incident: { ...snapshot, status: 'closed' } }],
    ['Incident Opened', 'incident.warRoom', { incident: { ...snapshot, warRoom: undefined } }],
    ['Incident Opened', 'incident.url', { incident: { ...snapshot, url: 'not a url' } }],
    ['Incident Acknowledged', 'acknowledgedAt', { acknowledgedAt: undefined }],
    ['Incident Escalated', 'level', { level: 1.5 }],
    ['Incident Escalated', 'step', { step: -1 }],
    ['Incident Escalated', 'paged', { paged: 'bob' }],
    ['Incident Severity Changed', 'to', { to: 'SEV-3' }],
    ['Incident Severity Changed', 'direction', { direction: 'lowered' }],
    ['Incident Severity Changed', 'reason', { reason: '' }],
    ['Incident Mitigated', 'mitigatedAt', { mitigatedAt: 12 }],
    ['Incident Resolved', 'monitored', { monitored: 'yes' }],
    ['Incident Reopened', 'reopens', { reopens: 0 }],
    ['Postmortem Due', 'required', { required: false }],
    ['Postmortem Due', 'dueAt', { dueAt: undefined }],
  ] as const)('refuse a bad "%s" detail, naming %s', (type, field, change) => {
    expect(issuePaths(type, EXAMPLES[type])).toEqual([]);
    expect(issuePaths(type, { ...EXAMPLES[type], ...change })).toEqual([field]);
  });

  it('accept a later 1.x detail with new optional fields (additive changes only within 1.x)', () => {
    const later = {
      ...EXAMPLES['Incident Escalated'],
      schemaVersion: '1.3',
      policy: 'checkout-primary',
      incident: { ...snapshot, team: 'payments' },
    };
    expect(issuePaths('Incident Escalated', later)).toEqual([]);
  });
});

describe('event ids', () => {
  it('are the same for the same logical event, whatever else the retry sees', () => {
    for (const type of LIFECYCLE_EVENT_TYPES) {
      const retry = build(type, { ...context, occurredAt: '2026-11-26T23:46:00.000Z', actor: 'bob' });
      expect(build(type).detail.id).toBe(build(type).detail.id);
      expect(retry.detail.id).toBe(build(type).detail.id);
    }
    expect(lifecycleEventId('Incident Opened', 'i', 'k')).toBe(lifecycleEventId('Incident Opened', 'i', 'k'));
    expect(lifecycleEventId('Incident Opened', 'i', 'k')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('differ between events: another key, another incident, another type with the same key', () => {
    const ids = new Set([
      ...LIFECYCLE_EVENT_TYPES.map((type) => build(type).detail.id),
      build('Incident Opened', { ...context, id: 'entry-2' }).detail.id,
      lifecycleEvent('Incident Opened', { ...incident, id: 'other' }, {}, context).detail.id,
    ]);
    expect(ids.size).toBe(LIFECYCLE_EVENT_TYPES.length + 2);
    // Resolved and Postmortem Due are usually recorded by one timeline entry.
    expect(build('Incident Resolved').detail.id).not.toBe(build('Postmortem Due').detail.id);
  });
});

describe(`the JSON Schemas in ${SCHEMA_DIR}`, () => {
  const STALE = `${SCHEMA_DIR} is out of date: run \`npm run schemas\` (npx tsx scripts/event-schemas.ts) and commit the result`;

  it('are exactly the generated ones (one per type, same content)', () => {
    const files = eventSchemaFiles();
    const committed = readdirSync(path.join(ROOT, SCHEMA_DIR)).filter((f) => f.endsWith('.schema.json'));
    expect(committed.sort(), STALE).toEqual(files.map((f) => path.basename(f.path)).sort());
    for (const file of files) {
      const onDisk = JSON.parse(readFileSync(path.join(ROOT, file.path), 'utf8'));
      expect(onDisk, `${file.path}: ${STALE}`).toEqual(file.schema);
    }
  });

  it('describe each type with its title, required fields and no closed objects', () => {
    const schemas = lifecycleEventJsonSchemas();
    for (const type of LIFECYCLE_EVENT_TYPES) {
      const schema = schemas[type];
      expect(schema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: type,
        type: 'object',
        properties: { type: { const: type } },
      });
      expect(schema.required).toEqual(
        expect.arrayContaining(['schemaVersion', 'id', 'type', 'occurredAt', 'incident']),
      );
      expect(JSON.stringify(schema)).not.toContain('additionalProperties');
    }
  });
});
