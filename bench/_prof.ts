import { systemClock } from '#app/ports';
import { processAlert } from '#app/process-alert';
import { benchAlert, benchDeps, mockedAws, pool, startEngine } from './harness.ts';

const engine = await startEngine();
const { store } = await engine.table();
const aws = mockedAws();
const deps = benchDeps(store, aws, systemClock);
const receivedAt = new Date().toISOString();
const alerts = Array.from({ length: 6000 }, () => benchAlert({ dedupKey: 'storm-one', receivedAt }));
const t0 = performance.now();
await pool(alerts, 64, async (a) => { await processAlert(a, deps); });
console.log('per sec', 6000 / ((performance.now() - t0) / 1000));
await engine.close();
