import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  acknowledgeIncident,
  assignRole,
  changeSeverity,
  handOff,
  mitigateIncident,
  resolveIncident,
} from '#app/command';
import { createMaintenance } from '#app/operations';
import { processAlert } from '#app/process-alert';
import { handleTimerEvent } from '#app/timers';
import { ConflictError, RetryableError } from '#core/errors';
import { postmortemDueAt } from '#core/incident';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { overriding } from '../support/override.ts';
import { openIncident, type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

/**
 * The incident-command use cases retried after a failure midway, and the lifecycle's corners: a
 * retry completes what the first attempt left (never repeats it), and late or stale inputs change
 * nothing.
 */

const MINUTE = 60_000;
const START = '2026-11-26T10:00:00.000Z';
const MONITORED = { resolveMonitoringMinutes: 15 };

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const now = (p: Pipeline) => p.clock.now().toISOString();

const open = openIncident;

async function pendingNames(p: Pipeline) {
  return (await p.timers.pending()).map((t) => t.name).sort();
}

async function types(p: Pipeline, id: string) {
  return (await p.store.timeline(id)).map((e) => e.type);
}

/** A maintenance window of checkout from now, for an hour. */
async function maintenanceHour(p: Pipeline) {
  await createMaintenance(
    { service: 'checkout', from: p.clock.now(), to: new Date(p.clock.now().getTime() + 60 * MINUTE) },
    p.deps,
  );
}

/** The pipeline's deps with a pager that fails its first `n` sends (an SNS outage). */
function failingPager(p: Pipeline, n: number) {
  let left = n;
  return {
    ...p.deps,
    pager: {
      send: async (page: Parameters<typeof p.pager.send>[0]) => {
        if (left-- > 0) throw new Error('SNS is down');
        await p.pager.send(page);
      },
    },
  };
}

describe('retried after a failure midway', () => {
  it('a resolve whose monitoring effects were lost is completed by the retried request', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p, { severity: 'warning' });
    // The first request committed the move to monitoring, then died before its effects.
    const until = new Date(p.clock.now().getTime() + 15 * MINUTE).toISOString();
    await p.store.transition(incident.id, 'monitoring', p.clock.now(), 'alice', `api:resolve:0`, {
      monitoringUntil: until,
    });
    expect(await pendingNames(p)).toEqual([`esc-${incident.id}-1-1`]);
    const retried = await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
    expect(retried.changed).toBe(false);
    expect(await pendingNames(p)).toEqual([`res-${incident.id}-0`]);
    expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING']);
    await p.fastForward(15 * MINUTE);
    expect((await p.store.get(incident.id))?.status).toBe('resolved');
  });

  it('a severity raise whose pages failed is completed by the retried request, paging level 1 once', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const input = { severity: 'SEV-1' as const, reason: 'checkout down', who: 'bob' };
    await expect(changeSeverity(incident.id, input, failingPager(p, 1))).rejects.toThrow('SNS is down');
    expect(await types(p, incident.id)).toEqual(['OPENED']);
    const retried = await changeSeverity(incident.id, input, p.deps);
    expect(retried.changed).toBe(false);
    expect(retried.incident).toMatchObject({ sev: 'SEV-1', severityFrom: 'SEV-3', generation: 2 });
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await types(p, incident.id)).toEqual(['OPENED', 'SEVERITY_CHANGED']);
    expect(p.events.take()).toContain('Incident Severity Changed');
    // Escalation goes on in the new generation.
    await p.fastForward(5 * MINUTE);
    expect(p.takePages()).toEqual(['page carol carol-0']);
    // And once complete, a third request changes nothing.
    await changeSeverity(incident.id, input, p.deps);
    expect(p.takePages()).toEqual([]);
  });
});

