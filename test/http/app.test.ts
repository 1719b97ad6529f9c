import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import { LocalEventBus } from '#adapters/local/event-bus';
import { handleAlertEvent } from '#app/alert-event';
import { RetryableError } from '#core/errors';
import { putEventsEntrySize } from '#core/event-size';
import { hashIntegrationKey } from '#core/ids';
import { createHttpApp } from '#http/app';
import { startTestDynamo } from '../support/dynamo.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';

const KEY = '0123456789abcdef0123456789abcdef';
const TOKEN = 'test-token-0123456789';

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let store: DynamoDbIncidentStore;
let pipeline: Pipeline;
let bus: LocalEventBus;
let app: Hono;
const clock = () => new Date('2026-11-26T12:00:00.000Z');

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  pipeline = await startPipeline(
    dynamo,
    { services: [{ id: 'checkout', name: 'Checkout' }] },
    '2026-11-26T12:00:00.000Z',
  );
  store = pipeline.store;
  await store.putIntegration({
    keyHash: hashIntegrationKey(KEY),
    service: 'checkout',
    name: 'test',
    createdAt: clock().toISOString(),
  });
  bus = new LocalEventBus({ maxAttempts: 1 });
  bus.register('processAlert', async (event) => {
    await handleAlertEvent(event, pipeline.deps);
  });
  app = createHttpApp({ ...pipeline.deps, bus, apiAuth: bearerAuth({ token: TOKEN }) });
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const api = (path: string) => app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });

const trigger = {
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: 'srv01/HTTP',
  payload: {
    summary: 'Example alert on host1.example.com',
    source: 'monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003',
    severity: 'info',
  },
};

