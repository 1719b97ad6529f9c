import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertFromEvent, handleAlertEvent } from '#app/alert-event';
import type { CommandDeps } from '#app/command';
import type { AlertBus } from '#app/ports';
import { handleTimerEvent } from '#app/timers';
import type { Alert } from '#core/alert';
import { ValidationError } from '#core/errors';
import { hashIntegrationKey } from '#core/ids';
import { createHttpApp } from '#http/app';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { EVENTS_METHODS, PAGER_METHODS, STORE_METHODS, TIMERS_METHODS } from '../support/faults.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { alertEvent, cloudWatchDeletion, cloudWatchEvent } from './events.ts';
import { dotted, type Json, mutated, names, nastyString, type Path } from './mutate.ts';
import { HOUR, MINUTE, reliabilityConfig, START, scanTable, type TestDynamo } from './support.ts';

/**
 * Bad input, fuzzed: arbitrary JSON and mutations of valid payloads (a field dropped, the wrong
 * type, huge, unicode, null, an unknown field) at every endpoint and at the two event handlers.
 * Every refusal is a 4xx (a ValidationError for events and timers) that names a field, never a 5xx
 * or an unexpected exception, and writes nothing: the ports record every call, and a refused
 * input may have made none that writes (the table is scanned before and after each property too).
 * Valid payloads — generated, or mutations that keep them valid — are accepted, and whatever an
 * ingest endpoint accepts must be an alert that process-alert can parse.
 *
 * numRuns per property: KLAXON_FUZZ_RUNS (default 400; a few properties run a fraction of it); the seed is fixed (KLAXON_FUZZ_SEED) so a
 * run is reproducible.
 */

const RUNS = Number(process.env.KLAXON_FUZZ_RUNS ?? 400);
const SEED = Number(process.env.KLAXON_FUZZ_SEED ?? 20261126);
const KEY = '0123456789abcdef0123456789abcdef';
const BILLING_KEY = 'fedcba9876543210fedcba9876543210';
const TOKEN = 'fuzz-token-0123456789';

const WRITES = new Set<string>([
  ...STORE_METHODS.filter(
    (m) =>
      ![
        'findOpen',
        'get',
        'list',
        'timeline',
        'hasTimelineEntry',
        'findIntegration',
        'listMaintenance',
        'listOverrides',
        'incidentsOfDay',
        'previousResolution',
        'listRollups',
      ].includes(m),
  ),
  ...TIMERS_METHODS,
  ...PAGER_METHODS,
  ...EVENTS_METHODS,
  'createActionItem',
  'updateActionItem',
  'putAlerts',
]);

let dynamo: TestDynamo;
let p: Pipeline;
let app: Hono;
let deps: CommandDeps;
/** Port calls made since the last `take()`. */
const calls: string[] = [];
const accepted: Alert[] = [];
let ackPath = '';
let cursor = '';

function recording<T extends object>(port: string, target: T): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.push(`${port}.${property}`);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}
const writes = () => calls.filter((c) => WRITES.has(c.slice(c.indexOf('.') + 1)));

beforeAll(async () => {
  dynamo = await startTestDynamo();
  p = await startPipeline(dynamo, reliabilityConfig(), START);
  for (const [key, service] of [
    [KEY, 'checkout'],
    [BILLING_KEY, 'billing'],
  ] as const) {
    await p.store.putIntegration({
      keyHash: hashIntegrationKey(key),
      service,
      name: service,
      createdAt: START,
    });
  }
  // A few incidents: something to list (with a cursor) and a real acknowledge link to tamper with.
  for (const dedupKey of ['a', 'b', 'c'])
    await handleAlertEvent(alertEvent(makeAlert({ dedupKey, receivedAt: START })), p.deps);
  const link = p.pager.inbox.find((e) => e.page.links.acknowledge)?.page.links.acknowledge ?? '';
  ackPath = new URL(link).pathname;
  cursor = (await p.store.list({ limit: 1 })).nextCursor ?? '';
  const bus: AlertBus = recording('bus', {
    putAlerts: async (alerts: readonly Alert[]) => void accepted.push(...alerts),
  });
  deps = {
    ...p.deps,
    store: recording('store', p.store),
    timers: recording('timers', p.timers),
    pager: recording('pager', p.pager),
    actionItems: recording('actionItems', p.deps.actionItems),
    events: recording('events', p.deps.events),
  };
  app = createHttpApp({ ...deps, bus, apiAuth: bearerAuth({ token: TOKEN }) });
}, 60_000);
afterAll(async () => {
  await dynamo.close();
});

const check = <T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, runs = RUNS) =>
  // numRuns must be a whole number: fast-check never stops at 133.33.
  fc.assert(fc.asyncProperty(arbitrary, predicate), {
    numRuns: Math.ceil(runs),
    seed: SEED,
    endOnFailure: true,
  });

/** Runs `fn`, then checks the table is as it was: for properties whose every input is refused. */
async function stateUnchanged(fn: () => Promise<void>) {
  const before = await scanTable(dynamo, p.store.tableName);
  await fn();
  expect(await scanTable(dynamo, p.store.tableName)).toEqual(before);
}

type Style = 'ingest' | 'api';
interface Answer {
  status: number;
  fields: string[];
  /** The errors as sent (ingest style: `field: message`, where a field may itself hold ': '). */
  errors: string[];
  message: string;
  text: string;
}

/** A path segment; lone surrogates cannot travel in a URL at all, so they arrive replaced. */
const segment = (text: string) => encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));

