import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import type { ActionItemRecord } from '#app/ports';

/**
 * A deployed stack's table (`--table`, `--region`), with your AWS credentials; destroy the client
 * when done. The store's module creates the Lambdas' shared client as it loads, so the CLI imports
 * it only here, when a command goes to AWS: the others create no SDK client at all.
 */
export async function tableStore(
  tableName: string,
  region: string | undefined,
): Promise<{ store: DynamoDbIncidentStore; client: DynamoDBClient }> {
  const [{ documentClient }, { DynamoDbIncidentStore }] = await Promise.all([
    import('#adapters/aws/dynamodb-client'),
    import('#adapters/aws/dynamodb-store'),
  ]);
  const client = new DynamoDBClient(region ? { region } : {});
  return { client, store: new DynamoDbIncidentStore({ tableName, client: documentClient(client) }) };
}

/** Every action item in a deployed stack's table (open and done), with a client of tableStore. */
export async function tableActionItems(
  tableName: string,
  client: DynamoDBClient,
): Promise<ActionItemRecord[]> {
  const [{ documentClient }, { DynamoDbActionItemStore }] = await Promise.all([
    import('#adapters/aws/dynamodb-client'),
    import('#adapters/aws/action-item-store'),
  ]);
  return new DynamoDbActionItemStore({ tableName, client: documentClient(client) }).listActionItems({});
}
