import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#adapters/aws/dynamodb-client';
import type { startTestDynamo } from '../support/dynamo.ts';

/** Helpers shared by the reliability suite (test/reliability/*.test.ts). */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** A Thursday: alice is on call this week. */
export const START = '2026-11-26T10:00:00.000Z';

export type TestDynamo = Awaited<ReturnType<typeof startTestDynamo>>;

/** The team config shared by the escalation, HTTP and reliability tests (test/support/team.ts). */
export { teamConfig as reliabilityConfig } from '../support/team.ts';

/** Every item of a table, in key order: the whole state, for before/after comparisons. */
export async function scanTable(dynamo: TestDynamo, tableName: string): Promise<Record<string, unknown>[]> {
  const db = documentClient(dynamo.client);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  const key = (item: Record<string, unknown>) => `${String(item.pk)}\u0000${String(item.sk)}`;
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Items whose pk starts with one of `prefixes` (INC#, TIMER#, ROLLUP#, …). */
export function itemsOf(items: readonly Record<string, unknown>[], ...prefixes: string[]) {
  return items.filter((item) => prefixes.some((p) => String(item.pk).startsWith(p)));
}
