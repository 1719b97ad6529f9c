import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { bearerAuth } from 'hono/bearer-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { LocalEventBus } from '#adapters/local/event-bus';
import { FolderExportSink } from '#adapters/local/folder-export-sink';
import { LocalEventPublisher } from '#adapters/local/metrics';
import { changeSeverity, mitigateIncident } from '#app/command';
import { processAlert } from '#app/process-alert';
import { type RollupDeps, rollupRow, runNightlyRollup, runRollup, runRollups } from '#app/rollup';
import { INCIDENT_COLUMNS, incidentExportRow, parseCsv, ROLLUP_COLUMNS } from '#core/exports';
import { daysBetween, type Rollup } from '#core/metrics';
import { createHttpApp } from '#http/app';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';

const MINUTE = 60_000;

const config = {
  timeZone: 'Europe/Berlin',
  services: [
    // Resolves are final at once here: these tests place resolutions at exact times.
    {
      id: 'checkout',
      name: 'Checkout API',
      slo: { availability: 99.9, owners: ['carol'] },
      resolveMonitoringMinutes: 0,
    },
    { id: 'platform', name: 'Platform', resolveMonitoringMinutes: 0 },
    // A resolve is confirmed after 3 quiet hours, and dated when it was asked for.
    { id: 'payments', name: 'Payments', resolveMonitoringMinutes: 180 },
  ],
  responders: [{ id: 'carol', name: 'Carol', contacts: [{ type: 'email', address: 'carol@example.com' }] }],
};

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let exportsDir: string;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  exportsDir = await mkdtemp(join(tmpdir(), 'klaxon-exports-'));
});
afterAll(async () => {
  await dynamo.close();
  await rm(exportsDir, { recursive: true, force: true });
});

interface Harness {
  p: Pipeline;
  deps: RollupDeps;
  events: LocalEventPublisher;
  published: Rollup[][];
  dir: string;
}

async function harness(start = '2026-11-26T08:00:00.000Z'): Promise<Harness> {
  const p = await startPipeline(dynamo, config, start);
  const dir = await mkdtemp(join(exportsDir, 'run-'));
  const events = new LocalEventPublisher(new LocalEventBus());
  const published: Rollup[][] = [];
  return {
    p,
    events,
    published,
    dir,
    deps: {
      ...p.deps,
      sink: new FolderExportSink(dir),
      events,
      metrics: { publish: async (rollups) => void published.push([...rollups]) },
    },
  };
}

/** Opens an incident at `at` (the alert started `startedMinutesBefore` earlier), optionally acks and resolves it. */
async function incident(
  h: Harness,
  key: string,
  at: string,
  options: {
    service?: string;
    severity?: 'critical' | 'error' | 'warning' | 'info';
    startedBefore?: number;
    /** The alert's own timestamp as sent (may carry an offset); overrides `startedBefore`. */
    occurredAt?: string;
    ackAfter?: number;
    resolveAfter?: number;
  } = {},
) {
  const service = options.service ?? 'checkout';
  const detected = Date.parse(at);
  h.p.clock.set(new Date(detected));
  const alert = {
    service,
    dedupKey: key,
    severity: options.severity ?? 'error',
    receivedAt: at,
    occurredAt:
      options.occurredAt ?? new Date(detected - (options.startedBefore ?? 2) * MINUTE).toISOString(),
  } as const;
  await processAlert(makeAlert(alert), h.p.deps);
  if (options.ackAfter !== undefined) {
    h.p.clock.set(new Date(detected + options.ackAfter * MINUTE));
    await processAlert(
      makeAlert({ ...alert, action: 'acknowledge', receivedAt: h.p.clock.now().toISOString() }),
      h.p.deps,
    );
  }
  if (options.resolveAfter !== undefined) {
    h.p.clock.set(new Date(detected + options.resolveAfter * MINUTE));
    await processAlert(
      makeAlert({ ...alert, action: 'resolve', receivedAt: h.p.clock.now().toISOString() }),
      h.p.deps,
    );
  }
}

