import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore, SEEN_WINDOW } from '#adapters/aws/dynamodb-store';
import { handleAlertEvent, type RoutedEvent } from '#app/alert-event';
import { processAlert } from '#app/process-alert';
import { RetryableError } from '#core/errors';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let store: DynamoDbIncidentStore & { tableName: string };
let pipeline: Pipeline;
let now = new Date('2026-11-26T10:00:05.000Z');
const clock = () => now;
const deps = () => ({ ...pipeline.deps, clock });
const config = {
  services: [
    // PagerDuty's semantics: a resolve is final at once (the monitoring period is tested on its own).
    { id: 'checkout', name: 'Checkout', resolveMonitoringMinutes: 0 },
    { id: 'platform', name: 'Platform', resolveMonitoringMinutes: 0 },
  ],
};

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  pipeline = await startPipeline(dynamo, config);
  store = pipeline.store;
  now = new Date('2026-11-26T10:00:05.000Z');
});

/** A document client on a DynamoDB client of its own: a document client shares its base's middleware. */
const ownClient = () =>
  documentClient(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );

/** A store on a client of its own, counting the commands it sends. */
const countingStore = () => {
  const calls: string[] = [];
  const client = ownClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { calls, store: new DynamoDbIncidentStore({ tableName: store.tableName, client }) };
};

