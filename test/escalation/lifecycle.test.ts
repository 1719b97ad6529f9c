import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mitigateIncident, resolveIncident } from '#app/command';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import { ConflictError } from '#core/errors';
import type { Incident } from '#core/incident';
import { type LifecycleEventType, parseLifecycleEventDetail } from '#core/lifecycle-events';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

const MINUTE = 60_000;
const START = '2026-11-26T10:00:00.000Z';

/** checkout with a 15-minute monitoring period (teamConfig resolves at once by default). */
const MONITORED = { resolveMonitoringMinutes: 15 };

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const at = (p: Pipeline, ms = 0) => new Date(p.clock.now().getTime() + ms).toISOString();
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** An alert of the checkout db-latency key, received now. */
function alertNow(p: Pipeline, overrides: Parameters<typeof makeAlert>[0] = {}) {
  return makeAlert({ receivedAt: at(p), ...overrides });
}

async function open(p: Pipeline, overrides: Parameters<typeof makeAlert>[0] = {}): Promise<Incident> {
  const outcome = await processAlert(alertNow(p, overrides), p.deps);
  if (outcome.kind !== 'opened') throw new Error(`expected a new incident, got ${outcome.kind}`);
  return outcome.incident;
}

async function get(p: Pipeline, id: string): Promise<Incident> {
  const incident = await p.store.get(id);
  if (incident === undefined) throw new Error(`no incident ${id}`);
  return incident;
}

async function types(p: Pipeline, id: string) {
  return (await p.store.timeline(id)).map((e) => e.type);
}

async function entriesOf(p: Pipeline, id: string, type: string) {
  return (await p.store.timeline(id)).filter((e) => e.type === type);
}

async function pendingNames(p: Pipeline) {
  return (await p.timers.pending()).map((t) => t.name).sort();
}

/** Every published event validates against its schema; returns the detail-types and clears. */
function takeEvents(p: Pipeline): string[] {
  for (const { detailType, detail } of p.events.published)
    parseLifecycleEventDetail(detailType as LifecycleEventType, detail);
  return p.events.take();
}

function lastEvent(p: Pipeline, type: string) {
  const found = p.events.published.filter((e) => e.detailType === type).at(-1);
  if (found === undefined) throw new Error(`no ${type} published`);
  return found.detail as Record<string, unknown> & Record<'incident', Record<string, unknown>>;
}

