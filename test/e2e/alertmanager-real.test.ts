import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '#core/incident';
import { labelsFingerprint } from '#formats/prometheus';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import {
  findAlertmanager,
  listAlerts,
  type PostableAlert,
  postAlerts,
  type RunningAlertmanager,
  startAlertmanager,
} from '../support/alertmanager.ts';
import { eventually } from '../support/local-process.ts';

/**
 * The real Prometheus Alertmanager (0.25 from Debian) pointed at Klaxon twice: its webhook
 * receiver at /integrations/alertmanager (key as Bearer credentials) and its own PagerDuty
 * Events v2 client at /v2/enqueue. Nothing here builds a payload by hand: Alertmanager does.
 */

const binary = findAlertmanager();
const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

if (binary === undefined && inCi) {
  describe('real Prometheus Alertmanager', () => {
    it('is installed (required in CI)', () => {
      throw new Error(
        'prometheus-alertmanager not found (looked for ALERTMANAGER_BIN, prometheus-alertmanager and alertmanager ' +
          'on PATH). Install it: apt-get install -y prometheus-alertmanager (.ci/run does this when run as root).',
      );
    });
  });
}

const WAIT_MS = 15_000;

describe.runIf(binary !== undefined)('real Prometheus Alertmanager → Klaxon', () => {
  let dir: string;
  let klaxon: LocalRuntime;
  let am: RunningAlertmanager;
  const klaxonLog: string[] = [];

  // Prometheus sets startsAt; milliseconds make the round trip through Alertmanager visible.
  const startsAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000 + 123).toISOString();
  const webhookAlerts: PostableAlert[] = ['web-1:9100', 'web-2:9100'].map((instance) => ({
    labels: { alertname: 'HighErrorRate', instance, job: 'checkout-api', severity: 'critical' },
    annotations: {
      summary: `5xx above 5% on ${instance}`,
      runbook_url: 'https://runbooks.example.com/checkout/5xx',
    },
    startsAt,
    generatorURL: 'http://prometheus.example.com/graph?g0.expr=rate',
  }));
  const pagerdutyAlert: PostableAlert = {
    labels: { alertname: 'DiskFull', instance: 'db-1:9100', pager: 'pagerduty', severity: 'warning' },
    annotations: { summary: 'Disk 95% full on db-1' },
    startsAt,
  };
  // Alertmanager's PagerDuty dedup_key is the SHA-256 of the aggregation group's key.
  const pagerdutyDedupKey = createHash('sha256')
    .update('{}/{pager="pagerduty"}:{alertname="DiskFull"}')
    .digest('hex');

  const diagnostics = () =>
    `\n--- alertmanager log ---\n${am?.output() ?? ''}\n--- klaxon log ---\n${klaxonLog.join('\n')}`;
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    try {
      return await eventually(probe, WAIT_MS);
    } catch {
      throw new Error(`${what}: not within ${WAIT_MS} ms${diagnostics()}`);
    }
  };
  let skew = 0;
  const incidentsOf = async (service: string): Promise<Incident[]> =>
    (await klaxon.store.list({ service })).incidents;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'klaxon-am-'));
    klaxon = await startLocalRuntime({
      dataDir: join(dir, 'klaxon'),
      configPath: 'klaxon.config.json',
      port: 0,
      log: (line) => klaxonLog.push(line),
      // Runs ahead once the resolves arrived: past the 15-minute monitoring period.
      clock: () => new Date(Date.now() + skew),
    });
    const checkoutKey = klaxon.integrationKeys.checkout;
    const platformKey = klaxon.integrationKeys.platform;
    if (!checkoutKey || !platformKey) throw new Error('local runtime made no keys for checkout and platform');
    // resolve_timeout is long on purpose: only the explicit resolve below may close incidents.
    const config = `
global:
  resolve_timeout: 5m
route:
  receiver: klaxon-webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: klaxon-pagerduty
      matchers: ['pager="pagerduty"']
receivers:
  - name: klaxon-webhook
    webhook_configs:
      - url: ${JSON.stringify(`${klaxon.url}/integrations/alertmanager`)}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${JSON.stringify(checkoutKey)}
  - name: klaxon-pagerduty
    pagerduty_configs:
      - url: ${JSON.stringify(`${klaxon.url}/v2/enqueue`)}
        routing_key: ${JSON.stringify(platformKey)}
        send_resolved: true
`;
    am = await startAlertmanager(binary as string, dir, config);
  });

  afterAll(async () => {
    await am?.stop();
    await klaxon?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('opens one incident per firing alert, keyed by the fingerprint Alertmanager computed', async () => {
    await postAlerts(am, [...webhookAlerts, pagerdutyAlert]);

    const known = await listAlerts(am);
    const fingerprints = new Map(known.map((a) => [a.labels.instance ?? '', a.fingerprint]));
    expect(fingerprints.size).toBe(3);
    // Klaxon's fallback for payloads without a fingerprint hashes labels exactly as Alertmanager does.
    for (const alert of known) expect(labelsFingerprint(alert.labels)).toBe(alert.fingerprint);

    const checkout = await waitFor('webhook incidents in checkout', async () => {
      const list = await incidentsOf('checkout');
      return list.length === 2 ? list : undefined;
    });
    for (const sent of webhookAlerts) {
      const instance = sent.labels.instance ?? '';
      const incident = checkout.find((i) => i.dedupKey === fingerprints.get(instance));
      expect(incident, `incident for ${instance}`).toMatchObject({
        service: 'checkout',
        status: 'triggered',
        title: sent.annotations?.summary,
        source: instance,
        severity: 'critical',
        origin: 'alertmanager',
        startedAt: startsAt,
        alertCount: 1,
      });
    }

    const [paged] = await waitFor('events-v2 incident in platform', async () => {
      const list = await incidentsOf('platform');
      return list.length === 1 ? list : undefined;
    });
    expect(paged).toMatchObject({
      service: 'platform',
      dedupKey: pagerdutyDedupKey,
      status: 'triggered',
      origin: 'events-v2',
      source: 'Alertmanager',
    });
    expect(paged?.title).toMatch(/^\[FIRING:1\] DiskFull\b/);
  });

  it('resolves them when Alertmanager sends the resolved notifications', async () => {
    const endsAt = new Date(Date.now() - 1_000).toISOString();
    await postAlerts(
      am,
      [...webhookAlerts, pagerdutyAlert].map((alert) => ({ ...alert, endsAt })),
    );

    await waitFor('all three incidents monitoring', async () => {
      const list = [...(await incidentsOf('checkout')), ...(await incidentsOf('platform'))];
      return list.length === 3 && list.every((i) => i.status === 'monitoring') ? list : undefined;
    });
    skew += 16 * 60_000;
    const resolved = await waitFor('all three incidents resolved', async () => {
      const list = [...(await incidentsOf('checkout')), ...(await incidentsOf('platform'))];
      return list.length === 3 && list.every((i) => i.status === 'resolved') ? list : undefined;
    });
    for (const incident of resolved) {
      expect(incident.resolvedAt).toBeDefined();
      // Alertmanager's repeats of the same firing alert were not counted again.
      if (incident.origin === 'alertmanager') expect(incident.alertCount).toBe(1);
    }
    await klaxon.bus.drain();
    const deadLetters = klaxonLog.filter((line) => line.includes('dead letter'));
    expect(deadLetters).toEqual([]);
    // Every notification was accepted: Alertmanager logged no failed notify attempt.
    expect(am.output()).not.toMatch(/Notify for alerts failed|Notify attempt failed/);
  });
});