describe('PagerDuty dedup semantics on DynamoDB (dynalite)', () => {
  it('moves startedAt back to the earliest alert counted in, whatever the order they arrive in', async () => {
    const first = await processAlert(
      makeAlert({ eventKey: 'e1', occurredAt: '2026-11-26T09:58:00.000Z' }),
      deps(),
    );
    if (first.kind !== 'opened') throw new Error('expected opened');
    const earlier = await processAlert(
      makeAlert({ eventKey: 'e2', occurredAt: '2026-11-26T09:40:00.000Z' }),
      deps(),
    );
    expect(earlier.incident?.startedAt).toBe('2026-11-26T09:40:00.000Z');
    await processAlert(makeAlert({ eventKey: 'e3', occurredAt: '2026-11-26T09:50:00.000Z' }), deps());
    expect(await store.get(first.incident.id)).toMatchObject({
      startedAt: '2026-11-26T09:40:00.000Z',
      alertCount: 3,
    });
  });

  it('opens one incident for the first trigger of a key, with the DESIGN.md timestamps', async () => {
    const alert = makeAlert({ occurredAt: '2026-11-26T09:58:00.000Z' });
    const outcome = await processAlert(alert, deps());
    expect(outcome.kind).toBe('opened');
    if (outcome.kind !== 'opened') return;
    expect(outcome.incident).toMatchObject({
      service: 'checkout',
      dedupKey: 'db-latency',
      status: 'triggered',
      title: 'p99 latency above 2s on orders-db',
      severity: 'critical',
      startedAt: '2026-11-26T09:58:00.000Z',
      detectedAt: '2026-11-26T10:00:05.000Z',
      lastAlertAt: '2026-11-26T10:00:05.000Z',
      alertCount: 1,
      occurrence: 0,
    });
    const timeline = await store.timeline(outcome.incident.id);
    expect(timeline.map((e) => [e.type, e.at])).toEqual([['OPENED', '2026-11-26T10:00:05.000Z']]);
  });

  it('startedAt falls back to the time Klaxon received the alert when it has no timestamp', async () => {
    const outcome = await processAlert(makeAlert({ receivedAt: '2026-11-26T10:00:01.000Z' }), deps());
    expect(outcome.kind === 'opened' && outcome.incident.startedAt).toBe('2026-11-26T10:00:01.000Z');
  });

  it('counts a second trigger of the same open key into the same incident', async () => {
    const first = await processAlert(makeAlert(), deps());
    now = new Date('2026-11-26T10:03:00.000Z');
    const second = await processAlert(makeAlert({ summary: 'a different summary' }), deps());
    expect(second.kind).toBe('appended');
    if (first.kind !== 'opened' || second.kind !== 'appended') return;
    expect(second.incident.id).toBe(first.incident.id);
    expect(second.incident.alertCount).toBe(2);
    expect(second.incident.title).toBe('p99 latency above 2s on orders-db');
    expect(second.incident.lastAlertAt).toBe('2026-11-26T10:03:00.000Z');
    expect((await store.list({})).incidents).toHaveLength(1);
  });

  it('keeps different keys and different services apart', async () => {
    await processAlert(makeAlert(), deps());
    await processAlert(makeAlert({ dedupKey: 'disk-full' }), deps());
    await processAlert(makeAlert({ service: 'platform' }), deps());
    expect((await store.list({})).incidents).toHaveLength(3);
    expect((await store.list({ service: 'platform' })).incidents.map((i) => i.service)).toEqual(['platform']);
  });

  it('replaying the same input event changes nothing', async () => {
    const alert = makeAlert();
    const first = await processAlert(alert, deps());
    const before = await store.get(first.kind === 'opened' ? first.incident.id : '');
    const replay = await processAlert(alert, deps());
    expect(replay).toMatchObject({ kind: 'replayed', caused: 'opened' });
    expect(await store.get(before?.id ?? '')).toEqual(before);
    expect(await store.timeline(before?.id ?? '')).toHaveLength(1);
  });

  it('acknowledge acts on the open incident; acknowledging again changes nothing', async () => {
    const opened = await processAlert(makeAlert(), deps());
    now = new Date('2026-11-26T10:04:00.000Z');
    const ack = await processAlert(
      makeAlert({ action: 'acknowledge', client: 'alice', receivedAt: '2026-11-26T10:04:00.000Z' }),
      deps(),
    );
    expect(ack.kind).toBe('acknowledged');
    if (ack.kind !== 'acknowledged' || opened.kind !== 'opened') return;
    expect(ack.incident).toMatchObject({
      id: opened.incident.id,
      status: 'acknowledged',
      acknowledgedAt: '2026-11-26T10:04:00.000Z',
      acknowledgedBy: 'alice',
      version: 2,
    });
    const again = await processAlert(makeAlert({ action: 'acknowledge' }), deps());
    expect(again).toMatchObject({ kind: 'ignored', reason: 'incident is already acknowledged' });
    expect((await store.get(opened.incident.id))?.version).toBe(2);
    expect((await store.timeline(opened.incident.id)).map((e) => e.type)).toEqual(['OPENED', 'ACKNOWLEDGED']);
  });

  it('after resolve, a trigger of the same key opens a new incident', async () => {
    const first = await processAlert(makeAlert(), deps());
    now = new Date('2026-11-26T10:10:00.000Z');
    const resolved = await processAlert(makeAlert({ action: 'resolve' }), deps());
    expect(resolved).toMatchObject({
      kind: 'resolved',
      incident: { status: 'resolved', resolvedAt: now.toISOString() },
    });
    now = new Date('2026-11-26T10:20:00.000Z');
    const second = await processAlert(makeAlert(), deps());
    expect(second.kind).toBe('opened');
    if (first.kind !== 'opened' || second.kind !== 'opened') return;
    expect(second.incident.id).not.toBe(first.incident.id);
    expect(second.incident.occurrence).toBe(1);
    expect((await store.get(first.incident.id))?.status).toBe('resolved');
    expect((await store.findOpen('checkout', 'db-latency'))?.id).toBe(second.incident.id);
  });

  it('acknowledge or resolve for an unknown key changes nothing', async () => {
    for (const action of ['acknowledge', 'resolve'] as const) {
      const outcome = await processAlert(makeAlert({ action, dedupKey: 'never-seen' }), deps());
      expect(outcome).toMatchObject({ kind: 'ignored', reason: 'no open incident for this dedup key' });
    }
    expect((await store.list({})).incidents).toEqual([]);
  });

  it('acknowledge or resolve for a closed key changes nothing', async () => {
    await processAlert(makeAlert(), deps());
    await processAlert(makeAlert({ action: 'resolve' }), deps());
    const [closed] = (await store.list({})).incidents;
    for (const action of ['acknowledge', 'resolve'] as const) {
      const outcome = await processAlert(makeAlert({ action }), deps());
      expect(outcome.kind).toBe('ignored');
    }
    expect(await store.get(closed?.id ?? '')).toEqual(closed);
    expect((await store.list({})).incidents).toHaveLength(1);
  });

  it('a replayed resolve re-advances the key without touching the incident', async () => {
    const resolve = makeAlert({ action: 'resolve' });
    await processAlert(makeAlert(), deps());
    await processAlert(resolve, deps());
    const replay = await processAlert(resolve, deps());
    expect(replay).toMatchObject({ kind: 'replayed', caused: 'resolved' });
    const next = await processAlert(makeAlert(), deps());
    expect(next.kind === 'opened' && next.incident.occurrence).toBe(1);
  });

  it('record (CloudWatch INSUFFICIENT_DATA) goes on the open incident timeline and opens nothing', async () => {
    const none = await processAlert(makeAlert({ action: 'record' }), deps());
    expect(none).toMatchObject({ kind: 'ignored', reason: 'no open incident to record on' });
    expect((await store.list({})).incidents).toEqual([]);
    const opened = await processAlert(makeAlert(), deps());
    await processAlert(
      makeAlert({
        action: 'record',
        summary: 'alarm has insufficient data',
        receivedAt: '2026-11-26T10:06:00.000Z',
      }),
      deps(),
    );
    if (opened.kind !== 'opened') throw new Error('expected opened');
    const timeline = await store.timeline(opened.incident.id);
    expect(timeline.map((e) => [e.type, e.text])).toEqual([
      ['OPENED', 'Incident opened: p99 latency above 2s on orders-db — no escalation policy: nobody paged'],
      ['RECORDED', 'alarm has insufficient data'],
    ]);
    expect((await store.get(opened.incident.id))?.alertCount).toBe(1);
  });

  it('lists incidents filtered by status and pages with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      now = new Date(Date.UTC(2026, 10, 26, 10, i));
      await processAlert(makeAlert({ dedupKey: `key-${i}` }), deps());
    }
    await processAlert(makeAlert({ dedupKey: 'key-1', action: 'resolve' }), deps());
    const open = await store.list({ status: 'triggered' });
    expect(open.incidents.map((i) => i.dedupKey)).toEqual(['key-4', 'key-3', 'key-2', 'key-0']);
    const page1 = await store.list({ limit: 2 });
    expect(page1.incidents.map((i) => i.dedupKey)).toEqual(['key-4', 'key-3']);
    const page2 = await store.list({ limit: 2, cursor: page1.nextCursor });
    expect(page2.incidents.map((i) => i.dedupKey)).toEqual(['key-2', 'key-1']);
  });

  it('gives a cursor only when another incident follows: a page that ends the list has none', async () => {
    for (let i = 0; i < 4; i++) {
      now = new Date(Date.UTC(2026, 10, 26, 10, i));
      await processAlert(makeAlert({ dedupKey: `key-${i}` }), deps());
    }
    await processAlert(makeAlert({ dedupKey: 'key-1', action: 'resolve' }), deps());
    // Exactly a page: no cursor to an empty page (`klaxon list` printed "more:" for nothing).
    const whole = await store.list({ limit: 4 });
    expect(whole.incidents).toHaveLength(4);
    expect(whole.nextCursor).toBeUndefined();
    // The last page of several: the cursor of the page before leads to it, and it has none.
    const page1 = await store.list({ limit: 2 });
    expect(page1.nextCursor).toBeDefined();
    const page2 = await store.list({ limit: 2, cursor: page1.nextCursor });
    expect(page2).toEqual({
      incidents: [
        expect.objectContaining({ dedupKey: 'key-1' }),
        expect.objectContaining({ dedupKey: 'key-0' }),
      ],
    });
    // With a filter: three triggered, a page of three is all of them; a page of two is not.
    expect(await store.list({ status: 'triggered', limit: 3 })).toEqual({ incidents: expect.any(Array) });
    const open1 = await store.list({ status: 'triggered', limit: 2 });
    expect(open1.incidents.map((i) => i.dedupKey)).toEqual(['key-3', 'key-2']);
    expect(await store.list({ status: 'triggered', limit: 2, cursor: open1.nextCursor })).toEqual({
      incidents: [expect.objectContaining({ dedupKey: 'key-0' })],
    });
  });

  it("a service's open incidents (a maintenance window's start and end): its resolved history filtered as it is read", async () => {
    const at = (i: number) => new Date(Date.UTC(2026, 10, 26, 10, 0, i));
    const open: string[] = [];
    for (let i = 0; i < 150; i++) {
      const outcome = await store.trigger(makeAlert({ dedupKey: `h-${i}` }), at(i));
      const id = outcome.incident?.id ?? '';
      if (i % 50 === 7) open.unshift(id);
      else await store.transition(id, 'resolved', at(i), 'ann', `r-${i}`);
    }
    const { calls, store: counted } = countingStore();
    expect(await counted.openIncidentIds('checkout')).toEqual(open);
    // 150 incidents in one Query (up to 1 MB a page), not one round trip per hundred.
    expect(calls).toEqual(['QueryCommand']);
    expect(await counted.openIncidentIds('billing')).toEqual([]);
  });
});

