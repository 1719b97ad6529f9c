import * as z from 'zod/mini';
import {
  ActionItemCreateSchema,
  ActionItemUpdateSchema,
  ActorSchema,
  ChecklistTickSchema,
  CreateIncidentSchema,
  EscalateSchema,
  HandoffSchema,
  MitigateSchema,
  ResolveSchema,
  RoleAssignSchema,
  RoleRemoveSchema,
  SeverityChangeSchema,
  SnoozeSchema,
  TimelineNoteSchema,
} from '#core/commands';
import { AlertmanagerWebhookSchema } from '#formats/alertmanager';
import { EventsV2EventSchema } from '#formats/events-v2';
import { GrafanaWebhookSchema } from '#formats/grafana';
import { ApiErrorBody, IngestErrorBody } from './errors.ts';
import {
  ActionItemsQuery,
  CreateIntegration,
  CreateMaintenance,
  ExcludeBody,
  ListIncidentsQuery,
  OnCallQuery,
  OverrideBody,
  PostmortemQuery,
  RollupQuery,
} from './request-schemas.ts';

/**
 * The HTTP API's contract: the OpenAPI 3.1 document built from the request schemas (core/commands.ts
 * and request-schemas.ts) with z.toJSONSchema, so the document cannot drift from what the routes parse.
 * test/http/openapi.test.ts checks that every route of the app is documented and vice versa.
 */

// ---------------------------------------------------------------------------------------------
// The document

/** Request bodies, by component name, each with an example the schema accepts. */
export const REQUEST_BODIES = {
  CreateIncident: {
    schema: CreateIncidentSchema,
    example: {
      service: 'checkout',
      title: 'Checkout failing for EU users',
      impact: { usersAffectedPercent: 60 },
      who: 'alice',
    },
  },
  Actor: { schema: ActorSchema, example: { who: 'alice' } },
  Mitigate: { schema: MitigateSchema, example: { who: 'alice', note: 'Rolled back to v41' } },
  Escalate: { schema: EscalateSchema, example: { who: 'alice', from: 0 } },
  Resolve: { schema: ResolveSchema, example: { who: 'alice', now: false } },
  Snooze: { schema: SnoozeSchema, example: { who: 'alice', minutes: 120, from: null } },
  SeverityChange: {
    schema: SeverityChangeSchema,
    example: { severity: 'SEV-1', from: 'SEV-3', reason: 'All regions affected', who: 'alice' },
  },
  RoleAssign: {
    schema: RoleAssignSchema,
    example: { role: 'scribe', person: 'carol', from: null, who: 'alice' },
  },
  RoleRemove: { schema: RoleRemoveSchema, example: { from: 'carol', who: 'alice' } },
  Handoff: {
    schema: HandoffSchema,
    example: {
      to: 'bob',
      from: 'alice',
      who: 'alice',
      brief: {
        status: 'Error rate 5%, falling',
        tried: 'Restarted the pods; no change',
        strategy: 'Roll back the 14:02 deploy',
        people: 'carol (tech lead), dave (comms)',
        decisions: 'Status page updated at 14:30',
      },
    },
  },
  TimelineNote: {
    schema: TimelineNoteSchema,
    example: { type: 'DECISION', who: 'alice', text: 'Rollback deployment' },
  },
  ChecklistTick: { schema: ChecklistTickSchema, example: { who: 'alice', done: true } },
  ActionItemCreate: {
    schema: ActionItemCreateSchema,
    example: {
      action: 'Alert on error rate within 10 minutes of a deploy',
      owner: 'bob',
      deadline: '2026-12-15',
      category: 'Detect',
      who: 'alice',
    },
  },
  ActionItemUpdate: { schema: ActionItemUpdateSchema, example: { status: 'done', who: 'bob' } },
  Exclude: { schema: ExcludeBody, example: { excluded: true } },
  CreateIntegration: { schema: CreateIntegration, example: { service: 'checkout', name: 'Prometheus prod' } },
  CreateMaintenance: {
    schema: CreateMaintenance,
    example: { to: '2026-11-26T22:00:00Z', reason: 'Database upgrade' },
  },
  ScheduleOverride: {
    schema: OverrideBody,
    example: { from: '2026-11-27T09:00:00+01:00', to: '2026-11-28T09:00:00+01:00', responder: 'bob' },
  },
  EventsV2Event: {
    schema: EventsV2EventSchema,
    example: {
      routing_key: '0123456789abcdef0123456789abcdef',
      event_action: 'trigger',
      dedup_key: 'disk-full',
      payload: { summary: 'Disk 95% full on db-1', source: 'db-1', severity: 'critical' },
    },
  },
  AlertmanagerWebhook: {
    schema: AlertmanagerWebhookSchema,
    example: {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighErrorRate', severity: 'critical' },
          annotations: { summary: 'Error rate above 5%' },
          startsAt: '2026-11-26T13:20:00Z',
          fingerprint: '1a30ba71cca2921f',
        },
      ],
    },
  },
  GrafanaWebhook: {
    schema: GrafanaWebhookSchema,
    example: {
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'High memory usage' },
          annotations: { summary: 'Memory above 90%' },
          startsAt: '2026-11-26T13:20:00Z',
          fingerprint: 'c6eadffa33fcdf37',
        },
      ],
    },
  },
} as const satisfies Record<string, { schema: z.ZodMiniType; example: unknown }>;

