import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELD_MAX } from '#adapters/aws/dynamodb-store';
import { afterAcknowledged } from '#app/escalation';
import { createMaintenance } from '#app/operations';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import type { Incident } from '#core/incident';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
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
    }
    for (const contact of ['alice-0', 'alice-1']) {
      expect(await p.store.heldPages(`${contact}#page`)).toEqual({
        incidentIds: [],
        overflow: 0,
        history: expect.any(Array),
      });
    }
    expect(await digestTimers(p)).toEqual([]);
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
    // Moved to the next free slot: 15 minutes after the second page.
    const next = START + 15 * MINUTE + 10_000;
    expect(await digestTimers(p)).toEqual([`dig-alice-0-${next}`, `dig-alice-1-${next}`]);
    await p.fastForward(10_000);
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
    const store = new Proxy(p.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'releaseHeld' || raced) return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          raced = true;
          await target.holdPage('alice-1#page', 'racer000000000000000', 0);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    p.clock.set(new Date(START + 15 * MINUTE));
    expect(await handleTimerEvent(JSON.parse(timer?.input ?? ''), { ...p.deps, store })).toBe('done');
    const [digest] = digests(p);
    expect(digest?.page.digest?.incidents.map((i) => i.id)).toEqual([incidents[5]?.id, late.id]);
    const held = await p.store.heldPages('alice-1#page');
    expect(held.incidentIds).toEqual(['racer000000000000000']);
    // The next slot: 15 minutes after the second page (10 s after the first).
    expect(held.due).toBe(START + 15 * MINUTE + 10_000);
    expect(await digestTimers(p)).toContain(`dig-alice-1-${START + 15 * MINUTE + 10_000}`);
  });

  it('a retried hold creates the same timer again (its first attempt may have died before it)', async () => {
    const p = await startPipeline(dynamo, config());
    const due = START + 15 * MINUTE;
    expect(await p.store.holdPage('alice-1#page', 'inc-a', due)).toBe(due);
    expect(await p.store.holdPage('alice-1#page', 'inc-b', due + 5)).toBeUndefined();
    expect(await p.store.holdPage('alice-1#page', 'inc-a', due + 9)).toBe(due);
    expect(await p.store.heldPages('alice-1#page')).toMatchObject({ incidentIds: ['inc-a', 'inc-b'], due });
  });

  it('a stale digest timer (moved, or already sent) does nothing', async () => {
    const p = await startPipeline(dynamo, config());
    expect(await handleTimerEvent({ kind: 'digest', contact: 'alice-1', due: START }, p.deps)).toBe('stale');
    await p.store.holdPage('alice-1#page', 'inc-a', START + 1000);
    expect(await handleTimerEvent({ kind: 'digest', contact: 'alice-1', due: START }, p.deps)).toBe('stale');
    expect(p.pager.inbox).toEqual([]);
  });

  it(`names up to ${HELD_MAX} held incidents and counts the rest`, async () => {
    const p = await startPipeline(dynamo, config());
    const due = START + MINUTE;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < HELD_MAX + 3; i++)
      writes.push(p.store.holdPage('bob-0#page', `i${String(i).padStart(5, '0')}`, due));
    await Promise.all(writes);
    const held = await p.store.heldPages('bob-0#page');
    expect(held.incidentIds).toHaveLength(HELD_MAX);
    expect(held.overflow).toBe(3);
    expect(await p.store.releaseHeld('bob-0#page', held, due)).toBe(true);
    expect(await p.store.moveDigest('bob-0#page', due, undefined)).toBe(true);
    expect(await p.store.heldPages('bob-0#page')).toEqual({ incidentIds: [], overflow: 0, history: [] });
  });
});
