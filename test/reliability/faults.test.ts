import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { processAlert } from '#app/process-alert';
import { type RollupDeps, runRollup } from '#app/rollup';
import { handleTimerEvent } from '#app/timers';
import type { Alert } from '#core/alert';
import { parseConfig } from '#core/config';
import { eventHash } from '#core/ids';
import { type Timer, type TimerEvent, timerName } from '#core/timers';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import {
  type DeadLetter,
  FaultPlan,
  type FaultyPipeline,
  mulberry32,
  redrive,
  STORE_METHODS,
  sdkError,
  startFaultyPipeline,
  type UnitRecord,
  withFaults,
} from '../support/faults.ts';
import { HOUR, itemsOf, MINUTE, reliabilityConfig, START, scanTable, type TestDynamo } from './support.ts';

/**
 * Faults: every port fails at random (seeded), the way AWS fails — throttling, 5xx, timeouts,
 * before or after the call took effect — while a scenario of alerts over a few keys (triggers,
 * redeliveries, acknowledgements, resolves) and the timers they start run through delivery loops
 * that retry like EventBridge, Lambda and Scheduler, then dead-letter. After the retries: no alert
 * lost or counted twice, one open incident per key, every unacknowledged incident escalated as
 * time passed, and every unit of work that outlived its retries is a dead letter holding its whole
 * input. Re-driving the dead letters with faults off restores every invariant.
 */

const SEEDS = [1, 2, 3, 4, 5];
const ALERTS = 24;
const KEYS = 3;
const ATTEMPTS = 3;
const RATE = 0.15;

/** Level 1 alice after 5 minutes carol, no repeat: an unacknowledged incident is exhausted after 15. */
const POLICIES = {
  escalationPolicies: [
    {
      id: 'checkout',
      levels: [
        { delayMinutes: 5, targets: [{ responder: 'alice' }] },
        { delayMinutes: 10, targets: [{ responder: 'carol' }] },
      ],
    },
  ],
};
const config = reliabilityConfig({}, POLICIES);

/**
 * The second, smaller workload: resolves enter a 15-minute monitoring period (the `resolve` timer,
 * finishMonitoring, reopen), and with a few minutes between alerts keys re-trigger during it.
 */
const MONITORED_SEEDS = [11, 12, 13];
const monitored = reliabilityConfig({ resolveMonitoringMinutes: 15 }, POLICIES);

/** Shares of the operations: redelivery, new trigger, acknowledge (the rest resolve). */
interface Mix {
  readonly redeliver: number;
  readonly trigger: number;
  readonly acknowledge: number;
}
const MIX: Mix = { redeliver: 0.2, trigger: 0.65, acknowledge: 0.82 };
/** More resolves, so that monitoring periods start often and triggers land in them. */
const MONITORED_MIX: Mix = { redeliver: 0.15, trigger: 0.55, acknowledge: 0.65 };

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

interface Op {
  /** Minutes after the previous operation. */
  readonly wait: number;
  readonly alert: Alert;
}

/**
 * N alerts over K keys from a seeded generator: new triggers, redeliveries of a trigger (the same
 * event again) while its incident is open, acknowledgements and resolves.
 */
function scenario(seed: number, mix: Mix = MIX): Op[] {
  const random = mulberry32(seed * 7919 + 17);
  const ops: Op[] = [];
  const openTriggers = new Map<string, Alert[]>();
  let at = Date.parse(START);
  for (let i = 0; i < ALERTS; i++) {
    const wait = Math.floor(random() * 7);
    at += wait * MINUTE;
    const key = `key-${Math.floor(random() * KEYS)}`;
    const r = random();
    const earlier = openTriggers.get(key) ?? [];
    const base = { dedupKey: key, severity: 'warning', receivedAt: new Date(at).toISOString() } as const;
    let alert: Alert;
    if (r < mix.redeliver && earlier.length > 0) {
      alert = earlier[Math.floor(random() * earlier.length)] as Alert; // redelivered as it was
    } else if (r < mix.trigger) {
      alert = makeAlert({ ...base, eventKey: `s${seed}:${i}` });
      openTriggers.set(key, [...earlier, alert]);
    } else if (r < mix.acknowledge) {
      alert = makeAlert({ ...base, eventKey: `s${seed}:${i}`, action: 'acknowledge', client: 'alice' });
    } else {
      alert = makeAlert({ ...base, eventKey: `s${seed}:${i}`, action: 'resolve' });
      openTriggers.set(key, []);
    }
    ops.push({ wait, alert });
  }
  return ops;
}

type Item = Record<string, unknown>;

interface World {
  readonly incidents: Item[];
  readonly timeline: Item[];
  readonly timers: Item[];
}