describe('exactly one incident under concurrency', () => {
  it('64 concurrent duplicate triggers make one incident whose count is exactly 64', async () => {
    const alerts = Array.from({ length: 64 }, () => makeAlert());
    const outcomes = await Promise.all(alerts.map((a) => processAlert(a, deps())));
    expect(outcomes.filter((o) => o.kind === 'opened')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'appended')).toHaveLength(63);
    const { incidents } = await store.list({});
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.alertCount).toBe(64);
    expect(await store.timeline(incidents[0]?.id ?? '')).toHaveLength(1);
  });

  it('64 concurrent deliveries of the same event count once', async () => {
    const alert = makeAlert();
    const settled = await Promise.allSettled(Array.from({ length: 64 }, () => processAlert(alert, deps())));
    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // A delivery that finds another one running the opening effects is refused as retryable (the
    // bus delivers it again later); every other one is a replay.
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    for (const reason of refused) expect(reason).toBeInstanceOf(RetryableError);
    expect(outcomes.filter((o) => o.kind === 'opened')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'replayed')).toHaveLength(63 - refused.length);
    for (const _ of refused) expect((await processAlert(alert, deps())).kind).toBe('replayed');
    const { incidents } = await store.list({});
    expect(incidents.map((i) => i.alertCount)).toEqual([1]);
  });

  it('triggers racing a resolve end in exactly one open incident holding every later alert', async () => {
    await processAlert(makeAlert(), deps());
    const triggers = Array.from({ length: 32 }, () => makeAlert());
    const outcomes = await Promise.all([
      processAlert(makeAlert({ action: 'resolve' }), deps()),
      ...triggers.map((a) => processAlert(a, deps())),
    ]);
    const { incidents } = await store.list({});
    const open = incidents.filter((i) => i.status !== 'resolved');
    expect(open.length).toBeLessThanOrEqual(1);
    const counted = incidents.reduce((sum, i) => sum + i.alertCount, 0);
    expect(counted).toBe(33);
    expect(outcomes.filter((o) => o.kind === 'opened').length).toBe(incidents.length - 1);
  });
});

describe(`the dedup window: two generations of \`seen\`, ${SEEN_WINDOW} events each`, () => {
  const item = async (id: string) =>
    (
      await documentClient(dynamo.client).send(
        new GetCommand({ TableName: store.tableName, Key: { pk: `INC#${id}`, sk: 'INC' } }),
      )
    ).Item ?? {};

  it(`an incident absorbing 400 events keeps at most ${2 * SEEN_WINDOW} + 16 hashes, counts each once and knows its opener`, async () => {
    const opener = makeAlert();
    const opened = await processAlert(opener, deps());
    if (opened.kind !== 'opened') throw new Error('expected opened');
    const alerts = Array.from({ length: 399 }, () => makeAlert());
    // 16 at a time: rotations race with appends, and each event still counts exactly once.
    for (let i = 0; i < alerts.length; i += 16)
      await Promise.all(alerts.slice(i, i + 16).map((a) => processAlert(a, deps())));
    const stored = await item(opened.incident.id);
    expect(stored.alertCount).toBe(400);
    const seen = (stored.seen as Set<string> | undefined)?.size ?? 0;
    const seenPrev = (stored.seenPrev as Set<string>).size;
    expect(seen).toBeLessThan(SEEN_WINDOW);
    expect(seenPrev).toBeGreaterThanOrEqual(SEEN_WINDOW);
    // Rotation races with the appends, 16 at a time: a generation overshoots by less than 16.
    expect(seen + seenPrev).toBeLessThan(2 * SEEN_WINDOW + 16);
    // The latest SEEN_WINDOW events are recognised as replays; so is the opener, however old.
    for (const recent of alerts.slice(-SEEN_WINDOW))
      expect((await processAlert(recent, deps())).kind).toBe('replayed');
    expect(await processAlert(opener, deps())).toMatchObject({ kind: 'replayed', caused: 'opened' });
    expect((await item(opened.incident.id)).alertCount).toBe(400);
    // One older than both generations is counted again: the window is a documented limit.
    expect((await processAlert(alerts[0] as (typeof alerts)[0], deps())).kind).toBe('appended');
  });
});