describe('a reopening trigger whose effects failed', () => {
  it('is recognised on its redelivery after hundreds of other alerts, and completes the reopen', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p, { severity: 'warning' });
    await resolveIncident(incident.id, { who: 'alice', now: false }, p.deps);
    p.takePages();
    // The alert fires again while the resolve is watched: reopened, then SNS fails the page.
    const again = makeAlert({ receivedAt: now(p), severity: 'warning' });
    await expect(processAlert(again, failingPager(p, 1))).rejects.toThrow('SNS is down');
    expect((await p.store.get(incident.id))?.status).toBe('triggered');
    // A burst follows before the bus delivers the failed event again (more than the dedup window).
    for (let i = 0; i < 300; i++)
      await processAlert(makeAlert({ receivedAt: now(p), severity: 'warning' }), p.deps);
    const redelivered = await processAlert(again, p.deps);
    expect(redelivered).toMatchObject({ kind: 'replayed', incident: { reopens: 1 } });
    expect((await p.store.get(incident.id))?.alertCount).toBe(302);
    expect(await types(p, incident.id)).toEqual(['OPENED', 'MONITORING', 'REOPENED']);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });
});

describe('an escalation step whose record failed', () => {
  it('is recorded by the next step, and its late retry pages nobody again', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const step = (n: number) => ({ kind: 'escalate', incidentId: incident.id, generation: 1, step: n });
    // Step 1 pages carol and times step 2, then its entry's write fails (a DynamoDB outage).
    const failingStore = overriding(p.store, {
      putTimelineEntry: async () => Promise.reject(new Error('DynamoDB is down')),
    });
    p.clock.set(new Date(Date.parse(START) + 5 * MINUTE));
    await expect(handleTimerEvent(step(1), { ...p.deps, store: failingStore })).rejects.toThrow(
      'DynamoDB is down',
    );
    expect(p.takePages()).toEqual(['page carol carol-0']);
    // Step 2 fires before step 1's retry: it records step 1 first, then does its own.
    p.clock.set(new Date(Date.parse(START) + 15 * MINUTE));
    expect(await handleTimerEvent(step(2), p.deps)).toBe('done');
    const timeline = await p.store.timeline(incident.id);
    expect(timeline.map((e) => [e.type, e.text])).toEqual([
      ['OPENED', 'Incident opened: p99 latency above 2s on orders-db'],
      ['ESCALATED', 'Escalation step 1 (recorded by step 2: its own record had failed)'],
      ['ESCALATED', 'Escalation step 2'],
    ]);
    expect(p.takePages()).toHaveLength(2); // step 2: level 1 again (the repeat)
    // Step 1's retry, late: stale, nothing sent, nothing rewritten.
    expect(await handleTimerEvent(step(1), p.deps)).toBe('stale');
    expect(p.takePages()).toEqual([]);
    expect(await p.store.timeline(incident.id)).toEqual(timeline);
  });
});

/** The practice's IC handoff brief, as the handoff tests send it. */
const brief = {
  status: 'checkout 5xx at 30%',
  tried: 'restarted the pods',
  strategy: 'roll back v42',
  people: 'bob on the database',
  decisions: 'whether to fail over',
};

describe('roles and handoff retried after a failure midway', () => {
  it('a handoff whose notice failed is completed by the retry: the brief is written once', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const input = { to: 'bob', who: 'alice', brief };
    await expect(handOff(incident.id, input, failingPager(p, 1))).rejects.toThrow('SNS is down');
    expect(await types(p, incident.id)).toEqual(['OPENED']);
    const retried = await handOff(incident.id, input, p.deps);
    expect(retried.changed).toBe(false);
    expect(p.takePages()).toEqual(['notice bob bob-0']);
    const handoffs = (await p.store.timeline(incident.id)).filter((e) => e.type === 'HANDOFF');
    expect(handoffs).toHaveLength(1);
    expect(handoffs[0]?.text).toContain('Pending decisions: whether to fail over');
    // Complete now: another retry writes and sends nothing.
    await handOff(incident.id, input, p.deps);
    expect(p.takePages()).toEqual([]);
    expect((await p.store.timeline(incident.id)).filter((e) => e.type === 'HANDOFF')).toHaveLength(1);
  });

  it('an assignment whose notice failed is completed by the retry; assigning the same again is quiet', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    const input = { role: 'tech-lead' as const, person: 'bob', who: 'alice' };
    await expect(assignRole(incident.id, input, failingPager(p, 1))).rejects.toThrow('SNS is down');
    expect((await assignRole(incident.id, input, p.deps)).changed).toBe(false);
    expect(p.takePages()).toEqual(['notice bob bob-0']);
    await assignRole(incident.id, input, p.deps);
    expect(p.takePages()).toEqual([]);
    expect((await p.store.timeline(incident.id)).filter((e) => e.type === 'ROLE_ASSIGNED')).toHaveLength(1);
  });

  it('a commander who came by a handoff is not assigned again by a later assign of the same person', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    await handOff(incident.id, { to: 'bob', who: 'alice', brief }, p.deps);
    p.takePages();
    const again = await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'alice' }, p.deps);
    expect(again.changed).toBe(false);
    expect(p.takePages()).toEqual([]);
    expect(await types(p, incident.id)).toEqual(['OPENED', 'HANDOFF']);
  });
});

