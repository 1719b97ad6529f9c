import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#adapters/local/event-bus';
import { processAlert } from '#app/process-alert';
import { createHttpApp } from '#http/app';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';

const TOKEN = 'test-token-0123456789';
let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let pipeline: Pipeline;
let app: Hono;
let incidentId: string;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  pipeline = await startPipeline(
    dynamo,
    {
      timeZone: 'Europe/Berlin',
      services: [{ id: 'checkout', name: 'Checkout API' }],
      responders: [
        { id: 'alice', name: 'Alice', contacts: [{ type: 'email', address: 'alice@example.com' }] },
      ],
    },
    '2026-11-26T13:30:00.000Z',
  );
  app = createHttpApp({ ...pipeline.deps, bus: new LocalEventBus(), apiAuth: bearerAuth({ token: TOKEN }) });
  const opened = await processAlert(
    makeAlert({
      summary: 'High API error rate',
      receivedAt: '2026-11-26T13:30:00.000Z',
      occurredAt: '2026-11-26T13:20:00.000Z',
    }),
    pipeline.deps,
  );
  if (opened.kind !== 'opened') throw new Error('expected a new incident');
  incidentId = opened.incident.id;
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('the timeline, war room and postmortem over the API', () => {
  it('anyone on the incident adds ACTION/DECISION/… entries, rendered [HH:MM] [@who] [TYPE] text', async () => {
    pipeline.clock.set(new Date('2026-11-26T13:37:00.000Z'));
    const res = await call('POST', `/api/incidents/${incidentId}/timeline`, {
      type: 'DECISION',
      who: 'ic',
      text: 'Rollback deployment',
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { rendered: string }).rendered).toBe(
      '[14:37] [@ic] [DECISION] Rollback deployment',
    );
    const shown = (await (await call('GET', `/api/incidents/${incidentId}`)).json()) as {
      warRoom: string;
      rendered: string[];
    };
    expect(shown.warRoom).toBe('#incident-20261126-high-api-error-rate');
    expect(shown.rendered).toEqual([
      '[14:30] [@events-v2] [OPENED] Incident opened: High API error rate — no escalation policy: nobody paged',
      '[14:37] [@ic] [DECISION] Rollback deployment',
    ]);
  });

  it('refuses a bad entry naming the field, and changes nothing', async () => {
    const res = await call('POST', `/api/incidents/${incidentId}/timeline`, {
      type: 'RESOLVED',
      who: 'x y',
      text: '',
    });
    expect(res.status).toBe(400);
    const fields = ((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort();
    expect(fields).toEqual(['text', 'type', 'who']);
    expect(await pipeline.store.timeline(incidentId)).toHaveLength(1);
    expect(
      (await call('POST', '/api/incidents/nope/timeline', { type: 'ACTION', who: 'a', text: 'b' })).status,
    ).toBe(404);
  });

  it('generates the postmortem draft in Markdown, with the blameless check', async () => {
    await call('POST', `/api/incidents/${incidentId}/timeline`, {
      type: 'OBSERVATION',
      who: 'bob',
      text: 'Alice deployed bad code',
    });
    const res = await call(
      'GET',
      `/api/incidents/${incidentId}/postmortem?template=deployment&authors=alice,bob`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const markdown = await res.text();
    expect(markdown).toContain('# Postmortem: High API error rate');
    expect(markdown).toContain('| Authors | alice, bob |');
    expect(markdown).toContain('| Date | 2026-11-26 (Europe/Berlin) |');
    expect(markdown).toContain(
      'Alice deployed bad code (@bob) |” names a person as the cause of a bad change.',
    );
    const json = (await (
      await call('GET', `/api/incidents/${incidentId}/postmortem`, undefined, { accept: 'application/json' })
    ).json()) as { blame: { phrase: string }[] };
    expect(json.blame.map((b) => b.phrase)).toEqual(['Alice deployed bad code']);
    expect((await call('GET', `/api/incidents/${incidentId}/postmortem?template=space`)).status).toBe(400);
  });

  it('needs the token', async () => {
    expect((await app.request(`/api/incidents/${incidentId}/postmortem`)).status).toBe(401);
  });
});