async function world(fp: FaultyPipeline): Promise<World> {
  const items = await scanTable(dynamo, fp.store.tableName);
  const inc = itemsOf(items, 'INC#');
  return {
    incidents: inc.filter((i) => i.sk === 'INC'),
    // The timeline items, and each incident's OPENED entry (kept on the incident item).
    timeline: [
      ...inc.filter((i) => String(i.sk).startsWith('TL#')),
      ...inc.flatMap((i) => (i.sk === 'INC' && i.opening !== undefined ? [i.opening as Item] : [])),
    ],
    timers: itemsOf(items, 'TIMER#'),
  };
}

const seenOf = (incident: Item) => [...((incident.seen as Set<string> | undefined) ?? [])];
const typesOf = (w: World, id: unknown) => w.timeline.filter((e) => e.incidentId === id).map((e) => e.type);

/** The alert a dead letter carries (put or alert letters). */
function letterAlert(letter: DeadLetter): Alert | undefined {
  if (letter.kind === 'put') return letter.alert;
  if (letter.kind === 'alert') return (letter.event as { detail: Alert }).detail;
  return undefined;
}

/**
 * The invariants. `dead` are the dead letters not yet re-driven: what they concern is allowed to
 * be behind (not counted yet, not escalated yet), never wrong.
 */
function violations(
  w: World,
  triggers: readonly Alert[],
  delivered: ReadonlySet<string>,
  dead: readonly DeadLetter[],
  redriven: readonly DeadLetter[],
): { problems: string[]; countedTwice: string[]; reopenedTwice: string[] } {
  const final = dead.length === 0;
  const problems: string[] = [];
  const countedTwice: string[] = [];
  const reopenedTwice: string[] = [];
  const hashes = new Map(triggers.map((t) => [eventHash(t.eventKey), t.eventKey]));
  const countedIn = new Map<string, Item[]>();
  for (const incident of w.incidents) {
    const seen = seenOf(incident);
    if (incident.alertCount !== seen.length)
      problems.push(`${incident.id}: alertCount ${incident.alertCount} but ${seen.length} events seen`);
    for (const hash of seen) {
      if (!hashes.has(hash)) problems.push(`${incident.id}: counts an event that was never sent`);
      countedIn.set(hash, [...(countedIn.get(hash) ?? []), incident]);
    }
  }
  const deadKeys = new Set(dead.flatMap((l) => letterAlert(l)?.eventKey ?? []));
  const redrivenKeys = new Set(redriven.flatMap((l) => letterAlert(l)?.eventKey ?? []));
  for (const [hash, eventKey] of hashes) {
    const where = countedIn.get(hash) ?? [];
    if (where.length > 1) {
      // A former bug (replay.test.ts, "a trigger replayed after its incident was … resolved"): a
      // trigger counted, dead-lettered before its effects completed and re-driven after its
      // incident was resolved was counted again on the key's next incident. Fixed (late
      // redeliveries are recognised on the key's earlier incidents); kept apart, in exactly that
      // shape, so that a regression names itself (the test below expects none).
      const [first, ...rest] = [...where].sort((a, b) => Number(a.occurrence) - Number(b.occurrence));
      const knownBug = redrivenKeys.has(eventKey) && first?.status === 'resolved' && rest.length > 0;
      (knownBug ? countedTwice : problems).push(
        `${eventKey}: counted in ${where.map((i) => i.id).join(', ')}`,
      );
    }
    if (where.length === 0 && (final || (delivered.has(eventKey) && !deadKeys.has(eventKey))))
      problems.push(`${eventKey}: delivered but counted nowhere (lost)`);
  }

  const open = new Map<string, Item[]>();
  for (const incident of w.incidents.filter((i) => i.status !== 'resolved')) {
    open.set(String(incident.dedupKey), [...(open.get(String(incident.dedupKey)) ?? []), incident]);
  }
  for (const [key, list] of open)
    if (list.length > 1) problems.push(`${key}: ${list.length} open incidents (${list.map((i) => i.id)})`);

  const involved = (incident: Item) =>
    dead.some((letter) =>
      letter.kind === 'timer'
        ? String(letter.input).includes(String(incident.id))
        : letterAlert(letter)?.dedupKey === incident.dedupKey,
    );
  for (const incident of w.incidents) {
    const types = typesOf(w, incident.id);
    if (incident.status === 'triggered' && !involved(incident)) {
      const escalated =
        incident.escalation === 'exhausted' &&
        types.includes('OPENED') &&
        types.includes('ESCALATED') &&
        types.includes('ESCALATION_EXHAUSTED');
      if (!escalated)
        problems.push(
          `${incident.id} (${incident.dedupKey}): unacknowledged but did not escalate: step ${incident.step}, ${incident.escalation}, [${types}]`,
        );
    }
    // The latest reopen completed: level 1 paged again, REOPENED written at its reopenedAt. (An
    // earlier reopen whose effects outlived every retry, and which a later resolve and reopen of
    // the same incident superseded, is not repeated when its dead letter is re-driven: the re-drive
    // completes the incident's current reopen, which paged level 1 again.)
    const reopenedEntries = w.timeline.filter((e) => e.incidentId === incident.id && e.type === 'REOPENED');
    if (Number(incident.reopens ?? 0) > 0 && !involved(incident)) {
      if (!reopenedEntries.some((e) => e.at === incident.reopenedAt))
        problems.push(
          `${incident.id} (${incident.dedupKey}): reopen ${incident.reopens} has no REOPENED entry`,
        );
      if (reopenedEntries.length > Number(incident.reopens))
        reopenedTwice.push(
          `${incident.id} (${incident.dedupKey}): reopened ${incident.reopens}× but ${reopenedEntries.length} REOPENED`,
        );
    }
    // Every monitoring period ended (time passed well beyond it): resolved, or reopened.
    if (incident.status === 'monitoring' && !involved(incident))
      problems.push(`${incident.id} (${incident.dedupKey}): still monitoring after its period ended`);
    if (incident.status !== 'triggered' && !involved(incident)) {
      const escalating = w.timers.filter((t) => String(t.name).startsWith(`esc-${incident.id}-`));
      if (escalating.length > 0)
        problems.push(`${incident.id}: ${incident.status}, but ${escalating.map((t) => t.name)} pending`);
    }
  }
  return { problems, countedTwice, reopenedTwice };
}

