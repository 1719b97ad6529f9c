import type { EventPublisher, MetricsPublisher } from '#app/ports';
import type { Rollup } from '#core/metrics';
import { KLAXON_SOURCE } from '#core/routing';
import type { LocalEventBus } from './event-bus.ts';

/** Locally, custom metrics are a log line per service: there is no CloudWatch to send them to. */
export class LogMetricsPublisher implements MetricsPublisher {
  readonly #log: (line: string) => void;
  constructor(log: (line: string) => void) {
    this.#log = log;
  }
  async publish(rollups: readonly Rollup[]): Promise<void> {
    for (const r of rollups.filter((x) => x.severity === '*')) {
      this.#log(
        `metrics ${r.day} ${r.service}: ${r.incidents} incidents, MTTA p90 ${r.mtta.p90 ?? '-'} s, MTTR p90 ${r.mttr.p90 ?? '-'} s`,
      );
    }
  }
  async publishUnreachableContacts(count: number): Promise<void> {
    this.#log(`metrics: ${count} unreachable contacts`);
  }
}

/** Klaxon's own events on the local Klaxon bus, as PutEvents would put them. */
export class LocalEventPublisher implements EventPublisher {
  readonly published: { detailType: string; detail: Record<string, unknown> }[] = [];
  readonly #bus: LocalEventBus;
  constructor(bus: LocalEventBus) {
    this.#bus = bus;
  }
  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    this.published.push({ detailType, detail });
    this.#bus.put('klaxon', { source: KLAXON_SOURCE, 'detail-type': detailType, detail });
  }
}
