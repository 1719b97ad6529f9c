import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addNote,
  assignRole,
  changeSeverity,
  mitigateIncident,
  resolveIncident,
  snoozeIncident,
} from '#app/command';
import { afterAcknowledged, afterResolved, escalateNow } from '#app/escalation';
import { createMaintenance, endMaintenance } from '#app/operations';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import { parseConfig } from '#core/config';
import { ConflictError, RetryableError } from '#core/errors';
import type { Incident } from '#core/incident';
import type { Timer } from '#core/timers';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { openIncident, type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

const MINUTE = 60_000;

/** alice is on call this week (weekly rotation alice → bob from Monday 2026-11-23 09:00 Berlin). */
const config = (service: Record<string, unknown> = {}) => teamConfig(service);

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

/** Opens an incident through the real processAlert path, at the pipeline's current time. */
const open = openIncident;

/** Acknowledges as a responder would from a link. */
async function acknowledge(p: Pipeline, incident: Incident, who: string) {
  const outcome = await p.store.transition(
    incident.id,
    'acknowledged',
    p.clock.now(),
    who,
    `link:${who}:${p.clock.now().toISOString()}`,
  );
  if (outcome.kind !== 'acknowledged') throw new Error(`expected acknowledged, got ${outcome.kind}`);
  await afterAcknowledged(outcome.incident, { who, channel: 'link', cause: `link:${who}` }, p.deps);
}

async function timelineTypes(p: Pipeline, id: string) {
  return (await p.store.timeline(id)).map((e) => e.type);
}

describe('escalation, on a fake clock', () => {
  it('pages level 1; 5 minutes later level 2; after an acknowledgement nobody else is paged', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);

    await p.fastForward(4 * MINUTE + 59_000);
    expect(p.takePages()).toEqual([]);
    await p.fastForward(1000);
    expect(p.takePages()).toEqual(['page carol carol-0']);

    await acknowledge(p, incident, 'carol');
    expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
    await p.fastForward(60 * MINUTE);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([]);
    // SEV-1: the acknowledger gets status-update reminders every 15 minutes from the ack, and is
    // asked to re-assess the severity every 30 from detection (there is no incident commander).
    expect(await timelineTypes(p, incident.id)).toEqual([
      'OPENED',
      'ESCALATED',
      'ACKNOWLEDGED',
      'REMINDED', // acknowledged + 15
      'REASSESS_REMINDED', // detected + 30
      'REMINDED',
      'REMINDED',
      'REASSESS_REMINDED', // detected + 60
      'REMINDED', // acknowledged + 60
    ]);
  });

  it('asks the comms lead and the incident commander for status updates once they are named', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p);
    await p.fastForward(MINUTE);
    await acknowledge(p, incident, 'carol');
    // The latest status-update reminder (re-assessment reminders are their own entries): who it
    // went to, and whose contacts the throttle held.
    const reminded = async () => {
      const last = [...(await p.store.timeline(incident.id))].reverse().find((e) => e.type === 'REMINDED');
      return [last?.paged ?? [], last?.throttled ?? []];
    };
    await p.fastForward(15 * MINUTE); // SEV-1: acknowledged + 15 (10:16), nobody named yet
    expect(await reminded()).toEqual([['carol'], []]);
    await p.fastForward(MINUTE);
    await assignRole(incident.id, { role: 'comms-lead', person: 'bob', who: 'carol' }, p.deps);
    await p.fastForward(14 * MINUTE); // 10:31
    expect(await reminded()).toEqual([['bob'], []]);
    // Named twice (IC and comms lead): reminded once.
    await p.fastForward(2 * MINUTE);
    await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'carol' }, p.deps);
    await p.fastForward(13 * MINUTE); // 10:46
    expect(await reminded()).toEqual([['bob'], []]);
    await p.fastForward(MINUTE);
    await assignRole(incident.id, { role: 'commander', person: 'dave', who: 'bob' }, p.deps);
    await p.fastForward(14 * MINUTE); // 11:01
    expect(await reminded()).toEqual([['bob', 'dave'], []]);
  });

  it("a local demo's minute (minuteMs) shrinks the page throttle's windows too", async () => {
    const p = await startPipeline(dynamo, config());
    const demo = { ...p.deps, minuteMs: 1000 };
    const openAt = async (i: number) =>
      processAlert(makeAlert({ dedupKey: `demo-${i}`, receivedAt: p.clock.now().toISOString() }), demo);
    for (let i = 0; i < 5; i++) await openAt(i);
    p.takePages();
    const sixth = await openAt(5); // a sixth page within 15 "minutes" (15 s): held for a digest
    expect(p.takePages()).toEqual([]);
    const [opened] = (await p.store.timeline(sixth.incident?.id ?? '')).filter((e) => e.type === 'OPENED');
    expect(opened?.throttled).toEqual(['alice-0', 'alice-1']);
    p.clock.set(new Date(p.clock.now().getTime() + 16_000));
    await openAt(6); // 16 s later the window has passed: paged at once, as 16 minutes would in AWS
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('repeats the policy, then records "escalation exhausted" and pages the fallback once', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' }); // SEV-3: no reminders in the way
    p.takePages();
    await p.fastForward(5 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
    await p.fastForward(10 * MINUTE);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    await p.fastForward(5 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
    await p.fastForward(10 * MINUTE);
    expect(p.takePages()).toEqual(['page dave dave-0']);
    await p.fastForward(120 * MINUTE);
    expect(p.takePages()).toEqual([]);
    expect(await timelineTypes(p, incident.id)).toEqual([
      'OPENED',
      'ESCALATED',
      'ESCALATED',
      'ESCALATED',
      'ESCALATION_EXHAUSTED',
    ]);
    expect((await p.store.get(incident.id))?.escalation).toBe('exhausted');
  });

  it('a timer that fires after the acknowledgement committed pages nobody', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p);
    p.takePages();
    await p.fastForward(4 * MINUTE);
    const ack = await p.store.transition(incident.id, 'acknowledged', p.clock.now(), 'alice', 'link:alice');
    expect(ack.kind).toBe('acknowledged');
    // The process died before cancelling the timer: it fires anyway.
    await p.fastForward(2 * MINUTE);
    expect(p.takePages()).toEqual([]);
    const outcome = await handleTimerEvent(
      { kind: 'escalate', incidentId: incident.id, generation: 1, step: 1 },
      p.deps,
    );
    expect(outcome).toBe('stale');
    expect(p.takePages()).toEqual([]);
  });

  it('a step timer delivered twice pages once', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p);
    p.takePages();
    p.clock.set(new Date(p.clock.now().getTime() + 5 * MINUTE));
    const event = { kind: 'escalate', incidentId: incident.id, generation: 1, step: 1 };
    expect(await handleTimerEvent(event, p.deps)).toBe('done');
    expect(await handleTimerEvent(event, p.deps)).toBe('replayed');
    expect(p.takePages()).toEqual(['page carol carol-0']);
  });

  it('a step claimed by a process that died before paging is paged by the retry', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p);
    p.takePages();
    p.clock.set(new Date(p.clock.now().getTime() + 5 * MINUTE));
    const current = await p.store.get(incident.id);
    if (current === undefined) throw new Error('missing incident');
    expect(await p.store.claimStep(current, 1, p.clock.now(), false)).toBeDefined();
    expect(p.takePages()).toEqual([]);
    expect(
      await handleTimerEvent({ kind: 'escalate', incidentId: incident.id, generation: 1, step: 1 }, p.deps),
    ).toBe('done');
    expect(p.takePages()).toEqual(['page carol carol-0']);
  });

  it('resolve stops escalation and reminders and tells whoever was paged', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p);
    p.takePages();
    const resolved = await p.store.transition(incident.id, 'resolved', p.clock.now(), 'alice', 'cli:1');
    if (resolved.kind !== 'resolved') throw new Error('expected resolved');
    await afterResolved(resolved.incident, { who: 'bob', channel: 'cli', cause: 'cli:1' }, p.deps);
    expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
    // Only the SEV-1 postmortem's reminder (24 h) and deadline (48 h) remain.
    expect((await p.timers.pending()).map((t) => t.name)).toEqual([
      `pm-${incident.id}-reminder`,
      `pm-${incident.id}-due`,
    ]);
    await p.fastForward(3 * 60 * MINUTE);
    expect(p.takePages()).toEqual([]);
  });

  it('Events v2 acknowledge and resolve act like the links do', async () => {
    const p = await startPipeline(dynamo, config());
    await open(p);
    p.takePages();
    await processAlert(makeAlert({ action: 'acknowledge', receivedAt: p.clock.now().toISOString() }), p.deps);
    expect(p.takePages()).toEqual(['notice alice alice-0', 'notice alice alice-1']);
    // Status updates (15 min) and the severity re-assessment (30 min) go on; escalation stopped.
    expect((await p.timers.pending()).map((t) => t.name.replace(/-.*/, ''))).toEqual(['rem', 'rea']);
    await p.fastForward(5 * MINUTE);
    expect(p.takePages()).toEqual([]);
    await processAlert(makeAlert({ action: 'resolve', receivedAt: p.clock.now().toISOString() }), p.deps);
    expect((await p.timers.pending()).map((t) => t.name.replace(/-.*/, ''))).toEqual(['pm', 'pm']);
  });
});

