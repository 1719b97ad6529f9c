import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * The real Prometheus Alertmanager binary, run as a child process on loopback only.
 * Debian's package installs it as `prometheus-alertmanager`; upstream's tarball calls it
 * `alertmanager`. ALERTMANAGER_BIN overrides the search.
 */
export function findAlertmanager(): string | undefined {
  const override = process.env.ALERTMANAGER_BIN;
  if (override) return existsSync(override) ? override : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ready);
  });
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RunningAlertmanager {
  readonly url: string;
  /** Everything Alertmanager logged so far (its notify errors name the receiver and the HTTP status). */
  readonly output: () => string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * Writes `alertmanager.yml` into `dir` and starts Alertmanager with clustering off, its storage
 * in `dir` and its web API on a free loopback port; resolves once `/-/ready` answers 200.
 */
export async function startAlertmanager(
  binary: string,
  dir: string,
  configYaml: string,
): Promise<RunningAlertmanager> {
  const configFile = join(dir, 'alertmanager.yml');
  await writeFile(configFile, configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      '--cluster.listen-address=',
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--log.level=debug',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((done) => {
    child.once('exit', (code) => {
      exitCode = code;
      done();
    });
    child.once('error', (error) => {
      out += `\nspawn failed: ${error.message}`;
      exitCode = -1;
      done();
    });
  });

  const stop = async () => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`alertmanager exited with ${exitCode}:\n${out}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready on ${url} within 15 s:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, output: () => out, stop };
}

/** An alert as posted to Alertmanager's `POST /api/v2/alerts` (what Prometheus sends). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export async function postAlerts(am: RunningAlertmanager, alerts: PostableAlert[]): Promise<void> {
  const res = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  if (res.status !== 200) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
}

/** Alertmanager's view of its alerts (`GET /api/v2/alerts`), with the fingerprint it computed. */
export async function listAlerts(
  am: RunningAlertmanager,
): Promise<{ fingerprint: string; labels: Record<string, string>; startsAt: string }[]> {
  const res = await fetch(`${am.url}/api/v2/alerts`);
  if (res.status !== 200) throw new Error(`GET /api/v2/alerts: ${res.status} ${await res.text()}`);
  return (await res.json()) as { fingerprint: string; labels: Record<string, string>; startsAt: string }[];
}