describe('what one process remembers of a key', () => {
  it('a duplicate trigger costs one conditional write and no read once the key is known', async () => {
    await processAlert(makeAlert(), deps());
    await processAlert(makeAlert(), deps());
    const { calls, store: counted } = countingStore();
    await counted.trigger(makeAlert(), now); // learns the key: one read, one write
    calls.length = 0;
    const outcome = await counted.trigger(makeAlert(), now);
    expect(outcome).toMatchObject({ kind: 'appended', incident: { alertCount: 4 } });
    expect(calls).toEqual(['UpdateItemCommand']);
  });

  it('a contact throttle: a warm process takes a slot with one conditional write; a refusal is read fresh', async () => {
    const { calls, store: warm } = countingStore();
    const other = new DynamoDbIncidentStore({
      tableName: store.tableName,
      client: documentClient(dynamo.client),
    });
    const upTo = (n: number) => (history: readonly number[]) =>
      history.length < n
        ? { allowed: true, history: [...history, history.length] }
        : { allowed: false, history: [...history] };
    expect(await warm.takeThrottle('alice-0#page', upTo(2))).toBe(true);
    calls.length = 0;
    expect(await warm.takeThrottle('alice-0#page', upTo(2))).toBe(true);
    expect(calls).toEqual(['PutItemCommand']);
    // Another process gives a slot back (its send failed): the warm one's cache says full, so it reads.
    expect(await other.takeThrottle('alice-0#page', (h) => ({ allowed: true, history: h.slice(1) }))).toBe(
      true,
    );
    calls.length = 0;
    expect(await warm.takeThrottle('alice-0#page', upTo(2))).toBe(true);
    expect(calls).toEqual(['GetItemCommand', 'PutItemCommand']);
    // Another process writes: the warm one's version is stale, its write fails, it reads again.
    calls.length = 0;
    expect(await other.takeThrottle('alice-0#page', (h) => ({ allowed: true, history: h.slice(1) }))).toBe(
      true,
    );
    expect(await warm.takeThrottle('alice-0#page', upTo(5))).toBe(true);
    expect(calls).toEqual(['PutItemCommand', 'GetItemCommand', 'PutItemCommand']);
  });

  it('a key another process resolved meanwhile: the stale occurrence fails its condition and the trigger opens the next incident', async () => {
    const other = new DynamoDbIncidentStore({
      tableName: store.tableName,
      client: documentClient(dynamo.client),
    });
    const first = await processAlert(makeAlert(), deps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), {
      ...deps(),
      store: other,
    });
    now = new Date('2026-11-26T10:20:00.000Z');
    const next = await processAlert(makeAlert({ receivedAt: now.toISOString() }), deps());
    expect(next).toMatchObject({ kind: 'opened', incident: { occurrence: 1, alertCount: 1 } });
    expect((await store.get(first.incident.id))?.alertCount).toBe(1);
    const { incidents } = await store.list({});
    expect(incidents.map((i) => [i.occurrence, i.status]).sort()).toEqual([
      [0, 'resolved'],
      [1, 'triggered'],
    ]);
  });

  it('a late redelivery after the key moved on is still recognised on the earlier incident', async () => {
    const late = makeAlert({ receivedAt: '2026-11-26T10:00:00.000Z' });
    const first = await processAlert(late, deps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    now = new Date('2026-11-26T10:20:00.000Z');
    await processAlert(makeAlert({ receivedAt: now.toISOString() }), deps()); // learns incident 0 resolved at 10:10
    expect(await processAlert(late, deps())).toMatchObject({
      kind: 'replayed',
      incident: { id: first.incident.id },
    });
    expect((await store.findOpen('checkout', 'db-latency'))?.alertCount).toBe(1);
  });

  it('a duplicate reads nothing after an acknowledge of the key in the same process either', async () => {
    const { calls, store: warm } = countingStore();
    expect((await warm.trigger(makeAlert(), now)).kind).toBe('opened');
    await warm.acknowledge(makeAlert({ action: 'acknowledge' }), now, 'events-v2');
    calls.length = 0;
    expect((await warm.trigger(makeAlert(), now)).kind).toBe('appended');
    expect(calls).toEqual(['UpdateItemCommand']);
  });

  it('remembers a previous incident written with the earlier window of 128 too: duplicates read nothing', async () => {
    const first = await processAlert(makeAlert(), deps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    // Two generations as the window of 128 left them (rotation races add up to 15 to each).
    const hashes = (n: number, tag: string) => new Set(Array.from({ length: n }, (_, i) => `${tag}${i}`));
    await documentClient(dynamo.client).send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: { pk: `INC#${first.incident.id}`, sk: 'INC' },
        UpdateExpression: 'ADD seen :a, seenPrev :b',
        ExpressionAttributeValues: { ':a': hashes(140, 'a'), ':b': hashes(130, 'b') },
      }),
    );
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    const { calls, store: warm } = countingStore();
    now = new Date('2026-11-26T10:20:00.000Z');
    await warm.trigger(makeAlert({ receivedAt: now.toISOString() }), now); // learns the key and incident 0
    calls.length = 0;
    now = new Date('2026-11-26T10:21:00.000Z');
    expect(await warm.trigger(makeAlert({ receivedAt: now.toISOString() }), now)).toMatchObject({
      kind: 'appended',
    });
    expect(calls).toEqual(['UpdateItemCommand']);
  });

  it('an event received after its incident was resolved is new: it opens the next incident (warm and cold)', async () => {
    // Alertmanager re-sends a still-firing alert (same fingerprint and startsAt) every repeat_interval.
    const firing = (at: string) => makeAlert({ eventKey: 'am:fp:start:firing', receivedAt: at });
    const first = await processAlert(firing('2026-11-26T10:00:00.000Z'), deps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    // The first delivery again, late (its own receivedAt): a replay, in a warm and a cold process.
    now = new Date('2026-11-26T10:20:00.000Z');
    expect(await processAlert(firing('2026-11-26T10:00:00.000Z'), deps())).toMatchObject({
      kind: 'replayed',
      incident: { id: first.incident.id },
    });
    const { store: cold } = countingStore();
    expect(await cold.trigger(firing('2026-11-26T10:00:00.000Z'), now)).toMatchObject({ kind: 'replayed' });
    // The same alert sent again after the resolve: a new incident pages again.
    const repeat = await processAlert(firing('2026-11-26T10:20:00.000Z'), deps());
    expect(repeat).toMatchObject({ kind: 'opened' });
    expect(repeat.incident?.id).not.toBe(first.incident.id);
    // …and its own redelivery is a replay of it, in a process that never saw either.
    const { store: other } = countingStore();
    now = new Date('2026-11-26T10:21:00.000Z');
    expect(await other.trigger(firing('2026-11-26T10:20:00.000Z'), now)).toMatchObject({
      kind: 'replayed',
      incident: { id: repeat.incident?.id },
    });
    expect((await store.list({})).incidents.map((i) => i.status).sort()).toEqual(['resolved', 'triggered']);
  });

  it('a redelivery of an alert counted before the monitoring period neither counts nor reopens', async () => {
    const monitored = await startPipeline(dynamo, {
      services: [{ id: 'checkout', name: 'Checkout', resolveMonitoringMinutes: 30 }],
    });
    const mdeps = () => ({ ...monitored.deps, clock });
    const first = await processAlert(
      makeAlert({ eventKey: 'e1', receivedAt: '2026-11-26T10:00:00.000Z' }),
      mdeps(),
    );
    if (first.kind !== 'opened') throw new Error('expected opened');
    const e2 = makeAlert({ eventKey: 'e2', receivedAt: '2026-11-26T10:01:00.000Z' });
    now = new Date('2026-11-26T10:01:00.000Z');
    expect(await processAlert(e2, mdeps())).toMatchObject({ kind: 'appended' });
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), mdeps());
    monitored.takePages();
    now = new Date('2026-11-26T10:12:00.000Z');
    expect(await processAlert(e2, mdeps())).toMatchObject({ kind: 'replayed', caused: 'appended' });
    expect(await monitored.store.get(first.incident.id)).toMatchObject({
      status: 'monitoring',
      alertCount: 2,
    });
    expect(monitored.takePages()).toEqual([]);
  });

  it("an incident opened by a re-sent alert starts no earlier than the previous incident's resolution", async () => {
    // Alertmanager's repeat keeps the alert's startsAt (09:55), hours after the first incident ended.
    const firing = (at: string) =>
      makeAlert({ eventKey: 'am:fp:0955:firing', occurredAt: '2026-11-26T09:55:00.000Z', receivedAt: at });
    const first = await processAlert(firing('2026-11-26T10:00:00.000Z'), deps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    expect(first.incident.startedAt).toBe('2026-11-26T09:55:00.000Z');
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    now = new Date('2026-11-26T14:10:00.000Z');
    const repeat = await processAlert(firing(now.toISOString()), deps());
    expect(repeat).toMatchObject({ kind: 'opened', incident: { startedAt: '2026-11-26T10:10:00.000Z' } });
    // …in a process that never saw the key too, and an earlier alert cannot move it back past it.
    const { store: cold } = countingStore();
    const earlier = makeAlert({
      eventKey: 'am:other',
      occurredAt: '2026-11-26T09:00:00.000Z',
      receivedAt: now.toISOString(),
    });
    expect(await cold.trigger(earlier, now)).toMatchObject({
      kind: 'appended',
      incident: { startedAt: '2026-11-26T10:10:00.000Z' },
    });
  });

  it('an event seen before the monitoring period began, received again during it, reopens the incident', async () => {
    const monitored = await startPipeline(dynamo, {
      services: [{ id: 'checkout', name: 'Checkout', resolveMonitoringMinutes: 30 }],
    });
    const mdeps = () => ({ ...monitored.deps, clock });
    const firing = (at: string) => makeAlert({ eventKey: 'am:fp:start:firing', receivedAt: at });
    const first = await processAlert(firing('2026-11-26T10:00:00.000Z'), mdeps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now.toISOString() }), mdeps());
    expect((await monitored.store.get(first.incident.id))?.status).toBe('monitoring');
    // A redelivery of the first event is still a replay; the alert firing again is not.
    now = new Date('2026-11-26T10:12:00.000Z');
    expect(await processAlert(firing('2026-11-26T10:00:00.000Z'), mdeps())).toMatchObject({
      kind: 'replayed',
    });
    expect((await monitored.store.get(first.incident.id))?.status).toBe('monitoring');
    now = new Date('2026-11-26T10:15:00.000Z');
    expect(await processAlert(firing('2026-11-26T10:15:00.000Z'), mdeps())).toMatchObject({
      kind: 'appended',
    });
    expect(await monitored.store.get(first.incident.id)).toMatchObject({
      status: 'triggered',
      reopens: 1,
      alertCount: 2,
    });
  });
});