describe('lifecycle on a fake clock', () => {
  describe('monitoring period', () => {
    it('a resolve watches 15 quiet minutes, then resolves as of the request and tells the paged', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      expect(takeEvents(p)).toEqual(['Incident Opened']);

      await p.fastForward(2 * MINUTE);
      const requested = at(p);
      const outcome = await processAlert(alertNow(p, { action: 'resolve' }), p.deps);
      expect(outcome.kind).toBe('monitoring');
      const watching = await get(p, incident.id);
      expect(watching).toMatchObject({
        status: 'monitoring',
        monitoringSince: requested,
        monitoringUntil: plus(requested, 15 * MINUTE),
        monitoringCount: 1,
      });
      expect(watching.resolvedAt).toBeUndefined();
      // The level-2 step timer is gone; only the end of the period is pending.
      expect(await pendingNames(p)).toEqual([`res-${incident.id}-0`]);
      expect(p.takePages()).toEqual([]);
      expect(takeEvents(p)).toEqual([]);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING']);

      await p.fastForward(15 * MINUTE - 1);
      expect((await get(p, incident.id)).status).toBe('monitoring');
      await p.fastForward(1);
      const resolved = await get(p, incident.id);
      expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: requested, monitored: true });
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'RESOLVED']);
      const [res] = await entriesOf(p, incident.id, 'RESOLVED');
      expect(res?.at).toBe(plus(requested, 15 * MINUTE));
      expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
      expect(lastEvent(p, 'Incident Resolved')).toMatchObject({ resolvedAt: requested, monitored: true });
      expect(takeEvents(p)).toEqual(['Incident Resolved']); // SEV-3: no postmortem due
      expect(await pendingNames(p)).toEqual([]);

      // The key moved on: the next trigger opens a new incident.
      const next = await processAlert(alertNow(p), p.deps);
      expect(next.kind).toBe('opened');
      expect(next.kind === 'opened' && next.incident.id).not.toBe(incident.id);
    });
  });
  describe('reopen', () => {
    it('a re-trigger during monitoring reopens the same incident and escalates it again', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      takeEvents(p);
      await p.fastForward(2 * MINUTE);
      await processAlert(alertNow(p, { action: 'resolve' }), p.deps);
      expect(await pendingNames(p)).toEqual([`res-${incident.id}-0`]);

      await p.fastForward(3 * MINUTE);
      const reopenedAt = at(p);
      const outcome = await processAlert(alertNow(p), p.deps);
      expect(outcome.kind).toBe('appended');
      const reopened = await get(p, incident.id);
      expect(reopened).toMatchObject({
        id: incident.id,
        status: 'triggered',
        reopens: 1,
        generation: incident.generation + 1,
        step: 0,
        stepAt: reopenedAt,
        alertCount: 2,
      });
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      expect(lastEvent(p, 'Incident Reopened')).toMatchObject({ reopens: 1, occurredAt: reopenedAt });
      expect(takeEvents(p)).toEqual(['Incident Reopened']);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'REOPENED']);
      const [entry] = await entriesOf(p, incident.id, 'REOPENED');
      expect(entry).toMatchObject({ at: reopenedAt, paged: ['alice'] });
      // The period's timer is cancelled; the new generation's level-2 step is pending.
      expect(await pendingNames(p)).toEqual([`esc-${incident.id}-2-1`]);

      await p.fastForward(5 * MINUTE);
      expect(p.takePages()).toEqual(['page carol carol-0']);
      expect(takeEvents(p)).toEqual(['Incident Escalated']);
      expect((await get(p, incident.id)).step).toBe(1);

      // Resolved again: a second period, named after the reopen count.
      const requested = at(p);
      await processAlert(alertNow(p, { action: 'resolve' }), p.deps);
      expect(await pendingNames(p)).toEqual([`res-${incident.id}-1`]);
      await p.fastForward(15 * MINUTE);
      expect(await get(p, incident.id)).toMatchObject({
        status: 'resolved',
        resolvedAt: requested,
        monitored: true,
        reopens: 1,
      });
      expect(await types(p, incident.id)).toEqual([
        'OPENED',
        'MONITORING',
        'REOPENED',
        'ESCALATED',
        'MONITORING',
        'RESOLVED',
      ]);
      expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1', 'notice carol carol-0']);
      expect(takeEvents(p)).toEqual(['Incident Resolved']);
      expect(await pendingNames(p)).toEqual([]);
    });

    it('the period ending after a trigger was counted but before it reopened: one reopen', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      takeEvents(p);
      await processAlert(alertNow(p, { action: 'resolve' }), p.deps);
      await p.fastForward(15 * MINUTE - 1);
      p.clock.set(new Date(Date.parse(START) + 15 * MINUTE));

      // The trigger is counted; its process dies before reopening.
      const retrigger = alertNow(p);
      const counted = await p.deps.store.trigger(retrigger, p.clock.now(), {});
      expect(counted).toMatchObject({ kind: 'appended', incident: { status: 'monitoring', alertCount: 2 } });
      // The period ends: the count moved, so the timer reopens instead of resolving.
      const event = { kind: 'resolve', incidentId: incident.id, reopens: 0 };
      expect(await handleTimerEvent(event, p.deps)).toBe('done');
      expect(await get(p, incident.id)).toMatchObject({ status: 'triggered', reopens: 1, generation: 2 });
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      // The trigger's retry completes nothing twice.
      const replay = await processAlert(retrigger, p.deps);
      expect(replay.kind).toBe('replayed');
      // And the period's timer, delivered once more, is stale.
      expect(await handleTimerEvent(event, p.deps)).toBe('stale');
      expect(p.takePages()).toEqual([]);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'REOPENED']);
      expect(takeEvents(p)).toEqual(['Incident Reopened']);
      const current = await get(p, incident.id);
      expect(current.resolvedAt).toBeUndefined();
      expect(await pendingNames(p)).toEqual([`esc-${incident.id}-2-1`]);
    });

    it('the trigger reopening first: the period timer that fires later is stale', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      await processAlert(alertNow(p, { action: 'resolve' }), p.deps);
      await p.fastForward(10 * MINUTE);
      await processAlert(alertNow(p), p.deps);
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      expect(await handleTimerEvent({ kind: 'resolve', incidentId: incident.id, reopens: 0 }, p.deps)).toBe(
        'stale',
      );
      expect(p.takePages()).toEqual([]);
      expect((await entriesOf(p, incident.id, 'REOPENED')).length).toBe(1);
    });
  });

  describe('resolve now', () => {
    it('during monitoring: resolved at once as of the resolve request; the period timer no-ops', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      takeEvents(p);
      await p.fastForward(MINUTE);
      const requested = at(p);
      const watch = await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
      expect(watch).toMatchObject({
        changed: true,
        incident: { status: 'monitoring', monitoringSince: requested },
      });
      expect(watch.incident.monitoringUntil).toBe(plus(requested, 15 * MINUTE));
      // Asked again: already monitoring.
      expect((await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps)).changed).toBe(false);

      await p.fastForward(4 * MINUTE);
      const done = await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      expect(done.changed).toBe(true);
      expect(done.incident).toMatchObject({ status: 'resolved', resolvedAt: requested, resolvedBy: 'alice' });
      expect(done.incident.monitored).toBeUndefined();
      expect(await pendingNames(p)).toEqual([]);
      expect(await handleTimerEvent({ kind: 'resolve', incidentId: incident.id, reopens: 0 }, p.deps)).toBe(
        'stale',
      );
      // (Its RESOLVED entry is placed at the resolve request: see the it.fails below on the order.)
      const timeline = await p.store.timeline(incident.id);
      expect(timeline.map((e) => e.type).sort()).toEqual(['MONITORING', 'OPENED', 'RESOLVED']);
      expect(timeline.find((e) => e.type === 'RESOLVED')).toMatchObject({ at: requested, who: 'alice' });
      expect(lastEvent(p, 'Incident Resolved')).toMatchObject({ resolvedAt: requested, monitored: false });
      expect(takeEvents(p)).toEqual(['Incident Resolved']);
      expect(p.takePages()).toEqual([]); // alice resolved it herself; nobody else was paged
      expect((await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps)).changed).toBe(false);
    });

    // BUG: "resolve now" during monitoring writes RESOLVED at the stored resolvedAt, which is the
    // resolve request (monitoringSince) — the same instant as MONITORING, and RESOLVED sorts first
    // among same-instant entries, so the timeline reads OPENED, RESOLVED, MONITORING. Expected
    // RESOLVED after MONITORING (at the "resolve now"). The entry's time is part of its store key
    // and must be computable by a retry, and no stored field holds the "resolve now" time, so the
    // fix is not a one-liner (store the time of the resolve-now, or key RESOLVED apart).
    it.fails('resolve now during monitoring: RESOLVED comes after MONITORING on the timeline', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
      await p.fastForward(4 * MINUTE);
      await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'RESOLVED']);
    });

    it('without monitoring: resolved now', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      await p.fastForward(3 * MINUTE);
      const now = at(p);
      const done = await resolveIncident(incident.id, { who: 'bob', now: true }, p.deps);
      expect(done.incident).toMatchObject({ status: 'resolved', resolvedAt: now, resolvedBy: 'bob' });
      expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
      expect(await pendingNames(p)).toEqual([]);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'RESOLVED']);
    });
  });

  describe('mitigate', () => {
    it('stops escalation, acknowledges too, tells the paged; again is a no-op; resolved conflicts', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      takeEvents(p);
      await p.fastForward(2 * MINUTE);
      const now = at(p);
      const result = await mitigateIncident(incident.id, { who: 'bob', note: 'rolled back' }, p.deps);
      expect(result.changed).toBe(true);
      expect(result.incident).toMatchObject({
        status: 'mitigated',
        mitigatedAt: now,
        mitigatedBy: 'bob',
        acknowledgedAt: now,
        acknowledgedBy: 'bob',
      });
      expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
      expect(lastEvent(p, 'Incident Mitigated')).toMatchObject({ mitigatedAt: now, actor: 'bob' });
      expect(takeEvents(p)).toEqual(['Incident Mitigated']);
      const [entry] = await entriesOf(p, incident.id, 'MITIGATED');
      expect(entry).toMatchObject({ at: now, who: 'bob', text: 'Mitigated by Bob via api: rolled back' });
      expect(await pendingNames(p)).toEqual([]);

      await p.fastForward(10 * MINUTE);
      expect(p.takePages()).toEqual([]);
      const again = await mitigateIncident(incident.id, { who: 'bob' }, p.deps);
      expect(again.changed).toBe(false);
      expect(p.takePages()).toEqual([]);
      expect(takeEvents(p)).toEqual([]);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MITIGATED']);

      await resolveIncident(incident.id, { who: 'bob', now: true }, p.deps);
      const error = await mitigateIncident(incident.id, { who: 'bob' }, p.deps).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).errors).toEqual([{ field: 'status', message: 'is resolved' }]);
    });
  });
});
