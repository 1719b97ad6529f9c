import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '#core/errors';
import { DataDirInUseError } from '#local/data-lock';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import { eventually, type RunningKlaxon, startKlaxonProcess } from '../support/local-process.ts';

interface IncidentView {
  id: string;
  service: string;
  dedupKey: string;
  status: string;
  alertCount: number;
  title: string;
}

let dataDir: string;
let klaxon: RunningKlaxon;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'klaxon-e2e-'));
  klaxon = await startKlaxonProcess(dataDir);
});
afterAll(async () => {
  await klaxon?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const listIncidents = async (k: RunningKlaxon, query = '') => {
  const res = await fetch(`${k.url}/api/incidents${query}`, {
    headers: { authorization: `Bearer ${k.apiToken}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { incidents: IncidentView[] }).incidents;
};

describe('npm start: the local pipeline end to end', () => {
  it('prints the URLs and a ready-to-paste curl command', () => {
    expect(klaxon.output()).toContain(`curl -s -X POST ${klaxon.url}/v2/enqueue`);
    expect(klaxon.output()).toContain(klaxon.integrationKeys.checkout);
    // On Node 20 the AWS SDK warns of its Node 22 requirement; npm start does not pass that on.
    expect(klaxon.output()).not.toContain('NodeVersionSupportWarning');
  });

  it('turns Events v2 and Alertmanager payloads into incidents readable over HTTP', async () => {
    const key = klaxon.integrationKeys.checkout;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${klaxon.url}/v2/enqueue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          routing_key: key,
          event_action: 'trigger',
          dedup_key: 'disk-full',
          payload: { summary: 'Disk 95% full on db-1', source: 'db-1', severity: 'critical' },
        }),
      });
      expect(res.status).toBe(202);
    }
    const am = await fetch(`${klaxon.url}/integrations/alertmanager/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        groupKey: '{}:{alertname="InstanceDown"}',
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'klaxon',
        groupLabels: { alertname: 'InstanceDown' },
        commonLabels: { alertname: 'InstanceDown' },
        commonAnnotations: {},
        externalURL: 'http://alertmanager:9093',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'InstanceDown', instance: 'web-1:9100', severity: 'critical' },
            annotations: { summary: 'web-1 is down' },
            startsAt: '2026-11-26T11:00:00Z',
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: 'http://prometheus:9090/graph',
            fingerprint: '5f1b8c5e0d1a2b3c',
          },
        ],
      }),
    });
    expect(am.status).toBe(202);

    const incidents = await eventually(async () => {
      const list = await listIncidents(klaxon);
      const disk = list.find((i) => i.dedupKey === 'disk-full');
      return list.length === 2 && disk?.alertCount === 3 ? list : undefined;
    });
    expect(incidents.map((i) => [i.dedupKey, i.status, i.alertCount]).sort()).toEqual([
      ['5f1b8c5e0d1a2b3c', 'triggered', 1],
      ['disk-full', 'triggered', 3],
    ]);

    const disk = incidents.find((i) => i.dedupKey === 'disk-full');
    // The OPENED entry is written once level 1 has been paged: wait for it.
    const body = await eventually(async () => {
      const shown = await fetch(`${klaxon.url}/api/incidents/${disk?.id}`, {
        headers: { authorization: `Bearer ${klaxon.apiToken}` },
      });
      const view = (await shown.json()) as {
        incident: IncidentView;
        timeline: { type: string; text: string }[];
      };
      return view.timeline.length > 0 ? view : undefined;
    });
    expect(body.incident.title).toBe('Disk 95% full on db-1');
    expect(body.timeline.map((e) => e.type)).toEqual(['OPENED']);
  });

  it('routes a CloudWatch alarm put on the default bus to the service its name maps to', async () => {
    const arn = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx';
    const res = await fetch(`${klaxon.url}/local/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${klaxon.apiToken}` },
      body: JSON.stringify({
        bus: 'default',
        region: 'eu-west-1',
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        resources: [arn],
        detail: {
          alarmName: 'checkout-5xx',
          state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-26T11:30:00.000+0000' },
          previousState: { value: 'OK', reason: 'ok', timestamp: '2026-11-26T11:00:00.000+0000' },
          configuration: { description: '5xx above 1%', metrics: [] },
        },
      }),
    });
    expect(res.status).toBe(202);
    const [incident] = await eventually(async () => {
      const list = await listIncidents(klaxon, '?service=checkout');
      const found = list.filter((i) => i.dedupKey === arn);
      return found.length === 1 ? found : undefined;
    });
    expect(incident?.title).toContain('checkout-5xx');
  });

  it('answers a request without a token 401, naming where the token is', async () => {
    const res = await fetch(`${klaxon.url}/api/incidents`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      message: "missing bearer token (apiToken in the data folder's secrets.json; npm start prints it)",
      errors: [],
    });
  });

  it('refuses a second npm start on the same data folder, naming the first one, which runs on', async () => {
    // The helper starts on PORT=0: the second one has a port of its own, and still must not start.
    const second = await startKlaxonProcess(dataDir).catch((error: Error) => error);
    expect(second).toBeInstanceOf(Error);
    const message = (second as Error).message;
    expect(message).toContain('exited with 1');
    expect(message).toContain(
      `another Klaxon (pid ${klaxon.pid}) is using ${dataDir}; stop it or set KLAXON_DATA_DIR`,
    );
    expect(message).not.toContain('Database is closed');
    expect(message).not.toMatch(/^ {4}at /m);
    expect((await readFile(join(dataDir, 'klaxon.pid'), 'utf8')).trim()).toBe(String(klaxon.pid));
    expect(await listIncidents(klaxon)).not.toHaveLength(0);
  });

  it('keeps its data across a restart and stops cleanly on Ctrl-C', async () => {
    const before = await listIncidents(klaxon);
    expect(await klaxon.stop()).toBe(0);
    klaxon = await startKlaxonProcess(dataDir);
    const after = await listIncidents(klaxon);
    expect(after.map((i) => i.id).sort()).toEqual(before.map((i) => i.id).sort());
  });
});

