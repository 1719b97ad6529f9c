import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acknowledgeIncident,
  assignRole,
  changeSeverity,
  handOff,
  mitigateIncident,
  publishPostmortem,
  removeRole,
  resolveIncident,
} from '#app/command';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import { checklistView } from '#core/checklists';
import { ConflictError } from '#core/errors';
import type { Incident } from '#core/incident';
import { type LifecycleEventType, parseLifecycleEventDetail } from '#core/lifecycle-events';
import { generatePostmortem } from '#core/postmortem';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { openIncident, type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
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

const open = openIncident;

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
      // The period's end in the config's time zone (Berlin), as every other entry reads.
      const [watched] = await entriesOf(p, incident.id, 'MONITORING');
      expect(watched?.text).toMatch(/: monitoring until 11:17; a re-trigger reopens it$/);

      await p.fastForward(15 * MINUTE - 1);
      expect((await get(p, incident.id)).status).toBe('monitoring');
      await p.fastForward(1);
      const resolved = await get(p, incident.id);
      expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: requested, monitored: true });
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'RESOLVED']);
      const [res] = await entriesOf(p, incident.id, 'RESOLVED');
      expect(res?.at).toBe(plus(requested, 15 * MINUTE));
      expect(res?.text).toBe(
        'Resolved: quiet through the monitoring period since 11:02 Thu 26 Nov (Europe/Berlin)',
      );
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
        // Paging level 1 again is not an escalation (metrics, postmortem "escalation was needed").
        escalations: 0,
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
      // And the period's timer, delivered once more, finds its reopen complete: nothing more.
      expect(await handleTimerEvent(event, p.deps)).toBe('replayed');
      expect(p.takePages()).toEqual([]);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'REOPENED']);
      expect(takeEvents(p)).toEqual(['Incident Reopened']);
      const current = await get(p, incident.id);
      expect(current.resolvedAt).toBeUndefined();
      // The period's timer was fired by hand here: it does not cancel itself (its retry must survive
      // a failure), and the timers delete a timer once it has run.
      expect(await pendingNames(p)).toEqual([`esc-${incident.id}-2-1`, `res-${incident.id}-0`]);
    });

    it('the trigger reopening first: the period timer that fires later changes nothing', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      p.takePages();
      await processAlert(alertNow(p, { action: 'resolve' }), p.deps);
      await p.fastForward(10 * MINUTE);
      await processAlert(alertNow(p), p.deps);
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      // It finds the reopen of its period complete (it would complete it otherwise).
      expect(await handleTimerEvent({ kind: 'resolve', incidentId: incident.id, reopens: 0 }, p.deps)).toBe(
        'replayed',
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
      const timeline = await p.store.timeline(incident.id);
      expect(timeline.map((e) => e.type).sort()).toEqual(['MONITORING', 'OPENED', 'RESOLVED']);
      // Restored at the request; resolved (and so recorded) at the "resolve now", 4 minutes on.
      const closed = new Date(Date.parse(requested) + 4 * MINUTE).toISOString();
      expect(done.incident.closedAt).toBe(closed);
      expect(timeline.find((e) => e.type === 'RESOLVED')).toMatchObject({ at: closed, who: 'alice' });
      expect(lastEvent(p, 'Incident Resolved')).toMatchObject({ resolvedAt: requested, monitored: false });
      expect(takeEvents(p)).toEqual(['Incident Resolved']);
      expect(p.takePages()).toEqual([]); // alice resolved it herself; nobody else was paged
      expect((await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps)).changed).toBe(false);
    });

    // Regression: RESOLVED was placed at resolvedAt (= monitoringSince, the instant of MONITORING)
    // and sorted before it; it is now placed at closedAt, when the incident became resolved.
    it('resolve now during monitoring: RESOLVED comes after MONITORING on the timeline', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
      await p.fastForward(4 * MINUTE);
      await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'RESOLVED']);
    });

    it('during a monitoring period that counted an alert (its reopen still on the way): resolved as of now', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      await p.fastForward(MINUTE);
      await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
      await p.fastForward(2 * MINUTE);
      // The alert fires again: counted, and the process dies before it reopens the incident.
      await p.store.trigger(alertNow(p, { eventKey: 'again' }), p.clock.now());
      await p.fastForward(MINUTE);
      const now = at(p);
      const done = await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      // Not as of the request: the period was not quiet, and the alert belongs to this incident's time.
      expect(done.incident).toMatchObject({ status: 'resolved', resolvedAt: now, alertCount: 2 });
    });

    it('…also when the alert is counted after the request read the incident (the store guards the backdating)', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      await p.fastForward(MINUTE);
      await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
      const quiet = await get(p, incident.id); // what the request reads: a quiet period
      await p.fastForward(2 * MINUTE);
      await p.store.trigger(alertNow(p, { eventKey: 'again' }), p.clock.now());
      const store = overriding(p.store, { get: async () => quiet });
      const now = at(p);
      await resolveIncident(incident.id, { who: 'alice', now: true }, { ...p.deps, store });
      expect(await get(p, incident.id)).toMatchObject({ status: 'resolved', resolvedAt: now, alertCount: 2 });
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
  describe('severity', () => {
    it('raising a triggered incident restarts escalation (reminders and re-assessment wait for an owner)', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      expect(incident.sev).toBe('SEV-3');
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      expect(await pendingNames(p)).toEqual([`esc-${incident.id}-1-1`]); // SEV-3: no reminders
      takeEvents(p);

      await p.fastForward(2 * MINUTE);
      const now = at(p);
      const input = { severity: 'SEV-1', reason: 'all checkouts failing', who: 'alice' } as const;
      const raised = await changeSeverity(incident.id, input, p.deps);
      expect(raised.changed).toBe(true);
      expect(raised.incident).toMatchObject({
        sev: 'SEV-1',
        status: 'triggered',
        generation: 2,
        step: 0,
        stepAt: now,
        severityChanges: 1,
        severityChangedAt: now,
        escalationPolicy: 'checkout',
      });
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      // Level 2 of the new generation; no reminders yet: nobody owns it until it is acknowledged.
      expect(await pendingNames(p)).toEqual([`esc-${incident.id}-2-1`]);
      // The old generation's step timer, delivered anyway, is stale.
      expect(
        await handleTimerEvent({ kind: 'escalate', incidentId: incident.id, generation: 1, step: 1 }, p.deps),
      ).toBe('stale');
      expect(p.takePages()).toEqual([]);
      expect(lastEvent(p, 'Incident Severity Changed')).toMatchObject({
        from: 'SEV-3',
        to: 'SEV-1',
        direction: 'raised',
        reason: 'all checkouts failing',
        actor: 'alice',
        incident: { severity: 'SEV-1' },
      });
      expect(takeEvents(p)).toEqual(['Incident Severity Changed']);
      const [entry] = await entriesOf(p, incident.id, 'SEVERITY_CHANGED');
      expect(entry).toMatchObject({
        at: now,
        who: 'alice',
        text: 'Escalated SEV-3 → SEV-1: all checkouts failing',
        paged: ['alice'],
      });

      // Same severity again: a retry, nothing changes.
      expect((await changeSeverity(incident.id, input, p.deps)).changed).toBe(false);
      expect(p.takePages()).toEqual([]);
      expect(takeEvents(p)).toEqual([]);

      await p.fastForward(5 * MINUTE);
      expect(p.takePages()).toEqual(['page carol carol-0']);
      takeEvents(p);

      // Lowering pages nobody.
      const lowered = await changeSeverity(
        incident.id,
        { severity: 'SEV-3', reason: 'only one region', who: 'carol' },
        p.deps,
      );
      expect(lowered.incident).toMatchObject({ sev: 'SEV-3', generation: 2, severityChanges: 2 });
      expect(p.takePages()).toEqual([]);
      expect(lastEvent(p, 'Incident Severity Changed')).toMatchObject({
        from: 'SEV-1',
        to: 'SEV-3',
        direction: 'lowered',
      });
      expect(takeEvents(p)).toEqual(['Incident Severity Changed']);
      const changes = await entriesOf(p, incident.id, 'SEVERITY_CHANGED');
      expect(changes.map((e) => e.text)).toEqual([
        'Escalated SEV-3 → SEV-1: all checkouts failing',
        'De-escalated SEV-1 → SEV-3: only one region',
      ]);
      expect(changes[1]?.paged).toBeUndefined();
    });

    it('raising an acknowledged incident pages level 1 once and keeps its status', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      p.takePages();
      takeEvents(p);
      await p.fastForward(MINUTE);
      const raised = await changeSeverity(
        incident.id,
        { severity: 'SEV-2', reason: 'payments affected', who: 'alice' },
        p.deps,
      );
      expect(raised.incident).toMatchObject({ status: 'acknowledged', sev: 'SEV-2', generation: 1 });
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      expect(p.pager.inbox.at(-1)?.page.reason).toBe('Raised to SEV-2: payments affected');
      expect(takeEvents(p)).toEqual(['Incident Severity Changed']);
      await p.fastForward(10 * MINUTE);
      expect(p.takePages().filter((l) => l.startsWith('page'))).toEqual([]);
      expect(await types(p, incident.id)).toEqual(['OPENED', 'ACKNOWLEDGED', 'SEVERITY_CHANGED']);
    });

    it("raising pages the new severity's policy and switches the incident to it", async () => {
      const base = teamConfig();
      const config = teamConfig(
        { severityPolicies: { 'SEV-1': 'major' } },
        {
          escalationPolicies: [
            ...base.escalationPolicies,
            { id: 'major', levels: [{ delayMinutes: 5, targets: [{ responder: 'bob' }] }] },
          ],
        },
      );
      const p = await startPipeline(dynamo, config, START);
      const incident = await open(p, { severity: 'warning' });
      expect(incident.escalationPolicy).toBe('checkout');
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      await p.fastForward(MINUTE);
      const raised = await changeSeverity(
        incident.id,
        { severity: 'SEV-1', reason: 'outage', who: 'alice' },
        p.deps,
      );
      expect(raised.incident).toMatchObject({ escalationPolicy: 'major', generation: 2 });
      expect(p.takePages()).toEqual(['page bob bob-0']);
      await p.fastForward(5 * MINUTE);
      // 'major' has one level and no repeat: the fallback is next.
      expect(p.takePages()).toEqual(['page dave dave-0']);
      // Lowered again, still unacknowledged: back to the policy a SEV-3 of the service gets, whose
      // escalation restarts from its level 1 (the running one was the other policy's).
      const lowered = await changeSeverity(
        incident.id,
        { severity: 'SEV-3', reason: 'contained', who: 'alice' },
        p.deps,
      );
      expect(lowered.incident).toMatchObject({ sev: 'SEV-3', escalationPolicy: 'checkout', generation: 3 });
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      await p.fastForward(5 * MINUTE);
      expect(p.takePages()).toEqual(['page carol carol-0']);
    });

    it("lowering a triggered incident whose policy changes restarts the new policy's escalation from level 1", async () => {
      const base = teamConfig();
      const config = teamConfig(
        { severityPolicies: { 'SEV-1': 'all-hands' } },
        {
          escalationPolicies: [
            ...base.escalationPolicies,
            {
              id: 'all-hands',
              levels: [{ delayMinutes: 10, targets: [{ responder: 'bob' }, { responder: 'carol' }] }],
            },
          ],
        },
      );
      const p = await startPipeline(dynamo, config, START);
      const incident = await open(p); // critical → SEV-1 → all-hands
      expect(p.takePages()).toEqual(['page bob bob-0', 'page carol carol-0']);
      await p.fastForward(2 * MINUTE);
      await changeSeverity(incident.id, { severity: 'SEV-3', reason: 'one shard', who: 'bob' }, p.deps);
      // checkout's level 1 (alice, on call) now, its level 2 five minutes later.
      expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
      await p.fastForward(5 * MINUTE);
      expect(p.takePages()).toEqual(['page carol carol-0']);
      // The old policy's pending step went stale: nothing more from it.
      await p.fastForward(4 * MINUTE);
      expect(p.takePages()).toEqual([]);
    });

    it('a raise never postpones the pending reminder: due at the sooner of the two', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'error' }); // SEV-2: reminder due at ack + 30
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(25 * MINUTE);
      await changeSeverity(incident.id, { severity: 'SEV-1', reason: 'outage', who: 'alice' }, p.deps);
      await p.fastForward(5 * MINUTE); // ack + 30, not raise + 15
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(1);
    });

    it('a lowering moves the pending reminder back to the longer interval', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p); // SEV-1: every 15 minutes from the acknowledgement
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(10 * MINUTE);
      await changeSeverity(incident.id, { severity: 'SEV-2', reason: 'contained', who: 'alice' }, p.deps);
      await p.fastForward(10 * MINUTE); // ack + 20: no SEV-1 reminder at ack + 15
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(0);
      await p.fastForward(10 * MINUTE); // ack + 30
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(1);
    });

    it('the pending reminder follows each change of interval: a lowering moves it back, a raise up again', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p); // SEV-1: every 15 minutes from the acknowledgement
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(14 * MINUTE);
      await changeSeverity(incident.id, { severity: 'SEV-2', reason: 'contained', who: 'alice' }, p.deps);
      await p.fastForward(30_000);
      await changeSeverity(incident.id, { severity: 'SEV-1', reason: 'spreading', who: 'alice' }, p.deps);
      await p.fastForward(2 * MINUTE); // past ack + 15: lowered to every 30, nothing yet
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(0);
      await p.fastForward(13 * MINUTE); // raise + 15 (before ack + 30)
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(1);
    });

    it('a raise moves the next status reminder to the new, shorter interval', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'error' }); // SEV-2: reminders every 30 minutes
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(MINUTE);
      await changeSeverity(incident.id, { severity: 'SEV-1', reason: 'outage', who: 'alice' }, p.deps);
      p.takePages();
      await p.fastForward(15 * MINUTE);
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(1);
      await p.fastForward(15 * MINUTE);
      expect(await entriesOf(p, incident.id, 'REMINDED')).toHaveLength(2);
    });
  });

  describe('re-assessment', () => {
    /** The re-assessment reminders sent so far, as "responder contact". */
    const reassessPages = (p: Pipeline) =>
      p.pager.inbox
        .filter((e) => e.page.kind === 'reminder' && e.page.reason.startsWith('Re-assess'))
        .map((e) => `${e.page.responder.id} ${e.page.contact.key}`);

    it("a SEV-1's acknowledger is asked every 30 minutes from detection", async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p);
      expect(incident.sev).toBe('SEV-1');
      await p.fastForward(MINUTE);
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(29 * MINUTE - 1);
      expect(reassessPages(p)).toEqual([]);
      await p.fastForward(1);
      expect(reassessPages(p)).toEqual(['alice alice-0', 'alice alice-1']);
      await p.fastForward(30 * MINUTE);
      const reassessed = await entriesOf(p, incident.id, 'REASSESS_REMINDED');
      expect(reassessed.map((e) => [e.at, e.paged])).toEqual([
        [plus(START, 30 * MINUTE), ['alice']],
        [plus(START, 60 * MINUTE), ['alice']],
      ]);
      expect(reassessed[0]?.text).toContain('still SEV-1?');
      expect(reassessPages(p)).toHaveLength(4);
      expect((await get(p, incident.id)).reassessSeq).toBe(2);

      await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      expect((await pendingNames(p)).filter((n) => n.startsWith('rea-'))).toEqual([]);
      // A late delivery of the next mark is stale.
      expect(await handleTimerEvent({ kind: 'reassess', incidentId: incident.id, seq: 3 }, p.deps)).toBe(
        'stale',
      );
      await p.fastForward(2 * HOUR);
      expect(await entriesOf(p, incident.id, 'REASSESS_REMINDED')).toHaveLength(2);
    });

    it('an unacknowledged SEV-1 gets no reminders; acknowledging (here: mitigating) starts them', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p);
      expect(incident.sev).toBe('SEV-1');
      expect(await pendingNames(p)).toEqual([`esc-${incident.id}-1-1`]);
      await p.fastForward(40 * MINUTE);
      expect(await entriesOf(p, incident.id, 'REASSESS_REMINDED')).toEqual([]);
      expect(await entriesOf(p, incident.id, 'REMINDED')).toEqual([]);
      await mitigateIncident(incident.id, { who: 'carol' }, p.deps);
      // Status updates every 15 minutes from now; re-assessment at the next 30-minute mark from detection.
      const pending = await p.timers.pending();
      expect(pending.filter((t) => !t.name.startsWith('esc-')).map((t) => [t.name, t.dueAt])).toEqual([
        [`rem-${incident.id}-1`, plus(START, 55 * MINUTE)],
        [`rea-${incident.id}-2`, plus(START, 60 * MINUTE)],
      ]);
      await p.fastForward(20 * MINUTE);
      expect(reassessPages(p)).toEqual(['carol carol-0']);
    });

    it('a SEV-3 is re-assessed only once it has an incident commander, from the next mark', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(40 * MINUTE);
      expect(await entriesOf(p, incident.id, 'REASSESS_REMINDED')).toEqual([]);
      expect(await pendingNames(p)).toEqual([]);

      await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'alice' }, p.deps);
      expect(await pendingNames(p)).toEqual([`rea-${incident.id}-2`]);
      await p.fastForward(20 * MINUTE - 1);
      expect(reassessPages(p)).toEqual([]);
      await p.fastForward(1);
      expect(reassessPages(p)).toEqual(['bob bob-0']);
      const reassessed = await entriesOf(p, incident.id, 'REASSESS_REMINDED');
      expect(reassessed.map((e) => [e.at, e.paged])).toEqual([[plus(START, 60 * MINUTE), ['bob']]]);
      expect(await pendingNames(p)).toEqual([`rea-${incident.id}-3`]);

      await resolveIncident(incident.id, { who: 'bob', now: true }, p.deps);
      expect(await pendingNames(p)).toEqual([]);
      await p.fastForward(2 * HOUR);
      expect(await entriesOf(p, incident.id, 'REASSESS_REMINDED')).toHaveLength(1);
    });
  });

  describe('removing the incident commander', () => {
    /** Reminders sent so far, as "responder contact": status updates, or re-assessments. */
    const reminders = (p: Pipeline, kind: 'Still' | 'Re-assess') =>
      p.pager.inbox
        .filter((e) => e.page.kind === 'reminder' && e.page.reason.startsWith(kind))
        .map((e) => `${e.page.responder.id} ${e.page.contact.key}`);

    it('a SEV-1 without its commander: status updates and re-assessment go to the acknowledger again', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p);
      expect(incident.sev).toBe('SEV-1');
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'alice' }, p.deps);
      await p.fastForward(16 * MINUTE);
      expect(reminders(p, 'Still')).toEqual(['bob bob-0']);
      const removed = await removeRole(incident.id, { role: 'commander', from: 'bob', who: 'alice' }, p.deps);
      expect(removed).toMatchObject({ changed: true, incident: { roles: {} } });
      expect((await entriesOf(p, incident.id, 'ROLE_REMOVED')).map((e) => e.text)).toEqual([
        'Bob is no longer the incident commander',
      ]);
      await p.fastForward(15 * MINUTE);
      // Reminder 2 is alice's (the throttle holds it: her re-assessment went out at the same instant).
      const reminded = await entriesOf(p, incident.id, 'REMINDED');
      expect(reminded.map((e) => [...(e.paged ?? []), ...(e.throttled ?? [])])).toEqual([
        ['bob'],
        ['alice-0', 'alice-1'],
      ]);
      expect(reminders(p, 'Re-assess')).toEqual(['alice alice-0', 'alice alice-1']);
      // The checklist's "IC assigned" is open again: there is no commander.
      const view = checklistView({
        incident: await get(p, incident.id),
        timeline: await p.store.timeline(incident.id),
        actionItems: [],
        now: p.clock.now(),
      });
      const ic = view.phases.flatMap((ph) => ph.items).find((i) => i.id === 'assign-ic');
      expect(ic?.done).toBe(false);
    });

    it('a SEV-3 without its commander is not re-assessed any more (until one is named again)', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'alice' }, p.deps);
      expect(await pendingNames(p)).toEqual([`rea-${incident.id}-1`]);
      await p.fastForward(10 * MINUTE);
      await removeRole(incident.id, { role: 'commander', who: 'alice' }, p.deps);
      await p.fastForward(2 * HOUR);
      expect(reminders(p, 'Re-assess')).toEqual([]);
      expect(await entriesOf(p, incident.id, 'REASSESS_REMINDED')).toEqual([]);
      expect(await pendingNames(p)).toEqual([]);
      // Named again: from the next mark.
      await assignRole(incident.id, { role: 'commander', person: 'carol', who: 'alice' }, p.deps);
      expect(await pendingNames(p)).toEqual([`rea-${incident.id}-5`]);
    });
  });

  describe('roles and handoff', () => {
    it('assigns roles, lists SMEs, and hands the incident commander role over with the brief', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      p.takePages();

      const lead = await assignRole(
        incident.id,
        { role: 'tech-lead', person: 'carol', who: 'alice' },
        p.deps,
      );
      expect(lead).toMatchObject({ changed: true, incident: { roles: { 'tech-lead': 'carol' } } });
      expect(p.takePages()).toEqual(['notice carol carol-0']);
      // (A second apart: entries of one type at the same instant sort by their ids.)
      await p.fastForward(1000);
      await assignRole(incident.id, { role: 'sme', person: 'bob', who: 'alice' }, p.deps);
      await p.fastForward(1000);
      await assignRole(incident.id, { role: 'sme', person: 'dave', who: 'alice' }, p.deps);
      const again = await assignRole(incident.id, { role: 'sme', person: 'bob', who: 'alice' }, p.deps);
      expect(again.changed).toBe(false);
      expect(again.incident.smes).toEqual(['bob', 'dave']);
      expect(p.takePages()).toEqual(['notice bob bob-0', 'notice dave dave-0']);
      await p.fastForward(1000);
      const ic = await assignRole(incident.id, { role: 'commander', person: 'alice', who: 'alice' }, p.deps);
      expect(ic.incident.roles).toEqual({ 'tech-lead': 'carol', commander: 'alice' });
      const assigned = await entriesOf(p, incident.id, 'ROLE_ASSIGNED');
      expect(assigned.map((e) => e.text)).toEqual([
        'Carol is the tech lead',
        'Bob is a subject-matter expert',
        'Dave is a subject-matter expert',
        'Alice is the incident commander',
      ]);
      p.takePages();

      // Bob was told of his SME role a moment ago: his status throttle (one per 3 minutes) would
      // hold another notice, but one person telling another is sent all the same.
      const brief = {
        status: 'checkout errors at 40%',
        tried: 'rolled back 1.42',
        strategy: 'fail over to eu-west-2',
        people: 'carol on the database',
        decisions: 'whether to open status page',
      };
      const handoff = await handOff(incident.id, { to: 'bob', who: 'alice', brief }, p.deps);
      expect(handoff.changed).toBe(true);
      expect(handoff.incident.roles.commander).toBe('bob');
      expect(p.takePages()).toEqual(['notice bob bob-0']);
      expect(p.pager.inbox.at(-1)?.page.reason).toBe(
        'You are now the incident commander (handoff from Alice) | Status and impact: checkout errors at 40% | ' +
          'Tried: rolled back 1.42 | Current strategy: fail over to eu-west-2 | Key people: carol on the database | ' +
          'Pending decisions: whether to open status page',
      );
      const [entry] = await entriesOf(p, incident.id, 'HANDOFF');
      expect(entry?.who).toBe('alice');
      expect(entry?.paged).toEqual(['bob']);
      expect(entry?.text).toContain('from Alice to Bob');
      for (const part of Object.values(brief)) expect(entry?.text).toContain(part);

      const same = await handOff(incident.id, { to: 'bob', who: 'alice', brief }, p.deps);
      expect(same.changed).toBe(false);
      expect(p.takePages()).toEqual([]);
      expect(await entriesOf(p, incident.id, 'HANDOFF')).toHaveLength(1);
    });
  });
  describe('postmortem due', () => {
    /** A SEV-1 acknowledged by alice at 10:01 and resolved by `resolver` at 10:10. */
    async function resolvedSev1(p: Pipeline, resolve: (id: string) => Promise<unknown>) {
      const incident = await open(p);
      await p.fastForward(MINUTE);
      await acknowledgeIncident(incident.id, 'alice', p.deps);
      await p.fastForward(9 * MINUTE);
      p.takePages();
      takeEvents(p);
      await resolve(incident.id);
      return get(p, incident.id);
    }

    it('a SEV-1 resolved: reminder at 24 hours, overdue at 48', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const resolved = await resolvedSev1(p, (id) =>
        resolveIncident(id, { who: 'alice', now: true }, p.deps),
      );
      const resolvedAt = plus(START, 10 * MINUTE);
      expect(resolved).toMatchObject({ status: 'resolved', resolvedAt, resolvedBy: 'alice' });
      expect(lastEvent(p, 'Postmortem Due')).toMatchObject({ dueAt: plus(resolvedAt, 48 * HOUR) });
      expect(takeEvents(p)).toEqual(['Incident Resolved', 'Postmortem Due']);
      expect(await p.timers.pending()).toEqual([
        expect.objectContaining({ name: `pm-${resolved.id}-reminder`, dueAt: plus(resolvedAt, 24 * HOUR) }),
        expect.objectContaining({ name: `pm-${resolved.id}-due`, dueAt: plus(resolvedAt, 48 * HOUR) }),
      ]);
      expect((await entriesOf(p, resolved.id, 'RESOLVED'))[0]?.text).toContain(
        // 48 hours after 10:10 UTC on the 26th, in the config's zone.
        'postmortem due by 11:10 Sat 28 Nov (Europe/Berlin)',
      );

      await p.fastForward(24 * HOUR - 1);
      expect(p.takePages()).toEqual([]);
      await p.fastForward(1);
      expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
      const [reminded] = await entriesOf(p, resolved.id, 'POSTMORTEM_REMINDED');
      expect(reminded).toMatchObject({ at: plus(resolvedAt, 24 * HOUR), paged: ['alice'] });
      await p.fastForward(24 * HOUR);
      expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
      const [overdue] = await entriesOf(p, resolved.id, 'POSTMORTEM_OVERDUE');
      expect(overdue).toMatchObject({ at: plus(resolvedAt, 48 * HOUR), paged: ['alice'] });
      expect((await types(p, resolved.id)).slice(-3)).toEqual([
        'RESOLVED',
        'POSTMORTEM_REMINDED',
        'POSTMORTEM_OVERDUE',
      ]);
      expect(await pendingNames(p)).toEqual([]);
      expect(takeEvents(p)).toEqual([]);
    });

    it('the incident commander owns the postmortem', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p);
      await assignRole(incident.id, { role: 'commander', person: 'carol', who: 'alice' }, p.deps);
      await p.fastForward(10 * MINUTE);
      await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      p.takePages();
      await p.fastForward(24 * HOUR);
      expect(p.takePages()).toEqual(['reminder carol carol-0']);
    });

    it('resolved by an alert source: the acknowledger is reminded', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const resolved = await resolvedSev1(p, (id) =>
        processAlert(alertNow(p, { action: 'resolve' }), p.deps).then(() => id),
      );
      expect(resolved).toMatchObject({
        status: 'resolved',
        resolvedBy: 'events-v2',
        acknowledgedBy: 'alice',
      });
      expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
      await p.fastForward(24 * HOUR);
      expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
    });

    it('published before 24 hours: the timers are cancelled and nothing is sent', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const resolved = await resolvedSev1(p, (id) =>
        resolveIncident(id, { who: 'alice', now: true }, p.deps),
      );
      await p.fastForward(3 * HOUR);
      const published = await publishPostmortem(resolved.id, 'alice', p.deps);
      expect(published).toMatchObject({
        changed: true,
        incident: { postmortemDoneAt: at(p), postmortemDoneBy: 'alice' },
      });
      expect(await pendingNames(p)).toEqual([]);
      expect((await publishPostmortem(resolved.id, 'alice', p.deps)).changed).toBe(false);
      // A late delivery anyway is stale.
      expect(
        await handleTimerEvent({ kind: 'postmortem', incidentId: resolved.id, stage: 'reminder' }, p.deps),
      ).toBe('stale');
      await p.fastForward(48 * HOUR);
      expect(p.takePages()).toEqual([]);
      expect((await types(p, resolved.id)).slice(-2)).toEqual(['RESOLVED', 'POSTMORTEM_PUBLISHED']);
    });

    it('two owed by one person: the reminder and the deadline the throttle refused come 3 minutes later', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const a = await open(p, { dedupKey: 'orders-db' });
      const b = await open(p, { dedupKey: 'payment-queue' });
      await p.fastForward(10 * MINUTE);
      await resolveIncident(a.id, { who: 'carol', now: true }, p.deps);
      await resolveIncident(b.id, { who: 'carol', now: true }, p.deps);
      p.takePages();
      const about = () =>
        p.pager.inbox.filter((e) => /Postmortem/.test(e.page.reason)).map((e) => e.page.incident.id);
      await p.fastForward(24 * HOUR);
      expect(about()).toHaveLength(1);
      await p.fastForward(3 * MINUTE);
      expect(about().sort()).toEqual([a.id, b.id].sort());
      const held = about()[1] ?? '';
      expect(
        (await entriesOf(p, held, 'POSTMORTEM_REMINDED')).map((e) => [e.paged ?? [], e.throttled ?? []]),
      ).toEqual([
        [[], ['carol-0']],
        [['carol'], []],
      ]);
      await p.fastForward(24 * HOUR);
      expect(about()).toHaveLength(4);
      expect(about().slice(2).sort()).toEqual([a.id, b.id].sort());
      expect(await pendingNames(p)).toEqual([]);
    });

    it('a held reminder whose postmortem was published meanwhile is not sent', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const a = await open(p, { dedupKey: 'orders-db' });
      const b = await open(p, { dedupKey: 'payment-queue' });
      await p.fastForward(10 * MINUTE);
      await resolveIncident(a.id, { who: 'carol', now: true }, p.deps);
      await resolveIncident(b.id, { who: 'carol', now: true }, p.deps);
      p.takePages();
      await p.fastForward(24 * HOUR);
      expect(p.takePages()).toHaveLength(1);
      const held = p.pager.inbox.at(-1)?.page.incident.id === a.id ? b : a;
      expect(await pendingNames(p)).toContain(`pm-${held.id}-reminder-h1`);
      await publishPostmortem(held.id, 'carol', p.deps);
      await p.fastForward(3 * MINUTE);
      expect(p.takePages()).toEqual([]);
      expect(await entriesOf(p, held.id, 'POSTMORTEM_REMINDED')).toHaveLength(1);
    });

    it('a SEV-3 resolved needs no postmortem', async () => {
      const p = await startPipeline(dynamo, teamConfig(), START);
      const incident = await open(p, { severity: 'warning' });
      takeEvents(p);
      await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      expect(takeEvents(p)).toEqual(['Incident Resolved']);
      expect(await pendingNames(p)).toEqual([]);
    });
  });

  describe('postmortem all incidents once the error budget is exhausted', () => {
    const SLO = { slo: { availability: 99.9, owners: ['alice'] } };
    const REASON = "required: checkout's error budget for 2026-11 is exhausted";

    /** checkout and billing with an SLO each; checkout's budget for 2026-11 recorded exhausted at `at`. */
    async function exhausted(at = START) {
      const config = teamConfig(SLO);
      config.services[1] = { ...config.services[1], ...SLO } as (typeof config.services)[number];
      const p = await startPipeline(dynamo, config, START);
      // What the nightly rollup writes when the month's downtime uses the budget up.
      expect(await p.store.claimBudgetNotice('checkout', '2026-11', new Date(at))).toBe(true);
      return p;
    }

    const postmortemPhase = async (p: Pipeline, id: string) =>
      checklistView({
        incident: await get(p, id),
        timeline: await p.store.timeline(id),
        actionItems: [],
        now: p.clock.now(),
      }).phases.find((phase) => phase.phase === 'postmortem');

    it('a SEV-3 resolved after it: reminder at 24 hours, overdue at 48, saying why; a lowering keeps it', async () => {
      const p = await exhausted();
      const incident = await open(p, { severity: 'warning' });
      expect(incident.sev).toBe('SEV-3');
      await p.fastForward(10 * MINUTE);
      p.takePages();
      takeEvents(p);
      await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
      const resolvedAt = plus(START, 10 * MINUTE);
      const resolved = await get(p, incident.id);
      expect(resolved).toMatchObject({ status: 'resolved', resolvedAt, postmortemBudgetMonth: '2026-11' });
      expect(lastEvent(p, 'Postmortem Due')).toMatchObject({
        dueAt: plus(resolvedAt, 48 * HOUR),
        errorBudgetMonth: '2026-11',
        incident: { severity: 'SEV-3' },
      });
      expect(takeEvents(p)).toEqual(['Incident Resolved', 'Postmortem Due']);
      expect(await p.timers.pending()).toEqual([
        expect.objectContaining({ name: `pm-${incident.id}-reminder`, dueAt: plus(resolvedAt, 24 * HOUR) }),
        expect.objectContaining({ name: `pm-${incident.id}-due`, dueAt: plus(resolvedAt, 48 * HOUR) }),
      ]);
      expect((await entriesOf(p, incident.id, 'RESOLVED'))[0]?.text).toContain(
        `postmortem due by 11:10 Sat 28 Nov (Europe/Berlin) (${REASON})`,
      );
      expect(await postmortemPhase(p, incident.id)).toMatchObject({ dueAt: plus(resolvedAt, 72 * HOUR) });
      expect((await postmortemPhase(p, incident.id))?.optional).toBeUndefined();

      // Lowered after resolution: the budget still requires it.
      await changeSeverity(incident.id, { severity: 'SEV-4', reason: 'internal only', who: 'alice' }, p.deps);
      expect(await get(p, incident.id)).toMatchObject({ sev: 'SEV-4', postmortemBudgetMonth: '2026-11' });

      p.takePages(); // the lowering's notice to those paged
      await p.fastForward(24 * HOUR - 1);
      expect(p.takePages()).toEqual([]);
      await p.fastForward(1);
      expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
      expect(p.pager.inbox.at(-1)?.page.reason).toBe(`Postmortem due in 24 hours (${REASON})`);
      const [reminded] = await entriesOf(p, incident.id, 'POSTMORTEM_REMINDED');
      expect(reminded).toMatchObject({
        at: plus(resolvedAt, 24 * HOUR),
        text: `Postmortem due in 24 hours (${REASON})`,
      });
      await p.fastForward(24 * HOUR);
      expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
      const [overdue] = await entriesOf(p, incident.id, 'POSTMORTEM_OVERDUE');
      expect(overdue).toMatchObject({ at: plus(resolvedAt, 48 * HOUR) });
      expect(overdue?.text).toContain(REASON);
      expect(await pendingNames(p)).toEqual([]);
    });

    it('not for another service, the next month in the configured zone, or a resolution before it', async () => {
      const p = await exhausted(plus(START, 30 * MINUTE));
      // Resolved before the exhaustion was recorded (10:10 < 10:30): its first attempt failed
      // midway, and the retry after the recording decides as the first did.
      const early = await open(p, { severity: 'warning' });
      await p.fastForward(10 * MINUTE);
      const failing = {
        ...p.deps,
        events: overriding(p.events, {
          publish: async () => {
            throw new Error('bus down');
          },
        }),
      };
      await expect(resolveIncident(early.id, { who: 'alice', now: true }, failing)).rejects.toThrow(
        'bus down',
      );
      await p.fastForward(30 * MINUTE);
      await resolveIncident(early.id, { who: 'alice', now: true }, p.deps);
      expect((await get(p, early.id)).postmortemBudgetMonth).toBeUndefined();

      // billing has an SLO too, but its budget is not exhausted.
      const billing = await open(p, { service: 'billing', severity: 'warning' });
      await resolveIncident(billing.id, { who: 'alice', now: true }, p.deps);
      expect((await get(p, billing.id)).postmortemBudgetMonth).toBeUndefined();

      // 2026-11-30T23:30Z is 00:30 on 1 December in Berlin: December's budget, not exhausted.
      p.clock.set(new Date('2026-11-30T23:20:00.000Z'));
      const december = await open(p, { severity: 'warning', dedupKey: 'december' });
      await p.fastForward(10 * MINUTE);
      await resolveIncident(december.id, { who: 'alice', now: true }, p.deps);
      expect((await get(p, december.id)).postmortemBudgetMonth).toBeUndefined();

      for (const id of [early.id, billing.id, december.id])
        expect((await postmortemPhase(p, id))?.optional).toBe(true);
      expect(takeEvents(p).filter((t) => t === 'Postmortem Due')).toEqual([]);
      expect((await pendingNames(p)).filter((n) => n.startsWith('pm-'))).toEqual([]);
    });

    it('a retried or doubled resolution schedules one reminder and one deadline', async () => {
      const p = await exhausted();
      const incident = await open(p, { severity: 'warning' });
      await p.fastForward(10 * MINUTE);
      // The first attempt dies after its effects, before the RESOLVED entry that completes them.
      let budgetReads = 0;
      let failing = true;
      const deps = {
        ...p.deps,
        store: overriding(p.store, {
          budgetExhaustedAt: async (service: string, month: string) => {
            budgetReads++;
            return p.store.budgetExhaustedAt(service, month);
          },
          putTimelineEntry: async (entry, options) => {
            if (failing && entry.type === 'RESOLVED') throw new Error('throttled');
            return p.store.putTimelineEntry(entry, options);
          },
        }),
      };
      await expect(resolveIncident(incident.id, { who: 'alice', now: true }, deps)).rejects.toThrow(
        'throttled',
      );
      const version = (await get(p, incident.id)).version;
      failing = false;
      // The retry, twice at once: the month is read from the incident, the timers are the same.
      await Promise.all([
        resolveIncident(incident.id, { who: 'alice', now: true }, deps),
        resolveIncident(incident.id, { who: 'alice', now: true }, deps),
      ]);
      expect(budgetReads).toBe(1);
      expect(await get(p, incident.id)).toMatchObject({ postmortemBudgetMonth: '2026-11', version });
      expect(await pendingNames(p)).toEqual([`pm-${incident.id}-due`, `pm-${incident.id}-reminder`]);
      expect(await entriesOf(p, incident.id, 'RESOLVED')).toHaveLength(1);
      // Every Postmortem Due published is the same event (one id).
      const ids = p.events.published.filter((e) => e.detailType === 'Postmortem Due').map((e) => e.detail.id);
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(1);
      p.takePages();
      await p.fastForward(48 * HOUR);
      expect(p.takePages()).toEqual([
        'reminder alice alice-0',
        'reminder alice alice-1',
        'reminder alice alice-0',
        'reminder alice alice-1',
      ]);
      expect(await entriesOf(p, incident.id, 'POSTMORTEM_REMINDED')).toHaveLength(1);
      expect(await entriesOf(p, incident.id, 'POSTMORTEM_OVERDUE')).toHaveLength(1);
    });
  });

  describe('replays', () => {
    it('every timer delivered twice changes nothing and pages nobody the second time', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p); // SEV-1
      await p.fastForward(MINUTE);
      await acknowledgeIncident(incident.id, 'alice', p.deps);

      const twice = async (event: Record<string, unknown>, first: string) => {
        expect(await handleTimerEvent(event, p.deps)).toBe(first);
        p.takePages();
        const before = await get(p, incident.id);
        const entries = (await p.store.timeline(incident.id)).length;
        const published = p.events.published.length;
        expect(await handleTimerEvent(event, p.deps)).toBe('replayed');
        expect(p.takePages()).toEqual([]);
        expect(await get(p, incident.id)).toEqual(before);
        expect(await p.store.timeline(incident.id)).toHaveLength(entries);
        expect(p.events.published).toHaveLength(published);
      };

      p.clock.set(new Date(Date.parse(START) + 30 * MINUTE));
      await twice({ kind: 'reassess', incidentId: incident.id, seq: 1 }, 'done');
      await p.fastForward(MINUTE);
      await resolveIncident(incident.id, { who: 'bob', now: false }, p.deps);
      p.clock.set(new Date(Date.parse(START) + 46 * MINUTE));
      await twice({ kind: 'resolve', incidentId: incident.id, reopens: 0 }, 'done');
      expect(await get(p, incident.id)).toMatchObject({ status: 'resolved', monitored: true });
      p.clock.set(new Date(Date.parse(START) + 31 * MINUTE + 24 * HOUR));
      await twice({ kind: 'postmortem', incidentId: incident.id, stage: 'reminder' }, 'done');
      p.clock.set(new Date(Date.parse(START) + 31 * MINUTE + 48 * HOUR));
      await twice({ kind: 'postmortem', incidentId: incident.id, stage: 'due' }, 'done');
      expect(takeEvents(p)).toEqual([
        'Incident Opened',
        'Incident Acknowledged',
        'Incident Resolved',
        'Postmortem Due',
      ]);
    });

    it('use cases repeated change nothing the second time, and every event validates', async () => {
      const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
      const incident = await open(p, { severity: 'warning' });
      const steps: [string, () => Promise<{ changed: boolean }>][] = [
        ['ack', () => acknowledgeIncident(incident.id, 'alice', p.deps)],
        [
          'sev',
          () => changeSeverity(incident.id, { severity: 'SEV-2', reason: 'wider', who: 'alice' }, p.deps),
        ],
        ['role', () => assignRole(incident.id, { role: 'scribe', person: 'carol', who: 'alice' }, p.deps)],
        ['mitigate', () => mitigateIncident(incident.id, { who: 'alice' }, p.deps)],
        ['resolve', () => resolveIncident(incident.id, { who: 'alice', now: false }, p.deps)],
      ];
      for (const [name, run] of steps) {
        expect([name, (await run()).changed]).toEqual([name, true]);
        p.takePages();
        const entries = (await p.store.timeline(incident.id)).length;
        const published = p.events.published.length;
        expect([name, (await run()).changed]).toEqual([name, false]);
        expect(p.takePages()).toEqual([]);
        expect(await p.store.timeline(incident.id)).toHaveLength(entries);
        expect(p.events.published).toHaveLength(published);
        await p.fastForward(5 * MINUTE);
      }
      await p.fastForward(10 * MINUTE);
      expect((await get(p, incident.id)).status).toBe('resolved');
      expect(takeEvents(p)).toEqual([
        'Incident Opened',
        'Incident Acknowledged',
        'Incident Severity Changed',
        'Incident Mitigated',
        'Incident Resolved',
        'Postmortem Due',
      ]);
    });
  });
});