interface SeedRun {
  readonly seed: number;
  readonly faults: number;
  readonly letters: DeadLetter[];
  readonly before: string[];
  readonly unrecorded: string[];
  readonly after: string[];
  /** Triggers counted on two incidents after their dead letters were re-driven (a former bug). */
  readonly countedTwice: string[];
  /** Incidents reopened by a trigger during monitoring, and resolved after a quiet period. */
  readonly reopened: number;
  readonly quiet: number;
  /** Faults injected into the monitoring flow's port calls. */
  readonly lifecycleFaults: string[];
  /** Resolve timers that failed after cancelling themselves: no retry, no dead letter (a former bug). */
  readonly lostRetries: string[];
  /** Reopens whose effects a re-driven trigger repeated (a former bug, replay.test.ts). */
  readonly reopenedTwice: string[];
}

/** One schedule of a timer, as the delivery loop saw it, and the dead letters written for it. */
interface Schedule {
  readonly unit: UnitRecord;
  readonly letters: number;
}

/**
 * A timer's unit of work is one schedule: Scheduler fires it, retries it, dead-letters it and
 * deletes it. The same name can be created again once it is gone, with the same input — e.g. a
 * reopen completed by the end-of-period timer runs step 0 again and re-creates the step-1 timer
 * that an earlier attempt created and that was dead-lettered meanwhile. That is a second
 * schedule with its own retries and its own dead letter: Scheduler's DLQ holds the first
 * schedule's letter whatever the second one does. The pipeline keys its unit records by the
 * timer's input, which would merge the two into one record (a dead-lettered schedule and a
 * successful one read as one unit that succeeded, and the letter as one too many). So whenever a
 * timer is created anew (no item of that name before the call), the record of its previous
 * schedule is closed and kept, with the dead letters its input got while it lived.
 * Returns, at the end of the run, every schedule: the closed ones and the current ones.
 */
function trackSchedules(fp: FaultyPipeline): () => Schedule[] {
  const closed: { key: string; unit: UnitRecord; letters: number }[] = [];
  const keyOf = (event: unknown) => `timer:${JSON.stringify(event)}`;
  const lettersOf = (key: string) =>
    fp.deadLetters.filter((l) => l.kind === 'timer' && keyOf(JSON.parse(l.input)) === key).length;
  const timers = fp.timers;
  const track =
    (create: (timer: Timer) => Promise<void>) =>
    async (timer: Timer): Promise<void> => {
      const fresh = !(await timers.pending()).some((t) => t.name === timer.name);
      await create(timer);
      const key = keyOf(timer.event);
      const unit = fp.units.get(key);
      if (!fresh || unit === undefined) return;
      // Dead letters of this input so far, the earlier schedules' included (subtracted below).
      closed.push({ key, unit, letters: lettersOf(key) });
      fp.units.delete(key);
    };
  timers.schedule = track(timers.schedule.bind(timers));
  timers.reschedule = track(timers.reschedule.bind(timers));
  return () => {
    const all = [
      ...closed,
      ...[...fp.units]
        .filter(([, unit]) => unit.kind === 'timer')
        .map(([key, unit]) => ({ key, unit, letters: lettersOf(key) })),
    ];
    const counted = new Map<string, number>();
    return all.map(({ key, unit, letters }) => {
      const before = counted.get(key) ?? 0;
      counted.set(key, letters);
      return { unit, letters: letters - before };
    });
  };
}

