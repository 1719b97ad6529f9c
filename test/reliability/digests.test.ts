import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeDigest, DIGEST_START, type DigestProgress } from '#app/command';
import type { Incident } from '#core/incident';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { redrive, startFaultyPipeline } from '../support/faults.ts';
import { MINUTE, reliabilityConfig, START, type TestDynamo } from './support.ts';

/**
 * Held pages under faults: a flood of new incidents for one responder (email alice-0, SMS
 * alice-1) runs into the per-contact throttle while every port fails at random (seeded). After
 * the retries and a re-drive of the dead letters, every incident still waiting reached both of
 * alice's contacts — paged alone, or named in a digest — and nothing is left held. Then alice
 * uses the last digest's "acknowledge all" link while the faults go on, pressing "go on" after
 * each failure as the page offers: every incident it covered ends acknowledged by her, once, and
 * none of them pages anyone again.
 */

const SEEDS = [31, 32, 33, 34];
const FLOOD = 12;
const RATE = 0.15;

/** Only alice, an hour before anyone else would be paged: what reaches her is the opening page. */
const config = reliabilityConfig(
  {},
  {
    escalationPolicies: [
      { id: 'checkout', levels: [{ delayMinutes: 60, targets: [{ responder: 'alice' }] }], repeat: 0 },
    ],
  },
);

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

interface Run {
  readonly seed: number;
  readonly faults: number;
  readonly letters: number;
  readonly digests: number;
  /** "<contact> <incident>" for every waiting incident a contact never heard of. */
  readonly unreached: string[];
  /** Contacts with pages still held, or a due time left behind. */
  readonly leftHeld: string[];
  /** "Acknowledge all": presses under faults, and what it covered that is not hers afterwards. */
  readonly presses: number;
  readonly finished: boolean;
  readonly notAcknowledged: string[];
  /** Pages sent for a covered incident after it was acknowledged. */
  readonly pagedAfter: string[];
}

async function runSeed(seed: number): Promise<Run> {
  const fp = await startFaultyPipeline(dynamo, config, { seed, rate: RATE, attempts: 3, start: START });
  fp.plan.enabled = true;
  for (let i = 0; i < FLOOD; i++) {
    await fp.send(
      makeAlert({
        dedupKey: `flood-${i}`,
        eventKey: `s${seed}:${i}`,
        severity: 'warning',
        receivedAt: fp.clock.now().toISOString(),
      }),
    );
    await fp.fastForward(5_000);
  }
  // The digests come due 15 minutes after the first pages; their retries run out well before 40.
  await fp.fastForward(40 * MINUTE);
  fp.plan.enabled = false;
  const letters = [...fp.deadLetters];
  // Re-drive the dead letters with faults off, as an operator would.
  await redrive(fp, letters);
  await fp.fastForward(40 * MINUTE);

  const incidents: Incident[] = [];
  for (let i = 0; i < FLOOD; i++) {
    const found = await fp.store.findOpen('checkout', `flood-${i}`);
    if (found !== undefined) incidents.push(found);
  }
  expect(incidents).toHaveLength(FLOOD);
  const reached = new Map<string, Set<string>>();
  let digests = 0;
  for (const { page } of fp.pager.inbox) {
    if (page.kind !== 'page') continue;
    const set = reached.get(page.contact.key) ?? new Set<string>();
    reached.set(page.contact.key, set);
    if (page.digest === undefined) set.add(page.incident.id);
    else {
      digests++;
      for (const i of page.digest.incidents) set.add(i.id);
    }
  }
  const unreached: string[] = [];
  const leftHeld: string[] = [];
  for (const contact of ['alice-0', 'alice-1']) {
    for (const incident of incidents)
      if (incident.status === 'triggered' && !reached.get(contact)?.has(incident.id))
        unreached.push(`${contact} ${incident.id}`);
    const held = await fp.store.heldPages(`${contact}#page`);
    if (held.incidentIds.length > 0 || held.overflow > 0 || held.due !== undefined)
      leftHeld.push(`${contact}: ${JSON.stringify(held)}`);
  }
  const { presses, finished, notAcknowledged, pagedAfter } = await acknowledgeAll(fp);
  return {
    seed,
    faults: fp.plan.injected.length,
    letters: letters.length,
    digests,
    unreached,
    leftHeld,
    presses,
    finished,
    notAcknowledged,
    pagedAfter,
  };
}