describe('ack timeout', () => {
  it('re-pages the acknowledger and restarts escalation when an acknowledged incident stays unresolved', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await p.fastForward(5 * MINUTE);
    p.takePages();
    await acknowledge(p, incident, 'carol');
    p.takePages();
    await p.fastForward(29 * MINUTE);
    expect(p.takePages()).toEqual([]);
    await p.fastForward(1 * MINUTE);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1', 'page carol carol-0']);
    const restarted = await p.store.get(incident.id);
    expect(restarted).toMatchObject({ status: 'triggered', generation: 2, step: 0 });
    // …and escalation runs again from level 1.
    await p.fastForward(5 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
  });

  it('after an ack timeout the old acknowledger is not asked for status updates: escalation runs until someone acknowledges again', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'critical' });
    await p.fastForward(5 * MINUTE);
    await acknowledge(p, incident, 'carol'); // 10:05
    await p.fastForward(30 * MINUTE); // 10:35: the acknowledgement lapsed; level 1 paged again
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', generation: 2 });
    p.takePages();
    await p.fastForward(35 * MINUTE); // 11:10: escalation ran its course; no reminder, no re-assessment
    expect(p.takePages().filter((page) => !page.startsWith('page'))).toEqual([]);
    const asked = (await p.store.timeline(incident.id)).filter(
      (e) => (e.type === 'REMINDED' || e.type === 'REASSESS_REMINDED') && e.at > '2026-11-26T10:35',
    );
    expect(asked).toEqual([]);
    // Acknowledged again: the reminders start over from it, to the new owner.
    await acknowledge(p, incident, 'alice'); // 11:10
    p.takePages();
    await p.fastForward(15 * MINUTE);
    expect(p.takePages()).toContain('reminder alice alice-0');
    await p.fastForward(5 * MINUTE); // 11:30: the re-assessment mark
    expect((await p.store.timeline(incident.id)).at(-1)).toMatchObject({
      type: 'REASSESS_REMINDED',
      paged: ['alice'],
    });
  });

  // Regression test: the mitigation kept the lapsed acknowledger (acknowledgedBy if_not_exists), so
  // she was asked for status updates every 15 minutes and bob, who stopped the impact, never.
  it('after an ack timeout, whoever mitigates owns the incident: the status reminders go to them', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'critical' });
    await p.fastForward(2 * MINUTE);
    await acknowledge(p, incident, 'alice'); // 10:02
    await p.fastForward(31 * MINUTE); // 10:33: her acknowledgement lapsed
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered' });
    await mitigateIncident(incident.id, { who: 'bob' }, p.deps);
    expect(await p.store.get(incident.id)).toMatchObject({
      status: 'mitigated',
      acknowledgedBy: 'bob',
      acknowledgedAt: '2026-11-26T10:02:00.000Z', // the first acknowledgement: MTTA
      lastAcknowledgedAt: '2026-11-26T10:33:00.000Z',
    });
    p.takePages();
    await p.fastForward(16 * MINUTE);
    const reminders = p.takePages().filter((line) => line.startsWith('reminder'));
    expect(reminders).toContain('reminder bob bob-0');
    expect(reminders.filter((r) => r.includes('alice'))).toEqual([]);
  });
});

describe('snooze (PagerDuty: Snooze an acknowledged incident)', () => {
  const ackTimers = async (p: Pipeline) =>
    (await p.timers.pending()).filter((t) => t.name.startsWith('ackto-')).map((t) => [t.name, t.dueAt]);
  const entries = async (p: Pipeline, id: string, type: string) =>
    (await p.store.timeline(id)).filter((e) => e.type === type);
  const conflictOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a conflict');
      },
      (error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
        return error.errors;
      },
    );

  // Regression test: the snooze moved its lapse with a plain timer, which Scheduler may deliver in
  // the minute before the snooze's end (at() fires anywhere in its minute); that delivery found it
  // still snoozed and only set the schedule it came from again.
  it('its lapse is set not to arrive before the snooze’s end (timerAfter: the Scheduler adapter rounds it up)', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    p.clock.set(new Date('2026-11-26T10:10:37.412Z'));
    const moved: Timer[] = [];
    const deps = {
      ...p.deps,
      timers: overriding(p.timers, {
        reschedule: async (t: Timer) => {
          moved.push(t);
          await p.timers.reschedule(t);
        },
      }),
    };
    await snoozeIncident(incident.id, { who: 'alice', minutes: 120 }, deps);
    expect(moved).toEqual([
      expect.objectContaining({
        name: `ackto-${incident.id}-1`,
        at: new Date('2026-11-26T12:10:37.412Z'),
        notEarly: true,
      }),
    ]);
  });

  it('moves the lapse: nobody is paged at the ack timeout; at the snooze’s end it re-triggers as an ack timeout, saying so', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice'); // 10:00
    await p.fastForward(10 * MINUTE);
    p.takePages();
    p.events.take();
    const snoozed = await snoozeIncident(incident.id, { who: 'alice', minutes: 120 }, p.deps);
    expect(snoozed).toMatchObject({
      changed: true,
      incident: { status: 'acknowledged', snooze: { until: '2026-11-26T12:10:00.000Z', by: 'alice' } },
    });
    // The ack timeout's own timer, moved: no second one.
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-1`, '2026-11-26T12:10:00.000Z']]);
    expect(p.events.published.map((e) => [e.detailType, e.detail.snoozedUntil, e.detail.minutes])).toEqual([
      ['Incident Snoozed', '2026-11-26T12:10:00.000Z', 120],
    ]);
    expect((await p.store.timeline(incident.id)).at(-1)).toMatchObject({
      type: 'SNOOZED',
      who: 'alice',
      at: '2026-11-26T10:10:00.000Z',
      text: 'Snoozed by Alice until 13:10 Thu 26 Nov (Europe/Berlin)',
    });
    p.events.take();
    await p.fastForward(119 * MINUTE); // 12:09: long past the ack timeout (10:30)
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'acknowledged', generation: 1 });
    await p.fastForward(1 * MINUTE); // 12:10: the snooze ends
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', generation: 2, step: 0 });
    expect((await entries(p, incident.id, 'ACK_TIMEOUT')).map((e) => e.text)).toEqual([
      'Still unresolved when the snooze by Alice ended: escalation restarted',
    ]);
    expect(p.events.published.map((e) => [e.detailType, e.detail.snoozedUntil])).toEqual([
      ['Incident Escalated', '2026-11-26T12:10:00.000Z'],
    ]);
    // Acknowledged again: the snooze is over, and the service's ack timeout applies again.
    await acknowledge(p, incident, 'alice'); // 12:10
    expect((await p.store.get(incident.id))?.snooze).toBeUndefined();
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-2`, '2026-11-26T12:40:00.000Z']]);
  });

  it('an ack-timeout timer before the snooze’s end (the one it moved, delivered late or twice) sets the end again and does nothing else', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice'); // 10:00
    await snoozeIncident(incident.id, { who: 'alice', minutes: 60 }, p.deps);
    p.takePages();
    p.clock.set(new Date('2026-11-26T10:30:00.000Z'));
    const event = { kind: 'ack-timeout', incidentId: incident.id, generation: 1 };
    expect(await handleTimerEvent(event, p.deps)).toBe('rescheduled');
    expect(await handleTimerEvent(event, p.deps)).toBe('rescheduled');
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'acknowledged', generation: 1 });
    expect(await entries(p, incident.id, 'ACK_TIMEOUT')).toEqual([]);
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-1`, '2026-11-26T11:00:00.000Z']]);
  });

  it('a snooze whose move of the timer failed is ended on time all the same: the old timer sets the end; the retry completes it once', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice'); // 10:00
    const lost = {
      ...p.deps,
      timers: overriding(p.timers, {
        reschedule: async () => {
          throw new Error('Scheduler unavailable');
        },
      }),
    };
    p.takePages();
    const input = { who: 'alice', minutes: 60 };
    await expect(snoozeIncident(incident.id, input, lost)).rejects.toThrow('Scheduler unavailable');
    expect(await entries(p, incident.id, 'SNOOZED')).toEqual([]);
    // The old timer fires at 10:30, finds the snooze and sets its end (LocalTimers keeps a timer
    // moved while it fired).
    await p.fastForward(30 * MINUTE);
    expect(p.takePages()).toEqual([]);
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-1`, '2026-11-26T11:00:00.000Z']]);
    // The client's retry completes the snooze: its entry, from the stored snooze.
    expect(await snoozeIncident(incident.id, input, p.deps)).toMatchObject({ changed: false });
    expect((await entries(p, incident.id, 'SNOOZED')).map((e) => e.at)).toEqual(['2026-11-26T10:00:00.000Z']);
    await p.fastForward(30 * MINUTE); // 11:00
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', generation: 2 });
    expect(p.takePages()).toContain('page alice alice-0');
  });

  it('the same snooze twice, or twice at once, leaves one entry, one event and one timer', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    p.events.take();
    const input = { who: 'alice', minutes: 60 };
    const both = await Promise.all([1, 2].map(() => snoozeIncident(incident.id, input, p.deps)));
    expect(both.map((r) => r.changed).sort()).toEqual([false, true]);
    p.clock.set(new Date('2026-11-26T10:05:00.000Z'));
    expect(await snoozeIncident(incident.id, input, p.deps)).toMatchObject({
      changed: false,
      incident: { snooze: { until: '2026-11-26T11:00:00.000Z' } },
    });
    expect(await entries(p, incident.id, 'SNOOZED')).toHaveLength(1);
    expect(new Set(p.events.published.map((e) => e.detail.id)).size).toBe(1);
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-1`, '2026-11-26T11:00:00.000Z']]);
  });

  it('with from, a snooze made meanwhile is a 409 naming from and the end it has; from the end seen, it snoozes again', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    await snoozeIncident(incident.id, { who: 'bob', minutes: 30, from: null }, p.deps);
    expect(
      await conflictOf(snoozeIncident(incident.id, { who: 'alice', minutes: 60, from: null }, p.deps)),
    ).toEqual([{ field: 'from', message: 'is 2026-11-26T10:30:00.000Z' }]);
    expect((await p.store.get(incident.id))?.snooze?.until).toBe('2026-11-26T10:30:00.000Z');
    // The same instant with another offset is the end it saw.
    const again = { who: 'alice', minutes: 60, from: '2026-11-26T11:30:00+01:00' };
    expect(await snoozeIncident(incident.id, again, p.deps)).toMatchObject({
      changed: true,
      incident: { snooze: { until: '2026-11-26T11:00:00.000Z', by: 'alice' } },
    });
    expect(await entries(p, incident.id, 'SNOOZED')).toHaveLength(2);
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-1`, '2026-11-26T11:00:00.000Z']]);
  });

  it('only an acknowledged incident is snoozed: triggered, mitigated or resolved is a 409 naming status; nothing changes', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    const input = { who: 'alice', minutes: 60 };
    expect(await conflictOf(snoozeIncident(incident.id, input, p.deps))).toEqual([
      { field: 'status', message: 'is triggered' },
    ]);
    await mitigateIncident(incident.id, { who: 'alice' }, p.deps);
    expect(await conflictOf(snoozeIncident(incident.id, input, p.deps))).toEqual([
      { field: 'status', message: 'is mitigated' },
    ]);
    expect((await p.store.get(incident.id))?.snooze).toBeUndefined();
    expect(await entries(p, incident.id, 'SNOOZED')).toEqual([]);
  });

  it('resolved wins: a resolve ends the snooze and its timer; a snooze after it is a 409', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    const input = { who: 'alice', minutes: 60 };
    await snoozeIncident(incident.id, input, p.deps);
    await resolveIncident(incident.id, { who: 'alice', now: true }, p.deps);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'resolved' });
    expect((await p.store.get(incident.id))?.snooze).toBeUndefined();
    expect(await ackTimers(p)).toEqual([]);
    expect(await conflictOf(snoozeIncident(incident.id, { ...input, minutes: 30 }, p.deps))).toEqual([
      { field: 'status', message: 'is resolved' },
    ]);
  });

  it('a snooze racing a resolve that commits between its read and its write is a 409; the incident stays resolved', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    let raced = false;
    const racing = {
      ...p.deps,
      store: overriding(p.store, {
        patch: async (read, set) => {
          if (!raced) {
            raced = true;
            await resolveIncident(incident.id, { who: 'bob', now: true }, p.deps);
          }
          return p.store.patch(read, set);
        },
      }),
    };
    expect(await conflictOf(snoozeIncident(incident.id, { who: 'alice', minutes: 60 }, racing))).toEqual([
      { field: 'status', message: 'is resolved' },
    ]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'resolved' });
    expect((await p.store.get(incident.id))?.snooze).toBeUndefined();
    expect(await ackTimers(p)).toEqual([]);
  });

  it('a lapse that committed first makes the snooze a 409; a snooze committed while the lapse was on its way holds', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice'); // 10:00
    await p.fastForward(30 * MINUTE); // 10:30: lapsed
    expect(await conflictOf(snoozeIncident(incident.id, { who: 'alice', minutes: 60 }, p.deps))).toEqual([
      { field: 'status', message: 'is triggered' },
    ]);
    // Acknowledged again (generation 2); its ack timeout reads the incident, then the snooze commits.
    await acknowledge(p, incident, 'alice'); // 10:30
    p.takePages();
    p.clock.set(new Date('2026-11-26T11:00:00.000Z'));
    const lapsing = {
      ...p.deps,
      store: overriding(p.store, {
        restartEscalation: async (read, now) => {
          await snoozeIncident(incident.id, { who: 'alice', minutes: 60 }, p.deps);
          return p.store.restartEscalation(read, now);
        },
      }),
    };
    const event = { kind: 'ack-timeout', incidentId: incident.id, generation: 2 };
    expect(await handleTimerEvent(event, lapsing)).toBe('rescheduled');
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'acknowledged', generation: 2 });
    expect(p.takePages()).toEqual([]);
    expect(await ackTimers(p)).toEqual([[`ackto-${incident.id}-2`, '2026-11-26T12:00:00.000Z']]);
  });

  it('mitigating ends a snooze: its timer finds nothing to do', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    await snoozeIncident(incident.id, { who: 'alice', minutes: 60 }, p.deps);
    await mitigateIncident(incident.id, { who: 'alice' }, p.deps);
    expect((await p.store.get(incident.id))?.snooze).toBeUndefined();
    p.takePages();
    await p.fastForward(120 * MINUTE);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'mitigated', generation: 1 });
  });

  it('works without an ack timeout (0): the snooze sets the lapse, and it re-triggers at its end', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 0 }));
    const incident = await open(p, { severity: 'warning' });
    await acknowledge(p, incident, 'alice');
    expect(await ackTimers(p)).toEqual([]);
    await snoozeIncident(incident.id, { who: 'alice', minutes: 45 }, p.deps);
    p.takePages();
    await p.fastForward(45 * MINUTE);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', generation: 2 });
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });
});

