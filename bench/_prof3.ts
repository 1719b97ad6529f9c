import { processAlert } from '#app/process-alert';
import { BenchClock, benchAlert, benchDeps, mockedAws, QUIET_GAP_MS, startEngine } from './harness.ts';

const engine = await startEngine();
const { store } = await engine.table();
const aws = mockedAws();
const clock = new BenchClock();
const deps = benchDeps(store, aws, clock.now);
const N = 1500;
for (let i = 0; i < 100; i++) { clock.advance(QUIET_GAP_MS); await processAlert(benchAlert({ dedupKey: `w-${i}`, receivedAt: clock.now().toISOString() }), deps); }
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  clock.advance(QUIET_GAP_MS);
  await processAlert(benchAlert({ dedupKey: `open-${i}`, receivedAt: clock.now().toISOString() }), deps);
}
console.log('ms per open', (performance.now() - t0) / N);
await engine.close();