async function request(
  method: string,
  path: string,
  body?: Json | string,
  headers: Record<string, string> = {},
) {
  calls.length = 0;
  const before = accepted.length;
  const res = await app.request(path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { res, text, alerts: accepted.slice(before) };
}

function parseAnswer(status: number, text: string, style: Style): Answer {
  let json: { message?: unknown; errors?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // HTML (links) or plain text: no fields
  }
  const errors = Array.isArray(json.errors) ? json.errors : [];
  const fields = errors.map((e: unknown) =>
    style === 'ingest'
      ? String(e).slice(0, Math.max(0, String(e).indexOf(': ')))
      : String((e as { field?: unknown }).field),
  );
  return {
    status,
    fields,
    errors: errors.map(String),
    message: typeof json.message === 'string' ? json.message : '',
    text,
  };
}

/**
 * A refusal as the API promises one: 4xx; a 400 or 413 names at least one field (one of the mutated
 * paths, when given); anything else says why; nothing was written and nothing put on the bus.
 */
function expectRefused(answer: Answer, mutatedPaths?: readonly Path[]) {
  const context = { status: answer.status, fields: answer.fields, message: answer.message, writes: writes() };
  expect(answer.status, JSON.stringify(context)).toBeGreaterThanOrEqual(400);
  expect(answer.status, JSON.stringify(context)).toBeLessThan(500);
  if (answer.text.startsWith('<!doctype html>')) {
    // The link pages: a person reads them; the title says what is wrong.
    expect(answer.text, JSON.stringify(context)).toMatch(/<h1>[^<]+<\/h1>/);
  } else if (answer.status === 413) {
    expect(answer.fields, JSON.stringify(context)).toEqual(['body']);
  } else if (answer.status === 400) {
    expect(answer.fields.length, JSON.stringify(context)).toBeGreaterThan(0);
    if (mutatedPaths !== undefined) {
      // A label named `SVsm: '` makes `field: message` ambiguous: a sent error that starts with
      // the mutated path and ': ' names it too.
      expect(
        answer.fields.some((f) => mutatedPaths.some((path) => names(f, path))) ||
          answer.errors.some((e) => mutatedPaths.some((path) => e.startsWith(`${dotted(path)}: `))),
        `errors name ${answer.fields.join(', ')}, the mutation touched ${mutatedPaths.map((m) => m.join('.')).join(', ')}`,
      ).toBe(true);
    }
  } else {
    expect(answer.message, JSON.stringify(context)).not.toBe('');
  }
  expect(writes(), JSON.stringify(context)).toEqual([]);
}

/** What EventBridge delivers to process-alert for an accepted alert: it must parse there. */
function expectProcessable(alerts: readonly Alert[]) {
  for (const alert of alerts) {
    expect(
      () => alertFromEvent(alertEvent(alert), p.deps.config, START),
      JSON.stringify(alert),
    ).not.toThrow();
  }
}

const arbitraryBody: fc.Arbitrary<Json | string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('', '{', '[]', 'null', '{"routing_key":', '\u0000', '{}'.repeat(3)),
);

// -----------------------------------------------------------------------------------------------
// Ingest

/** Every optional field filled, so every field is mutated somewhere. */
const trigger: Json = {
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: 'srv01/mysql',
  client: 'Sample Monitoring Service',
  client_url: 'https://monitoring.example.com',
  payload: {
    summary: 'DISK at 99% on machine prod-datapipe03',
    source: 'prod-datapipe03',
    severity: 'critical',
    timestamp: '2015-07-17T08:42:58.315+0000',
    component: 'mysql',
    group: 'prod-datapipe',
    class: 'disk',
    custom_details: { 'free space': '1%', 'load avg': 0.75 },
  },
  links: [{ href: 'https://example.com/runbook', text: 'Runbook' }],
  images: [{ src: 'https://example.com/chart.png', href: 'https://example.com', alt: 'Chart' }],
};
const resolve: Json = {
  routing_key: KEY,
  event_action: 'resolve',
  dedup_key: 'srv01/mysql',
  payload: { summary: 'ok' },
};

async function ingest(path: string, body: Json | string, mutatedPaths?: readonly Path[]) {
  const { res, text, alerts } = await request('POST', path, body);
  if (res.status === 202) {
    expect(writes()).toEqual(['bus.putAlerts'].slice(0, alerts.length > 0 ? 1 : 0));
    expectProcessable(alerts);
    return 202;
  }
  expectRefused(parseAnswer(res.status, text, 'ingest'), mutatedPaths);
  expect(alerts).toEqual([]);
  return res.status;
}

/** A valid ISO-8601 timestamp in the shapes vendors send, years 0001..9998 (see the BUG below). */
const vendorTimestamp = fc
  .record({
    at: fc.date({
      min: new Date('0001-01-02T00:00:00Z'),
      max: new Date('9998-12-31T00:00:00Z'),
      noInvalidDate: true,
    }),
    offset: fc.constantFrom('Z', '+00:00', '+0000', '-05:00', '+05:30', '+14:00', '-12:00', '+02'),
  })
  .map(({ at, offset }) => at.toISOString().replace('Z', offset === 'Z' ? 'Z' : offset));

const summaryText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 200 })
  .filter((s) => s.trim() !== '');

