import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addActionItem, updateActionItem } from '#app/command';
import { processAlert } from '#app/process-alert';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import { makeAlert } from '../support/alerts.ts';

const run = promisify(execFile);
let dataDir: string;
let runtime: LocalRuntime;
let now = new Date('2026-11-20T08:00:00.000Z');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'klaxon-cli-metrics-'));
  runtime = await startLocalRuntime({
    dataDir,
    configPath: 'klaxon.config.json',
    port: 0,
    clock: () => now,
    // Small answers: `klaxon metrics` must follow the API's `next` to report these periods whole.
    rollupsResponseBytes: 4_000,
  });
});
afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

const klaxon = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'bin/klaxon.ts', ...args, '--url', runtime.url], {
    env: { ...process.env, KLAXON_DATA_DIR: dataDir },
  });

/** `klaxon` run at the instant `at` (test/support/fixed-now.ts fixes its clock), with `env` added. */
const klaxonIn = (env: Record<string, string>, at: string, ...args: string[]) =>
  run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/support/fixed-now.ts',
      'bin/klaxon.ts',
      ...args,
      '--url',
      runtime.url,
    ],
    { env: { ...process.env, KLAXON_DATA_DIR: dataDir, KLAXON_TEST_NOW: at, ...env } },
  );
const klaxonAt = (at: string, ...args: string[]) => klaxonIn({}, at, ...args);

/** An incident of `service` on `day`: detected at 09:00 UTC, acknowledged and resolved after the given minutes. */
async function incident(
  day: string,
  key: string,
  ackMinutes: number,
  resolveMinutes: number,
  service = 'checkout',
) {
  const deps = runtime.deps;
  const at = (minutes: number) => new Date(Date.parse(`${day}T09:00:00.000Z`) + minutes * 60_000);
  now = at(0);
  const alert = {
    service,
    dedupKey: key,
    severity: 'error',
    receivedAt: now.toISOString(),
    occurredAt: at(-1).toISOString(),
  } as const;
  await processAlert(makeAlert(alert), deps);
  now = at(ackMinutes);
  await processAlert(makeAlert({ ...alert, action: 'acknowledge', receivedAt: now.toISOString() }), deps);
  now = at(resolveMinutes);
  await processAlert(makeAlert({ ...alert, action: 'resolve', receivedAt: now.toISOString() }), deps);
}