describe('the same change requested twice at once', () => {
  const settled = async (runs: Promise<unknown>[]) =>
    (await Promise.allSettled(runs)).map((r) =>
      r.status === 'fulfilled' ? (r.value as { changed: boolean }).changed : (r.reason as Error).name,
    );

  it('two identical raises page level 1 once; the second is told to retry, and its retry changes nothing', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    p.takePages();
    const input = { severity: 'SEV-1' as const, reason: 'checkout down', who: 'alice' };
    const answers = await settled([
      changeSeverity(incident.id, input, p.deps),
      changeSeverity(incident.id, input, p.deps),
    ]);
    expect(answers.sort()).toEqual(['RetryableError', true]);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect((await changeSeverity(incident.id, input, p.deps)).changed).toBe(false);
    expect(p.takePages()).toEqual([]);
    expect((await types(p, incident.id)).filter((t) => t === 'SEVERITY_CHANGED')).toHaveLength(1);
  });

  it('two identical handoffs or assignments send one notice and write one entry', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    p.takePages();
    /** The first request's notice waits until the second request has answered. */
    async function twice(run: (deps: typeof p.deps) => Promise<unknown>, changedNow: () => Promise<boolean>) {
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const slow = {
        ...p.deps,
        pager: {
          send: async (page: Parameters<typeof p.pager.send>[0]) => gate.then(() => p.pager.send(page)),
        },
      };
      const first = run(slow);
      await vi.waitFor(async () => expect(await changedNow()).toBe(true));
      const second = await settled([run(p.deps)]);
      open();
      await first;
      return second;
    }
    const handoff = { to: 'bob', who: 'alice', brief };
    const commander = async () => (await p.store.get(incident.id))?.roles.commander === 'bob';
    expect(await twice((deps) => handOff(incident.id, handoff, deps), commander)).toEqual(['RetryableError']);
    const role = { role: 'scribe' as const, person: 'carol', who: 'alice' };
    const scribe = async () => (await p.store.get(incident.id))?.roles.scribe === 'carol';
    expect(await twice((deps) => assignRole(incident.id, role, deps), scribe)).toEqual(['RetryableError']);
    expect(p.takePages()).toEqual(['notice bob bob-0', 'notice carol carol-0']);
    expect((await types(p, incident.id)).sort()).toEqual(['HANDOFF', 'OPENED', 'ROLE_ASSIGNED']);
    // Retried once the first has answered: a retry, changing nothing.
    expect((await handOff(incident.id, handoff, p.deps)).changed).toBe(false);
    expect((await assignRole(incident.id, role, p.deps)).changed).toBe(false);
    expect(p.takePages()).toEqual([]);
  });

  it('a request that died after its change is completed by a retry once its lease has run out', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    p.takePages();
    const input = { severity: 'SEV-1' as const, reason: 'checkout down', who: 'alice' };
    // The first request changes the severity, then hangs in its first page (a Lambda that dies).
    const hung = { ...p.deps, pager: { send: () => new Promise<void>(() => undefined) } };
    void changeSeverity(incident.id, input, hung);
    await vi.waitFor(async () => expect((await p.store.get(incident.id))?.sev).toBe('SEV-1'));
    await expect(changeSeverity(incident.id, input, p.deps)).rejects.toBeInstanceOf(RetryableError);
    expect(p.takePages()).toEqual([]);
    p.clock.set(new Date(Date.parse(START) + 31_000));
    expect((await changeSeverity(incident.id, input, p.deps)).changed).toBe(false);
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect((await types(p, incident.id)).filter((t) => t === 'SEVERITY_CHANGED')).toHaveLength(1);
  });
});