/** The last digest's "acknowledge all", pressed under faults until done, then once more without. */
async function acknowledgeAll(fp: Awaited<ReturnType<typeof startFaultyPipeline>>) {
  const last = [...fp.pager.inbox].reverse().find((e) => e.page.digest?.acknowledgeAll !== undefined);
  const link = last?.page.digest?.acknowledgeAll?.link;
  if (link === undefined) throw new Error('no digest with an acknowledge-all link');
  const token = new URL(link).pathname.split('/')[2] ?? '';
  const digest = await fp.store.getDigest(token.split('.')[0] ?? '');
  if (digest === undefined) throw new Error(`digest of ${link} not stored`);
  const ids = digest.incidentIds;
  const act = { who: 'alice', source: `link:${token}` };
  fp.plan.enabled = true;
  let at: DigestProgress | undefined = DIGEST_START;
  let presses = 0;
  while (at !== undefined && presses < 200) {
    presses++;
    // A request that throws (its digest read, say) is pressed again from where the page said.
    const from: DigestProgress = at;
    const result: { next?: DigestProgress } = await acknowledgeDigest(
      ids,
      from,
      act,
      fp.faulty,
      60_000,
    ).catch(() => ({ next: from }));
    at = result.next;
  }
  fp.plan.enabled = false;
  // Done under faults, and nothing left over for a fault-free pass to mend.
  const finished = at === undefined;
  const notAcknowledged: string[] = [];
  for (const id of ids) {
    const incident = await fp.store.get(id);
    if (incident?.status !== 'acknowledged' || incident.acknowledgedBy !== 'alice')
      notAcknowledged.push(`${id}: ${incident?.status} by ${incident?.acknowledgedBy}`);
  }
  // Once more, without faults: every one is this link's own (a replay), nothing fails.
  expect(await acknowledgeDigest(ids, DIGEST_START, act, fp.deps, 60_000)).toEqual({
    acknowledged: ids.length,
    unchanged: 0,
    failed: 0,
  });
  const before = fp.pager.inbox.length;
  await fp.fastForward(3 * 60 * MINUTE);
  const pagedAfter = fp.pager.inbox
    .slice(before)
    .filter((e) => e.page.kind === 'page' && ids.includes(e.page.incident.id))
    .map((e) => `${e.page.contact.key} ${e.page.incident.id}`);
  return { presses, finished, notAcknowledged, pagedAfter };
}

describe(`held pages under random faults (${SEEDS.length} seeds × ${FLOOD} new incidents for one responder, rate ${RATE})`, () => {
  let runs: Run[] = [];
  beforeAll(async () => {
    runs = [];
    for (const seed of SEEDS) runs.push(await runSeed(seed));
  }, 120_000);

  it('injects faults and sends digests', () => {
    expect(runs.every((r) => r.faults > 0)).toBe(true);
    expect(runs.every((r) => r.digests >= 2)).toBe(true);
  });

  it('"acknowledge all" under faults acknowledges every incident it covered, as alice; none pages again', () => {
    expect(runs.map((r) => r.finished)).toEqual(SEEDS.map(() => true));
    expect(runs.some((r) => r.presses > 1)).toBe(true);
    expect(
      runs.map((r) => ({ seed: r.seed, notAcknowledged: r.notAcknowledged, pagedAfter: r.pagedAfter })),
    ).toEqual(SEEDS.map((seed) => ({ seed, notAcknowledged: [], pagedAfter: [] })));
  });

  it('every incident still waiting reached each contact, alone or in a digest; nothing is left held', () => {
    expect(runs.map((r) => ({ seed: r.seed, unreached: r.unreached, leftHeld: r.leftHeld }))).toEqual(
      SEEDS.map((seed) => ({ seed, unreached: [], leftHeld: [] })),
    );
  });
});