describe('a redelivery whose hash leaves the window between its failed write and the read after it', () => {
  it('is counted again (the window is the limit), and the key never moves past the open incident', async () => {
    const raw = documentClient(dynamo.client);
    const key = { pk: '', sk: 'INC' };
    let dropOnRead = false;
    const client = ownClient();
    // Just before the store reads the incident after its failed write, every hash leaves the window.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (dropOnRead && context.commandName === 'GetItemCommand' && key.pk !== '') {
          dropOnRead = false;
          await raw.send(
            new UpdateCommand({
              TableName: store.tableName,
              Key: key,
              UpdateExpression: 'REMOVE seen, seenPrev',
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'dropWindow' },
    );
    const racing = new DynamoDbIncidentStore({ tableName: store.tableName, client });
    const x = makeAlert();
    const opened = await racing.trigger(x, now);
    const other = await racing.trigger(makeAlert(), now);
    if (opened.kind !== 'opened' || other.kind !== 'appended') throw new Error('expected opened, appended');
    key.pk = `INC#${opened.incident.id}`;
    const y = makeAlert();
    await racing.trigger(y, now);
    dropOnRead = true;
    const redelivered = await racing.trigger(y, now);
    expect(redelivered).toMatchObject({
      kind: 'appended',
      incident: { id: opened.incident.id, alertCount: 4 },
    });
    expect((await store.list({})).incidents).toHaveLength(1);
    expect((await store.findOpen('checkout', 'db-latency'))?.id).toBe(opened.incident.id);
  });
});

describe("the opening's completion (OPENED on the incident item)", () => {
  it('one write: the entry, the pages counted, the lease given back; a second changes nothing', async () => {
    const lease = { token: 'holder', until: new Date(now.getTime() + 30_000) };
    const { incident } = await store.trigger(makeAlert(), now, { openingLease: lease });
    if (incident === undefined) throw new Error('expected an incident');
    const opened = {
      id: 'opened',
      incidentId: incident.id,
      at: incident.detectedAt,
      type: 'OPENED' as const,
      who: 'events-v2',
      text: 'Incident opened',
      paged: ['alice'],
    };
    await store.completeOpening(incident.id, opened, 2);
    await store.completeOpening(incident.id, { ...opened, text: 'again' }, 2);
    const after = await store.get(incident.id);
    expect(after).toMatchObject({ opened: true, pagesSent: 2 });
    expect(await store.timeline(incident.id)).toEqual([opened]);
    expect(await store.claimOpening(incident.id, 'other', now, lease.until)).toBe(false);
  });

  it('the timeline puts OPENED where its time falls among the other entries', async () => {
    const outcome = await processAlert(makeAlert(), deps());
    if (outcome.kind !== 'opened') throw new Error('expected opened');
    const at = (iso: string) => ({ incidentId: outcome.incident.id, who: 'x', text: iso });
    await store.putTimelineEntry({
      ...at('before'),
      id: 'a',
      at: '2026-11-26T09:59:00.000Z',
      type: 'RECORDED',
    });
    await store.putTimelineEntry({
      ...at('after'),
      id: 'b',
      at: '2026-11-26T10:30:00.000Z',
      type: 'OBSERVATION',
    });
    expect((await store.timeline(outcome.incident.id)).map((e) => e.type)).toEqual([
      'RECORDED',
      'OPENED',
      'OBSERVATION',
    ]);
  });
});

describe('many timeline entries at once (a digest records itself on each incident)', () => {
  it('writes more than one batch of 25, across incidents, and a rewrite of the same entry replaces it', async () => {
    const incidents: string[] = [];
    for (let i = 0; i < 3; i++) {
      const outcome = await processAlert(makeAlert({ dedupKey: `batch-${i}` }), deps());
      if (outcome.kind !== 'opened') throw new Error('expected opened');
      incidents.push(outcome.incident.id);
    }
    const entries = Array.from({ length: 60 }, (_, n) => ({
      id: `e${n}`,
      incidentId: incidents[n % 3] as string,
      at: `2026-11-26T10:${String(10 + Math.floor(n / 3)).padStart(2, '0')}:00.000Z`,
      type: 'DIGESTED' as const,
      who: 'klaxon',
      text: `entry ${n}`,
      paged: ['alice'],
    }));
    await store.putTimelineEntries(entries);
    await store.putTimelineEntries(entries.slice(0, 30));
    for (const [i, id] of incidents.entries()) {
      const digested = (await store.timeline(id)).filter((e) => e.type === 'DIGESTED');
      expect(digested).toEqual(entries.filter((_, n) => n % 3 === i));
    }
    await store.putTimelineEntries([]);
  });
});

describe('crash repair', () => {
  it('a late retry of an acknowledge after the key moved on still rewrites its timeline entry', async () => {
    const ack = makeAlert({ action: 'acknowledge', receivedAt: '2026-11-26T10:01:00.000Z' });
    const opened = await processAlert(makeAlert(), deps());
    now = new Date('2026-11-26T10:01:00.000Z');
    await store.acknowledge(ack, now, 'alice'); // the process died before writing the timeline
    now = new Date('2026-11-26T10:02:00.000Z');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: '2026-11-26T10:02:00.000Z' }), deps());
    const retry = await processAlert(ack, deps());
    expect(retry).toMatchObject({ kind: 'replayed', caused: 'acknowledged' });
    if (opened.kind !== 'opened') throw new Error('expected opened');
    expect((await store.timeline(opened.incident.id)).map((e) => e.type)).toEqual([
      'OPENED',
      'ACKNOWLEDGED',
      'RESOLVED',
    ]);
  });

  it('a trigger repairs a resolve that died before moving the key on', async () => {
    const opened = await processAlert(makeAlert(), deps());
    if (opened.kind !== 'opened') throw new Error('expected opened');
    // Simulate the crash: the incident is resolved, the key was never advanced.
    await documentClient(dynamo.client).send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: { pk: `INC#${opened.incident.id}`, sk: 'INC' },
        UpdateExpression: 'SET #s = :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'resolved' },
      }),
    );
    const { incidents } = await store.list({});
    expect(incidents.map((i) => i.status)).toEqual(['resolved']);
    const next = await processAlert(makeAlert(), deps());
    expect(next.kind).toBe('opened');
    if (opened.kind !== 'opened' || next.kind !== 'opened') return;
    expect(next.incident.id).not.toBe(opened.incident.id);
  });
});

