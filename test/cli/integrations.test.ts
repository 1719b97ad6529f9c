import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashIntegrationKey } from '#core/ids';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import { userEnv } from '../support/local-process.ts';

const run = promisify(execFile);
let dataDir: string;
let runtime: LocalRuntime;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'klaxon-cli-'));
  runtime = await startLocalRuntime({ dataDir, configPath: 'klaxon.config.json', port: 0 });
});
afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

const klaxon = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'bin/klaxon.ts', ...args], {
    env: { ...userEnv(), KLAXON_DATA_DIR: dataDir },
  });

describe('klaxon integrations create', () => {
  it('creates a key on the running local pipeline and prints it once (--json)', async () => {
    const { stdout, stderr } = await klaxon(
      'integrations',
      'create',
      '--service',
      'checkout',
      '--name',
      'Prometheus',
      '--url',
      runtime.url,
      '--json',
    );
    // On Node 20 the AWS SDK warns of its Node 22 requirement; the CLI does not pass that on.
    expect(stderr).toBe('');
    const created = JSON.parse(stdout) as { integrationKey: string; service: string };
    expect(created.service).toBe('checkout');
    expect((await runtime.store.findIntegration(hashIntegrationKey(created.integrationKey)))?.name).toBe(
      'Prometheus',
    );
  });

  it('exits non-zero naming the field for an unknown service', async () => {
    const failed = await klaxon(
      'integrations',
      'create',
      '--service',
      'nope',
      '--name',
      'x',
      '--url',
      runtime.url,
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('service: no service "nope" in the config');
  });

  it('explains itself with --help and refuses a missing --name with exit code 2', async () => {
    const { stdout, stderr } = await klaxon('--help');
    expect(stdout).toContain('klaxon integrations create --service <id> --name <name>');
    expect(stderr).not.toContain('Usage:');
    const failed = await klaxon('integrations', 'create', '--service', 'checkout').catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 2, stderr: 'klaxon: --name is required\n' });
  });

  it('without a command is a usage error: the help on stderr, nothing on stdout, exit code 2', async () => {
    for (const args of [[], ['--json']]) {
      const failed = await klaxon(...args).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect(failed, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      const { stderr } = failed as { stderr: string };
      expect(stderr).toContain('klaxon integrations create --service <id> --name <name>');
      // With --json the error itself is JSON, as every error is then.
      if (args.includes('--json'))
        expect(JSON.parse(stderr.trim().split('\n').at(-1) ?? '')).toEqual({
          error: { message: 'which command? (see klaxon --help)', exitCode: 2 },
        });
      else expect(stderr).toMatch(/\nklaxon: which command\? \(see klaxon --help\)\n$/);
    }
  });

  it('every command explains itself with --help, not with the whole help', async () => {
    for (const name of ['integrations create', 'rollup', 'metrics', 'dlq replay']) {
      const { stdout } = await klaxon(...name.split(' '), '--help');
      expect(stdout, name).toMatch(new RegExp(`^Usage:\\n {2}klaxon ${name} `));
      expect(stdout, name).not.toContain('Incident command');
      expect(stdout, name).toContain('--json');
    }
  });

  it('refuses a flag that does not apply to the command, naming it, with exit code 2 and no effect', async () => {
    const cases: [string[], string][] = [
      [
        ['dlq', 'replay', '--table', 'KlaxonTable'],
        '--table does not apply to dlq replay (see klaxon dlq replay --help)',
      ],
      [
        ['rollup', '--day', '2026-10-02', '--service', 'checkout'],
        '--service does not apply to rollup (see klaxon rollup --help)',
      ],
      [['metrics', '--name', 'x'], '--name does not apply to metrics (see klaxon metrics --help)'],
      [
        [
          'integrations',
          'create',
          '--service',
          'checkout',
          '--name',
          'x',
          '--table',
          'T',
          '--url',
          runtime.url,
        ],
        '--url does not apply with --table',
      ],
      [
        ['integrations', 'create', '--service', 'checkout', '--name', 'x', '--region', 'eu-west-1'],
        '--region does not apply without --table',
      ],
      [
        ['rollup', '--day', '2026-10-02', '--region', 'eu-west-1'],
        '--region does not apply without --function',
      ],
      [['dlq', 'replay', '--bus', 'klaxon'], '--bus does not apply without --queue-url'],
      [
        ['dlq', 'replay', '--queue-url', 'https://sqs.eu-west-1.amazonaws.com/1/q', '--file', 'x'],
        '--file does not apply with --queue-url',
      ],
    ];
    const before = await runtime.store.listRollups('2026-10-02', '2026-10-02');
    for (const [args, message] of cases) {
      const failed = await klaxon(...args).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect(failed, args.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: `klaxon: ${message}\n` });
    }
    expect(await runtime.store.listRollups('2026-10-02', '2026-10-02')).toEqual(before);
  });
});