async function runSeed(seed: number, cfg: unknown = config, mix: Mix = MIX): Promise<SeedRun> {
  const fp = await startFaultyPipeline(dynamo, cfg, {
    seed,
    rate: RATE,
    attempts: ATTEMPTS,
    start: START,
  });
  const closeSchedules = trackSchedules(fp);
  const ops = scenario(seed, mix);
  const triggers = [
    ...new Map(
      ops.filter((o) => o.alert.action === 'trigger').map((o) => [o.alert.eventKey, o.alert]),
    ).values(),
  ];

  fp.plan.enabled = true;
  for (const op of ops) {
    await fp.fastForward(op.wait * MINUTE);
    await fp.send(op.alert);
  }
  // Time passes: timer retries run out and every escalation chain (15 minutes) ends.
  await fp.fastForward(2 * HOUR);
  fp.plan.enabled = false;

  // Every unit of work whose last attempt failed is a dead letter with its whole input, and
  // every dead letter is such a unit. A timer's unit is one schedule (see `trackSchedules`).
  const unrecorded: string[] = [];
  const schedules = closeSchedules();
  const cancelledAt = (unit: UnitRecord) => fp.cancelled.get(timerName(unit.input as TimerEvent));
  // A timer cancelled after its failed attempt (an acknowledgement stops escalation) is withdrawn, not lost.
  const withdrawn = (s: Schedule) =>
    !s.unit.ok && s.letters === 0 && (cancelledAt(s.unit) ?? 0) > s.unit.last;
  // A former bug (regression test below, "a resolve timer that reopens and fails midway is
  // retried"): the resolve timer's reopen cancelled the timer itself before its effects, so a
  // failed effect lost its retry. Kept apart, in exactly that shape, so that a regression names
  // itself ("every failed resolve timer is retried or dead-lettered" expects none).
  const lostSchedules = schedules.filter(
    (s) =>
      !s.unit.ok &&
      s.letters === 0 &&
      (s.unit.input as TimerEvent).kind === 'resolve' &&
      (cancelledAt(s.unit) ?? Number.POSITIVE_INFINITY) < s.unit.last,
  );
  const lostRetries = lostSchedules.map(
    (s) => `${JSON.stringify(s.unit.input)} failed ${s.unit.attempts}×, cancelled by itself, never retried`,
  );
  const failedSchedules = schedules.filter((s) => !s.unit.ok && !withdrawn(s) && !lostSchedules.includes(s));
  for (const s of schedules) {
    const what = `timer ${JSON.stringify(s.unit.input)}`;
    if (s.letters > 1) unrecorded.push(`${what}: one schedule, ${s.letters} dead letters`);
    if (s.unit.ok && s.letters > 0) unrecorded.push(`${what} succeeded, yet is a dead letter`);
    if (failedSchedules.includes(s) && s.letters === 0)
      unrecorded.push(`${what} failed ${s.unit.attempts}× but is no dead letter`);
  }
  const failed = [
    ...[...fp.units.values()].filter((u) => u.kind !== 'timer' && !u.ok),
    ...failedSchedules.map((s) => s.unit),
  ];
  for (const unit of failed.filter((u) => u.kind !== 'timer')) {
    const found = fp.deadLetters.some((l) =>
      unit.kind === 'put'
        ? l.kind === 'put' && isDeepStrictEqual(l.alert, unit.input)
        : l.kind === 'alert' && isDeepStrictEqual(l.event, unit.input),
    );
    if (!found)
      unrecorded.push(
        `${unit.kind} ${JSON.stringify(unit.input)} failed ${unit.attempts}× but is no dead letter`,
      );
  }
  if (fp.deadLetters.length !== failed.length)
    unrecorded.push(`${fp.deadLetters.length} dead letters for ${failed.length} failed units`);

  const delivered = new Set(
    [...fp.units.values()]
      .filter((u) => u.kind === 'alert' && u.ok)
      .map((u) => (u.input as { detail: Alert }).detail.eventKey),
  );
  const letters = [...fp.deadLetters];
  const before = violations(await world(fp), triggers, delivered, letters, []).problems;

  // Re-drive the dead letters with faults off, as an operator would.
  await redrive(fp, letters);
  await fp.fastForward(2 * HOUR);
  const all = new Set(triggers.map((t) => t.eventKey));
  const w = await world(fp);
  const final = violations(w, triggers, all, [], letters);
  const after = [
    ...final.problems,
    ...fp.deadLetters.slice(letters.length).map((l) => `re-driving failed again: ${l.kind} ${l.error}`),
  ];
  return {
    seed,
    faults: fp.plan.injected.length,
    letters,
    before,
    unrecorded,
    after,
    countedTwice: final.countedTwice,
    reopened: w.incidents.filter((i) => Number(i.reopens ?? 0) > 0).length,
    quiet: w.incidents.filter((i) => i.status === 'resolved' && i.monitored === true).length,
    lifecycleFaults: fp.plan.injected
      .map((f) => f.where)
      .filter((where) => /finishMonitoring|reopen|transition/.test(where)),
    lostRetries,
    reopenedTwice: final.reopenedTwice,
  };
}