describe('status-update reminders', () => {
  it('remind the acknowledger every 15 minutes for SEV-1 while the incident is open', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    await acknowledge(p, incident, 'alice');
    p.takePages();
    await p.fastForward(15 * MINUTE);
    expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
    await p.fastForward(15 * MINUTE);
    // Alice's SMS got one status message 15 minutes ago; GoAlert's limit allows 3 per 20 minutes.
    expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
  });

  it('remind every 30 minutes for SEV-2, and never for SEV-3', async () => {
    const p = await startPipeline(dynamo, config());
    const sev2 = await open(p, { severity: 'error', dedupKey: 'sev2' });
    await acknowledge(p, sev2, 'alice');
    const sev3 = await open(p, { severity: 'warning', dedupKey: 'sev3' });
    await acknowledge(p, sev3, 'alice');
    p.takePages();
    await p.fastForward(29 * MINUTE);
    expect(p.takePages()).toEqual([]);
    await p.fastForward(1 * MINUTE);
    expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
    expect((await p.store.timeline(sev3.id)).map((e) => e.type)).toEqual(['OPENED', 'ACKNOWLEDGED']);
  });
});

describe('status updates (UPDATE entries) restart the reminder interval', () => {
  /** Minutes after `from` of each status-update reminder so far, and whether it asked anyone. */
  const reminders = async (p: Pipeline, id: string, from: Date) =>
    (await p.store.timeline(id))
      .filter((e) => e.type === 'REMINDED')
      .map((e) => [(Date.parse(e.at) - from.getTime()) / MINUTE, (e.paged ?? []).length > 0]);

  it('an UPDATE at +14 moves the SEV-1 reminder due at +15 to +29; with no update since, it goes out', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    const acked = p.clock.now();
    await acknowledge(p, incident, 'alice');
    await p.fastForward(14 * MINUTE);
    await addNote(
      incident.id,
      { type: 'UPDATE', who: 'alice', text: 'Rolled back v42; errors falling' },
      p.deps,
    );
    await p.fastForward(14 * MINUTE); // +28
    expect(await reminders(p, incident.id, acked)).toEqual([]);
    await p.fastForward(MINUTE); // +29
    expect(await reminders(p, incident.id, acked)).toEqual([[29, true]]);
    // Nobody updates again: every 15 minutes from there.
    await p.fastForward(15 * MINUTE);
    expect(await reminders(p, incident.id, acked)).toEqual([
      [29, true],
      [44, true],
    ]);
  });

  it('a reminder that finds an update within its interval (its move failed) asks nobody and waits for update + interval', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    const acked = p.clock.now();
    await acknowledge(p, incident, 'alice');
    await p.fastForward(10 * MINUTE);
    p.takePages();
    // The UPDATE is on the timeline, but the pending reminder was never moved.
    await p.store.putTimelineEntry({
      id: 'update-10',
      incidentId: incident.id,
      at: p.clock.now().toISOString(),
      type: 'UPDATE',
      who: 'alice',
      text: 'Investigating',
    });
    await p.fastForward(5 * MINUTE); // +15: due, but the update is 5 minutes old
    expect(p.takePages()).toEqual([]);
    await p.fastForward(10 * MINUTE); // +25: update + 15
    expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']);
    expect(await reminders(p, incident.id, acked)).toEqual([
      [15, false],
      [25, true],
    ]);
  });

  it('a severity change counts the interval from the last update: SEV-2 updated at +20, raised at +25, reminds at +40', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'error' });
    const acked = p.clock.now();
    await acknowledge(p, incident, 'alice');
    await p.fastForward(20 * MINUTE);
    await addNote(incident.id, { type: 'UPDATE', who: 'alice', text: 'Mitigation under way' }, p.deps);
    await p.fastForward(5 * MINUTE);
    await changeSeverity(incident.id, { severity: 'SEV-1', who: 'alice', reason: 'EU down' }, p.deps);
    p.takePages();
    // Due at update + 30 (+50) as SEV-2; as SEV-1, 15 minutes from the raise (+40), not +30.
    await p.fastForward(25 * MINUTE);
    expect(await reminders(p, incident.id, acked)).toEqual([[40, true]]);
  });

  it('an UPDATE posted as its reminder fires leaves one reminder, an interval after the update', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    // Off the re-assessment reminders' 30-minute marks from detection (the throttle would hold ours).
    await p.fastForward(4 * MINUTE);
    const acked = p.clock.now();
    await acknowledge(p, incident, 'alice');
    p.takePages();
    p.clock.set(new Date(acked.getTime() + 15 * MINUTE));
    // The reminder fires between the UPDATE's entry and its move (which read the incident before the claim).
    const racing = overriding(p.timers, {
      async reschedule(t) {
        await p.timers.runDue();
        await p.timers.reschedule(t);
      },
    });
    await addNote(
      incident.id,
      { type: 'UPDATE', who: 'alice', text: 'Investigating' },
      { ...p.deps, timers: racing },
    );
    expect(p.takePages()).toEqual([]);
    await p.fastForward(15 * MINUTE);
    expect(await reminders(p, incident.id, acked)).toEqual([
      [15, false],
      [30, true],
    ]);
  });

  it('a reminder whose claim loses a race to another change looks again and still goes out', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    // Off the re-assessment reminders' 30-minute marks from detection (the throttle would hold ours).
    await p.fastForward(4 * MINUTE);
    const acked = p.clock.now();
    await acknowledge(p, incident, 'alice');
    let raced = false;
    const store = overriding(p.store, {
      async claimReminder(read, seq, now) {
        if (!raced) {
          raced = true;
          await assignRole(incident.id, { role: 'scribe', person: 'carol', who: 'alice' }, p.deps);
        }
        return p.store.claimReminder(read, seq, now);
      },
    });
    p.timers.target((input) => handleTimerEvent(input, { ...p.deps, store }).then(() => undefined));
    await p.fastForward(16 * MINUTE);
    expect(raced).toBe(true);
    p.timers.target((input) => handleTimerEvent(input, p.deps).then(() => undefined));
    await p.fastForward(15 * MINUTE);
    expect(await reminders(p, incident.id, acked)).toEqual([
      [15, true],
      [30, true],
    ]);
  });

  it('two deliveries of one reminder timer at once send it once (the one whose claim lost stops)', async () => {
    // Webhook contacts: their throttle (60 a minute) would not hide a second send.
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    await p.fastForward(4 * MINUTE);
    await acknowledge(p, incident, 'dave');
    p.takePages();
    // Both deliveries read the incident before either claims: the second's claim loses.
    let arrived = 0;
    let release: () => void = () => {};
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store = overriding(p.store, {
      async claimReminder(read, seq, now) {
        if (++arrived === 2) release();
        await bothRead;
        return p.store.claimReminder(read, seq, now);
      },
    });
    const event = { kind: 'reminder' as const, incidentId: incident.id, seq: 1 };
    p.clock.set(new Date(p.clock.now().getTime() + 15 * MINUTE));
    const outcomes = await Promise.all([
      handleTimerEvent(event, { ...p.deps, store }),
      handleTimerEvent(event, { ...p.deps, store }),
    ]);
    expect(outcomes.sort()).toEqual(['done', 'stale']);
    expect(p.takePages()).toEqual(['reminder dave dave-0']);
    expect((await p.store.timeline(incident.id)).filter((e) => e.type === 'REMINDED')).toHaveLength(1);
  });

  it('a keyed UPDATE retried after the next reminder went out does not move that reminder back', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    const acked = p.clock.now();
    await acknowledge(p, incident, 'alice');
    await p.fastForward(5 * MINUTE);
    const update = { type: 'UPDATE', who: 'alice', text: 'Investigating', key: 'upd-1' } as const;
    await addNote(incident.id, update, p.deps);
    await p.fastForward(16 * MINUTE); // +21: reminded at +20
    expect((await addNote(incident.id, update, p.deps)).created).toBe(false);
    await p.fastForward(14 * MINUTE); // +35: the next is still +35
    expect(await reminders(p, incident.id, acked)).toEqual([
      [20, true],
      [35, true],
    ]);
    expect((await p.store.timeline(incident.id)).filter((e) => e.type === 'UPDATE')).toHaveLength(1);
  });
});

