import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore, HELD_MAX } from '#adapters/aws/dynamodb-store';
import { acknowledgeDigest, DIGEST_START } from '#app/command';
import { DIGEST_LEAD_MS } from '#app/digest';
import { afterAcknowledged } from '#app/escalation';
import { createMaintenance } from '#app/operations';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import type { Incident } from '#core/incident';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

const MINUTE = 60_000;
const START = Date.parse('2026-11-26T10:00:00.000Z');

/** checkout pages alice (email alice-0, SMS alice-1) and nobody after her for an hour. */
const config = () =>
  teamConfig(
    {},
    {
      escalationPolicies: [
        { id: 'checkout', levels: [{ delayMinutes: 60, targets: [{ responder: 'alice' }] }], repeat: 0 },
      ],
    },
  );

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

async function open(p: Pipeline, dedupKey: string): Promise<Incident> {
  const outcome = await processAlert(
    makeAlert({ receivedAt: p.clock.now().toISOString(), dedupKey, severity: 'warning' }),
    p.deps,
  );
  if (outcome.kind !== 'opened') throw new Error(`expected a new incident, got ${outcome.kind}`);
  return outcome.incident;
}

/** Opens `n` incidents 10 seconds apart. */
async function flood(p: Pipeline, n: number, prefix = 'flood'): Promise<Incident[]> {
  const incidents: Incident[] = [];
  for (let i = 0; i < n; i++) {
    incidents.push(await open(p, `${prefix}-${i}`));
    await p.fastForward(10_000);
  }
  return incidents;
}

async function acknowledge(p: Pipeline, incident: Incident) {
  const outcome = await p.store.transition(
    incident.id,
    'acknowledged',
    p.clock.now(),
    'alice',
    `test:${incident.id}`,
  );
  if (outcome.kind !== 'acknowledged') throw new Error(`expected acknowledged, got ${outcome.kind}`);
  await afterAcknowledged(
    outcome.incident,
    { who: 'alice', channel: 'link', cause: `test:${incident.id}` },
    p.deps,
  );
}

const digests = (p: Pipeline) => p.pager.inbox.filter((e) => e.page.digest !== undefined);
const digestTimers = async (p: Pipeline) =>
  (await p.timers.pending()).filter((t) => t.name.startsWith('dig-')).map((t) => t.name);

