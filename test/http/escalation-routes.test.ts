import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#adapters/local/event-bus';
import { handleAlertEvent } from '#app/alert-event';
import { AckLinks } from '#app/links';
import { handleTimerEvent } from '#app/timers';
import { signAckToken } from '#core/ack-token';
import { hashIntegrationKey } from '#core/ids';
import type { Incident } from '#core/incident';
import { timer } from '#core/timers';
import { createHttpApp } from '#http/app';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { LINK_SECRET, type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

/**
 * The escalation-facing HTTP routes, end to end: real store on dynalite, local timers, the local
 * pager's inbox and a fake clock. Every test checks what the response says AND what it did (or
 * did not do) to the store, the timers and the pages.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = '2026-11-26T10:00:00.000Z'; // a Thursday: alice is on call this week
const KEY = '0123456789abcdef0123456789abcdef'; // checkout
const BILLING_KEY = 'fedcba9876543210fedcba9876543210'; // billing
const TOKEN = 'test-token-0123456789';

/** alice is on call this week (weekly rotation alice → bob from Monday 2026-11-23 09:00 Berlin). */
const config = teamConfig();

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let pipeline: Pipeline;
let bus: LocalEventBus;
let app: Hono;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
/** A pipeline for `cfg` with both integration keys, its bus and the app in front of it. */
async function wire(cfg: unknown): Promise<void> {
  pipeline = await startPipeline(dynamo, cfg, START);
  for (const [key, service] of [
    [KEY, 'checkout'],
    [BILLING_KEY, 'billing'],
  ] as const) {
    await pipeline.store.putIntegration({
      keyHash: hashIntegrationKey(key),
      service,
      name: `${service}-key`,
      createdAt: START,
    });
  }
  bus = new LocalEventBus({ maxAttempts: 1 });
  bus.register('processAlert', async (event) => {
    await handleAlertEvent(event, pipeline.deps);
  });
  app = createHttpApp({ ...pipeline.deps, bus, apiAuth: bearerAuth({ token: TOKEN }) });
}
beforeEach(async () => {
  await wire(config);
});

// ---------------------------------------------------------------------------------------------
// helpers

const now = () => pipeline.clock.now();
const at = (offsetMs: number) => new Date(now().getTime() + offsetMs).toISOString();

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const auth = { authorization: `Bearer ${TOKEN}` };
const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
  app.request(path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

/** What a browser sends when the confirmation form is submitted. */
const submit = (path: string) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });

/** The text a person reads: tags dropped, whitespace collapsed. */
function visibleText(html: string): string {
  return html
    .slice(html.indexOf('<body>'))
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
const h1 = (html: string) => /<h1>(.*)<\/h1>/.exec(html)?.[1];

/** Where a browser posts a form of the page at `page`: its action resolved against the page's URL. */
const resolved = (action: string, page: string) =>
  new URL(action, `https://klaxon.example.com${page}`).pathname;
/** Where the page's first form posts. */
const postsTo = (html: string, page: string) =>
  resolved(/<form method="post" action="([^"]*)">/.exec(html)?.[1] ?? '', page);

/** Triggers through POST /v2/enqueue and waits for process-alert; returns the new incident. */
async function openIncident(dedupKey = 'srv01/HTTP', severity = 'warning'): Promise<Incident> {
  const res = await postJson('/v2/enqueue', {
    routing_key: KEY,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: { summary: `Disk full on ${dedupKey}`, source: 'db-1', severity },
  });
  expect(res.status).toBe(202);
  await bus.drain();
  expect(bus.deadLetters).toEqual([]);
  const incident = (await pipeline.store.list({})).incidents.find((i) => i.dedupKey === dedupKey);
  if (incident === undefined) throw new Error(`no incident for ${dedupKey}`);
  return incident;
}

/** The path of a link taken from a page that was really sent. */
function linkFromInbox(
  incidentId: string,
  action: 'acknowledge' | 'resolve',
  responder = 'alice',
  nth = 0,
): string {
  const pages = pipeline.pager.inbox.filter(
    (e) => e.page.incident.id === incidentId && e.page.responder.id === responder && e.page.kind === 'page',
  );
  const link = pages[nth]?.page.links[action];
  if (link === undefined) throw new Error(`no ${action} link for ${responder} on ${incidentId}`);
  expect(link.startsWith('https://klaxon.example.com/a/')).toBe(true);
  return new URL(link).pathname;
}

async function incident(id: string): Promise<Incident> {
  const found = await pipeline.store.get(id);
  if (found === undefined) throw new Error(`no incident ${id}`);
  return found;
}
const timelineTypes = async (id: string) => (await pipeline.store.timeline(id)).map((e) => e.type);
const timerNames = async () => (await pipeline.timers.pending()).map((t) => t.name);

/** Everything a refused or read-only request must leave alone. */
async function snapshot(id: string) {
  return {
    incident: await incident(id),
    timeline: await pipeline.store.timeline(id),
    timers: await pipeline.timers.pending(),
    pages: pipeline.pager.inbox.length,
  };
}

// ---------------------------------------------------------------------------------------------