describe('the postmortem draft tells what happened', () => {
  /** The draft's lines under `## heading`, from the incident and timeline as stored. */
  async function draftSection(p: Pipeline, id: string, heading: string): Promise<string[]> {
    const { markdown } = generatePostmortem({
      incident: await get(p, id),
      serviceName: 'Checkout API',
      timeline: await p.store.timeline(id),
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: [],
    });
    const start = markdown.indexOf(`## ${heading}\n`);
    const rest = markdown.slice(start + heading.length + 4);
    return rest.slice(0, rest.indexOf('\n## ')).split('\n').filter(Boolean);
  }

  it('escalation before the acknowledgement: the steps beyond the first page, counted from the timeline', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p);
    await p.fastForward(5 * MINUTE); // level 2 (carol) paged
    await acknowledgeIncident(incident.id, 'carol', p.deps);
    expect(await draftSection(p, incident.id, 'What Went Poorly')).toContain(
      '- Escalation was needed once before someone acknowledged.',
    );
  });

  it('a severity raise that restarts escalation, acknowledged at once: no escalation was needed', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    await p.fastForward(MINUTE);
    await changeSeverity(incident.id, { severity: 'SEV-1', reason: 'all regions', who: 'alice' }, p.deps);
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    // Level 1 of the new severity's policy paged again: not an escalation beyond it (metrics).
    expect(await get(p, incident.id)).toMatchObject({ generation: 2, escalations: 0 });
    const poorly = await draftSection(p, incident.id, 'What Went Poorly');
    expect(poorly.filter((l) => /escalat/i.test(l))).toEqual([]);
  });

  it('an ack timeout after a prompt acknowledgement is said as such, not as escalation before it', async () => {
    const p = await startPipeline(dynamo, teamConfig({ ackTimeoutMinutes: 30 }), START);
    const incident = await open(p);
    await p.fastForward(MINUTE);
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    await p.fastForward(30 * MINUTE); // the ack timeout restarts escalation at 10:31
    expect((await get(p, incident.id)).status).toBe('triggered');
    const poorly = await draftSection(p, incident.id, 'What Went Poorly');
    expect(poorly.filter((l) => /escalat/i.test(l))).toEqual([
      '- It stayed unresolved past the ack timeout once: escalation restarted from level 1.',
    ]);
  });
});