describe('POST /v2/enqueue', () => {
  it('arbitrary bodies: 400 naming a field (or 413), nothing accepted or written', async () => {
    await stateUnchanged(() =>
      check(arbitraryBody, async (body) => {
        expect([400, 413]).toContain(await ingest('/v2/enqueue', body));
      }),
    );
  });

  it('mutations of a full trigger and of a resolve: 202 and processable, or 4xx naming the mutated field', async () => {
    const statuses = new Set<number>();
    await stateUnchanged(async () => {
      for (const base of [trigger, resolve]) {
        await check(mutated(base), async ({ mutations, value }) => {
          statuses.add(
            await ingest(
              '/v2/enqueue',
              value,
              mutations.map((m) => m.path),
            ),
          );
        });
      }
    });
    expect([...statuses]).toEqual(expect.arrayContaining([202, 400, 413]));
  });

  it('valid events are accepted: generated triggers, acknowledges and resolves → 202', async () => {
    const event = fc.record(
      {
        routing_key: fc.constant(KEY),
        event_action: fc.constantFrom('trigger', 'acknowledge', 'resolve'),
        dedup_key: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
        client: fc.string({ maxLength: 40 }),
        payload: fc.record(
          {
            summary: summaryText,
            source: summaryText,
            severity: fc.constantFrom('critical', 'error', 'warning', 'info'),
            timestamp: vendorTimestamp,
            custom_details: fc.jsonValue({ maxDepth: 2 }),
          },
          { requiredKeys: ['summary', 'source', 'severity'] },
        ),
        links: fc.array(fc.record({ href: fc.webUrl(), text: fc.string({ maxLength: 30 }) }), {
          maxLength: 3,
        }),
      },
      { requiredKeys: ['routing_key', 'event_action', 'dedup_key', 'payload'] },
    );
    await check(event, async (body) => {
      expect(await ingest('/v2/enqueue', body as Json)).toBe(202);
    });
  });

  // Regression test: a timestamp that normalizes outside years 0000..9999 is accepted (202) but the alert can
  // never be processed. normalizeTimestamp accepts `9999-12-31T23:59:59-01:00` (and `0000-01-01
  // T00:00:00+01:00`) and returns `+010000-01-01T00:59:59.000Z` (`-000001-12-31T23:00:00.000Z`),
  // which the canonical Alert's occurredAt (z.iso.datetime) refuses: process-alert throws a
  // ValidationError on every delivery and the alert ends in the dead-letter queue, after the client
  // was told "Event processed". The same for Alertmanager/Grafana `startsAt` and CloudWatch's
  // state.timestamp. Steps: POST /v2/enqueue a valid trigger with payload.timestamp
  // "9999-12-31T23:59:59-0100". Expected: 400 naming payload.timestamp (or a clamped time).
  // Actual: 202; the bus carries occurredAt "+010000-01-01T00:59:59.000Z"; process-alert refuses it.
  it('a timestamp at the edge of year 9999 or 0000 is refused, or accepted as an alert process-alert can parse', async () => {
    const edge = fc.constantFrom(
      '9999-12-31T23:59:59-01:00',
      '9999-12-31T22:30:00-0200',
      '0000-01-01T00:00:00+01:00',
      '0000-01-01T00:30:00+0100',
    );
    await check(
      edge,
      async (timestamp) => {
        const body = {
          ...(trigger as object),
          payload: { ...(trigger as { payload: object }).payload, timestamp },
        };
        const { res, alerts } = await request('POST', '/v2/enqueue', body);
        if (res.status === 202) expectProcessable(alerts);
      },
      4,
    );
  });
});

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Json;
const alertmanager = fixture('alertmanager-firing.json');
const grafana = fixture('grafana-firing.json');

/** A valid Alertmanager-style alert (the fields Grafana shares). */
const promAlert = fc.record({
  status: fc.constantFrom('firing', 'resolved'),
  labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 30 }), {
    maxKeys: 5,
  }),
  annotations: fc.dictionary(
    fc.constantFrom('summary', 'description', 'runbook_url', 'x'),
    fc.string({ maxLength: 60 }),
  ),
  startsAt: vendorTimestamp,
  endsAt: fc.constantFrom('0001-01-01T00:00:00Z', '2026-11-26T10:00:00Z'),
  generatorURL: fc.oneof(fc.webUrl(), fc.constant('')),
  fingerprint: fc.option(
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }),
    { nil: undefined },
  ),
});

describe.each([
  ['alertmanager', alertmanager, { version: fc.constant<Json>('4') }],
  ['grafana', grafana, { orgId: fc.integer({ min: 0, max: 10 }) as fc.Arbitrary<Json> }],
] as [string, Json, Record<string, fc.Arbitrary<Json>>][])(
  'POST /integrations/%s/<key>',
  (kind, fixture, extra) => {
    const path = `/integrations/${kind}/${KEY}`;

    it('arbitrary bodies: 400 naming a field, nothing accepted or written', async () => {
      await stateUnchanged(() =>
        check(arbitraryBody, async (body) => {
          expect([400, 413]).toContain(await ingest(path, body));
        }),
      );
    });

    it('mutations of the documented payload: 202 and processable, or 4xx naming the mutated field', async () => {
      const statuses = new Set<number>();
      await stateUnchanged(() =>
        check(mutated(fixture), async ({ mutations, value }) => {
          statuses.add(
            await ingest(
              path,
              value,
              mutations.map((m) => m.path),
            ),
          );
        }),
      );
      expect([...statuses]).toEqual(expect.arrayContaining([202, 400]));
    });

    it('valid generated payloads are accepted, one alert per entry', async () => {
      const payload = fc.record({
        status: fc.constantFrom('firing', 'resolved'),
        receiver: fc.string({ maxLength: 20 }),
        alerts: fc.array(promAlert, { maxLength: 4 }),
        externalURL: fc.webUrl(),
        ...extra,
      });
      await check(payload, async (body) => {
        const { res, text, alerts } = await request('POST', path, body as Json);
        expect(res.status, text).toBe(202);
        expect(alerts).toHaveLength(body.alerts.length);
        expectProcessable(alerts);
      });
    });

    it('a missing or unknown key: 401, nothing accepted', async () => {
      await check(
        fc.oneof(
          fc.constant(''),
          nastyString.filter((s) => s !== KEY && s !== BILLING_KEY),
        ),
        async (key) => {
          const { res, text, alerts } = await request(
            'POST',
            `/integrations/${kind}/${segment(key)}`,
            fixture,
          );
          expectRefused(parseAnswer(res.status, text, 'ingest'));
          expect([401, 404]).toContain(res.status);
          expect(alerts).toEqual([]);
        },
        RUNS / 3,
      );
    });
  },
);