describe('CloudWatch alarms without a cloudwatch section in the config', () => {
  it('are ignored, not failed into the dead-letter queue', async () => {
    const event = {
      id: 'evt-1',
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: '2026-11-26T10:00:00Z',
      detail: {},
    };
    const outcome = await handleAlertEvent(event, deps());
    expect(outcome).toEqual({
      kind: 'ignored',
      reason: 'CloudWatch alarms are not routed: the config has no cloudwatch section',
    });
    expect((await store.list({})).incidents).toEqual([]);
  });
});

/** The fixture alarm's state change to `value`, put on the bus at `time` (EventBridge event `id`). */
function state(id: string, value: 'ALARM' | 'OK', time: string): RoutedEvent {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/cloudwatch-alarm.json', import.meta.url), 'utf8'),
  ) as RoutedEvent & { detail: { state: Record<string, unknown> } };
  return {
    ...fixture,
    id,
    time,
    detail: { ...fixture.detail, state: { ...fixture.detail.state, value, timestamp: time } },
  };
}

describe('CloudWatch alarms: a retried delivery keeps the time it was put on the bus', () => {
  it('is a replay after its incident was resolved; the next state change is new', async () => {
    const routed = await startPipeline(dynamo, {
      services: [{ id: 'checkout', name: 'Checkout', resolveMonitoringMinutes: 0 }],
      cloudwatch: { defaultService: 'checkout', defaultSeverity: 'critical', rules: [] },
    });
    const rdeps = () => ({ ...routed.deps, clock });
    now = new Date('2026-11-26T10:00:05.000Z');
    const alarm = state('evt-alarm', 'ALARM', '2026-11-26T10:00:00Z');
    const opened = await handleAlertEvent(alarm, rdeps());
    expect(opened.kind).toBe('opened');
    now = new Date('2026-11-26T10:05:05.000Z');
    await handleAlertEvent(state('evt-ok', 'OK', '2026-11-26T10:05:00Z'), rdeps());
    // EventBridge retries the ALARM's delivery an hour later: the same event, the same time.
    now = new Date('2026-11-26T11:05:00.000Z');
    expect(await handleAlertEvent(alarm, rdeps())).toMatchObject({
      kind: 'replayed',
      incident: { id: opened.incident?.id, status: 'resolved' },
    });
    expect(
      await handleAlertEvent(state('evt-alarm-2', 'ALARM', '2026-11-26T11:04:00Z'), rdeps()),
    ).toMatchObject({
      kind: 'opened',
    });
    expect((await routed.store.list({})).incidents.map((i) => i.status).sort()).toEqual([
      'resolved',
      'triggered',
    ]);
  });
});

