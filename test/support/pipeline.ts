import { DynamoDbActionItemStore } from '#adapters/aws/action-item-store';
import { documentClient } from '#adapters/aws/dynamodb-client';
import type { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { LocalPager } from '#adapters/local/pager';
import { LocalTimers } from '#adapters/local/timers';
import type { CommandDeps } from '#app/command';
import { AckLinks } from '#app/links';
import type { EventPublisher } from '#app/ports';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import { type KlaxonConfig, parseConfig } from '#core/config';
import type { Incident } from '#core/incident';
import { makeAlert } from './alerts.ts';
import type { startTestDynamo } from './dynamo.ts';

export const LINK_SECRET = 'test-link-secret-0123456789abcdef';

/** An EventPublisher that keeps what was published (the bus itself is tested on its own). */
export class RecordingPublisher implements EventPublisher {
  readonly published: { detailType: string; detail: Record<string, unknown> }[] = [];
  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    this.published.push({ detailType, detail });
  }
  /** The detail-types published so far, and clears the list. */
  take(): string[] {
    return this.published.splice(0).map((e) => e.detailType);
  }
}

/** A clock the test moves. */
export class FakeClock {
  #now: number;
  constructor(start: string) {
    this.#now = Date.parse(start);
  }
  readonly now = (): Date => new Date(this.#now);
  set(to: Date): void {
    this.#now = to.getTime();
  }
}

export interface Pipeline {
  readonly store: DynamoDbIncidentStore & { tableName: string };
  readonly timers: LocalTimers;
  readonly pager: LocalPager;
  readonly clock: FakeClock;
  readonly deps: CommandDeps;
  /** Lifecycle events put on the bus, in order. */
  readonly events: RecordingPublisher;
  /**
   * Moves time forward by `ms`, firing every timer that comes due on the way at its due time, in
   * order — GoAlert's smoke-test FastForward.
   */
  fastForward(ms: number): Promise<void>;
  /** Pages sent so far, as "kind responder contact" lines, and clears the list. */
  takePages(): string[];
}

/** The whole escalation pipeline on dynalite with local timers and pager and a fake clock. */
export async function startPipeline(
  dynamo: Awaited<ReturnType<typeof startTestDynamo>>,
  config: unknown,
  start = '2026-11-26T10:00:00.000Z',
): Promise<Pipeline> {
  const parsed: KlaxonConfig = parseConfig(config);
  const store = await dynamo.table();
  const clock = new FakeClock(start);
  const timers = new LocalTimers({
    db: documentClient(dynamo.client),
    tableName: store.tableName,
    clock: clock.now,
  });
  const pager = new LocalPager({ timeZone: parsed.timeZone, clock: clock.now });
  const events = new RecordingPublisher();
  const deps: CommandDeps = {
    store,
    actionItems: new DynamoDbActionItemStore({
      tableName: store.tableName,
      client: documentClient(dynamo.client),
    }),
    events,
    timers,
    pager,
    clock: clock.now,
    config: parsed,
    links: new AckLinks({ publicUrl: 'https://klaxon.example.com', secret: async () => LINK_SECRET }),
  };
  timers.target(async (input) => {
    await handleTimerEvent(input, deps);
  });
  let taken = 0;
  return {
    store,
    timers,
    pager,
    clock,
    deps,
    events,
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
    takePages() {
      const pages = pager.inbox
        .slice(taken)
        .map((e) => `${e.page.kind} ${e.page.responder.id} ${e.page.contact.key}`);
      taken = pager.inbox.length;
      return pages;
    },
  };
}

/** An alert received now (the pipeline's clock) that must open a new incident: that incident. */
export async function openIncident(
  p: Pipeline,
  overrides: Parameters<typeof makeAlert>[0] = {},
): Promise<Incident> {
  const outcome = await processAlert(
    makeAlert({ receivedAt: p.clock.now().toISOString(), ...overrides }),
    p.deps,
  );
  if (outcome.kind !== 'opened') throw new Error(`expected a new incident, got ${outcome.kind}`);
  return outcome.incident;
}