describe('nightly rollup on dynalite', () => {
  it('reads exactly the incidents of the day through the day index', async () => {
    const h = await harness();
    // Nov 25 (Berlin): 3 incidents resolved that day.
    for (let i = 0; i < 3; i++)
      await incident(h, `d25-${i}`, `2026-11-25T1${i}:00:00.000Z`, { resolveAfter: 30 });
    // Nov 26: 4 resolved, 2 still open, 1 opened on the 25th and resolved on the 26th.
    for (let i = 0; i < 4; i++)
      await incident(h, `d26-${i}`, `2026-11-26T0${i + 1}:00:00.000Z`, { ackAfter: 3, resolveAfter: 45 });
    for (let i = 0; i < 2; i++)
      await incident(h, `d26-open-${i}`, `2026-11-26T1${i}:00:00.000Z`, { service: 'platform' });
    await incident(h, 'across-midnight', '2026-11-25T22:30:00.000Z', { resolveAfter: 120 }); // 23:30 → 01:30 Berlin
    // Nov 27: 2.
    for (let i = 0; i < 2; i++)
      await incident(h, `d27-${i}`, `2026-11-27T0${i + 1}:00:00.000Z`, { resolveAfter: 10 });

    const result = await runRollup('2026-11-26', h.deps);
    expect(result.incidents).toBe(7);
    expect(result.itemsRead).toBe(result.incidents);
    const overall = result.rollups.find((r) => r.service === '*' && r.severity === '*');
    expect(overall).toMatchObject({ incidents: 7, resolved: 5, stillOpen: 2, opened: 6 });
    expect((await runRollup('2026-11-25', h.deps)).incidents).toBe(3);
    expect((await runRollup('2026-11-27', h.deps)).incidents).toBe(2);
  });

  it('an incident belongs to its resolution day in the configured zone, not in UTC', async () => {
    const h = await harness();
    // Resolved at 23:30 UTC on the 26th = 00:30 on the 27th in Berlin.
    await incident(h, 'late', '2026-11-26T23:00:00.000Z', { resolveAfter: 30 });
    expect((await runRollup('2026-11-26', h.deps)).incidents).toBe(0);
    const next = await runRollup('2026-11-27', h.deps);
    expect(next.incidents).toBe(1);
  });

  it('running a day twice gives the same rollup and the same files', async () => {
    const h = await harness();
    await incident(h, 'a', '2026-11-26T09:00:00.000Z', {
      ackAfter: 4,
      resolveAfter: 50,
      severity: 'critical',
    });
    await incident(h, 'b', '2026-11-26T10:00:00.000Z', {
      ackAfter: 20,
      resolveAfter: 300,
      severity: 'error',
    });
    const first = await runRollup('2026-11-26', h.deps);
    const files = await Promise.all(first.files.map((f) => readFile(join(h.dir, f), 'utf8')));
    const second = await runRollup('2026-11-26', h.deps);
    expect(second.rollups).toEqual(first.rollups);
    expect(await Promise.all(second.files.map((f) => readFile(join(h.dir, f), 'utf8')))).toEqual(files);
    expect(await h.p.store.listRollups('2026-11-26', '2026-11-26')).toHaveLength(first.rollups.length);
  });

  it('writes exports that parse and match the rollup', async () => {
    const h = await harness();
    await incident(h, 'a', '2026-11-26T09:00:00.000Z', {
      ackAfter: 4,
      resolveAfter: 50,
      severity: 'critical',
    });
    await incident(h, 'b', '2026-11-26T10:00:00.000Z', { service: 'platform' });
    const result = await runRollup('2026-11-26', h.deps);
    expect(result.files).toEqual([
      'incidents/dt=2026-11-26/incidents.jsonl',
      'incidents_csv/dt=2026-11-26/incidents.csv',
      'rollups/dt=2026-11-26/rollups.jsonl',
      'rollups_csv/dt=2026-11-26/rollups.csv',
    ]);
    const read = (i: number) => readFile(join(h.dir, result.files[i] ?? ''), 'utf8');
    const rollupLines = (await read(2))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rollupLines).toEqual(result.rollups.map(rollupRow));
    const csv = parseCsv(await read(3));
    expect(csv[0]).toEqual(ROLLUP_COLUMNS.map((c) => c.name));
    expect(csv).toHaveLength(result.rollups.length + 1);
    const incidents = (await read(0))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const { incidents: stored } = await h.p.store.incidentsOfDay('2026-11-26');
    expect(incidents.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      stored.map(incidentExportRow).sort((x, y) => String(x.id).localeCompare(String(y.id))),
    );
    expect(parseCsv(await read(1))[0]).toEqual(INCIDENT_COLUMNS.map((c) => c.name));
  });

  it('leaves incidents marked "exclude from metrics" out', async () => {
    const h = await harness();
    await incident(h, 'real', '2026-11-26T09:00:00.000Z', { ackAfter: 4, resolveAfter: 50 });
    await incident(h, 'drill', '2026-11-26T10:00:00.000Z', { ackAfter: 40, resolveAfter: 500 });
    const drill = (await h.p.store.list({})).incidents.find((i) => i.dedupKey === 'drill');
    await h.p.store.setExcluded(drill?.id ?? '', true);
    const overall = (await runRollup('2026-11-26', h.deps)).rollups.find(
      (r) => r.service === '*' && r.severity === '*',
    );
    expect(overall).toMatchObject({ incidents: 1, excluded: 1 });
    expect(overall?.mtta.mean).toBe(240);
  });

  it('counts an incident lowered after its impact stopped under the severity it held then (downtime, targets); the export says both', async () => {
    const h = await harness();
    // SEV-1 from 08:58 (its alert's start) to 10:00; mitigated at 09:20, then lowered to SEV-3.
    await incident(h, 'lowered', '2026-11-26T09:00:00.000Z', { severity: 'critical', ackAfter: 3 });
    const [opened] = (await h.p.store.list({})).incidents;
    const id = opened?.id ?? '';
    h.p.clock.set(new Date('2026-11-26T09:20:00.000Z'));
    await mitigateIncident(id, { who: 'carol' }, h.p.deps);
    h.p.clock.set(new Date('2026-11-26T09:25:00.000Z'));
    await changeSeverity(
      id,
      { severity: 'SEV-3', reason: 'only the retry queue is left', who: 'carol' },
      h.p.deps,
    );
    h.p.clock.set(new Date('2026-11-26T10:00:00.000Z'));
    await processAlert(
      makeAlert({
        service: 'checkout',
        dedupKey: 'lowered',
        action: 'resolve',
        receivedAt: '2026-11-26T10:00:00.000Z',
      }),
      h.p.deps,
    );
    const { rollups } = await runRollup('2026-11-26', h.deps);
    const rows = rollups.filter((r) => r.service === 'checkout');
    expect(rows.map((r) => r.severity)).toEqual(['*', 'SEV-1']);
    expect(rows.find((r) => r.severity === 'SEV-1')).toMatchObject({ incidents: 1, downtimeMinutes: 62 });
    const exported = incidentExportRow((await h.p.store.get(id)) as never);
    expect(exported).toMatchObject({ severity: 'SEV-3', impact_severity: 'SEV-1' });
  });

  it('announces an exhausted error budget once: one event on the bus, the owners told once', async () => {
    const h = await harness();
    // 99.9% → 43.8 minutes a month. A 60-minute SEV-1 uses it up.
    await incident(h, 'outage', '2026-11-26T09:00:00.000Z', {
      severity: 'critical',
      startedBefore: 0,
      resolveAfter: 60,
    });
    h.p.takePages();
    const first = await runRollup('2026-11-26', h.deps);
    expect(first.budgets).toEqual([
      expect.objectContaining({
        service: 'checkout',
        month: '2026-11',
        usedMinutes: 60,
        exhausted: true,
        announced: true,
      }),
    ]);
    expect(h.events.published.map((e) => e.detailType)).toEqual(['Error Budget Exhausted']);
    expect(h.events.published[0]?.detail).toMatchObject({ service: 'checkout', usedMinutes: 60 });
    expect(h.p.takePages()).toEqual(['notice carol carol-0']);

    const again = await runRollup('2026-11-26', h.deps);
    expect(again.budgets[0]).toMatchObject({ exhausted: true, announced: false });
    await incident(h, 'another', '2026-11-27T09:00:00.000Z', { severity: 'critical', resolveAfter: 10 });
    await runRollup('2026-11-27', h.deps);
    expect(h.events.published).toHaveLength(1);
    expect(h.p.takePages()).toEqual([]);
  });

  it('a backfill of a month long over records its budget exhausted without announcing it', async () => {
    const h = await harness('2026-10-10T08:00:00.000Z');
    await incident(h, 'outage', '2026-10-10T09:00:00.000Z', {
      severity: 'critical',
      startedBefore: 0,
      resolveAfter: 60,
    });
    h.p.takePages();
    // December 5: October is re-run (say, after adding the SLO or excluding a drill).
    h.p.clock.set(new Date('2026-12-05T10:00:00.000Z'));
    const results = await runRollups(daysBetween('2026-10-01', '2026-10-31'), h.deps);
    expect(results.at(-1)?.budgets).toEqual([
      expect.objectContaining({ month: '2026-10', usedMinutes: 60, exhausted: true, announced: false }),
    ]);
    expect(h.events.published).toEqual([]);
    expect(h.p.takePages()).toEqual([]);
  });

  it('the night after a month ends, its last day still announces; two nights after, a re-run does not', async () => {
    const h = await harness('2026-11-30T08:00:00.000Z');
    await incident(h, 'outage', '2026-11-30T09:00:00.000Z', {
      severity: 'critical',
      startedBefore: 0,
      resolveAfter: 60,
    });
    h.p.takePages();
    // Dec 2, 01:30 Berlin: Nov 30 is not news any more.
    h.p.clock.set(new Date('2026-12-02T00:30:00.000Z'));
    expect((await runRollup('2026-11-30', h.deps)).budgets[0]).toMatchObject({
      exhausted: true,
      announced: false,
    });
    expect(h.events.published).toEqual([]);
    // The nightly run of Dec 1, 01:30 Berlin (00:30Z), rolls up Nov 30: the first time it is known.
    h.p.clock.set(new Date('2026-12-01T00:30:00.000Z'));
    const [nov30] = await runNightlyRollup('2026-11-30', h.deps);
    expect(nov30?.budgets[0]).toMatchObject({ month: '2026-11', exhausted: true, announced: true });
    expect(h.events.published.map((e) => e.detailType)).toEqual(['Error Budget Exhausted']);
    expect(h.p.takePages()).toEqual(['notice carol carol-0']);
  });

  it('publishes the custom metrics of each run', async () => {
    const h = await harness();
    await incident(h, 'a', '2026-11-26T09:00:00.000Z', { resolveAfter: 5 });
    await runRollup('2026-11-26', h.deps);
    expect(h.published).toHaveLength(1);
    expect(h.published[0]?.some((r) => r.service === 'checkout' && r.severity === '*')).toBe(true);
  });
});

