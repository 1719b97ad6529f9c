import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '#core/incident';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import { eventually } from '../support/local-process.ts';

/**
 * A real PagerDuty Events API v2 client, unchanged: PagerDuty's community CLI `pd` (npm
 * `pagerduty-cli`), whose `event alert --endpoint` flag replaces events.pagerduty.com with
 * Klaxon's `/v2/enqueue`. (@pagerduty/pdjs, node-pagerduty and pagerduty hard-code an https://
 * URL, so they cannot reach a plain-http Klaxon without patching.)
 *
 * The CLI runs as a child process with its own HOME and oclif folders in a temp dir. Its
 * update plugins would otherwise reach the npm registry: autoupdate is switched off with
 * PD_DISABLE_AUTOUPDATE, and the version check is satisfied by a fresh version cache file.
 */

const require = createRequire(import.meta.url);
const cliPackage = require.resolve('pagerduty-cli/package.json');
const cliBin = join(dirname(cliPackage), 'bin', 'run');

let dir: string;
let klaxon: LocalRuntime;
let env: NodeJS.ProcessEnv;
let endpoint: string;
let routingKey: string;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pd <args>` (asynchronously: Klaxon answers from this same process). */
function pd(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `pd event alert` with the flags every call needs; `--summary` and `--source` are required by the CLI. */
const sendEvent = (action: 'trigger' | 'acknowledge' | 'resolve', extra: string[]) =>
  pd([
    'event',
    'alert',
    '--endpoint',
    endpoint,
    '--routing_key',
    routingKey,
    '--action',
    action,
    '--summary',
    'Payment provider timeouts above 10%',
    '--source',
    'checkout-api-7f9c',
    '--severity',
    'critical',
    ...extra,
  ]);

const incidentFor = async (dedupKey: string): Promise<Incident | undefined> =>
  (await klaxon.store.list({ service: 'checkout' })).incidents.find((i) => i.dedupKey === dedupKey);

/** Klaxon's clock runs ahead by this much: lets a test pass the 15-minute monitoring period. */
let skew = 0;

/** A resolve enters the monitoring period; once it passes quietly the incident is resolved. */
async function waitForQuietResolve(dedupKey: string): Promise<Incident> {
  const monitoring = await waitForStatus(dedupKey, 'monitoring');
  expect(monitoring.monitoringUntil).toBeDefined();
  skew += 16 * 60_000;
  return waitForStatus(dedupKey, 'resolved');
}

const waitForStatus = (dedupKey: string, status: Incident['status']) =>
  eventually(async () => {
    const incident = await incidentFor(dedupKey);
    return incident?.status === status ? incident : undefined;
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'klaxon-pd-cli-'));
  klaxon = await startLocalRuntime({
    dataDir: join(dir, 'klaxon'),
    configPath: 'klaxon.config.json',
    port: 0,
    clock: () => new Date(Date.now() + skew),
  });
  const key = klaxon.integrationKeys.checkout;
  if (!key) throw new Error('local runtime made no key for checkout');
  routingKey = key;
  endpoint = `${klaxon.url}/v2/enqueue`;

  const home = join(dir, 'home');
  const cacheDir = join(home, 'cache');
  await mkdir(cacheDir, { recursive: true });
  const { version } = JSON.parse(await readFile(cliPackage, 'utf8')) as { version: string };
  await writeFile(join(cacheDir, 'version'), JSON.stringify({ latest: version }));
  env = {
    ...process.env,
    HOME: home,
    PD_CACHE_DIR: cacheDir,
    PD_CONFIG_DIR: join(home, 'config'),
    PD_DATA_DIR: join(home, 'data'),
    PD_DISABLE_AUTOUPDATE: '1',
    FORCE_COLOR: '0',
  };
});

afterAll(async () => {
  await klaxon?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pagerduty-cli (`pd event alert`) against Klaxon', () => {
  it('triggers, acknowledges and resolves one incident by dedup_key', async () => {
    const dedupKey = 'checkout-payment-timeouts';

    const triggered = await sendEvent('trigger', ['--dedup_key', dedupKey, '--json']);
    expect(triggered.code, triggered.stderr).toBe(0);
    expect(JSON.parse(triggered.stdout)).toEqual({
      status: 'success',
      message: 'Event processed',
      dedup_key: dedupKey,
    });
    expect(await waitForStatus(dedupKey, 'triggered')).toMatchObject({
      service: 'checkout',
      title: 'Payment provider timeouts above 10%',
      source: 'checkout-api-7f9c',
      severity: 'critical',
      origin: 'events-v2',
      alertCount: 1,
    });

    const acknowledged = await sendEvent('acknowledge', ['--dedup_key', dedupKey, '--json']);
    expect(acknowledged.code, acknowledged.stderr).toBe(0);
    expect(JSON.parse(acknowledged.stdout)).toEqual({
      status: 'success',
      message: 'Event processed',
      dedup_key: dedupKey,
    });
    const acked = await waitForStatus(dedupKey, 'acknowledged');
    expect(acked.acknowledgedAt).toBeDefined();

    const resolvedEvent = await sendEvent('resolve', ['--dedup_key', dedupKey, '--json']);
    expect(resolvedEvent.code, resolvedEvent.stderr).toBe(0);
    expect(JSON.parse(resolvedEvent.stdout)).toMatchObject({ status: 'success', dedup_key: dedupKey });
    const resolved = await waitForQuietResolve(dedupKey);
    expect(resolved.id).toBe(acked.id);
    expect(resolved.resolvedAt).toBeDefined();
  });

  it('resolves by the dedup_key Klaxon generated for a trigger without one (`--pipe`)', async () => {
    const triggered = await sendEvent('trigger', ['--pipe']);
    expect(triggered.code, triggered.stderr).toBe(0);
    const dedupKey = triggered.stdout.trim();
    expect(dedupKey).not.toBe('');
    await waitForStatus(dedupKey, 'triggered');

    const resolvedEvent = await sendEvent('resolve', ['--dedup_key', dedupKey, '--pipe']);
    expect(resolvedEvent.code, resolvedEvent.stderr).toBe(0);
    expect(resolvedEvent.stdout.trim()).toBe(dedupKey);
    await waitForQuietResolve(dedupKey);
  });

  it("shows Klaxon's 400 field errors for an unknown routing key", async () => {
    const result = await pd([
      'event',
      'alert',
      '--endpoint',
      endpoint,
      '--routing_key',
      'not-a-klaxon-key',
      '--summary',
      'x',
      '--source',
      'y',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('400 Bad Request');
    expect(result.stderr).toContain('routing_key: unknown routing key');
  });
});