describe('/heartbeat/<id>/<key>', () => {
  it('unknown heartbeats and keys, GET or POST: 401/404, no timer armed', async () => {
    const id = fc.oneof(
      fc.constant('nightly-backup'),
      nastyString.filter((s) => s !== '' && s !== 'nightly-backup'),
    );
    const key = fc.oneof(
      fc.constant(BILLING_KEY),
      nastyString.filter((s) => s !== KEY),
    );
    await stateUnchanged(() =>
      check(fc.tuple(id, key, fc.constantFrom('GET', 'POST')), async ([hb, k, method]) => {
        const { res, text } = await request(method, `/heartbeat/${segment(hb)}/${segment(k)}`);
        expectRefused(parseAnswer(res.status, text, 'ingest'));
      }),
    );
  });

  it('keys in the Authorization header (Bearer, Basic, other schemes, garbage): 401/404, no timer armed', async () => {
    const header = fc.oneof(
      nastyString.filter((k) => k !== KEY).map((k) => `Bearer ${k}`),
      fc
        .tuple(
          nastyString,
          nastyString.filter((k) => k !== KEY),
        )
        .map(([user, k]) => `Basic ${Buffer.from(`${user}:${k}`).toString('base64')}`),
      fc
        .tuple(fc.constantFrom('Token', 'Digest', 'bearer', ''), nastyString)
        .map(([scheme, v]) => `${scheme} ${v}`),
      fc.string({ unit: fc.constantFrom(...'Bearer Basic:=+/ab01'), maxLength: 30 }),
    );
    await stateUnchanged(() =>
      check(
        fc.tuple(header, fc.constantFrom('nightly-backup', 'weekly-report')),
        async ([authorization, hb]) => {
          const value = authorization.replace(/[^\t\x20-\x7e]/g, '?'); // HTTP header values are Latin-1
          const { res, text } = await request('POST', `/heartbeat/${hb}`, undefined, {
            authorization: value,
          });
          expectRefused(parseAnswer(res.status, text, 'ingest'));
        },
      ),
    );
  });

  it('the right heartbeat and key: 202', async () => {
    const { res } = await request('POST', `/heartbeat/nightly-backup/${KEY}`);
    expect(res.status).toBe(202);
  });
});

// -----------------------------------------------------------------------------------------------
// API

const auth = { authorization: `Bearer ${TOKEN}` };
const api = (method: string, path: string, body?: Json | string) => request(method, path, body, auth);

async function apiWrite(path: string, body: Json | string, mutatedPaths?: readonly Path[]) {
  const { res, text } = await api('POST', path, body);
  if (res.status === 201) return 201;
  expectRefused(parseAnswer(res.status, text, 'api'), mutatedPaths);
  return res.status;
}

describe('POST /api/integrations', () => {
  const base: Json = { service: 'billing', name: 'Prometheus prod' };
  it('arbitrary bodies: 400 naming a field, nothing written', async () => {
    await stateUnchanged(() =>
      check(arbitraryBody, async (body) => {
        expect(await apiWrite('/api/integrations', body)).toBe(400);
      }),
    );
  });
  it('mutations: 201, or 400 naming the mutated field (unknown services included)', async () => {
    const statuses = new Set<number>();
    await check(
      mutated(base),
      async ({ mutations, value }) => {
        statuses.add(
          await apiWrite(
            '/api/integrations',
            value,
            mutations.map((m) => m.path),
          ),
        );
      },
      RUNS / 2,
    );
    expect([...statuses].sort()).toEqual([201, 400]);
  });
  it('valid bodies (any name of 1..255 characters) are accepted: 201', async () => {
    const body = fc.record({
      service: fc.constantFrom('checkout', 'billing'),
      name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }).filter((n) => n.length <= 255),
    });
    await check(
      body,
      async (b) => {
        expect(await apiWrite('/api/integrations', b)).toBe(201);
      },
      RUNS / 2,
    );
  });
});

describe('POST /api/services/<id>/maintenance', () => {
  const at = (ms: number) => new Date(Date.parse(START) + ms).toISOString();
  const base: Json = { from: at(HOUR), to: at(2 * HOUR), reason: 'DB upgrade' };
  it('arbitrary bodies and services: 4xx naming a field, nothing written', async () => {
    const service = fc.oneof(
      fc.constant('billing'),
      nastyString.filter((s) => s !== '' && s !== 'checkout' && s !== 'billing'),
    );
    await stateUnchanged(() =>
      check(fc.tuple(service, arbitraryBody), async ([id, body]) => {
        await apiWrite(`/api/services/${segment(id)}/maintenance`, body);
      }),
    );
  });
  it('mutations of a valid window: 201, or 400 naming the mutated field', async () => {
    const statuses = new Set<number>();
    await check(
      mutated(base),
      async ({ mutations, value }) => {
        statuses.add(
          await apiWrite(
            '/api/services/billing/maintenance',
            value,
            mutations.map((m) => m.path),
          ),
        );
      },
      RUNS / 2,
    );
    expect([...statuses].sort()).toEqual([201, 400]);
  });
  it('valid windows (dates with any offset) are accepted', async () => {
    const window = fc
      .record({
        start: fc.integer({ min: -HOUR, max: 30 * 24 * HOUR }),
        length: fc.integer({ min: 1, max: 7 * 24 * HOUR }),
      })
      .map(({ start, length }) => ({ from: at(start), to: at(start + length + HOUR) }));
    await check(
      window,
      async (body) => {
        expect(await apiWrite('/api/services/billing/maintenance', body)).toBe(201);
      },
      50,
    );
  });
});

