import { type Alert, type AlertInput, AlertSchema } from '#core/alert';
import { randomId } from '#core/ids';

/** A valid canonical alert; every call gets a fresh eventKey unless one is given. */
export function makeAlert(overrides: Partial<AlertInput> = {}): Alert {
  return AlertSchema.parse({
    eventKey: `test:${randomId()}`,
    service: 'checkout',
    dedupKey: 'db-latency',
    action: 'trigger',
    summary: 'p99 latency above 2s on orders-db',
    source: 'orders-db-1',
    severity: 'critical',
    receivedAt: '2026-11-26T10:00:00.000Z',
    origin: 'events-v2',
    ...overrides,
  });
}
