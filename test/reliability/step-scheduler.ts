/**
 * A deterministic step scheduler for race tests. Each flow (an acknowledgement, a timer firing)
 * gets its own gated view of the ports: every port call first waits at a gate. When every flow is
 * waiting (or done), the scheduler lets exactly one of them make its call — which runs to
 * completion, alone — and waits until that flow reaches its next gate. A schedule is the order in
 * which flows are let through; `explore` enumerates schedules depth-first, each exactly once.
 *
 * A port call is the unit of atomicity: the store's methods are one conditional write (plus the
 * reads that decide it), which is what the design reasons about.
 */

export interface Step {
  readonly flow: string;
  /** `port.method` */
  readonly call: string;
}

interface Waiter {
  readonly flow: string;
  readonly call: string;
  readonly go: () => void;
}

export type FlowResult = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface ScheduleRun {
  /** The port calls in the order they ran. */
  readonly trace: Step[];
  /** At each step, the flows that could have gone. */
  readonly enabled: string[][];
  readonly results: Record<string, FlowResult>;
}

export class StepScheduler {
  readonly #waiting = new Map<string, Waiter>();
  readonly #running = new Set<string>();
  #wake: (() => void) | undefined;

  /** Wraps `methods` of `target`: each call made by `flow` waits for its turn. */
  gate<T extends object>(flow: string, port: string, target: T, methods: readonly string[]): T {
    const gated = new Set(methods);
    return new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof property !== 'string' || typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (!gated.has(property)) return method.bind(object);
        return async (...args: unknown[]) => {
          await this.#arrive(flow, `${port}.${property}`);
          return method.apply(object, args);
        };
      },
    });
  }

  #arrive(flow: string, call: string): Promise<void> {
    if (this.#waiting.has(flow)) throw new Error(`flow ${flow} made two port calls at once`);
    return new Promise((go) => {
      this.#waiting.set(flow, { flow, call, go });
      this.#running.delete(flow);
      this.#settle();
    });
  }

  #settle(): void {
    if (this.#running.size === 0) this.#wake?.();
  }

  #idle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /**
   * Runs the flows to completion, letting them through in the order `choose` picks (it gets the
   * flows waiting at a gate, sorted by name, and the step number).
   */
  async run(
    flows: Readonly<Record<string, () => Promise<unknown>>>,
    choose: (enabled: readonly string[], step: number) => string,
  ): Promise<ScheduleRun> {
    const trace: Step[] = [];
    const enabledAt: string[][] = [];
    const results: Record<string, FlowResult> = {};
    for (const [name, flow] of Object.entries(flows)) {
      this.#running.add(name);
      void Promise.resolve()
        .then(flow)
        .then(
          (value) => {
            results[name] = { ok: true, value };
          },
          (error: unknown) => {
            results[name] = { ok: false, error };
          },
        )
        .finally(() => {
          this.#running.delete(name);
          this.#settle();
        });
    }
    for (let step = 0; ; step++) {
      await this.#idle();
      if (this.#waiting.size === 0) break;
      const enabled = [...this.#waiting.keys()].sort();
      const flow = choose(enabled, step);
      const waiter = this.#waiting.get(flow);
      if (waiter === undefined) throw new Error(`schedule chose ${flow}, which is not waiting (${enabled})`);
      enabledAt.push(enabled);
      trace.push({ flow, call: waiter.call });
      this.#waiting.delete(flow);
      this.#running.add(flow);
      waiter.go();
    }
    return { trace, enabled: enabledAt, results };
  }
}

/** Context switches away from a flow that could have gone on. */
export function preemptions(schedule: readonly string[], enabled: readonly (readonly string[])[]): number {
  let count = 0;
  for (let i = 1; i < schedule.length; i++) {
    const previous = schedule[i - 1] as string;
    if (schedule[i] !== previous && enabled[i]?.includes(previous)) count++;
  }
  return count;
}

/**
 * Enumerates schedules depth-first: `runOnce(choose)` runs the flows once with a fresh scheduler
 * and fresh state. Each schedule is run exactly once; those with more than `maxPreemptions`
 * preemptions are left out (all of them when it is Infinity). Past the forced prefix, a run keeps
 * going with the flow that went last (no preemption).
 */
export async function explore<T extends ScheduleRun>(
  runOnce: (choose: (enabled: readonly string[], step: number) => string) => Promise<T>,
  maxPreemptions = Number.POSITIVE_INFINITY,
  maxRuns = 5000,
): Promise<T[]> {
  const runs: T[] = [];
  const stack: string[][] = [[]];
  while (stack.length > 0) {
    const prefix = stack.pop() as string[];
    let last: string | undefined;
    const run = await runOnce((enabled, step) => {
      const pick =
        step < prefix.length
          ? (prefix[step] as string)
          : last !== undefined && enabled.includes(last)
            ? last
            : (enabled[0] as string);
      last = pick;
      return pick;
    });
    runs.push(run);
    if (runs.length > maxRuns) throw new Error(`more than ${maxRuns} schedules: lower maxPreemptions`);
    const chosen = run.trace.map((s) => s.flow);
    for (let i = chosen.length - 1; i >= prefix.length; i--) {
      for (const alternative of run.enabled[i] ?? []) {
        if (alternative === chosen[i]) continue;
        const next = [...chosen.slice(0, i), alternative];
        if (preemptions(next, run.enabled) <= maxPreemptions) stack.push(next);
      }
    }
  }
  return runs;
}