describe('POST /api/schedules/<id>/overrides', () => {
  const base: Json = {
    from: START,
    to: new Date(Date.parse(START) + HOUR).toISOString(),
    responder: 'bob',
    replaces: 'alice',
  };
  it('arbitrary bodies and schedules: 4xx naming a field, nothing written', async () => {
    const schedule = fc.oneof(
      fc.constant('primary'),
      nastyString.filter((s) => s !== '' && s !== 'primary'),
    );
    await stateUnchanged(() =>
      check(fc.tuple(schedule, arbitraryBody), async ([id, body]) => {
        await apiWrite(`/api/schedules/${segment(id)}/overrides`, body);
      }),
    );
  });
  it('valid overrides (any offsets, with or without replaces) are accepted: 201', async () => {
    const override = fc
      .record({
        start: fc.integer({ min: -24 * HOUR, max: 30 * 24 * HOUR }),
        length: fc.integer({ min: 1000, max: 7 * 24 * HOUR }),
        offset: fc.constantFrom('Z', '+05:30', '-08:00', '+14:00'),
        responder: fc.constantFrom('alice', 'bob', 'carol', 'dave'),
        replaces: fc.option(fc.constantFrom('alice', 'bob', 'carol', 'dave'), { nil: undefined }),
      })
      .filter((o) => o.replaces !== o.responder)
      .map((o) => {
        const iso = (ms: number) => {
          if (o.offset === 'Z') return new Date(ms).toISOString();
          const minutes =
            (o.offset.startsWith('-') ? -1 : 1) *
            (Number(o.offset.slice(1, 3)) * 60 + Number(o.offset.slice(4)));
          return `${new Date(ms + minutes * MINUTE).toISOString().slice(0, 23)}${o.offset}`;
        };
        const from = Date.parse(START) + o.start;
        return {
          from: iso(from),
          to: iso(from + o.length),
          responder: o.responder,
          ...(o.replaces ? { replaces: o.replaces } : {}),
        };
      });
    await check(
      override,
      async (body) => {
        expect(await apiWrite('/api/schedules/primary/overrides', body)).toBe(201);
      },
      RUNS / 3,
    );
  });

  it('mutations of a valid override: 201, or 400 naming the mutated field', async () => {
    const statuses = new Set<number>();
    await check(
      mutated(base, { extraKeys: false }),
      async ({ mutations, value }) => {
        statuses.add(
          await apiWrite(
            '/api/schedules/primary/overrides',
            value,
            mutations.map((m) => m.path),
          ),
        );
      },
      RUNS / 2,
    );
    expect([...statuses].sort()).toEqual([201, 400]);
  });
});

// The incident-command routes: each runs on an incident of its own (opened on billing, which pages
// nobody), so that what one route's valid mutations change (acknowledged, resolved…) leaves the
// others' incidents alone.

const brief = {
  status: 'degraded',
  tried: 'rollback',
  strategy: 'failover',
  people: 'alice',
  decisions: 'none',
};
const COMMANDS: readonly { readonly name: string; readonly path: string; readonly body: Json }[] = [
  { name: 'acknowledge', path: 'acknowledge', body: { who: 'alice' } },
  { name: 'mitigate', path: 'mitigate', body: { who: 'alice', note: 'rolled back' } },
  { name: 'resolve', path: 'resolve', body: { who: 'alice', now: false } },
  { name: 'severity', path: 'severity', body: { severity: 'SEV-2', reason: 'more users', who: 'alice' } },
  { name: 'roles', path: 'roles', body: { role: 'commander', person: 'carol', who: 'alice' } },
  { name: 'handoff', path: 'handoff', body: { to: 'carol', who: 'alice', brief } },
  { name: 'timeline', path: 'timeline', body: { type: 'OBSERVATION', who: 'alice', text: 'p99 ok' } },
  { name: 'checklist', path: 'checklist/notify-stakeholders', body: { who: 'alice', done: true } },
  { name: 'postmortem/publish', path: 'postmortem/publish', body: { who: 'alice' } },
  {
    name: 'action-items',
    path: 'action-items',
    body: { action: 'Add an alert', owner: 'bob', deadline: '2026-12-10', category: 'Detect', who: 'alice' },
  },
];

