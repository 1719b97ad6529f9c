import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#adapters/local/event-bus';
import { processAlert } from '#app/process-alert';
import { signAckToken, signDigestToken } from '#core/ack-token';
import type { Incident } from '#core/incident';
import type { Page } from '#core/page';
import { createHttpApp } from '#http/app';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { LINK_SECRET, type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

/**
 * A digest's "acknowledge all" link, end to end: a real flood held by the throttle, the digest the
 * timer sends, and its link's GET (changes nothing) and POST (acknowledges every incident it
 * covered as its responder) — checked in the store, the timers and the pages.
 */

const MINUTE = 60_000;
const START = '2026-11-26T10:00:00.000Z';

/** checkout pages alice (email alice-0, SMS alice-1) and nobody after her for an hour. */
const config = teamConfig(
  {},
  {
    escalationPolicies: [
      { id: 'checkout', levels: [{ delayMinutes: 60, targets: [{ responder: 'alice' }] }], repeat: 0 },
    ],
  },
);

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let p: Pipeline;
let app: Hono;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  p = await startPipeline(dynamo, config, START);
  app = createHttpApp({
    ...p.deps,
    bus: new LocalEventBus({ maxAttempts: 1 }),
    apiAuth: bearerAuth({ token: 'unused-token-0123456789' }),
  });
});

/** Opens `n` incidents 10 s apart: alice's contacts take 5 pages each, the rest are held. */
async function flood(n: number): Promise<Incident[]> {
  const incidents: Incident[] = [];
  for (let i = 0; i < n; i++) {
    const outcome = await processAlert(
      makeAlert({ receivedAt: p.clock.now().toISOString(), dedupKey: `flood-${i}`, severity: 'warning' }),
      p.deps,
    );
    if (outcome.kind !== 'opened') throw new Error(`expected opened, got ${outcome.kind}`);
    incidents.push(outcome.incident);
    await p.fastForward(10_000);
  }
  return incidents;
}

/** Floods, lets the digest go out, and returns the SMS digest with its "acknowledge all" path. */
async function digestOf(
  n: number,
): Promise<{ held: Incident[]; paged: Incident[]; page: Page; path: string; sms: string }> {
  const incidents = await flood(n);
  p.takePages();
  await p.fastForward(15 * MINUTE);
  const sent = p.pager.inbox.find((e) => e.page.digest !== undefined && e.page.contact.key === 'alice-1');
  const link = sent?.page.digest?.acknowledgeAll?.link;
  if (sent === undefined || link === undefined) throw new Error('no digest with an acknowledge-all link');
  p.takePages();
  return {
    held: incidents.slice(5),
    paged: incidents.slice(0, 5),
    page: sent.page,
    path: new URL(link).pathname,
    sms: sent.rendered.sms,
  };
}

const statuses = async (incidents: readonly Incident[]) =>
  Promise.all(incidents.map(async (i) => (await p.store.get(i.id))?.status));
const escalationTimers = async (incidents: readonly Incident[]) =>
  (await p.timers.pending()).filter((t) => incidents.some((i) => t.name.startsWith(`esc-${i.id}`)));
const post = (path: string, form?: Record<string, string>) =>
  app.request(path, {
    method: 'POST',
    ...(form
      ? {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form).toString(),
        }
      : {}),
  });
