import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { LocalEventBus } from '#adapters/local/event-bus';
import {
  ActionItemCreateSchema,
  ActionItemUpdateSchema,
  ActorSchema,
  ChecklistTickSchema,
  CreateIncidentSchema,
  HandoffSchema,
  MitigateSchema,
  ResolveSchema,
  RoleAssignSchema,
  RoleRemoveSchema,
  SeverityChangeSchema,
  TimelineNoteSchema,
} from '#core/commands';
import { parseConfig } from '#core/config';
import { EventsV2EventSchema } from '#formats/events-v2';
import { createHttpApp, type HttpAppDeps } from '#http/app';
import { ApiErrorBody, IngestErrorBody } from '#http/errors';
import { OPERATIONS, openApiDocument, QUERIES, REQUEST_BODIES } from '#http/openapi';
import { ROUTE_QUERIES } from '#http/request-schemas';

/**
 * The OpenAPI document against the app it describes: the same routes both ways, request schemas
 * that are exactly z.toJSONSchema of what the routes parse, and a document valid enough for tools.
 */

type Json = Record<string, unknown>;
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Json>;
    responses: Record<string, Json>;
    securitySchemes: Record<string, Json>;
  };
}
interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: Json }[];
  requestBody?: { content: { 'application/json': { schema: Json; example: unknown } } };
  responses: Record<string, Json>;
}

const TOKEN = 'test-token-0123456789';
const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

let app: Hono;
const doc = openApiDocument() as unknown as Document;

beforeAll(() => {
  // Listing routes and serving the document touch no port: the ports are left out.
  const deps = {
    config: parseConfig({ timeZone: 'Europe/Berlin', services: [{ id: 'checkout', name: 'Checkout' }] }),
    clock: () => new Date('2026-11-26T10:00:00.000Z'),
    bus: new LocalEventBus(),
    apiAuth: bearerAuth({ token: TOKEN }),
  } as unknown as HttpAppDeps;
  app = createHttpApp(deps);
});

/** `/heartbeat/:id/:key?` → `/heartbeat/{id}` and `/heartbeat/{id}/{key}`. */
function openApiPaths(honoPath: string): string[] {
  const segments = honoPath.split('/');
  const last = segments.at(-1) ?? '';
  const convert = (parts: string[]) => parts.map((p) => p.replace(/^:(\w+)\??$/, '{$1}')).join('/');
  if (last.startsWith(':') && last.endsWith('?')) return [convert(segments.slice(0, -1)), convert(segments)];
  return [convert(segments)];
}

const documented = () =>
  Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();

const registered = () =>
  [
    ...new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        .flatMap((r) => openApiPaths(r.path).map((path) => `${r.method} ${path}`)),
    ),
  ].sort();

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );

