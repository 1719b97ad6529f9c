import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { ensureTable, type LocalDynamo, startDynalite } from '#adapters/local/dynalite';
import { randomId } from '#core/ids';

/** A dynalite server started by the tests themselves, with a fresh Klaxon table per call to `table()`. */
export async function startTestDynamo(): Promise<
  LocalDynamo & { table(): Promise<DynamoDbIncidentStore & { tableName: string }> }
> {
  const dynamo = await startDynalite();
  const db = documentClient(dynamo.client);
  return {
    ...dynamo,
    async table() {
      const tableName = `klaxon-test-${randomId().slice(0, 8)}`;
      await ensureTable(dynamo.client, tableName);
      return Object.assign(new DynamoDbIncidentStore({ tableName, client: db }), { tableName });
    },
  };
}