describe('an open incident is on the day index under the day of the start it records', () => {
  const overall = (rollups: readonly Rollup[]) =>
    rollups.find((r) => r.service === '*' && r.severity === '*');
  async function send(
    h: Harness,
    at: string,
    alert: { dedupKey: string; action?: 'resolve'; occurredAt?: string },
  ) {
    h.p.clock.set(new Date(at));
    await processAlert(makeAlert({ service: 'checkout', receivedAt: at, ...alert }), h.p.deps);
  }

  it('the next incident of a still-firing alert (its old startsAt) belongs to the day it starts: the resolution', async () => {
    const h = await harness('2026-11-20T09:00:00.000Z');
    // Alertmanager re-sends a firing alert with its original startsAt (Nov 20). Resolved Nov 26
    // 09:00Z; its next repeat opens an incident that starts then, on Nov 26 — not on Nov 20.
    const firing = { dedupKey: 'fp-1', occurredAt: '2026-11-20T10:00:00.000Z' };
    await send(h, '2026-11-20T10:00:30.000Z', firing);
    await send(h, '2026-11-26T09:00:00.000Z', { dedupKey: 'fp-1', action: 'resolve' });
    await send(h, '2026-11-26T10:00:00.000Z', firing);
    const open = (await h.p.store.list({})).incidents.find((i) => i.status !== 'resolved');
    expect(open?.startedAt).toBe('2026-11-26T09:00:00.000Z');
    expect(overall((await runRollup('2026-11-26', h.deps)).rollups)).toMatchObject({
      incidents: 2,
      resolved: 1,
      stillOpen: 1,
    });
    expect(overall((await runRollup('2026-11-20', h.deps)).rollups)).toMatchObject({ incidents: 0 });
  });

  it('a late alert that moves the start to the previous day moves the open incident there', async () => {
    const h = await harness('2026-11-25T22:00:00.000Z');
    // 00:10 Berlin Nov 26; then another replica's alert, delivered late: the problem began at 23:50
    // Berlin on Nov 25.
    await send(h, '2026-11-25T23:10:00.000Z', { dedupKey: 'disk', occurredAt: '2026-11-25T23:09:00.000Z' });
    await send(h, '2026-11-25T23:12:00.000Z', { dedupKey: 'disk', occurredAt: '2026-11-25T22:50:00.000Z' });
    const [open] = (await h.p.store.list({})).incidents;
    expect(open?.startedAt).toBe('2026-11-25T22:50:00.000Z');
    expect(overall((await runRollup('2026-11-25', h.deps)).rollups)).toMatchObject({ stillOpen: 1 });
    expect(overall((await runRollup('2026-11-26', h.deps)).rollups)).toMatchObject({ incidents: 0 });
    // Resolved, it moves to its resolution day as any incident.
    await send(h, '2026-11-26T09:00:00.000Z', { dedupKey: 'disk', action: 'resolve' });
    expect(overall((await runRollup('2026-11-25', h.deps)).rollups)).toMatchObject({ incidents: 0 });
    expect(overall((await runRollup('2026-11-26', h.deps)).rollups)).toMatchObject({ resolved: 1 });
  });

  it('a resolve between a late alert’s count and its start’s move leaves the incident on its resolution day', async () => {
    const h = await harness('2026-11-25T22:00:00.000Z');
    await send(h, '2026-11-25T23:10:00.000Z', { dedupKey: 'disk', occurredAt: '2026-11-25T23:09:00.000Z' });
    // A store whose write moving the start waits for a resolve (00:12 Berlin, Nov 26) to land first.
    const client = documentClient(
      new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    let raced = false;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { UpdateExpression?: string };
        if (!raced && input.UpdateExpression?.startsWith('SET startedAt = :at')) {
          raced = true;
          await send(h, '2026-11-25T23:12:00.000Z', { dedupKey: 'disk', action: 'resolve' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'resolveFirst' },
    );
    const racing = new DynamoDbIncidentStore({ tableName: h.p.store.tableName, client });
    h.p.clock.set(new Date('2026-11-25T23:12:00.000Z'));
    const late = makeAlert({
      service: 'checkout',
      dedupKey: 'disk',
      receivedAt: '2026-11-25T23:11:00.000Z',
      occurredAt: '2026-11-25T22:50:00.000Z',
    });
    await processAlert(late, { ...h.p.deps, store: racing });
    expect(raced).toBe(true);
    const [resolved] = (await h.p.store.list({})).incidents;
    // The problem began at 23:50 Berlin on Nov 25 all the same (MTTR), but it is resolved: Nov 26.
    expect(resolved).toMatchObject({ status: 'resolved', startedAt: '2026-11-25T22:50:00.000Z' });
    expect(overall((await runRollup('2026-11-26', h.deps)).rollups)).toMatchObject({ resolved: 1 });
    expect(overall((await runRollup('2026-11-25', h.deps)).rollups)).toMatchObject({ incidents: 0 });
  });
});

describe('MTBF across the day boundary', () => {
  it('measures from the latest earlier resolution, even of an incident detected before another', async () => {
    const h = await harness();
    // Nov 25: a long incident (detected 08:00, resolved 20:00) and a short one (10:00 → 10:30).
    await incident(h, 'long', '2026-11-25T08:00:00.000Z', { startedBefore: 0, resolveAfter: 12 * 60 });
    await incident(h, 'short', '2026-11-25T10:00:00.000Z', { startedBefore: 0, resolveAfter: 30 });
    // Nov 26: the next incident starts at 08:00 UTC, 12 hours after the long one was resolved.
    await incident(h, 'next', '2026-11-26T08:00:00.000Z', { startedBefore: 0, resolveAfter: 10 });
    const service = (await runRollup('2026-11-26', h.deps)).rollups.find(
      (r) => r.service === 'checkout' && r.severity === '*',
    );
    expect(service?.mtbf.mean).toBe(12 * 3600);
  });
});

describe('the nightly run re-rolls recent days that changed since they were rolled up', () => {
  const overall = (rollups: readonly Rollup[]) =>
    rollups.find((r) => r.service === '*' && r.severity === '*');
  async function askResolve(h: Harness, key: string, at: string) {
    h.p.clock.set(new Date(at));
    await processAlert(
      makeAlert({ service: 'payments', dedupKey: key, action: 'resolve', receivedAt: at }),
      h.p.deps,
    );
  }
  /** Runs the nightly rollup for `day` at `at` (01:30 Berlin the next day), timers firing on the way. */
  async function nightly(h: Harness, day: string, at: string) {
    await h.p.fastForward(Date.parse(at) - h.p.clock.now().getTime());
    return runNightlyRollup(day, h.deps);
  }

  it('a resolve confirmed by its monitoring period after the day’s run is counted on that day', async () => {
    const h = await harness();
    // Opened Nov 20 10:00Z; resolve asked 22:30Z (23:30 Berlin); the 180-minute period ends Nov 21
    // 01:30Z (02:30 Berlin) — after the 01:30 Berlin run for Nov 20.
    await incident(h, 'late', '2026-11-20T10:00:00.000Z', { service: 'payments', startedBefore: 0 });
    await askResolve(h, 'late', '2026-11-20T22:30:00.000Z');
    const first = await nightly(h, '2026-11-20', '2026-11-21T00:30:00.000Z');
    expect(first.map((r) => r.day)).toEqual(['2026-11-20']);
    expect(overall(first[0]?.rollups ?? [])).toMatchObject({ incidents: 1, stillOpen: 1, resolved: 0 });

    await h.p.fastForward(Date.parse('2026-11-21T02:00:00.000Z') - h.p.clock.now().getTime());
    const [stored] = (await h.p.store.incidentsOfDay('2026-11-20')).incidents;
    // Resolved when the resolve was asked for: filed under Nov 20, not counted on Nov 21.
    expect(stored).toMatchObject({ status: 'resolved', resolvedAt: '2026-11-20T22:30:00.000Z' });

    const second = await nightly(h, '2026-11-21', '2026-11-22T00:30:00.000Z');
    expect(second.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-21']);
    expect(overall(second[1]?.rollups ?? [])).toMatchObject({ incidents: 0 });
    const nov20 = overall(second[0]?.rollups ?? []);
    expect(nov20).toMatchObject({ incidents: 1, stillOpen: 0, resolved: 1 });
    expect(nov20?.samples.mttr).toEqual([12.5 * 3600]);
    // Stored, and the exports of Nov 20 rewritten.
    expect(overall(await h.p.store.listRollups('2026-11-20', '2026-11-20'))).toEqual(nov20);
    const rows = (await readFile(join(h.dir, 'incidents/dt=2026-11-20/incidents.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual([
      expect.objectContaining({ resolved_at: '2026-11-20T22:30:00.000Z', mttr_seconds: 45000 }),
    ]);
    const rollupRows = (await readFile(join(h.dir, 'rollups/dt=2026-11-20/rollups.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rollupRows).toEqual(second[0]?.rollups.map(rollupRow));
    // The custom metrics: once per night, for the day rolled up (a re-rolled day is not published twice).
    expect(h.published.map((rollups) => rollups[0]?.day)).toEqual(['2026-11-20', '2026-11-21']);

    // Run again: nothing changed, nothing re-rolled.
    expect((await runNightlyRollup('2026-11-21', h.deps)).map((r) => r.day)).toEqual(['2026-11-21']);
  });

  it('also when the incident started on an earlier day and its resolution day had nothing open', async () => {
    const h = await harness();
    await incident(h, 'old', '2026-11-18T10:00:00.000Z', { service: 'payments', startedBefore: 0 });
    await nightly(h, '2026-11-18', '2026-11-19T00:30:00.000Z');
    await nightly(h, '2026-11-19', '2026-11-20T00:30:00.000Z');
    await askResolve(h, 'old', '2026-11-20T22:30:00.000Z');
    const nov20 = await nightly(h, '2026-11-20', '2026-11-21T00:30:00.000Z');
    expect(overall(nov20.at(-1)?.rollups ?? [])).toMatchObject({ incidents: 0, stillOpen: 0 });

    const nov21 = await nightly(h, '2026-11-21', '2026-11-22T00:30:00.000Z');
    // Nov 19 was rolled up and has not changed; Nov 20 now holds the resolution.
    expect(nov21.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-21']);
    expect(overall(nov21[0]?.rollups ?? [])).toMatchObject({ incidents: 1, resolved: 1, stillOpen: 0 });
  });

  /** An incident on each of Nov 19 and 20, and Nov 19's night run (Nov 20's has not run). */
  async function nov19RolledUpNov20Not() {
    const h = await harness();
    for (const [key, at] of [
      ['x', '2026-11-19T10:00:00.000Z'],
      ['y', '2026-11-20T10:00:00.000Z'],
    ] as const)
      await incident(h, key, at, { service: 'platform', startedBefore: 0, resolveAfter: 5 });
    await nightly(h, '2026-11-19', '2026-11-20T00:30:00.000Z');
    return h;
  }

  it('a missed night (Scheduler skips 01:30 when the clocks jump over it) is rolled up by the next one, its metrics published once', async () => {
    const h = await nov19RolledUpNov20Not();
    // The night of Nov 21 never ran: Nov 20 was not rolled up.
    const nov21 = await nightly(h, '2026-11-21', '2026-11-22T00:30:00.000Z');
    expect(nov21.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-21']);
    expect(overall(nov21[0]?.rollups ?? [])).toMatchObject({ incidents: 1, resolved: 1 });
    expect(h.published.map((rollups) => rollups[0]?.day)).toEqual(['2026-11-19', '2026-11-20', '2026-11-21']);
    // The next night finds it rolled up and unchanged: nothing again, nothing published twice.
    expect((await nightly(h, '2026-11-22', '2026-11-23T00:30:00.000Z')).map((r) => r.day)).toEqual([
      '2026-11-22',
    ]);
    expect(h.published.map((rollups) => rollups[0]?.day)).toEqual([
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
    ]);
  });

  it('a night whose retries ran out at the export stores nothing: the next one rolls the day up, exports and publishes it once', async () => {
    const h = await nov19RolledUpNov20Not();
    const down = {
      ...h.deps,
      sink: {
        put: async () => {
          throw new Error('S3 unavailable');
        },
      },
    };
    await h.p.fastForward(Date.parse('2026-11-21T00:30:00.000Z') - h.p.clock.now().getTime());
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(runNightlyRollup('2026-11-20', down)).rejects.toThrow('S3 unavailable');
    expect(await h.p.store.listRollups('2026-11-20', '2026-11-20')).toEqual([]);
    const nov21 = await nightly(h, '2026-11-21', '2026-11-22T00:30:00.000Z');
    expect(nov21.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-21']);
    expect(await readFile(join(h.dir, 'incidents/dt=2026-11-20/incidents.jsonl'), 'utf8')).toContain(
      '"service":"platform"',
    );
    expect(h.published.map((rollups) => rollups[0]?.day)).toEqual(['2026-11-19', '2026-11-20', '2026-11-21']);
  });

  it('a day never rolled up, with none rolled up before it (a new deployment), is not started by the look-back', async () => {
    const h = await harness();
    await incident(h, 'x', '2026-11-20T10:00:00.000Z', {
      service: 'platform',
      startedBefore: 0,
      resolveAfter: 5,
    });
    expect((await runNightlyRollup('2026-11-21', h.deps)).map((r) => r.day)).toEqual(['2026-11-21']);
    expect(await h.p.store.listRollups('2026-11-20', '2026-11-20')).toEqual([]);
  });
});

describe('MTBF: no gap while an incident of an earlier day is still failing', () => {
  async function resolve(h: Harness, key: string, at: string) {
    h.p.clock.set(new Date(at));
    await processAlert(
      makeAlert({ service: 'checkout', dedupKey: key, action: 'resolve', receivedAt: at }),
      h.p.deps,
    );
  }
  const checkoutMtbf = async (h: Harness, day: string) =>
    (await runRollup(day, h.deps)).rollups.find((r) => r.service === 'checkout' && r.severity === '*')
      ?.samples.mtbf;

  it('C Nov 23 10:00–10:30; A from Nov 24 10:00 to Nov 26; B Nov 25 09:00–09:30: B has no gap', async () => {
    const h = await harness();
    await incident(h, 'C', '2026-11-23T10:00:00.000Z', { startedBefore: 0, resolveAfter: 30 });
    await incident(h, 'A', '2026-11-24T10:00:00.000Z', { startedBefore: 0 });
    await incident(h, 'B', '2026-11-25T09:00:00.000Z', { startedBefore: 0, resolveAfter: 30 });
    // A still open when Nov 25 is rolled up (it is on Nov 24's index: not one of Nov 25's incidents).
    expect(await checkoutMtbf(h, '2026-11-25')).toEqual([]);
    // A resolved on Nov 26; Nov 25 re-run: A overlapped B all the same (was 46.5 h from C).
    await resolve(h, 'A', '2026-11-26T12:00:00.000Z');
    expect(await checkoutMtbf(h, '2026-11-25')).toEqual([]);
    // A's own gap, on its resolution day: from C's resolution, 23.5 h.
    expect(await checkoutMtbf(h, '2026-11-26')).toEqual([23.5 * 3600]);
  });

  it('an earlier incident resolved before the start still gives the gap', async () => {
    const h = await harness();
    await incident(h, 'A', '2026-11-24T10:00:00.000Z', { startedBefore: 0, resolveAfter: 60 });
    await incident(h, 'B', '2026-11-25T09:00:00.000Z', { startedBefore: 0, resolveAfter: 30 });
    expect(await checkoutMtbf(h, '2026-11-25')).toEqual([22 * 3600]);
  });
});

describe('MTBF compares instants, not text', () => {
  it('a start written with an offset sorts by its instant (10:00+02:00 is 08:00Z, before 09:00Z)', async () => {
    const h = await harness();
    const asked: string[] = [];
    const store = h.deps.store;
    const spy = overriding(store, {
      previousResolution: (service, before) => {
        asked.push(before);
        return store.previousResolution(service, before);
      },
    });
    // The previous incident: resolved Nov 24 12:00Z.
    await incident(h, 'previous', '2026-11-24T11:00:00.000Z', { startedBefore: 0, resolveAfter: 60 });
    // n1 started 2026-11-25T10:00:00+02:00 = 08:00Z, resolved 08:30Z; n2 09:00Z–09:10Z.
    await incident(h, 'n1', '2026-11-25T08:00:00.000Z', {
      occurredAt: '2026-11-25T10:00:00+02:00',
      resolveAfter: 30,
    });
    await incident(h, 'n2', '2026-11-25T09:00:00.000Z', { startedBefore: 0, resolveAfter: 10 });
    // The store writes starts in UTC now; an item written before kept the offset as sent — the case
    // under test, put back by hand.
    const n1 = (await h.p.store.incidentsOfDay('2026-11-25')).incidents.find((i) => i.dedupKey === 'n1');
    if (n1 === undefined) throw new Error('no n1');
    await documentClient(dynamo.client).send(
      new UpdateCommand({
        TableName: h.p.store.tableName,
        Key: { pk: `INC#${n1.id}`, sk: 'INC' },
        UpdateExpression: 'SET startedAt = :raw',
        ExpressionAttributeValues: { ':raw': '2026-11-25T10:00:00+02:00' },
      }),
    );
    const stored = (await h.p.store.incidentsOfDay('2026-11-25')).incidents.find((i) => i.dedupKey === 'n1');
    expect(stored?.startedAt).toBe('2026-11-25T10:00:00+02:00');

    const result = await runRollup('2026-11-25', { ...h.deps, store: spy });
    const mtbf = result.rollups.find((r) => r.service === 'checkout' && r.severity === '*')?.samples.mtbf;
    // n1: Nov 24 12:00Z → Nov 25 08:00Z = 20 h; n2: 08:30Z → 09:00Z = 30 min.
    expect(mtbf).toHaveLength(2);
    expect(new Set(mtbf)).toEqual(new Set([72000, 1800]));
    // The previous resolution is asked for before the earliest start by instant: n1's.
    expect(asked.map((a) => Date.parse(a))).toEqual([Date.parse('2026-11-25T08:00:00.000Z')]);
  });

  it('previousResolution takes a bound with an offset as its instant', async () => {
    const h = await harness();
    await incident(h, 'a', '2026-11-25T08:00:00.000Z', { startedBefore: 0, resolveAfter: 30 }); // → 08:30Z
    // 10:45+02:00 = 08:45Z: after the resolution. 10:15+02:00 = 08:15Z: before it.
    expect((await h.p.store.previousResolution('checkout', '2026-11-25T10:45:00+02:00')).resolvedAt).toBe(
      '2026-11-25T08:30:00.000Z',
    );
    expect(
      (await h.p.store.previousResolution('checkout', '2026-11-25T10:15:00+02:00')).resolvedAt,
    ).toBeUndefined();
  });
});

describe('rollup rows of any size', () => {
  it('stores and reads back a day with 60,000 samples exactly (chunked below the 400 KB item limit)', async () => {
    const h = await harness();
    const samples = Array.from({ length: 60_000 }, (_, i) => i * 1.5);
    const stat = { count: samples.length, mean: 44999.25, p50: 44999.25, p90: 80998.65 };
    const rollup: Rollup = {
      day: '2026-11-20',
      service: 'checkout',
      severity: '*',
      incidents: 60_000,
      opened: 60_000,
      resolved: 60_000,
      stillOpen: 0,
      excluded: 0,
      clamped: 0,
      mttd: stat,
      mtta: stat,
      mttr: stat,
      mtbf: { count: 0, mean: null, p50: null, p90: null },
      breaches: { mttd: 0, mtta: 0, mttr: 0 },
      escalations: 0,
      pagesSent: 0,
      downtimeMinutes: 0,
      samples: { mttd: samples, mtta: samples, mttr: samples, mtbf: [] },
    };
    await h.p.store.putRollups('2026-11-20', [rollup]);
    expect(await h.p.store.listRollups('2026-11-20', '2026-11-20')).toEqual([rollup]);
    // A re-run with a small day removes the old chunks.
    const small = { ...rollup, incidents: 1, samples: { mttd: [1], mtta: [1], mttr: [1], mtbf: [] } };
    await h.p.store.putRollups('2026-11-20', [small]);
    expect(await h.p.store.listRollups('2026-11-20', '2026-11-20')).toEqual([small]);
  });
});

describe('GET /api/rollups: whole days while they fit one answer, then `next`', () => {
  async function api(h: Harness, bytes: number) {
    const app = createHttpApp({
      ...h.p.deps,
      bus: new LocalEventBus(),
      apiAuth: bearerAuth({ token: 'rollups-token-0123' }),
      rollupsResponseBytes: bytes,
    });
    return async (from: string, to: string) => {
      const res = await app.request(`/api/rollups?from=${from}&to=${to}`, {
        headers: { authorization: 'Bearer rollups-token-0123' },
      });
      return {
        status: res.status,
        body: (await res.json()) as { rollups: Rollup[]; next?: string; errors?: unknown },
      };
    };
  }

  it('follows `next` to the same rows as one unbounded answer; a day alone too large is refused naming from', async () => {
    const h = await harness();
    for (const [key, at] of [
      ['a', '2026-11-18T10:00:00.000Z'],
      ['b', '2026-11-19T10:00:00.000Z'],
      ['c', '2026-11-20T10:00:00.000Z'],
    ] as const)
      await incident(h, key, at, { service: 'platform', startedBefore: 0, resolveAfter: 5 });
    await runRollups(['2026-11-18', '2026-11-19', '2026-11-20'], h.deps);
    const whole = await (await api(h, 10_000_000))('2026-11-18', '2026-11-20');
    expect(whole.status).toBe(200);
    expect(whole.body.next).toBeUndefined();
    const dayBytes = (day: string) =>
      whole.body.rollups.filter((r) => r.day === day).reduce((n, r) => n + JSON.stringify(r).length + 1, 0);
    // Room for a day and a half: one day an answer.
    const get = await api(
      h,
      Math.ceil(1.5 * Math.max(...['2026-11-18', '2026-11-19', '2026-11-20'].map(dayBytes))),
    );
    const pages: { rollups: Rollup[]; next?: string }[] = [];
    for (let from: string | undefined = '2026-11-18'; from !== undefined; ) {
      const page = await get(from, '2026-11-20');
      expect(page.status).toBe(200);
      pages.push(page.body);
      from = page.body.next;
    }
    expect(pages.map((p) => [[...new Set(p.rollups.map((r) => r.day))], p.next])).toEqual([
      [['2026-11-18'], '2026-11-19'],
      [['2026-11-19'], '2026-11-20'],
      [['2026-11-20'], undefined],
    ]);
    expect(pages.flatMap((p) => p.rollups)).toEqual(whole.body.rollups);
    // A range over several weeks (read a week at a time) answers the same rows, in day order.
    const wide = await (await api(h, 10_000_000))('2026-10-30', '2026-12-03');
    expect(wide.body.rollups).toEqual(whole.body.rollups);
    const tooSmall = await (await api(h, 10))('2026-11-18', '2026-11-20');
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.errors).toEqual([
      expect.objectContaining({
        field: 'from',
        message: expect.stringMatching(/^the rollups of 2026-11-18 alone are \d+ bytes/),
      }),
    ]);
  });
});