describe(`random faults (${SEEDS.length} seeds × ${ALERTS} alerts over ${KEYS} keys, rate ${RATE}, ${ATTEMPTS} attempts)`, () => {
  const runs: SeedRun[] = [];
  beforeAll(async () => {
    for (const seed of SEEDS) runs.push(await runSeed(seed));
  }, 120_000);

  it('injects faults and dead-letters units of work of every kind', () => {
    // Per seed the run is deterministic (everything is sequential); these bounds keep the suite
    // honest if the code changes how many port calls a unit of work makes.
    expect(runs.every((r) => r.faults >= 10)).toBe(true);
    expect(runs.reduce((n, r) => n + r.letters.length, 0)).toBeGreaterThanOrEqual(15);
    // Alert and timer units dead-letter with these seeds; bus puts (ingest) fail and retry but,
    // since the escalation changes of this session, none of them outlives its retries here.
    const kinds = new Set(runs.flatMap((r) => r.letters.map((l) => l.kind)));
    expect(kinds.has('alert') && kinds.has('timer')).toBe(true);
  });

  it('after the retries: no alert lost or counted twice, one open incident per key, every unacknowledged incident escalated', () => {
    expect(runs.map((r) => ({ seed: r.seed, violations: r.before }))).toEqual(
      runs.map((r) => ({ seed: r.seed, violations: [] })),
    );
  });

  it('every unit of work that outlived its retries is a dead letter with its complete input', () => {
    expect(runs.map((r) => ({ seed: r.seed, unrecorded: r.unrecorded }))).toEqual(
      runs.map((r) => ({ seed: r.seed, unrecorded: [] })),
    );
  });

  it('re-driving the dead letters with faults off restores every invariant', () => {
    expect(runs.map((r) => ({ seed: r.seed, violations: r.after }))).toEqual(
      runs.map((r) => ({ seed: r.seed, violations: [] })),
    );
  });

  // Regression test (replay.test.ts, "a trigger replayed after its incident was … resolved"): a
  // trigger counted on its incident and then dead-lettered (its opening effects or its retries
  // failed) was counted again when the dead letter was re-driven after the incident was resolved.
  // Every trigger must be counted exactly once after the re-drive.
  it('re-driving the dead letters counts no trigger twice', () => {
    expect(runs.map((r) => ({ seed: r.seed, countedTwice: r.countedTwice }))).toEqual(
      runs.map((r) => ({ seed: r.seed, countedTwice: [] })),
    );
  });
});

describe(`random faults with monitoring (${MONITORED_SEEDS.length} seeds × ${ALERTS} alerts over ${KEYS} keys, rate ${RATE}, resolves watched 15 minutes)`, () => {
  const runs: SeedRun[] = [];
  beforeAll(async () => {
    for (const seed of MONITORED_SEEDS) runs.push(await runSeed(seed, monitored, MONITORED_MIX));
  }, 60_000);

  it('exercises the monitoring flow: reopens, quiet resolutions, faults in its port calls', () => {
    expect(runs.reduce((n, r) => n + r.reopened, 0)).toBeGreaterThan(0);
    expect(runs.reduce((n, r) => n + r.quiet, 0)).toBeGreaterThan(0);
    expect(runs.flatMap((r) => r.lifecycleFaults).length).toBeGreaterThan(0);
    expect(runs.reduce((n, r) => n + r.letters.length, 0)).toBeGreaterThan(0);
  });

  it('after the retries: no alert lost or counted twice, one open incident per key, every unacknowledged incident escalated, no monitoring left', () => {
    expect(runs.map((r) => ({ seed: r.seed, violations: r.before }))).toEqual(
      runs.map((r) => ({ seed: r.seed, violations: [] })),
    );
  });

  it('every unit of work that outlived its retries is a dead letter with its complete input', () => {
    expect(runs.map((r) => ({ seed: r.seed, unrecorded: r.unrecorded }))).toEqual(
      runs.map((r) => ({ seed: r.seed, unrecorded: [] })),
    );
  });

  it('re-driving the dead letters with faults off restores every invariant and counts no trigger twice', () => {
    expect(runs.map((r) => ({ seed: r.seed, violations: r.after, countedTwice: r.countedTwice }))).toEqual(
      runs.map((r) => ({ seed: r.seed, violations: [], countedTwice: [] })),
    );
  });

  // Regression test ("a resolve timer that reopens and fails midway is retried", below): resolve
  // timers cancelled themselves before their effects and lost their retry on a failure.
  it('every failed resolve timer is retried or dead-lettered', () => {
    expect(runs.flatMap((r) => r.lostRetries)).toEqual([]);
  });

  // Regression test (replay.test.ts, "a trigger that reopened an incident, delivered again after the
  // escalation moved on"): a re-driven trigger repeated a reopen's effects.
  it('re-driving the dead letters repeats no reopen', () => {
    expect(runs.flatMap((r) => r.reopenedTwice)).toEqual([]);
  });
});