describe('maintenance windows', () => {
  it('record alerts on incidents but page nobody', async () => {
    const p = await startPipeline(dynamo, config());
    const now = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 60 * MINUTE) },
      p.deps,
    );
    const incident = await open(p);
    await processAlert(makeAlert({ receivedAt: now.toISOString() }), p.deps);
    await p.fastForward(30 * MINUTE);
    expect(p.takePages()).toEqual([]);
    expect((await p.store.get(incident.id))?.alertCount).toBe(2);
    const [opened] = await p.store.timeline(incident.id);
    expect(opened?.text).toContain('maintenance window: nobody paged');
  });

  it('stop escalations already in flight when they start', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const from = new Date(p.clock.now().getTime() + 3 * MINUTE);
    await createMaintenance(
      { service: 'checkout', from, to: new Date(from.getTime() + 60 * MINUTE) },
      p.deps,
    );
    await p.fastForward(60 * MINUTE);
    expect(p.takePages()).toEqual([]);
    expect(await timelineTypes(p, incident.id)).toEqual(['OPENED', 'ESCALATION_STOPPED']);
    expect((await p.store.get(incident.id))?.escalation).toBe('stopped');
  });

  it('leave an exhausted escalation alone: the end of a later window does not run the policy again', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    await p.fastForward(60 * MINUTE); // level 1, level 2, the repeat, then the fallback: exhausted
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'exhausted' });
    p.takePages();
    const now = p.clock.now();
    const window = await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 30 * MINUTE) },
      p.deps,
    );
    expect(window.stopped).toBe(0); // nothing of it was in flight
    await p.fastForward(60 * MINUTE);
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'exhausted' });
    expect(await timelineTypes(p, incident.id)).not.toContain('ESCALATION_STOPPED');
  });
});

describe('maintenance timers that Scheduler delivers early (at() has minute precision)', () => {
  it('an end timer that arrives before the end is set again for it, and resumes then', async () => {
    const p = await startPipeline(dynamo, config(), '2026-11-26T10:00:45.123Z');
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const now = p.clock.now();
    const window = await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 30 * MINUTE) }, // 10:30:45.123
      p.deps,
    );
    // "invoke their targets with 60 second precision": at(10:30:46) may come at 10:30:20.
    p.clock.set(new Date('2026-11-26T10:30:20.000Z'));
    const end = { kind: 'maintenance-end', service: 'checkout', windowId: window.id };
    expect(await handleTimerEvent(end, p.deps)).toBe('rescheduled');
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
    expect((await p.timers.pending()).find((t) => t.name === `mwe-checkout-${window.id}`)?.dueAt).toBe(
      window.to,
    );
    expect(p.takePages()).toEqual([]);
    await p.fastForward(MINUTE);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'active' });
  });

  it('a start timer that arrives before the start is set again for it, and stops then', async () => {
    const p = await startPipeline(dynamo, config(), '2026-11-26T10:00:45.123Z');
    const incident = await open(p, { severity: 'warning' });
    const from = new Date(p.clock.now().getTime() + 10 * MINUTE); // 10:10:45.123
    const window = await createMaintenance(
      { service: 'checkout', from, to: new Date(from.getTime() + 30 * MINUTE) },
      p.deps,
    );
    p.clock.set(new Date('2026-11-26T10:10:05.000Z'));
    const start = { kind: 'maintenance', service: 'checkout', windowId: window.id };
    expect(await handleTimerEvent(start, p.deps)).toBe('rescheduled');
    expect((await p.timers.pending()).find((t) => t.name === `mw-checkout-${window.id}`)?.dueAt).toBe(
      window.from,
    );
    await p.fastForward(MINUTE);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
  });
});

describe('maintenance windows and incidents someone owns', () => {
  it('keep reminding the owner; an ack timeout in the window waits, stopped, and pages level 1 when it ends', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p); // SEV-1: alice on call
    await acknowledge(p, incident, 'alice');
    p.takePages();
    const from = new Date(p.clock.now().getTime() + MINUTE);
    await createMaintenance(
      { service: 'checkout', from, to: new Date(from.getTime() + 90 * MINUTE) },
      p.deps,
    );
    // The window starts: an acknowledged incident has no escalation in flight, nothing is stopped.
    await p.fastForward(20 * MINUTE);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'acknowledged', escalation: 'active' });
    expect(p.takePages()).toEqual(['reminder alice alice-0', 'reminder alice alice-1']); // ack + 15
    // Ack + 30: the acknowledgement lapses in the window — nobody is paged, the incident waits.
    await p.fastForward(15 * MINUTE);
    expect(p.takePages().filter((page) => !page.startsWith('reminder'))).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    expect((await p.store.timeline(incident.id)).map((e) => e.text)).toContain(
      'Escalation stopped: maintenance window (the acknowledgement timed out)',
    );
    await p.fastForward(30 * MINUTE);
    const pages = () => p.takePages().filter((page) => page.startsWith('page'));
    expect(pages()).toEqual([]);
    // The window ends (from + 90): level 1 is paged again and escalation runs on.
    await p.fastForward(30 * MINUTE);
    expect(pages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'active' });
    await p.fastForward(5 * MINUTE);
    expect(pages()).toEqual(['page carol carol-0']);
  });
});

describe('an acknowledgement that lapses in a maintenance window', () => {
  it('is recorded; the window ends and its acknowledger is paged with level 1, once', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p); // SEV-1: alice
    await acknowledge(p, incident, 'carol');
    const now = p.clock.now();
    const window = await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 60 * MINUTE) },
      p.deps,
    );
    p.takePages();
    await p.fastForward(31 * MINUTE);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([]);
    expect(
      (await p.store.timeline(incident.id)).filter((e) => e.type === 'ACK_TIMEOUT').map((e) => e.text),
    ).toEqual([
      'Acknowledged but unresolved past the ack timeout: escalation restarted — maintenance window: paging when it ends',
    ]);
    await p.fastForward(30 * MINUTE); // the window ends
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([
      'page alice alice-0',
      'page alice alice-1',
      'page carol carol-0',
    ]);
    // Its end's timer again, or another window's end later: carol is not paged again.
    expect(
      await handleTimerEvent({ kind: 'maintenance-end', service: 'checkout', windowId: window.id }, p.deps),
    ).toBe('done');
    await p.fastForward(5 * MINUTE);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual(['page carol carol-0']); // level 2
    const later = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from: later, to: new Date(later.getTime() + MINUTE) },
      p.deps,
    );
    await p.fastForward(MINUTE);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([
      'page alice alice-0',
      'page alice alice-1',
    ]);
  });
});

describe('severity changes and maintenance windows', () => {
  it('a raise inside a window pages nobody and says so; a raise after it pages level 1', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' }); // SEV-3
    await acknowledge(p, incident, 'alice');
    const from = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from, to: new Date(from.getTime() + 10 * MINUTE) },
      p.deps,
    );
    p.takePages();
    await changeSeverity(incident.id, { severity: 'SEV-2', who: 'alice', reason: 'payments slow' }, p.deps);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([]);
    expect((await p.store.timeline(incident.id)).at(-1)?.text).toBe(
      'Escalated SEV-3 → SEV-2: payments slow (maintenance window: nobody paged)',
    );
    // The window ends; the acknowledged incident was never stopped, and a raise pages again.
    await p.fastForward(30 * MINUTE);
    p.takePages();
    await changeSeverity(
      incident.id,
      { severity: 'SEV-1', who: 'alice', reason: 'customers affected' },
      p.deps,
    );
    expect(p.takePages().filter((page) => page.startsWith('page'))).not.toEqual([]);
  });
});

describe('an incident a window stopped, acknowledged inside it', () => {
  it('raised after the window pages level 1 once; raised inside it, nobody', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' }); // SEV-3: alice
    p.takePages();
    const now = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 30 * MINUTE) },
      p.deps,
    );
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
    await p.fastForward(10 * MINUTE);
    await acknowledge(p, incident, 'alice');
    await changeSeverity(incident.id, { severity: 'SEV-2', who: 'alice', reason: 'payments slow' }, p.deps);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([]);
    expect((await p.store.timeline(incident.id)).at(-1)?.text).toBe(
      'Escalated SEV-3 → SEV-2: payments slow (maintenance window: nobody paged)',
    );
    await p.fastForward(60 * MINUTE); // the window is long over
    p.takePages();
    await changeSeverity(
      incident.id,
      { severity: 'SEV-1', who: 'alice', reason: 'customers affected' },
      p.deps,
    );
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([
      'page alice alice-0',
      'page alice alice-1',
    ]);
  });
});

describe('a window whose incident keeps changing under it', () => {
  it('fails to be retried (the timer or the request does) instead of leaving the incident as it was', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    const store = overriding(p.store, { stopEscalation: async () => undefined }); // always loses the race
    const now = p.clock.now();
    await expect(
      createMaintenance(
        { service: 'checkout', from: now, to: new Date(now.getTime() + 30 * MINUTE) },
        { ...p.deps, store },
      ),
    ).rejects.toBeInstanceOf(RetryableError);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'active' });
  });
});

