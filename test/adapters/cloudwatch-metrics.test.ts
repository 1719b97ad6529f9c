import { afterEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsMetricsPublisher, unreachableContactsMetric } from '#adapters/aws/cloudwatch-metrics';
import type { Rollup } from '#core/metrics';

const stat = (mean: number | null) => ({ count: mean === null ? 0 : 1, mean, p50: mean, p90: mean });
const rollup = (service: string, severity: Rollup['severity']): Rollup => ({
  day: '2026-11-26',
  service,
  severity,
  incidents: 3,
  opened: 3,
  resolved: 2,
  stillOpen: 1,
  excluded: 0,
  clamped: 0,
  mttd: stat(60),
  mtta: stat(240),
  mttr: stat(1800),
  mtbf: stat(null),
  breaches: { mttd: 0, mtta: 1, mttr: 0 },
  escalations: 2,
  pagesSent: 5,
  downtimeMinutes: 30,
  samples: { mttd: [60], mtta: [240], mttr: [1800], mtbf: [] },
});

afterEach(() => vi.restoreAllMocks());

/** The EMF documents written to stdout while `run` runs. */
async function emf(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  vi.spyOn(console, 'log').mockImplementation(
    (...args: unknown[]) => void lines.push(args.map(String).join(' ')),
  );
  await run();
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

describe('custom metrics through Powertools Metrics (CloudWatch embedded metric format)', () => {
  it('writes UnreachableContacts, 0 included, with exactly the dimensions its alarm names (its stack among them)', async () => {
    const docs = await emf(async () => {
      const publisher = new PowertoolsMetricsPublisher({ namespace: 'Klaxon', stack: 'klaxon-prod' });
      await publisher.publishUnreachableContacts(0);
      await publisher.publishUnreachableContacts(2);
    });
    expect(docs.map((d) => d.UnreachableContacts)).toEqual([0, 2]);
    const [doc] = docs as [{ _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } }];
    const metric = unreachableContactsMetric('klaxon-prod');
    expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('Klaxon');
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions.map((d) => [...d].sort())).toEqual([
      Object.keys(metric.dimensions).sort(),
    ]);
    expect(doc).toMatchObject({ service: 'klaxon-contacts', stack: 'klaxon-prod' });
  });

  it('writes one EMF document per service row, with the service as a dimension', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    vi.spyOn(console, 'log').mockImplementation(
      (...args: unknown[]) => void lines.push(args.map(String).join(' ')),
    );
    await new PowertoolsMetricsPublisher({ namespace: 'KlaxonTest' }).publish([
      rollup('*', '*'),
      rollup('checkout', '*'),
      rollup('checkout', 'SEV-2'),
    ]);
    const docs = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    expect(docs).toHaveLength(2);
    const [overall, checkout] = docs;
    expect(checkout.KlaxonService).toBe('checkout');
    expect(overall.KlaxonService).toBe('*');
    expect(checkout._aws.CloudWatchMetrics[0].Namespace).toBe('KlaxonTest');
    // A dimension, not metadata: each service its own metric series.
    for (const doc of [overall, checkout])
      expect(doc._aws.CloudWatchMetrics[0].Dimensions.map((d: string[]) => [...d].sort())).toEqual([
        ['KlaxonService', 'service'],
      ]);
    expect(checkout).toMatchObject({
      Incidents: 3,
      IncidentsStillOpen: 1,
      TargetBreaches: 1,
      PagesSent: 5,
      MTTAp90: 240,
      MTTRp90: 1800,
    });
    expect(checkout.MTBF).toBeUndefined();
  });
});
