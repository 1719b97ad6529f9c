import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeIncident, assignRole } from '#app/command';
import { escalateNow } from '#app/escalation';
import type { Incident } from '#core/incident';
import { startTestDynamo } from '../support/dynamo.ts';
import { openIncident, type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

/**
 * The throttle and incident command's urgency: a SEV-1/2 page is never held behind lower-severity
 * pages, and a SEV-1's status and re-assessment reminders keep their cadence.
 */

const MINUTE = 60_000;
let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const open = openIncident;

const opening = async (p: Pipeline, incident: Incident) =>
  (await p.store.timeline(incident.id)).find((e) => e.type === 'OPENED');

describe('pages of a SEV-1/2 have their own throttle history', () => {
  it('a SEV-1 pages at once after five SEV-4 pages filled the contact’s 15 minutes', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    for (let i = 0; i < 5; i++) await open(p, { severity: 'info', dedupKey: `disk-${i}` });
    expect(p.takePages()).toHaveLength(10); // alice's email and SMS, five times
    const sixth = await open(p, { severity: 'info', dedupKey: 'disk-5' });
    expect(p.takePages()).toEqual([]);
    expect((await opening(p, sixth))?.throttled).toEqual(['alice-0', 'alice-1']);
    await p.fastForward(MINUTE);
    const sev1 = await open(p, { severity: 'critical', dedupKey: 'checkout-down' });
    expect(sev1.sev).toBe('SEV-1');
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
    expect(await opening(p, sev1)).toMatchObject({ paged: ['alice'] });
    expect((await opening(p, sev1))?.throttled).toBeUndefined();
  });

  it('a storm of SEV-1s is still held for a digest after five', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    for (let i = 0; i < 5; i++) await open(p, { severity: 'critical', dedupKey: `down-${i}` });
    expect(p.takePages()).toHaveLength(10);
    const sixth = await open(p, { severity: 'error', dedupKey: 'down-5' });
    expect(sixth.sev).toBe('SEV-2');
    expect(p.takePages()).toEqual([]);
    expect((await opening(p, sixth))?.throttled).toEqual(['alice-0', 'alice-1']);
    // …and a SEV-3 is not held behind them.
    const low = await open(p, { severity: 'warning', dedupKey: 'slow' });
    expect(low.sev).toBe('SEV-3');
    expect(p.takePages()).toEqual(['page alice alice-0', 'page alice alice-1']);
  });
});

describe("a SEV-1's incident command keeps its cadence through the throttle", () => {
  it('its commander is asked for a status update every 15 minutes for 4 hours, re-assessments besides', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const incident = await open(p, { severity: 'critical' });
    await acknowledgeIncident(incident.id, 'alice', p.deps);
    await assignRole(incident.id, { role: 'commander', person: 'alice', who: 'alice' }, p.deps);
    const start = p.clock.now().getTime();
    p.takePages();
    const seen = p.pager.inbox.length;
    await p.fastForward(240 * MINUTE);
    const sms = p.pager.inbox
      .slice(seen)
      .filter((e) => e.page.contact.key === 'alice-1' && e.page.kind === 'reminder');
    const minutes = (at: string) => Math.round((Date.parse(at) - start) / MINUTE);
    const status = sms.filter((e) => /status update/i.test(e.page.reason)).map((e) => minutes(e.at));
    const reassess = sms.filter((e) => /severity/i.test(e.page.reason)).map((e) => minutes(e.at));
    // GoAlert's 8 status messages in 2 hours held these back for more than an hour. Each one on a
    // re-assessment's half hour waits the 3 minutes between two messages (15, 33, 45, 63, …).
    expect(status.length).toBeGreaterThanOrEqual(15);
    const gaps = status.map((m, i) => m - (status[i - 1] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(18);
    expect(reassess.length).toBeGreaterThanOrEqual(7);
  });
});

describe('escalate now, into a throttled contact', () => {
  it('answers who the throttle held, not "paged nobody"', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const incident = await open(p, { severity: 'warning' }); // SEV-3: alice, then carol
    const now = p.clock.now().getTime();
    // Carol's pages of the last minutes fill her 15 minutes.
    await p.store.takeThrottle('carol-0#page', () => ({
      allowed: true,
      history: [1, 2, 3, 4, 5].map((m) => now - m * MINUTE),
    }));
    const result = await escalateNow(incident.id, { who: 'alice' }, p.deps);
    expect(result).toMatchObject({ changed: true, paged: [], held: ['carol-0'] });
  });
});

describe('a SEV-1 held for a digest', () => {
  it('goes out when the urgent pages allow one, not when lower-severity pages do', async () => {
    const p = await startPipeline(dynamo, teamConfig());
    const now = p.clock.now().getTime();
    // Alice had 5 SEV-1 pages 1–5 minutes ago (urgent full until +10) and 5 SEV-4 pages in the
    // last minute (lower pages full until +14).
    for (const c of ['alice-0', 'alice-1']) {
      await p.store.takeThrottle(`${c}#urgent`, () => ({
        allowed: true,
        history: [5, 4, 3, 2, 1].map((m) => now - m * MINUTE),
      }));
      await p.store.takeThrottle(`${c}#page`, () => ({
        allowed: true,
        history: [50, 40, 30, 20, 10].map((s) => now - s * 1000),
      }));
    }
    await open(p, { severity: 'critical', dedupKey: 'checkout-down' });
    expect(p.takePages()).toEqual([]); // held
    await p.fastForward(16 * MINUTE);
    const toAlice = p.pager.inbox
      .filter((e) => e.page.contact.key === 'alice-0')
      .map((e) => `${e.page.kind} ${Math.round((Date.parse(e.at) - now) / MINUTE)}min`);
    expect(toAlice[0]).toBe('page 10min');
  });
});