describe('klaxon rollup and klaxon metrics against the running local pipeline', () => {
  it('backfills a range with a progress bar, then reports MTTA doubling with a recommendation', async () => {
    // Previous period (Nov 11–15): SEV-2 acknowledged in 6 minutes. Current (Nov 16–20): 13 minutes.
    for (const day of ['2026-11-12', '2026-11-14']) await incident(day, `p-${day}`, 6, 60);
    for (const day of ['2026-11-17', '2026-11-19']) await incident(day, `c-${day}`, 13, 60);

    const backfill = await klaxon('rollup', '--from', '2026-11-11', '--to', '2026-11-20');
    expect(backfill.stdout).toBe('Rolled up 10 day(s).\n');
    expect(backfill.stderr).toContain('[####################] 10/10 2026-11-20');
    const exported = await readFile(
      join(dataDir, 'exports', 'rollups', 'dt=2026-11-17', 'rollups.jsonl'),
      'utf8',
    );
    expect(exported).toContain('"service":"checkout"');

    const json = await klaxon('metrics', '--period', '5', '--to', '2026-11-20', '--json');
    const report = JSON.parse(json.stdout) as {
      current: { incidents: number; mtta: { mean: number } };
      previous: { incidents: number; mtta: { mean: number } };
      recommendations: string[];
    };
    expect(report.current).toMatchObject({ incidents: 2, mtta: { mean: 780 } });
    expect(report.previous).toMatchObject({ incidents: 2, mtta: { mean: 360 } });
    expect(report.recommendations.some((r) => r.startsWith('MTTA for SEV-2 doubled (6m → 13m)'))).toBe(true);

    const text = await klaxon(
      'metrics',
      '--period',
      '5',
      '--to',
      '2026-11-20',
      '--compare-services',
      '--by-severity',
      '--verbose',
    );
    expect(text.stdout).toContain(
      'Incident metrics 2026-11-16 … 2026-11-20 (5 days), compared with 2026-11-11 … 2026-11-15',
    );
    expect(text.stdout).toContain('By severity');
    expect(text.stdout).toContain('By service (worst MTTR first)');
    expect(text.stdout).toContain('Recommendations');
    expect(text.stdout).not.toContain('no incident in the period');
    // A period with nothing rolled up says so, instead of "keep it up".
    const empty = await klaxon('metrics', '--period', '5', '--to', '2026-10-01');
    expect(empty.stdout).toContain(
      '- None: no incident in the period (a day is counted once rolled up, the night after it).',
    );
  });

  it("reports the postmortem action items due in each period: done on time (by their deadline's day in the team's zone), late, open, and those overdue", async () => {
    const [incident] = (await runtime.store.list({})).incidents;
    const id = incident?.id ?? '';
    /** An item due on `deadline`, created the day before; done at `doneAt` (an instant) if given. */
    const item = async (action: string, deadline: string, doneAt?: string) => {
      now = new Date(`${deadline}T00:00:00.000Z`);
      now = new Date(now.getTime() - 86_400_000);
      const { actionItem } = await addActionItem(
        id,
        { action, owner: 'bob', deadline, category: 'Prevent', who: 'alice' },
        runtime.deps,
      );
      if (doneAt === undefined) return;
      now = new Date(doneAt);
      await updateActionItem(id, actionItem.id, { status: 'done', who: 'bob' }, runtime.deps);
    };
    // Berlin (klaxon.config.json): 22:30 UTC on Nov 17 is 23:30 that day — on time; 23:30 UTC on
    // Nov 18 is already Nov 19 there — late.
    await item('Alert on queue depth', '2026-11-17', '2026-11-17T22:30:00.000Z');
    await item('Add a rollback runbook', '2026-11-18', '2026-11-18T23:30:00.000Z');
    await item('Load-test checkout', '2026-11-19');
    await item('Pin the PSP client version', '2026-11-13', '2026-11-12T10:00:00.000Z');
    // Due after the period: in neither.
    await item('Quarterly game day', '2026-12-15');
    // A drill's item: its incident is excluded from metrics, and so is the item (open and overdue).
    const drill = (await runtime.store.list({})).incidents.find((i) => i.id !== id);
    now = new Date('2026-11-17T00:00:00.000Z');
    await addActionItem(
      drill?.id ?? '',
      { action: 'Drill follow-up', owner: 'bob', deadline: '2026-11-18', category: 'Process', who: 'alice' },
      runtime.deps,
    );
    await runtime.store.setExcluded(drill?.id ?? '', true);
    // Done is measured against the deadline it had: a done item's deadline cannot move (reopen it first).
    const [late] = (await runtime.deps.actionItems.listActionItems({ status: 'done' })).filter(
      (i) => i.action === 'Add a rollback runbook',
    );
    now = new Date('2026-11-20T08:00:00.000Z');
    const moved = await updateActionItem(
      id,
      late?.id ?? '',
      { deadline: '2026-11-30', who: 'bob' },
      runtime.deps,
    ).catch((e: unknown) => e);
    expect(moved).toMatchObject({
      errors: [{ field: 'deadline', message: expect.stringContaining('done item') }],
    });

    const json = JSON.parse(
      (await klaxonAt('2026-11-21T10:00:00Z', 'metrics', '--period', '5', '--to', '2026-11-20', '--json'))
        .stdout,
    ) as { actionItems: unknown; recommendations: string[] };
    expect(json.actionItems).toEqual({
      current: { due: 3, doneOnTime: 1, doneLate: 1, open: 1, onTime: 0.333 },
      previous: { due: 1, doneOnTime: 1, doneLate: 0, open: 0, onTime: 1 },
      overdue: 1,
    });
    expect(json.recommendations).toEqual(
      expect.arrayContaining([
        `1 postmortem action item is past its deadline (oldest: "Load-test checkout", @bob, due 2026-11-19, incident ${id}): follow them up with their owners — unfinished action items let the same incidents repeat.`,
        '33% of the 3 action items due in the period were done by their deadline (100% the period before): set deadlines the owners can keep, and review open items at each postmortem meeting.',
      ]),
    );
    const text = (await klaxonAt('2026-11-21T10:00:00Z', 'metrics', '--period', '5', '--to', '2026-11-20'))
      .stdout;
    expect(text).toContain(
      [
        'Postmortem action items (by deadline)',
        '              now  before',
        'due           3    1',
        'done on time  1    1',
        'done late     1    0',
        'still open    1    0',
        'on time       33%  100%',
        'Overdue today: 1',
      ].join('\n'),
    );
  });

  it('rejects bad arguments naming the flag, with exit code 2', async () => {
    const bad = await klaxon('metrics', '--period', 'lots').catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'klaxon: --period: expected whole days 1..366, got "lots"\n',
    });
    const day = await klaxon('rollup', '--day', '2026-13-01').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(day).toMatchObject({
      code: 2,
      stderr: 'klaxon: --day: expected a day as YYYY-MM-DD, got "2026-13-01"\n',
    });
  });

  it('refuses rollup --table (a table cannot roll up; --function can) with exit code 2, rolling up nothing', async () => {
    const before = await runtime.store.listRollups('2026-10-01', '2026-10-01');
    const failed = await klaxon('rollup', '--day', '2026-10-01', '--table', 'KlaxonTable').catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'klaxon: --table: rollup does not run against a table; use --function <RollupFunctionName output> for a deployed stack\n',
    });
    expect(await runtime.store.listRollups('2026-10-01', '2026-10-01')).toEqual(before);
  });

  it('refuses days that are not in the calendar (they would roll over), naming the flag, with exit code 2', async () => {
    const cases: [string[], string][] = [
      [['rollup', '--day', '2026-02-30'], '--day: expected a day as YYYY-MM-DD, got "2026-02-30"'],
      [
        ['rollup', '--from', '2026-02-29', '--to', '2026-03-01'],
        '--from: expected a day as YYYY-MM-DD, got "2026-02-29"',
      ],
      [
        ['rollup', '--from', '2026-04-01', '--to', '2026-04-31'],
        '--to: expected a day as YYYY-MM-DD, got "2026-04-31"',
      ],
      [['metrics', '--to', '2026-02-30'], '--to: expected a day as YYYY-MM-DD, got "2026-02-30"'],
    ];
    for (const [args, message] of cases) {
      const failed = await klaxon(...args).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect(failed, args.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: `klaxon: ${message}\n` });
    }
    // A leap day is a day.
    const leap = await klaxon('metrics', '--period', '1', '--to', '2028-02-29', '--json');
    expect(JSON.parse(leap.stdout)).toMatchObject({ current: { from: '2028-02-29', to: '2028-02-29' } });
  });

  it('defaults --to to the previous day in the configured time zone, not in UTC', async () => {
    const reported = async (at: string, ...args: string[]) =>
      (
        JSON.parse((await klaxonAt(at, 'metrics', '--period', '1', '--json', ...args)).stdout) as {
          current: { from: string; to: string };
        }
      ).current;
    // 23:30 UTC on Nov 20 is 00:30 on Nov 21 in Berlin (klaxon.config.json): yesterday is Nov 20.
    expect(await reported('2026-11-20T23:30:00Z')).toMatchObject({ from: '2026-11-20', to: '2026-11-20' });
    // --config's zone: 05:00 UTC on Nov 20 is 21:00 on Nov 19 in Los Angeles, so yesterday is Nov 18.
    const config = JSON.parse(await readFile('klaxon.config.json', 'utf8')) as Record<string, unknown>;
    const losAngeles = join(dataDir, 'los-angeles.config.json');
    await writeFile(losAngeles, JSON.stringify({ ...config, timeZone: 'America/Los_Angeles' }));
    expect(await reported('2026-11-20T05:00:00Z', '--config', losAngeles)).toMatchObject({
      to: '2026-11-18',
    });
    // Without --config, KLAXON_CONFIG names the config, as it does for npm start.
    const fromEnv = await klaxonIn(
      { KLAXON_CONFIG: losAngeles },
      '2026-11-20T05:00:00Z',
      'metrics',
      '--period',
      '1',
      '--json',
    );
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ current: { to: '2026-11-18' } });
    const missing = await klaxonIn(
      { KLAXON_CONFIG: join(dataDir, 'none.json') },
      '2026-11-20T05:00:00Z',
      'metrics',
    ).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toContain(join(dataDir, 'none.json'));
    // An explicit --to needs no config.
    expect(
      await reported('2026-11-20T05:00:00Z', '--to', '2026-11-10', '--config', join(dataDir, 'none.json')),
    ).toMatchObject({ to: '2026-11-10' });
  });
});

describe('the contact check of the local runtime', () => {
  it('finds every contact reachable (the inbox reaches them all), and says so with a count of 0', async () => {
    const res = await fetch(`${runtime.url}/local/contacts/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runtime.apiToken}` },
    });
    expect(res.status).toBe(200);
    const contacts = runtime.config.responders.reduce((n, r) => n + r.contacts.length, 0);
    expect(await res.json()).toEqual({
      checkedAt: now.toISOString(),
      contacts,
      unreachable: 0,
      problems: [],
    });
  });
});
