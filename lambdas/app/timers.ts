import type { Alert } from '#core/alert';
import type { Heartbeat } from '#core/config';
import { type TimerEvent, TimerEventSchema, timerAfter } from '#core/timers';
import { parseOrThrow } from '#core/validation';
import { onDigest } from './digest.ts';
import {
  type EscalationDeps,
  onAckTimeout,
  onBusinessHours,
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
      const window = await windowOf(event, deps);
      if (window === undefined) return 'stale';
      if (await notYet(event, new Date(window.from), deps)) return 'rescheduled';
      await stopEscalationsFor(event.service, deps, `maintenance window ${window.id}`);
      return 'done';
    }
    case 'business-hours':
      return onBusinessHours(event, deps);
    case 'maintenance-end': {
      // (Deleted early, the window resumed escalation then; this finds nothing stopped left.)
      const window = await windowOf(event, deps);
      if (window !== undefined && (await notYet(event, new Date(window.to), deps))) return 'rescheduled';
      await resumeEscalationsFor(event.service, deps, `maintenance window ${event.windowId}`);
      return 'done';
    }
  }
}

/** The window a maintenance timer is for, unless it ended or was deleted. */
async function windowOf(event: { service: string; windowId: string }, deps: EscalationDeps) {
  const windows = await deps.store.listMaintenance(event.service, deps.clock());
  return windows.find((w) => w.id === event.windowId);
}

/**
 * A one-time timer that arrives before its moment `at` is set again for it under its own name, and
 * does nothing now; false once `at` has come. Such timers are set `timerAfter` (Scheduler's at()
 * fires anywhere in its minute), so this is for a moment that moved since the timer was set (a
 * later ping's deadline) or a clock that runs behind. A reschedule, not a create: the schedule
 * being delivered still exists, and a create of its name would be taken for a duplicate.
 * (Unverified against AWS: that Scheduler's delete after this completion spares the moved one.)
 */
async function notYet(event: TimerEvent, at: Date, deps: EscalationDeps): Promise<boolean> {
  if (at <= deps.clock()) return false;
  await deps.timers.reschedule(timerAfter(event, at));
  return true;
}

/** The dedup key of a heartbeat's "missed" incidents. */
export function heartbeatDedupKey(heartbeatId: string): string {
  return `heartbeat:${heartbeatId}`;
}

/**
 * The resolve a ping at `pingAt` sends for the heartbeat's "missed" incident. Keyed by the ping,
 * so the ping's own and a late miss's (onHeartbeatMissed) are one event.
 */
export function heartbeatBack(heartbeat: Heartbeat, pingAt: string, client?: string): Alert {
  return {
    eventKey: `heartbeat:${heartbeat.id}:ping:${pingAt}`,
    service: heartbeat.service,
    dedupKey: heartbeatDedupKey(heartbeat.id),
    action: 'resolve',
    summary: `Heartbeat ${heartbeat.name} is back`,
    source: 'klaxon-heartbeat',
    severity: 'info',
    receivedAt: pingAt,
    details: {},
    links: [],
    images: [],
    origin: 'heartbeat',
    ...(client === undefined ? {} : { client }),
  };
}

/**
 * A heartbeat's timer fired: no ping came in time, so a "missed heartbeat" incident opens. The
 * miss is judged against the latest ping, not the one that armed this timer: a timer that
 * arrives after a later ping (Scheduler's retry of a failed invocation, or an earlier ping's
 * reschedule that landed last) is stale, and so is one delivered early in its minute. It re-arms
 * the latest ping's deadline (the timer it may have overwritten, or its own: notYet) and opens
 * nothing, or, that deadline gone too, opens the latest's miss.
 */
async function onHeartbeatMissed(
  heartbeatId: string,
  armedAt: string,
  deps: EscalationDeps,
): Promise<TimerOutcome> {
  const heartbeat = deps.config.heartbeats.find((h) => h.id === heartbeatId);
  // Removed from the config since the timer was armed: nothing to watch any more.
  if (heartbeat === undefined) return 'stale';
  const interval = heartbeat.intervalMinutes * (deps.minuteMs ?? 60_000);
  // Times compared as instants: the timer's armedAt may carry an offset; the store's are UTC.
  const pingAfter = async (at: string) => {
    const pinged = await deps.store.lastPing(heartbeatId);
    return pinged !== undefined && Date.parse(pinged) > Date.parse(at) ? pinged : undefined;
  };
  const later = await pingAfter(armedAt);
  const since = later ?? armedAt;
  const expected = new Date(Date.parse(since) + interval);
  // Before the latest ping's deadline (a later ping, or delivered early in its minute): not missed.
  if (await notYet({ kind: 'heartbeat', heartbeatId, armedAt: since }, expected, deps)) return 'stale';
  const alert: Alert = {
    eventKey: `heartbeat:${heartbeatId}:${since}`,
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
    details: { heartbeat: heartbeatId, lastPing: since },
    links: [],
    images: [],
    origin: 'heartbeat',
  };
  const outcome = await processAlert(alert, deps);
  // A ping that came while the incident opened may have looked before it existed (the ping
  // records itself, then looks; this opens, then looks): resolve it as that ping would have.
  const latest = await pingAfter(since);
  if (latest !== undefined) await processAlert(heartbeatBack(heartbeat, latest), deps);
  return outcome.kind === 'replayed' ? 'replayed' : 'done';
}
