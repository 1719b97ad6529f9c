import { documentClient } from '#adapters/aws/dynamodb-client';
import type { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { LocalEventBus } from '#adapters/local/event-bus';
import { LocalPager } from '#adapters/local/pager';
import { LocalTimers } from '#adapters/local/timers';
import { handleAlertEvent } from '#app/alert-event';
import type { EscalationDeps } from '#app/escalation';
import { AckLinks } from '#app/links';
import type { AlertBus, EventPublisher, Pager, Timers } from '#app/ports';
import { handleTimerEvent } from '#app/timers';
import { type KlaxonConfig, parseConfig } from '#core/config';
import { type BusName, ROUTES } from '#core/routing';
import type { startTestDynamo } from './dynamo.ts';
import { FakeClock, LINK_SECRET, RecordingPublisher } from './pipeline.ts';

/**
 * Fault injection for the ports: decorators that make calls fail at random, with a seeded
 * generator, the way the AWS SDK fails them — throttling, 5xx, timeouts. A fault is injected
 * either before the call (the request never reached the service) or after it (it was applied,
 * the answer was lost: the ambiguous case every retry must survive).
 */

/** mulberry32: a tiny seeded PRNG with uniform output in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const FAULT_KINDS = ['ThrottlingException', 'InternalServerError', 'TimeoutError'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** An error shaped as the AWS SDK v3 throws it: `name`, `$fault`, `$metadata`, `$retryable`. */
export function sdkError(kind: FaultKind, where: string): Error {
  const error = new Error(`${kind}: injected fault in ${where}`) as Error & Record<string, unknown>;
  error.name = kind;
  switch (kind) {
    case 'ThrottlingException':
      error.$fault = 'client';
      error.$metadata = { httpStatusCode: 400, attempts: 3 };
      error.$retryable = { throttling: true };
      break;
    case 'InternalServerError':
      error.$fault = 'server';
      error.$metadata = { httpStatusCode: 500, attempts: 3 };
      break;
    case 'TimeoutError':
      // What the SDK's socket timeout looks like: no HTTP status at all.
      error.$metadata = { attempts: 3 };
      break;
  }
  return error;
}

export interface InjectedFault {
  readonly where: string;
  readonly kind: FaultKind;
  /** before: the call did not happen; after: it happened and its answer was lost. */
  readonly phase: 'before' | 'after';
}

/** Decides, from a seeded generator, which port calls fail. Off until `enabled` is set. */
export class FaultPlan {
  enabled = false;
  readonly injected: InjectedFault[] = [];
  readonly #random: () => number;
  readonly #rate: number;

  constructor(options: { seed: number; rate: number }) {
    this.#random = mulberry32(options.seed);
    this.#rate = options.rate;
  }

  /** The fault to inject into this call, if any (draws from the generator only while enabled). */
  next(where: string): InjectedFault | undefined {
    if (!this.enabled || this.#random() >= this.#rate) return undefined;
    const kind = FAULT_KINDS[Math.floor(this.#random() * FAULT_KINDS.length)] ?? 'InternalServerError';
    // A throttled request was never executed; a 5xx or a timeout may have been.
    const phase = kind === 'ThrottlingException' || this.#random() < 0.5 ? 'before' : 'after';
    const fault = { where, kind, phase } as const;
    this.injected.push(fault);
    return fault;
  }
}

/**
 * Wraps `methods` of `target` so that each call may fail as `plan` decides. The original method
 * runs with `target` as `this` (the adapters keep private fields, which a Proxy receiver lacks).
 */
export function withFaults<T extends object>(
  port: string,
  target: T,
  methods: readonly string[],
  plan: FaultPlan,
): T {
  const wrapped = new Set(methods);
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof property !== 'string' || typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!wrapped.has(property)) return method.bind(object);
      const where = `${port}.${property}`;
      return async (...args: unknown[]) => {
        const fault = plan.next(where);
        if (fault?.phase === 'before') throw sdkError(fault.kind, where);
        const result = await method.apply(object, args);
        if (fault?.phase === 'after') throw sdkError(fault.kind, where);
        return result;
      };
    },
  });
}

