import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsPublisher } from '#app/ports';
import type { Rollup } from '#core/metrics';

/**
 * The contact check's metric of the stack `stack`, as the alarm on it (PipelineMonitoring) must
 * name it: Powertools adds the service name as the dimension `service`, and the publisher the
 * stack's name as `stack` — two stacks in one account (staging, prod) must not set off each
 * other's alarm.
 */
export function unreachableContactsMetric(stack: string) {
  return {
    metricName: 'UnreachableContacts',
    dimensions: { service: 'klaxon-contacts', stack },
  } as const;
}

/**
 * Custom metrics through Powertools Metrics (CloudWatch embedded metric format, written to the
 * function's log: no PutMetricData calls, no extra permission). One set per service per day:
 * incidents, breaches, pages, and MTTD/MTTA/MTTR p90 in seconds; and `UnreachableContacts` after
 * each contact check.
 */
export class PowertoolsMetricsPublisher implements MetricsPublisher {
  readonly #namespace: string;
  readonly #stack: string;

  /** `stack`: the stack's name (its functions' KLAXON_STACK_NAME), a dimension of the contact metric. */
  constructor(options: { namespace?: string; stack?: string } = {}) {
    this.#namespace = options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Klaxon';
    this.#stack = options.stack ?? process.env.KLAXON_STACK_NAME ?? 'klaxon';
  }

  async publish(rollups: readonly Rollup[]): Promise<void> {
    for (const rollup of rollups.filter((r) => r.severity === '*')) {
      const metrics = new Metrics({ namespace: this.#namespace, serviceName: 'klaxon-rollup' });
      metrics.addDimension('KlaxonService', rollup.service);
      metrics.addMetric('Incidents', MetricUnit.Count, rollup.incidents);
      metrics.addMetric('IncidentsStillOpen', MetricUnit.Count, rollup.stillOpen);
      metrics.addMetric(
        'TargetBreaches',
        MetricUnit.Count,
        rollup.breaches.mttd + rollup.breaches.mtta + rollup.breaches.mttr,
      );
      metrics.addMetric('PagesSent', MetricUnit.Count, rollup.pagesSent);
      metrics.addMetric('Escalations', MetricUnit.Count, rollup.escalations);
      if (rollup.mttd.p90 !== null) metrics.addMetric('MTTDp90', MetricUnit.Seconds, rollup.mttd.p90);
      if (rollup.mtta.p90 !== null) metrics.addMetric('MTTAp90', MetricUnit.Seconds, rollup.mtta.p90);
      if (rollup.mttr.p90 !== null) metrics.addMetric('MTTRp90', MetricUnit.Seconds, rollup.mttr.p90);
      metrics.publishStoredMetrics();
    }
  }

  async publishUnreachableContacts(count: number): Promise<void> {
    const metric = unreachableContactsMetric(this.#stack);
    const metrics = new Metrics({ namespace: this.#namespace, serviceName: metric.dimensions.service });
    metrics.addDimension('stack', metric.dimensions.stack);
    metrics.addMetric(metric.metricName, MetricUnit.Count, count);
    metrics.publishStoredMetrics();
  }
}