describe('a raise that restarts escalation inside a maintenance window, racing another write', () => {
  it('is stopped all the same (read again after the race), and pages when the window ends', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' }); // triggered, escalating
    p.takePages();
    // A window whose start timer has not run yet: the incident is still escalating inside it.
    const now = p.clock.now();
    const window = {
      id: 'late',
      service: 'checkout',
      from: now.toISOString(),
      to: new Date(now.getTime() + 30 * MINUTE).toISOString(),
      createdAt: now.toISOString(),
    };
    await p.store.putMaintenance(window);
    let raced = false;
    const store = overriding(p.store, {
      // The first stop loses a race with another write (its version moved on).
      stopEscalation: async (...args) => {
        if (raced) return p.store.stopEscalation(...args);
        raced = true;
        return undefined;
      },
    });
    await changeSeverity(
      incident.id,
      { severity: 'SEV-1', who: 'alice', reason: 'outage' },
      { ...p.deps, store },
    );
    expect(raced).toBe(true);
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    await endMaintenance('checkout', 'late', p.deps);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });
});

describe('a stop that loses a race is read again: an active incident with no timer would never page', () => {
  /** A store whose first stopEscalation loses to `write` (another change that moves the version on). */
  const racingStop = (p: Pipeline, write: (fresh: Incident) => Promise<unknown>) => {
    let raced: string | undefined;
    const store = overriding(p.store, {
      stopEscalation: async (...args) => {
        if (raced === undefined) {
          raced = args[0].id;
          const fresh = await p.store.get(raced);
          if (fresh) await write(fresh);
        }
        return p.store.stopEscalation(...args);
      },
    });
    return { deps: { ...p.deps, store }, raced: () => raced };
  };

  it('an ack timeout in a window whose stop races the status reminder claimed at the same second', async () => {
    const p = await startPipeline(dynamo, config({ ackTimeoutMinutes: 30 }));
    const incident = await open(p); // SEV-1: alice
    await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'bob' }, p.deps);
    await acknowledge(p, incident, 'alice'); // ack timeout at +30, status reminders at +15, +30
    const from = new Date(p.clock.now().getTime() + MINUTE);
    await createMaintenance(
      { service: 'checkout', from, to: new Date(from.getTime() + 60 * MINUTE) },
      p.deps,
    );
    const racing = racingStop(p, (fresh) =>
      p.store.claimReminder(fresh, fresh.reminderSeq + 1, p.clock.now()),
    );
    p.timers.target(async (input) => {
      await handleTimerEvent(
        input,
        (input as { kind: string }).kind === 'ack-timeout' ? racing.deps : p.deps,
      );
    });
    await p.fastForward(31 * MINUTE); // the acknowledgement lapses inside the window
    expect(racing.raced()).toBe(incident.id);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    p.takePages();
    await p.fastForward(31 * MINUTE); // the window has ended
    expect(p.takePages().filter((page) => page.startsWith('page'))).toContain('page alice alice-0');
  });

  it('a reopen inside a window whose stop races a role assignment', async () => {
    const p = await startPipeline(dynamo, config({ resolveMonitoringMinutes: 10 }));
    const incident = await open(p, { dedupKey: 'reopen' });
    await acknowledge(p, incident, 'alice');
    await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps); // watched for 10 minutes
    const now = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 60 * MINUTE) },
      p.deps,
    );
    p.takePages();
    const racing = racingStop(p, (fresh) =>
      p.store.patch(fresh, { roles: { ...fresh.roles, scribe: 'carol' } }),
    );
    await processAlert(
      makeAlert({ dedupKey: 'reopen', receivedAt: p.clock.now().toISOString() }),
      racing.deps,
    );
    expect(racing.raced()).toBe(incident.id);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    await p.fastForward(61 * MINUTE);
    expect(p.takePages()).toContain('page alice alice-0');
  });

  it("a step timer in a window (its start's timer not run yet) whose stop races a role assignment", async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    const now = p.clock.now();
    const to = new Date(now.getTime() + 30 * MINUTE).toISOString();
    await p.store.putMaintenance({
      id: 'late',
      service: 'checkout',
      from: now.toISOString(),
      to,
      createdAt: to,
    });
    const racing = racingStop(p, (fresh) => p.store.patch(fresh, { roles: { scribe: 'carol' } }));
    p.timers.target(async (input) => {
      await handleTimerEvent(input, (input as { kind: string }).kind === 'escalate' ? racing.deps : p.deps);
    });
    await p.fastForward(5 * MINUTE); // level 2 comes due inside the window
    expect(racing.raced()).toBe(incident.id);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    p.takePages();
    await endMaintenance('checkout', 'late', p.deps);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a SEV-4 opened at night whose wait races a role assignment is paged at 09:00', async () => {
    const p = await startPipeline(dynamo, teamConfig({}, { businessHours: {} }), '2026-11-26T02:00:00.000Z');
    const racing = racingStop(p, (fresh) => p.store.patch(fresh, { roles: { scribe: 'carol' } }));
    await processAlert(makeAlert({ severity: 'info', receivedAt: p.clock.now().toISOString() }), racing.deps);
    const id = racing.raced() ?? '';
    expect(await p.store.get(id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    await p.fastForward(6 * 60 * MINUTE); // 09:00
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });
});

describe('a lowering that switches policy inside a maintenance window', () => {
  it('stops the restarted escalation; the window ends and level 1 of the new policy is paged', async () => {
    const base = teamConfig();
    const p = await startPipeline(
      dynamo,
      teamConfig(
        { severityPolicies: { 'SEV-1': 'all-hands' } },
        {
          escalationPolicies: [
            ...base.escalationPolicies,
            { id: 'all-hands', levels: [{ delayMinutes: 10, targets: [{ responder: 'bob' }] }] },
          ],
        },
      ),
    );
    const incident = await open(p); // SEV-1 → all-hands: bob
    expect(p.takePages()).toEqual(['page bob bob-0']);
    // A window starting later: the incident keeps escalating until then.
    const from = new Date(p.clock.now().getTime() + MINUTE);
    await createMaintenance(
      { service: 'checkout', from, to: new Date(from.getTime() + 30 * MINUTE) },
      p.deps,
    );
    await p.fastForward(MINUTE);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
    // Lowered inside the window: stopped escalations are not restarted; nobody is paged.
    await changeSeverity(incident.id, { severity: 'SEV-3', who: 'bob', reason: 'one shard' }, p.deps);
    expect(p.takePages()).toEqual([]);
    await p.fastForward(30 * MINUTE);
    // The window's end resumes it under the policy it has now: checkout's level 1, alice.
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });
});

describe('maintenance windows read each incident again: the list comes from an eventually consistent index', () => {
  it('a window that ends resumes an incident the index still shows at an older version', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const now = p.clock.now();
    const window = await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 30 * MINUTE) },
      p.deps,
    );
    const stopped = await p.store.get(incident.id);
    expect(stopped).toMatchObject({ escalation: 'stopped' });
    // The index lags: it still lists the incident as it was before someone changed it since.
    const stale = await p.store.list({ service: 'checkout' });
    if (stopped === undefined) throw new Error('no incident');
    await p.store.patch(stopped, { roles: { commander: 'alice' } });
    const store = overriding(p.store, { list: async () => stale });
    const lagging = { ...p.deps, store };
    await endMaintenance('checkout', window.id, lagging);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'active', step: 0 });
  });
});

describe('per-contact throttle', () => {
  it('holds back the sixth page to one SMS number within 15 minutes and records it', async () => {
    const p = await startPipeline(dynamo, config());
    const incidents: Incident[] = [];
    for (let i = 0; i < 6; i++)
      incidents.push(await open(p, { dedupKey: `flood-${i}`, severity: 'warning' }));
    const toSms = p.takePages().filter((page) => page.endsWith('alice-1'));
    expect(toSms).toHaveLength(5);
    const last = incidents[5];
    const [opened] = await p.store.timeline(last?.id ?? '');
    expect(opened?.throttled).toEqual(['alice-0', 'alice-1']);
  });
});