describe('npm start with an invalid config', () => {
  it('refuses to start and names the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-bad-config-'));
    try {
      const bad = {
        services: [{ id: 'checkout', name: 'Checkout', escalationPolicy: 'checkout' }],
        escalationPolicies: [
          { id: 'checkout', levels: [{ delayMinutes: 0, targets: [{ responder: 'nobody' }] }] },
        ],
      };
      await writeFile(join(dir, 'config.json'), JSON.stringify(bad));
      const failed = await startKlaxonProcess(join(dir, 'data'), {
        KLAXON_CONFIG: join(dir, 'config.json'),
      }).catch((error: Error) => error);
      expect(failed).toBeInstanceOf(Error);
      const message = (failed as Error).message;
      expect(message).toContain('exited with 1');
      expect(message).toContain('escalationPolicies.0.levels.0.delayMinutes');
      expect(message).toContain(
        'escalationPolicies.0.levels.0.targets.0.responder: unknown responder "nobody"',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start: one runtime per data folder, and a busy port', () => {
  it('takes over the lock of a Klaxon that is gone, and releases its own on Ctrl-C', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-stale-lock-'));
    let started: RunningKlaxon | undefined;
    try {
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((exited) => gone.once('exit', exited));
      await writeFile(join(dir, 'klaxon.pid'), `${gone.pid}\n`);
      started = await startKlaxonProcess(dir);
      expect((await readFile(join(dir, 'klaxon.pid'), 'utf8')).trim()).toBe(String(started.pid));
      expect(await started.stop()).toBe(0);
      expect(existsSync(join(dir, 'klaxon.pid'))).toBe(false);
    } finally {
      await started?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on a busy port says so in one line, naming PORT, exits 1, and leaves no data folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-busy-port-'));
    const busy = createServer();
    await new Promise<void>((listening) => busy.listen(0, '127.0.0.1', listening));
    const { port } = busy.address() as { port: number };
    try {
      const failed = await startKlaxonProcess(join(dir, 'data'), { PORT: String(port) }).catch(
        (error: Error) => error,
      );
      expect(failed).toBeInstanceOf(Error);
      const message = (failed as Error).message;
      expect(message).toContain('exited with 1');
      expect(message).toContain(`port ${port} is in use: set PORT=… (e.g. PORT=3100 npm start)`);
      expect(message).not.toContain('EADDRINUSE');
      expect(existsSync(join(dir, 'data'))).toBe(false);
    } finally {
      busy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('of two runtimes started at once on one folder, exactly one starts; the other closes what it opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-two-at-once-'));
    const started: LocalRuntime[] = [];
    try {
      const outcomes = await Promise.allSettled(
        [0, 1].map(() => startLocalRuntime({ dataDir: dir, configPath: 'klaxon.config.json', port: 0 })),
      );
      for (const o of outcomes) if (o.status === 'fulfilled') started.push(o.value);
      expect(started).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(DataDirInUseError);
      // The one that runs works, and once closed the folder can be started again.
      expect((await started[0]?.store.list({}))?.incidents).toEqual([]);
      await started.pop()?.close();
      const again = await startLocalRuntime({ dataDir: dir, configPath: 'klaxon.config.json', port: 0 });
      await again.close();
    } finally {
      for (const runtime of started) await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start: HOST, for Alertmanager and Grafana in Docker', () => {
  /** An IPv4 address of this machine that is not loopback, as a container would reach it by. */
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

  it('HOST=0.0.0.0 listens on every interface, warns in one line, and links point at 127.0.0.1, not 0.0.0.0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-host-'));
    const lines: string[] = [];
    const runtime = await startLocalRuntime({
      dataDir: dir,
      configPath: 'klaxon.config.json',
      port: 0,
      host: '0.0.0.0',
      log: (line) => lines.push(line),
    });
    try {
      const { port } = new URL(runtime.url);
      expect(runtime.url).toBe(`http://127.0.0.1:${port}`);
      expect(runtime.deps.links.publicUrl).toBe(`http://127.0.0.1:${port}`);
      expect(lines.filter((line) => line.includes('HOST'))).toEqual([
        `HOST=0.0.0.0 is not a loopback address: other machines and containers can reach Klaxon, and its API is protected by the bearer token alone; links in pages use http://127.0.0.1:${port} (KLAXON_PUBLIC_URL sets another)`,
      ]);
      if (external) expect((await fetch(`http://${external}:${port}/api/incidents`)).status).toBe(401);
    } finally {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('links and the printed URLs use KLAXON_PUBLIC_URL when it is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-public-url-'));
    const runtime = await startLocalRuntime({
      dataDir: dir,
      configPath: 'klaxon.config.json',
      port: 0,
      host: '0.0.0.0',
      publicUrl: 'http://klaxon.lan:3000',
    });
    try {
      expect(runtime.url).toBe('http://klaxon.lan:3000');
      expect(runtime.deps.links.publicUrl).toBe('http://klaxon.lan:3000');
    } finally {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('by default listens on 127.0.0.1 only, without a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-loopback-'));
    const lines: string[] = [];
    const runtime = await startLocalRuntime({
      dataDir: dir,
      configPath: 'klaxon.config.json',
      port: 0,
      log: (line) => lines.push(line),
    });
    try {
      expect(runtime.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.filter((line) => line.includes('HOST'))).toEqual([]);
      if (external) await expect(fetch(`http://${external}:${new URL(runtime.url).port}/`)).rejects.toThrow();
    } finally {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a HOST that is no address of this machine is one line naming HOST, and leaves no data folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-bad-host-'));
    try {
      const failed = await startLocalRuntime({
        dataDir: join(dir, 'data'),
        configPath: 'klaxon.config.json',
        port: 0,
        host: '198.51.100.7',
      }).catch((error: Error) => error);
      expect(failed).toBeInstanceOf(ConfigError);
      expect((failed as Error).message).toBe(
        'invalid environment: HOST: cannot listen on 198.51.100.7 (EADDRNOTAVAIL): it must be an address of this machine, such as 127.0.0.1 or 0.0.0.0',
      );
      expect(existsSync(join(dir, 'data'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('npm start reads HOST and prints the warning; a KLAXON_PUBLIC_URL that is no http(s) URL is refused by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-host-env-'));
    let started: RunningKlaxon | undefined;
    try {
      const failed = await startKlaxonProcess(join(dir, 'bad'), {
        HOST: '0.0.0.0',
        KLAXON_PUBLIC_URL: 'klaxon.lan:3000',
      }).then(
        (running) => running.stop(),
        (error: Error) => error,
      );
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).message).toContain(
        'invalid environment: KLAXON_PUBLIC_URL: must be an http(s) URL without a query or fragment, such as http://192.168.1.20:3000',
      );
      expect(existsSync(join(dir, 'bad'))).toBe(false);

      started = await startKlaxonProcess(join(dir, 'data'), { HOST: '0.0.0.0' });
      expect(started.output()).toContain('HOST=0.0.0.0 is not a loopback address');
      expect(started.output()).not.toContain('0.0.0.0:');
    } finally {
      await started?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