describe("an alarm's OK that overtakes its ALARM (EventBridge retries reorder events)", () => {
  /** An alert as the CloudWatch format gives it: its receivedAt is the event's bus time. */
  const cw = (overrides: Parameters<typeof makeAlert>[0] = {}) =>
    makeAlert({ origin: 'cloudwatch', ...overrides });
  it("an alarm's ALARM retried after its OK opens nothing and pages nobody; the next ALARM opens", async () => {
    const routed = await startPipeline(dynamo, teamConfig());
    const rdeps = () => ({ ...routed.deps, clock });
    // The ALARM's first delivery failed (throttled); its OK, a minute later, finds nothing open.
    now = new Date('2026-11-26T10:01:05.000Z');
    expect(await handleAlertEvent(state('evt-ok', 'OK', '2026-11-26T10:01:00Z'), rdeps())).toMatchObject({
      kind: 'ignored',
    });
    // The ALARM's retry: the same event, its own (earlier) time.
    now = new Date('2026-11-26T10:02:00.000Z');
    const late = await handleAlertEvent(state('evt-alarm', 'ALARM', '2026-11-26T10:00:00Z'), rdeps());
    expect(late).toEqual({
      kind: 'ignored',
      reason:
        'a resolve received after this trigger (at 2026-11-26T10:01:00.000Z) found nothing open: the alert was over before it could open an incident',
    });
    expect((await routed.store.list({})).incidents).toEqual([]);
    await routed.fastForward(30 * 60_000);
    expect(routed.takePages()).toEqual([]);
    // The alarm fires again: a new state change, received after the OK, opens and pages.
    now = new Date('2026-11-26T10:40:00.000Z');
    const next = await handleAlertEvent(state('evt-alarm-2', 'ALARM', '2026-11-26T10:39:00Z'), rdeps());
    expect(next).toMatchObject({ kind: 'opened', incident: { startedAt: '2026-11-26T10:39:00.000Z' } });
    expect(routed.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('in another process that knew the key, after an earlier incident: still nothing opens', async () => {
    const { store: warm } = countingStore();
    const wdeps = () => ({ ...deps(), store: warm });
    const first = await processAlert(cw({ receivedAt: '2026-11-26T10:00:00.000Z' }), wdeps());
    if (first.kind !== 'opened') throw new Error('expected opened');
    now = new Date('2026-11-26T10:05:00.000Z');
    await processAlert(cw({ action: 'resolve', receivedAt: now.toISOString() }), wdeps());
    // Another process takes a second resolve (received 10:10), finding nothing open…
    now = new Date('2026-11-26T10:10:00.000Z');
    await processAlert(cw({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    // …which overtook a trigger received at 10:07 that reaches the first process now.
    now = new Date('2026-11-26T10:12:00.000Z');
    expect(await processAlert(cw({ receivedAt: '2026-11-26T10:07:00.000Z' }), wdeps())).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(
        /^a resolve received after this trigger \(at 2026-11-26T10:10:00\.000Z\)/,
      ),
    });
    expect((await store.list({})).incidents.map((i) => [i.id, i.status, i.alertCount])).toEqual([
      [first.incident.id, 'resolved', 1],
    ]);
    // A trigger received after that resolve opens the next incident, in either process.
    now = new Date('2026-11-26T10:13:00.000Z');
    expect(await processAlert(cw({ receivedAt: now.toISOString() }), wdeps())).toMatchObject({
      kind: 'opened',
      incident: { occurrence: 1 },
    });
  });

  it('counts into an incident opened since, without moving its start before that resolve', async () => {
    now = new Date('2026-11-26T10:00:10.000Z');
    await processAlert(cw({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    now = new Date('2026-11-26T10:00:20.000Z');
    const opened = await processAlert(
      cw({ receivedAt: now.toISOString(), occurredAt: '2026-11-26T10:00:15.000Z' }),
      deps(),
    );
    expect(opened).toMatchObject({ kind: 'opened', incident: { startedAt: '2026-11-26T10:00:15.000Z' } });
    const late = await processAlert(
      cw({ receivedAt: '2026-11-26T10:00:00.000Z', occurredAt: '2026-11-26T09:59:00.000Z' }),
      deps(),
    );
    expect(late).toMatchObject({ kind: 'appended', incident: { id: opened.incident?.id, alertCount: 2 } });
    expect(await store.get(opened.incident?.id ?? '')).toMatchObject({
      alertCount: 2,
      startedAt: '2026-11-26T10:00:10.000Z',
    });
  });

  it('only CloudWatch alarm events: a resend of an old resolve over HTTP (stamped anew) silences nothing', async () => {
    // Alertmanager re-sends episode S1's resolve after S2 fired; processed first, it finds
    // nothing open. S2's firing, received before that resend, still opens and pages.
    const am = (startsAt: string, status: 'firing' | 'resolved', receivedAt: string) =>
      makeAlert({
        origin: 'alertmanager',
        eventKey: `alertmanager:fp1:${startsAt}:${status}`,
        action: status === 'firing' ? 'trigger' : 'resolve',
        receivedAt,
      });
    const S1 = '2026-11-26T09:59:00.000Z';
    expect((await processAlert(am(S1, 'firing', '2026-11-26T10:00:00.000Z'), deps())).kind).toBe('opened');
    now = new Date('2026-11-26T10:05:00.000Z');
    expect((await processAlert(am(S1, 'resolved', now.toISOString()), deps())).kind).toBe('resolved');
    now = new Date('2026-11-26T10:20:06.000Z');
    await processAlert(am(S1, 'resolved', '2026-11-26T10:20:05.000Z'), deps());
    const s2 = await processAlert(
      am('2026-11-26T10:19:00.000Z', 'firing', '2026-11-26T10:20:00.000Z'),
      deps(),
    );
    expect(s2.kind).toBe('opened');
  });

  it('a resolve stamped ahead of the clock counts as received now', async () => {
    now = new Date('2026-11-26T10:00:00.000Z');
    await processAlert(cw({ action: 'resolve', receivedAt: '2026-11-26T12:00:00.000Z' }), deps());
    now = new Date('2026-11-26T10:30:00.000Z');
    expect((await processAlert(cw({ receivedAt: now.toISOString() }), deps())).kind).toBe('opened');
  });

  it('an acknowledge that finds nothing open overtakes nothing: the trigger opens', async () => {
    now = new Date('2026-11-26T10:00:10.000Z');
    await processAlert(cw({ action: 'acknowledge', receivedAt: now.toISOString() }), deps());
    expect(await processAlert(cw({ receivedAt: '2026-11-26T10:00:00.000Z' }), deps())).toMatchObject({
      kind: 'opened',
    });
  });

  it('an earlier resolve does not undo a later one (the key keeps the latest)', async () => {
    now = new Date('2026-11-26T10:00:30.000Z');
    await processAlert(cw({ action: 'resolve', receivedAt: now.toISOString() }), deps());
    await processAlert(cw({ action: 'resolve', receivedAt: '2026-11-26T10:00:10.000Z' }), deps());
    expect(await processAlert(cw({ receivedAt: '2026-11-26T10:00:20.000Z' }), deps())).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('(at 2026-11-26T10:00:30.000Z)'),
    });
  });
});