describe('the incident-command routes', () => {
  /** The incident of each route, and one action item (for PATCH). */
  const ids = new Map<string, string>();
  let actionItem = '';
  beforeAll(async () => {
    for (const command of [...COMMANDS.map((c) => c.name), 'PATCH action-items']) {
      const outcome = await handleAlertEvent(
        alertEvent(makeAlert({ service: 'billing', dedupKey: `cmd-${command}`, receivedAt: START })),
        p.deps,
      );
      if (outcome.kind !== 'opened') throw new Error(`expected opened, got ${outcome.kind}`);
      ids.set(command, outcome.incident.id);
    }
    // The publish route's incident is resolved (it refuses to publish before).
    const resolved = await api('POST', `/api/incidents/${ids.get('postmortem/publish')}/resolve`, {
      who: 'alice',
      now: true,
    });
    expect(resolved.res.status).toBe(200);
    const created = await api(
      'POST',
      `/api/incidents/${ids.get('PATCH action-items')}/action-items`,
      COMMANDS.at(-1)?.body,
    );
    expect(created.res.status).toBe(201);
    actionItem = (JSON.parse(created.text) as { actionItem: { id: string } }).actionItem.id;
  });

  /** An answer to a command: 2xx, or refused (4xx naming a field, nothing written). */
  async function command(method: string, path: string, body: Json | string, mutatedPaths?: readonly Path[]) {
    const { res, text } = await api(method, path, body);
    expect(res.status, text).not.toBeGreaterThanOrEqual(500);
    if (res.status === 200 || res.status === 201) return res.status;
    expectRefused(parseAnswer(res.status, text, 'api'), mutatedPaths);
    return res.status;
  }

  it('the recorder counts what the commands write: transitions, patches, action items, bus events', async () => {
    const id = ids.get('PATCH action-items') ?? '';
    await api('POST', `/api/incidents/${id}/acknowledge`, { who: 'alice' });
    expect(writes()).toEqual(expect.arrayContaining(['store.transition', 'events.publish']));
    await api('POST', `/api/incidents/${id}/checklist/notify-stakeholders`, { who: 'alice', done: true });
    expect(writes()).toEqual(expect.arrayContaining(['store.patch', 'store.putTimelineEntry']));
    await api('POST', `/api/incidents/${id}/action-items`, COMMANDS.at(-1)?.body);
    expect(writes()).toEqual(['actionItems.createActionItem']);
  });

  /** A path id: the route's real one, or garbage (unknown, unicode, empty). */
  const idOr = (real: () => string) =>
    fc
      .oneof(
        fc.constant('real'),
        nastyString.filter((s) => s !== ''),
      )
      .map((s) => (s === 'real' ? real() : s));

  it('POST /api/incidents: arbitrary bodies → 400 naming a field, nothing written', async () => {
    await stateUnchanged(() =>
      check(
        arbitraryBody,
        async (body) => {
          expect(await command('POST', '/api/incidents', body)).toBe(400);
        },
        RUNS,
      ),
    );
  });

  it('POST /api/incidents: mutations of a valid declaration → 201, or 400 naming the mutated field', async () => {
    const base: Json = {
      service: 'billing',
      title: 'Invoices stuck',
      severity: 'SEV-3',
      impact: { usersAffectedPercent: 5, revenuePerHour: 100, slaRisk: 'no' },
      who: 'alice',
      description: 'since 09:40',
    };
    const statuses = new Set<number>();
    await check(
      mutated(base),
      async ({ mutations, value }) => {
        statuses.add(
          await command(
            'POST',
            '/api/incidents',
            value,
            mutations.map((m) => m.path),
          ),
        );
      },
      RUNS / 2,
    );
    expect([...statuses].sort()).toEqual([201, 400]);
  });

  describe.each(COMMANDS)('POST /api/incidents/<id>/$name', ({ name, path, body }) => {
    const url = (id: string) => `/api/incidents/${segment(id)}/${path}`;
    it('arbitrary bodies on real and unknown ids: 4xx naming a field, nothing written', async () => {
      await stateUnchanged(() =>
        check(
          fc.tuple(
            idOr(() => ids.get(name) ?? ''),
            arbitraryBody,
          ),
          async ([id, b]) => {
            await command('POST', url(id), b);
          },
          RUNS,
        ),
      );
    });
    it('mutations of a valid body: 2xx, or 4xx naming the mutated field', async () => {
      // The body itself is accepted (so the refusals below are about the mutations).
      expect(await command('POST', url(ids.get(name) ?? ''), body)).toBeLessThan(300);
      const statuses = new Set<number>();
      await check(
        mutated(body),
        async ({ mutations, value }) => {
          statuses.add(
            await command(
              'POST',
              url(ids.get(name) ?? ''),
              value,
              mutations.map((m) => m.path),
            ),
          );
        },
        RUNS / 2,
      );
      expect(statuses.has(400)).toBe(true);
    });
  });

  it('POST /api/incidents/<id>/checklist/<item>: unknown items → 404, nothing written', async () => {
    await stateUnchanged(() =>
      check(
        nastyString.filter((s) => s !== '' && s !== 'war-room'),
        async (item) => {
          const { res, text } = await api(
            'POST',
            `/api/incidents/${ids.get('checklist')}/checklist/${segment(item)}`,
            { who: 'alice', done: true },
          );
          expect(res.status, text).toBe(404);
          expectRefused(parseAnswer(res.status, text, 'api'));
        },
        RUNS / 8,
      ),
    );
  });

  describe('PATCH /api/incidents/<id>/action-items/<item>', () => {
    const base: Json = { status: 'done', owner: 'carol', deadline: '2026-12-24', who: 'alice' };
    it('arbitrary bodies, incidents and items: 4xx naming a field, nothing written', async () => {
      await stateUnchanged(() =>
        check(
          fc.tuple(
            idOr(() => ids.get('PATCH action-items') ?? ''),
            idOr(() => actionItem),
            arbitraryBody,
          ),
          async ([id, item, b]) => {
            await command('PATCH', `/api/incidents/${segment(id)}/action-items/${segment(item)}`, b);
          },
          RUNS,
        ),
      );
    });
    it('mutations of a valid update: 200, or 400 naming the mutated field', async () => {
      const statuses = new Set<number>();
      await check(
        mutated(base),
        async ({ mutations, value }) => {
          statuses.add(
            await command(
              'PATCH',
              `/api/incidents/${ids.get('PATCH action-items')}/action-items/${actionItem}`,
              value,
              mutations.map((m) => m.path),
            ),
          );
        },
        RUNS / 2,
      );
      expect([...statuses].sort()).toEqual([200, 400]);
    });
  });

  it('GET /api/action-items and /openapi.json with arbitrary query strings: 200 or 400 naming a field, nothing written', async () => {
    await stateUnchanged(async () => {
      for (const path of ['/api/action-items', '/openapi.json']) {
        await check(
          query(['status']),
          async (q) => {
            const { res, text } = await api('GET', `${path}${q}`);
            if (res.status !== 200) expectRefused(parseAnswer(res.status, text, 'api'));
            expect(writes()).toEqual([]);
          },
          RUNS / 8,
        );
      }
    });
  });
});

/** A query string from arbitrary key/value pairs (the known keys most of the time). */
const query = (keys: string[]) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })),
        fc.oneof(nastyString, fc.integer().map(String)),
      ),
      {
        maxLength: 4,
      },
    )
    .map((pairs) => `?${new URLSearchParams(pairs).toString()}`);

