import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '#core/errors';
import { hashIntegrationKey } from '#core/ids';
import { createHttpApp } from '#http/app';
import { startTestDynamo } from '../support/dynamo.ts';
import { startPipeline } from '../support/pipeline.ts';

const KEY = '0123456789abcdef0123456789abcdef';
let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const body = {
  version: '4',
  groupKey: '{}:{alertname="HighLatency"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'klaxon',
  groupLabels: { alertname: 'HighLatency' },
  commonLabels: { alertname: 'HighLatency', severity: 'critical' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example.com:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighLatency', severity: 'critical', instance: 'api-1:9100' },
      annotations: { summary: 'p99 latency above 2s' },
      startsAt: '2026-11-26T11:58:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up',
      fingerprint: 'c6b5b8d1f8d0a1e2',
    },
  ],
};

/** Paths carry secrets (integration keys, signed link tokens): the function's log names the route. */
describe('a failed request is logged by its route, not its path', () => {
  it('a 5xx on /integrations/<format>/<key> logs no key', async () => {
    const p = await startPipeline(dynamo, { services: [{ id: 'checkout', name: 'Checkout' }] });
    await p.store.putIntegration({
      keyHash: hashIntegrationKey(KEY),
      service: 'checkout',
      name: 'test',
      createdAt: p.clock.now().toISOString(),
    });
    const lines: string[] = [];
    const app = createHttpApp({
      ...p.deps,
      log: (level: string, message: string, data?: unknown) =>
        void lines.push(JSON.stringify({ level, message, data })),
      bus: {
        putAlerts: async () => {
          throw new RetryableError('EventBridge did not accept 1 alert(s) after 3 attempts');
        },
      },
      apiAuth: bearerAuth({ token: 't' }),
    } as Parameters<typeof createHttpApp>[0]);
    const res = await app.request(`/integrations/alertmanager/${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(503);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'error',
      message: 'request failed',
      data: { method: 'POST', route: expect.stringMatching(/^\/integrations\//) },
    });
  });
});
