import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
const NOW = new Date('2026-11-26T10:00:00.000Z');

/**
 * An incident keeps its first alert's description (or that it had none), whichever process
 * counts a later alert into it: a warm one appends without it, a cold one upserts.
 */
describe('the description on the incident', () => {
  it('warm process: a later alert with a description does not add one', async () => {
    const store = await dynamo.table();
    const a = await store.trigger(makeAlert({ dedupKey: 'k' }), NOW);
    expect(a.kind).toBe('opened');
    const b = await store.trigger(makeAlert({ dedupKey: 'k', description: 'said later' }), NOW);
    expect(b.kind).toBe('appended');
    expect((await store.get(a.incident?.id ?? ''))?.description).toBeUndefined();
  });

  it('cold process (another Lambda container): a later alert with one does not add one either', async () => {
    const store = await dynamo.table();
    const a = await store.trigger(makeAlert({ dedupKey: 'k' }), NOW);
    expect(a.kind).toBe('opened');
    const cold = new DynamoDbIncidentStore({
      tableName: store.tableName,
      client: documentClient(dynamo.client),
    });
    const b = await cold.trigger(makeAlert({ dedupKey: 'k', description: 'said later' }), NOW);
    expect(b.kind).toBe('appended');
    expect((await store.get(a.incident?.id ?? ''))?.description).toBeUndefined();
  });

  it('first alert with a description: kept through a later one (cold), a replay and a reopen', async () => {
    const store = await dynamo.table();
    const first = makeAlert({ dedupKey: 'k', description: 'first' });
    const a = await store.trigger(first, NOW);
    const cold = new DynamoDbIncidentStore({
      tableName: store.tableName,
      client: documentClient(dynamo.client),
    });
    await cold.trigger(makeAlert({ dedupKey: 'k', description: 'second' }), NOW);
    expect((await cold.trigger(first, NOW)).kind).toBe('replayed');
    expect((await store.get(a.incident?.id ?? ''))?.description).toBe('first');
  });

  it('a new occurrence after resolve has its own first alert description', async () => {
    const store = await dynamo.table();
    const a = await store.trigger(makeAlert({ dedupKey: 'k', description: 'one' }), NOW);
    await store.transition(a.incident?.id ?? '', 'resolved', NOW, 'x', 'c1');
    const later = new Date(NOW.getTime() + 60_000);
    const b = await store.trigger(makeAlert({ dedupKey: 'k', receivedAt: later.toISOString() }), later);
    expect(b.kind).toBe('opened');
    expect(b.incident?.id).not.toBe(a.incident?.id ?? '');
    expect(b.incident?.description).toBeUndefined();
  });
});
