import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#adapters/local/event-bus';
import type { ActionItemRecord } from '#app/ports';
import { processAlert } from '#app/process-alert';
import type { Incident, TimelineEntry } from '#core/incident';
import { createHttpApp } from '#http/app';
import { runbooksOf } from '#http/incident-routes';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';

const TOKEN = 'test-token-0123456789';
const RUNBOOK = 'https://wiki.example.com/checkout/runbook';
const MINUTE = 60_000;
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
      services: [{ id: 'checkout', name: 'Checkout API', runbookUrl: RUNBOOK }],
      responders: [
        { id: 'alice', name: 'Alice', contacts: [{ type: 'email', address: 'alice@example.com' }] },
        { id: 'bob', name: 'Bob', contacts: [{ type: 'email', address: 'bob@example.com' }] },
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
      links: [
        { href: 'https://grafana.example.com/d/api', text: 'API dashboard' },
        { href: 'https://wiki.example.com/Runbooks/api-errors', text: 'What to do' },
        { href: 'https://docs.example.com/ops/api', text: 'API RunBook' },
      ],
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
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
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

  it('a status UPDATE moves the pending status-update reminder to one interval after it and ticks the checklist', async () => {
    expect((await call('POST', `/api/incidents/${incidentId}/acknowledge`, { who: 'alice' })).status).toBe(
      200,
    );
    const reminder = async () =>
      (await pipeline.timers.pending()).find((t) => t.name.startsWith('rem-'))?.dueAt;
    expect(await reminder()).toBe('2026-11-26T13:45:00.000Z'); // SEV-1: acknowledged + 15
    pipeline.clock.set(new Date('2026-11-26T13:42:00.000Z'));
    const update = {
      type: 'UPDATE',
      who: 'alice',
      text: 'Checkout failing for EU users; rolling back',
      key: 'u1',
    };
    const res = await call('POST', `/api/incidents/${incidentId}/timeline`, update);
    expect(res.status).toBe(201);
    expect(((await res.json()) as { rendered: string }).rendered).toBe(
      '[14:42] [@alice] [UPDATE] Checkout failing for EU users; rolling back',
    );
    expect(await reminder()).toBe('2026-11-26T13:57:00.000Z');
    // For chat bots: "Incident Status Updated" with the update and who posted it.
    const updated = () => pipeline.events.published.filter((e) => e.detailType === 'Incident Status Updated');
    expect(updated().map((e) => e.detail)).toEqual([
      expect.objectContaining({
        actor: 'alice',
        update: 'Checkout failing for EU users; rolling back',
        postedAt: '2026-11-26T13:42:00.000Z',
      }),
    ]);
    // Retried a minute later: the same entry (200), the reminder where it was, the same event id.
    pipeline.clock.set(new Date('2026-11-26T13:43:00.000Z'));
    expect((await call('POST', `/api/incidents/${incidentId}/timeline`, update)).status).toBe(200);
    expect(await reminder()).toBe('2026-11-26T13:57:00.000Z');
    expect(new Set(updated().map((e) => e.detail.id)).size).toBe(1);
    const checklist = (await (await call('GET', `/api/incidents/${incidentId}/checklist`)).json()) as {
      phases: { items: { id: string; done: boolean; by?: string }[] }[];
    };
    const ticked = checklist.phases.flatMap((p) => p.items).find((i) => i.id === 'status-updates');
    expect(ticked).toMatchObject({ done: true, by: 'alice' });
    // An unknown type is refused naming it, and nothing moves.
    const bad = await call('POST', `/api/incidents/${incidentId}/timeline`, {
      ...update,
      type: 'STATUS',
      key: 'u2',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'type',
    ]);
    expect(await reminder()).toBe('2026-11-26T13:57:00.000Z');
    expect((await pipeline.store.timeline(incidentId)).filter((e) => e.type === 'UPDATE')).toHaveLength(1);
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

  // Regression test: unknown query parameters were ignored, so `?templat=deployment` answered the
  // default template, and a misspelt body field of `exclude` was dropped.
  it('refuses unknown query parameters and body fields, naming them; nothing changes', async () => {
    const refused: [string, string, unknown, string[]][] = [
      ['GET', `/api/incidents/${incidentId}/postmortem?templat=deployment`, undefined, ['templat']],
      ['GET', '/api/incidents?statuss=open', undefined, ['statuss']],
      ['GET', '/api/action-items?state=open&status=open', undefined, ['state']],
      ['GET', '/api/rollups?from=2026-11-01&to=2026-11-02&sev=SEV-1', undefined, ['sev']],
      ['POST', `/api/incidents/${incidentId}/exclude`, { excluded: true, reason: 'drill' }, ['reason']],
      ['POST', '/api/integrations', { service: 'checkout', name: 'p', env: 'prod' }, ['env']],
      // A route that takes no query refuses every parameter: one it does not have was dropped, so
      // ?activ=true answered every window and a filter read as applied was not.
      ['GET', `/api/incidents/${incidentId}?view=short`, undefined, ['view']],
      ['GET', `/api/incidents/${incidentId}/action-items?state=open`, undefined, ['state']],
      ['GET', '/api/services/checkout/maintenance?activ=true', undefined, ['activ']],
      ['POST', `/api/incidents/${incidentId}/acknowledge?who=bob`, { who: 'alice' }, ['who']],
      ['DELETE', '/api/services/checkout/maintenance/nope?force=1', undefined, ['force']],
    ];
    const before = await snapshot();
    for (const [method, path, body, fields] of refused) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(await errorFields(res), `${method} ${path}`).toEqual(fields);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('needs the token', async () => {
    expect((await app.request(`/api/incidents/${incidentId}/postmortem`)).status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------
// Incident command

const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;
const errorFields = async (res: Response) =>
  (await json<{ errors: { field: string }[] }>(res)).errors.map((e) => e.field).sort();
const at = (iso: string) => pipeline.clock.set(new Date(iso));

interface Shown {
  incident: Incident;
  timeline: TimelineEntry[];
  rendered: string[];
  checklist: { phases: { phase: string; items: { id: string; done: boolean; overdue: boolean }[] }[] };
  runbooks: { href: string; text?: string }[];
  actionItems: ActionItemRecord[];
  postmortem: { required: boolean; dueAt?: string; doneAt?: string };
  timeZone: string;
}
const show = async (id = incidentId) => json<Shown>(await call('GET', `/api/incidents/${id}`));

/** What a refused request must leave alone: the incident (its version) and its timeline. */
async function snapshot(id = incidentId) {
  return { incident: await pipeline.store.get(id), timeline: await pipeline.store.timeline(id) };
}

/** Declares an incident over the API. */
async function declare(body: Record<string, unknown> = {}): Promise<Incident> {
  const res = await call('POST', '/api/incidents', {
    service: 'checkout',
    title: 'Payments slow',
    severity: 'SEV-3',
    who: 'alice',
    ...body,
  });
  expect(res.status).toBe(201);
  return (await json<{ incident: Incident }>(res)).incident;
}

const HANDOFF = {
  to: 'bob',
  who: 'alice',
  brief: {
    status: 'Error rate 5%, falling',
    tried: 'Restarted the pods; no change',
    strategy: 'Roll back the 14:02 deploy',
    people: 'carol is tech lead',
    decisions: 'Whether to fail over to eu-west-2',
  },
};

const ACTION_ITEM = {
  action: 'Alert on error rate within 10 minutes of a deploy',
  owner: 'bob',
  deadline: '2026-12-15',
  category: 'Detect',
  who: 'alice',
};

/** Every new route, with a valid body: none of them may answer without the token. */
const NEW_ROUTES: [string, string, unknown?][] = [
  ['POST', '/api/incidents', { service: 'checkout', title: 'x', severity: 'SEV-3', who: 'a' }],
  ['POST', '/acknowledge', { who: 'a' }],
  ['POST', '/mitigate', { who: 'a' }],
  ['POST', '/resolve', { who: 'a', now: true }],
  ['POST', '/snooze', { who: 'a', minutes: 60 }],
  ['POST', '/severity', { severity: 'SEV-2', reason: 'r', who: 'a' }],
  ['POST', '/roles', { role: 'scribe', person: 'bob', who: 'a' }],
  ['DELETE', '/roles/scribe', { who: 'a' }],
  ['DELETE', '/roles/sme/bob', { who: 'a' }],
  ['POST', '/handoff', HANDOFF],
  ['GET', '/checklist'],
  ['POST', '/checklist/notify-stakeholders', { who: 'a' }],
  ['POST', '/postmortem/publish', { who: 'a' }],
  ['GET', '/action-items'],
  ['POST', '/action-items', ACTION_ITEM],
  ['PATCH', '/action-items/some-item', { status: 'done', who: 'a' }],
  ['GET', '/api/action-items'],
  ['GET', '/api/action-items?status=open'],
];
const pathOf = (path: string, id = incidentId) =>
  path.startsWith('/api/') ? path : `/api/incidents/${id}${path}`;

describe('declaring an incident: POST /api/incidents', () => {
  it('classifies it from the impact: 60% of users affected is SEV-1, with the reasons', async () => {
    const res = await call('POST', '/api/incidents', {
      service: 'checkout',
      title: 'Checkout failing for EU users',
      impact: { usersAffectedPercent: 60 },
      who: 'alice',
    });
    expect(res.status).toBe(201);
    const body = await json<{ incident: Incident; classification: { severity: string; reasons: string[] } }>(
      res,
    );
    expect(body.incident).toMatchObject({
      sev: 'SEV-1',
      status: 'triggered',
      title: 'Checkout failing for EU users',
    });
    expect(body.classification).toEqual({ severity: 'SEV-1', reasons: ['users affected 60% → SEV-1'] });
    const shown = await show(body.incident.id);
    expect(shown.rendered).toContain(
      '[14:30] [@alice] [DECISION] Declared SEV-1 (users affected 60% → SEV-1)',
    );
  });

  it('given a severity and an impact, the more severe wins, and the entry says so', async () => {
    const worse = await declare({ severity: 'SEV-3', impact: { usersAffectedPercent: 60 }, key: 'under' });
    expect(worse.sev).toBe('SEV-1');
    expect((await show(worse.id)).rendered.join('\n')).toContain(
      '[DECISION] Declared SEV-1 (given SEV-3: the impact is worse; users affected 60% → SEV-1)',
    );
    const given = await declare({ severity: 'SEV-2', impact: { usersAffectedPercent: 5 }, key: 'over' });
    expect(given.sev).toBe('SEV-2');
    expect((await show(given.id)).rendered.join('\n')).toContain(
      '[DECISION] Declared SEV-2 (users affected 5% → SEV-3)',
    );
  });

  it('keeps the declared impact on the incident: shown with it, and in the postmortem’s Impact section', async () => {
    const impact = { usersAffectedPercent: 60, revenuePerHour: 12000, slaRisk: 'yes' };
    const declared = await declare({ severity: undefined, impact, key: 'with-impact' });
    expect(declared.impact).toEqual(impact);
    expect((await show(declared.id)).incident.impact).toEqual(impact);
    // A retry with the key finds it as the first request stored it.
    const again = await call('POST', '/api/incidents', {
      service: 'checkout',
      title: 'Payments slow',
      impact,
      who: 'alice',
      key: 'with-impact',
    });
    expect((await json<{ incident: Incident }>(again)).incident.impact).toEqual(impact);
    const postmortem = await (await call('GET', `/api/incidents/${declared.id}/postmortem`)).text();
    expect(postmortem).toContain('- User impact: 60% of users affected (declared)');
    expect(postmortem).toContain('- Business impact: $12,000 revenue per hour; SLA at risk: yes (declared)');
    // An alert's incident has no declared impact: the placeholders stay.
    expect((await show()).incident).not.toHaveProperty('impact');
    expect(await (await call('GET', `/api/incidents/${incidentId}/postmortem`)).text()).toContain(
      '- User impact: _share of users affected',
    );
  });

  it('with the severity given, there is no classification', async () => {
    const res = await call('POST', '/api/incidents', {
      service: 'checkout',
      title: 'Payments slow',
      severity: 'SEV-3',
      who: 'alice',
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ incident: { sev: 'SEV-3' } });
    expect(body).not.toHaveProperty('classification');
  });

  it('with an idempotency key, the retried request answers 200 with the same incident and pages nobody again', async () => {
    const body = {
      service: 'checkout',
      title: 'Payments slow',
      severity: 'SEV-3',
      who: 'alice',
      key: 'retry-me',
    };
    const first = await call('POST', '/api/incidents', body);
    expect(first.status).toBe(201);
    const created = await json<{ incident: Incident; created: boolean }>(first);
    const pages = pipeline.pager.inbox.length;
    const again = await call('POST', '/api/incidents', body);
    expect(again.status).toBe(200);
    const replayed = await json<{ incident: Incident; created: boolean }>(again);
    expect(replayed).toMatchObject({ created: false, incident: { id: created.incident.id } });
    expect(pipeline.pager.inbox.length).toBe(pages);
    expect((await pipeline.store.list({})).incidents.filter((i) => i.title === 'Payments slow')).toHaveLength(
      1,
    );
    // The same incident while it is being resolved (monitoring), and once resolved: the key names
    // that request, not an alert.
    await call('POST', `/api/incidents/${created.incident.id}/resolve`, { who: 'alice', now: false });
    const watched = await call('POST', '/api/incidents', body);
    expect(watched.status).toBe(200);
    expect(await json(watched)).toMatchObject({ created: false, incident: { id: created.incident.id } });
    expect((await pipeline.store.get(created.incident.id))?.alertCount).toBe(1);
    await call('POST', `/api/incidents/${created.incident.id}/resolve`, { who: 'alice', now: true });
    const late = await call('POST', '/api/incidents', body);
    expect(late.status).toBe(200);
    expect(await json(late)).toMatchObject({
      created: false,
      incident: { id: created.incident.id, status: 'resolved' },
    });
    expect((await pipeline.store.list({})).incidents.filter((i) => i.title === 'Payments slow')).toHaveLength(
      1,
    );
  });

  it('refuses bad declarations naming the field, and opens nothing', async () => {
    const before = (await pipeline.store.list({})).incidents.length;
    const bad = (body: Record<string, unknown>) =>
      call('POST', '/api/incidents', { service: 'checkout', title: 'x', who: 'alice', ...body });
    let res = await bad({ severity: 'SEV-5' });
    expect(res.status).toBe(400);
    expect(await errorFields(res)).toEqual(['severity']);
    res = await bad({}); // neither severity nor impact
    expect(await errorFields(res)).toEqual(['severity']);
    res = await bad({ severity: 'SEV-2', impact: { usersAffectedPercent: 160 } });
    expect(await errorFields(res)).toEqual(['impact.usersAffectedPercent']);
    res = await bad({ severity: 'SEV-2', service: 'nope' });
    expect(res.status).toBe(400);
    expect(await errorFields(res)).toEqual(['service']);
    res = await bad({ severity: 'SEV-2', colour: 'red' });
    expect(res.status).toBe(400);
    expect(await errorFields(res)).toEqual(['colour']);
    res = await bad({ impact: { usersAffectedPercent: 60, users: 3 } });
    expect(await errorFields(res)).toEqual(['impact.users']);
    expect((await pipeline.store.list({})).incidents).toHaveLength(before);
  });
});

describe('GET /api/incidents/:id', () => {
  it('shows the incident with its checklist, runbooks, action items and postmortem status', async () => {
    const shown = await show();
    expect(shown.incident.id).toBe(incidentId);
    expect(shown.runbooks).toEqual([
      { href: RUNBOOK, text: 'Checkout API runbook' },
      { href: 'https://wiki.example.com/Runbooks/api-errors', text: 'What to do' },
      { href: 'https://docs.example.com/ops/api', text: 'API RunBook' },
    ]);
    expect(shown.checklist.phases.map((p) => p.phase)).toEqual([
      'initial-response',
      'mitigation',
      'resolution',
      'postmortem',
    ]);
    expect(shown.actionItems).toEqual([]);
    // SEV-1 (critical) needs a postmortem, due only once resolved.
    expect(shown.postmortem).toEqual({ required: true });
    // The zone its rendered timeline is in, so that a client shows its other times in it too.
    expect(shown.timeZone).toBe('Europe/Berlin');
    expect((await call('GET', '/api/incidents/nope')).status).toBe(404);
  });
});

describe('the lifecycle: acknowledge, mitigate, resolve', () => {
  it('acknowledges (and a repeat changes nothing)', async () => {
    at('2026-11-26T13:32:00.000Z');
    const res = await call('POST', `/api/incidents/${incidentId}/acknowledge`, { who: 'alice' });
    expect(res.status).toBe(200);
    const body = await json<{ incident: Incident; changed: boolean }>(res);
    expect(body.changed).toBe(true);
    expect(body.incident).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    const again = await json(
      await call('POST', `/api/incidents/${incidentId}/acknowledge`, { who: 'alice' }),
    );
    expect(again).toMatchObject({ changed: false, incident: { status: 'acknowledged' } });
  });

  it('mitigates, with a note', async () => {
    at('2026-11-26T13:50:00.000Z');
    const res = await call('POST', `/api/incidents/${incidentId}/mitigate`, {
      who: 'alice',
      note: 'Rolled back to v41',
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      changed: true,
      incident: { status: 'mitigated', mitigatedBy: 'alice', mitigatedAt: '2026-11-26T13:50:00.000Z' },
    });
    expect((await pipeline.store.timeline(incidentId)).map((e) => e.type)).toContain('MITIGATED');
  });

  it('a resolve first watches the service (monitoring); a quiet period ends resolved', async () => {
    at('2026-11-26T14:00:00.000Z');
    const res = await call('POST', `/api/incidents/${incidentId}/resolve`, { who: 'alice' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      changed: true,
      incident: { status: 'monitoring', monitoringUntil: '2026-11-26T14:15:00.000Z' },
    });
    await pipeline.fastForward(16 * MINUTE);
    expect(await pipeline.store.get(incidentId)).toMatchObject({
      status: 'resolved',
      resolvedAt: '2026-11-26T14:00:00.000Z',
    });
  });

  it('resolve with now: true skips the monitoring period', async () => {
    const res = await call('POST', `/api/incidents/${incidentId}/resolve`, { who: 'alice', now: true });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      changed: true,
      incident: { status: 'resolved', resolvedBy: 'alice' },
    });
    // Now the postmortem is due 48 hours after the resolution.
    expect((await show()).postmortem).toEqual({ required: true, dueAt: '2026-11-28T13:30:00.000Z' });
  });

  it('409 naming status: mitigating a resolved incident; nothing changes', async () => {
    await call('POST', `/api/incidents/${incidentId}/resolve`, { who: 'alice', now: true });
    const before = await snapshot();
    const res = await call('POST', `/api/incidents/${incidentId}/mitigate`, { who: 'alice' });
    expect(res.status).toBe(409);
    const body = await json<{ message: string; errors: { field: string; message: string }[] }>(res);
    expect(body.errors).toEqual([{ field: 'status', message: 'is resolved' }]);
    expect(body.message).toContain('resolved');
    expect(await snapshot()).toEqual(before);
  });
});

describe('snooze: POST /api/incidents/<id>/snooze', () => {
  const snooze = (body: unknown) => call('POST', `/api/incidents/${incidentId}/snooze`, body);

  it('snoozes an acknowledged incident: its ack timeout moves to the snooze’s end, SNOOZED on the timeline', async () => {
    at('2026-11-26T13:32:00.000Z');
    await call('POST', `/api/incidents/${incidentId}/acknowledge`, { who: 'alice' });
    const res = await snooze({ who: 'alice', minutes: 120, from: null });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      changed: true,
      incident: { status: 'acknowledged', snooze: { until: '2026-11-26T15:32:00.000Z', by: 'alice' } },
    });
    expect((await show()).rendered.at(-1)).toBe(
      '[14:32] [@alice] [SNOOZED] Snoozed by Alice until 16:32 Thu 26 Nov (Europe/Berlin)',
    );
    const lapse = (await pipeline.timers.pending()).filter((t) => t.name.startsWith('ackto-'));
    expect(lapse.map((t) => t.dueAt)).toEqual(['2026-11-26T15:32:00.000Z']);
    // The same request again is its retry.
    expect(await json(await snooze({ who: 'alice', minutes: 120, from: null }))).toMatchObject({
      changed: false,
    });
    expect((await show()).rendered.filter((l) => l.includes('[SNOOZED]'))).toHaveLength(1);
  });

  it('refuses bad input naming the field (minutes 1..9000, a whole number), and changes nothing', async () => {
    await call('POST', `/api/incidents/${incidentId}/acknowledge`, { who: 'alice' });
    const before = await snapshot();
    for (const [body, field] of [
      [{ who: 'alice', minutes: 0 }, 'minutes'],
      [{ who: 'alice', minutes: 9001 }, 'minutes'],
      [{ who: 'alice', minutes: 1.5 }, 'minutes'],
      [{ who: 'alice', minutes: '60' }, 'minutes'],
      [{ who: 'alice' }, 'minutes'],
      [{ who: 'alice', minutes: 60, from: 'soon' }, 'from'],
      [{ who: 'alice', minute: 60 }, 'minute'],
    ] as const) {
      const res = await snooze(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorFields(res), JSON.stringify(body)).toContain(field);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('409 naming status unless acknowledged; 409 naming from once snoozed by someone else; nothing changes', async () => {
    const before = await snapshot();
    const res = await snooze({ who: 'alice', minutes: 60 });
    expect(res.status).toBe(409);
    expect((await json<{ errors: unknown }>(res)).errors).toEqual([
      { field: 'status', message: 'is triggered' },
    ]);
    expect(await snapshot()).toEqual(before);
    await call('POST', `/api/incidents/${incidentId}/acknowledge`, { who: 'alice' });
    await snooze({ who: 'bob', minutes: 30 });
    const snoozed = await snapshot();
    const late = await snooze({ who: 'alice', minutes: 60, from: null });
    expect(late.status).toBe(409);
    expect((await json<{ errors: unknown }>(late)).errors).toEqual([
      { field: 'from', message: 'is 2026-11-26T14:00:00.000Z' },
    ]);
    expect(await snapshot()).toEqual(snoozed);
  });
});

describe('severity, roles and handoff', () => {
  it('a severity raise is recorded on the timeline', async () => {
    const declared = await declare({ severity: 'SEV-3' });
    at('2026-11-26T13:40:00.000Z');
    const res = await call('POST', `/api/incidents/${declared.id}/severity`, {
      severity: 'SEV-1',
      reason: 'All regions affected',
      who: 'alice',
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, incident: { sev: 'SEV-1' } });
    expect((await show(declared.id)).rendered).toContain(
      '[14:40] [@alice] [SEVERITY_CHANGED] Escalated SEV-3 → SEV-1: All regions affected',
    );
  });

  it('assigns a role', async () => {
    const res = await call('POST', `/api/incidents/${incidentId}/roles`, {
      role: 'scribe',
      person: 'bob',
      who: 'alice',
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, incident: { roles: { scribe: 'bob' } } });
    // Bob is told (a notice), and the rendered line says so.
    expect((await show()).rendered.at(-1)).toMatch(
      /\[@alice\] \[ROLE_ASSIGNED\] Bob is the scribe · paged: bob$/,
    );
  });

  it('removes a role and an SME (DELETE …/roles/<role>, …/roles/sme/<person>); a retry changes nothing', async () => {
    const roles = `/api/incidents/${incidentId}/roles`;
    await call('POST', roles, { role: 'scribe', person: 'bob', who: 'alice' });
    await call('POST', roles, { role: 'sme', person: 'bob', who: 'alice' });
    pipeline.takePages();
    at('2026-11-26T13:45:00.000Z');
    const removal = { who: 'alice', from: 'bob' };
    const res = await call('DELETE', `${roles}/scribe`, removal);
    expect(res.status).toBe(200);
    const removed = await json<{ incident: Incident; changed: boolean }>(res);
    expect(removed.changed).toBe(true);
    expect(removed.incident.roles).toEqual({});
    // Bob is told, and the timeline says so.
    expect((await show()).rendered.at(-1)).toBe(
      '[14:45] [@alice] [ROLE_REMOVED] Bob is no longer the scribe · paged: bob',
    );
    expect(pipeline.takePages()).toEqual(['notice bob bob-0']);
    // The same request again (a retry): 200, changed: false, one entry, nobody told twice.
    const before = await snapshot();
    const retried = await call('DELETE', `${roles}/scribe`, removal);
    expect(retried.status).toBe(200);
    expect(await json(retried)).toMatchObject({ changed: false });
    expect(await snapshot()).toEqual(before);
    expect(pipeline.takePages()).toEqual([]);

    // (Past the throttle's 3 minutes between notices to one contact.)
    at('2026-11-26T13:49:00.000Z');
    const sme = await call('DELETE', `${roles}/sme/bob`, { who: 'alice' });
    expect(sme.status).toBe(200);
    expect(await json(sme)).toMatchObject({ changed: true, incident: { smes: [] } });
    expect((await show()).rendered.at(-1)).toBe(
      '[14:49] [@alice] [ROLE_REMOVED] Bob is no longer a subject-matter expert · paged: bob',
    );
    expect(await json(await call('DELETE', `${roles}/sme/bob`, { who: 'alice' }))).toMatchObject({
      changed: false,
    });
    const entries = (await show()).timeline.filter((e) => e.type === 'ROLE_REMOVED');
    expect(entries).toHaveLength(2);
    // Given again, the role is held again (a new assignment, a new entry).
    expect(
      await json(await call('POST', roles, { role: 'scribe', person: 'bob', from: null, who: 'alice' })),
    ).toMatchObject({ changed: true, incident: { roles: { scribe: 'bob' } } });
  });

  it('a role removal with from is refused (409 naming from) once another holds the role; bad input is a 400 naming the field; nothing changes', async () => {
    const roles = `/api/incidents/${incidentId}/roles`;
    await call('POST', roles, { role: 'commander', person: 'alice', who: 'alice' });
    const before = await snapshot();
    for (const from of ['bob', null]) {
      const res = await call('DELETE', `${roles}/commander`, { who: 'bob', from });
      expect(res.status).toBe(409);
      expect((await json<{ errors: unknown[] }>(res)).errors).toEqual([
        { field: 'from', message: 'is alice' },
      ]);
    }
    const refused: [string, unknown, string[]][] = [
      ['/boss', { who: 'alice' }, ['role']],
      ['/sme', { who: 'alice' }, ['role']],
      ['/sme/not%20a%20handle', { who: 'alice' }, ['person']],
      ['/sme/bob', { who: 'alice', from: 'bob' }, ['from']],
      ['/commander', { who: 'alice', from: 'not a handle' }, ['from']],
      ['/commander', { who: 'alice', colour: 'red' }, ['colour']],
      ['/commander', {}, ['who']],
      ['/commander', 'not json', ['body']],
    ];
    for (const [path, body, fields] of refused) {
      const res = await call('DELETE', `${roles}${path}`, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(await errorFields(res), `${path} ${JSON.stringify(body)}`).toEqual(fields);
    }
    expect(await snapshot()).toEqual(before);
    // A resolved incident's roles stay as they were: 409 naming status.
    await call('POST', `/api/incidents/${incidentId}/resolve`, { who: 'alice', now: true });
    const resolved = await snapshot();
    const res = await call('DELETE', `${roles}/commander`, { who: 'alice', from: 'alice' });
    expect(res.status).toBe(409);
    expect(await errorFields(res)).toEqual(['status']);
    expect(await snapshot()).toEqual(resolved);
  });

  it('the same removal sent twice at once is made once: one entry, one notice', async () => {
    const roles = `/api/incidents/${incidentId}/roles`;
    await call('POST', roles, { role: 'tech-lead', person: 'bob', who: 'alice' });
    pipeline.takePages();
    at('2026-11-26T13:50:00.000Z');
    const removal = { who: 'alice', from: 'bob' };
    const answers = await Promise.all([
      call('DELETE', `${roles}/tech-lead`, removal),
      call('DELETE', `${roles}/tech-lead`, removal),
    ]);
    for (const res of answers) expect([200, 503]).toContain(res.status);
    const retried = await call('DELETE', `${roles}/tech-lead`, removal);
    expect(await json(retried)).toMatchObject({ changed: false, incident: { roles: {} } });
    expect((await show()).timeline.filter((e) => e.type === 'ROLE_REMOVED')).toHaveLength(1);
    expect(pipeline.takePages()).toEqual(['notice bob bob-0']);
  });

  it('a handoff makes the new incident commander, and its brief is on the rendered timeline', async () => {
    at('2026-11-26T14:05:00.000Z');
    const res = await call('POST', `/api/incidents/${incidentId}/handoff`, HANDOFF);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, incident: { roles: { commander: 'bob' } } });
    const line = (await show()).rendered.find((r) => r.includes('[HANDOFF]'));
    expect(line).toBeDefined();
    expect(line).toContain('[15:05] [@alice] [HANDOFF] Incident commander handoff to Bob.');
    for (const part of Object.values(HANDOFF.brief)) expect(line).toContain(part);
  });

  it('says so (warning), without refusing, when one person is both the incident commander and the tech lead', async () => {
    const roles = `/api/incidents/${incidentId}/roles`;
    at('2026-11-26T14:09:00.000Z');
    const commander = (await json(
      await call('POST', roles, { role: 'commander', person: 'bob', who: 'alice' }),
    )) as {
      warning?: string;
    };
    expect(commander.warning).toBeUndefined();
    at('2026-11-26T14:10:00.000Z');
    const both = (await json(
      await call('POST', roles, { role: 'tech-lead', person: 'bob', who: 'alice' }),
    )) as {
      warning?: string;
    };
    expect(both).toMatchObject({
      changed: true,
      incident: { roles: { commander: 'bob', 'tech-lead': 'bob' } },
    });
    expect(both.warning).toBe(
      'bob is both the incident commander and the tech lead: the commander coordinates and does not fix the issue (PRACTICE); give one of the roles to someone else when you can',
    );
    at('2026-11-26T14:11:00.000Z');
    const apart = (await json(
      await call('POST', roles, { role: 'tech-lead', person: 'alice', who: 'alice' }),
    )) as {
      warning?: string;
    };
    expect(apart).toMatchObject({ changed: true, incident: { roles: { 'tech-lead': 'alice' } } });
    expect(apart.warning).toBeUndefined();
  });

  it('refuses bad bodies naming the field, and changes nothing', async () => {
    const before = await snapshot();
    const refused: [string, unknown, string[]][] = [
      ['/severity', { severity: 'SEV-5', reason: 'worse', who: 'alice' }, ['severity']],
      ['/severity', { severity: 'SEV-2', reason: '  ', who: 'alice' }, ['reason']],
      ['/roles', { role: 'boss', person: 'bob', who: 'alice' }, ['role']],
      ['/roles', { role: 'sme', person: 'bob', from: 'alice', who: 'alice' }, ['from']],
      ['/severity', { severity: 'SEV-2', from: 'SEV-9', reason: 'worse', who: 'alice' }, ['from']],
      ['/handoff', { ...HANDOFF, from: 'not a handle' }, ['from']],
      ['/handoff', { ...HANDOFF, brief: { ...HANDOFF.brief, tried: undefined } }, ['brief.tried']],
      ['/acknowledge', { who: 'not a handle' }, ['who']],
      ['/mitigate', { who: 'alice', note: '' }, ['note']],
      ['/resolve', { who: 'alice', now: 'yes' }, ['now']],
      ['/resolve', 'not json', ['body']],
    ];
    for (const [path, body, fields] of refused) {
      const res = await call('POST', `/api/incidents/${incidentId}${path}`, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(await errorFields(res), `${path} ${JSON.stringify(body)}`).toEqual(fields);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('with from, a late retry over a later change is a 409 naming from (and the current value); nothing changes', async () => {
    const declared = await declare({ severity: 'SEV-3' });
    const path = `/api/incidents/${declared.id}`;
    const handoff = { ...HANDOFF, from: null };
    expect((await call('POST', `${path}/handoff`, handoff)).status).toBe(200);
    const later = { ...HANDOFF, to: 'alice', from: 'bob', who: 'bob' };
    expect((await call('POST', `${path}/handoff`, later)).status).toBe(200);
    const raise = { severity: 'SEV-1', from: 'SEV-3', reason: 'down', who: 'alice' };
    expect((await call('POST', `${path}/severity`, raise)).status).toBe(200);
    expect(
      (await call('POST', `${path}/severity`, { ...raise, severity: 'SEV-2', from: 'SEV-1' })).status,
    ).toBe(200);
    const before = await snapshot(declared.id);
    for (const [route, body, current] of [
      ['/handoff', handoff, 'alice'],
      ['/severity', raise, 'SEV-2'],
      ['/roles', { role: 'commander', person: 'bob', from: 'carol', who: 'bob' }, 'alice'],
    ] as const) {
      const res = await call('POST', `${path}${route}`, body);
      expect(res.status, route).toBe(409);
      expect((await json<{ errors: unknown[] }>(res)).errors).toEqual([
        { field: 'from', message: `is ${current}` },
      ]);
    }
    // The same handoff again while it holds is a retry: 200, changed: false, one brief.
    const retried = await call('POST', `${path}/handoff`, later);
    expect(await json(retried)).toMatchObject({
      changed: false,
      incident: { roles: { commander: 'alice' } },
    });
    // A handoff to the commander there is, with a brief of its own, would drop that brief: 409 naming to.
    const again = await call('POST', `${path}/handoff`, {
      ...later,
      brief: { ...HANDOFF.brief, tried: 'more' },
    });
    expect(again.status).toBe(409);
    expect(await errorFields(again)).toEqual(['to']);
    expect(await snapshot(declared.id)).toEqual(before);
  });

  it('404 for an unknown incident, on every command', async () => {
    for (const [method, path, body] of NEW_ROUTES) {
      if (path.startsWith('/api/')) continue;
      const res = await call(method, pathOf(path, 'no-such-incident'), body);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
  });
});

describe('the checklist', () => {
  type Checklist = {
    phases: { phase: string; items: { id: string; done: boolean; overdue: boolean; by?: string }[] }[];
    overdue: number;
    rendered: string;
  };
  const item = (view: Pick<Checklist, 'phases'>, id: string) =>
    view.phases.flatMap((p) => p.items).find((i) => i.id === id);

  it('shows overdue items; a tick takes one off', async () => {
    at('2026-11-26T13:40:00.000Z'); // the initial response was due at 13:35
    const before = await json<Checklist>(await call('GET', `/api/incidents/${incidentId}/checklist`));
    expect(before.overdue).toBeGreaterThan(0);
    expect(item(before, 'notify-stakeholders')).toMatchObject({ done: false, overdue: true });
    expect(before.rendered).toContain('Initial Response (0-5 min) — due 14:35');
    expect(before.rendered).toContain('[ ] Notify stakeholders OVERDUE');

    const res = await call('POST', `/api/incidents/${incidentId}/checklist/notify-stakeholders`, {
      who: 'alice',
    });
    expect(res.status).toBe(200);
    const ticked = await json<{ incident: Incident; changed: boolean; checklist: Checklist }>(res);
    expect(ticked.changed).toBe(true);
    expect(ticked.incident.checklist['notify-stakeholders']).toEqual({
      at: '2026-11-26T13:40:00.000Z',
      by: 'alice',
    });
    expect(item(ticked.checklist, 'notify-stakeholders')).toMatchObject({
      done: true,
      overdue: false,
      by: 'alice',
    });
    expect(ticked.checklist.overdue).toBe(before.overdue - 1);
    const after = await json<Checklist>(await call('GET', `/api/incidents/${incidentId}/checklist`));
    expect(after.rendered).toContain('[x] Notify stakeholders (alice 14:40)');
    expect((await pipeline.store.timeline(incidentId)).map((e) => e.type)).toContain('CHECKLIST');
  });

  it('an unknown item is a 404 naming it; a bad body a 400; nothing changes', async () => {
    const before = await snapshot();
    const res = await call('POST', `/api/incidents/${incidentId}/checklist/order-pizza`, { who: 'alice' });
    expect(res.status).toBe(404);
    expect((await json<{ message: string }>(res)).message).toContain('order-pizza');
    const bad = await call('POST', `/api/incidents/${incidentId}/checklist/notify-stakeholders`, {
      who: 'alice',
      done: 'yes',
    });
    expect(bad.status).toBe(400);
    expect(await errorFields(bad)).toEqual(['done']);
    expect(await snapshot()).toEqual(before);
    expect((await call('GET', '/api/incidents/nope/checklist')).status).toBe(404);
  });

  it('an item Klaxon ticks itself is refused by hand (409 naming item and the command), nothing changes', async () => {
    // The alert's incident is triggered and escalating: a hand tick of "acknowledge" would say
    // otherwise. Nor can a person untick what Klaxon ticked, or tick the postmortem published.
    const before = await snapshot();
    for (const [item, done, command] of [
      ['acknowledge', true, `POST /api/incidents/${incidentId}/acknowledge`],
      ['create-ticket', false, 'when the incident opens'],
      ['publish-postmortem', true, `POST /api/incidents/${incidentId}/postmortem/publish`],
      ['implement-mitigation', true, `POST /api/incidents/${incidentId}/mitigate`],
    ] as const) {
      const res = await call('POST', `/api/incidents/${incidentId}/checklist/${item}`, { who: 'bob', done });
      expect(res.status, item).toBe(409);
      const body = await json<{ message: string; errors: { field: string; message: string }[] }>(res);
      expect(body.message).toContain(item);
      expect(body.errors).toEqual([{ field: 'item', message: expect.stringContaining(command) }]);
    }
    expect(await snapshot()).toEqual(before);
    const view = await json<Checklist>(await call('GET', `/api/incidents/${incidentId}/checklist`));
    expect(item(view, 'acknowledge')).toMatchObject({ done: false });
    expect(item(view, 'publish-postmortem')).toMatchObject({ done: false });
  });
});

describe('action items and the postmortem', () => {
  it('creates, lists, patches to done, and lists across incidents', async () => {
    const other = await declare({ title: 'Search down' });
    const created = await call('POST', `/api/incidents/${incidentId}/action-items`, ACTION_ITEM);
    expect(created.status).toBe(201);
    const { actionItem: first } = await json<{ actionItem: ActionItemRecord }>(created);
    const { who, ...fields } = ACTION_ITEM;
    expect(first).toMatchObject({ ...fields, status: 'open', incidentId, createdBy: who });
    expect(first).not.toHaveProperty('who');
    const second = (
      await json<{ actionItem: ActionItemRecord }>(
        await call('POST', `/api/incidents/${other.id}/action-items`, {
          ...ACTION_ITEM,
          action: 'Add a search fallback',
          deadline: '2026-12-01',
          category: 'Prevent',
        }),
      )
    ).actionItem;

    const mine = await json<{ actionItems: ActionItemRecord[] }>(
      await call('GET', `/api/incidents/${incidentId}/action-items`),
    );
    expect(mine.actionItems.map((i) => i.id)).toEqual([first.id]);
    expect((await show()).actionItems.map((i) => i.id)).toEqual([first.id]);

    // Earliest deadline first, across incidents.
    const open = async () =>
      (await json<{ actionItems: ActionItemRecord[] }>(await call('GET', '/api/action-items?status=open')))
        .actionItems;
    expect((await open()).map((i) => i.id)).toEqual([second.id, first.id]);

    at('2026-11-27T09:00:00.000Z');
    const patched = await call('PATCH', `/api/incidents/${incidentId}/action-items/${first.id}`, {
      status: 'done',
      who: 'bob',
    });
    expect(patched.status).toBe(200);
    expect((await json<{ actionItem: ActionItemRecord }>(patched)).actionItem).toMatchObject({
      id: first.id,
      status: 'done',
      doneAt: '2026-11-27T09:00:00.000Z',
    });
    expect((await open()).map((i) => i.id)).toEqual([second.id]);
    const done = await json<{ actionItems: ActionItemRecord[] }>(
      await call('GET', '/api/action-items?status=done'),
    );
    expect(done.actionItems.map((i) => i.id)).toEqual([first.id]);
    // One incident's items take the same filter (it was dropped: the done item came as "open").
    const mineOf = async (status: string) =>
      (
        await json<{ actionItems: ActionItemRecord[] }>(
          await call('GET', `/api/incidents/${incidentId}/action-items?status=${status}`),
        )
      ).actionItems.map((i) => i.id);
    expect(await mineOf('open')).toEqual([]);
    expect(await mineOf('done')).toEqual([first.id]);
    const all = await json<{ actionItems: ActionItemRecord[] }>(await call('GET', '/api/action-items'));
    expect(all.actionItems.map((i) => i.id).sort()).toEqual([first.id, second.id].sort());

    // Follow-up: an open item past its deadline (a day in the config's zone) is overdue; a done
    // one never is. The search fallback was due 2026-12-01.
    const overdue = async (path: string) =>
      Object.fromEntries(
        (
          await json<{ actionItems: (ActionItemRecord & { overdue: boolean })[] }>(await call('GET', path))
        ).actionItems.map((i) => [i.id, i.overdue]),
      );
    at('2026-12-01T22:59:00.000Z'); // 23:59 on the 1st in Berlin: still its day
    expect(await overdue('/api/action-items')).toEqual({ [first.id]: false, [second.id]: false });
    at('2026-12-01T23:00:00.000Z'); // the 2nd in Berlin
    expect(await overdue('/api/action-items')).toEqual({ [first.id]: false, [second.id]: true });
    expect(await overdue(`/api/incidents/${other.id}/action-items`)).toEqual({ [second.id]: true });
  });

  it('refuses bad items naming the field; 404 for an unknown incident or item', async () => {
    const bad = async (body: Record<string, unknown>) =>
      errorFields(
        await call('POST', `/api/incidents/${incidentId}/action-items`, { ...ACTION_ITEM, ...body }),
      );
    expect(await bad({ deadline: '2026-13-01' })).toEqual(['deadline']);
    expect(await bad({ category: 'Blame' })).toEqual(['category']);
    expect(await bad({ owner: 'two words' })).toEqual(['owner']);
    expect((await call('GET', `/api/incidents/${incidentId}/action-items`)).status).toBe(200);
    expect((await show()).actionItems).toEqual([]);

    const patchOnlyWho = await call('PATCH', `/api/incidents/${incidentId}/action-items/x`, { who: 'bob' });
    expect(patchOnlyWho.status).toBe(400);
    expect(await errorFields(patchOnlyWho)).toEqual(['status']);
    expect(
      (await call('PATCH', `/api/incidents/${incidentId}/action-items/nope`, { status: 'done', who: 'bob' }))
        .status,
    ).toBe(404);
    expect((await call('POST', '/api/incidents/nope/action-items', ACTION_ITEM)).status).toBe(404);
    expect((await call('GET', '/api/incidents/nope/action-items')).status).toBe(404);
    const badQuery = await call('GET', '/api/action-items?status=maybe');
    expect(badQuery.status).toBe(400);
    expect(await errorFields(badQuery)).toEqual(['status']);
  });

  // Regression test: an update read the item and put it back whole, so of two updates in flight
  // together the later undid the earlier (owner alice, status done: the new owner was lost); and
  // who made a change was asked for and dropped.
  it('two updates of different fields in flight together both hold, and who made them is kept', async () => {
    const { actionItem: item } = await json<{ actionItem: ActionItemRecord }>(
      await call('POST', `/api/incidents/${incidentId}/action-items`, ACTION_ITEM),
    );
    // Each update's read of the item waits until both have read it (or a moment has passed).
    const reads: (() => void)[] = [];
    const actionItems = overriding(pipeline.deps.actionItems, {
      getActionItem: async (incident: string, id: string) => {
        await new Promise<void>((resolve) => {
          reads.push(resolve);
          if (reads.length === 2) for (const go of reads) go();
          setTimeout(resolve, 200);
        });
        return pipeline.deps.actionItems.getActionItem(incident, id);
      },
    });
    const on = createHttpApp({
      ...pipeline.deps,
      actionItems,
      bus: new LocalEventBus(),
      apiAuth: bearerAuth({ token: TOKEN }),
    });
    at('2026-11-27T09:00:00.000Z');
    const patch = (body: unknown) =>
      on.request(`/api/incidents/${incidentId}/action-items/${item.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const answers = await Promise.all([
      patch({ owner: 'carol', who: 'alice' }),
      patch({ status: 'done', who: 'bob' }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(await pipeline.deps.actionItems.getActionItem(incidentId, item.id)).toMatchObject({
      owner: 'carol',
      status: 'done',
      doneAt: '2026-11-27T09:00:00.000Z',
      doneBy: 'bob',
      updatedAt: '2026-11-27T09:00:00.000Z',
    });
    // Reopened: done no more, and who reopened it is the last to have changed it.
    at('2026-11-27T10:00:00.000Z');
    const reopened = await call('PATCH', `/api/incidents/${incidentId}/action-items/${item.id}`, {
      status: 'open',
      who: 'carol',
    });
    const { actionItem } = await json<{ actionItem: ActionItemRecord }>(reopened);
    expect(actionItem).toMatchObject({
      status: 'open',
      updatedBy: 'carol',
      updatedAt: '2026-11-27T10:00:00.000Z',
    });
    expect(actionItem).not.toHaveProperty('doneAt');
    expect(actionItem).not.toHaveProperty('doneBy');
  });

  it('refuses a deadline before today (in the config’s time zone), naming it; nothing is created', async () => {
    // 00:30 on the 27th in Berlin is still the 26th in UTC: the 26th is yesterday there.
    at('2026-11-26T23:30:00.000Z');
    const res = await call('POST', `/api/incidents/${incidentId}/action-items`, {
      ...ACTION_ITEM,
      deadline: '2026-11-26',
    });
    expect(res.status).toBe(400);
    expect(await errorFields(res)).toEqual(['deadline']);
    expect(await pipeline.deps.actionItems.actionItems(incidentId)).toEqual([]);
    const today = await call('POST', `/api/incidents/${incidentId}/action-items`, {
      ...ACTION_ITEM,
      deadline: '2026-11-27',
    });
    expect(today.status).toBe(201);
    // A change of deadline is held to the same rule; a retry that finds its deadline set already
    // (its day has passed meanwhile) is not refused.
    const { actionItem } = (await today.json()) as { actionItem: { id: string } };
    const path = `/api/incidents/${incidentId}/action-items/${actionItem.id}`;
    const past = await call('PATCH', path, { deadline: '2026-11-20', who: 'alice' });
    expect(past.status).toBe(400);
    expect(await errorFields(past)).toEqual(['deadline']);
    expect((await pipeline.deps.actionItems.actionItems(incidentId))[0]?.deadline).toBe('2026-11-27');
    at('2026-11-28T10:00:00.000Z');
    expect((await call('PATCH', path, { deadline: '2026-11-27', who: 'alice' })).status).toBe(200);
  });

  it('the postmortem draft lists the tracked action items', async () => {
    await call('POST', `/api/incidents/${incidentId}/action-items`, ACTION_ITEM);
    const markdown = await (await call('GET', `/api/incidents/${incidentId}/postmortem`)).text();
    // The tracked item with its owner and status, before the template's suggestions.
    expect(markdown).toContain(`| ${ACTION_ITEM.action} | bob | 2026-12-15 | Detect | open |`);
    expect(markdown.indexOf(ACTION_ITEM.action)).toBeLessThan(markdown.indexOf('| suggested |'));
  });

  it('publishes the postmortem once resolved (409 naming status before)', async () => {
    const early = await call('POST', `/api/incidents/${incidentId}/postmortem/publish`, { who: 'alice' });
    expect(early.status).toBe(409);
    expect(await errorFields(early)).toEqual(['status']);
    await call('POST', `/api/incidents/${incidentId}/resolve`, { who: 'alice', now: true });
    at('2026-11-27T10:00:00.000Z');
    const res = await call('POST', `/api/incidents/${incidentId}/postmortem/publish`, { who: 'alice' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      changed: true,
      incident: { postmortemDoneAt: '2026-11-27T10:00:00.000Z', postmortemDoneBy: 'alice' },
    });
    expect((await show()).postmortem).toEqual({
      required: true,
      dueAt: '2026-11-28T13:30:00.000Z',
      doneAt: '2026-11-27T10:00:00.000Z',
    });
    // The generated document says so, in the configured zone.
    expect(await (await call('GET', `/api/incidents/${incidentId}/postmortem`)).text()).toContain(
      '| Status | Published 2026-11-27 11:00 by alice |',
    );
  });
});

describe('keyed notes and action items: retried, and in flight together', () => {
  const NOTE = { type: 'DECISION', who: 'ic', text: 'Roll back v42', key: 'cli-123' };
  const ITEM = { ...ACTION_ITEM, key: 'cli-456' };
  /** The timeline after its OPENED entry (anything else the store kept there would show too). */
  const notes = async () => (await pipeline.store.timeline(incidentId)).filter((e) => e.type !== 'OPENED');

  /**
   * The app over a store that holds each request at its first read of the incident until `n`
   * requests got there (so they are in flight together), and a clock that ticks a second a call
   * (so each has its own time, as two retries do).
   */
  function racing(n: number): Hono {
    const waiting: (() => void)[] = [];
    const store = overriding(pipeline.store, {
      get: async (id: string) => {
        if (waiting.length < n) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === n) for (const go of waiting) go();
          });
        }
        return pipeline.store.get(id);
      },
    });
    let ticks = 0;
    const clock = () => new Date(pipeline.clock.now().getTime() + 1000 * ticks++);
    return createHttpApp({
      ...pipeline.deps,
      store,
      clock,
      bus: new LocalEventBus(),
      apiAuth: bearerAuth({ token: TOKEN }),
    });
  }
  const post = (on: Hono, path: string, body: unknown) =>
    on.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  // Regression test: the check for an earlier note of the key and the put were two steps, and the
  // entry's sort key has its time in it: two retries in flight together left the note twice, at
  // 10:05:00 and 10:05:01.
  it('two requests with one key in flight together leave one note, and both answer it', async () => {
    const on = racing(2);
    const answers = await Promise.all(
      [0, 1].map(() => post(on, `/api/incidents/${incidentId}/timeline`, NOTE)),
    );
    const bodies = await Promise.all(answers.map((r) => json<{ entry: TimelineEntry }>(r)));
    expect(await notes()).toEqual([bodies[0]?.entry]);
    expect(bodies[1]?.entry).toEqual(bodies[0]?.entry);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
  });

  it('two requests with one key in flight together create one action item, and both answer it', async () => {
    const on = racing(2);
    const answers = await Promise.all(
      [0, 1].map(() => post(on, `/api/incidents/${incidentId}/action-items`, ITEM)),
    );
    const bodies = await Promise.all(answers.map((r) => json<{ actionItem: ActionItemRecord }>(r)));
    expect(await pipeline.deps.actionItems.actionItems(incidentId)).toEqual([bodies[0]?.actionItem]);
    expect(bodies[1]?.actionItem).toEqual(bodies[0]?.actionItem);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
  });

  // Regression test: a replay answered 201 as if it had created something; the README promises 200.
  it.each([
    ['a note', 'timeline', NOTE],
    ['an action item', 'action-items', ITEM],
  ])('%s retried with its key: 201, then 200 with what the first created', async (_name, route, body) => {
    const first = await call('POST', `/api/incidents/${incidentId}/${route}`, body);
    expect(first.status).toBe(201);
    const created = await json(first);
    at('2026-11-26T13:35:00.000Z');
    const again = await call('POST', `/api/incidents/${incidentId}/${route}`, body);
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(created);
    expect(await notes()).toHaveLength(route === 'timeline' ? 1 : 0);
    expect(await pipeline.deps.actionItems.actionItems(incidentId)).toHaveLength(
      route === 'timeline' ? 0 : 1,
    );
  });
});

describe('authentication', () => {
  it('every new route answers 401 without the token, and changes nothing', async () => {
    const before = await snapshot();
    const incidents = (await pipeline.store.list({})).incidents.length;
    for (const [method, path, body] of NEW_ROUTES) {
      const res = await app.request(pathOf(path), {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      const wrong = await call(method, pathOf(path), body, {
        authorization: 'Bearer wrong-token-0123456789',
      });
      expect(wrong.status, `${method} ${path} (wrong token)`).toBe(401);
    }
    expect(await snapshot()).toEqual(before);
    expect((await pipeline.store.list({})).incidents).toHaveLength(incidents);
    expect(await pipeline.deps.actionItems.listActionItems({})).toEqual([]);
  });
});

describe('runbooksOf', () => {
  const service = { name: 'Checkout API', runbookUrl: RUNBOOK };
  it('the service runbook first, then alert links mentioning "runbook" in text or address, each once', () => {
    expect(
      runbooksOf(
        {
          links: [
            { href: 'https://x.example.com/RUNBOOKS/db' },
            { href: 'https://x.example.com/d/1', text: 'Dashboard' },
            { href: RUNBOOK, text: 'runbook' },
            { href: 'https://x.example.com/wiki/2', text: 'Runbook: disk full' },
          ],
        },
        service,
      ),
    ).toEqual([
      { href: RUNBOOK, text: 'Checkout API runbook' },
      { href: 'https://x.example.com/RUNBOOKS/db' },
      { href: 'https://x.example.com/wiki/2', text: 'Runbook: disk full' },
    ]);
  });
  it('none without a service runbook or matching links', () => {
    expect(runbooksOf({ links: [{ href: 'https://x.example.com/d/1' }] }, { name: 'X' })).toEqual([]);
    expect(runbooksOf({ links: [] }, undefined)).toEqual([]);
  });
});