describe('fault decorators', () => {
  it('fail like the SDK: name, $metadata.httpStatusCode, throttling marked retryable', async () => {
    const plan = new FaultPlan({ seed: 7, rate: 1 });
    plan.enabled = true;
    const calls: string[] = [];
    const port = withFaults('pager', { send: async () => void calls.push('sent') }, ['send'], plan);
    const errors: Record<string, unknown>[] = [];
    for (let i = 0; i < 30; i++) await port.send().catch((e: Record<string, unknown>) => errors.push(e));
    expect(errors).toHaveLength(30);
    expect(new Set(errors.map((e) => e.name))).toEqual(
      new Set(['ThrottlingException', 'InternalServerError', 'TimeoutError']),
    );
    expect(sdkError('ThrottlingException', 'x')).toMatchObject({
      $metadata: { httpStatusCode: 400 },
      $retryable: { throttling: true },
    });
    expect(sdkError('InternalServerError', 'x')).toMatchObject({
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    // "after" faults ran the call: the effect happened, the answer was lost.
    const after = plan.injected.filter((f) => f.phase === 'after').length;
    expect(calls).toHaveLength(after);
    expect(after).toBeGreaterThan(0);
  });

  it('cover every method of the store adapter, so a new one cannot escape them', () => {
    const methods = Object.getOwnPropertyNames(DynamoDbIncidentStore.prototype).filter(
      (m) =>
        m !== 'constructor' &&
        typeof Object.getOwnPropertyDescriptor(DynamoDbIncidentStore.prototype, m)?.value === 'function',
    );
    expect(methods.sort()).toEqual([...STORE_METHODS].sort());
  });

  it('are deterministic per seed and draw nothing while disabled', () => {
    const draws = (seed: number, callsWhileOff: number) => {
      const plan = new FaultPlan({ seed, rate: 0.3 });
      for (let i = 0; i < callsWhileOff; i++) expect(plan.next('off')).toBeUndefined();
      plan.enabled = true;
      return Array.from({ length: 50 }, (_, i) => plan.next(`call ${i}`)?.kind ?? '-').join(',');
    };
    // Calls while disabled leave the sequence as a fresh plan of the seed draws it.
    expect(draws(42, 3)).toBe(draws(42, 0));
    expect(draws(42, 0)).toBe(draws(42, 0));
    expect(draws(42, 0)).not.toBe(draws(43, 0));
  });
});

describe('dead letters that cannot restore what they should', () => {
  /** A pipeline whose pager fails while `down` says so (SNS outage), everything else healthy. */
  async function withPagerOutage() {
    const fp = await startFaultyPipeline(dynamo, config, {
      seed: 1,
      rate: 0,
      attempts: ATTEMPTS,
      start: START,
    });
    const outage = { down: false };
    const deps = {
      ...fp.deps,
      pager: {
        send: async (page: Parameters<typeof fp.pager.send>[0]) => {
          if (outage.down) throw sdkError('InternalServerError', 'pager.send');
          await fp.pager.send(page);
        },
      },
    };
    return { fp, outage, deps };
  }

  // Regression test: a status-update reminder whose send failed was never retried, and reminders stop for good.
  // onReminder claims reminder n (reminderSeq = n) before sending; the retry (Scheduler's, or a
  // re-driven dead letter) finds reminderSeq >= n and returns `stale`, so reminder n is never sent
  // and reminder n + 1 is never scheduled.
  // Steps: SEV-1 incident, acknowledged by alice; SNS fails when reminder 1 fires (15 min); SNS
  // recovers; the timer is retried. Expected: the retry sends reminder 1 and schedules reminder 2
  // (like an escalation step, which repeats its effects until its timeline entry exists).
  // Actual: `stale`; no reminder is ever sent again while the incident stays open.
  it('a reminder whose send failed is sent by the retry, and the reminders go on', async () => {
    const { fp, outage, deps } = await withPagerOutage();
    await processAlert(makeAlert({ severity: 'critical', receivedAt: START }), deps);
    await processAlert(makeAlert({ action: 'acknowledge', client: 'alice', receivedAt: START }), deps);
    const reminder = (await fp.timers.pending()).find((t) => t.name.startsWith('rem-'));
    if (reminder === undefined) throw new Error('no reminder timer');
    fp.clock.set(new Date(reminder.dueAt));
    const input = JSON.parse(reminder.input) as unknown;
    outage.down = true;
    await expect(handleTimerEvent(input, deps)).rejects.toThrow(/InternalServerError/);
    outage.down = false;
    fp.pager.inbox.length = 0;
    const retried = await handleTimerEvent(input, deps);
    expect({
      retried,
      sent: fp.pager.inbox.map((e) => `${e.page.kind} ${e.page.contact.key}`),
      // The fired timer (rem-…-1) was invoked by hand here, so the poller never deleted it.
      next: (await fp.timers.pending())
        .map((t) => t.name)
        .filter((n) => n.startsWith('rem-') && !n.endsWith('-1')),
    }).toEqual({
      retried: 'done',
      sent: ['reminder alice-0', 'reminder alice-1'],
      next: [expect.stringMatching(/-2$/)],
    });
  });

  // Regression test: a maintenance start whose first attempt failed after stopping an incident's escalation
  // skips that incident on the retry: stopEscalationsFor passes over incidents already `stopped`,
  // so the retry writes no ESCALATION_STOPPED entry and never cancels the incident's timers — its
  // status-update reminders (not tied to the generation) keep paging through the window.
  // Steps: SEV-1 incident open; a maintenance window starts (timer); Scheduler's delete of the
  // reminder timer fails once (timers.cancel throws); the maintenance timer is retried.
  // Expected: ESCALATION_STOPPED on the timeline, no rem- timer pending (as after a clean stop).
  // Actual: no ESCALATION_STOPPED entry; rem-<id>-1 still pending, and reminders go on.
  it('a maintenance stop retried after a failure completes the stop', async () => {
    const fp = await startFaultyPipeline(dynamo, config, {
      seed: 1,
      rate: 0,
      attempts: ATTEMPTS,
      start: START,
    });
    const opened = await processAlert(makeAlert({ severity: 'critical', receivedAt: START }), fp.deps);
    if (opened.kind !== 'opened') throw new Error('expected opened');
    const { createMaintenance } = await import('#app/operations');
    const from = new Date(Date.parse(START) + 2 * MINUTE);
    await createMaintenance({ service: 'checkout', from, to: new Date(from.getTime() + HOUR) }, fp.deps);
    const timer = (await fp.timers.pending()).find((t) => t.name.startsWith('mw-'));
    if (timer === undefined) throw new Error('no maintenance timer');
    fp.clock.set(from);
    let failures = 1;
    const flaky = {
      ...fp.deps,
      timers: {
        ...fp.deps.timers,
        schedule: (t: Parameters<typeof fp.timers.schedule>[0]) => fp.timers.schedule(t),
        reschedule: (t: Parameters<typeof fp.timers.reschedule>[0]) => fp.timers.reschedule(t),
        cancel: async (name: string) => {
          if (name.startsWith('rem-') && failures-- > 0)
            throw sdkError('InternalServerError', 'timers.cancel');
          await fp.timers.cancel(name);
        },
      },
    };
    await expect(handleTimerEvent(JSON.parse(timer.input), flaky)).rejects.toThrow(/InternalServerError/);
    expect(await handleTimerEvent(JSON.parse(timer.input), flaky)).toBe('done');
    expect({
      timeline: (await fp.store.timeline(opened.incident.id)).map((e) => e.type),
      pending: (await fp.timers.pending()).map((t) => t.name).filter((n) => n.startsWith('rem-')),
    }).toEqual({ timeline: ['OPENED', 'ESCALATION_STOPPED'], pending: [] });
  });

  // Regression test: a resolve timer that reopened the incident cancelled itself before the
  // reopen's effects, so a failure midway (SNS down) lost its retry: nobody was ever paged. It now
  // cancels last, and a retry that finds its period reopened completes the reopen.
  // Steps: open (monitoring 15 min), resolve, a trigger counted without its reopen, SNS fails once
  // when the resolve timer fires, then recovers; an hour passes.
  it('a resolve timer that reopens and fails midway is retried', async () => {
    const { fp, outage, deps } = await withPagerOutage();
    const monitoredDeps = { ...deps, config: parseConfig(monitored) };
    fp.timers.target((input) => handleTimerEvent(input, monitoredDeps).then(() => undefined));
    const opened = await processAlert(makeAlert({ receivedAt: START, severity: 'warning' }), monitoredDeps);
    if (opened.kind !== 'opened') throw new Error('expected opened');
    await processAlert(makeAlert({ action: 'resolve', receivedAt: START }), monitoredDeps);
    await fp.store.trigger(makeAlert({ receivedAt: START, severity: 'warning' }), fp.clock.now());
    fp.pager.inbox.length = 0;
    outage.down = true;
    await fp.fastForward(15 * MINUTE); // the resolve timer fires: reopens, then paging fails
    outage.down = false;
    await fp.fastForward(HOUR);
    expect({
      pages: fp.pager.inbox.map((e) => `${e.page.kind} ${e.page.contact.key}`).slice(0, 3),
      timeline: (await fp.store.timeline(opened.incident.id)).map((e) => e.type).slice(0, 4),
    }).toEqual({
      pages: ['page alice-0', 'page alice-1', 'page carol-0'],
      timeline: ['OPENED', 'MONITORING', 'REOPENED', 'ESCALATED'],
    });
  });

  it('a trigger dead-lettered after it was counted, re-driven while its incident is open, completes the opening', async () => {
    const { fp, outage, deps } = await withPagerOutage();
    const alert = makeAlert({ receivedAt: START, severity: 'warning' });
    outage.down = true;
    for (let i = 0; i < ATTEMPTS; i++) await expect(processAlert(alert, deps)).rejects.toThrow();
    outage.down = false;
    const [incident] = (await fp.store.list({})).incidents;
    expect(incident?.alertCount).toBe(1);
    expect(await fp.store.timeline(incident?.id ?? '')).toEqual([]); // nobody paged, no escalation
    // The dead letter, re-driven.
    expect(await processAlert(alert, deps)).toMatchObject({ kind: 'replayed', caused: 'opened' });
    expect(fp.pager.inbox.map((e) => `${e.page.kind} ${e.page.contact.key}`)).toEqual([
      'page alice-0',
      'page alice-1',
    ]);
    expect((await fp.store.get(incident?.id ?? ''))?.alertCount).toBe(1);
    await fp.fastForward(5 * MINUTE);
    expect(fp.pager.inbox.map((e) => e.page.contact.key).at(-1)).toBe('carol-0');
  });

  // Regression test: the "Error Budget Exhausted" announcement is claimed before it is made, and a failure after
  // the claim loses it for the month. errorBudgets claims BUDGET#<service>/<month> (conditional
  // put), then publishes the event and pages the owners; if PutEvents or SNS fails, the rollup
  // throws and is retried (Scheduler retries the nightly run; `klaxon rollup` re-runs), but the
  // retry finds the claim taken (`announced: false`) and neither publishes nor pages.
  // Steps: SEV-1 down 60 minutes (SLO 99.9 %: 43.8 minutes a month); roll up the day with
  // EventBridge failing once; roll it up again. Expected: the event published and carol told (at
  // least once, like pages). Actual: nothing published, nobody told, ever, that month.
  it('a budget announcement whose publish failed is made by the retried rollup', async () => {
    const budget = reliabilityConfig({ slo: { availability: 99.9, owners: ['carol'] } });
    const fp = await startFaultyPipeline(dynamo, budget, {
      seed: 1,
      rate: 0,
      attempts: ATTEMPTS,
      start: START,
    });
    await processAlert(makeAlert({ severity: 'critical', receivedAt: START }), fp.deps);
    fp.clock.set(new Date(Date.parse(START) + HOUR));
    await processAlert(makeAlert({ action: 'resolve', receivedAt: fp.clock.now().toISOString() }), fp.deps);
    fp.pager.inbox.length = 0;
    let failures = 1;
    const published: string[] = [];
    const deps: RollupDeps = {
      ...fp.deps,
      sink: { put: async () => {} },
      metrics: { publish: async () => {} },
      events: {
        publish: async (detailType) => {
          if (failures-- > 0) throw sdkError('InternalServerError', 'events.publish');
          published.push(detailType);
        },
      },
    };
    await expect(runRollup('2026-11-26', deps)).rejects.toThrow(/InternalServerError/);
    await runRollup('2026-11-26', deps);
    expect({ published, told: fp.pager.inbox.map((e) => e.page.contact.key) }).toEqual({
      published: ['Error Budget Exhausted'],
      told: ['carol-0'],
    });
  });
});
