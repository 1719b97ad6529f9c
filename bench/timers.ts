import { LocalTimers } from '#adapters/local/timers';
import { systemClock } from '#app/ports';
import { type BenchOptions, type BenchResult, fmt, progress, startEngine } from './harness.ts';
import { max, median, p99, round } from './stats.ts';

/**
 * Lateness of the local runtime's durable timers (LocalTimers with its poller started, on
 * dynalite, wall-clock time): rounds of N timers scheduled a few hundred ms ahead at spread due
 * times; lateness = when the target ran − due time. The floor is Node's own setTimeout for the
 * same due times in the same process.
 */
export async function runTimers(options: BenchOptions): Promise<BenchResult> {
  const rounds = options.quick ? 2 : 5;
  const perRound = options.quick ? 50 : 100;
  const engine = await startEngine();
  const { tableName } = await engine.table();
  const timers = new LocalTimers({ db: engine.db, tableName, clock: systemClock });
  const due = new Map<string, number>();
  const lateness: number[] = [];
  const floor: number[] = [];
  timers.target(async (input) => {
    const name = (input as { incidentId: string }).incidentId;
    const at = due.get(name);
    if (at !== undefined) lateness.push(Date.now() - at);
  });
  timers.start();
  for (let r = 0; r < rounds; r++) {
    // Start each round at a different phase of the poller's one-second sleep.
    await new Promise((resolve) => setTimeout(resolve, 1000 + 137 * r));
    const now = Date.now();
    const floorDone: Promise<void>[] = [];
    for (let i = 0; i < perRound; i++) {
      const name = `bench-${r}-${i}`;
      const at = now + 300 + Math.floor((500 * i) / perRound);
      due.set(name, at);
      await timers.schedule({
        name,
        at: new Date(at),
        event: { kind: 'reminder', incidentId: name, seq: 1 },
      });
      floorDone.push(
        new Promise((resolve) =>
          setTimeout(
            () => {
              floor.push(Date.now() - at);
              resolve();
            },
            Math.max(0, at - Date.now()),
          ),
        ),
      );
    }
    await Promise.all(floorDone);
    const deadline = Date.now() + 10_000;
    while (lateness.length < (r + 1) * perRound && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    progress(`timers: round ${r + 1}/${rounds}: ${lateness.length} of ${(r + 1) * perRound} fired`);
  }
  await timers.stop();
  await engine.close();
  const fired = lateness.length;
  const expected = rounds * perRound;
  const summary = { p50: median(lateness), p99: p99(lateness), max: max(lateness) };
  const floorSummary = { p50: median(floor), p99: p99(floor), max: max(floor) };
  const ok = fired === expected && summary.max <= 1000;
  return {
    name: 'timers',
    rows: [
      {
        bench: 'local timers',
        measure: `lateness of ${fmt.n(expected)} timers (p50 / p99 / max)`,
        klaxon: `${summary.p50} / ${summary.p99} / ${summary.max} ms${fired < expected ? `; ${expected - fired} never fired` : ''}`,
        floor: `${floorSummary.p50} / ${floorSummary.p99} / ${floorSummary.max} ms setTimeout`,
        ratio: `+${round(summary.p99 - floorSummary.p99, 0)} ms p99`,
        goal: '≤ 1 s',
        met: ok ? 'met' : 'NOT MET',
      },
    ],
    data: { rounds, perRound, fired, expected, lateness: summary, floor: floorSummary },
  };
}