/** Every method of IncidentStore, ControlStore and MetricsStore (lambdas/app/ports.ts). */
export const STORE_METHODS = [
  // IncidentStore
  'trigger',
  'acknowledge',
  'resolve',
  'transition',
  'finishMonitoring',
  'reopen',
  'patch',
  'claimOpening',
  'releaseOpening',
  'countPages',
  'completeOpening',
  'setExcluded',
  'claimStep',
  'restartEscalation',
  'stopEscalation',
  'claimReminder',
  'findOpen',
  'get',
  'list',
  'openIncidentIds',
  'putTimelineEntry',
  'putTimelineEntryOnce',
  'putTimelineEntries',
  'timeline',
  'hasTimelineEntry',
  'putIntegration',
  'findIntegration',
  // ControlStore
  'putMaintenance',
  'listMaintenance',
  'deleteMaintenance',
  'putOverride',
  'listOverrides',
  'deleteOverride',
  'takeThrottle',
  'holdPage',
  'heldPages',
  'releaseHeld',
  'moveDigest',
  'putDigest',
  'getDigest',
  'recordPing',
  'lastPing',
  // MetricsStore
  'incidentsOfDay',
  'previousResolution',
  'putRollups',
  'listRollups',
  'claimBudgetNotice',
  'completeBudgetNotice',
  'budgetExhaustedAt',
] as const;
export const TIMERS_METHODS = [
  'schedule',
  'reschedule',
  'cancel',
] as const satisfies readonly (keyof Timers)[];
export const PAGER_METHODS = ['send'] as const satisfies readonly (keyof Pager)[];
export const BUS_METHODS = ['putAlerts'] as const satisfies readonly (keyof AlertBus)[];
export const EVENTS_METHODS = ['publish'] as const satisfies readonly (keyof EventPublisher)[];

/** The use cases' dependencies with every port made faulty by `plan`. */
export function faultyDeps(deps: EscalationDeps, plan: FaultPlan): EscalationDeps {
  return {
    ...deps,
    store: withFaults('store', deps.store, STORE_METHODS, plan),
    timers: withFaults('timers', deps.timers, TIMERS_METHODS, plan),
    pager: withFaults('pager', deps.pager, PAGER_METHODS, plan),
    events: withFaults('events', deps.events, EVENTS_METHODS, plan),
  };
}

// -----------------------------------------------------------------------------------------------
// A pipeline whose units of work are retried as AWS retries them, and dead-lettered after that.

/** What could not be done after every retry, with all it takes to do it again. */
export type DeadLetter =
  /** The producer (an HTTP client, a PutEvents caller) gave up putting the alert on the bus. */
  | {
      readonly kind: 'put';
      readonly alert: Parameters<AlertBus['putAlerts']>[0][number];
      readonly error: string;
    }
  /** process-alert failed on this event after every retry (the rule's / function's DLQ). */
  | { readonly kind: 'alert'; readonly route: string; readonly event: unknown; readonly error: string }
  /** The escalate target failed on this timer after every retry (Scheduler's DLQ). */
  | { readonly kind: 'timer'; readonly name: string; readonly input: string; readonly error: string };

/** One unit of work as the delivery loop saw it: every attempt, and whether the last succeeded. */
export interface UnitRecord {
  readonly kind: 'put' | 'alert' | 'timer';
  readonly input: unknown;
  attempts: number;
  ok: boolean;
  /** When the last attempt ended, on the pipeline's sequence of events (see `cancelled`). */
  last: number;
}

export interface FaultyPipeline {
  readonly store: DynamoDbIncidentStore & { tableName: string };
  readonly timers: LocalTimers;
  readonly pager: LocalPager;
  readonly bus: LocalEventBus;
  readonly clock: FakeClock;
  /** The fault-free dependencies (for checks and for replaying dead letters). */
  readonly deps: EscalationDeps;
  /** What the handlers run with: every port faulty. */
  readonly faulty: EscalationDeps;
  readonly plan: FaultPlan;
  readonly attempts: number;
  readonly deadLetters: DeadLetter[];
  readonly units: Map<string, UnitRecord>;
  /** Timer names cancelled through the ports, with when (same sequence as UnitRecord.last). */
  readonly cancelled: Map<string, number>;
  /**
   * Puts an alert on the bus as a producer would, re-sending a failed put up to `attempts` times
   * (each time after the bus is idle, so that the run stays deterministic), then waits until
   * every delivery, with its retries, is done.
   */
  send(alert: Parameters<AlertBus['putAlerts']>[0][number]): Promise<void>;
  /** Moves time forward, firing (and retrying) every timer that comes due, in order. */
  fastForward(ms: number): Promise<void>;
}

/**
 * The escalation pipeline on dynalite with every port faulty, driven like AWS drives it:
 * - the bus (LocalEventBus: the same routes as the EventBridge rules) retries a failed delivery
 *   `attempts` times at once, then keeps the event as a dead letter;
 * - the timers (LocalTimers: the same retry policy as Scheduler's, on the fake clock) retry with
 *   backoff, then drop the timer to the dead letters;
 * - a producer whose put failed re-sends it, then gives up (and the alert is a dead letter too).
 */
