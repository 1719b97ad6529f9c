import type { Clock } from '#app/ports';
import type { KlaxonConfig } from '#core/config';
import { localDay, previousDay } from '#core/metrics';
import { clockTime } from '#core/wall-clock';

/**
 * Runs `run(previous day)` once a day when the local time in the configured zone reaches
 * `metrics.rollupTime`, checking every 30 seconds (running a day twice is harmless).
 */
export function startNightlyRollup(
  config: KlaxonConfig,
  clock: Clock,
  run: (day: string) => Promise<void>,
  log: (line: string) => void,
  everyMs = 30_000,
): NodeJS.Timeout {
  let lastRun: string | undefined;
  const check = () => {
    const now = clock();
    const today = localDay(now, config.timeZone);
    const time = clockTime(now.toISOString(), config.timeZone);
    // Started after today's rollup time: today's run is not owed (run it on demand if needed).
    lastRun ??= time >= config.metrics.rollupTime ? today : '';
    if (today !== lastRun && time >= config.metrics.rollupTime) {
      lastRun = today;
      run(previousDay(now, config.timeZone)).catch((error: unknown) =>
        log(`rollup failed: ${String(error)}`),
      );
    }
  };
  check();
  return setInterval(check, everyMs);
}