export type RequestBodyName = keyof typeof REQUEST_BODIES;

/** Query strings, by component name. */
export const QUERIES = {
  ListIncidentsQuery,
  PostmortemQuery,
  ActionItemsQuery,
  OnCallQuery,
  RollupQuery,
} as const satisfies Record<string, z.ZodMiniType>;

type QueryName = keyof typeof QUERIES;

/** A zod schema as JSON Schema (2020-12, OpenAPI 3.1's dialect) of what a client sends. */
export function jsonSchemaOf(schema: z.ZodMiniType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

type Access = 'api' | 'public' | 'integration-key';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Operation {
  readonly method: Method;
  /** OpenAPI form: /api/incidents/{id}. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: RequestBodyName | readonly RequestBodyName[];
  readonly query?: QueryName;
  /** Success: status, description, and the top-level keys of a JSON body (none: no JSON body). */
  readonly ok: readonly [number, string, (readonly string[])?];
  /** Top-level keys of the success body that are there only sometimes (a page's `next`). */
  readonly optional?: readonly string[];
  /** 409 when the incident's state does not allow the command. */
  readonly conflict?: boolean;
  /**
   * 503 (retry): the same change sent twice at once (one request makes it, the other is told to
   * retry while it completes the effects), or the incident kept changing under the request.
   */
  readonly retry?: boolean;
  /** Extra content types of the success response (besides JSON). */
  readonly produces?: readonly string[];
}

const incident = (path = '') => `/api/incidents/{id}${path}`;
const COMMAND = ['incident', 'changed'] as const;

const command = (path: string, summary: string, body: RequestBodyName): Operation => ({
  method: 'post',
  path: incident(path),
  summary,
  tag: 'incident command',
  access: 'api',
  body,
  ok: [200, 'The incident after the command; `changed: false` when it was already so', COMMAND],
  conflict: true,
  retry: true,
});

/** Every operation of the app, in the order of the document. */
export const OPERATIONS: readonly Operation[] = [
  // Incident command
  {
    method: 'get',
    path: '/api/incidents',
    summary: 'List incidents, newest first',
    tag: 'incidents',
    access: 'api',
    query: 'ListIncidentsQuery',
    ok: [200, 'A page of incidents', ['incidents']],
  },
  {
    method: 'post',
    path: '/api/incidents',
    summary:
      'Declare an incident (severity given, or classified from the impact; given both, the more severe)',
    tag: 'incident command',
    access: 'api',
    body: 'CreateIncident',
    ok: [
      201,
      'The new incident, and the classification when the impact gave the severity (200: the one an earlier request with the same `key` created)',
      ['incident'],
    ],
    retry: true,
  },
  {
    method: 'get',
    path: incident(),
    summary:
      'An incident with its war room, timeline, checklist, runbooks, action items and postmortem status',
    tag: 'incidents',
    access: 'api',
    ok: [
      200,
      'The incident and everything about it',
      [
        'incident',
        'warRoom',
        'timeline',
        'rendered',
        'checklist',
        'runbooks',
        'actionItems',
        'postmortem',
        'timeZone',
      ],
    ],
  },
  command('/acknowledge', 'Acknowledge: escalation stops', 'Actor'),
  command('/mitigate', 'Mitigate: impact stopped', 'Mitigate'),
  {
    ...command(
      '/escalate',
      'Escalate now: the policy’s next step pages at once (`from`: the escalation step the client saw)',
      'Escalate',
    ),
    ok: [
      200,
      'The incident after the step, who it paged, and the contacts the throttle held (`held`: they get it in a digest); `changed: false` when the incident was already past `from`',
      ['incident', 'changed', 'paged', 'held'],
    ],
  },
  command(
    '/snooze',
    'Snooze an acknowledged incident: its acknowledgement lapses `minutes` from now instead of at the ack timeout (`from`: the `snooze.until` the client saw, null: none)',
    'Snooze',
  ),
  command(
    '/resolve',
    'Resolve: enters the monitoring period, or resolves at once with `now: true`',
    'Resolve',
  ),
  command('/severity', 'Change the severity (a raise re-pages with the severity’s policy)', 'SeverityChange'),
  {
    ...command('/roles', 'Assign a war-room role', 'RoleAssign'),
    ok: [
      200,
      'The incident after the command; `changed: false` when it was already so; `warning` when one person is now both incident commander and tech lead',
      COMMAND,
    ],
    optional: ['warning'],
  },
  {
    ...command(
      '/roles/{role}',
      'Take a war-room role away (`from`: who the client believes holds it)',
      'RoleRemove',
    ),
    method: 'delete',
  },
  {
    ...command('/roles/sme/{person}', 'Take a subject-matter expert off the list', 'Actor'),
    method: 'delete',
  },
  {
    ...command('/handoff', 'Hand incident command over, with the brief', 'Handoff'),
    ok: [
      200,
      'The incident after the handoff; `warning` when the new incident commander is the tech lead too',
      COMMAND,
    ],
    optional: ['warning'],
  },
  {
    method: 'post',
    path: incident('/timeline'),
    summary: 'Add a note to the timeline, rendered [HH:MM] [@who] [TYPE] text',
    tag: 'incident command',
    access: 'api',
    body: 'TimelineNote',
    ok: [
      201,
      'The entry and its rendering (200: the one an earlier request with the same `key` created)',
      ['entry', 'rendered'],
    ],
  },
  {
    method: 'get',
    path: incident('/checklist'),
    summary: 'The checklist by phase, with the overdue items',
    tag: 'incident command',
    access: 'api',
    ok: [200, 'The checklist and its text rendering', ['phases', 'overdue', 'rendered']],
  },
  {
    method: 'post',
    path: incident('/checklist/{item}'),
    summary: 'Tick (or untick) a checklist item (not one Klaxon ticks itself: 409 naming `item`)',
    tag: 'incident command',
    access: 'api',
    body: 'ChecklistTick',
    ok: [200, 'The incident and the checklist after the tick', ['incident', 'changed', 'checklist']],
    conflict: true,
    retry: true,
  },
  {
    method: 'get',
    path: incident('/postmortem'),
    summary: 'A blameless postmortem draft (Markdown; JSON with the blameless check’s findings)',
    tag: 'postmortems',
    access: 'api',
    query: 'PostmortemQuery',
    ok: [200, 'The draft; `Accept: application/json` for the JSON form', ['markdown', 'blame']],
    produces: ['text/markdown'],
  },
  {
    method: 'post',
    path: incident('/postmortem/publish'),
    summary: 'Mark the postmortem published',
    tag: 'postmortems',
    access: 'api',
    body: 'Actor',
    ok: [200, 'The incident after the command', COMMAND],
    conflict: true,
    retry: true,
  },
  {
    method: 'get',
    path: incident('/action-items'),
    summary: 'The incident’s action items',
    tag: 'postmortems',
    access: 'api',
    query: 'ActionItemsQuery',
    ok: [200, 'Oldest first; each with `overdue`: open past its deadline', ['actionItems']],
  },
  {
    method: 'post',
    path: incident('/action-items'),
    summary: 'Track an action item',
    tag: 'postmortems',
    access: 'api',
    body: 'ActionItemCreate',
    ok: [201, 'The new item (200: the one an earlier request with the same `key` created)', ['actionItem']],
  },
  {
    method: 'patch',
    path: incident('/action-items/{item}'),
    summary: 'Update an action item (done, owner, deadline)',
    tag: 'postmortems',
    access: 'api',
    body: 'ActionItemUpdate',
    ok: [200, 'The item after the update', ['actionItem']],
  },
  {
    method: 'get',
    path: '/api/action-items',
    summary: 'Action items across incidents, earliest deadline first',
    tag: 'postmortems',
    access: 'api',
    query: 'ActionItemsQuery',
    ok: [200, 'The items; each with `overdue`: open past its deadline', ['actionItems']],
  },
  {
    method: 'post',
    path: incident('/exclude'),
    summary: 'Leave an incident out of the metrics (a drill, a duplicate), or put it back',
    tag: 'incidents',
    access: 'api',
    body: 'Exclude',
    ok: [200, 'The incident', ['incident']],
  },
  // Operations
  {
    method: 'post',
    path: '/api/integrations',
    summary: 'Create an integration key for a service (returned once)',
    tag: 'operations',
    access: 'api',
    body: 'CreateIntegration',
    ok: [201, 'The key, shown only now', ['integrationKey', 'service', 'name', 'createdAt']],
  },
  {
    method: 'post',
    path: '/api/services/{service}/maintenance',
    summary: 'Start a maintenance window: alerts are recorded, nobody is paged',
    tag: 'operations',
    access: 'api',
    body: 'CreateMaintenance',
    ok: [201, 'The window, and the escalations it stopped', ['id', 'service', 'from', 'to', 'stopped']],
  },
  {
    method: 'get',
    path: '/api/services/{service}/maintenance',
    summary: 'Maintenance windows not yet ended',
    tag: 'operations',
    access: 'api',
    ok: [200, 'The windows', ['windows']],
  },
  {
    method: 'delete',
    path: '/api/services/{service}/maintenance/{id}',
    summary: 'End a maintenance window',
    tag: 'operations',
    access: 'api',
    ok: [204, 'Deleted'],
  },
  {
    method: 'post',
    path: '/api/schedules/{schedule}/overrides',
    summary: 'Override a schedule: who covers (whom), from–to',
    tag: 'operations',
    access: 'api',
    body: 'ScheduleOverride',
    ok: [
      201,
      'The override; `warning` when the person it replaces is not on call at any moment of it (it changes nothing)',
      ['id', 'scheduleId', 'from', 'to', 'responder'],
    ],
  },
  {
    method: 'get',
    path: '/api/schedules/{schedule}/overrides',
    summary: 'Overrides not yet ended',
    tag: 'operations',
    access: 'api',
    ok: [200, 'The overrides', ['overrides']],
  },
  {
    method: 'delete',
    path: '/api/schedules/{schedule}/overrides/{id}',
    summary: 'Delete an override',
    tag: 'operations',
    access: 'api',
    ok: [204, 'Deleted'],
  },
  {
    method: 'get',
    path: '/api/schedules/{schedule}/oncall',
    summary: 'Who is on call (now, or at `at`)',
    tag: 'operations',
    access: 'api',
    query: 'OnCallQuery',
    ok: [200, 'The responders on call', ['schedule', 'at', 'onCall']],
  },
  {
    method: 'get',
    path: '/api/rollups',
    summary: 'Nightly metric rollups of a period',
    tag: 'metrics',
    access: 'api',
    query: 'RollupQuery',
    ok: [
      200,
      'One row per day, service and severity, whole days oldest first while they fit one answer (3 MB of JSON); `next`, when present, is the first day left out: ask again with `from` set to it',
      ['rollups'],
    ],
    optional: ['next'],
  },
  // Ingest
  {
    method: 'post',
    path: '/v2/enqueue',
    summary: 'PagerDuty Events API v2 (the integration key is the routing_key)',
    tag: 'ingest',
    access: 'public',
    body: 'EventsV2Event',
    ok: [202, 'Event processed', ['status', 'message', 'dedup_key']],
  },
  ...(['/integrations/{kind}', '/integrations/{kind}/{key}'] as const).flatMap((path) =>
    (['post', 'put'] as const).map(
      (method): Operation => ({
        method,
        path,
        summary:
          'Alertmanager (`kind` alertmanager) or Grafana (`kind` grafana) webhook, body up to 4 MB (PUT: Grafana offers it)',
        tag: 'ingest',
        access: 'integration-key',
        body: ['AlertmanagerWebhook', 'GrafanaWebhook'],
        ok: [202, 'Alerts accepted', ['status', 'message', 'alerts']],
      }),
    ),
  ),
  ...(['/heartbeat/{id}', '/heartbeat/{id}/{key}'] as const).flatMap((path) =>
    (['get', 'post'] as const).map(
      (method): Operation => ({
        method,
        path,
        summary: 'Heartbeat ping: pushes the deadline forward (GET for plain `curl <url>` cron jobs)',
        tag: 'ingest',
        access: 'integration-key',
        ok: [202, 'Ping recorded', ['status']],
      }),
    ),
  ),
  {
    method: 'get',
    path: '/a/{token}',
    summary:
      "Acknowledge/resolve link from a page, or a digest's \"acknowledge all\": a confirmation form; a page's incident link: the incident, read-only, with the responder's Acknowledge/Resolve buttons while open (changes nothing)",
    tag: 'links',
    access: 'public',
    ok: [200, 'HTML confirmation form'],
    produces: ['text/html'],
  },
  {
    method: 'post',
    path: '/a/{token}',
    summary:
      'Acknowledge/resolve link: act (the confirmation form posts here). "Acknowledge all" answers 202 (out of time) or 503 (a failure) with a form that goes on from where it stopped. An incident link acts on nothing: 405',
    tag: 'links',
    access: 'public',
    ok: [200, 'HTML result page'],
    produces: ['text/html'],
  },
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness',
    tag: 'meta',
    access: 'public',
    ok: [200, 'Up', ['status']],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'meta',
    access: 'public',
    ok: [200, 'The OpenAPI 3.1 document', ['openapi', 'info', 'paths', 'components']],
  },
];