describe('digests: the throttle holds pages, it does not drop them', () => {
  it('sends the held pages in one digest per contact when the throttle allows a page again', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 8);
    const direct = p.takePages();
    expect(direct.filter((x) => x.endsWith('alice-1'))).toHaveLength(5);
    expect(direct.filter((x) => x.endsWith('alice-0'))).toHaveLength(5);
    // One timer per contact, due 15 minutes after its first page, however many were held.
    expect(await digestTimers(p)).toEqual([
      `dig-alice-0-${START + 15 * MINUTE}`,
      `dig-alice-1-${START + 15 * MINUTE}`,
    ]);
    const [, , , , , sixth, seventh, eighth] = incidents;
    await acknowledge(p, seventh as Incident);
    p.takePages();

    await p.fastForward(15 * MINUTE - 80_000 - 1);
    expect(digests(p)).toEqual([]);
    await p.fastForward(1);
    const sent = digests(p);
    expect(sent.map((e) => e.page.contact.key)).toEqual(['alice-0', 'alice-1']);
    for (const { page, rendered } of sent) {
      // The acknowledged one is left out; the rest come most urgent, then oldest, first.
      expect(page.digest?.incidents.map((i) => i.id)).toEqual([sixth?.id, eighth?.id]);
      expect(page.digest?.total).toBe(2);
      expect(page.kind).toBe('page');
      expect(page.digest?.incidents[0]?.links.acknowledge).toMatch(/^https:\/\/klaxon\.example\.com\/a\//);
      expect(rendered.subject).toMatch(/^\[2 incidents waiting\] /);
      // The SMS acknowledges them all with a signed link (the API itself needs credentials).
      if (page.contact.type === 'sms')
        expect(rendered.sms).toContain(`ACK ALL ${page.digest?.acknowledgeAll?.link}`);
    }
    // Each incident's timeline says who the digest paged, and how (the page itself was held).
    for (const incident of [sixth, eighth] as Incident[]) {
      const digested = (await p.store.timeline(incident.id)).filter((e) => e.type === 'DIGESTED');
      // Same instant: in id order.
      // Not in `paged`: acknowledging or resolving each of them does not notify alice again.
      expect(digested.map((e) => [e.text, e.paged, e.at]).sort()).toEqual([
        ['Alice paged by email in a digest of held pages (with 1 other incident)', undefined, sent[0]?.at],
        ['Alice paged by sms in a digest of held pages (with 1 other incident)', undefined, sent[1]?.at],
      ]);
    }
    expect((await p.store.timeline((seventh as Incident).id)).map((e) => e.type)).not.toContain('DIGESTED');
    // The digest took one throttle slot: five pages and itself.
    expect((await p.store.heldPages('alice-1#page')).history).toHaveLength(6);
    for (const contact of ['alice-0', 'alice-1']) {
      expect(await p.store.heldPages(`${contact}#page`)).toEqual({
        incidentIds: [],
        overflow: 0,
        history: expect.any(Array),
      });
    }
    expect(await digestTimers(p)).toEqual([]);
  });

  it('"acknowledge all" goes on in batches until its time budget is spent, and says where to go on', async () => {
    const p = await startPipeline(dynamo, config());
    const held = (await flood(p, 15)).slice(5).map((i) => i.id);
    const act = { who: 'alice', source: 'link:test-digest' };
    // A spent budget still does one batch of eight.
    const first = await acknowledgeDigest(held, DIGEST_START, act, p.deps, 0);
    expect(first).toEqual({ acknowledged: 8, unchanged: 0, failed: 0, next: { from: 8, retry: [] } });
    const statuses = async () => Promise.all(held.map(async (id) => (await p.store.get(id))?.status));
    expect((await statuses()).filter((s) => s === 'acknowledged')).toHaveLength(8);
    expect(await acknowledgeDigest(held, first.next ?? DIGEST_START, act, p.deps, 0)).toEqual({
      acknowledged: 2,
      unchanged: 0,
      failed: 0,
    });
    // Over again from the start: each is this link's own acknowledgement (a replay); an incident
    // that is gone is left out.
    expect(await acknowledgeDigest([...held, 'abcdefgh2345'], DIGEST_START, act, p.deps, 60_000)).toEqual({
      acknowledged: 10,
      unchanged: 1,
      failed: 0,
    });
    expect(await statuses()).toEqual(held.map(() => 'acknowledged'));
  });

  // Regression test: one cause for the whole link made a second acknowledgement after an ack
  // timeout reuse the first one's event id (subscribers de-duplicate on it).
  it('"acknowledge all" after an ack timeout acknowledges again, each a new event; then a repeat is a replay', async () => {
    const policy = {
      id: 'checkout',
      levels: [{ delayMinutes: 60, targets: [{ responder: 'alice' }] }],
      repeat: 0,
    };
    const p = await startPipeline(
      dynamo,
      teamConfig({ ackTimeoutMinutes: 30 }, { escalationPolicies: [policy] }),
    );
    const ids = (await flood(p, 2)).map((i) => i.id);
    const act = { who: 'alice', source: 'link:test-digest' };
    const all = () => acknowledgeDigest(ids, DIGEST_START, act, p.deps, 60_000);
    const acks = () => p.events.published.filter((e) => e.detailType === 'Incident Acknowledged');
    const statuses = async () => Promise.all(ids.map(async (id) => (await p.store.get(id))?.status));
    expect(await all()).toEqual({ acknowledged: 2, unchanged: 0, failed: 0 });
    await p.fastForward(31 * MINUTE); // the ack timeout (30 minutes) restarts both
    expect(await statuses()).toEqual(['triggered', 'triggered']);

    expect(await all()).toEqual({ acknowledged: 2, unchanged: 0, failed: 0 });
    expect(await statuses()).toEqual(['acknowledged', 'acknowledged']);
    expect(new Set(acks().map((e) => e.detail.id)).size).toBe(4);
    expect(await all()).toEqual({ acknowledged: 2, unchanged: 0, failed: 0 });
    expect(acks()).toHaveLength(4);
  });

  it('a failed acknowledgement does not stop the others: the next request tries it again first', async () => {
    const p = await startPipeline(dynamo, config());
    const held = (await flood(p, 16)).slice(5).map((i) => i.id);
    const victim = held[1] as string;
    const store = overriding(p.store, {
      get: async (id) => {
        if (id === victim) throw new Error('DynamoDB unavailable');
        return p.store.get(id);
      },
    });
    const act = { who: 'alice', source: 'link:test-digest' };
    // Out of time after the first batch, with one failure in it.
    const first = await acknowledgeDigest(held, DIGEST_START, act, { ...p.deps, store }, 0);
    expect(first).toMatchObject({
      acknowledged: 7,
      unchanged: 0,
      failed: 1,
      next: { from: 8, retry: [victim] },
    });
    expect(String(first.failure)).toContain('DynamoDB unavailable');
    // The retried one fails again; the three after `from` are done.
    const second = await acknowledgeDigest(
      held,
      first.next ?? DIGEST_START,
      act,
      { ...p.deps, store },
      60_000,
    );
    expect(second).toMatchObject({ acknowledged: 3, failed: 1, next: { from: 11, retry: [victim] } });
    expect(await acknowledgeDigest(held, second.next ?? DIGEST_START, act, p.deps, 60_000)).toEqual({
      acknowledged: 1,
      unchanged: 0,
      failed: 0,
    });
    // Progress names only the digest's own incidents, before `from`.
    expect(
      await acknowledgeDigest(
        held.slice(0, 2),
        { from: 1, retry: ['abcdefgh2345', held[1] as string] },
        act,
        p.deps,
        60_000,
      ),
    ).toEqual({
      acknowledged: 1,
      unchanged: 0,
      failed: 0,
    });
  });

  it('a digest retried after its send is a new message with its own list: the first link keeps its own', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 8);
    p.takePages();
    const [timer] = (await p.timers.pending()).filter((t) => t.name.startsWith('dig-alice-1-'));
    if (timer === undefined) throw new Error('no digest timer');
    let releases = 0;
    const store = overriding(p.store, {
      releaseHeld: async (...args) => {
        if (releases++ === 0) throw new Error('DynamoDB unavailable');
        return p.store.releaseHeld(...args);
      },
    });
    p.clock.set(new Date(timer.dueAt));
    await expect(handleTimerEvent(JSON.parse(timer.input), { ...p.deps, store })).rejects.toThrow(
      'DynamoDB unavailable',
    );
    const first = digests(p).at(-1)?.page.digest?.acknowledgeAll?.link ?? '';
    const firstId = new URL(first).pathname.split('/')[2]?.split('.')[0] ?? '';
    const firstList = await p.store.getDigest(firstId);
    expect(firstList?.incidentIds).toEqual(incidents.slice(5).map((i) => i.id));
    // One of them is acknowledged by someone meanwhile; the timer's retry sends again, in the next slot.
    await acknowledge(p, incidents[5] as Incident);
    await p.fastForward(16 * MINUTE);
    const again = digests(p).at(-1)?.page.digest?.acknowledgeAll?.link ?? '';
    expect(again).not.toBe(first);
    const againId = new URL(again).pathname.split('/')[2]?.split('.')[0] ?? '';
    expect((await p.store.getDigest(againId))?.incidentIds).toEqual(incidents.slice(6).map((i) => i.id));
    expect(await p.store.getDigest(firstId)).toEqual(firstList);
  });

  it('the digest is a page to the throttle: it takes a slot, and waits for one if it finds none', async () => {
    const p = await startPipeline(dynamo, config());
    await flood(p, 6);
    p.takePages();
    // The first page's slot frees at +15 min; a new incident takes it before the digest runs.
    p.clock.set(new Date(START + 15 * MINUTE));
    await open(p, 'first-in');
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    await p.fastForward(0);
    expect(digests(p)).toEqual([]);
    // Moved to the next free slot (15 minutes after the second page), at least DIGEST_LEAD_MS ahead.
    const next = START + 15 * MINUTE + DIGEST_LEAD_MS;
    expect(await digestTimers(p)).toEqual([`dig-alice-0-${next}`, `dig-alice-1-${next}`]);
    await p.fastForward(DIGEST_LEAD_MS);
    expect(digests(p).map((e) => [e.page.contact.key, e.page.digest?.total, e.at])).toEqual([
      ['alice-0', 1, new Date(next).toISOString()],
      ['alice-1', 1, new Date(next).toISOString()],
    ]);
  });

  it('an incident acknowledged or resolved while held is dropped without a message', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 6);
    await acknowledge(p, incidents[5] as Incident);
    await p.fastForward(20 * MINUTE);
    expect(digests(p)).toEqual([]);
    expect((await p.store.heldPages('alice-1#page')).incidentIds).toEqual([]);
    expect(await digestTimers(p)).toEqual([]);
  });

  it('an incident a maintenance window quieted while held is left out (escalation stopped)', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 6);
    p.takePages();
    const now = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 60 * MINUTE) },
      p.deps,
    );
    await p.fastForward(MINUTE);
    expect((await p.store.get(incidents[5]?.id ?? ''))?.escalation).toBe('stopped');
    await p.fastForward(20 * MINUTE);
    expect(digests(p)).toEqual([]);
    expect((await p.store.heldPages('alice-1#page')).incidentIds).toEqual([]);
  });

  it('what is held while a digest goes out waits for the next one', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 6);
    p.takePages();
    const late = await open(p, 'late'); // held too
    const [timer] = (await p.timers.pending()).filter((t) => t.name.startsWith('dig-alice-1-'));
    // Another delivery holds one more page between the digest's read and its release.
    let raced = false;
    const store = overriding(p.store, {
      releaseHeld: async (...args) => {
        if (!raced) {
          raced = true;
          await p.store.holdPage('alice-1#page', 'racer000000000000000', 0);
        }
        return p.store.releaseHeld(...args);
      },
    });
    p.clock.set(new Date(START + 15 * MINUTE));
    expect(await handleTimerEvent(JSON.parse(timer?.input ?? ''), { ...p.deps, store })).toBe('done');
    const [digest] = digests(p);
    expect(digest?.page.digest?.incidents.map((i) => i.id)).toEqual([incidents[5]?.id, late.id]);
    const held = await p.store.heldPages('alice-1#page');
    expect(held.incidentIds).toEqual(['racer000000000000000']);
    // The next slot (15 minutes after the second page) is less than DIGEST_LEAD_MS away.
    expect(held.due).toBe(START + 15 * MINUTE + DIGEST_LEAD_MS);
    expect(await digestTimers(p)).toContain(`dig-alice-1-${START + 15 * MINUTE + DIGEST_LEAD_MS}`);
  });

  it('a hold whose digest timer could not be created holds nothing; the retry holds and times it', async () => {
    const p = await startPipeline(dynamo, config());
    await flood(p, 5);
    p.takePages();
    let failed = false;
    const timers = new Proxy(p.timers, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'schedule') return typeof value === 'function' ? value.bind(target) : value;
        return async (t: { name: string }) => {
          if (!failed && t.name.startsWith('dig-')) {
            failed = true;
            throw new Error('Scheduler unavailable');
          }
          return (value as (x: unknown) => Promise<void>).call(target, t);
        };
      },
    });
    const alert = makeAlert({
      receivedAt: p.clock.now().toISOString(),
      dedupKey: 'sixth',
      severity: 'warning',
    });
    await expect(processAlert(alert, { ...p.deps, timers })).rejects.toThrow('Scheduler unavailable');
    expect((await p.store.heldPages('alice-0#page')).incidentIds).toEqual([]);
    // Lambda retries the event: the opening's effects run again and hold the page with its timer.
    expect((await processAlert(alert, p.deps)).kind).toBe('replayed');
    await p.fastForward(20 * MINUTE);
    expect(digests(p).map((e) => [e.page.contact.key, e.page.digest?.total])).toEqual([
      ['alice-0', 1],
      ['alice-1', 1],
    ]);
  });

  it('a digest that died after timing its next round, before recording it, is finished by its retry', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 7);
    p.takePages();
    const [sixth, seventh] = [incidents[5] as Incident, incidents[6] as Incident];
    const [timer] = (await p.timers.pending()).filter((t) => t.name.startsWith('dig-alice-1-'));
    // The seventh is held "after" the digest's read; the move to the next round then fails.
    let reads = 0;
    let moves = 0;
    const store = overriding(p.store, {
      heldPages: async (key) => {
        const held = await p.store.heldPages(key);
        return reads++ === 0
          ? { ...held, incidentIds: held.incidentIds.filter((id) => id !== seventh.id) }
          : held;
      },
      moveDigest: async (...args) => {
        if (moves++ === 0) throw new Error('DynamoDB unavailable');
        return p.store.moveDigest(...args);
      },
    });
    p.clock.set(new Date(START + 15 * MINUTE));
    const event = JSON.parse(timer?.input ?? '');
    await expect(handleTimerEvent(event, { ...p.deps, store })).rejects.toThrow('DynamoDB unavailable');
    expect(digests(p).map((e) => e.page.digest?.incidents.map((i) => i.id))).toEqual([[sixth.id]]);
    // The retry of the same timer finds the due time unchanged and the seventh still held.
    expect(await handleTimerEvent(event, p.deps)).toBe('rescheduled');
    await p.fastForward(MINUTE);
    const alice1 = digests(p).filter((e) => e.page.contact.key === 'alice-1');
    expect(alice1.map((e) => e.page.digest?.incidents.map((i) => i.id))).toEqual([[sixth.id], [seventh.id]]);
    expect((await p.store.heldPages('alice-1#page')).due).toBeUndefined();
  });

  it('a due time whose timer is gone (it fired before the write naming it landed) is taken over by a later one', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents = await flood(p, 6);
    p.takePages();
    const sixth = incidents[5] as Incident;
    const stuck = START + 15 * MINUTE;
    for (const t of await digestTimers(p)) await p.timers.cancel(t);
    expect((await p.store.heldPages('alice-1#page')).due).toBe(stuck);
    // A later digest timer of the contact (another hold's) fires and acts on the earlier due time.
    p.clock.set(new Date(stuck + 5 * MINUTE));
    expect(
      await handleTimerEvent({ kind: 'digest', contact: 'alice-1', due: stuck + 5 * MINUTE }, p.deps),
    ).toBe('done');
    expect(digests(p).map((e) => e.page.digest?.incidents.map((i) => i.id))).toEqual([[sixth.id]]);
    expect((await p.store.heldPages('alice-1#page')).due).toBeUndefined();
  });

  it('a stale digest timer (moved, or already sent) does nothing', async () => {
    const p = await startPipeline(dynamo, config());
    expect(await handleTimerEvent({ kind: 'digest', contact: 'alice-1', due: START }, p.deps)).toBe('stale');
    await p.store.holdPage('alice-1#page', 'inc-a', START + 1000);
    expect(await handleTimerEvent({ kind: 'digest', contact: 'alice-1', due: START }, p.deps)).toBe('stale');
    expect(p.pager.inbox).toEqual([]);
  });

  it(`names up to ${HELD_MAX} held incidents and counts the rest; releases never go below zero`, async () => {
    const p = await startPipeline(dynamo, config());
    const due = START + MINUTE;
    const id = (i: number) => `i${String(i).padStart(5, '0')}`;
    await Promise.all(
      Array.from({ length: HELD_MAX + 3 }, (_, i) => p.store.holdPage('bob-0#page', id(i), due)),
    );
    // A retried hold of a named incident stays one name, not one more in the count.
    const named = (await p.store.heldPages('bob-0#page')).incidentIds[0] ?? '';
    await p.store.holdPage('bob-0#page', named, due);
    const held = await p.store.heldPages('bob-0#page');
    expect(held.incidentIds).toHaveLength(HELD_MAX);
    expect(held.overflow).toBe(3);
    expect(await p.store.releaseHeld('bob-0#page', held, due)).toBe(true);
    // A second delivery of the same digest releases nothing more.
    expect(await p.store.releaseHeld('bob-0#page', held, due)).toBe(false);
    expect((await p.store.heldPages('bob-0#page')).overflow).toBe(0);
    expect(await p.store.moveDigest('bob-0#page', due, undefined)).toBe(true);
    expect(await p.store.heldPages('bob-0#page')).toEqual({ incidentIds: [], overflow: 0, history: [] });
  });

  it('a hold that finds the set full, then emptied by a digest before it could count, is named after all', async () => {
    const p = await startPipeline(dynamo, config());
    const due = START + MINUTE;
    await Promise.all(
      Array.from({ length: HELD_MAX }, (_, i) => p.store.holdPage('bob-0#page', `f${i}`, due)),
    );
    // A store on a client of its own: just before its first overflow count, a digest releases the set.
    const client = documentClient(
      new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    let released = false;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { UpdateExpression?: string };
        if (!released && input.UpdateExpression?.startsWith('ADD overflow')) {
          released = true;
          const held = await p.store.heldPages('bob-0#page');
          expect(await p.store.releaseHeld('bob-0#page', held, due)).toBe(true);
        }
        return next(args);
      },
      { step: 'initialize', name: 'releaseBeforeCount' },
    );
    const racing = new DynamoDbIncidentStore({ tableName: p.store.tableName, client });
    await racing.holdPage('bob-0#page', 'late', due);
    expect(released).toBe(true);
    expect(await p.store.heldPages('bob-0#page')).toMatchObject({ incidentIds: ['late'], overflow: 0, due });
  });

  it('an overflow count alone (nothing named still waits) sends nothing and is cleared', async () => {
    const p = await startPipeline(dynamo, config());
    const due = START + MINUTE;
    await Promise.all(
      Array.from({ length: HELD_MAX + 2 }, (_, i) => p.store.holdPage('alice-1#page', `gone${i}`, due)),
    );
    p.clock.set(new Date(due));
    expect(await handleTimerEvent({ kind: 'digest', contact: 'alice-1', due }, p.deps)).toBe('done');
    expect(p.pager.inbox).toEqual([]);
    expect(await p.store.heldPages('alice-1#page')).toEqual({ incidentIds: [], overflow: 0, history: [] });
  });
});
