import { randomUUID } from 'node:crypto';
import type { AlertBus } from '#app/ports';
import type { Alert } from '#core/alert';
import { ValidationError } from '#core/errors';
import { fitAlertToEntry, MAX_PUT_EVENTS_ENTRY_BYTES, putEventsEntrySize } from '#core/event-size';
import { ALERT_DETAIL_TYPE, type BusName, INGEST_SOURCE, ROUTES, type RouteTarget } from '#core/routing';
import { matchesPattern } from './event-pattern.ts';

/** An event in EventBridge's delivery shape, as a Lambda target receives it. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export type TargetHandler = (event: BusEvent) => Promise<void>;

export interface DeadLetter {
  readonly route: string;
  readonly event: BusEvent;
  readonly error: string;
  readonly attempts: number;
  readonly at: string;
}

export interface LocalEventBusOptions {
  /** Attempts per delivery before the event goes to the dead letters (EventBridge: up to 185). */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each attempt. */
  readonly retryDelayMs?: number;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  readonly log?: (message: string) => void;
}

/**
 * Theory of operation — the in-process stand-in for EventBridge.
 *
 * `put` accepts an event and returns at once, like PutEvents; delivery is asynchronous. Each
 * event is matched against ROUTES (the very rules the CDK stack synthesizes) and every matching
 * target handler is invoked with the event in EventBridge's delivery shape. A handler that throws
 * is retried with exponential backoff; after `maxAttempts` the event is kept as a dead letter.
 * Delivery is at-least-once, as in AWS: handlers must be idempotent. `drain()` waits until
 * nothing is in flight (tests and clean shutdown use it).
 */
export class LocalEventBus implements AlertBus {
  readonly #targets = new Map<RouteTarget, TargetHandler>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #options: LocalEventBusOptions;
  readonly deadLetters: DeadLetter[] = [];

  constructor(options: LocalEventBusOptions = {}) {
    this.#options = options;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#retryDelayMs = options.retryDelayMs ?? 200;
  }

  register(target: RouteTarget, handler: TargetHandler): void {
    this.#targets.set(target, handler);
  }

  /** As the EventBridge bus does: an alert too large for one entry is shrunk to fit (`fitAlertToEntry`). */
  async putAlerts(alerts: readonly Alert[]): Promise<void> {
    for (const alert of alerts) {
      const envelope = { source: INGEST_SOURCE, detailType: ALERT_DETAIL_TYPE, time: alert.receivedAt };
      this.put('klaxon', {
        source: INGEST_SOURCE,
        'detail-type': ALERT_DETAIL_TYPE,
        detail: fitAlertToEntry(alert, envelope),
        time: alert.receivedAt,
      });
    }
  }

  /**
   * PutEvents: wraps the entry in an envelope and delivers it to every matching route. An entry
   * over 256 KB is refused, as EventBridge refuses it.
   */
  put(
    bus: BusName,
    entry: {
      source: string;
      'detail-type': string;
      detail: unknown;
      time?: string;
      resources?: string[];
      region?: string;
    },
  ): BusEvent {
    const size = putEventsEntrySize({
      time: entry.time,
      source: entry.source,
      detailType: entry['detail-type'],
      detail: JSON.stringify(entry.detail),
      resources: entry.resources,
    });
    if (size > MAX_PUT_EVENTS_ENTRY_BYTES) {
      throw new ValidationError('event is too large for EventBridge', [
        { field: 'detail', message: `the entry is ${size} bytes; PutEvents takes at most 256 KB` },
      ]);
    }
    // An AWS service's event (a CloudWatch alarm's) comes from the region and account of the
    // resource it is about: locally, those of its ARN, when the entry does not give them.
    const arn = ownArn(entry);
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry['detail-type'],
      source: entry.source,
      account: arn?.account ?? '000000000000',
      time: entry.time ?? new Date().toISOString(),
      region: entry.region ?? arn?.region ?? process.env.AWS_REGION ?? 'us-east-1',
      resources: entry.resources ?? [],
      detail: entry.detail,
    };
    this.deliver(bus, event);
    return event;
  }

  /** Delivers a complete event (as EventBridge would a re-driven one, with its original id). */
  deliver(bus: BusName, event: BusEvent): void {
    for (const route of ROUTES) {
      if (route.bus !== bus || !matchesPattern(route.pattern, event)) continue;
      const handler = this.#targets.get(route.target);
      if (handler === undefined) continue;
      const delivery = this.#deliver(route.id, handler, event).finally(() => this.#inFlight.delete(delivery));
      this.#inFlight.add(delivery);
    }
  }

  /** Resolves when every delivery, including retries, has finished. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(routeId: string, handler: TargetHandler, event: BusEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event);
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= this.#maxAttempts) {
          const letter = {
            route: routeId,
            event,
            error: message,
            attempts: attempt,
            at: new Date().toISOString(),
          };
          this.deadLetters.push(letter);
          this.#options.onDeadLetter?.(letter);
          return;
        }
        this.#options.log?.(`bus: ${routeId} attempt ${attempt} failed (${message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, this.#retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** The region and account of the entry's resource: its first `resources` ARN, else `detail.alarmArn`. */
function ownArn(entry: {
  readonly resources?: readonly string[];
  readonly detail?: unknown;
}): { region: string; account: string } | undefined {
  const detail = entry.detail as { alarmArn?: unknown } | undefined;
  const candidates = [entry.resources?.[0], detail?.alarmArn];
  for (const candidate of candidates) {
    const match =
      typeof candidate === 'string' ? /^arn:[^:]+:[^:]+:([a-z0-9-]+):(\d{12}):/.exec(candidate) : null;
    if (match?.[1] && match[2]) return { region: match[1], account: match[2] };
  }
  return undefined;
}
