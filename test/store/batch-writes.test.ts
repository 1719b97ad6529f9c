import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { TIMELINE_TYPES, type TimelineEntry } from '#core/incident';

/**
 * What dynalite never does: DynamoDB may leave part of a BatchWriteItem unprocessed (throttling).
 * The store sends exactly what was left, again, until nothing is, and gives up with a retryable
 * error rather than dropping entries.
 */

const db = mockClient(DynamoDBDocumentClient);
afterEach(() => db.reset());

const store = () =>
  new DynamoDbIncidentStore({
    tableName: 'klaxon',
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  });
const entry = (n: number): TimelineEntry => ({
  id: `e${n}`,
  incidentId: 'abcdefgh2345',
  at: '2026-11-26T10:15:00.000Z',
  type: 'DIGESTED',
  who: 'klaxon',
  text: `entry ${n}`,
});
/** The entry type's position in the sort key, which orders same-instant entries. */
const RANK = String(TIMELINE_TYPES.indexOf('DIGESTED')).padStart(2, '0');
const put = (n: number) => ({
  PutRequest: {
    Item: { pk: 'INC#abcdefgh2345', sk: `TL#2026-11-26T10:15:00.000Z#${RANK}#e${n}`, ...entry(n) },
  },
});

describe('putTimelineEntries', () => {
  it('sends batches of 25 (four at a time), and what DynamoDB left unprocessed again', async () => {
    db.on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { klaxon: [put(3)] } })
      .resolves({});
    await store().putTimelineEntries(Array.from({ length: 30 }, (_, n) => entry(n)));
    const calls = db.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.klaxon);
    // The two batches go out together; what the first left is sent again after them.
    expect(calls).toEqual([
      Array.from({ length: 25 }, (_, n) => put(n)),
      Array.from({ length: 5 }, (_, n) => put(25 + n)),
      [put(3)],
    ]);
  });

  it('has at most four batches in flight at once, and uses all four', async () => {
    let inFlight = 0;
    let most = 0;
    db.on(BatchWriteCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return {};
    });
    await store().putTimelineEntries(Array.from({ length: 9 * 25 }, (_, n) => entry(n)));
    expect(db.commandCalls(BatchWriteCommand)).toHaveLength(9);
    expect(most).toBe(4);
  });

  it('gives up with a retryable error when entries stay unprocessed', async () => {
    db.on(BatchWriteCommand).resolves({ UnprocessedItems: { klaxon: [put(0)] } });
    await expect(store().putTimelineEntries([entry(0)])).rejects.toThrow('kept going unprocessed');
    expect(db.commandCalls(BatchWriteCommand)).toHaveLength(8);
  });
});