describe('a late retry of a "set to X" command, after a later change', () => {
  it('a handoff retried after the next handoff is refused naming from, and changes nothing', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    await assignRole(incident.id, { role: 'commander', person: 'alice', who: 'alice' }, p.deps);
    p.clock.set(new Date('2026-11-26T10:10:00.000Z'));
    const first = { to: 'bob', from: 'alice', who: 'alice', brief }; // its answer is lost
    await handOff(incident.id, first, p.deps);
    p.clock.set(new Date('2026-11-26T10:40:00.000Z'));
    await handOff(incident.id, { to: 'carol', from: 'bob', who: 'bob', brief }, p.deps);
    p.takePages();
    p.clock.set(new Date('2026-11-26T10:41:00.000Z'));
    const before = {
      incident: await p.store.get(incident.id),
      timeline: await p.store.timeline(incident.id),
    };
    const late = handOff(incident.id, first, p.deps);
    await expect(late).rejects.toBeInstanceOf(ConflictError);
    await expect(late).rejects.toMatchObject({ errors: [{ field: 'from', message: 'is carol' }] });
    expect({
      incident: await p.store.get(incident.id),
      timeline: await p.store.timeline(incident.id),
    }).toEqual(before);
    expect(p.takePages()).toEqual([]);
    // Retried while bob still held it, the same request was a retry: changed: false, no second brief.
    const q = await startPipeline(dynamo, teamConfig(), START);
    const other = await open(q, { severity: 'warning' });
    await assignRole(other.id, { role: 'commander', person: 'alice', who: 'alice' }, q.deps);
    await handOff(other.id, first, q.deps);
    expect((await handOff(other.id, first, q.deps)).changed).toBe(false);
    expect((await q.store.timeline(other.id)).filter((e) => e.type === 'HANDOFF')).toHaveLength(1);
  });

  it('a role or severity change retried after a later change is refused naming from', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    const role = { role: 'tech-lead' as const, person: 'bob', from: null, who: 'alice' };
    await assignRole(incident.id, role, p.deps);
    await assignRole(incident.id, { role: 'tech-lead', person: 'carol', from: 'bob', who: 'alice' }, p.deps);
    await expect(assignRole(incident.id, role, p.deps)).rejects.toMatchObject({
      errors: [{ field: 'from', message: 'is carol' }],
    });
    const raise = { severity: 'SEV-1' as const, from: 'SEV-3' as const, reason: 'down', who: 'alice' };
    await changeSeverity(incident.id, raise, p.deps);
    await changeSeverity(
      incident.id,
      { severity: 'SEV-2', from: 'SEV-1', reason: 'EU only', who: 'bob' },
      p.deps,
    );
    p.takePages();
    await expect(changeSeverity(incident.id, raise, p.deps)).rejects.toMatchObject({
      errors: [{ field: 'from', message: 'is SEV-2' }],
    });
    const after = await p.store.get(incident.id);
    expect(after).toMatchObject({ sev: 'SEV-2', severityChanges: 2, roles: { 'tech-lead': 'carol' } });
    expect(p.takePages()).toEqual([]);
    // Without from, a request is applied as before ("set to X").
    expect((await changeSeverity(incident.id, { ...raise, from: undefined }, p.deps)).changed).toBe(true);
  });

  it('a handoff to the current incident commander with another brief is refused naming to', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' });
    await assignRole(incident.id, { role: 'commander', person: 'bob', who: 'alice' }, p.deps);
    p.takePages();
    const before = await p.store.timeline(incident.id);
    await expect(handOff(incident.id, { to: 'bob', who: 'alice', brief }, p.deps)).rejects.toMatchObject({
      errors: [{ field: 'to' }],
    });
    await handOff(incident.id, { to: 'carol', who: 'bob', brief }, p.deps);
    const changedBrief = { ...brief, strategy: 'fail over' };
    await expect(
      handOff(incident.id, { to: 'carol', who: 'bob', brief: changedBrief }, p.deps),
    ).rejects.toMatchObject({ errors: [{ field: 'to' }] });
    expect((await p.store.timeline(incident.id)).length).toBe(before.length + 1);
  });
});