describe('acknowledge links, taken from a real page', () => {
  it('the page carries signed acknowledge and resolve links for the paged responder', async () => {
    const { id } = await openIncident();
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    const ack = linkFromInbox(id, 'acknowledge');
    expect(ack).toMatch(new RegExp(`^/a/${id}\\.a\\.alice\\.[0-9a-z]+\\.[A-Za-z0-9_-]{22}$`));
    expect(linkFromInbox(id, 'resolve')).toMatch(new RegExp(`^/a/${id}\\.r\\.alice\\.`));
    // Both contacts of one responder carry the same link.
    expect(linkFromInbox(id, 'acknowledge', 'alice', 1)).toBe(ack);
  });

  it('GET shows a confirmation form that posts to the same path, and changes nothing (twice)', async () => {
    const { id } = await openIncident();
    const path = linkFromInbox(id, 'acknowledge');
    const before = await snapshot(id);
    expect(before.timers.map((t) => t.name)).toContain(`esc-${id}-1-1`);

    for (let i = 0; i < 2; i++) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(postsTo(html, path)).toBe(path);
      expect(html).toContain('<button type="submit">Acknowledge</button>');
      const text = visibleText(html);
      expect(text).toContain('Acknowledge this incident?');
      expect(text).toContain('Disk full on srv01/HTTP');
      expect(text).toContain('SEV-3 · Checkout API · triggered');
      expect(text).toContain('You act as Alice');
      expect(text).not.toContain('already');
      expect(await snapshot(id)).toEqual(before);
    }
    expect((await incident(id)).status).toBe('triggered');
    // A HEAD (link previews) changes nothing either.
    expect((await app.request(path, { method: 'HEAD' })).status).toBe(200);
    expect(await snapshot(id)).toEqual(before);
  });

  it('GET of a resolve link offers Resolve', async () => {
    const { id } = await openIncident();
    const path = linkFromInbox(id, 'resolve');
    const html = await (await app.request(path)).text();
    expect(postsTo(html, path)).toBe(path);
    expect(html).toContain('<button type="submit">Resolve</button>');
    expect(visibleText(html)).toContain('Resolving closes the incident');
    expect((await incident(id)).status).toBe('triggered');
  });

  it('POST acknowledges as the responder in the token, stops escalation, and nobody is paged again', async () => {
    const opened = await openIncident();
    const { id } = opened;
    pipeline.takePages();
    const path = linkFromInbox(id, 'acknowledge');

    const res = await submit(path);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(h1(html)).toBe('Acknowledged');
    expect(visibleText(html)).toContain('Escalation stopped: nobody else is paged for it.');
    expect(visibleText(html)).toContain('Disk full on srv01/HTTP');

    const acked = await incident(id);
    expect(acked).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedAt: START,
      version: opened.version + 1,
    });
    const timeline = await pipeline.store.timeline(id);
    expect(timeline.map((e) => e.type)).toEqual(['OPENED', 'ACKNOWLEDGED']);
    expect(timeline[1]).toMatchObject({ who: 'alice', text: 'Acknowledged by Alice via link' });
    expect((await timerNames()).filter((n) => n.startsWith('esc-'))).toEqual([]);
    // Only alice was paged, and she acknowledged: nobody to tell.
    expect(pipeline.takePages()).toEqual([]);

    await pipeline.fastForward(60 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
    expect(await timelineTypes(id)).toEqual(['OPENED', 'ACKNOWLEDGED']);
    expect(await incident(id)).toEqual(acked);
    // The GET now notes it is already acknowledged.
    expect(visibleText(await (await app.request(path)).text())).toContain(
      'This incident is already acknowledged.',
    );
  });

  it('POST by a responder paged at level 2 acknowledges as them and tells level 1', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1', 'page carol carol-0']);
    const res = await submit(linkFromInbox(id, 'acknowledge', 'carol'));
    expect(h1(await res.text())).toBe('Acknowledged');
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'carol' });
    expect(pipeline.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
    const notice = pipeline.pager.inbox.at(-1)?.page;
    expect(notice?.reason).toBe('Acknowledged by Carol via link');
    expect(notice?.links.acknowledge).toBeUndefined();
    await pipeline.fastForward(60 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
  });

  it('POST again at once is harmless: 200, version and timeline unchanged, nobody paged', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE); // carol paged too, so a repeated ack would re-notify alice
    const path = linkFromInbox(id, 'acknowledge', 'carol');
    await submit(path);
    pipeline.takePages();
    const before = await snapshot(id);

    const again = await submit(path);
    expect(again.status).toBe(200);
    expect(await snapshot(id)).toEqual(before);
    expect(pipeline.takePages()).toEqual([]);
  });

  // Regression test: the second POST of the same link is a store "replay" (same cause `link:<token>:<generation>`), which the
  // route treats as a fresh success: it answered "Acknowledged — Escalation stopped…" instead of
  // "Already acknowledged".
  it('POST again says "Already acknowledged"', async () => {
    const { id } = await openIncident();
    const path = linkFromInbox(id, 'acknowledge');
    await submit(path);
    const html = await (await submit(path)).text();
    expect(h1(html)).toBe('Already acknowledged');
  });

  // Regression test: a replayed link POST at a later time redoes afterAcknowledged: its completion mark is
  // looked up with `at` = the time of THIS request, so it is never found. The other responders are
  // told again (unless the status throttle, 1 per 3 min, happens to hold it back) and a second
  // ACKNOWLEDGED entry is written.
  it('POST again 10 minutes later re-notifies nobody and adds no timeline entry', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    const path = linkFromInbox(id, 'acknowledge', 'carol');
    await submit(path);
    pipeline.takePages();
    const before = await snapshot(id);
    pipeline.clock.set(new Date(now().getTime() + 10 * MINUTE));
    await submit(path);
    const after = await snapshot(id);
    expect({ pages: pipeline.takePages(), timeline: after.timeline }).toEqual({
      pages: [],
      timeline: before.timeline,
    });
  });

  it('with a monitoring period, the resolve link starts it; the link again changes nothing; a quiet period resolves', async () => {
    // Checkout watching 15 minutes after a resolve.
    await wire(teamConfig({ resolveMonitoringMinutes: 15 }));
    const { id } = await openIncident();
    const resolve = linkFromInbox(id, 'resolve');
    pipeline.takePages();

    const res = await submit(resolve);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(h1(html)).toBe('Resolving');
    // With its day and zone: the reader may be anywhere (a responder abroad, a laptop in UTC).
    expect(visibleText(html)).toContain('Klaxon watches the service until 11:15 Thu 26 Nov (Europe/Berlin):');
    expect(await incident(id)).toMatchObject({
      status: 'monitoring',
      monitoringSince: START,
      monitoringBy: 'alice',
      monitoringUntil: at(15 * MINUTE),
    });
    expect((await pipeline.timers.pending()).map((t) => t.name)).toEqual([`res-${id}-0`]);

    const before = await snapshot(id);
    const again = await submit(resolve);
    expect(h1(await again.text())).toBe('Already monitoring');
    expect(await snapshot(id)).toEqual(before);
    expect(pipeline.takePages()).toEqual([]);

    await pipeline.fastForward(15 * MINUTE);
    expect(await incident(id)).toMatchObject({ status: 'resolved', resolvedAt: START, monitored: true });
    expect((await pipeline.store.timeline(id)).map((e) => e.type)).toEqual([
      'OPENED',
      'MONITORING',
      'RESOLVED',
    ]);
  });

  // Regression test: the link's cause was `link:<token>` for good, so after a reopen its resolve
  // was taken for a replay of the first ("Already triggered", nothing changed).
  it('after a reopen the resolve link resolves again; a retried POST of that press changes nothing', async () => {
    await wire(teamConfig({ resolveMonitoringMinutes: 15 }));
    const { id } = await openIncident();
    const resolve = linkFromInbox(id, 'resolve');
    expect(h1(await (await submit(resolve)).text())).toBe('Resolving');
    await pipeline.fastForward(5 * MINUTE);
    await openIncident(); // the alert fires again in the monitoring period: reopened
    expect(await incident(id)).toMatchObject({ status: 'triggered', reopens: 1 });
    pipeline.takePages();

    expect(h1(await (await submit(resolve)).text())).toBe('Resolving');
    expect(await incident(id)).toMatchObject({ status: 'monitoring', monitoringBy: 'alice' });
    const before = await snapshot(id);
    expect(h1(await (await submit(resolve)).text())).toBe('Already monitoring');
    expect(await snapshot(id)).toEqual(before);
    expect(pipeline.takePages()).toEqual([]);
    expect((await timelineTypes(id)).filter((t) => t === 'MONITORING')).toHaveLength(2);
  });

  // Regression test: after an ack timeout the same link acknowledged again with the same cause, so
  // its "Incident Acknowledged" event had the first one's id and subscribers dropped it as a retry.
  it('after the ack timeout the acknowledge link acknowledges again as a new event; its retried POST changes nothing', async () => {
    await wire(teamConfig({ ackTimeoutMinutes: 30 }));
    const { id } = await openIncident();
    const acknowledge = linkFromInbox(id, 'acknowledge');
    expect(h1(await (await submit(acknowledge)).text())).toBe('Acknowledged');
    await pipeline.fastForward(31 * MINUTE);
    expect(await incident(id)).toMatchObject({ status: 'triggered', generation: 2 });
    pipeline.takePages();

    expect(h1(await (await submit(acknowledge)).text())).toBe('Acknowledged');
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    const acks = () => pipeline.events.published.filter((e) => e.detailType === 'Incident Acknowledged');
    expect(acks()).toHaveLength(2);
    expect(new Set(acks().map((e) => e.detail.id)).size).toBe(2);
    expect((await timelineTypes(id)).filter((t) => t === 'ACKNOWLEDGED')).toHaveLength(2);

    pipeline.takePages();
    const before = await snapshot(id);
    pipeline.clock.set(new Date(now().getTime() + MINUTE));
    expect(h1(await (await submit(acknowledge)).text())).toBe('Already acknowledged');
    expect(await snapshot(id)).toEqual(before);
    expect(pipeline.takePages()).toEqual([]);
    expect(acks()).toHaveLength(2);
  });

  it('the resolve link resolves; then the acknowledge link says it is already resolved', async () => {
    const opened = await openIncident();
    const { id } = opened;
    const ack = linkFromInbox(id, 'acknowledge');
    const resolve = linkFromInbox(id, 'resolve');
    pipeline.takePages();

    const res = await submit(resolve);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(h1(html)).toBe('Resolved');
    expect(visibleText(html)).toContain('every pending page is cancelled');
    const resolved = await incident(id);
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: 'alice', resolvedAt: START });
    expect(resolved.version).toBe(opened.version + 1);
    const timeline = await pipeline.store.timeline(id);
    expect(timeline.map((e) => e.type)).toEqual(['OPENED', 'RESOLVED']);
    expect(timeline[1]).toMatchObject({ who: 'alice', text: 'Resolved by Alice via link' });
    expect(await pipeline.timers.pending()).toEqual([]);

    const before = await snapshot(id);
    const late = await submit(ack);
    expect(late.status).toBe(200);
    const lateHtml = await late.text();
    expect(h1(lateHtml)).toBe('Already resolved');
    expect(visibleText(lateHtml)).toContain('Nothing was changed.');
    expect(await snapshot(id)).toEqual(before);
    // GET of either link notes it is resolved.
    expect(visibleText(await (await app.request(ack)).text())).toContain(
      'This incident is already resolved.',
    );

    await pipeline.fastForward(60 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
    // A new alert for the same key opens a new incident, and its own links.
    const next = await openIncident();
    expect(next.id).not.toBe(id);
  });

  // Regression test: an acknowledge link that was used, POSTed again after someone resolved the incident, is a
  // store replay: the route answers "Acknowledged" on a resolved incident, and (being later) tells
  // the others "Acknowledged by Carol via link" after the resolution.
  it('a used acknowledge link POSTed after the resolve says "Already resolved" and pages nobody', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    const ack = linkFromInbox(id, 'acknowledge', 'carol');
    await submit(ack);
    await submit(linkFromInbox(id, 'resolve', 'alice'));
    pipeline.takePages();
    const before = await snapshot(id);
    pipeline.clock.set(new Date(now().getTime() + 10 * MINUTE));
    const html = await (await submit(ack)).text();
    const after = await snapshot(id);
    expect({ title: h1(html), pages: pipeline.takePages(), timeline: after.timeline }).toEqual({
      title: 'Already resolved',
      pages: [],
      timeline: before.timeline,
    });
  });

  it('a pager failure after the acknowledgement committed answers 503; the retried POST completes it', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    pipeline.takePages();
    let down = true;
    const logged: string[] = [];
    const flaky = createHttpApp({
      ...pipeline.deps,
      pager: {
        send: async (page) => {
          if (down) throw new Error('SNS is down');
          await pipeline.pager.send(page);
        },
      },
      bus,
      apiAuth: bearerAuth({ token: TOKEN }),
      log: (_level, message) => logged.push(message),
    });
    const path = linkFromInbox(id, 'acknowledge', 'carol');
    const post = () =>
      flaky.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });

    const failed = await post();
    expect(failed.status).toBe(503);
    expect(h1(await failed.text())).toBe('Try again');
    expect(logged).toEqual(['link action failed']);
    // The claim committed before the notice failed: escalation is already stopped.
    expect(await incident(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'carol' });
    expect(await timelineTypes(id)).toEqual(['OPENED', 'ESCALATED']);
    expect((await timerNames()).filter((n) => n.startsWith('esc-'))).toEqual([]);
    expect(pipeline.takePages()).toEqual([]);

    down = false;
    // The retry completes the acknowledgement's effects, and says it was already acknowledged.
    const retried = await post();
    expect(retried.status).toBe(200);
    expect(h1(await retried.text())).toBe('Already acknowledged');
    expect(pipeline.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
    expect(await timelineTypes(id)).toEqual(['OPENED', 'ESCALATED', 'ACKNOWLEDGED']);
  });

  // A send that failed gives its throttle slot back, so the retry is not held back by it.
  it('a message whose send failed is sent by the retry (the throttle slot is not spent)', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    pipeline.takePages();
    let down = true;
    const flaky = createHttpApp({
      ...pipeline.deps,
      pager: {
        send: async (page) => {
          if (down) throw new Error('SNS is down');
          await pipeline.pager.send(page);
        },
      },
      bus,
      apiAuth: bearerAuth({ token: TOKEN }),
    });
    const path = linkFromInbox(id, 'acknowledge', 'carol');
    expect((await flaky.request(path, { method: 'POST' })).status).toBe(503);
    down = false;
    expect((await flaky.request(path, { method: 'POST' })).status).toBe(200);
    expect(pipeline.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
  });

  // BUG (wording): the 503 page after a failure that happened AFTER the store transition says
  // "Klaxon could not record this just now. Nothing was changed" — but the incident is acknowledged.
  it('the 503 page does not claim "Nothing was changed" when the acknowledgement was recorded', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    const flaky = createHttpApp({
      ...pipeline.deps,
      pager: {
        send: async () => {
          throw new Error('SNS is down');
        },
      },
      bus,
      apiAuth: bearerAuth({ token: TOKEN }),
    });
    const res = await flaky.request(linkFromInbox(id, 'acknowledge', 'carol'), { method: 'POST' });
    expect(res.status).toBe(503);
    expect((await incident(id)).status).toBe('acknowledged');
    expect(visibleText(await res.text())).not.toContain('Nothing was changed');
  });

  describe('when the link secret cannot be fetched', () => {
    const withoutSecret = () =>
      createHttpApp({
        ...pipeline.deps,
        links: new AckLinks({
          publicUrl: 'https://klaxon.example.com',
          secret: async () => {
            throw new Error('Secrets Manager unavailable');
          },
        }),
        bus,
        apiAuth: bearerAuth({ token: TOKEN }),
      });

    it('POST answers the 503 "Try again" page and changes nothing', async () => {
      const { id } = await openIncident();
      const before = await snapshot(id);
      const res = await withoutSecret().request(linkFromInbox(id, 'acknowledge'), { method: 'POST' });
      expect(res.status).toBe(503);
      expect(h1(await res.text())).toBe('Try again');
      expect(await snapshot(id)).toEqual(before);
    });

    // Regression test: GET /a/:token has no error handling: the same outage answers Hono's bare
    // "500 Internal Server Error" (text/plain) instead of an HTML page like the POST's.
    it('GET answers an HTML page with 503 too', async () => {
      const { id } = await openIncident();
      const res = await withoutSecret().request(linkFromInbox(id, 'acknowledge'));
      expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({
        status: 503,
        type: 'text/html; charset=UTF-8',
      });
    });
  });

  describe('refusals: the clear page, the right status, and nothing changed', () => {
    /** Replaces the field `index` of a token path (0 id, 1 action, 2 responder, 3 expiry, 4 mac). */
    const withField = (path: string, index: number, value: (old: string) => string) => {
      const parts = path.slice('/a/'.length).split('.');
      parts[index] = value(parts[index] ?? '');
      return `/a/${parts.join('.')}`;
    };
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');

    const cases: [string, number, string, (path: string, otherId: string) => string][] = [
      ['malformed garbage', 400, 'This link is incomplete', () => '/a/garbage'],
      ['cut short (as SMS apps do)', 400, 'This link is incomplete', (p) => p.slice(0, -5)],
      ['too long', 400, 'This link is incomplete', (p) => withField(p, 4, (m) => m + 'x'.repeat(200))],
      [
        'forged MAC (one character flipped)',
        403,
        'This link is not valid',
        (p) => withField(p, 4, (m) => flip(m[0] ?? '') + m.slice(1)),
      ],
      ['tampered action (a → r)', 403, 'This link is not valid', (p) => withField(p, 1, () => 'r')],
      ['tampered responder', 403, 'This link is not valid', (p) => withField(p, 2, () => 'bob')],
      ['later expiry spliced in', 403, 'This link is not valid', (p) => withField(p, 3, (e) => `${e}0`)],
      [
        'another incident id spliced in',
        403,
        'This link is not valid',
        (p, other) => withField(p, 0, () => other),
      ],
    ];

    it.each(cases)('%s → %i "%s"', async (_name, status, title, tamper) => {
      const { id } = await openIncident();
      const other = await openIncident('other-key');
      const path = tamper(linkFromInbox(id, 'acknowledge'), other.id);
      const before = [await snapshot(id), await snapshot(other.id)];
      for (const method of ['GET', 'POST'] as const) {
        const res = method === 'GET' ? await app.request(path) : await submit(path);
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        const html = await res.text();
        expect(h1(html)).toBe(title);
        expect(visibleText(html)).toContain('Nothing was changed.');
        expect(html).not.toContain('<form');
      }
      expect([await snapshot(id), await snapshot(other.id)]).toEqual(before);
    });

    it('expired (49 h later) → 410 "This link has expired", for GET and POST', async () => {
      const { id } = await openIncident();
      const ack = linkFromInbox(id, 'acknowledge');
      const resolve = linkFromInbox(id, 'resolve');
      pipeline.clock.set(new Date(Date.parse(START) + 49 * HOUR));
      const before = await snapshot(id);
      for (const path of [ack, resolve]) {
        for (const res of [await app.request(path), await submit(path)]) {
          expect(res.status).toBe(410);
          const html = await res.text();
          expect(h1(html)).toBe('This link has expired');
          expect(visibleText(html)).toContain('Use the link in the newest page');
        }
      }
      expect(await snapshot(id)).toEqual(before);
      expect(before.incident.status).toBe('triggered');
    });

    it('valid until 48 h: one second before expiry the link still acknowledges', async () => {
      const { id } = await openIncident();
      const ack = linkFromInbox(id, 'acknowledge');
      pipeline.clock.set(new Date(Date.parse(START) + 48 * HOUR - 1000));
      expect((await submit(ack)).status).toBe(200);
      expect((await incident(id)).status).toBe('acknowledged');
    });

    it('a validly signed link for an unknown incident → 404 "Incident not found"', async () => {
      const { id } = await openIncident();
      const before = await snapshot(id);
      const token = signAckToken(
        {
          incidentId: 'aaaaaaaaaaaa',
          action: 'ack',
          responderId: 'alice',
          expiresAt: new Date(Date.parse(START) + HOUR),
        },
        LINK_SECRET,
      );
      for (const res of [await app.request(`/a/${token}`), await submit(`/a/${token}`)]) {
        expect(res.status).toBe(404);
        expect(h1(await res.text())).toBe('Incident not found');
      }
      expect(await snapshot(id)).toEqual(before);
      expect(await pipeline.store.get('aaaaaaaaaaaa')).toBeUndefined();
    });

    it('a validly signed link for a responder no longer in the config → 404, nothing changed', async () => {
      const { id } = await openIncident();
      const before = await snapshot(id);
      const token = signAckToken(
        {
          incidentId: id,
          action: 'ack',
          responderId: 'mallory',
          expiresAt: new Date(Date.parse(START) + HOUR),
        },
        LINK_SECRET,
      );
      const res = await submit(`/a/${token}`);
      expect(res.status).toBe(404);
      // Surprising: the page blames the incident ("Incident not found"), which does exist.
      expect(h1(await res.text())).toBe('Incident not found');
      expect(await snapshot(id)).toEqual(before);
    });

    it('a link signed with another secret → 403', async () => {
      const { id } = await openIncident();
      const before = await snapshot(id);
      const token = signAckToken(
        {
          incidentId: id,
          action: 'ack',
          responderId: 'alice',
          expiresAt: new Date(Date.parse(START) + HOUR),
        },
        'another-secret-0123456789abcdef',
      );
      expect((await submit(`/a/${token}`)).status).toBe(403);
      expect(await snapshot(id)).toEqual(before);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('the incident link of a page: the incident, read-only, for the responder it was sent to', () => {
  /** The path of the incident link of the `nth` message of `kind` sent to `responder`. */
  function incidentLinkFromInbox(incidentId: string, responder = 'alice', kind = 'page', nth = 0): string {
    const pages = pipeline.pager.inbox.filter(
      (e) => e.page.incident.id === incidentId && e.page.responder.id === responder && e.page.kind === kind,
    );
    const link = pages[nth]?.page.links.incident;
    if (link === undefined) throw new Error(`no ${kind} to ${responder} on ${incidentId}`);
    expect(link.startsWith('https://klaxon.example.com/a/')).toBe(true);
    return new URL(link).pathname;
  }
  /** Where the forms of the page at `page` post, by their button. */
  const forms = (html: string, page: string) =>
    Object.fromEntries(
      [
        ...html.matchAll(
          /<form method="post" action="([^"]*)">\s*(?:<select[^>]*>.*?<\/select>\s*)?(?:<input type="hidden"[^>]*>\s*)?<button type="submit">([^<]*)<\/button>/g,
        ),
      ].map((m) => [m[2], resolved(m[1] ?? '', page)]),
    );

  it('is signed for the paged responder (a view token), the same on each of their contacts', async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    const path = incidentLinkFromInbox(id);
    expect(path).toMatch(new RegExp(`^/a/${id}\\.v\\.alice\\.[0-9a-z]+\\.[A-Za-z0-9_-]{22}$`));
    expect(incidentLinkFromInbox(id, 'alice', 'page', 1)).toBe(path);
    expect(incidentLinkFromInbox(id, 'carol')).toMatch(new RegExp(`^/a/${id}\\.v\\.carol\\.`));
  });

  it("shows where the alert came from and its links (runbook first), as the page's email does", async () => {
    const res = await postJson('/v2/enqueue', {
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'with-links',
      payload: { summary: 'Disk full on db-7', source: 'db-7.eu-west-1', severity: 'warning' },
      links: [{ href: 'https://runbooks.example.com/disk-full', text: 'Runbook: disk full' }],
    });
    expect(res.status).toBe(202);
    await bus.drain();
    const opened = (await pipeline.store.list({})).incidents.find((i) => i.dedupKey === 'with-links');
    const id = opened?.id ?? '';
    const email = pipeline.pager.inbox.find(
      (e) => e.page.incident.id === id && e.page.contact.type === 'email',
    );
    expect(email?.rendered.email).toContain(
      'Source: db-7.eu-west-1\nLevel: 1\n\nLinks:\n  Runbook: disk full: https://runbooks.example.com/disk-full\n',
    );
    const html = await (await app.request(incidentLinkFromInbox(id))).text();
    expect(visibleText(html)).toContain('Source: db-7.eu-west-1');
    expect(html).toContain(
      '<a href="https://runbooks.example.com/disk-full" rel="noopener noreferrer">Runbook: disk full</a>',
    );
  });

  it("carries what the first alert's sender said beyond the summary (custom_details) on its pages, the incident page and the incident", async () => {
    const trigger = (details: unknown) =>
      postJson('/v2/enqueue', {
        routing_key: KEY,
        event_action: 'trigger',
        dedup_key: 'with-details',
        payload: {
          summary: 'Checkout errors above 5%',
          source: 'checkout-api',
          severity: 'warning',
          custom_details: details,
        },
      });
    const first = {
      'error rate': '7.2%',
      region: 'eu-west-1',
      top: { path: '/pay', '<b>': 1 },
      note: 'a\u0007b',
    };
    expect((await trigger(first)).status).toBe(202);
    await bus.drain();
    // A later alert of the same incident says something else: the first one's stays.
    expect((await trigger({ 'error rate': '9.9%' })).status).toBe(202);
    await bus.drain();
    const opened = (await pipeline.store.list({})).incidents.find((i) => i.dedupKey === 'with-details');
    const id = opened?.id ?? '';
    const said = 'error rate: 7.2%\nregion: eu-west-1\ntop: {"path":"/pay","<b>":1}\nnote: a\u0007b';
    expect(opened?.alertCount).toBe(2);
    expect((await pipeline.store.get(id))?.description).toBe(said);
    const sent = pipeline.pager.inbox.filter((e) => e.page.incident.id === id);
    const email = sent.find((e) => e.page.contact.type === 'email');
    expect(email?.rendered.email).toContain(
      'Source: checkout-api\nLevel: 1\n\nDetails:\n  error rate: 7.2%\n  region: eu-west-1\n  top: {"path":"/pay","<b>":1}\n  note: a b\n\nAcknowledge: ',
    );
    expect(JSON.parse(email?.rendered.json ?? '{}').incident.description).toBe(said);
    const html = await (await app.request(incidentLinkFromInbox(id))).text();
    expect(html).toContain(
      '<p class="said">error rate: 7.2%\nregion: eu-west-1\ntop: {&quot;path&quot;:&quot;/pay&quot;,&quot;&lt;b&gt;&quot;:1}\nnote: a b</p>',
    );
  });

  it("GET shows the incident, its timeline and the responder's own links as buttons, and changes nothing", async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    const before = await snapshot(id);
    for (let i = 0; i < 2; i++) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const html = await res.text();
      expect(html).not.toMatch(/<script/);
      const text = visibleText(html);
      expect(text).toContain('Disk full on srv01/HTTP');
      expect(text).toContain('SEV-3 · Checkout API · triggered');
      expect(text).toContain('1 alert');
      // The rendered timeline, in the config's zone (Europe/Berlin: 10:00Z is 11:00).
      expect(text).toContain(
        '[11:00] [@events-v2] [OPENED] Incident opened: Disk full on srv01/HTTP · paged: alice',
      );
      expect(text).toContain('You act as Alice');
      // The buttons post to alice's own acknowledge and resolve links: those her page carried;
      // and, while it escalates, to her escalate link (with the step the page shows).
      expect(forms(html, path)).toEqual({
        Acknowledge: linkFromInbox(id, 'acknowledge'),
        Escalate: expect.stringMatching(new RegExp(`^/a/${id}\\.e\\.alice\\.`)),
        Resolve: linkFromInbox(id, 'resolve'),
      });
      expect(html).toContain('<input type="hidden" name="from" value="0">');
      expect(await snapshot(id)).toEqual(before);
    }
    expect((await app.request(path, { method: 'HEAD' })).status).toBe(200);
    expect(await snapshot(id)).toEqual(before);
  });

  it('its Escalate button pages the next level now; a second press of the same page sends nothing more', async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    pipeline.takePages();
    await pipeline.fastForward(MINUTE);
    const html = await (await app.request(path)).text();
    const escalate = forms(html, path).Escalate ?? '';
    const press = () =>
      app.request(escalate, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'from=0',
      });
    const first = await press();
    expect(first.status).toBe(200);
    const text = visibleText(await first.text());
    expect(h1(text) ?? text).toContain('Escalated');
    expect(text).toContain('Carol was paged now.');
    expect(pipeline.takePages()).toEqual(['page carol carol-0']);
    const entry = (await pipeline.store.timeline(id)).find((e) => e.type === 'ESCALATED');
    expect(entry).toMatchObject({ who: 'alice', paged: ['carol'] });
    const before = await snapshot(id);
    const second = await press();
    expect(second.status).toBe(200);
    expect(visibleText(await second.text())).toContain('Already escalated');
    expect(pipeline.takePages()).toEqual([]);
    expect(await snapshot(id)).toEqual(before);
    // The page now shows the step it is at.
    expect(await (await app.request(path)).text()).toContain('<input type="hidden" name="from" value="1">');
  });

  it('offers Escalate for a SEV-4 waiting for business hours (they hold back the timers, not a person)', async () => {
    await wire(teamConfig({}, { businessHours: {} }));
    pipeline.clock.set(new Date('2026-11-26T15:58:00.000Z')); // Thu 16:58 Berlin
    const { id } = await openIncident('after-hours', 'info');
    const path = incidentLinkFromInbox(id);
    await pipeline.fastForward(12 * MINUTE); // 17:10: level 2 waits for 09:00
    expect(await incident(id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    pipeline.takePages();
    const escalate = forms(await (await app.request(path)).text(), path).Escalate ?? '';
    expect(escalate).not.toBe('');
    const res = await app.request(escalate, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'from=0',
    });
    expect(visibleText(await res.text())).toContain('Carol was paged now.');
    expect(pipeline.takePages()).toEqual(['page carol carol-0']);
  });

  // Regression test: a page's Escalate from an earlier run (before an ack timeout restarted the
  // escalation) answered "Its escalation has stopped or run out", while it was escalating.
  it('a press from a page of an earlier run says the incident changed, not that it stopped escalating', async () => {
    await wire(teamConfig({ ackTimeoutMinutes: 30 }));
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE); // carol paged at level 2 (step 1)
    const path = incidentLinkFromInbox(id, 'carol');
    const escalate = forms(await (await app.request(path)).text(), path).Escalate ?? '';
    expect((await api('POST', `/api/incidents/${id}/acknowledge`, { who: 'alice' })).status).toBe(200);
    await pipeline.fastForward(31 * MINUTE); // the acknowledgement lapsed: escalating from step 0 again
    expect(await incident(id)).toMatchObject({ status: 'triggered', escalation: 'active', step: 0 });
    const before = await snapshot(id);
    const res = await app.request(escalate, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'from=1',
    });
    expect(res.status).toBe(409);
    const text = visibleText(await res.text());
    expect(text).toContain('Changed meanwhile');
    expect(text).toContain('Its escalation started over since this page was shown');
    expect(text).not.toContain('no longer escalates');
    expect(await snapshot(id)).toEqual(before);
  });

  it('an escalate link: GET confirms and changes nothing; once acknowledged, no button, and a POST is 409', async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    const escalate = forms(await (await app.request(path)).text(), path).Escalate ?? '';
    const before = await snapshot(id);
    const confirm = await app.request(escalate);
    expect(confirm.status).toBe(200);
    const confirmHtml = await confirm.text();
    expect(visibleText(confirmHtml)).toContain('Escalate this incident?');
    expect(visibleText(confirmHtml)).toContain('pages the next level of the escalation policy now');
    expect(confirmHtml).toContain('<input type="hidden" name="from" value="0">');
    expect((await app.request(escalate, { method: 'HEAD' })).status).toBe(200);
    expect(await snapshot(id)).toEqual(before);

    expect((await api('POST', `/api/incidents/${id}/acknowledge`, { who: 'bob' })).status).toBe(200);
    pipeline.takePages();
    const acked = await snapshot(id);
    expect(Object.keys(forms(await (await app.request(path)).text(), path))).toEqual(['Snooze', 'Resolve']);
    const res = await app.request(escalate, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'from=0',
    });
    expect(res.status).toBe(409);
    expect(visibleText(await res.text())).toContain('Already acknowledged');
    expect(await snapshot(id)).toEqual(acked);
    expect(pipeline.takePages()).toEqual([]);
  });

  it('its Snooze button (while acknowledged): the acknowledgement lapses at the chosen time, not at the ack timeout; a second press moves nothing', async () => {
    await wire(teamConfig({ ackTimeoutMinutes: 30 }));
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    expect(Object.keys(forms(await (await app.request(path)).text(), path))).not.toContain('Snooze');
    await submit(linkFromInbox(id, 'acknowledge'));
    pipeline.takePages();
    const page = await (await app.request(path)).text();
    const snooze = forms(page, path).Snooze ?? '';
    expect(snooze).toMatch(new RegExp(`^/a/${id}\\.z\\.alice\\.`));
    expect(page).toContain(
      '<select name="minutes" aria-label="For"><option value="60">1 h</option><option value="240">4 h</option><option value="480">8 h</option><option value="1440">24 h</option></select>',
    );
    expect(page).toContain('<input type="hidden" name="from" value="">');
    const press = () =>
      app.request(snooze, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'minutes=60&from=',
      });
    const first = await press();
    expect(first.status).toBe(200);
    const text = visibleText(await first.text());
    expect(h1(text) ?? text).toContain('Snoozed');
    expect(text).toContain('Nobody is paged for it until 12:00 Thu 26 Nov (Europe/Berlin).');
    const snoozed = await incident(id);
    expect(snoozed).toMatchObject({
      status: 'acknowledged',
      snooze: { by: 'alice', until: '2026-11-26T11:00:00.000Z' },
    });
    expect((await pipeline.store.timeline(id)).filter((e) => e.type === 'SNOOZED')).toEqual([
      expect.objectContaining({ who: 'alice' }),
    ]);
    const shown = await (await app.request(path)).text();
    expect(visibleText(shown)).toContain('· Snoozed by Alice until 12:00 Thu 26 Nov (Europe/Berlin)');
    expect(shown).toContain('<input type="hidden" name="from" value="2026-11-26T11:00:00.000Z">');
    // The same press again (a retry, a double tap): the same answer, nothing moved.
    const before = await snapshot(id);
    const again = await press();
    expect(again.status).toBe(200);
    expect(visibleText(await again.text())).toContain('Nobody is paged for it until 12:00 Thu 26 Nov');
    expect(await snapshot(id)).toEqual(before);
    // Another choice from the page shown before the snooze: it changed since; nothing moves.
    const stale = await app.request(snooze, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'minutes=240&from=',
    });
    expect(stale.status).toBe(409);
    const staleText = visibleText(await stale.text());
    expect(staleText).toContain('Changed meanwhile');
    expect(staleText).toContain(
      'You snoozed it until 12:00 Thu 26 Nov (Europe/Berlin) since this page was shown.',
    );
    expect(await snapshot(id)).toEqual(before);
    // Past the ack timeout nobody is paged; at the snooze's end alice is paged again.
    await pipeline.fastForward(40 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
    expect(await incident(id)).toMatchObject({ status: 'acknowledged' });
    await pipeline.fastForward(21 * MINUTE);
    expect(await incident(id)).toMatchObject({ status: 'triggered' });
    expect(pipeline.takePages()).toContain('page alice alice-0');
  });

  it('a snooze link: GET confirms and changes nothing; a duration not offered is 400; once resolved, 409', async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    await submit(linkFromInbox(id, 'acknowledge'));
    const snooze = forms(await (await app.request(path)).text(), path).Snooze ?? '';
    const before = await snapshot(id);
    const confirm = await app.request(snooze);
    expect(confirm.status).toBe(200);
    const confirmText = visibleText(await confirm.text());
    expect(confirmText).toContain('Snooze this incident?');
    expect(confirmText).toContain('pages nobody until the snooze ends');
    for (const body of ['minutes=7&from=', 'minutes=&from=', 'from=', 'minutes=60&from=yesterday']) {
      const res = await app.request(snooze, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(visibleText(await res.text())).toContain('Nothing was changed.');
    }
    expect(await snapshot(id)).toEqual(before);
    await submit(forms(await (await app.request(path)).text(), path).Resolve ?? '');
    const resolved = await snapshot(id);
    const res = await app.request(snooze, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'minutes=60&from=',
    });
    expect(res.status).toBe(409);
    expect(visibleText(await res.text())).toMatch(/Already (monitoring|resolved)/);
    expect(await snapshot(id)).toEqual(resolved);
  });

  it('POST to it changes nothing: 405, GET only (twice)', async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    const before = await snapshot(id);
    for (let i = 0; i < 2; i++) {
      const res = await submit(path);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(visibleText(html)).toContain('Nothing was changed.');
      expect(html).not.toContain('<form');
    }
    expect(await snapshot(id)).toEqual(before);
    expect(before.incident.status).toBe('triggered');
  });

  it('its buttons act as the responder; then it shows who acknowledged when, and no buttons once resolved', async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    await pipeline.fastForward(2 * MINUTE);
    const acknowledge = forms(await (await app.request(path)).text(), path).Acknowledge ?? '';
    expect(h1(await (await submit(acknowledge)).text())).toBe('Acknowledged');
    const acked = await (await app.request(path)).text();
    expect(visibleText(acked)).toContain('SEV-3 · Checkout API · acknowledged');
    expect(visibleText(acked)).toContain('Acknowledged by Alice at 11:02');
    expect(visibleText(acked)).toContain('[11:02] [@alice] [ACKNOWLEDGED] Acknowledged by Alice via link');
    expect(Object.keys(forms(acked, path))).toEqual(['Snooze', 'Resolve']);

    expect(h1(await (await submit(forms(acked, path).Resolve ?? '')).text())).toBe('Resolved');
    const resolved = await (await app.request(path)).text();
    expect(visibleText(resolved)).toContain('SEV-3 · Checkout API · resolved');
    expect(resolved).not.toContain('<form');
  });

  // Regression test: after the ack timeout the page read "triggered", offered Acknowledge, and
  // still said "Acknowledged by Alice at 11:00", as if someone were on it.
  it('after the ack timeout it names nobody as owner; acknowledged again, it names the latest acknowledgement', async () => {
    await wire(teamConfig({ ackTimeoutMinutes: 30 }));
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    await submit(linkFromInbox(id, 'acknowledge'));
    await pipeline.fastForward(31 * MINUTE);
    const lapsed = await (await app.request(path)).text();
    expect(visibleText(lapsed)).toContain(
      'SEV-3 · Checkout API · triggered 1 alert Source: db-1 You act as Alice',
    );
    expect(visibleText(lapsed)).not.toMatch(/alerts? · Acknowledged by/);
    expect(Object.keys(forms(lapsed, path))).toEqual(['Acknowledge', 'Escalate', 'Resolve']);

    await pipeline.fastForward(4 * MINUTE);
    await submit(forms(lapsed, path).Acknowledge ?? '');
    const again = visibleText(await (await app.request(path)).text());
    expect(again).toContain('SEV-3 · Checkout API · acknowledged 1 alert · Acknowledged by Alice at 11:35');
  });

  it("a notice carries it too: the responder told of another's acknowledgement can open the incident", async () => {
    const { id } = await openIncident();
    await pipeline.fastForward(5 * MINUTE);
    await submit(linkFromInbox(id, 'acknowledge', 'carol'));
    const path = incidentLinkFromInbox(id, 'alice', 'notice');
    const res = await app.request(path);
    expect(res.status).toBe(200);
    const text = visibleText(await res.text());
    expect(text).toContain('Acknowledged by Carol at 11:05');
    expect(text).toContain('You act as Alice');
  });

  it('tampered, forged or expired: the refusal pages of acknowledge links, nothing changed', async () => {
    const { id } = await openIncident();
    const path = incidentLinkFromInbox(id);
    const parts = path.slice('/a/'.length).split('.');
    const withField = (index: number, value: string) =>
      `/a/${parts.map((p, i) => (i === index ? value : p)).join('.')}`;
    const before = await snapshot(id);
    const cases: [string, number, string][] = [
      [path.slice(0, -5), 400, 'This link is incomplete'],
      // A view link relabelled as an acknowledge or resolve link acts on nothing.
      [withField(1, 'a'), 403, 'This link is not valid'],
      [withField(1, 'r'), 403, 'This link is not valid'],
      [withField(2, 'bob'), 403, 'This link is not valid'],
    ];
    for (const [tampered, status, title] of cases) {
      const res = await app.request(tampered);
      expect(res.status).toBe(status);
      expect(h1(await res.text())).toBe(title);
      // POSTed, a view link is refused unread (405); relabelled, the acknowledge route refuses it.
      expect((await submit(tampered)).status).toBe(tampered.includes(`${id}.v.`) ? 405 : status);
    }
    const forged = await app.request(
      withField(4, `${parts[4]?.[0] === 'A' ? 'B' : 'A'}${parts[4]?.slice(1)}`),
    );
    expect({ status: forged.status, title: h1(await forged.text()) }).toEqual({
      status: 403,
      title: 'This link is not valid',
    });
    pipeline.clock.set(new Date(Date.parse(START) + 49 * HOUR));
    const expired = await app.request(path);
    expect({ status: expired.status, title: h1(await expired.text()) }).toEqual({
      status: 410,
      title: 'This link has expired',
    });
    expect(await snapshot(id)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

// Regression test: the forms posted to /a/<token>, the site's root, so behind a public URL with a
// path every button left Klaxon.
describe('behind a public URL with a path (a reverse proxy, an API Gateway custom domain mapping)', () => {
  it("the confirmation form and the incident page's buttons post under that path, and act", async () => {
    const base = 'https://ops.example.com/klaxon';
    const deps = {
      ...pipeline.deps,
      links: new AckLinks({ publicUrl: base, secret: async () => LINK_SECRET }),
    };
    const proxiedBus = new LocalEventBus({ maxAttempts: 1 });
    proxiedBus.register('processAlert', async (event) => {
      await handleAlertEvent(event, deps);
    });
    const proxied = createHttpApp({ ...deps, bus: proxiedBus, apiAuth: bearerAuth({ token: TOKEN }) });
    await proxied.request('/v2/enqueue', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        routing_key: KEY,
        event_action: 'trigger',
        dedup_key: 'proxied',
        payload: { summary: 'Disk full', source: 'db-1', severity: 'warning' },
      }),
    });
    await proxiedBus.drain();
    const { links } = pipeline.pager.inbox.find((e) => e.page.kind === 'page')?.page ?? { links: {} };
    const { acknowledge = '', resolve = '', incident: view = '' } = links as Record<string, string>;
    expect(acknowledge.startsWith(`${base}/a/`)).toBe(true);
    /** What the function is asked for: the mapping strips its path. */
    const served = (link: string) => link.slice(base.length);
    const actions = async (link: string) =>
      [
        ...(await (await proxied.request(served(link))).text()).matchAll(
          /<form method="post" action="([^"]*)">/g,
        ),
      ].map((m) => new URL(m[1] ?? '', link).href);

    expect(await actions(acknowledge)).toEqual([acknowledge]);
    expect(await actions(resolve)).toEqual([resolve]);
    const escalate = (await actions(view))[1] ?? '';
    expect(escalate).toMatch(new RegExp(`^${base}/a/[a-z2-7]{12}\\.e\\.alice\\.`));
    expect(await actions(view)).toEqual([acknowledge, escalate, resolve]);
    const pressed = await proxied.request(served(acknowledge), { method: 'POST' });
    expect(h1(await pressed.text())).toBe('Acknowledged');
  });
});