describe('a reopen takes back the mitigation that did not hold', () => {
  it('mitigated, resolve requested, fired again: no mitigation on the incident, its draft or its checklist', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p);
    await p.fastForward(10 * MINUTE);
    await mitigateIncident(incident.id, { who: 'alice' }, p.deps);
    await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
    const monitoring = await get(p, incident.id);
    expect(monitoring).toMatchObject({ status: 'monitoring', mitigatedAt: plus(START, 10 * MINUTE) });

    await p.fastForward(5 * MINUTE);
    const again = alertNow(p);
    await processAlert(again, p.deps);
    const reopened = await get(p, incident.id);
    expect(reopened).toMatchObject({ status: 'triggered', reopens: 1 });
    expect(reopened.mitigatedAt).toBeUndefined();
    expect(reopened.mitigatedBy).toBeUndefined();
    // The history stays on the timeline.
    expect(await types(p, incident.id)).toEqual([
      'OPENED',
      'ESCALATED',
      'MITIGATED',
      'MONITORING',
      'REOPENED',
    ]);

    // A replayed reopen (the same alert again, or the store's reopen of the version it read) is a no-op.
    await processAlert(again, p.deps);
    expect(await p.store.reopen(monitoring, p.clock.now())).toBeUndefined();
    expect(await get(p, incident.id)).toEqual(reopened);

    await p.fastForward(45 * MINUTE);
    await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
    const resolved = await get(p, incident.id);
    const timeline = await p.store.timeline(incident.id);
    const { markdown } = generatePostmortem({
      incident: resolved,
      serviceName: 'Checkout API',
      timeline,
      timeZone: 'Europe/Berlin',
      template: 'default',
      authors: [],
    });
    expect(markdown).not.toContain('Customer impact was mitigated');
    expect(markdown).toContain('- Customer impact: 1h (start to resolution)');
    expect(markdown).toContain('[MITIGATED]');
    const view = checklistView({ incident: resolved, timeline, actionItems: [], now: p.clock.now() });
    expect(view.phases.flatMap((ph) => ph.items).find((i) => i.id === 'implement-mitigation')).toMatchObject({
      done: false,
    });
  });
});

