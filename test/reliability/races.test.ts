import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalationDeps } from '#app/escalation';
import type { Pager } from '#app/ports';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import type { AlertInput } from '#core/alert';
import { RetryableError } from '#core/errors';
import type { Incident, TimelineEntry } from '#core/incident';
import type { Page } from '#core/page';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { PAGER_METHODS, STORE_METHODS, TIMERS_METHODS } from '../support/faults.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { explore, type ScheduleRun, StepScheduler } from './step-scheduler.ts';
import { MINUTE, reliabilityConfig, START, type TestDynamo } from './support.ts';

/**
 * Races, made deterministic: two flows share the real store (dynalite), timers and pager, but
 * each port call waits at a gate, and a step scheduler lets the calls through one at a time in a
 * chosen order. Every order of the two flows' port calls is enumerated (each exactly once), so
 * "the acknowledgement commits between the timer's read and its claim" is a schedule that runs,
 * not a timing one hopes for.
 */

/**
 * Ack versus timer: 7 + 9 port calls, 545 interleavings in all (about 15 s). By default the 114
 * schedules with at most 3 preemptions run — every order of the critical writes is among them,
 * and each bug below shows in dozens. Ack versus resolve (up to 19 calls, tens of thousands of
 * interleavings): the 19 schedules with at most one preemption — one flow interrupted at each of
 * its port calls by the whole of the other. KLAXON_EXHAUSTIVE_RACES=1 runs all 545, and the 250
 * ack/resolve schedules with at most 3 preemptions.
 */
const EXHAUSTIVE = process.env.KLAXON_EXHAUSTIVE_RACES === '1';

/** Runs are this far apart: every throttle window (3 h at most) of the previous run has passed. */
const APART = 4 * 60 * MINUTE;

/** Level 1 pages alice directly (not the weekly schedule), so every run, whatever its day, is alike. */
const config = (service: Record<string, unknown> = {}) =>
  reliabilityConfig(service, {
    escalationPolicies: [
      {
        id: 'checkout',
        levels: [
          { delayMinutes: 5, targets: [{ responder: 'alice' }] },
          { delayMinutes: 10, targets: [{ responder: 'carol' }] },
        ],
        repeat: 1,
      },
    ],
  });

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

interface SentPage {
  readonly flow: string;
  readonly kind: Page['kind'];
  readonly to: string;
}

/** What one schedule did. */
interface RaceRun extends ScheduleRun {
  readonly schedule: string;
  readonly incident: Incident;
  readonly timeline: TimelineEntry[];
  readonly pending: string[];
  /** Pages in the order they were sent, each with the trace index of its pager.send. */
  readonly pages: (SentPage & { at: number })[];
  readonly index: (flow: string, call: string) => number;
}

/**
 * Runs `flows` (built on gated deps) against a fresh incident of `pipeline`, on its own day so
 * throttles and timers of earlier runs stay out of the way; `setup` opens it.
 */
function racer(
  pipeline: () => Pipeline,
  setup: (p: Pipeline, key: string) => Promise<Incident>,
  flows: (
    deps: (flow: string) => EscalationDeps,
    incident: Incident,
    key: string,
  ) => Record<string, () => Promise<unknown>>,
) {
  let n = 0;
  return async (choose: (enabled: readonly string[], step: number) => string): Promise<RaceRun> => {
    const p = pipeline();
    const key = `race-${++n}`;
    p.clock.set(new Date(Date.parse(START) + n * APART));
    const incident = await setup(p, key);
    p.takePages();
    const scheduler = new StepScheduler();
    const sent: SentPage[] = [];
    const deps = (flow: string): EscalationDeps => {
      const pager: Pager = {
        send: async (page) => {
          sent.push({ flow, kind: page.kind, to: page.contact.key });
          await p.pager.send(page);
        },
      };
      return {
        ...p.deps,
        store: scheduler.gate(flow, 'store', p.store, STORE_METHODS),
        timers: scheduler.gate(flow, 'timers', p.timers, TIMERS_METHODS),
        pager: scheduler.gate(flow, 'pager', pager, PAGER_METHODS),
      };
    };
    const run = await scheduler.run(flows(deps, incident, key), choose);
    const sends = run.trace.flatMap((step, at) => (step.call === 'pager.send' ? [at] : []));
    const index = (flow: string, call: string) =>
      run.trace.findIndex((step) => step.flow === flow && step.call === call);
    const all = (await p.timers.pending()).map((t) => t.name).filter((name) => name.includes(incident.id));
    // A resolved SEV-1's postmortem reminders are meant to stay; every other timer is a leftover.
    const pending = all.filter((name) => !name.startsWith('pm-'));
    // Clear them away: the next run's timer queries stay as short as the first's.
    for (const name of all) await p.timers.cancel(name);
    return {
      ...run,
      schedule: run.trace.map((s) => `${s.flow}:${s.call}`).join(' '),
      incident: (await p.store.get(incident.id)) as Incident,
      timeline: await p.store.timeline(incident.id),
      pending,
      pages: sent.map((page, i) => ({ ...page, at: sends[i] ?? -1 })),
      index,
    };
  };
}