describe('a level with nobody on call', () => {
  /** The primary schedule's rotation begins next Monday: nobody is on call there this week. */
  const gap = (policy?: Record<string, unknown>, service: Record<string, unknown> = {}) => {
    const c = teamConfig(service, policy ? { escalationPolicies: [{ id: 'checkout', ...policy }] } : {});
    c.schedules = [
      {
        ...c.schedules[0],
        rotations: [
          { type: 'weekly', startDate: '2026-11-30', handoffTime: '09:00', participants: ['alice', 'bob'] },
        ],
      },
    ] as typeof c.schedules;
    return c;
  };

  it('is skipped at once, said on its entry, and the next level is paged (not after its delay)', async () => {
    const p = await startPipeline(dynamo, gap());
    const incident = await open(p, { severity: 'warning' });
    expect(p.takePages()).toEqual([]);
    const [opened] = await p.store.timeline(incident.id);
    expect(opened?.text).toContain('nobody on call at level 1: level 2 is paged now');
    await p.fastForward(2000); // "now": a timer set a moment ahead, not level 1's 5 minutes
    expect(p.takePages()).toEqual(['page carol carol-0']);
    // Level 2's 10 minutes, then the repeat: level 1 is still empty, so level 2 again at once.
    await p.fastForward(10 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
    await p.fastForward(10 * MINUTE);
    expect(p.takePages()).toEqual(['page dave dave-0']);
    await p.fastForward(60 * MINUTE);
    expect(p.takePages()).toEqual([]);
    const timeline = await p.store.timeline(incident.id);
    expect(timeline.map((e) => [e.type, e.paged ?? []])).toEqual([
      ['OPENED', []],
      ['ESCALATED', ['carol']],
      ['ESCALATED', []],
      ['ESCALATED', ['carol']],
      ['ESCALATION_EXHAUSTED', ['dave']],
    ]);
    expect(timeline[2]?.text).toContain('nobody on call at level 1: level 2 is paged now');
  });

  it('when every level is empty: each round is tried again at its time, then the fallback', async () => {
    const p = await startPipeline(
      dynamo,
      gap({
        levels: [
          { delayMinutes: 5, targets: [{ schedule: 'primary' }] },
          { delayMinutes: 10, targets: [{ schedule: 'primary' }] },
        ],
        repeat: 3,
      }),
    );
    const incident = await open(p, { severity: 'warning' });
    const [opened] = await p.store.timeline(incident.id);
    // 11:00 + level 1's 5 and level 2's 10 minutes: when the steps would have come round again.
    expect(opened?.text).toContain(
      'nobody on call at level 1, nor at level 2: level 1 is tried again at 11:15 (repeat 1)',
    );
    await p.fastForward(14 * MINUTE);
    expect(p.takePages()).toEqual([]);
    // Three repeats, 15 minutes apart, all empty; then the fallback.
    await p.fastForward(31 * MINUTE);
    expect(p.takePages()).toEqual([]);
    await p.fastForward(15 * MINUTE);
    expect(p.takePages()).toEqual(['page dave dave-0']);
    await p.fastForward(120 * MINUTE);
    expect(p.takePages()).toEqual([]);
    const timeline = await p.store.timeline(incident.id);
    expect(timeline.map((e) => e.type)).toEqual([
      'OPENED',
      'ESCALATED',
      'ESCALATED',
      'ESCALATED',
      'ESCALATION_EXHAUSTED',
    ]);
    expect(timeline[3]?.text).toContain('nobody on call at level 1, nor at level 2: on to the fallback now');
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'exhausted', step: 8 });
  });

  it('escalating into an empty last level does not page the escalator back at once: the round keeps its time', async () => {
    const p = await startPipeline(
      dynamo,
      gap({
        levels: [
          { delayMinutes: 5, targets: [{ responder: 'carol' }] },
          { delayMinutes: 10, targets: [{ schedule: 'primary' }] },
        ],
        repeat: 1,
      }),
    );
    const incident = await open(p, { severity: 'warning' });
    expect(p.takePages()).toEqual(['page carol carol-0']);
    const escalated = await escalateNow(incident.id, { who: 'carol', from: 0 }, p.deps);
    expect(escalated).toMatchObject({ changed: true, paged: [] });
    const entry = (await p.store.timeline(incident.id)).find((e) => e.type === 'ESCALATED');
    expect(entry?.text).toContain('nobody on call at level 2: level 1 is tried again at 11:10 (repeat 1)');
    await p.fastForward(9 * MINUTE);
    expect(p.takePages()).toEqual([]);
    await p.fastForward(1 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
  });

  // Regression test: with the whole round empty the incident went to the exhausted step at once,
  // so a schedule's gap of five minutes left it unpaged for good once someone came on call.
  it('a gap that ends: the repeat pages whoever is on call then', async () => {
    const config = gap(
      { levels: [{ delayMinutes: 10, targets: [{ schedule: 'primary' }] }], repeat: 2 },
      {
        fallback: undefined,
      },
    );
    // The rotation begins at 11:05 Berlin (10:05Z), five minutes after the alert.
    config.schedules = [
      {
        ...config.schedules[0],
        rotations: [
          { type: 'weekly', startDate: '2026-11-26', handoffTime: '11:05', participants: ['alice', 'bob'] },
        ],
      },
    ] as typeof config.schedules;
    const p = await startPipeline(dynamo, config);
    const incident = await open(p, { severity: 'warning' });
    expect(p.takePages()).toEqual([]);
    await p.fastForward(10 * MINUTE);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'active', step: 1 });
  });

  it('with no fallback either, the timeline says nobody was paged', async () => {
    const p = await startPipeline(
      dynamo,
      gap(
        { levels: [{ delayMinutes: 5, targets: [{ schedule: 'primary' }] }], repeat: 0 },
        { fallback: undefined },
      ),
    );
    const incident = await open(p, { severity: 'warning' });
    await p.fastForward(60 * MINUTE);
    expect(p.takePages()).toEqual([]);
    const texts = (await p.store.timeline(incident.id)).map((e) => `${e.type}: ${e.text}`);
    expect(texts).toEqual([
      expect.stringContaining('OPENED: Incident opened: ') as unknown as string,
      'ESCALATION_EXHAUSTED: Escalation exhausted: nobody acknowledged — no fallback: nobody paged',
    ]);
    expect(texts[0]).toContain('nobody on call at level 1: on to the fallback now');
  });

  it("the skip is one step: its timer delivered twice, or the skipped level's own timer late, pages once", async () => {
    const p = await startPipeline(
      dynamo,
      gap({
        levels: [
          { delayMinutes: 5, targets: [{ responder: 'bob' }] },
          { delayMinutes: 5, targets: [{ schedule: 'primary' }] },
          { delayMinutes: 5, targets: [{ schedule: 'primary' }] },
          { delayMinutes: 10, targets: [{ responder: 'carol' }] },
        ],
        repeat: 0,
      }),
    );
    const incident = await open(p, { severity: 'warning' });
    expect(p.takePages()).toEqual(['page bob bob-0']);
    await p.fastForward(5 * MINUTE); // level 2: empty, and so is level 3 — level 4 (step 3) at once
    expect(p.takePages()).toEqual([]);
    const skipped = (await p.store.timeline(incident.id)).at(-1);
    expect(skipped?.text).toContain('nobody on call at level 2, nor at level 3: level 4 is paged now');
    await p.fastForward(2000);
    expect(p.takePages()).toEqual(['page carol carol-0']);
    const jump = { kind: 'escalate', incidentId: incident.id, generation: incident.generation, step: 3 };
    expect(await handleTimerEvent(jump, p.deps)).toBe('replayed');
    expect(await handleTimerEvent({ ...jump, step: 2 }, p.deps)).toBe('stale');
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ step: 3, escalations: 2 });
  });
});

describe('a reminder the throttle refuses', () => {
  /** carol's status-update reminders so far, as "<incident> <minute:second>" in the order sent. */
  const statusReminders = (p: Pipeline) =>
    p.pager.inbox
      .filter((e) => e.page.kind === 'reminder' && /status update/.test(e.page.reason))
      .map((e) => `${e.page.incident.id} ${e.at.slice(14, 19)}`);

  it('is sent when the throttle allows one: an owner of two SEV-1s is reminded of both', async () => {
    const p = await startPipeline(dynamo, config());
    const a = await open(p, { dedupKey: 'orders-db', severity: 'critical' });
    const b = await open(p, { dedupKey: 'payment-queue', severity: 'critical' });
    await p.fastForward(MINUTE);
    await acknowledge(p, a, 'carol');
    await acknowledge(p, b, 'carol');
    await p.fastForward(15 * MINUTE); // 10:16: both due; one message per 3 minutes
    expect(statusReminders(p)).toHaveLength(1);
    await p.fastForward(3 * MINUTE); // 10:19: the other, not dropped
    const sent = statusReminders(p);
    expect(sent.map((s) => s.split(' ')[0]).sort()).toEqual([a.id, b.id].sort());
    expect(sent.map((s) => s.split(' ')[1])).toEqual(['16:00', '19:00']);
    const heldFor = sent[1]?.split(' ')[0] ?? '';
    const reminded = (await p.store.timeline(heldFor)).filter((e) => e.type === 'REMINDED');
    expect(reminded.map((e) => [e.at, e.paged ?? [], e.throttled ?? []])).toEqual([
      ['2026-11-26T10:16:00.000Z', [], ['carol-0']],
      ['2026-11-26T10:16:00.000Z', ['carol'], []],
    ]);
    expect(reminded.map((e) => e.text)).toContain(
      'Status update reminder 1, held by the throttle: sent at 11:19',
    );
  });

  it('30 s after the re-assessment reminder, it comes 3 minutes later, and the chain keeps its 15 minutes', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'critical' });
    await p.fastForward(30_000);
    await acknowledge(p, incident, 'carol');
    await p.fastForward(64 * MINUTE);
    expect(statusReminders(p).map((s) => s.split(' ')[1])).toEqual(['15:30', '33:00', '45:30', '03:00']);
  });

  it('held: its timer delivered twice sends it once; one whose incident got a status update since is not sent', async () => {
    const p = await startPipeline(dynamo, config());
    const a = await open(p, { dedupKey: 'orders-db', severity: 'critical' });
    const b = await open(p, { dedupKey: 'payment-queue', severity: 'critical' });
    await p.fastForward(MINUTE);
    await acknowledge(p, a, 'carol');
    await acknowledge(p, b, 'carol');
    await p.fastForward(15 * MINUTE);
    const [first] = statusReminders(p);
    const held = first?.startsWith(a.id) ? b : a;
    const event = { kind: 'reminder', incidentId: held.id, seq: 1, held: { to: ['carol-0'], n: 1 } };
    p.clock.set(new Date(Date.parse('2026-11-26T10:19:00.000Z')));
    expect(await handleTimerEvent(event, p.deps)).toBe('done');
    expect(await handleTimerEvent(event, p.deps)).toBe('replayed');
    await p.fastForward(0); // the pending timer of the same name: a replay too
    expect(statusReminders(p)).toHaveLength(2);

    // The other incident's next reminder is held (10:31, 10:34 …); carol posts an update first.
    await p.fastForward(12 * MINUTE + 30_000);
    const other = held.id === a.id ? b : a;
    const before = statusReminders(p).length;
    expect((await p.timers.pending()).map((t) => t.name)).toContain(`rem-${other.id}-2-h1`);
    await addNote(other.id, { type: 'UPDATE', who: 'carol', text: 'Failing over' }, p.deps);
    await p.fastForward(5 * MINUTE);
    const heldEntries = (await p.store.timeline(other.id)).filter((e) => /held by the throttle/.test(e.text));
    expect(heldEntries).toEqual([]);
    expect(
      statusReminders(p)
        .slice(before)
        .filter((s) => s.startsWith(other.id)),
    ).toEqual([]);
  });

  it('held for someone no longer asked (a comms lead named meanwhile): its entry says it was not sent', async () => {
    const p = await startPipeline(dynamo, config());
    const a = await open(p, { dedupKey: 'orders-db', severity: 'critical' });
    const b = await open(p, { dedupKey: 'payment-queue', severity: 'critical' });
    await p.fastForward(MINUTE);
    await acknowledge(p, a, 'carol');
    await acknowledge(p, b, 'carol');
    await p.fastForward(15 * MINUTE); // 10:16: one sent, the other held for carol until 10:19
    const [first] = statusReminders(p);
    const held = first?.startsWith(a.id) ? b : a;
    await assignRole(held.id, { role: 'comms-lead', person: 'bob', who: 'carol' }, p.deps);
    p.takePages();
    await p.fastForward(3 * MINUTE);
    expect(p.takePages().filter((line) => line.startsWith('reminder'))).toEqual([]);
    const texts = (await p.store.timeline(held.id)).map((e) => e.text);
    expect(texts).toContain(
      'Status update reminder 1, held by the throttle: dropped at 11:19: its contacts are no longer asked',
    );
    expect(texts.some((t) => t.includes('held again'))).toBe(false);
  });
});