describe('roles go to configured responders', () => {
  it('a role or a handoff to someone not in responders[] is refused naming the field; nothing changes', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const incident = await open(p);
    const brief = { status: 's', tried: 't', strategy: 'st', people: 'p', decisions: 'd' };
    await expect(
      assignRole(incident.id, { role: 'commander', person: 'alcie', who: 'alice' }, p.deps),
    ).rejects.toMatchObject({ errors: [{ field: 'person', message: expect.stringContaining('"alcie"') }] });
    await expect(handOff(incident.id, { to: 'bbo', who: 'alice', brief }, p.deps)).rejects.toMatchObject({
      errors: [{ field: 'to', message: expect.stringContaining('"bbo"') }],
    });
    expect((await p.store.get(incident.id))?.roles).toEqual({});
    expect((await p.store.timeline(incident.id)).map((e) => e.type)).toEqual(['OPENED']);
  });
});

describe('de-escalated after mitigation (PRACTICE: "de-escalate when mitigation reduces impact")', () => {
  it('a SEV-1 mitigated, then lowered to SEV-3, still requires its postmortem, and says why', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const incident = await open(p, { severity: 'critical' });
    await mitigateIncident(incident.id, { who: 'alice', note: 'failed over' }, p.deps);
    await changeSeverity(incident.id, { severity: 'SEV-3', who: 'alice', reason: 'impact reduced' }, p.deps);
    const lowered = await p.store.get(incident.id);
    expect(lowered).toMatchObject({ sev: 'SEV-3', impactSev: 'SEV-1' });
    await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
    const [resolved] = (await p.store.timeline(incident.id)).filter((e) => e.type === 'RESOLVED');
    expect(resolved?.text).toMatch(
      /; postmortem due by .* \(required: it was SEV-1 until its impact stopped\)$/,
    );
    expect((await p.timers.pending()).map((t) => t.name)).toContain(`pm-${incident.id}-due`);
    expect(lastEvent(p, 'Postmortem Due')).toMatchObject({
      impactSeverity: 'SEV-1',
      incident: { severity: 'SEV-3' },
    });
  });

  it('a SEV-1 lowered while resolving (its monitoring period) still requires it: its impact stopped at the resolve', async () => {
    const p = await startPipeline(dynamo, teamConfig({ resolveMonitoringMinutes: 15 }));
    const incident = await open(p, { severity: 'critical' });
    await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
    expect((await p.store.get(incident.id))?.status).toBe('monitoring');
    await changeSeverity(
      incident.id,
      { severity: 'SEV-3', who: 'alice', reason: 'smaller than feared' },
      p.deps,
    );
    expect(await p.store.get(incident.id)).toMatchObject({ sev: 'SEV-3', impactSev: 'SEV-1' });
    await p.fastForward(16 * MINUTE);
    expect((await p.store.get(incident.id))?.status).toBe('resolved');
    expect((await p.timers.pending()).map((t) => t.name)).toContain(`pm-${incident.id}-due`);
  });

  it('a raise after the impact stopped, then its correction, is not its impact', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const incident = await open(p, { severity: 'warning' }); // SEV-3
    await mitigateIncident(incident.id, { who: 'alice' }, p.deps);
    await p.fastForward(MINUTE);
    await changeSeverity(incident.id, { severity: 'SEV-1', who: 'alice', reason: 'misclick' }, p.deps);
    await p.fastForward(MINUTE);
    await changeSeverity(incident.id, { severity: 'SEV-3', who: 'alice', reason: 'corrected' }, p.deps);
    expect((await p.store.get(incident.id))?.impactSev).toBeUndefined();
    await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
    const [resolved] = (await p.store.timeline(incident.id)).filter((e) => e.type === 'RESOLVED');
    expect(resolved?.text).not.toContain('postmortem');
  });

  it('a SEV-1 lowered before mitigation (a re-assessment: a false alarm) does not', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const incident = await open(p, { severity: 'critical' });
    await changeSeverity(incident.id, { severity: 'SEV-3', who: 'alice', reason: 'only staging' }, p.deps);
    await mitigateIncident(incident.id, { who: 'alice' }, p.deps);
    await changeSeverity(incident.id, { severity: 'SEV-4', who: 'alice', reason: 'cosmetic' }, p.deps);
    expect(await p.store.get(incident.id)).toMatchObject({ sev: 'SEV-4', impactSev: 'SEV-3' });
    await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
    const [resolved] = (await p.store.timeline(incident.id)).filter((e) => e.type === 'RESOLVED');
    expect(resolved?.text).not.toContain('postmortem');
    expect((await p.timers.pending()).map((t) => t.name)).not.toContain(`pm-${incident.id}-due`);
  });
});