const outcome = (run: ScheduleRun, flow: string) => {
  const result = run.results[flow];
  if (result === undefined || !result.ok) throw new Error(`${flow} failed: ${String(result?.error)}`);
  return result.value;
};

describe('acknowledge versus the escalation timer, in every order of their port calls', () => {
  let runs: RaceRun[] = [];
  beforeAll(async () => {
    const p = await startPipeline(dynamo, config(), START);
    const race = racer(
      () => p,
      async (pipeline, key) => {
        const opened = await processAlert(
          makeAlert({ dedupKey: key, severity: 'warning', receivedAt: pipeline.clock.now().toISOString() }),
          pipeline.deps,
        );
        if (opened.kind !== 'opened') throw new Error('expected a new incident');
        // Five minutes on: the level-2 timer is due, and alice (paged at level 1) acknowledges.
        pipeline.clock.set(new Date(pipeline.clock.now().getTime() + 5 * MINUTE));
        return opened.incident;
      },
      (deps, incident, key) => ({
        ack: () =>
          processAlert(
            makeAlert({
              action: 'acknowledge',
              dedupKey: key,
              client: 'alice',
              receivedAt: p.clock.now().toISOString(),
            }),
            deps('ack'),
          ),
        timer: () =>
          handleTimerEvent(
            { kind: 'escalate', incidentId: incident.id, generation: 1, step: 1 },
            deps('timer'),
          ),
      }),
    );
    runs = await explore(race, EXHAUSTIVE ? Number.POSITIVE_INFINITY : 3);
  }, 300_000);

  it('enumerates the interleavings, both orders of the critical writes among them', () => {
    const claims = runs.map((r) => ({
      claim: r.index('timer', 'store.claimStep'),
      ack: r.index('ack', 'store.acknowledge'),
    }));
    // The count follows the flows' port calls; what matters is that both orders are covered.
    expect(runs.length).toBeGreaterThan(100);
    expect(new Set(runs.map((r) => r.schedule)).size).toBe(runs.length);
    expect(claims.some((c) => c.claim >= 0 && c.claim < c.ack)).toBe(true);
    expect(claims.some((c) => c.claim > c.ack)).toBe(true);
    expect(claims.some((c) => c.claim < 0)).toBe(true); // the timer read the acknowledged incident
  });

  it('the acknowledgement always commits and the incident ends acknowledged', () => {
    for (const run of runs) {
      expect({ schedule: run.schedule, ack: (outcome(run, 'ack') as { kind: string }).kind }).toEqual({
        schedule: run.schedule,
        ack: 'acknowledged',
      });
      expect(run.incident.status).toBe('acknowledged');
      expect(run.timeline.filter((e) => e.type === 'ACKNOWLEDGED')).toHaveLength(1);
    }
  });

  it('if the acknowledgement commits before the claim, the timer pages nobody', () => {
    const ackFirst = runs.filter((r) => {
      const claim = r.index('timer', 'store.claimStep');
      return claim < 0 || r.index('ack', 'store.acknowledge') < claim;
    });
    expect(ackFirst.length).toBeGreaterThan(0);
    for (const run of ackFirst) {
      expect({
        schedule: run.schedule,
        timer: outcome(run, 'timer'),
        pages: run.pages.filter((page) => page.flow === 'timer'),
        step: run.incident.step,
      }).toEqual({ schedule: run.schedule, timer: 'stale', pages: [], step: 0 });
    }
  });

  it('exactly one of them wins step 1: escalated and carol paged once, or not escalated and nobody paged', () => {
    for (const run of runs) {
      const won = outcome(run, 'timer') === 'done';
      const escalated = run.timeline.filter((e) => e.type === 'ESCALATED');
      expect({
        schedule: run.schedule,
        step: run.incident.step,
        escalated: escalated.length,
        timerPages: run.pages
          .filter((page) => page.flow === 'timer' && page.kind === 'page')
          .map((page) => `${page.kind} ${page.to}`),
      }).toEqual({
        schedule: run.schedule,
        step: won ? 1 : 0,
        escalated: won ? 1 : 0,
        timerPages: won ? ['page carol-0'] : [],
      });
      if (won)
        expect(run.index('timer', 'store.claimStep')).toBeLessThan(run.index('ack', 'store.acknowledge'));
    }
  });

  it('after the acknowledgement commits, only notices go out — and the pages of a step claimed before it', () => {
    // ARCHITECTURE.md: "A step claimed a moment before the acknowledgement may still deliver its
    // pages a moment after it". Anything else paged after the commit would be a bug.
    for (const run of runs) {
      const ack = run.index('ack', 'store.acknowledge');
      const claim = run.index('timer', 'store.claimStep');
      const late = run.pages.filter((page) => page.at > ack && page.kind !== 'notice');
      const allowed = claim >= 0 && claim < ack ? late.filter((page) => page.to !== 'carol-0') : late;
      expect({ schedule: run.schedule, late: allowed }).toEqual({ schedule: run.schedule, late: [] });
    }
  });

  // Regression test: a step claimed just before the acknowledgement scheduled the next step's timer after
  // the acknowledgement had cancelled it (fixed: the step re-reads the incident and cancels it).
  it('no esc- timer stays pending once both are done, in any order', () => {
    // esc-<id>-1-1 is the timer that fired: Scheduler deletes it once the invocation completes.
    const leftovers = runs
      .map((r) => ({
        schedule: r.schedule,
        pending: r.pending.filter((name) => name.startsWith('esc-') && name !== `esc-${r.incident.id}-1-1`),
      }))
      .filter((r) => r.pending.length > 0);
    expect(leftovers).toEqual([]);
  });

  // Regression test: with the step claimed just before the acknowledgement, carol got the level-2 page
  // and was never told of the acknowledgement (fixed: the step tells whom it paged).
  it('every responder paged for the incident is told of the acknowledgement', () => {
    const untold = runs.filter((r) => {
      const paged = new Set(r.pages.filter((page) => page.kind === 'page').map((page) => page.to));
      const told = new Set(r.pages.filter((page) => page.kind === 'notice').map((page) => page.to));
      return [...paged].some((to) => !to.startsWith('alice') && !told.has(to));
    });
    expect(untold.map((r) => r.schedule)).toEqual([]);
  });
});

