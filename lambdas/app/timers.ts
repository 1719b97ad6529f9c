import type { Alert } from '#core/alert';
import { TimerEventSchema } from '#core/timers';
import { parseOrThrow } from '#core/validation';
import { onDigest } from './digest.ts';
import {
  type EscalationDeps,
  onAckTimeout,
  onEscalateTimer,
  onReminder,
  resumeEscalationsFor,
  stopEscalationsFor,
  type TimerOutcome,
} from './escalation.ts';
import { onPostmortemTimer, onReassess, onResolveTimer } from './lifecycle.ts';
import { processAlert } from './process-alert.ts';

/**
 * The escalate function's use case: one fired timer in — its Input, exactly as EventBridge
 * Scheduler delivers it (locally, as the local timers deliver it) — one step of work out.
 */
export async function handleTimerEvent(input: unknown, deps: EscalationDeps): Promise<TimerOutcome> {
  const event = parseOrThrow(TimerEventSchema, input, 'timer event');
  switch (event.kind) {
    case 'escalate':
      return onEscalateTimer(event, deps);
    case 'ack-timeout':
      return onAckTimeout(event, deps);
    case 'reminder':
      return onReminder(event, deps);
    case 'resolve':
      return onResolveTimer(event, deps);
    case 'reassess':
      return onReassess(event, deps);
    case 'postmortem':
      return onPostmortemTimer(event, deps);
    case 'digest':
      return onDigest(event, deps);
    case 'heartbeat':
      return onHeartbeatMissed(event.heartbeatId, event.armedAt, deps);
    case 'maintenance': {
      const now = deps.clock();
      const windows = await deps.store.listMaintenance(event.service, now);
      const window = windows.find((w) => w.id === event.windowId);
      if (window === undefined || new Date(window.from) > now) return 'stale';
      await stopEscalationsFor(event.service, deps, `maintenance window ${window.id}`);
      return 'done';
    }
    case 'maintenance-end': {
      // (Deleted early, the window resumed escalation then; this finds nothing stopped left.)
      await resumeEscalationsFor(event.service, deps, `maintenance window ${event.windowId}`);
      return 'done';
    }
  }
}

/** The dedup key of a heartbeat's "missed" incidents. */
export function heartbeatDedupKey(heartbeatId: string): string {
  return `heartbeat:${heartbeatId}`;
}

/** A heartbeat's timer fired: no ping came in time, so a "missed heartbeat" incident opens. */
async function onHeartbeatMissed(
  heartbeatId: string,
  armedAt: string,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const heartbeat = deps.config.heartbeats.find((h) => h.id === heartbeatId);
  // Removed from the config since the timer was armed: nothing to watch any more.
  if (heartbeat === undefined) return 'stale';
  const expected = new Date(
    new Date(armedAt).getTime() + heartbeat.intervalMinutes * (deps.minuteMs ?? 60_000),
  );
  const alert: Alert = {
    eventKey: `heartbeat:${heartbeatId}:${armedAt}`,
    service: heartbeat.service,
    dedupKey: heartbeatDedupKey(heartbeatId),
    action: 'trigger',
    summary: `Missed heartbeat: ${heartbeat.name} (expected every ${heartbeat.intervalMinutes} min)`,
    source: 'klaxon-heartbeat',
    severity: 'critical',
    occurredAt: expected.toISOString(),
    // The miss's own time, the same in every retry of this timer: a retry after the next ping
    // resolved the incident is a replay of this miss, not a new one.
    receivedAt: expected.toISOString(),
    details: { heartbeat: heartbeatId, lastPing: armedAt },
    links: [],
    images: [],
    origin: 'heartbeat',
  };
  const outcome = await processAlert(alert, deps);
  return outcome.kind === 'replayed' ? 'replayed' : 'done';
}