/** What a path parameter names, by its name and the path it is in. */
function describeParameter(name: string, path: string): string {
  const by: Record<string, string | undefined> = {
    id: path.startsWith('/api/incidents')
      ? 'The incident id'
      : path.includes('/maintenance/')
        ? 'The maintenance window id'
        : path.includes('/overrides/')
          ? 'The override id'
          : 'The heartbeat id (config `heartbeats`)',
    item: path.includes('/checklist/')
      ? 'The checklist item id, e.g. `notify-stakeholders`'
      : 'The action item id',
    role: 'A role one person holds: commander, tech-lead, comms-lead or scribe',
    person: 'A subject-matter expert of the incident (a responder id of the config)',
    service: 'A service id of the config',
    schedule: 'A schedule id of the config',
    kind: '`alertmanager` or `grafana`',
    key: 'The integration key (else in the Authorization header: Bearer, or Basic with the key as password)',
    token: 'The signed link token from a page',
  };
  return by[name] ?? name;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const ERRORS = {
  400: 'A field or query parameter is invalid or unknown: `errors` names each one',
  401: 'Not authenticated',
  404: 'The incident (or what else the path names) does not exist',
  409: 'The incident’s state does not allow this (`errors` names `status`; for a checklist item Klaxon ticks itself, `item`, with the command that ticks it), or it is no longer what the request expected: `from` (with the current value), `to` (a handoff to the commander there is)',
  413: 'Body larger than the route allows (Events v2: 512 KB; webhooks: 4 MB)',
  503: 'Retry (`Retry-After: 1`): another request is making the same change (the two sent at once) and completes it, or the incident kept changing under this one; nothing was changed by this request, and its retry answers the outcome',
} as const;

function responses(op: Operation): Record<string, unknown> {
  const [status, description, keys] = op.ok;
  const content: Record<string, unknown> = {};
  if (keys !== undefined) {
    content['application/json'] = {
      schema: {
        type: 'object',
        required: keys,
        properties: Object.fromEntries([...keys, ...(op.optional ?? [])].map((k) => [k, {}])),
      },
    };
  }
  for (const type of op.produces ?? []) content[type] = { schema: { type: 'string' } };
  const out: Record<string, unknown> = {
    [status]: { description, ...(Object.keys(content).length > 0 ? { content } : {}) },
  };
  const ingest = op.tag === 'ingest';
  const error = (code: keyof typeof ERRORS) => {
    out[code] = { $ref: `#/components/responses/${ingest ? 'Ingest' : ''}Error${code}` };
  };
  if (op.tag === 'links') return out;
  // An /api route refuses an unknown query parameter even where it takes no query or body.
  if (op.body !== undefined || op.query !== undefined || op.access === 'api') error(400);
  if (op.access !== 'public') error(401);
  if (op.path.includes('{')) error(404);
  if (op.conflict) error(409);
  if (op.retry) error(503);
  if (ingest && op.body !== undefined) error(413);
  return out;
}

function parameters(op: Operation): Record<string, unknown>[] {
  const inPath = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: describeParameter(name, op.path),
    schema: { type: 'string' },
  }));
  if (op.query === undefined) return inPath;
  const query = jsonSchemaOf(QUERIES[op.query]) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  const inQuery = Object.entries(query.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: query.required?.includes(name) ?? false,
    schema,
  }));
  return [...inPath, ...inQuery];
}