describe('POST /v2/enqueue (PagerDuty Events API v2)', () => {
  it('answers 202 with the dedup key, and the alert becomes an incident', async () => {
    const res = await post('/v2/enqueue', trigger);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      status: 'success',
      message: 'Event processed',
      dedup_key: 'srv01/HTTP',
    });
    await bus.drain();
    const { incidents } = await store.list({});
    expect(incidents.map((i) => [i.service, i.dedupKey, i.title])).toEqual([
      ['checkout', 'srv01/HTTP', 'Example alert on host1.example.com'],
    ]);
  });

  it('generates and returns a dedup key when a trigger has none', async () => {
    const res = await post('/v2/enqueue', { ...trigger, dedup_key: undefined });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { dedup_key: string };
    expect(body.dedup_key).toMatch(/^[a-z2-7]{25}$/);
    await bus.drain();
    expect((await store.list({})).incidents[0]?.dedupKey).toBe(body.dedup_key);
  });

  it('acknowledge and resolve act on the incident of the dedup key', async () => {
    await post('/v2/enqueue', trigger);
    await bus.drain();
    await post('/v2/enqueue', { routing_key: KEY, event_action: 'acknowledge', dedup_key: 'srv01/HTTP' });
    await bus.drain();
    expect((await store.list({})).incidents[0]?.status).toBe('acknowledged');
    await post('/v2/enqueue', { routing_key: KEY, event_action: 'resolve', dedup_key: 'srv01/HTTP' });
    await bus.drain();
    // The service's 15-minute monitoring period first (test/escalation/lifecycle.test.ts).
    expect((await store.list({})).incidents[0]?.status).toBe('monitoring');
  });

  // Regression test: a key of a service renamed or removed from the config was answered "Event
  // processed" and its alert then refused after the bus (a dead letter): nobody paged, sender unaware.
  it('refuses the key of a service the config no longer has, naming it; nothing goes on the bus', async () => {
    const OLD = 'fedcba9876543210fedcba9876543210';
    await store.putIntegration({
      keyHash: hashIntegrationKey(OLD),
      service: 'checkout-old',
      name: 'before the rename',
      createdAt: clock().toISOString(),
    });
    const res = await post('/v2/enqueue', { ...trigger, routing_key: OLD });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: [
        'routing_key: the integration\'s service "checkout-old" is not in the config (renamed or removed?)',
      ],
    });
    const hook = await post(`/integrations/alertmanager/${OLD}`, {
      version: '4',
      status: 'firing',
      alerts: [],
    });
    expect(hook.status).toBe(400);
    expect(JSON.stringify(await hook.json())).toContain('key: the integration');
    await bus.drain();
    expect(bus.deadLetters).toEqual([]);
    expect((await store.list({})).incidents).toEqual([]);
  });

  it('answers 400 "invalid event" naming each bad field, and changes nothing', async () => {
    const res = await post('/v2/enqueue', {
      routing_key: KEY,
      event_action: 'trigger',
      payload: { source: 'x', severity: 'urgent' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { status: string; message: string; errors: string[] };
    expect(body.status).toBe('invalid event');
    expect(body.errors.some((e) => e.startsWith('payload.summary:'))).toBe(true);
    expect(body.errors.some((e) => e.startsWith('payload.severity:'))).toBe(true);
    await bus.drain();
    expect((await store.list({})).incidents).toEqual([]);
  });

  it('answers 400 for an unknown routing key', async () => {
    const res = await post('/v2/enqueue', { ...trigger, routing_key: 'ffffffffffffffffffffffffffffffff' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: ['routing_key: unknown routing key'],
    });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await post('/v2/enqueue', '{"routing_key":');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: string[] }).errors).toEqual(['body: is not valid JSON']);
  });

  const hugeTrigger = {
    ...trigger,
    payload: {
      ...trigger.payload,
      severity: 'critical',
      custom_details: { log: 'x'.repeat(300 * 1024), host: 'db-1' },
    },
  };

  it('accepts a trigger with 300 KB of custom_details and puts it on EventBridge in one entry under 256 KB', async () => {
    const eventBridge = mockClient(EventBridgeClient);
    try {
      eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
      const awsApp = createHttpApp({
        ...pipeline.deps,
        bus: new EventBridgeAlertBus({
          busName: 'klaxon',
          client: new EventBridgeClient({ region: 'us-east-1' }),
        }),
        apiAuth: bearerAuth({ token: TOKEN }),
      });
      const res = await awsApp.request('/v2/enqueue', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hugeTrigger),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({
        status: 'success',
        message: 'Event processed',
        dedup_key: 'srv01/HTTP',
      });
      const entries = eventBridge
        .commandCalls(PutEventsCommand)
        .flatMap((c) => c.args[0].input.Entries ?? []);
      expect(entries).toHaveLength(1);
      const [entry] = entries;
      const size = putEventsEntrySize({
        time: entry?.Time,
        source: entry?.Source,
        detailType: entry?.DetailType,
        detail: entry?.Detail,
        resources: entry?.Resources,
      });
      expect(size).toBeLessThanOrEqual(256 * 1024);
      const alert = JSON.parse(entry?.Detail ?? '{}') as Record<string, unknown>;
      expect(alert).toMatchObject({
        summary: 'Example alert on host1.example.com',
        dedupKey: 'srv01/HTTP',
        severity: 'critical',
        action: 'trigger',
        details: { host: 'db-1', 'klaxon:truncated': { removed: [], shortened: ['details.log'] } },
      });
    } finally {
      eventBridge.restore();
    }
  });

  it('accepts the same trigger on the local bus, which opens its incident', async () => {
    const res = await post('/v2/enqueue', hugeTrigger);
    expect(res.status).toBe(202);
    await bus.drain();
    expect(bus.deadLetters).toEqual([]);
    const { incidents } = await store.list({});
    expect(incidents.map((i) => [i.dedupKey, i.title, i.severity])).toEqual([
      ['srv01/HTTP', 'Example alert on host1.example.com', 'critical'],
    ]);
  });

  it('answers 413 for a body over 512 KB, and changes nothing', async () => {
    const big = {
      ...trigger,
      payload: { ...trigger.payload, custom_details: { blob: 'x'.repeat(512 * 1024) } },
    };
    const res = await post('/v2/enqueue', big);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      status: 'invalid event',
      message: 'Request body is larger than 512 KB',
      errors: ['body: larger than 512 KB'],
    });
    await bus.drain();
    expect((await store.list({})).incidents).toEqual([]);
  });
});

const alertmanagerBody = {
  version: '4',
  groupKey: '{}:{alertname="HighLatency"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'klaxon',
  groupLabels: { alertname: 'HighLatency' },
  commonLabels: { alertname: 'HighLatency', severity: 'critical' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example.com:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighLatency', severity: 'critical', instance: 'api-1:9100' },
      annotations: { summary: 'p99 latency above 2s' },
      startsAt: '2026-11-26T11:58:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up',
      fingerprint: 'c6b5b8d1f8d0a1e2',
    },
  ],
};