describe('business hours (SEV-4: Mon–Fri 09:00–17:00 Europe/Berlin)', () => {
  const hours = (service: Record<string, unknown> = {}) => teamConfig(service, { businessHours: {} });
  const pages = (p: Pipeline) => p.takePages().filter((page) => page.startsWith('page'));
  const texts = async (p: Pipeline, id: string) => (await p.store.timeline(id)).map((e) => e.text);
  const until = async (p: Pipeline, iso: string) => p.fastForward(Date.parse(iso) - p.clock.now().getTime());

  it('a SEV-4 opened at night pages nobody and waits, stopped, until 09:00; then escalates from level 1', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z'); // Thu 03:00
    const incident = await open(p, { severity: 'info' });
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    expect((await texts(p, incident.id))[0]).toBe(
      'Incident opened: p99 latency above 2s on orders-db — outside business hours: paging at 09:00 Thu 26 Nov (Europe/Berlin)',
    );
    await until(p, '2026-11-26T07:59:59.000Z');
    expect(p.takePages()).toEqual([]);
    await p.fastForward(1000); // 09:00
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'active', step: 0 });
    expect((await texts(p, incident.id)).at(-1)).toBe(
      'Escalation resumed: the wait for business hours ended',
    );
    await p.fastForward(5 * MINUTE);
    expect(pages(p)).toEqual(['page carol carol-0']);
    // The start's timer delivered again (or late) is a no-op.
    const waited = ((await p.store.get(incident.id))?.generation ?? 0) - 1; // resumed: the next one
    expect(
      await handleTimerEvent({ kind: 'business-hours', incidentId: incident.id, generation: waited }, p.deps),
    ).toBe('stale');
    expect(p.takePages()).toEqual([]);
  });

  it("the start's timer delivered twice at once pages level 1 once", async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z');
    const incident = await open(p, { severity: 'info' });
    const waiting = (await p.store.get(incident.id))?.generation ?? 0;
    p.clock.set(new Date('2026-11-26T08:00:00.000Z'));
    const event = { kind: 'business-hours', incidentId: incident.id, generation: waiting };
    const outcomes = await Promise.all([handleTimerEvent(event, p.deps), handleTimerEvent(event, p.deps)]);
    expect(outcomes.sort()).toEqual(['done', 'stale']);
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await handleTimerEvent(event, p.deps)).toBe('stale'); // and late: nothing
    expect(p.takePages()).toEqual([]);
  });

  it('holds back only the severities listed: a SEV-1, or a service with businessHours false, pages at once', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z');
    await open(p, { severity: 'critical' });
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    const q = await startPipeline(dynamo, hours({ businessHours: false }), '2026-11-26T02:00:00.000Z');
    await open(q, { severity: 'info' });
    expect(pages(q)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a step due after 17:00 on a Friday stops; escalation resumes from level 1 on Monday at 09:00', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-27T15:58:00.000Z'); // Fri 16:58
    const incident = await open(p, { severity: 'info' });
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    await p.fastForward(5 * MINUTE); // 17:03: level 2 is due
    expect(pages(p)).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
    expect((await texts(p, incident.id)).at(-1)).toBe(
      'Escalation stopped: outside business hours: paging at 09:00 Mon 30 Nov (Europe/Berlin)',
    );
    await until(p, '2026-11-30T07:59:00.000Z'); // the weekend
    expect(p.takePages()).toEqual([]);
    await p.fastForward(MINUTE); // Mon 09:00: bob's week on call begins
    expect(pages(p)).toEqual(['page bob bob-0']);
  });

  it('counts 09:00 on the clock across the DST change (Berlin, Sunday 2026-10-25)', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-10-23T16:00:00.000Z'); // Fri 18:00 CEST
    const incident = await open(p, { severity: 'info' });
    expect((await texts(p, incident.id))[0]).toContain('paging at 09:00 Mon 26 Oct (Europe/Berlin)');
    await until(p, '2026-10-26T07:30:00.000Z'); // 08:30 CET (09:30 had the clocks not moved)
    expect(p.takePages()).toEqual([]);
    await until(p, '2026-10-26T08:00:00.000Z'); // 09:00 CET
    expect((await texts(p, incident.id)).at(-1)).toMatch(/^Escalation resumed: the wait for business hours/);
    // The schedule's rotation begins in November: nobody on level 1, so level 2 is timed for now.
    await p.fastForward(1000);
    expect(pages(p)).toEqual(['page carol carol-0']);
  });

  it('a person still acts at night: escalate now pages (once per press), acknowledge and resolve work', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z');
    const incident = await open(p, { severity: 'info' });
    const first = await escalateNow(incident.id, { who: 'bob', from: 0 }, p.deps);
    expect(first).toMatchObject({ changed: true, paged: ['carol'] });
    expect(await escalateNow(incident.id, { who: 'bob', from: 0 }, p.deps)).toMatchObject({ changed: false });
    expect(pages(p)).toEqual(['page carol carol-0']);
    await acknowledge(p, incident, 'carol');
    await until(p, '2026-11-26T09:00:00.000Z'); // past 09:00: the start's timer finds it acknowledged
    expect(pages(p)).toEqual([]);
    await afterResolved(
      (await p.store.transition(incident.id, 'resolved', p.clock.now(), 'carol', 'link:carol:r')).incident ??
        incident,
      { who: 'carol', channel: 'link', cause: 'link:carol:r' },
      p.deps,
    );
    expect((await p.store.get(incident.id))?.status).toBe('resolved');
  });

  it('a maintenance window wins: nobody is paged at 09:00 inside it; its end pages level 1', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z');
    const incident = await open(p, { severity: 'info' });
    await createMaintenance(
      {
        service: 'checkout',
        from: new Date('2026-11-26T07:30:00.000Z'),
        to: new Date('2026-11-26T09:00:00.000Z'),
      },
      p.deps,
    );
    await until(p, '2026-11-26T08:59:00.000Z'); // past 09:00 local, inside the window
    expect(p.takePages()).toEqual([]);
    await p.fastForward(MINUTE); // 10:00: the window ends
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect((await texts(p, incident.id)).at(-1)).toMatch(
      /^Escalation resumed: maintenance window \S+ ended$/,
    );
  });

  it('a window ending at night leaves a waiting incident waiting; one it stopped waits for 09:00', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T15:00:00.000Z'); // Thu 16:00
    const now = p.clock.now();
    await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 3 * 60 * MINUTE) },
      p.deps,
    );
    const incident = await open(p, { severity: 'info' }); // stopped by the window
    await p.fastForward(3 * 60 * MINUTE); // 19:00: the window ends
    expect(p.takePages()).toEqual([]);
    expect((await texts(p, incident.id)).at(-1)).toMatch(
      /^Escalation resumed: maintenance window \S+ ended — outside business hours: paging at 09:00 Fri 27 Nov \(Europe\/Berlin\)$/,
    );
    await until(p, '2026-11-27T08:00:00.000Z');
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a raise out of the listed severities pages at once; a lowering into them stops only later steps', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z');
    const low = await open(p, { severity: 'info' });
    await changeSeverity(low.id, { severity: 'SEV-2', who: 'bob', reason: 'orders fail' }, p.deps);
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await p.store.get(low.id)).toMatchObject({ escalation: 'active', sev: 'SEV-2' });

    const high = await open(p, { severity: 'error', dedupKey: 'disk' }); // SEV-2: paged
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    await changeSeverity(high.id, { severity: 'SEV-4', who: 'alice', reason: 'one host' }, p.deps);
    expect(await p.store.get(high.id)).toMatchObject({ escalation: 'active' });
    await p.fastForward(5 * MINUTE); // both level-2 steps come due: the SEV-2 pages, the SEV-4 waits
    expect(pages(p)).toEqual(['page carol carol-0']);
    expect((await texts(p, high.id)).at(-1)).toBe(
      'Escalation stopped: outside business hours: paging at 09:00 Thu 26 Nov (Europe/Berlin)',
    );
  });

  it('a SEV-4 that reopens after 17:00 waits for 09:00, said on its REOPENED entry', async () => {
    const p = await startPipeline(
      dynamo,
      hours({ resolveMonitoringMinutes: 30 }),
      '2026-11-26T15:40:00.000Z',
    );
    const incident = await open(p, { severity: 'info' }); // Thu 16:40
    await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps); // watched until 17:10
    p.takePages();
    await p.fastForward(25 * MINUTE); // 17:05: the alert fires again
    await processAlert(makeAlert({ severity: 'info', receivedAt: p.clock.now().toISOString() }), p.deps);
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    expect((await texts(p, incident.id)).at(-1)).toBe(
      'Reopened: the alert fired again during the monitoring period — outside business hours: paging at 09:00 Fri 27 Nov (Europe/Berlin)',
    );
    await until(p, '2026-11-27T08:00:00.000Z');
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('an ack timeout that lapses at night restarts the SEV-4 stopped, paged at 09:00', async () => {
    const p = await startPipeline(dynamo, hours({ ackTimeoutMinutes: 30 }), '2026-11-26T15:50:00.000Z');
    const incident = await open(p, { severity: 'info' }); // Thu 16:50
    await acknowledge(p, incident, 'alice');
    p.takePages();
    await p.fastForward(31 * MINUTE); // 17:21: the acknowledgement lapses
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ status: 'triggered', escalation: 'stopped' });
    expect((await texts(p, incident.id)).at(-1)).toBe(
      'Escalation stopped: the acknowledgement timed out outside business hours: paging at 09:00 Fri 27 Nov (Europe/Berlin)',
    );
    await until(p, '2026-11-27T08:00:00.000Z');
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('an acknowledgement that lapses after 17:00 is recorded; at 09:00 its acknowledger is paged with level 1', async () => {
    const p = await startPipeline(dynamo, hours({ ackTimeoutMinutes: 30 }), '2026-11-26T15:30:00.000Z');
    const incident = await open(p, { severity: 'info' }); // Thu 16:30: alice
    await p.fastForward(5 * MINUTE); // carol (level 2) is paged, and takes it
    await acknowledge(p, incident, 'carol');
    p.takePages();
    p.events.take();
    await p.fastForward(30 * MINUTE); // 17:05: the acknowledgement lapses outside business hours
    expect(p.takePages()).toEqual([]);
    expect(p.events.take()).not.toContain('Incident Escalated'); // nobody was paged yet
    const lapse = (await p.store.timeline(incident.id)).filter((e) => e.type === 'ACK_TIMEOUT');
    expect(lapse.map((e) => e.text)).toEqual([
      'Acknowledged but unresolved past the ack timeout: escalation restarted — outside business hours: paging at 09:00 Fri 27 Nov (Europe/Berlin)',
    ]);
    const waiting = (await p.store.get(incident.id))?.generation ?? 0;
    await until(p, '2026-11-27T08:00:00.000Z'); // Fri 09:00
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1', 'page carol carol-0']);
    expect(p.events.take()).toContain('Incident Escalated');
    expect((await texts(p, incident.id)).at(-1)).toBe(
      'Escalation resumed: the wait for business hours ended — the acknowledgement had timed out: Carol paged too',
    );
    // The start's timer again: nothing. Five minutes on, the policy goes on without her again.
    const event = { kind: 'business-hours', incidentId: incident.id, generation: waiting };
    expect(await handleTimerEvent(event, p.deps)).toBe('stale');
    await p.fastForward(5 * MINUTE);
    expect(pages(p)).toEqual(['page carol carol-0']);
  });

  it('a window over 09:00 that ends after 17:00: the SEV-4 that waited is paged the next morning', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z'); // Thu 03:00
    await open(p, { severity: 'info' });
    await createMaintenance(
      {
        service: 'checkout',
        from: new Date('2026-11-26T07:00:00.000Z'),
        to: new Date('2026-11-26T17:00:00.000Z'),
      },
      p.deps,
    );
    await until(p, '2026-11-27T07:59:00.000Z'); // 09:00 inside the window, 18:00 its end: nobody
    expect(p.takePages()).toEqual([]);
    await until(p, '2026-11-27T08:00:00.000Z'); // Fri 09:00
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a start timer that finds the SEV-4 outside hours a deploy moved times the new start', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z'); // Thu 03:00
    await open(p, { severity: 'info' });
    await until(p, '2026-11-26T04:00:00.000Z'); // 05:00: a deploy moves the hours to 10:00–18:00
    (p.deps as { config: unknown }).config = parseConfig(
      teamConfig({}, { businessHours: { from: '10:00', to: '18:00' } }),
    );
    await until(p, '2026-11-26T08:59:00.000Z'); // the timer set for 09:00 fired: nobody
    expect(p.takePages()).toEqual([]);
    await until(p, '2026-11-26T09:00:00.000Z'); // 10:00
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a start timer delivered after 17:00 times the next start: paged the next morning', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z'); // Thu 03:00
    await open(p, { severity: 'info' });
    p.clock.set(new Date('2026-11-26T16:30:00.000Z')); // 17:30: the 09:00 timer is delivered now
    await p.timers.runDue();
    expect(p.takePages()).toEqual([]);
    await until(p, '2026-11-27T08:00:00.000Z'); // Fri 09:00
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('a window ending at 09:00 as business hours begin pages level 1 once, whichever timer runs first', async () => {
    for (const first of ['maintenance-end', 'business-hours']) {
      const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z'); // Thu 03:00
      const incident = await open(p, { severity: 'info' });
      const waiting = (await p.store.get(incident.id))?.generation ?? 0;
      const window = await createMaintenance(
        {
          service: 'checkout',
          from: new Date('2026-11-26T03:00:00.000Z'),
          to: new Date('2026-11-26T08:00:00.000Z'),
        },
        p.deps,
      );
      p.clock.set(new Date('2026-11-26T03:00:00.000Z'));
      await p.timers.runDue(); // the window begins
      p.clock.set(new Date('2026-11-26T08:00:00.000Z')); // 09:00: it ends as business hours begin
      const end = { kind: 'maintenance-end', service: 'checkout', windowId: window.id };
      const start = { kind: 'business-hours', incidentId: incident.id, generation: waiting };
      const events = first === 'maintenance-end' ? [end, start] : [start, end];
      await Promise.all(events.map((event) => handleTimerEvent(event, p.deps)));
      expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
    }
  });

  it('a SEV-4 acknowledged while it waited, raised in business hours, pages level 1 once', async () => {
    const p = await startPipeline(dynamo, hours(), '2026-11-26T02:00:00.000Z'); // Thu 03:00
    const incident = await open(p, { severity: 'info' });
    await p.fastForward(10 * MINUTE);
    await acknowledge(p, incident, 'bob'); // its escalation stays stopped, as it waited
    await until(p, '2026-11-26T10:00:00.000Z'); // 11:00
    expect(pages(p)).toEqual([]);
    await changeSeverity(incident.id, { severity: 'SEV-1', who: 'bob', reason: 'orders fail' }, p.deps);
    expect(pages(p)).toEqual(['page alice alice-0', 'page alice alice-1']);
  });

  it('escalate now at night into a level with nobody on call pages the next level with someone at once', async () => {
    const c = teamConfig(
      {},
      {
        businessHours: {},
        escalationPolicies: [
          {
            id: 'checkout',
            levels: [
              { delayMinutes: 5, targets: [{ schedule: 'primary' }] },
              { delayMinutes: 5, targets: [{ schedule: 'secondary' }] }, // nobody on call this week
              { delayMinutes: 10, targets: [{ responder: 'carol' }] },
            ],
            repeat: 1,
          },
        ],
      },
    );
    c.schedules = [
      ...c.schedules,
      {
        id: 'secondary',
        name: 'Secondary',
        timeZone: 'Europe/Berlin',
        rotations: [{ type: 'weekly', startDate: '2026-12-07', handoffTime: '09:00', participants: ['bob'] }],
      },
    ] as typeof c.schedules;
    const p = await startPipeline(dynamo, c, '2026-11-26T02:00:00.000Z'); // Thu 03:00
    const incident = await open(p, { severity: 'info' });
    expect((await escalateNow(incident.id, { who: 'bob', from: 0 }, p.deps)).changed).toBe(true);
    await p.fastForward(MINUTE);
    expect(pages(p)).toEqual(['page carol carol-0']);
    await p.fastForward(10 * MINUTE); // its next step is a timer's: it waits for 09:00
    expect(p.takePages()).toEqual([]);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
  });
});