describe('escalate now (POST /api/incidents/{id}/escalate)', () => {
  it('pages the next level at once, names who asked, and times the step after it from now', async () => {
    const { id } = await openIncident();
    pipeline.takePages();
    pipeline.clock.set(new Date(at(2 * MINUTE)));
    const res = await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice', from: 0 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { incident: Incident; changed: boolean; paged: string[] };
    expect(body).toMatchObject({
      changed: true,
      paged: ['carol'],
      incident: { step: 1, status: 'triggered' },
    });
    expect(pipeline.takePages()).toEqual(['page carol carol-0']);
    const escalated = (await pipeline.store.timeline(id)).find((e) => e.type === 'ESCALATED');
    expect(escalated).toMatchObject({ who: 'alice', paged: ['carol'] });
    expect(escalated?.text).toMatch(/level 2|step 1/);
    expect(escalated?.text).toContain('escalated by Alice');
    // The level's own timer (due at +5) is gone; the next step is due 10 minutes from now.
    const timers = await pipeline.timers.pending();
    expect(timers.map((t) => t.name)).not.toContain(`esc-${id}-1-1`);
    const next = timers.find((t) => t.name === `esc-${id}-1-2`);
    expect(next?.dueAt).toBe(at(10 * MINUTE));
    const escalatedEvent = pipeline.events.published.find((e) => e.detailType === 'Incident Escalated');
    expect(escalatedEvent?.detail).toMatchObject({ actor: 'alice', level: 2, step: 1, paged: ['carol'] });
    // Nothing more when the old due time passes; the next step comes at its new time.
    await pipeline.fastForward(5 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
    await pipeline.fastForward(5 * MINUTE);
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a retry, or a request that comes after the timer, with the same from changes nothing', async () => {
    const { id } = await openIncident();
    pipeline.takePages();
    expect((await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice', from: 0 })).status).toBe(200);
    pipeline.takePages();
    const before = await snapshot(id);
    const again = await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice', from: 0 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ changed: false, paged: [] });
    expect(await snapshot(id)).toEqual(before);
    expect(pipeline.takePages()).toEqual([]);
  });

  it('two requests at once from the same step page the next level once', async () => {
    const { id } = await openIncident();
    pipeline.takePages();
    const [a, b] = await Promise.all([
      api('POST', `/api/incidents/${id}/escalate`, { who: 'alice', from: 0 }),
      api('POST', `/api/incidents/${id}/escalate`, { who: 'bob', from: 0 }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const changed = [await a.json(), await b.json()].map((r) => (r as { changed: boolean }).changed);
    expect(changed.sort()).toEqual([false, true]);
    expect(pipeline.takePages()).toEqual(['page carol carol-0']);
    expect((await incident(id)).step).toBe(1);
  });

  it('refuses, changing nothing: acknowledged, a from the incident has not reached, bad input, unknown id', async () => {
    const { id } = await openIncident();
    pipeline.takePages();
    const before = await snapshot(id);
    const ahead = await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice', from: 3 });
    expect(ahead.status).toBe(409);
    expect(JSON.stringify(await ahead.json())).toContain('"from"');
    for (const bad of [
      {},
      { who: 'alice', from: -1 },
      { who: 'alice', level: 2 },
      { who: 'alice', from: 'x' },
    ]) {
      const res = await api('POST', `/api/incidents/${id}/escalate`, bad);
      expect(res.status).toBe(400);
    }
    expect(await snapshot(id)).toEqual(before);
    expect((await api('POST', '/api/incidents/nope/escalate', { who: 'alice' })).status).toBe(404);
    expect((await api('POST', `/api/incidents/${id}/acknowledge`, { who: 'alice' })).status).toBe(200);
    pipeline.takePages();
    const acked = await snapshot(id);
    const res = await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice' });
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).toContain('"status"');
    expect(await snapshot(id)).toEqual(acked);
    // Unauthenticated: refused before anything is read.
    expect((await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice' }, {})).status).toBe(401);
  });

  it('past the last level it runs the policy as the timers would: the repeat, then the fallback', async () => {
    const { id } = await openIncident();
    pipeline.takePages();
    const paged: string[][] = [];
    for (let from = 0; from < 4; from++) {
      const res = await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice', from });
      expect(res.status).toBe(200);
      paged.push(((await res.json()) as { paged: string[] }).paged);
    }
    expect(paged).toEqual([['carol'], ['alice'], ['carol'], ['dave']]);
    expect((await incident(id)).escalation).toBe('exhausted');
    const res = await api('POST', `/api/incidents/${id}/escalate`, { who: 'alice' });
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).toContain('"escalation"');
  });
});

describe('heartbeats', () => {
  const ping = (path = `/heartbeat/nightly-backup/${KEY}`, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', headers });
  const heartbeatTimers = async () =>
    (await pipeline.timers.pending()).filter((t) => t.name.startsWith('hb-'));

  it('a ping answers 202 with the next deadline and arms the timer', async () => {
    const res = await ping();
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      status: 'success',
      heartbeat: 'nightly-backup',
      nextDeadline: at(60 * MINUTE),
      resolved: false,
    });
    expect(await heartbeatTimers()).toEqual([
      expect.objectContaining({ name: 'hb-nightly-backup', dueAt: at(60 * MINUTE) }),
    ]);
  });

  it('takes the key from Authorization: Bearer too', async () => {
    const res = await ping('/heartbeat/nightly-backup', { authorization: `Bearer ${KEY}` });
    expect(res.status).toBe(202);
  });

  it.each([
    ['unknown heartbeat', `/heartbeat/weekly-report/${KEY}`, 404, 'no heartbeat weekly-report'],
    [
      "another service's key",
      `/heartbeat/nightly-backup/${BILLING_KEY}`,
      401,
      'the integration key does not belong to service checkout',
    ],
    ['missing key', '/heartbeat/nightly-backup', 401, 'missing integration key'],
    ['unknown key', `/heartbeat/nightly-backup/${'f'.repeat(32)}`, 401, 'unknown integration key'],
  ])('%s → %i, and arms nothing', async (_name, path, status, message) => {
    const res = await ping(path);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ status: 'error', message, errors: [] });
    expect(await heartbeatTimers()).toEqual([]);
  });

  it('a GET pings too (cron jobs often use a plain curl <url>)', async () => {
    const res = await app.request(`/heartbeat/nightly-backup/${KEY}`);
    expect(res.status).toBe(202);
    expect(await heartbeatTimers()).toHaveLength(1);
  });

  it('on time: no incident; missed: a "Missed heartbeat" incident pages; the next ping resolves it', async () => {
    expect((await ping()).status).toBe(202);
    await pipeline.fastForward(59 * MINUTE);
    expect((await pipeline.store.list({})).incidents).toEqual([]);
    expect(pipeline.takePages()).toEqual([]);

    const second = await ping();
    expect(((await second.json()) as { nextDeadline: string }).nextDeadline).toBe(at(60 * MINUTE));
    await pipeline.fastForward(59 * MINUTE); // 118 min after the first ping: the first deadline is long gone
    expect((await pipeline.store.list({})).incidents).toEqual([]);
    await pipeline.fastForward(2 * MINUTE);

    const { incidents } = await pipeline.store.list({});
    expect(incidents).toHaveLength(1);
    const missed = incidents[0] as Incident;
    expect(missed).toMatchObject({
      service: 'checkout',
      dedupKey: 'heartbeat:nightly-backup',
      status: 'triggered',
      title: 'Missed heartbeat: Nightly backup (expected every 60 min)',
      severity: 'critical',
      origin: 'heartbeat',
      startedAt: new Date(Date.parse(START) + 119 * MINUTE).toISOString(),
    });
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await heartbeatTimers()).toEqual([]);

    const back = await ping();
    expect(back.status).toBe(202);
    expect(((await back.json()) as { resolved: boolean }).resolved).toBe(true);
    await bus.drain();
    expect(bus.deadLetters).toEqual([]);
    expect(await incident(missed.id)).toMatchObject({ status: 'resolved', resolvedBy: 'checkout-key' });
    expect(await timelineTypes(missed.id)).toEqual(['OPENED', 'RESOLVED']);
    expect(pipeline.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
    // The missed heartbeat was a SEV-1: its postmortem reminders stay.
    expect((await pipeline.timers.pending()).map((t) => t.name)).toEqual([
      'hb-nightly-backup',
      `pm-${missed.id}-reminder`,
      `pm-${missed.id}-due`,
    ]);

    // Back on schedule: nothing more.
    await pipeline.fastForward(59 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
    expect((await pipeline.store.list({ status: 'triggered' })).incidents).toEqual([]);
  });

  describe('a late timer is judged against the latest ping', () => {
    const heartbeatId = 'nightly-backup';
    const sinceStart = (ms: number) => new Date(Date.parse(START) + ms);
    const openIncidents = async () =>
      (await pipeline.store.list({})).incidents.filter((i) => i.status !== 'resolved');

    it("a timer retried after a later ping (Scheduler's retry) is stale: nothing opens, the later deadline stands", async () => {
      expect((await ping()).status).toBe(202); // deadline +60
      // The invocation at +60 fails and Scheduler retries it; meanwhile the job pings at +65.
      pipeline.clock.set(sinceStart(65 * MINUTE));
      expect(await (await ping()).json()).toMatchObject({
        nextDeadline: sinceStart(125 * MINUTE).toISOString(),
      });
      pipeline.clock.set(sinceStart(70 * MINUTE));
      const retried = await handleTimerEvent(
        { kind: 'heartbeat', heartbeatId, armedAt: START },
        pipeline.deps,
      );
      expect(retried).toBe('stale');
      await bus.drain();
      expect((await pipeline.store.list({})).incidents).toEqual([]);
      expect(pipeline.takePages()).toEqual([]);
      expect(await heartbeatTimers()).toEqual([
        expect.objectContaining({ name: 'hb-nightly-backup', dueAt: sinceStart(125 * MINUTE).toISOString() }),
      ]);
      // The job stops: the later ping's deadline opens the miss.
      await pipeline.fastForward(55 * MINUTE);
      const [missed] = await openIncidents();
      expect(missed).toMatchObject({
        startedAt: sinceStart(125 * MINUTE).toISOString(),
        status: 'triggered',
      });
    });

    it("a timer armed by an earlier ping (its reschedule landed last) re-arms the latest ping's deadline", async () => {
      await ping();
      pipeline.clock.set(sinceStart(5 * MINUTE));
      await ping();
      // The first ping's reschedule lands after the second's: the armed timer is the older one.
      await pipeline.timers.reschedule(
        timer({ kind: 'heartbeat', heartbeatId, armedAt: START }, sinceStart(60 * MINUTE)),
      );
      await pipeline.fastForward(55 * MINUTE); // +60: pinged at +5, not missed yet
      expect(await openIncidents()).toEqual([]);
      expect(await heartbeatTimers()).toEqual([
        expect.objectContaining({ dueAt: sinceStart(65 * MINUTE).toISOString() }),
      ]);
      await pipeline.fastForward(5 * MINUTE); // +65: missed, and still watched
      const [missed] = await openIncidents();
      expect(missed).toMatchObject({ startedAt: sinceStart(65 * MINUTE).toISOString() });
      expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    });

    it('a ping that lands while a late timer opens the miss leaves it resolved, not paging a healthy job', async () => {
      await ping();
      pipeline.clock.set(sinceStart(70 * MINUTE)); // missed at +60; the timer comes late
      // The job pings while the timer opens its incident: after the timer's check, before the
      // incident exists, so the ping finds nothing open to resolve.
      let pinged: Response | undefined;
      const racing = {
        ...pipeline.deps,
        store: overriding(pipeline.deps.store, {
          trigger: async (...args: Parameters<Pipeline['deps']['store']['trigger']>) => {
            pinged ??= await ping();
            return pipeline.deps.store.trigger(...args);
          },
        }),
      };
      await handleTimerEvent({ kind: 'heartbeat', heartbeatId, armedAt: START }, racing);
      expect(await pinged?.json()).toMatchObject({ resolved: false });
      await bus.drain();
      expect(await openIncidents()).toEqual([]);
      const [missed] = (await pipeline.store.list({})).incidents;
      expect(missed).toMatchObject({ status: 'resolved', startedAt: sinceStart(60 * MINUTE).toISOString() });
      // Its retry, and the two at once: nothing reopens.
      await Promise.all([
        handleTimerEvent({ kind: 'heartbeat', heartbeatId, armedAt: START }, pipeline.deps),
        ping(),
      ]);
      await bus.drain();
      expect(await openIncidents()).toEqual([]);
      expect((await pipeline.store.list({})).incidents).toHaveLength(1);
    });
  });

  it('a heartbeat nobody ever pinged opens nothing (it is armed by its first ping)', async () => {
    await pipeline.fastForward(3 * HOUR);
    expect((await pipeline.store.list({})).incidents).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('maintenance windows API', () => {
  const path = '/api/services/checkout/maintenance';

  it('creates a window; while active an alert opens an incident that pages nobody; delete ends it', async () => {
    const res = await api('POST', path, { to: at(HOUR), reason: 'DB upgrade' });
    expect(res.status).toBe(201);
    const window = (await res.json()) as Record<string, unknown>;
    expect(window).toEqual({
      id: expect.stringMatching(/^[a-z2-7]{12}$/),
      service: 'checkout',
      from: START,
      to: at(HOUR),
      createdAt: START,
      reason: 'DB upgrade',
      stopped: 0,
    });

    const listed = await api('GET', path);
    expect(listed.status).toBe(200);
    const { stopped: _, ...stored } = window;
    expect(await listed.json()).toEqual({ windows: [stored] });

    const quiet = await openIncident('during-maintenance', 'critical');
    expect(pipeline.takePages()).toEqual([]);
    const [opened] = await pipeline.store.timeline(quiet.id);
    expect(opened?.text).toContain('maintenance window: nobody paged');
    expect((await incident(quiet.id)).escalation).toBe('stopped');
    await pipeline.fastForward(30 * MINUTE);
    expect(pipeline.takePages().filter((p) => p.startsWith('page'))).toEqual([]);

    const deleted = await api('DELETE', `${path}/${window.id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect(await (await api('GET', path)).json()).toEqual({ windows: [] });
    const again = await api('DELETE', `${path}/${window.id}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ message: `no maintenance window ${window.id}`, errors: [] });

    // Ended, the window lets what it kept quiet escalate: the incident, still unacknowledged, pages
    // level 1 again (as GoAlert's maintenance mode does when it ends) and escalates on from there.
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await incident(quiet.id)).toMatchObject({ status: 'triggered', escalation: 'active', step: 0 });
    const resumed = (await pipeline.store.timeline(quiet.id)).find((e) => e.type === 'ESCALATED');
    expect(resumed).toMatchObject({ type: 'ESCALATED', paged: ['alice'] });
    expect(resumed?.text).toBe(`Escalation resumed: maintenance window ${window.id} ended`);
    await pipeline.fastForward(5 * MINUTE);
    expect(pipeline.takePages()).toEqual(['page carol carol-0']);
    // Paging is back for new incidents too.
    await openIncident('after-maintenance');
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a window that runs out resumes what it stopped, once, at its end', async () => {
    const res = await api('POST', path, { to: at(HOUR) });
    const window = (await res.json()) as { id: string };
    const quiet = await openIncident('during-maintenance', 'critical');
    pipeline.takePages();
    await pipeline.fastForward(HOUR - MINUTE);
    expect(pipeline.takePages().filter((p) => p.startsWith('page'))).toEqual([]);
    await pipeline.fastForward(MINUTE);
    expect(pipeline.takePages().filter((p) => p.startsWith('page'))).toEqual([
      'page alice alice-0',
      'page alice alice-1',
    ]);
    // The end timer again (a retry): nothing more.
    await handleTimerEvent(
      { kind: 'maintenance-end', service: 'checkout', windowId: window.id },
      pipeline.deps,
    );
    expect(pipeline.takePages()).toEqual([]);
    expect(
      (await pipeline.store.timeline(quiet.id)).filter((e) => e.text.startsWith('Escalation resumed')),
    ).toHaveLength(1);
  });

  it('a window that starts now stops escalations already in flight', async () => {
    const { id } = await openIncident();
    pipeline.takePages();
    const res = await api('POST', path, { to: at(HOUR) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; stopped: number };
    expect(created.stopped).toBe(1);
    // Only the window's end is pending: it resumes what the window stopped.
    expect(await timerNames()).toEqual([`mwe-checkout-${created.id}`]);
    await pipeline.fastForward(30 * MINUTE);
    expect(pipeline.takePages()).toEqual([]);
    expect(await timelineTypes(id)).toEqual(['OPENED', 'ESCALATION_STOPPED']);
  });

  it('a window that starts later pages as usual until it begins', async () => {
    const res = await api('POST', path, { from: at(30 * MINUTE), to: at(HOUR) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { stopped: number }).stopped).toBe(0);
    await openIncident();
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it.each([
    ['to before from', () => ({ from: at(2 * HOUR), to: at(HOUR) }), 'to', 'must be after from'],
    ['to equal to from', () => ({ from: at(HOUR), to: at(HOUR) }), 'to', 'must be after from'],
    ['to in the past', () => ({ from: at(-2 * HOUR), to: at(-MINUTE) }), 'to', 'is in the past'],
    ['missing to', () => ({ reason: 'x' }), 'to', undefined],
    ['to not a date-time', () => ({ to: 'tomorrow' }), 'to', undefined],
    ['from not a date-time', () => ({ from: 'now', to: at(HOUR) }), 'from', undefined],
    ['not JSON', () => '{"to":', 'body', 'is not valid JSON'],
  ])('%s → 400 naming `%s`, and nothing stored', async (_name, body, field, message) => {
    const res = await api('POST', path, body());
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(errors.map((e) => e.field)).toEqual([field]);
    if (message !== undefined) expect(errors[0]?.message).toBe(message);
    expect(await (await api('GET', path)).json()).toEqual({ windows: [] });
    expect(await timerNames()).toEqual([]);
  });

  // Regression test: the body was not strict, so `frm` (a typo of `from`) was dropped and the
  // window for tomorrow night started at once — 201, and the open incident's escalation stopped.
  it('a misspelt field → 400 naming it; no window, the open escalation goes on', async () => {
    const { id } = await openIncident('open-before', 'critical');
    pipeline.takePages();
    const before = await snapshot(id);
    const res = await api('POST', path, { frm: at(12 * HOUR), to: at(13 * HOUR), reason: 'DB upgrade' });
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(errors).toEqual([{ field: 'frm', message: 'is not a known field' }]);
    expect(await (await api('GET', path)).json()).toEqual({ windows: [] });
    expect(await snapshot(id)).toEqual(before);
    expect((await incident(id)).escalation).toBe('active');
  });

  it('unknown service → 404', async () => {
    const res = await api('POST', '/api/services/nope/maintenance', { to: at(HOUR) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'no service nope', errors: [] });
    expect((await api('DELETE', '/api/services/nope/maintenance/abc')).status).toBe(404);
    expect((await api('GET', '/api/services/nope/maintenance')).status).toBe(404);
  });

  it('without the bearer token → 401 for every method, and nothing stored', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
      expect((await api('POST', path, { to: at(HOUR) }, headers)).status).toBe(401);
      expect((await api('GET', path, undefined, headers)).status).toBe(401);
      expect((await api('DELETE', `${path}/abc`, undefined, headers)).status).toBe(401);
    }
    expect(await (await api('GET', path)).json()).toEqual({ windows: [] });
  });
});

// ---------------------------------------------------------------------------------------------

describe('schedule overrides and on-call API', () => {
  const oncall = async (query = '') => {
    const res = await api('GET', `/api/schedules/primary/oncall${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { schedule: string; at: string; onCall: { id: string; name: string }[] };
  };
  const overrides = '/api/schedules/primary/overrides';

  it('on call now and at a given instant', async () => {
    expect(await oncall()).toEqual({
      schedule: 'primary',
      at: START,
      onCall: [{ id: 'alice', name: 'Alice' }],
    });
    // Next Monday 09:00 Berlin (08:00Z) the rotation hands over to bob.
    expect((await oncall('?at=2026-11-30T07:59:59Z')).onCall).toEqual([{ id: 'alice', name: 'Alice' }]);
    expect((await oncall('?at=2026-11-30T08:00:00Z')).onCall).toEqual([{ id: 'bob', name: 'Bob' }]);
    const bad = await api('GET', '/api/schedules/primary/oncall?at=monday');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'at',
    ]);
    // A misspelt parameter is refused, not ignored (it would answer for now).
    const typo = await api('GET', '/api/schedules/primary/oncall?att=2026-11-30T08:00:00Z');
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'att',
    ]);
  });

  it('an override that replaces someone not on call then is made, with a warning that it changes nothing', async () => {
    // Thursday: alice is on call until Monday 09:00, then bob for a week; carol never is.
    const day = 24 * HOUR;
    for (const [replaces, from, to, idle] of [
      ['bob', START, at(3 * day), true],
      ['carol', START, at(8 * day), true],
      ['alice', START, at(3 * day), false],
      ['bob', at(7 * day), at(8 * day), false],
      // Bob's week begins inside it: he holds it from then.
      ['bob', START, at(5 * day), false],
      ['alice', at(5 * day), at(10 * day), true],
    ] as const) {
      const res = await api('POST', overrides, { from, to, responder: 'dave', replaces });
      expect(res.status, `${replaces} ${from}–${to}`).toBe(201);
      const body = (await res.json()) as { id: string; warning?: string };
      expect(body.warning, `${replaces} ${from}–${to}`).toBe(
        idle ? `${replaces} is not on call in primary then: this override changes nothing` : undefined,
      );
      await api('DELETE', `${overrides}/${body.id}`);
    }
  });

  it('an override puts bob on call instead of alice, and a new incident pages bob; delete undoes it', async () => {
    const res = await api('POST', overrides, {
      from: START,
      to: at(2 * HOUR),
      responder: 'bob',
      replaces: 'alice',
    });
    expect(res.status).toBe(201);
    const override = (await res.json()) as Record<string, string>;
    expect(override).toEqual({
      id: expect.stringMatching(/^[a-z2-7]{12}$/),
      scheduleId: 'primary',
      from: START,
      to: at(2 * HOUR),
      responder: 'bob',
      replaces: 'alice',
    });
    expect(await (await api('GET', overrides)).json()).toEqual({ overrides: [override] });
    expect((await oncall()).onCall).toEqual([{ id: 'bob', name: 'Bob' }]);
    // It ends at `to` (exclusive).
    expect((await oncall(`?at=${encodeURIComponent(at(2 * HOUR))}`)).onCall).toEqual([
      { id: 'alice', name: 'Alice' },
    ]);

    const { id } = await openIncident();
    expect(pipeline.takePages()).toEqual(['page bob bob-0']);
    expect((await pipeline.store.timeline(id))[0]?.paged).toEqual(['bob']);

    const deleted = await api('DELETE', `${overrides}/${override.id}`);
    expect(deleted.status).toBe(204);
    expect((await oncall()).onCall).toEqual([{ id: 'alice', name: 'Alice' }]);
    expect((await api('DELETE', `${overrides}/${override.id}`)).status).toBe(404);
    await openIncident('after-override');
    expect(pipeline.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('an override without `replaces` makes the responder the only one on call', async () => {
    expect((await api('POST', overrides, { from: START, to: at(HOUR), responder: 'carol' })).status).toBe(
      201,
    );
    expect((await oncall()).onCall).toEqual([{ id: 'carol', name: 'Carol' }]);
  });

  it.each([
    [
      'unknown responder',
      { responder: 'zed', replaces: 'alice' },
      'responder',
      'no responder "zed" in the config',
    ],
    [
      'unknown replaces',
      { responder: 'bob', replaces: 'zed' },
      'replaces',
      'no responder "zed" in the config',
    ],
    ['replaces = responder', { responder: 'bob', replaces: 'bob' }, 'replaces', 'must differ from responder'],
    [
      'from after to',
      { from: '2026-11-26T12:00:00Z', to: '2026-11-26T11:00:00Z' },
      'to',
      'must be after from',
    ],
    ['from equal to to', { from: START, to: START }, 'to', 'must be after from'],
    ['missing responder', { responder: undefined }, 'responder', undefined],
    // Regression test: a typo in `replaces` was dropped, and the override covered everyone.
    ['a misspelt replaces', { replaces: undefined, replace: 'alice' }, 'replace', 'is not a known field'],
    ['an id of its own', { id: 'chosen-by-client' }, 'id', 'is not a known field'],
    ['to without offset', { to: '2026-11-26T12:00:00' }, 'to', undefined],
  ])('%s → 400 naming `%s`, nothing stored', async (_name, patch, field, message) => {
    const body = { from: START, to: at(HOUR), responder: 'bob', replaces: 'alice', ...patch };
    const res = await api('POST', overrides, body);
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(errors.map((e) => e.field)).toEqual([field]);
    if (message !== undefined) expect(errors[0]?.message).toBe(message);
    expect(await (await api('GET', overrides)).json()).toEqual({ overrides: [] });
    expect((await oncall()).onCall).toEqual([{ id: 'alice', name: 'Alice' }]);
  });

  it('unknown schedule → 404 on every route', async () => {
    const body = { from: START, to: at(HOUR), responder: 'bob' };
    for (const res of [
      await api('POST', '/api/schedules/nope/overrides', body),
      await api('GET', '/api/schedules/nope/overrides'),
      await api('DELETE', '/api/schedules/nope/overrides/abc'),
      await api('GET', '/api/schedules/nope/oncall'),
    ]) {
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: 'no schedule nope', errors: [] });
    }
  });

  it('without the bearer token → 401, and nothing stored', async () => {
    const body = { from: START, to: at(HOUR), responder: 'bob', replaces: 'alice' };
    expect((await api('POST', overrides, body, {})).status).toBe(401);
    expect((await api('GET', '/api/schedules/primary/oncall', undefined, {})).status).toBe(401);
    expect(await (await api('GET', overrides)).json()).toEqual({ overrides: [] });
  });

  // Regression test: the store keeps `to` exactly as sent and filters "not ended yet" by comparing it as a
  // string with now's ISO text (sort key `${to}#${id}` > now). An override whose `to` carries a
  // negative offset (America/New_York: 08:00-05:00 = 13:00Z) is dropped at 10:00Z, three hours
  // early: on-call and paging ignore it (and GET .../overrides does not list it).
  it('an override written with a negative UTC offset applies until its end', async () => {
    const res = await api('POST', overrides, {
      from: '2026-11-26T04:00:00-05:00', // 09:00Z
      to: '2026-11-26T08:00:00-05:00', // 13:00Z
      responder: 'bob',
      replaces: 'alice',
    });
    expect(res.status).toBe(201);
    expect((await oncall()).onCall).toEqual([{ id: 'bob', name: 'Bob' }]);
  });
});