describe('lifecycle corners', () => {
  it('a maintenance window leaves a resolve being watched alone: it still resolves quietly', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p, { severity: 'warning' });
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    await maintenanceHour(p);
    await p.fastForward(MINUTE);
    expect(await pendingNames(p)).toContain(`res-${incident.id}-0`);
    await p.fastForward(15 * MINUTE);
    expect((await p.store.get(incident.id))?.status).toBe('resolved');
  });

  it('a reopen during a maintenance window pages nobody', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p, { severity: 'warning' });
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    await maintenanceHour(p);
    p.takePages();
    await p.fastForward(5 * MINUTE);
    await processAlert(makeAlert({ receivedAt: now(p) }), p.deps);
    expect(p.takePages()).toEqual([]);
    const reopened = await p.store.get(incident.id);
    expect(reopened).toMatchObject({ status: 'triggered', reopens: 1, escalation: 'stopped' });
    const entry = (await p.store.timeline(incident.id)).find((e) => e.type === 'REOPENED');
    expect(entry?.text).toContain('maintenance window: nobody paged');
  });

  it('raising the severity while a maintenance window stopped escalation pages nobody', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    await maintenanceHour(p);
    const incident = await open(p, { severity: 'warning' });
    expect(incident.escalation).toBe('active');
    expect((await p.store.get(incident.id))?.escalation).toBe('stopped');
    p.takePages();
    const raised = await changeSeverity(
      incident.id,
      { severity: 'SEV-1', reason: 'worse', who: 'bob' },
      p.deps,
    );
    expect(raised.incident).toMatchObject({ sev: 'SEV-1', escalation: 'stopped' });
    await p.fastForward(10 * MINUTE);
    expect(p.takePages().filter((page) => page.startsWith('page'))).toEqual([]);
  });

  it('a late redelivery of a resolve from two reopens back moves nothing', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p, { severity: 'warning' });
    const first = makeAlert({ action: 'resolve', receivedAt: now(p), eventKey: 'resolve-1' });
    await processAlert(first, p.deps);
    await p.fastForward(MINUTE);
    await processAlert(makeAlert({ receivedAt: now(p) }), p.deps); // reopens 1
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p), eventKey: 'resolve-2' }), p.deps);
    await p.fastForward(MINUTE);
    await processAlert(makeAlert({ receivedAt: now(p) }), p.deps); // reopens 2
    const before = await p.store.get(incident.id);
    expect(before).toMatchObject({ status: 'triggered', reopens: 2 });
    p.takePages();
    const late = await processAlert(first, p.deps);
    expect(late.kind).toBe('replayed');
    expect(await p.store.get(incident.id)).toEqual(before);
    expect(p.takePages()).toEqual([]);
  });

  it('mitigating a resolve being watched that was never mitigated is a conflict naming status', async () => {
    const p = await startPipeline(dynamo, teamConfig(MONITORED), START);
    const incident = await open(p, { severity: 'warning' });
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    const refused = mitigateIncident(incident.id, { who: 'alice' }, p.deps);
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ errors: [{ field: 'status' }] });
  });

  it('a postmortem no longer required (lowered after resolution) is not chased', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p); // SEV-1
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    await changeSeverity(incident.id, { severity: 'SEV-3', reason: 'was minor', who: 'alice' }, p.deps);
    p.takePages();
    for (const stage of ['reminder', 'due'] as const)
      expect(await handleTimerEvent({ kind: 'postmortem', incidentId: incident.id, stage }, p.deps)).toBe(
        'stale',
      );
    expect(p.takePages()).toEqual([]);
  });

  it('a postmortem becomes due when the severity is raised to SEV-2 after resolution', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' }); // SEV-3: no postmortem
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    expect((await pendingNames(p)).filter((n) => n.startsWith('pm-'))).toEqual([]);
    p.events.take();
    await changeSeverity(incident.id, { severity: 'SEV-2', reason: 'it was worse', who: 'alice' }, p.deps);
    expect((await pendingNames(p)).filter((n) => n.startsWith('pm-'))).toEqual([
      `pm-${incident.id}-due`,
      `pm-${incident.id}-reminder`,
    ]);
    expect(p.events.take()).toEqual(['Incident Severity Changed', 'Postmortem Due']);
  });

  it('raised to SEV-1 after its postmortem would have been due: the deadline counts from the raise', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p, { severity: 'warning' }); // SEV-3: no postmortem
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    p.clock.set(new Date('2026-11-29T10:00:00.000Z'));
    p.takePages();
    p.events.take();
    const raised = await changeSeverity(
      incident.id,
      { severity: 'SEV-1', reason: 'was an outage', who: 'bob' },
      p.deps,
    );
    expect(postmortemDueAt(raised.incident)).toBe('2026-12-01T10:00:00.000Z');
    expect(p.events.published.at(-1)?.detail).toMatchObject({ dueAt: '2026-12-01T10:00:00.000Z' });
    expect(p.takePages()).toEqual([]);
    await p.fastForward(3 * 24 * 60 * MINUTE);
    const timeline = await p.store.timeline(incident.id);
    const late = timeline.filter((e) => e.at >= '2026-11-29T10:00:00.000Z');
    expect(late.map((e) => [e.type, e.at, e.paged, e.throttled])).toEqual([
      ['SEVERITY_CHANGED', '2026-11-29T10:00:00.000Z', undefined, undefined],
      ['POSTMORTEM_REMINDED', '2026-11-30T10:00:00.000Z', ['alice'], undefined],
      ['POSTMORTEM_OVERDUE', '2026-12-01T10:00:00.000Z', ['alice'], undefined],
    ]);
    // Nothing stamped before the change that caused it.
    expect(timeline.filter((e) => e.type.startsWith('POSTMORTEM')).length).toBe(2);
    expect(late[2]?.text).toBe('Postmortem overdue: not published 48 hours after it became required');
    expect(p.takePages()).toEqual([
      'reminder alice alice-0',
      'reminder alice alice-1',
      'reminder alice alice-0',
      'reminder alice alice-1',
    ]);
  });

  it('lowered and raised back before its deadline: the deadline stays, no reminder is sent late', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const incident = await open(p); // SEV-1: a postmortem due 48 hours after the resolution
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    await processAlert(makeAlert({ action: 'resolve', receivedAt: now(p) }), p.deps);
    const resolved = await p.store.get(incident.id);
    const dueAt = postmortemDueAt(resolved ?? incident);
    await p.fastForward(60 * MINUTE);
    await changeSeverity(incident.id, { severity: 'SEV-3', reason: 'smaller', who: 'bob' }, p.deps);
    await p.fastForward(40 * 60 * MINUTE); // the 24-hour reminder came while it was a SEV-3: nothing
    const raised = await changeSeverity(
      incident.id,
      { severity: 'SEV-1', reason: 'it was an outage after all', who: 'bob' },
      p.deps,
    );
    expect(postmortemDueAt(raised.incident)).toBe(dueAt);
    expect(raised.incident.postmortemRequiredAt).toBeUndefined();
    await p.fastForward(3 * 24 * 60 * MINUTE);
    const postmortem = (await p.store.timeline(incident.id)).filter((e) => e.type.startsWith('POSTMORTEM'));
    expect(postmortem.map((e) => [e.type, e.at])).toEqual([['POSTMORTEM_OVERDUE', dueAt]]);
  });

  it("the opening lease is its holder's: the SDK's retry of the creating upsert takes it", async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    // An opening in flight: the delivery that created the incident holds the lease for 30 s.
    const lease = { token: 'holder', until: new Date(p.clock.now().getTime() + 30_000) };
    const { incident } = await p.store.trigger(makeAlert({ receivedAt: now(p) }), p.clock.now(), {
      openingLease: lease,
    });
    if (incident === undefined) throw new Error('expected an incident');
    expect(await p.store.claimOpening(incident.id, 'someone-else', p.clock.now(), lease.until)).toBe(false);
    const at = new Date(p.clock.now().getTime() + 31_000);
    const until = new Date(at.getTime() + 30_000);
    expect(await p.store.claimOpening(incident.id, 'holder', at, until)).toBe(true);
    expect(await p.store.claimOpening(incident.id, 'holder', at, until)).toBe(true);
    expect(await p.store.claimOpening(incident.id, 'someone-else', at, until)).toBe(false);
    await p.store.releaseOpening(incident.id, 'holder');
    expect(await p.store.claimOpening(incident.id, 'someone-else', at, until)).toBe(true);
    // A completed opening is taken by nobody: its last write gave the lease back and marked it opened.
    const opened = await open(p, { dedupKey: 'another' });
    expect(await p.store.claimOpening(opened.id, 'someone-else', p.clock.now(), lease.until)).toBe(false);
    expect((await p.store.get(opened.id))?.opened).toBe(true);
  });
});