describe("a window over many incidents: a request that dies midway still leaves the window's end", () => {
  /** The pipeline's store with some methods replaced (the rest bound to it: it has private fields). */
  const storeWith = (p: Pipeline, methods: Partial<Pipeline['store']>): Pipeline['store'] =>
    new Proxy(p.store, {
      get(target, prop) {
        if (prop in methods) return methods[prop as keyof typeof methods];
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  /** Failing `openIncidentIds` (the walk over the service) while `failing`. */
  const failingWalk = (p: Pipeline) => {
    const state = { failing: true };
    const store = storeWith(p, {
      openIncidentIds: async (service: string) => {
        if (state.failing) throw new Error('Task timed out after 10.00 seconds');
        return p.store.openIncidentIds(service);
      },
    });
    return { state, deps: { ...p.deps, store } };
  };

  it('a start that dies stopping its incidents has timed its end first: they page again after it', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const { deps } = failingWalk(p);
    const now = p.clock.now();
    const to = new Date(now.getTime() + 30 * MINUTE);
    await expect(createMaintenance({ service: 'checkout', from: now, to }, deps)).rejects.toThrow(
      /timed out/,
    );
    expect((await p.timers.pending()).filter((t) => t.name.startsWith('mwe-checkout-'))).toHaveLength(1);
    // The incident was stopped by its own next step (the window is in the store), then resumed.
    await p.fastForward(35 * MINUTE);
    expect(p.takePages()).toContain('page alice alice-0');
    expect((await p.store.get(incident.id))?.escalation).not.toBe('stopped');
  });

  it('an early end that dies resuming them has moved its end timer to now: that timer resumes them', async () => {
    const p = await startPipeline(dynamo, config());
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const now = p.clock.now();
    const window = await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 8 * 60 * MINUTE) },
      p.deps,
    );
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'stopped' });
    const { state, deps } = failingWalk(p);
    await expect(endMaintenance('checkout', window.id, deps)).rejects.toThrow(/timed out/);
    // Its retry finds no window any more (404); the moved timer does the resume within a minute.
    state.failing = false;
    expect(await endMaintenance('checkout', window.id, deps)).toBe(false);
    const end = (await p.timers.pending()).find((t) => t.name === `mwe-checkout-${window.id}`);
    expect(Date.parse(end?.dueAt ?? '')).toBeLessThanOrEqual(now.getTime() + MINUTE);
    await p.fastForward(2 * MINUTE);
    expect(await p.store.get(incident.id)).toMatchObject({ escalation: 'active' });
    expect(p.takePages()).toContain('page alice alice-0');
  });

  it('an unknown window is not found, and times nothing', async () => {
    const p = await startPipeline(dynamo, config());
    expect(await endMaintenance('checkout', 'nope00000000', p.deps)).toBe(false);
    expect((await p.timers.pending()).filter((t) => t.name.startsWith('mwe-'))).toEqual([]);
  });

  it("walks the service's incidents a few at a time", async () => {
    const p = await startPipeline(dynamo, config());
    for (let i = 0; i < 12; i++) await open(p, { severity: 'warning', dedupKey: `k${i}` });
    let inFlight = 0;
    let most = 0;
    const store = storeWith(p, {
      get: async (id: string) => {
        most = Math.max(most, ++inFlight);
        try {
          return await p.store.get(id);
        } finally {
          inFlight--;
        }
      },
    });
    const now = p.clock.now();
    const window = await createMaintenance(
      { service: 'checkout', from: now, to: new Date(now.getTime() + 30 * MINUTE) },
      { ...p.deps, store },
    );
    expect(window.stopped).toBe(12);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
  });
});
