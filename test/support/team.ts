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
export function teamConfig(service: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    timeZone: 'Europe/Berlin',
    services: [
      {
        id: 'checkout',
        name: 'Checkout API',
        escalationPolicy: 'checkout',
        fallback: { responder: 'dave' },
        ackTimeoutMinutes: 0,
        // Resolve at once (PagerDuty's semantics); test/escalation/lifecycle.test.ts covers monitoring.
        resolveMonitoringMinutes: 0,
        ...service,
      },
      { id: 'billing', name: 'Billing', resolveMonitoringMinutes: 0 },
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