describe('64 concurrent triggers with escalation', () => {
  const open = (p: Pipeline, overrides: Partial<AlertInput> = {}) =>
    makeAlert({ severity: 'warning', receivedAt: p.clock.now().toISOString(), ...overrides });

  it('64 distinct duplicate events: one incident counting 64, level 1 paged once, one timer', async () => {
    const p = await startPipeline(dynamo, config(), START);
    const outcomes = await Promise.all(Array.from({ length: 64 }, () => processAlert(open(p), p.deps)));
    expect(outcomes.filter((o) => o.kind === 'opened')).toHaveLength(1);
    const { incidents } = await p.store.list({});
    expect(incidents.map((i) => i.alertCount)).toEqual([64]);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect((await p.store.timeline(incidents[0]?.id ?? '')).map((e) => e.type)).toEqual(['OPENED']);
    expect((await p.timers.pending()).map((t) => t.name)).toEqual([`esc-${incidents[0]?.id}-1-1`]);
    await p.fastForward(5 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
  });

  it('64 concurrent deliveries of one event: one incident counting 1, level 1 paged once', async () => {
    const p = await startPipeline(dynamo, config(), START);
    const alert = open(p);
    const settled = await Promise.allSettled(Array.from({ length: 64 }, () => processAlert(alert, p.deps)));
    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // Deliveries that found the opening effects leased to another are refused as retryable.
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    for (const reason of refused) expect(reason).toBeInstanceOf(RetryableError);
    expect(outcomes.filter((o) => o.kind === 'opened')).toHaveLength(1);
    // Their redeliveries, later, are replays.
    for (const _ of refused) expect((await processAlert(alert, p.deps)).kind).toBe('replayed');
    expect((await p.store.list({})).incidents.map((i) => i.alertCount)).toEqual([1]);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  // Regression test (at-least-once made visible): two overlapping deliveries of the SAME event
  // both ran the opening effects when the second checked the completion mark (OPENED) before the
  // first had written it, and level 1 was paged twice. The delivery that creates the incident now
  // holds a lease on its opening effects (set in the same upsert: no extra write); another
  // delivery must take it first, and finding it held is refused as retryable — the bus delivers
  // it again later, when it finds OPENED. In every order: level 1 paged once, and a refused
  // delivery, delivered again, pages nobody.
  it('two deliveries of one event, in every order with at most one preemption: level 1 paged once', async () => {
    const p = await startPipeline(dynamo, config(), START);
    let n = 0;
    const runs = await explore(async (choose) => {
      p.clock.set(new Date(Date.parse(START) + ++n * APART));
      const alert = open(p, { dedupKey: `same-${n}` });
      const scheduler = new StepScheduler();
      const deps = (flow: string): EscalationDeps => ({
        ...p.deps,
        store: scheduler.gate(flow, 'store', p.store, STORE_METHODS),
        timers: scheduler.gate(flow, 'timers', p.timers, TIMERS_METHODS),
        pager: scheduler.gate(flow, 'pager', p.pager, PAGER_METHODS),
      });
      const run = await scheduler.run(
        {
          first: () => processAlert(alert, deps('first')),
          second: () => processAlert(alert, deps('second')),
        },
        choose,
      );
      // A delivery refused because the other held the lease is delivered again, afterwards.
      for (const result of Object.values(run.results)) {
        if (result.ok) continue;
        expect(result.error).toBeInstanceOf(RetryableError);
        expect((await processAlert(alert, p.deps)).kind).toBe('replayed');
      }
      return { ...run, pages: p.takePages() };
    }, 1);
    const twice = runs.filter((r) => r.pages.length !== 2);
    expect(twice.map((r) => r.trace.map((s) => `${s.flow}:${s.call}`).join(' '))).toEqual([]);
  });
});

describe('acknowledge and resolve arriving together', () => {
  /** SEV-1 with a 30-minute ack timeout: reminders, ack timeout and escalation are all pending. */
  const together = config({ ackTimeoutMinutes: 30 });
  const setup = async (p: Pipeline, key: string) => {
    const opened = await processAlert(
      makeAlert({ dedupKey: key, severity: 'critical', receivedAt: p.clock.now().toISOString() }),
      p.deps,
    );
    if (opened.kind !== 'opened') throw new Error('expected a new incident');
    p.clock.set(new Date(p.clock.now().getTime() + MINUTE));
    return opened.incident;
  };
  const act = (p: Pipeline, key: string, action: 'acknowledge' | 'resolve') =>
    makeAlert({
      action,
      dedupKey: key,
      client: action === 'acknowledge' ? 'alice' : 'bob',
      receivedAt: p.clock.now().toISOString(),
    });
  const settled = async (p: Pipeline, id: string) => ({
    status: (await p.store.get(id))?.status,
    resolved: (await p.store.timeline(id)).filter((e) => e.type === 'RESOLVED').length,
    // A resolved SEV-1's postmortem reminders are meant to stay.
    pending: (await p.timers.pending())
      .map((t) => t.name)
      .filter((name) => name.includes(id) && !name.startsWith('pm-')),
  });
  const expected = { status: 'resolved', resolved: 1, pending: [] };

  it.each([
    ['acknowledge, then resolve', ['acknowledge', 'resolve']],
    ['resolve, then acknowledge', ['resolve', 'acknowledge']],
  ] as const)('%s: resolved, one RESOLVED entry, nothing pending', async (_name, order) => {
    const p = await startPipeline(dynamo, together, START);
    const incident = await setup(p, 'together');
    for (const action of order) await processAlert(act(p, 'together', action), p.deps);
    expect(await settled(p, incident.id)).toEqual(expected);
  });

  it('concurrently (Promise.all, 10 times): resolved, one RESOLVED entry', async () => {
    const p = await startPipeline(dynamo, together, START);
    for (let i = 0; i < 10; i++) {
      p.clock.set(new Date(Date.parse(START) + i * APART));
      const incident = await setup(p, `together-${i}`);
      await Promise.all([
        processAlert(act(p, `together-${i}`, 'acknowledge'), p.deps),
        processAlert(act(p, `together-${i}`, 'resolve'), p.deps),
      ]);
      const { pending: _, ...rest } = await settled(p, incident.id);
      expect(rest).toEqual({ status: 'resolved', resolved: 1 });
    }
  });

  describe('in every order of their port calls', () => {
    let runs: RaceRun[] = [];
    beforeAll(async () => {
      const p = await startPipeline(dynamo, together, START);
      runs = await explore(
        racer(
          () => p,
          setup,
          (deps, _incident, key) => ({
            ack: () => processAlert(act(p, key, 'acknowledge'), deps('ack')),
            resolve: () => processAlert(act(p, key, 'resolve'), deps('resolve')),
          }),
        ),
        EXHAUSTIVE ? 3 : 1,
      );
    }, 300_000);

    it('always ends resolved with exactly one RESOLVED entry and nothing escalating', () => {
      expect(runs.length).toBeGreaterThan(15);
      for (const run of runs) {
        expect({
          schedule: run.schedule,
          status: run.incident.status,
          resolved: run.timeline.filter((e) => e.type === 'RESOLVED').length,
          escalating: run.pending.filter((name) => name.startsWith('esc-') || name.startsWith('rem-')),
        }).toEqual({ schedule: run.schedule, status: 'resolved', resolved: 1, escalating: [] });
      }
    });

    // Regression test: the acknowledgement's effects running after the resolve's left its ack-timeout
    // timer pending (fixed: it re-reads the incident after scheduling and cancels it).
    it('leaves no timer pending', () => {
      const leftovers = runs.filter((r) => r.pending.length > 0);
      expect(leftovers.map((r) => ({ schedule: r.schedule, pending: r.pending }))).toEqual([]);
    });
  });
});