export async function startFaultyPipeline(
  dynamo: Awaited<ReturnType<typeof startTestDynamo>>,
  config: unknown,
  options: { seed: number; rate: number; attempts: number; start?: string },
): Promise<FaultyPipeline> {
  const parsed: KlaxonConfig = parseConfig(config);
  const store = await dynamo.table();
  const clock = new FakeClock(options.start ?? '2026-11-26T10:00:00.000Z');
  const plan = new FaultPlan({ seed: options.seed, rate: options.rate });
  const deadLetters: DeadLetter[] = [];
  const units = new Map<string, UnitRecord>();
  const cancelled = new Map<string, number>();
  let sequence = 0;
  const timers = new LocalTimers({
    db: documentClient(dynamo.client),
    tableName: store.tableName,
    clock: clock.now,
    maxAttempts: options.attempts,
    onDeadLetter: (letter) => deadLetters.push({ kind: 'timer', ...letter }),
  });
  const pager = new LocalPager({ timeZone: parsed.timeZone, clock: clock.now });
  const deps: EscalationDeps = {
    store,
    timers,
    pager,
    clock: clock.now,
    config: parsed,
    links: new AckLinks({ publicUrl: 'https://klaxon.example.com', secret: async () => LINK_SECRET }),
    events: new RecordingPublisher(),
  };
  // A cancel that reached the timers: a timer whose retry it pre-empts was not lost, but withdrawn.
  const recordingTimers: Timers = {
    schedule: (timer) => timers.schedule(timer),
    reschedule: (timer) => timers.reschedule(timer),
    cancel: async (name) => {
      await timers.cancel(name);
      cancelled.set(name, ++sequence);
    },
  };
  const faulty = faultyDeps({ ...deps, timers: recordingTimers }, plan);

  /** Runs one attempt of a unit of work and records how it went. */
  const attempt = async (
    key: string,
    kind: UnitRecord['kind'],
    input: unknown,
    work: () => Promise<unknown>,
  ) => {
    const unit = units.get(key) ?? { kind, input, attempts: 0, ok: false, last: 0 };
    units.set(key, unit);
    unit.attempts++;
    try {
      await work();
      unit.ok = true;
    } catch (error) {
      unit.ok = false;
      throw error;
    } finally {
      unit.last = ++sequence;
    }
  };

  const bus = new LocalEventBus({
    maxAttempts: options.attempts,
    retryDelayMs: 0,
    onDeadLetter: (letter) =>
      deadLetters.push({ kind: 'alert', route: letter.route, event: letter.event, error: letter.error }),
  });
  bus.register('processAlert', (event) =>
    attempt(`alert:${event.id}`, 'alert', event, () => handleAlertEvent(event, faulty)),
  );
  timers.target((input) =>
    attempt(`timer:${JSON.stringify(input)}`, 'timer', input, () => handleTimerEvent(input, faulty)),
  );
  const faultyBus = withFaults('bus', bus, BUS_METHODS, plan);

  let puts = 0;
  return {
    store,
    timers,
    pager,
    bus,
    clock,
    deps,
    faulty,
    plan,
    attempts: options.attempts,
    deadLetters,
    units,
    cancelled,
    async send(alert) {
      const key = `put:${++puts}:${alert.eventKey}`;
      let lastError = '';
      for (let n = 0; n < options.attempts; n++) {
        try {
          await attempt(key, 'put', alert, () => faultyBus.putAlerts([alert]));
          break;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
          await bus.drain();
        }
      }
      if (units.get(key)?.ok !== true) deadLetters.push({ kind: 'put', alert, error: lastError });
      await bus.drain();
    },
    async fastForward(ms) {
      const target = clock.now().getTime() + ms;
      for (;;) {
        const [next] = await timers.pending();
        if (next === undefined || Date.parse(next.dueAt) > target) break;
        clock.set(new Date(Math.max(Date.parse(next.dueAt), clock.now().getTime())));
        await timers.runDue();
      }
      clock.set(new Date(target));
    },
  };
}

/**
 * Re-drives dead letters with faults off, in the order they were written, as an operator would:
 * puts are put again, events re-delivered whole (their id kept), timers fired again.
 */
export async function redrive(fp: FaultyPipeline, letters: readonly DeadLetter[]): Promise<void> {
  for (const letter of letters) {
    if (letter.kind === 'put') await fp.bus.putAlerts([letter.alert]);
    if (letter.kind === 'alert') {
      const route = ROUTES.find((r) => r.id === letter.route);
      fp.bus.deliver(
        (route?.bus ?? 'klaxon') as BusName,
        letter.event as Parameters<typeof fp.bus.deliver>[1],
      );
    }
    await fp.bus.drain();
    if (letter.kind === 'timer') await handleTimerEvent(JSON.parse(letter.input), fp.deps);
  }
}