describe('POST /integrations/alertmanager and /integrations/grafana', () => {
  it('accepts the integration key in the path', async () => {
    const res = await post(`/integrations/alertmanager/${KEY}`, alertmanagerBody);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'success', message: 'Alerts accepted', alerts: 1 });
    await bus.drain();
    const [incident] = (await store.list({})).incidents;
    expect(incident).toMatchObject({
      dedupKey: 'c6b5b8d1f8d0a1e2',
      startedAt: '2026-11-26T11:58:00.000Z',
      title: 'p99 latency above 2s',
    });
  });

  it('accepts the integration key as a bearer token (Alertmanager http_config.authorization)', async () => {
    const res = await post('/integrations/alertmanager', alertmanagerBody, {
      authorization: `Bearer ${KEY}`,
    });
    expect(res.status).toBe(202);
  });

  it('accepts the integration key as the basic-auth password (Grafana)', async () => {
    const basic = Buffer.from(`grafana:${KEY}`).toString('base64');
    const res = await post(
      '/integrations/grafana',
      { ...alertmanagerBody, orgId: 1, state: 'alerting', title: 't', message: 'm' },
      { authorization: `Basic ${basic}` },
    );
    expect(res.status).toBe(202);
  });

  it('answers 401 without a key or with an unknown key, and changes nothing', async () => {
    expect((await post('/integrations/alertmanager', alertmanagerBody)).status).toBe(401);
    const res = await post('/integrations/alertmanager/nope', alertmanagerBody);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ status: 'error', message: 'unknown integration key', errors: [] });
    await bus.drain();
    expect((await store.list({})).incidents).toEqual([]);
  });

  it('answers 401 naming the supported forms to a key sent with another Authorization scheme', async () => {
    const grafana = { ...alertmanagerBody, orgId: 1, state: 'alerting', title: 't', message: 'm' };
    const res = await post('/integrations/grafana', grafana, { authorization: `Token ${KEY}` });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      status: 'error',
      message:
        'Authorization "Token" is not supported: send the integration key as "Authorization: Bearer <key>" ' +
        '(or as the basic-auth password), or in the URL path',
      errors: [],
    });
    // A bare credential without a scheme is not echoed back.
    const bare = await post('/integrations/grafana', grafana, { authorization: KEY });
    expect(bare.status).toBe(401);
    const { message } = (await bare.json()) as { message: string };
    expect(message).toMatch(/^Authorization without a scheme is not supported/);
    expect(message).not.toContain(KEY);
    // The key in the path still wins over a header Klaxon cannot read.
    expect((await post(`/integrations/grafana/${KEY}`, grafana, { authorization: 'Token x' })).status).toBe(
      202,
    );
    await bus.drain();
    expect((await store.list({})).incidents).toHaveLength(1);
  });

  it('answers 400 naming the bad field of an alert', async () => {
    const bad = { ...alertmanagerBody, alerts: [{ ...alertmanagerBody.alerts[0], status: 'burning' }] };
    const res = await post(`/integrations/alertmanager/${KEY}`, bad);
    expect(res.status).toBe(400);
    expect(
      ((await res.json()) as { errors: string[] }).errors.some((e) => e.startsWith('alerts.0.status:')),
    ).toBe(true);
  });

  it('accepts a fleet-wide group over 512 KB (2,000 alerts), and refuses one over 4 MB naming the limit', async () => {
    const published: unknown[] = [];
    const counting = createHttpApp({
      ...pipeline.deps,
      bus: { putAlerts: async (alerts) => void published.push(...alerts) },
      apiAuth: bearerAuth({ token: TOKEN }),
    });
    const [first] = alertmanagerBody.alerts;
    const group = (n: number, pad = '') => ({
      ...alertmanagerBody,
      alerts: Array.from({ length: n }, (_, i) => ({
        ...first,
        labels: { ...first?.labels, instance: `node-${i}:9100` },
        annotations: { summary: `node-${i} down${pad}` },
        fingerprint: `f${String(i).padStart(15, '0')}`,
      })),
    });
    const big = JSON.stringify(group(2000));
    expect(big.length).toBeGreaterThan(512 * 1024);
    const res = await counting.request(`/integrations/alertmanager/${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'success', message: 'Alerts accepted', alerts: 2000 });
    expect(published).toHaveLength(2000);

    published.length = 0;
    const huge = JSON.stringify(group(1200, 'x'.repeat(3500)));
    expect(huge.length).toBeGreaterThan(4 * 1024 * 1024);
    const refused = await counting.request(`/integrations/alertmanager/${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({
      status: 'invalid event',
      message: 'Request body is larger than 4 MB',
      errors: ['body: larger than 4 MB'],
    });
    expect(published).toEqual([]);
  });

  it("accepts PUT, the other method Grafana's webhook contact point offers", async () => {
    const grafana = { ...alertmanagerBody, orgId: 1, state: 'alerting', title: 't', message: 'm' };
    const res = await app.request(`/integrations/grafana/${KEY}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(grafana),
    });
    expect(res.status).toBe(202);
    await bus.drain();
    expect((await store.list({})).incidents).toHaveLength(1);
  });

  it('answers 404 for an integration type it does not have', async () => {
    expect((await post(`/integrations/zabbix/${KEY}`, {})).status).toBe(404);
  });
});

describe('GET /api/incidents', () => {
  it('refuses calls without the token', async () => {
    expect((await app.request('/api/incidents')).status).toBe(401);
  });

  it('lists incidents filtered by status and service, and shows one with its timeline', async () => {
    await post('/v2/enqueue', trigger);
    await post('/v2/enqueue', { ...trigger, dedup_key: 'other' });
    await bus.drain();
    await post('/v2/enqueue', { routing_key: KEY, event_action: 'resolve', dedup_key: 'other' });
    await bus.drain();
    const open = (await (await api('/api/incidents?status=triggered&service=checkout')).json()) as {
      incidents: { id: string; dedupKey: string }[];
    };
    expect(open.incidents.map((i) => i.dedupKey)).toEqual(['srv01/HTTP']);
    const shown = await api(`/api/incidents/${open.incidents[0]?.id}`);
    expect(shown.status).toBe(200);
    const body = (await shown.json()) as { incident: { id: string }; timeline: { type: string }[] };
    expect(body.incident.id).toBe(open.incidents[0]?.id);
    expect(body.timeline.map((e) => e.type)).toEqual(['OPENED']);
  });

  it('answers 400 naming a bad query field', async () => {
    const res = await api('/api/incidents?status=sleeping&limit=0');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { field: string }[] };
    expect(body.errors.map((e) => e.field).sort()).toEqual(['limit', 'status']);
  });

  it('answers 404 for an unknown incident', async () => {
    const res = await api('/api/incidents/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'no incident nope', errors: [] });
  });
});

describe('POST /api/integrations', () => {
  const create = (body: unknown, token = TOKEN) =>
    app.request('/api/integrations', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  it('creates a key that is shown once, stored hashed, and accepted at once', async () => {
    const res = await create({ service: 'checkout', name: 'Prometheus prod' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { integrationKey: string; service: string; name: string };
    expect(body).toMatchObject({ service: 'checkout', name: 'Prometheus prod' });
    expect(body.integrationKey).toMatch(/^[0-9a-f]{32}$/);
    expect(await store.findIntegration(body.integrationKey)).toBeUndefined();
    expect((await store.findIntegration(hashIntegrationKey(body.integrationKey)))?.service).toBe('checkout');
    expect((await post('/v2/enqueue', { ...trigger, routing_key: body.integrationKey })).status).toBe(202);
  });

  it('answers 400 naming the field for an unknown service or a missing name', async () => {
    const res = await create({ service: 'nope' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'name',
    ]);
    const unknown = await create({ service: 'nope', name: 'x' });
    expect(await unknown.json()).toEqual({
      message: 'unknown service',
      errors: [{ field: 'service', message: 'no service "nope" in the config' }],
    });
  });

  it('refuses callers without the token', async () => {
    expect((await create({ service: 'checkout', name: 'x' }, 'wrong')).status).toBe(401);
  });
});

describe('when the bus is down', () => {
  it('answers 503 so that the sender retries, and keeps internals out of the body', async () => {
    const down = createHttpApp({
      ...pipeline.deps,
      bus: {
        putAlerts: async () => {
          throw new RetryableError('EventBridge did not accept 1 alert(s) after 3 attempts');
        },
      },
      apiAuth: bearerAuth({ token: TOKEN }),
    });
    const res = await down.request('/v2/enqueue', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(trigger),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      status: 'error',
      message: 'temporarily unavailable, retry',
      errors: [],
    });
  });

  it('answers 500 for an unexpected failure without leaking it, and logs its route, not its path', async () => {
    const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
    const broken = createHttpApp({
      ...pipeline.deps,
      log: (level, message, data) => void lines.push({ level, message, ...(data ? { data } : {}) }),
      bus: {
        putAlerts: async () => {
          throw new Error('socket hang up at 10.0.0.1');
        },
      },
      apiAuth: bearerAuth({ token: TOKEN }),
    });
    const res = await broken.request(`/integrations/alertmanager/${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alertmanagerBody),
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ status: 'error', message: 'internal error', errors: [] });
    // The path carries the integration key (and a link's, its token): the log names the route.
    expect(JSON.stringify(lines)).not.toContain(KEY);
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'request failed',
        data: {
          method: 'POST',
          route: expect.stringMatching(/^\/integrations\//),
          error: 'Error: socket hang up at 10.0.0.1',
        },
      },
    ]);
  });
});