function requestBody(op: Operation): Record<string, unknown> | undefined {
  if (op.body === undefined) return undefined;
  const names: readonly RequestBodyName[] = typeof op.body === 'string' ? [op.body] : op.body;
  const [first] = names;
  return {
    required: true,
    content: {
      'application/json': {
        schema: names.length === 1 && first !== undefined ? ref(first) : { oneOf: names.map(ref) },
        ...(first !== undefined ? { example: REQUEST_BODIES[first].example } : {}),
      },
    },
  };
}

const SECURITY: Readonly<Record<Access, readonly Record<string, string[]>[]>> = {
  api: [{ sigv4: [] }, { bearer: [] }],
  public: [],
  // The key in the path needs no header: the empty requirement.
  'integration-key': [{ integrationKey: [] }, {}],
};

/** Built once, on first use. */
let built: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document of the app. */
export function openApiDocument(): Record<string, unknown> {
  built ??= build();
  return built;
}

function build(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const body = requestBody(op);
    const params = parameters(op);
    paths[op.path] ??= {};
    // biome-ignore lint/style/noNonNullAssertion: set just above
    paths[op.path]![op.method] = {
      operationId: operationId(op),
      summary: op.summary,
      tags: [op.tag],
      security: SECURITY[op.access],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: responses(op),
    };
  }
  const errorResponses = (kind: '' | 'Ingest', schema: string) =>
    Object.fromEntries(
      Object.entries(ERRORS).map(([code, description]) => [
        `${kind}Error${code}`,
        { description, content: { 'application/json': { schema: ref(schema) } } },
      ]),
    );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Klaxon',
      version: '0.1.0',
      description:
        'Alerts in, incidents out. Ingest endpoints authenticate with an integration key; `/api/*` is the ' +
        'management API (IAM-signed requests through API Gateway, a bearer token on the local runtime). ' +
        'Errors: `{message, errors: [{field, message}]}`; ingest errors keep PagerDuty’s shape.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [...new Set(OPERATIONS.map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        ...Object.fromEntries(
          Object.entries(REQUEST_BODIES).map(([name, { schema }]) => [name, jsonSchemaOf(schema)]),
        ),
        Error: jsonSchemaOf(ApiErrorBody),
        IngestError: jsonSchemaOf(IngestErrorBody),
      },
      responses: { ...errorResponses('', 'Error'), ...errorResponses('Ingest', 'IngestError') },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS Signature Version 4 (IAM): API Gateway’s IAM authorizer on /api/*.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The local runtime: `apiToken` in the data folder’s secrets.json (npm start prints it).',
        },
        integrationKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An integration key (`klaxon integrations create`), or Basic auth with it as password.',
        },
      },
    },
  };
}

/** `post /api/incidents/{id}/action-items/{item}` → `postIncidentsIdActionItemsItem`. */
function operationId(op: Operation): string {
  const words = op.path
    .replace(/^\/api\//, '/')
    .split(/[/{}.-]+/)
    .filter(Boolean);
  return op.method + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}