describe('GET /api/incidents and /api/rollups', () => {
  it('arbitrary query strings: 200 or 400 naming a field, nothing written', async () => {
    await stateUnchanged(async () => {
      for (const [path, keys] of [
        ['/api/incidents', ['status', 'service', 'limit', 'cursor']],
        ['/api/rollups', ['from', 'to', 'service', 'severity']],
      ] as const) {
        await check(query([...keys]), async (q) => {
          const { res, text } = await api('GET', `${path}${q}`);
          if (res.status !== 200) expectRefused(parseAnswer(res.status, text, 'api'));
          expect(writes()).toEqual([]);
        });
      }
    });
  });

  it('valid queries: 200', async () => {
    const day = fc
      .date({ min: new Date('2026-01-01'), max: new Date('2027-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
    await check(
      fc.tuple(day, fc.integer({ min: 0, max: 60 })),
      async ([from, days]) => {
        const to = new Date(Date.parse(from) + days * 86_400_000).toISOString().slice(0, 10);
        expect((await api('GET', `/api/rollups?from=${from}&to=${to}&severity=SEV-1`)).res.status).toBe(200);
      },
      50,
    );
    await check(
      fc.record({
        status: fc.constantFrom('triggered', 'acknowledged', 'resolved'),
        limit: fc.integer({ min: 1, max: 100 }),
      }),
      async (q) => {
        expect(
          (await api('GET', `/api/incidents?status=${q.status}&limit=${q.limit}&cursor=${cursor}`)).res
            .status,
        ).toBe(200);
      },
      50,
    );
  });

  // Regression test: a cursor that decodes to a key object of the right shape but not a key of the index read
  // (e.g. base64url of {"pk":"x"}) passes decodeCursor's check (only allowed attribute names, all
  // strings) and reaches DynamoDB as ExclusiveStartKey, which refuses it with a ValidationException
  // ("The provided starting key is invalid"): the API answers 500 "internal error".
  // Steps: GET /api/incidents?cursor=eyJwayI6IngifQ (or any real cursor with a field dropped).
  // Expected: 400 naming `cursor`. Actual: 500.
  it('mutated cursors: 200 or 400 naming cursor, never 500', async () => {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Json;
    await check(
      mutated(decoded),
      async ({ value }) => {
        const forged = Buffer.from(JSON.stringify(value)).toString('base64url');
        const { res, text } = await api('GET', `/api/incidents?cursor=${forged}`);
        if (res.status !== 200) expectRefused(parseAnswer(res.status, text, 'api'), [['cursor']]);
      },
      100,
    );
  });
});

// -----------------------------------------------------------------------------------------------
// Acknowledge links

describe('GET/POST /a/<token>', () => {
  const tokenChars = fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567.-_ABCXYZ019%'),
    maxLength: 220,
  });

  it('arbitrary tokens: 4xx, nothing written', async () => {
    await stateUnchanged(() =>
      check(
        fc.tuple(fc.oneof(tokenChars, nastyString), fc.constantFrom('GET', 'POST')),
        async ([token, method]) => {
          const { res, text } = await request(method, `/a/${segment(token)}`);
          expectRefused(parseAnswer(res.status, text, 'api'));
        },
      ),
    );
  });

  it('a real link, tampered (characters flipped, cut, extended, fields swapped): 4xx, nothing written', async () => {
    const real = ackPath.slice('/a/'.length);
    const tampered = fc
      .oneof(
        fc
          .tuple(fc.nat({ max: real.length - 1 }), fc.constantFrom(...'abcz27.-_AZ'))
          .map(([i, c]) => real.slice(0, i) + c + real.slice(i + 1)),
        fc.nat({ max: real.length - 1 }).map((n) => real.slice(0, n)),
        fc.string({ minLength: 1, maxLength: 30 }).map((s) => real + s),
        fc.constantFrom(real.replace('.a.', '.r.'), real.replace('.alice.', '.bob.')),
      )
      .filter((t) => t !== real);
    // The real link itself is good (so the refusals below are about the tampering).
    const confirm = await request('GET', ackPath);
    expect([confirm.res.status, writes()]).toEqual([200, []]);
    await stateUnchanged(() =>
      check(fc.tuple(tampered, fc.constantFrom('GET', 'POST')), async ([token, method]) => {
        const { res, text } = await request(method, `/a/${segment(token)}`);
        expectRefused(parseAnswer(res.status, text, 'api'));
      }),
    );
  });
});

// -----------------------------------------------------------------------------------------------
// Events and timers (no HTTP: a ValidationError naming a field)

/** Runs an event or timer handler: a ValidationError naming a field, or a result; nothing else. */
async function expectHandled(run: () => Promise<unknown>, mutatedPaths?: readonly Path[], prefix = '') {
  calls.length = 0;
  try {
    return { ok: true as const, value: await run() };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    expect(error.errors.length).toBeGreaterThan(0);
    if (mutatedPaths !== undefined) {
      const fields = error.errors.map((e) =>
        prefix && e.field.startsWith(prefix) ? e.field.slice(prefix.length) : e.field,
      );
      expect(
        fields.some((f) => mutatedPaths.some((path) => names(f, path))),
        `errors name ${fields.join(', ')}, the mutation touched ${mutatedPaths.map((m) => m.join('.')).join(', ')}`,
      ).toBe(true);
    }
    expect(writes()).toEqual([]);
    return { ok: false as const, error };
  }
}

const nativeDetail: Json = {
  service: 'billing',
  dedupKey: 'invoices-stuck',
  summary: 'Invoices stuck for 30 minutes',
  action: 'trigger',
  severity: 'warning',
  source: 'billing-worker',
  occurredAt: '2026-11-26T09:58:00.000Z',
  details: { queue: 'invoices' },
  links: [{ href: 'https://example.com/queue', text: 'Queue' }],
  component: 'worker',
};

describe('handleAlertEvent', () => {
  const native = (detail: unknown) => ({ ...alertEvent(makeAlert()), source: 'acme.billing', detail });

  it('native events with arbitrary details: a ValidationError naming a field, nothing written', async () => {
    await stateUnchanged(() =>
      check(fc.jsonValue({ maxDepth: 3 }), async (detail) => {
        const result = await expectHandled(() => handleAlertEvent(native(detail), deps));
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('mutations of a valid native detail: processed, or a ValidationError naming the mutated field', async () => {
    let processed = 0;
    await check(
      mutated(nativeDetail),
      async ({ mutations, value }) => {
        const result = await expectHandled(
          () => handleAlertEvent(native(value), deps),
          mutations.map((m) => m.path),
        );
        if (result.ok) processed++;
      },
      RUNS / 2,
    );
    expect(processed).toBeGreaterThan(0);
  });

  /** `base` mutated anywhere but its routing fields, through handleAlertEvent: how many were refused. */
  async function refusedOfMutated(base: Json, detailType: string, runs: number): Promise<number> {
    let refused = 0;
    await check(
      mutated(base),
      async ({ mutations, value }) => {
        const event = { ...(value as object), source: 'aws.cloudwatch', 'detail-type': detailType };
        const result = await expectHandled(
          () => handleAlertEvent(event as never, deps),
          mutations.map((m) => m.path),
        );
        if (!result.ok) refused++;
      },
      runs,
    );
    return refused;
  }

  it('CloudWatch-shaped events, mutated anywhere: processed, or a ValidationError naming the mutated field', async () => {
    const alarm = cloudWatchEvent('ALARM', START, 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92') as unknown as Json;
    expect(await refusedOfMutated(alarm, 'CloudWatch Alarm State Change', RUNS / 2)).toBeGreaterThan(0);
  });

  it('CloudWatch alarm deletions, mutated anywhere: noted, ignored, or a ValidationError naming the mutated field', async () => {
    await handleAlertEvent(cloudWatchEvent('ALARM', START, 'fuzz-deletion-open'), deps);
    const deletion = cloudWatchDeletion(START, 'fuzz-deletion') as unknown as Json;
    expect(
      await refusedOfMutated(deletion, 'CloudWatch Alarm Configuration Change', RUNS / 4),
    ).toBeGreaterThan(0);
  });

  it('events no route sends here: a ValidationError naming detail-type', async () => {
    await check(
      fc.tuple(nastyString, nastyString),
      async ([source, detailType]) => {
        fc.pre(
          detailType !== 'Klaxon Alert' &&
            !(
              source === 'aws.cloudwatch' &&
              ['CloudWatch Alarm State Change', 'CloudWatch Alarm Configuration Change'].includes(detailType)
            ),
        );
        const result = await expectHandled(() =>
          handleAlertEvent(
            { id: 'x', source, 'detail-type': detailType, time: START, detail: nativeDetail },
            deps,
          ),
        );
        expect(result.ok).toBe(false);
      },
      RUNS / 3,
    );
  });
});

describe('handleTimerEvent', () => {
  const valid: Json[] = [
    { kind: 'escalate', incidentId: 'aaaaaaaaaaaa', generation: 1, step: 1 },
    { kind: 'ack-timeout', incidentId: 'aaaaaaaaaaaa', generation: 1 },
    { kind: 'reminder', incidentId: 'aaaaaaaaaaaa', seq: 1 },
    { kind: 'maintenance', service: 'billing', windowId: 'nosuchwindow' },
  ];

  it('arbitrary inputs: a ValidationError naming a field, nothing written', async () => {
    await stateUnchanged(() =>
      check(fc.jsonValue({ maxDepth: 3 }), async (input) => {
        const result = await expectHandled(() => handleTimerEvent(input, deps));
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('mutations of valid inputs of every kind: an outcome, or a ValidationError naming the mutated field', async () => {
    await stateUnchanged(async () => {
      for (const base of valid) {
        await check(
          mutated(base),
          async ({ mutations, value }) => {
            const result = await expectHandled(
              () => handleTimerEvent(value, deps),
              mutations.map((m) => m.path),
            );
            if (result.ok) expect(['stale', 'done', 'replayed', 'stopped']).toContain(result.value);
          },
          RUNS / 4,
        );
      }
    });
  });

  it('heartbeat inputs mutated anywhere but the heartbeat id: an outcome or a ValidationError', async () => {
    const base: Json = { kind: 'heartbeat', heartbeatId: 'nightly-backup', armedAt: START };
    await check(
      mutated(base),
      async ({ mutations, value }) => {
        fc.pre(!mutations.some((m) => m.path[0] === 'heartbeatId'));
        await expectHandled(
          () => handleTimerEvent(value, deps),
          mutations.map((m) => m.path),
        );
      },
      RUNS / 4,
    );
  });

  // Regression test: a well-formed heartbeat timer whose heartbeat is not (or no longer) in the config throws
  // NotFoundError instead of returning `stale`. In AWS the escalate Lambda fails, Scheduler retries
  // it (10 attempts) and puts it in the DLQ, and re-driving it fails again; the same happens for
  // the last timer of a heartbeat removed from klaxon.config.json.
  // Steps: handleTimerEvent({kind: 'heartbeat', heartbeatId: 'removed', armedAt: <ISO>}).
  // Expected: 'stale' (as for an escalate timer of an unknown incident). Actual: NotFoundError.
  it('a heartbeat timer for a heartbeat not in the config is stale', async () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/).filter((s) => s !== 'nightly-backup');
    await check(
      id,
      async (heartbeatId) => {
        expect(await handleTimerEvent({ kind: 'heartbeat', heartbeatId, armedAt: START }, deps)).toBe(
          'stale',
        );
      },
      10,
    );
  });
});