const textOf = async (response: Response) =>
  (await response.text())
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('a digest carries an "acknowledge all" link', () => {
  it('in the SMS (ACK ALL), the email and the webhook document; the digest keeps what it covered', async () => {
    const { held, page, path, sms } = await digestOf(8);
    expect(sms).toContain(`ACK ALL ${page.digest?.acknowledgeAll?.link}`);
    expect(page.digest?.acknowledgeAll?.count).toBe(3);
    const email = p.pager.inbox.find((e) => e.page.digest !== undefined && e.page.contact.key === 'alice-0');
    expect(email?.rendered.email).toContain('Acknowledge all 3: https://klaxon.example.com/a/');
    expect(JSON.parse(email?.rendered.json ?? '{}').digest.acknowledgeAll).toEqual({
      link: email?.page.digest?.acknowledgeAll?.link,
      count: 3,
    });
    const digestId = path.split('/')[2]?.split('.')[0] ?? '';
    expect(await p.store.getDigest(digestId)).toEqual({
      id: digestId,
      contact: 'alice-1',
      responderId: 'alice',
      incidentIds: held.map((i) => i.id),
      sentAt: expect.any(String),
    });
  });

  it("names each incident with its read-only page, signed for the digest's responder; opening one changes nothing", async () => {
    const { held, page } = await digestOf(8);
    const listed = page.digest?.incidents ?? [];
    expect(listed.map((i) => i.id)).toEqual(held.map((i) => i.id));
    for (const entry of listed)
      expect(new URL(entry.links.incident).pathname).toMatch(new RegExp(`^/a/${entry.id}\\.v\\.alice\\.`));
    const first = listed[0];
    if (first === undefined) throw new Error('no incident listed');
    const response = await app.request(new URL(first.links.incident).pathname);
    expect(response.status).toBe(200);
    const html = await response.text();
    // Relative to the page (…/a/<view token>): the acknowledge link, under any path of the public URL.
    const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1] ?? '';
    expect(new URL(action, first.links.incident).href).toBe(first.links.acknowledge);
    expect(await statuses(held)).toEqual(['triggered', 'triggered', 'triggered']);
    expect(p.takePages()).toEqual([]);
  });

  it('a digest of one incident has no such link: its own acknowledge link does', async () => {
    await flood(6);
    p.takePages();
    await p.fastForward(15 * MINUTE);
    const sent = p.pager.inbox.find((e) => e.page.digest !== undefined && e.page.contact.key === 'alice-1');
    expect(sent?.page.digest?.acknowledgeAll).toBeUndefined();
    expect(sent?.rendered.sms).toContain(`ACK ${sent?.page.links.acknowledge}`);
  });
});

