import { AuthenticationError, NotFoundError, ValidationError } from '#core/errors';
import { randomId } from '#core/ids';
import { type TimerEvent, timerAfter, timerName } from '#core/timers';
import { type EscalationDeps, resumeEscalationsFor, stopEscalationsFor } from './escalation.ts';
import type { AlertBus, Integration, MaintenanceWindow } from './ports.ts';
import { heartbeatBack, heartbeatDedupKey } from './timers.ts';

/**
 * Starts a maintenance window: alerts are still recorded, nobody is paged. A window that has
 * begun stops the escalations in flight at once; one that begins later does so when its timer
 * fires at `from`.
 */
export async function createMaintenance(
  input: { service: string; from: Date; to: Date; reason?: string },
  deps: EscalationDeps,
): Promise<MaintenanceWindow & { stopped: number }> {
  if (!deps.config.services.some((s) => s.id === input.service))
    throw new NotFoundError(`no service ${input.service}`);
  if (input.to <= input.from) {
    throw new ValidationError('invalid maintenance window', [{ field: 'to', message: 'must be after from' }]);
  }
  const now = deps.clock();
  if (input.to <= now)
    throw new ValidationError('invalid maintenance window', [{ field: 'to', message: 'is in the past' }]);
  const window: MaintenanceWindow = {
    id: randomId().slice(0, 12),
    service: input.service,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    createdAt: now.toISOString(),
    ...(input.reason ? { reason: input.reason } : {}),
  };
  await deps.store.putMaintenance(window);
  // At its end, what it stopped and nobody acknowledged escalates again. Timed before anything is
  // stopped: a request that dies stopping a service's many incidents still leaves their resume.
  const end: TimerEvent = { kind: 'maintenance-end', service: input.service, windowId: window.id };
  await deps.timers.schedule(timerAfter(end, input.to));
  let stopped = 0;
  if (input.from <= now) {
    stopped = await stopEscalationsFor(input.service, deps, `maintenance window ${window.id}`);
  } else {
    const event: TimerEvent = { kind: 'maintenance', service: input.service, windowId: window.id };
    await deps.timers.schedule(timerAfter(event, input.from));
  }
  return { ...window, stopped };
}

/**
 * Ends a maintenance window early: deleted, and what it stopped escalates again. Its end timer is
 * moved to now first (not cancelled): should the request die resuming a service's many
 * incidents, or before, that timer resumes them (a resume is idempotent), as it would have at the
 * window's end.
 */
export async function endMaintenance(service: string, id: string, deps: EscalationDeps): Promise<boolean> {
  if (!(await deps.store.listMaintenance(service, deps.clock())).some((w) => w.id === id)) return false;
  const end: TimerEvent = { kind: 'maintenance-end', service, windowId: id };
  await deps.timers.reschedule(timerAfter(end, deps.clock()));
  if (!(await deps.store.deleteMaintenance(service, id))) return false;
  await deps.timers.cancel(timerName({ kind: 'maintenance', service, windowId: id }));
  await resumeEscalationsFor(service, deps, `maintenance window ${id}`);
  return true;
}

/**
 * A heartbeat ping: record it (a late timer armed before it is then stale), push the heartbeat's
 * one-time timer forward by its interval; if a "missed heartbeat" incident is open, resolve it.
 * Recorded before the look: a miss opening meanwhile either sees this ping or is seen by it.
 */
export async function pingHeartbeat(
  heartbeatId: string,
  integration: Integration,
  deps: EscalationDeps & { bus: AlertBus },
): Promise<{ heartbeat: string; nextDeadline: string; resolved: boolean }> {
  const heartbeat = deps.config.heartbeats.find((h) => h.id === heartbeatId);
  if (heartbeat === undefined) throw new NotFoundError(`no heartbeat ${heartbeatId}`);
  if (heartbeat.service !== integration.service) {
    throw new AuthenticationError(`the integration key does not belong to service ${heartbeat.service}`);
  }
  const now = deps.clock();
  const deadline = new Date(now.getTime() + heartbeat.intervalMinutes * (deps.minuteMs ?? 60_000));
  await deps.store.recordPing(heartbeatId, now);
  await deps.timers.reschedule(
    timerAfter({ kind: 'heartbeat', heartbeatId, armedAt: now.toISOString() }, deadline),
  );
  const open = await deps.store.findOpen(heartbeat.service, heartbeatDedupKey(heartbeatId));
  if (open !== undefined)
    await deps.bus.putAlerts([heartbeatBack(heartbeat, now.toISOString(), integration.name)]);
  return { heartbeat: heartbeatId, nextDeadline: deadline.toISOString(), resolved: open !== undefined };
}