/** Resolves a local `$ref` (`#/components/schemas/X`). */
function resolve<T = Json>(node: Json): T {
  const target = node.$ref;
  if (typeof target !== 'string') return node as T;
  let at: unknown = doc;
  for (const part of target.replace(/^#\//, '').split('/')) at = (at as Json)[part];
  if (at === undefined) throw new Error(`unresolved ${target}`);
  return at as T;
}

/**
 * A JSON Schema (2020-12) check of the keywords z.toJSONSchema emits; any other keyword fails
 * loudly rather than being skipped.
 */
function valid(schema: Json, value: unknown): boolean {
  const s = resolve(schema);
  const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  const typeOk = (t: string) =>
    t === 'null'
      ? value === null
      : t === 'integer'
        ? Number.isInteger(value)
        : t === 'array'
          ? Array.isArray(value)
          : t === 'object'
            ? isObject(value)
            : typeof value === t;
  for (const [keyword, arg] of Object.entries(s)) {
    const ok = (() => {
      switch (keyword) {
        case 'type':
          return (Array.isArray(arg) ? arg : [arg]).some((t) => typeOk(String(t)));
        case 'enum':
          return (arg as unknown[]).includes(value);
        case 'const':
          return value === arg;
        case 'pattern':
          return typeof value !== 'string' || new RegExp(String(arg)).test(value);
        case 'minLength':
          return typeof value !== 'string' || [...value].length >= Number(arg);
        case 'maxLength':
          return typeof value !== 'string' || [...value].length <= Number(arg);
        case 'minimum':
          return typeof value !== 'number' || value >= Number(arg);
        case 'maximum':
          return typeof value !== 'number' || value <= Number(arg);
        case 'required':
          return !isObject(value) || (arg as string[]).every((k) => Object.hasOwn(value, k));
        case 'properties':
          return (
            !isObject(value) ||
            Object.entries(arg as Record<string, Json>).every(
              ([k, sub]) => !Object.hasOwn(value, k) || valid(sub, value[k]),
            )
          );
        case 'additionalProperties': {
          if (!isObject(value)) return true;
          const known = new Set(Object.keys((s.properties as Json | undefined) ?? {}));
          const extra = Object.keys(value).filter((k) => !known.has(k));
          return arg === false ? extra.length === 0 : extra.every((k) => valid(arg as Json, value[k]));
        }
        case 'propertyNames':
          return !isObject(value) || Object.keys(value).every((k) => valid(arg as Json, k));
        case 'items':
          return !Array.isArray(value) || value.every((v) => valid(arg as Json, v));
        case 'anyOf':
          return (arg as Json[]).some((sub) => valid(sub, value));
        case 'oneOf':
          return (arg as Json[]).filter((sub) => valid(sub, value)).length === 1;
        case 'format':
        case 'default':
        case 'description':
          return true;
        default:
          throw new Error(`the test's validator does not know the keyword ${keyword}`);
      }
    })();
    if (!ok) return false;
  }
  return true;
}

const jsonSchema = (schema: z.ZodMiniType) => {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Json;
  expect($schema).toBe('https://json-schema.org/draft/2020-12/schema');
  return rest;
};

describe('the OpenAPI document and the app', () => {
  it('documents every route the app registers, and nothing it does not', () => {
    expect(registered().length).toBeGreaterThan(30);
    expect(documented()).toEqual(registered());
  });

  it('is served publicly at /openapi.json', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(doc);
  });

  it('puts every /api operation behind sigv4 or bearer, with a 401, and the public ones behind nothing', () => {
    for (const { path, method, op } of operations()) {
      if (path.startsWith('/api/')) {
        expect(op.security, `${method} ${path}`).toEqual([{ sigv4: [] }, { bearer: [] }]);
        expect(op.responses['401'], `${method} ${path}`).toEqual({ $ref: '#/components/responses/Error401' });
      } else if (path.startsWith('/integrations/') || path.startsWith('/heartbeat/')) {
        expect(op.security).toEqual([{ integrationKey: [] }, {}]);
      } else {
        expect(op.security, `${method} ${path}`).toEqual([]);
      }
    }
  });
});

describe('request schemas come from the zod schemas the routes parse', () => {
  /** Operation → the zod schema its route parses (from core, imported here independently). */
  const BODIES: [string, string, z.ZodMiniType][] = [
    ['post', '/api/incidents', CreateIncidentSchema],
    ['post', '/api/incidents/{id}/acknowledge', ActorSchema],
    ['post', '/api/incidents/{id}/mitigate', MitigateSchema],
    ['post', '/api/incidents/{id}/resolve', ResolveSchema],
    ['post', '/api/incidents/{id}/severity', SeverityChangeSchema],
    ['post', '/api/incidents/{id}/roles', RoleAssignSchema],
    ['delete', '/api/incidents/{id}/roles/{role}', RoleRemoveSchema],
    ['delete', '/api/incidents/{id}/roles/sme/{person}', ActorSchema],
    ['post', '/api/incidents/{id}/handoff', HandoffSchema],
    ['post', '/api/incidents/{id}/timeline', TimelineNoteSchema],
    ['post', '/api/incidents/{id}/checklist/{item}', ChecklistTickSchema],
    ['post', '/api/incidents/{id}/postmortem/publish', ActorSchema],
    ['post', '/api/incidents/{id}/action-items', ActionItemCreateSchema],
    ['patch', '/api/incidents/{id}/action-items/{item}', ActionItemUpdateSchema],
    ['post', '/v2/enqueue', EventsV2EventSchema],
  ];

  it.each(BODIES)(
    '%s %s: the body schema is z.toJSONSchema of the route’s schema',
    (method, path, schema) => {
      const body = doc.paths[path]?.[method]?.requestBody?.content['application/json'];
      expect(body, `${method} ${path}`).toBeDefined();
      expect(resolve(body?.schema ?? {})).toEqual(jsonSchema(schema));
      // The document's example is a valid request.
      expect(schema.safeParse(body?.example).success).toBe(true);
    },
  );

  it.each(Object.entries(REQUEST_BODIES))(
    '%s: the example passes zod and the JSON Schema alike',
    (name, body) => {
      const component = doc.components.schemas[name] ?? {};
      expect(component).toEqual(jsonSchema(body.schema));
      expect(body.schema.safeParse(body.example).success).toBe(true);
      expect(valid(component, body.example)).toBe(true);
      // And they agree on what they refuse.
      for (const bad of [{}, null, [], { ...(body.example as Json), unexpected: 1 }]) {
        const viaZod = body.schema.safeParse(bad).success;
        if (viaZod) continue; // JSON Schema cannot express every refinement; zod may refuse more.
        expect(valid(component, bad), `${name} ${JSON.stringify(bad)}`).toBe(false);
      }
    },
  );

  it('the document refuses what the routes refuse: severity SEV-5, a brief without tried', () => {
    expect(
      valid(doc.components.schemas.SeverityChange ?? {}, { severity: 'SEV-5', reason: 'x', who: 'a' }),
    ).toBe(false);
    expect(
      valid(doc.components.schemas.Handoff ?? {}, {
        to: 'bob',
        who: 'alice',
        brief: { status: 's', strategy: 's', people: 'p', decisions: 'd' },
      }),
    ).toBe(false);
  });

  it('query parameters are the properties of the query schemas', () => {
    const queryOf: Record<string, keyof typeof QUERIES> = {
      'get /api/incidents': 'ListIncidentsQuery',
      'get /api/incidents/{id}/postmortem': 'PostmortemQuery',
      'get /api/incidents/{id}/action-items': 'ActionItemsQuery',
      'get /api/action-items': 'ActionItemsQuery',
      'get /api/schedules/{schedule}/oncall': 'OnCallQuery',
      'get /api/rollups': 'RollupQuery',
    };
    for (const [key, name] of Object.entries(queryOf)) {
      const [method = '', path = ''] = key.split(' ');
      const schema = jsonSchema(QUERIES[name]) as { properties: Record<string, Json>; required?: string[] };
      const params = (doc.paths[path]?.[method]?.parameters ?? []).filter((p) => p.in === 'query');
      expect(params, key).toEqual(
        Object.entries(schema.properties).map(([n, s]) => ({
          name: n,
          in: 'query',
          required: schema.required?.includes(n) ?? false,
          schema: s,
        })),
      );
    }
    const status = doc.paths['/api/action-items']?.get?.parameters?.[0]?.schema;
    expect(status).toEqual({ type: 'string', enum: ['open', 'done'] });
    expect(doc.paths['/api/rollups']?.get?.parameters?.filter((p) => p.required).map((p) => p.name)).toEqual([
      'from',
      'to',
    ]);
  });

  it('the routes that take a query are the documented ones, with its schema; the other /api ones take none (400)', () => {
    const routes = Object.entries(ROUTE_QUERIES).flatMap(([key, schema]) => {
      const [method = '', path = ''] = key.split(' ');
      return openApiPaths(path).map((p) => [`${method.toLowerCase()} ${p}`, schema] as const);
    });
    const documentedQueries = OPERATIONS.flatMap((op) =>
      op.query === undefined ? [] : [[`${op.method} ${op.path}`, QUERIES[op.query]] as const],
    );
    expect(routes.map(([key]) => key).sort()).toEqual(documentedQueries.map(([key]) => key).sort());
    for (const [key, schema] of routes) {
      expect(schema, key).toBe(documentedQueries.find(([k]) => k === key)?.[1]);
    }
    for (const { path, method, op } of operations()) {
      if (path.startsWith('/api/')) expect(op.responses['400'], `${method} ${path}`).toBeDefined();
    }
  });

  it('error responses carry the error bodies the app sends', () => {
    expect(doc.components.schemas.Error).toEqual(jsonSchema(ApiErrorBody));
    expect(doc.components.schemas.IngestError).toEqual(jsonSchema(IngestErrorBody));
    for (const code of ['400', '401', '404', '409', '503']) {
      const response = doc.components.responses[`Error${code}`] as {
        content: { 'application/json': { schema: Json } };
      };
      expect(response.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
    const severity = doc.paths['/api/incidents/{id}/severity']?.post?.responses ?? {};
    expect(Object.keys(severity).sort()).toEqual(['200', '400', '401', '404', '409', '503']);
    // The same change twice at once: the second is told to retry (503). A client generated from
    // the document knew only the other statuses.
    for (const [method, path] of [
      ['post', '/api/incidents'],
      ['post', '/api/incidents/{id}/severity'],
      ['post', '/api/incidents/{id}/roles'],
      ['post', '/api/incidents/{id}/handoff'],
      ['delete', '/api/incidents/{id}/roles/{role}'],
      ['delete', '/api/incidents/{id}/roles/sme/{person}'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.responses['503'], `${method} ${path}`).toEqual({
        $ref: '#/components/responses/Error503',
      });
    }
    const list = doc.paths['/api/action-items']?.get?.responses ?? {};
    expect(Object.keys(list).sort()).toEqual(['200', '400', '401']);
    const enqueue = doc.paths['/v2/enqueue']?.post?.responses ?? {};
    expect(enqueue['400']).toEqual({ $ref: '#/components/responses/IngestError400' });
    expect(enqueue['413']).toEqual({ $ref: '#/components/responses/IngestError413' });
  });
});

describe('the document is valid enough for tools', () => {
  it('has the OpenAPI 3.1 top level, with the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Klaxon', version: pkg.version });
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/'))).toBe(true);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'integrationKey', 'sigv4']);
    expect(doc.components.securitySchemes.sigv4).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('every operation: a unique operationId, its path parameters declared, responses, known security', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) {
      expect(METHODS as readonly string[]).toContain(method);
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name).sort();
      const declared = (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => {
          expect(p.required).toBe(true);
          return p.name;
        })
        .sort();
      expect(declared, `${method} ${path}`).toEqual(inTemplate);
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const requirement of op.security) {
        for (const name of Object.keys(requirement))
          expect(doc.components.securitySchemes).toHaveProperty(name);
      }
    }
  });

  it('every $ref resolves', () => {
    const refs: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const target of refs) expect(() => resolve({ $ref: target })).not.toThrow();
  });

  it('the document is plain JSON (what /openapi.json serves is the document itself)', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