describe('the "acknowledge all" link', () => {
  it('GET asks to confirm, with the count, and changes nothing', async () => {
    const { held, path } = await digestOf(8);
    const response = await app.request(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.text();
    const action = /<form method="post" action="([^"]*)">/.exec(body)?.[1] ?? '';
    expect(new URL(action, `https://klaxon.example.com${path}`).pathname).toBe(path);
    expect(body).toContain('Acknowledge all 3');
    expect(body).toContain('You act as <strong>Alice');
    expect(await statuses(held)).toEqual(['triggered', 'triggered', 'triggered']);
    expect(p.takePages()).toEqual([]);
  });

  // Regression test: Hono routes HEAD to the GET/POST handler with the method HEAD, which was taken
  // for a POST: a link preview's HEAD acknowledged every incident of the digest.
  it('HEAD (a link preview) changes nothing either', async () => {
    const { held, path } = await digestOf(8);
    expect((await app.request(path, { method: 'HEAD' })).status).toBe(200);
    expect(await statuses(held)).toEqual(['triggered', 'triggered', 'triggered']);
    expect(p.takePages()).toEqual([]);
  });

  it('POST acknowledges every incident as the responder, stops their escalation, pages nobody', async () => {
    const { held, path } = await digestOf(8);
    expect(await escalationTimers(held)).toHaveLength(3);
    const response = await post(path);
    expect(response.status).toBe(200);
    expect(await textOf(response)).toContain('Acknowledged 3');
    expect(await statuses(held)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    for (const incident of held) expect((await p.store.get(incident.id))?.acknowledgedBy).toBe('alice');
    expect(await escalationTimers(held)).toEqual([]);
    // Two hours on: the five paged before the digest escalate; none of the three it covered does.
    const before = p.pager.inbox.length;
    await p.fastForward(2 * 60 * MINUTE);
    const later = p.pager.inbox.slice(before).filter((e) => e.page.kind === 'page');
    expect(later.length).toBeGreaterThan(0);
    expect(later.filter((e) => held.some((i) => i.id === e.page.incident.id))).toEqual([]);
  });

  it('POST again changes nothing: same versions, no pages, no new timeline entries', async () => {
    const { held, path } = await digestOf(8);
    await post(path);
    p.takePages();
    const before = await Promise.all(held.map((i) => p.store.get(i.id)));
    const timelines = await Promise.all(held.map((i) => p.store.timeline(i.id)));
    const again = await post(path);
    expect(again.status).toBe(200);
    expect(await Promise.all(held.map((i) => p.store.get(i.id)))).toEqual(before);
    expect(await Promise.all(held.map((i) => p.store.timeline(i.id)))).toEqual(timelines);
    expect(p.takePages()).toEqual([]);
  });

  it('leaves an incident someone else acknowledged or resolved meanwhile as it was, and says so', async () => {
    const { held, path } = await digestOf(8);
    const [first, second] = held as [Incident, Incident, Incident];
    await p.store.transition(first.id, 'acknowledged', p.clock.now(), 'bob', 'test:bob');
    await p.store.transition(second.id, 'resolved', p.clock.now(), 'carol', 'test:carol');
    const response = await post(path);
    const text = await textOf(response);
    expect(text).toContain('Acknowledged 1');
    expect(text).toContain('2 of the 3 were already acknowledged, resolving or resolved');
    expect((await p.store.get(first.id))?.acknowledgedBy).toBe('bob');
    expect((await p.store.get(second.id))?.status).toBe('resolved');
    expect(await statuses(held.slice(2))).toEqual(['acknowledged']);
  });

  it('a "go on" form starts where the previous request stopped; a bad `from` starts over', async () => {
    const { held, path } = await digestOf(8);
    const partial = await post(path, { from: '2' });
    expect(partial.status).toBe(200);
    expect(await statuses(held)).toEqual(['triggered', 'triggered', 'acknowledged']);
    const text = await textOf(partial);
    expect(text).toContain('This part acknowledged 1 more.');
    expect(text).not.toContain('All 3');
    // Each bad value starts over from the first (the third is this link's own: a replay).
    for (const from of ['abc', '-1', '4', '1e3', '']) {
      const response = await post(path, { from });
      expect(response.status).toBe(200);
      expect(await textOf(response)).toContain('Acknowledged 3');
    }
    expect(await statuses(held)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
  });

  it('out of time: 202 with the form to go on from the first not started; going on finishes', async () => {
    const { held, path } = await digestOf(15);
    expect(held).toHaveLength(10);
    const slow = createHttpApp({
      ...p.deps,
      bus: new LocalEventBus({ maxAttempts: 1 }),
      apiAuth: bearerAuth({ token: 'unused-token-0123456789' }),
      digestAckBudgetMs: 0,
    });
    const first = await slow.request(path, { method: 'POST' });
    expect(first.status).toBe(202);
    const html = await first.text();
    expect(html).toContain('<input type="hidden" name="from" value="8">');
    expect(html).toContain('8 of 10 done');
    expect((await statuses(held)).filter((s) => s === 'acknowledged')).toHaveLength(8);
    const rest = await slow.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'from=8',
    });
    expect(rest.status).toBe(200);
    expect(await textOf(rest)).toContain('This part acknowledged 2 more.');
    expect(await statuses(held)).toEqual(held.map(() => 'acknowledged'));
  });

  it('two POSTs at once acknowledge each incident once', async () => {
    const { held, path } = await digestOf(8);
    const responses = await Promise.all([post(path), post(path)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(await statuses(held)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    for (const incident of held) {
      const entries = (await p.store.timeline(incident.id)).filter((e) => e.type === 'ACKNOWLEDGED');
      expect(entries).toHaveLength(1);
    }
  });

  it('a failure after an acknowledgement committed answers 503 with the form; going on completes it', async () => {
    const { held, path } = await digestOf(8);
    // The lifecycle event of the first acknowledgement fails: after its transition committed.
    let failures = 1;
    const events = {
      publish: async (detailType: string, detail: Record<string, unknown>) => {
        if (detailType === 'Incident Acknowledged' && failures-- > 0)
          throw new Error('EventBridge unavailable');
        await p.deps.events.publish(detailType, detail);
      },
    };
    const flaky = createHttpApp({
      ...p.deps,
      events,
      bus: new LocalEventBus({ maxAttempts: 1 }),
      apiAuth: bearerAuth({ token: 'unused-token-0123456789' }),
    });
    const failed = await flaky.request(path, { method: 'POST' });
    expect(failed.status).toBe(503);
    const html = await failed.text();
    const retry = /name="retry" value="([a-z2-7]{12})"/.exec(html)?.[1];
    expect(held.map((i) => i.id)).toContain(retry);
    expect(html).toContain('<input type="hidden" name="from" value="3">');
    expect(html).toContain('1 could not be acknowledged just now');
    // Committed, all three; one event is missing.
    expect(await statuses(held)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    const acknowledgedEvents = () =>
      p.events.published
        .filter((e) => e.detailType === 'Incident Acknowledged')
        .map((e) => (e.detail.incident as { id: string }).id);
    expect(acknowledgedEvents()).toHaveLength(2);
    const goOn = await flaky.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `from=3&retry=${retry}`,
    });
    expect(goOn.status).toBe(200);
    expect(await textOf(goOn)).toContain('This part acknowledged 1 more.');
    expect(new Set(acknowledgedEvents())).toEqual(new Set(held.map((i) => i.id)));
  });

  it('a `retry` acts only on incidents of the digest', async () => {
    const { held, paged, path } = await digestOf(8);
    const [other] = paged as [Incident];
    // An open incident of the same responder that this digest did not cover, and an unknown id.
    const response = await post(path, { from: '3', retry: `abcdefgh2345,${other.id}` });
    expect(response.status).toBe(200);
    expect(await statuses([other, ...held])).toEqual(['triggered', 'triggered', 'triggered', 'triggered']);
  });

  describe('refusals: the clear page, the right status, and nothing changed', () => {
    const refused = async (path: string, status: number, title: string, held: readonly Incident[]) => {
      for (const method of ['GET', 'POST']) {
        const response = await app.request(path, { method });
        expect(response.status).toBe(status);
        expect(await response.text()).toContain(title);
      }
      expect(await statuses(held)).toEqual(held.map(() => 'triggered'));
    };
    const token = (path: string) => path.split('/')[2] ?? '';

    it('a changed MAC → 403', async () => {
      const { held, path } = await digestOf(8);
      const parts = token(path).split('.');
      parts[4] = `${(parts[4] ?? '').startsWith('A') ? 'B' : 'A'}${(parts[4] ?? '').slice(1)}`;
      await refused(`/a/${parts.join('.')}`, 403, 'This link is not valid', held);
    });

    it('an incident acknowledge token turned into a digest token (action g) → 403', async () => {
      const { held, page } = await digestOf(8);
      const ack = new URL(page.links.acknowledge ?? '').pathname;
      await refused(ack.replace('.a.', '.g.'), 403, 'This link is not valid', held);
    });

    it('expired (48 h after the digest) → 410', async () => {
      const { held, path } = await digestOf(8);
      p.clock.set(new Date(p.clock.now().getTime() + 48 * 60 * MINUTE));
      await refused(path, 410, 'This link has expired', held);
    });

    it('validly signed for a digest this Klaxon does not know, or for another responder → 404', async () => {
      const { held, path } = await digestOf(8);
      const expiresAt = new Date(p.clock.now().getTime() + 60 * MINUTE);
      const unknown = signDigestToken(
        { digestId: 'abcdefgh2345', responderId: 'alice', expiresAt },
        LINK_SECRET,
      );
      await refused(`/a/${unknown}`, 404, 'Digest not found', held);
      const digestId = token(path).split('.')[0] ?? '';
      const bobs = signDigestToken({ digestId, responderId: 'bob', expiresAt }, LINK_SECRET);
      await refused(`/a/${bobs}`, 404, 'Digest not found', held);
    });

    it('a digest id in an incident acknowledge token is not a digest link (404 incident not found)', async () => {
      const { held, path } = await digestOf(8);
      const digestId = token(path).split('.')[0] ?? '';
      const expiresAt = new Date(p.clock.now().getTime() + 60 * MINUTE);
      const ack = signAckToken(
        { incidentId: digestId, action: 'ack', responderId: 'alice', expiresAt },
        LINK_SECRET,
      );
      await refused(`/a/${ack}`, 404, 'Incident not found', held);
    });
  });
});
