import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config';
import { startNightlyRollup } from '#local/nightly';

const config = parseConfig({
  timeZone: 'Europe/Berlin',
  services: [{ id: 'checkout', name: 'Checkout' }],
  metrics: { rollupTime: '01:30' },
});

let handle: NodeJS.Timeout | undefined;
afterEach(() => clearInterval(handle));

const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('the local runtime runs the nightly rollup at the configured local time', () => {
  it('rolls up the previous local day once when 01:30 Berlin comes, not on start-up', async () => {
    let now = new Date('2026-11-26T20:00:00.000Z'); // 21:00 Berlin, after today's 01:30: nothing owed
    const runs: string[] = [];
    handle = startNightlyRollup(
      config,
      () => now,
      async (day) => void runs.push(day),
      () => {},
      5,
    );
    await tick();
    expect(runs).toEqual([]);
    now = new Date('2026-11-27T00:29:00.000Z'); // 01:29 Berlin
    await tick();
    expect(runs).toEqual([]);
    now = new Date('2026-11-27T00:30:00.000Z'); // 01:30 Berlin: roll up Nov 26
    await tick();
    now = new Date('2026-11-27T05:00:00.000Z');
    await tick();
    expect(runs).toEqual(['2026-11-26']);
  });

  it('started before the rollup time, it runs that night', async () => {
    let now = new Date('2026-11-26T23:00:00.000Z'); // 00:00 Berlin on Nov 27
    const runs: string[] = [];
    handle = startNightlyRollup(
      config,
      () => now,
      async (day) => void runs.push(day),
      () => {},
      5,
    );
    await tick();
    now = new Date('2026-11-27T00:31:00.000Z');
    await tick();
    expect(runs).toEqual(['2026-11-26']);
  });
});
