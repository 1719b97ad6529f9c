import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#adapters/aws/dynamodb-client';
import type { startTestDynamo } from '../support/dynamo.ts';

/** Helpers shared by the reliability suite (test/reliability/*.test.ts). */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** A Thursday: alice is on call this week. */
export const START = '2026-11-26T10:00:00.000Z';

export type TestDynamo = Awaited<ReturnType<typeof startTestDynamo>>;

const responders = [
  {
    id: 'alice',
    name: 'Alice',
    contacts: [
      { type: 'email', address: 'alice@example.com' },
      { type: 'sms', number: '+4915110000001' },
    ],
  },
  { id: 'bob', name: 'Bob', contacts: [{ type: 'email', address: 'bob@example.com' }] },
  { id: 'carol', name: 'Carol', contacts: [{ type: 'email', address: 'carol@example.com' }] },
  { id: 'dave', name: 'Dave', contacts: [{ type: 'webhook', url: 'https://hooks.example.com/klaxon' }] },
];

/**
 * The escalation-test config: checkout pages the primary schedule (alice this week), after 5
 * minutes carol, and repeats once before the fallback (dave). Overrides go into the service.
 */
export function reliabilityConfig(
  service: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    timeZone: 'Europe/Berlin',
    services: [
      {
        id: 'checkout',
        name: 'Checkout API',
        escalationPolicy: 'checkout',
        fallback: { responder: 'dave' },
        ackTimeoutMinutes: 0,
        ...service,
      },
      { id: 'billing', name: 'Billing' },
    ],
    responders,
    schedules: [
      {
        id: 'primary',
        name: 'Primary',
        timeZone: 'Europe/Berlin',
        rotations: [
          { type: 'weekly', startDate: '2026-11-23', handoffTime: '09:00', participants: ['alice', 'bob'] },
        ],
      },
    ],
    escalationPolicies: [
      {
        id: 'checkout',
        levels: [
          { delayMinutes: 5, targets: [{ schedule: 'primary' }] },
          { delayMinutes: 10, targets: [{ responder: 'carol' }] },
        ],
        repeat: 1,
      },
    ],
    heartbeats: [{ id: 'nightly-backup', name: 'Nightly backup', service: 'checkout', intervalMinutes: 60 }],
    cloudwatch: { defaultService: 'checkout', defaultSeverity: 'critical', rules: [] },
    ...extra,
  };
}

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
