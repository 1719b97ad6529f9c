import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbActionItemStore } from '#adapters/aws/action-item-store';
import { documentClient } from '#adapters/aws/dynamodb-client';
import type { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import type { ActionItemRecord } from '#app/ports';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let incidents: DynamoDbIncidentStore & { tableName: string };
let store: DynamoDbActionItemStore;
let db: DynamoDBDocumentClient;
/** Query calls sent through `db`, counted to prove that results span pages. */
let queries = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  db = documentClient(dynamo.client);
  db.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') queries++;
      return next(args);
    },
    { step: 'initialize', name: 'countQueries' },
  );
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  incidents = await dynamo.table();
  store = new DynamoDbActionItemStore({ tableName: incidents.tableName, client: db });
  queries = 0;
});

function actionItem(overrides: Partial<ActionItemRecord> = {}): ActionItemRecord {
  return {
    id: 'a1',
    incidentId: 'inc1',
    action: 'Alert on 5xx above 1%',
    owner: 'bob',
    deadline: '2026-12-10',
    category: 'Detect',
    status: 'open',
    createdAt: '2026-11-27T09:00:00.000Z',
    createdBy: 'alice',
    ...overrides,
  };
}

describe('action items on DynamoDB (dynalite)', () => {
  it('creates an item once, gets it by (incident, id), and updates only the fields given', async () => {
    const item = actionItem();
    expect(await store.createActionItem(item)).toEqual({ item, created: true });
    expect(await store.createActionItem({ ...item, owner: 'zed' })).toEqual({ item, created: false });
    expect(await store.getActionItem('inc1', 'a1')).toEqual(item);
    expect(await store.getActionItem('inc1', 'a2')).toBeUndefined();
    expect(await store.getActionItem('inc2', 'a1')).toBeUndefined();

    const by = { who: 'carol', at: '2026-12-01T10:00:00.000Z' };
    const done = await store.updateActionItem('inc1', 'a1', { owner: 'carol', status: 'done' }, by);
    const expected = {
      ...item,
      owner: 'carol',
      status: 'done',
      doneAt: by.at,
      doneBy: 'carol',
      updatedAt: by.at,
      updatedBy: 'carol',
    };
    expect(done).toEqual(expected);
    expect(await store.getActionItem('inc1', 'a1')).toEqual(expected);
    // Already so (a retry): nothing written, not even who asked.
    const later = { who: 'dave', at: '2026-12-02T10:00:00.000Z' };
    expect(await store.updateActionItem('inc1', 'a1', { status: 'done' }, later)).toEqual(expected);
    // Done again with another change keeps when and by whom it was done.
    expect(
      await store.updateActionItem('inc1', 'a1', { status: 'done', deadline: '2026-12-20' }, later),
    ).toEqual({
      ...expected,
      deadline: '2026-12-20',
      updatedAt: later.at,
      updatedBy: 'dave',
    });
    // Reopened: doneAt and doneBy go.
    const reopened = await store.updateActionItem('inc1', 'a1', { status: 'open' }, later);
    expect(reopened).toEqual({
      ...item,
      owner: 'carol',
      deadline: '2026-12-20',
      updatedAt: later.at,
      updatedBy: 'dave',
    });
    expect(await store.actionItems('inc1')).toEqual([reopened]);
    expect(await store.updateActionItem('inc1', 'nope', { status: 'done' }, by)).toBeUndefined();
    expect(await store.getActionItem('inc1', 'nope')).toBeUndefined();
  });

  it('lists one incident’s items oldest first, whatever their ids', async () => {
    await store.createActionItem(actionItem({ id: 'zz', createdAt: '2026-11-27T09:00:00.000Z' }));
    await store.createActionItem(actionItem({ id: 'aa', createdAt: '2026-11-27T11:00:00.000Z' }));
    await store.createActionItem(actionItem({ id: 'mm', createdAt: '2026-11-27T10:00:00.000Z' }));
    await store.createActionItem(actionItem({ id: 'other', incidentId: 'inc2' }));
    expect((await store.actionItems('inc1')).map((i) => i.id)).toEqual(['zz', 'mm', 'aa']);
    expect((await store.actionItems('inc2')).map((i) => i.id)).toEqual(['other']);
    expect(await store.actionItems('inc3')).toEqual([]);
  });

  it('lists items across incidents by deadline; a status change moves an item between the lists', async () => {
    await store.createActionItem(actionItem({ id: 'a', incidentId: 'inc1', deadline: '2026-12-20' }));
    await store.createActionItem(actionItem({ id: 'b', incidentId: 'inc2', deadline: '2026-12-05' }));
    await store.createActionItem(actionItem({ id: 'c', incidentId: 'inc3', deadline: '2026-12-12' }));
    await store.createActionItem(
      actionItem({ id: 'd', incidentId: 'inc1', deadline: '2026-12-01', status: 'done', doneAt: 'x' }),
    );
    const ids = async (status?: 'open' | 'done') =>
      (await store.listActionItems(status === undefined ? {} : { status })).map((i) => i.id);
    expect(await ids('open')).toEqual(['b', 'c', 'a']);
    expect(await ids('done')).toEqual(['d']);
    expect(await ids()).toEqual(['d', 'b', 'c', 'a']);

    await store.updateActionItem(
      'inc2',
      'b',
      { status: 'done' },
      { who: 'bob', at: '2026-12-04T08:00:00.000Z' },
    );
    expect(await ids('open')).toEqual(['c', 'a']);
    expect(await ids('done')).toEqual(['d', 'b']);
    expect(await ids()).toEqual(['d', 'b', 'c', 'a']);

    // A new deadline moves it within its list.
    const a = await store.updateActionItem('inc1', 'a', { deadline: '2026-12-02' }, { who: 'bob', at: 'y' });
    expect(await ids('open')).toEqual(['a', 'c']);
    const listed = await store.listActionItems({ status: 'open' });
    expect(listed[0]).toEqual(a);
    expect(a).toMatchObject({ deadline: '2026-12-02' });
  });

  it('reads every page: results beyond 1 MB are complete', async () => {
    // Six items of ~300 KB: 1.8 MB under one incident and in one list, more than a Query page.
    const big = 'x'.repeat(300_000);
    for (let n = 0; n < 6; n++)
      await store.createActionItem(
        actionItem({
          id: `big${n}`,
          action: `${n} ${big}`,
          deadline: `2026-12-1${n}`,
          createdAt: `2026-11-27T09:0${n}:00.000Z`,
        }),
      );
    queries = 0;
    const mine = await store.actionItems('inc1');
    expect(mine.map((i) => i.id)).toEqual(['big0', 'big1', 'big2', 'big3', 'big4', 'big5']);
    expect(mine.every((i) => i.action.length === 300_002)).toBe(true);
    expect(queries).toBeGreaterThan(1);

    queries = 0;
    expect((await store.listActionItems({ status: 'open' })).map((i) => i.id)).toEqual([
      'big0',
      'big1',
      'big2',
      'big3',
      'big4',
      'big5',
    ]);
    expect(queries).toBeGreaterThan(1);
  });

  it('is invisible to the incident store: timeline, list and get of the incident are unchanged', async () => {
    const opened = await incidents.trigger(makeAlert(), new Date('2026-11-26T10:00:05.000Z'));
    if (opened.kind !== 'opened') throw new Error(`expected opened, got ${opened.kind}`);
    const id = opened.incident.id;
    await incidents.putTimelineEntry({
      id: 't1',
      incidentId: id,
      at: '2026-11-26T10:00:05.000Z',
      type: 'OPENED',
      who: 'events-v2',
      text: 'Incident opened',
    });
    const before = {
      incident: await incidents.get(id),
      timeline: await incidents.timeline(id),
      list: await incidents.list({}),
      triggered: await incidents.list({ status: 'triggered' }),
    };
    expect(before.timeline).toHaveLength(1);
    expect(before.list.incidents.map((i) => i.id)).toEqual([id]);

    // Two items in the incident's own partition, one in each cross-incident list.
    await store.createActionItem(actionItem({ id: 'a', incidentId: id }));
    await store.createActionItem(actionItem({ id: 'z', incidentId: id, status: 'done', doneAt: 'x' }));
    expect((await store.actionItems(id)).map((i) => i.id)).toEqual(['a', 'z']);

    expect(await incidents.get(id)).toEqual(before.incident);
    expect(await incidents.timeline(id)).toEqual(before.timeline);
    expect(await incidents.list({})).toEqual(before.list);
    expect(await incidents.list({ status: 'triggered' })).toEqual(before.triggered);
    expect(await incidents.list({ service: 'checkout' })).toEqual(before.list);
  });
});
