import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#adapters/local/event-bus';
import { FolderExportSink } from '#adapters/local/folder-export-sink';
import { LocalEventPublisher } from '#adapters/local/metrics';
import { addActionItem, updateActionItem } from '#app/command';
import { dueForReminder, REMIND_EVERY_DAYS, remindActionItems } from '#app/follow-up';
import { processAlert } from '#app/process-alert';
import { type RollupDeps, runNightlyRollup, runRollup } from '#app/rollup';
import type { Page } from '#core/page';
import { makeAlert } from '../support/alerts.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { type Pipeline, startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

/**
 * Overdue postmortem action items are followed up by the nightly run (PRACTICE: "Follow up on
 * action items"): the owner is told the night after the deadline, then weekly while it is open,
 * by email and webhook (not a text at 01:30), once however often the night is re-run.
 */

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let dir: string;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  dir = await mkdtemp(join(tmpdir(), 'klaxon-follow-up-'));
});
afterAll(async () => {
  await dynamo.close();
  await rm(dir, { recursive: true, force: true });
});

function rollupDeps(p: Pipeline): RollupDeps {
  return {
    ...p.deps,
    sink: new FolderExportSink(dir),
    events: new LocalEventPublisher(new LocalEventBus()),
    metrics: { publish: async () => undefined },
  };
}

/** The nightly run at 01:30 in Berlin on `day` (it rolls up the day before). */
async function night(p: Pipeline, day: string) {
  p.clock.set(new Date(`${day}T00:30:00.000Z`));
  const [y, m, d] = day.split('-').map(Number);
  const before = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, (d ?? 1) - 1)).toISOString().slice(0, 10);
  await runNightlyRollup(before, rollupDeps(p));
}

describe('following up overdue action items', () => {
  it('reminds from the night after the deadline, then once 7 days passed since the last reminder', () => {
    expect(REMIND_EVERY_DAYS).toBe(7);
    const open = (deadline: string, remindedOn?: string) => ({
      status: 'open' as const,
      deadline,
      ...(remindedOn ? { remindedOn } : {}),
    });
    expect(dueForReminder(open('2026-11-20'), '2026-11-20')).toBe(false);
    expect(dueForReminder(open('2026-11-20'), '2026-11-21')).toBe(true);
    // Not reminded yet (a night missed): the next night makes it up.
    expect(dueForReminder(open('2026-11-20'), '2026-11-23')).toBe(true);
    expect(dueForReminder(open('2026-11-20', '2026-11-21'), '2026-11-27')).toBe(false);
    expect(dueForReminder(open('2026-11-20', '2026-11-21'), '2026-11-28')).toBe(true);
    expect(dueForReminder({ ...open('2026-11-20'), status: 'done' }, '2026-11-28')).toBe(false);
    // Across a change of clocks the days still count whole.
    expect(dueForReminder(open('2026-03-28'), '2026-03-29')).toBe(true);
  });

  it('tells each owner of their overdue items, one notice per owner, by email and webhook only; once a night; weekly while open; not once done', async () => {
    const p = await startPipeline(dynamo, teamConfig(), '2026-11-24T10:00:00.000Z');
    await processAlert(
      makeAlert({ service: 'checkout', dedupKey: 'db', summary: 'Orders DB failover' }),
      p.deps,
    );
    const [incident] = (await p.store.list({})).incidents;
    const id = incident?.id ?? '';
    const add = (action: string, owner: string, deadline: string) =>
      addActionItem(id, { action, owner, deadline, category: 'Prevent', who: 'alice' }, p.deps);
    await add('Alert on replica lag', 'alice', '2026-11-25');
    await add('Test the failover monthly', 'alice', '2026-11-25');
    const { actionItem: dave } = await add('Add a runbook', 'dave', '2026-11-25');
    await add('Someone outside the config', 'zoe', '2026-11-25');
    await add('Not yet due', 'bob', '2026-11-30');
    p.takePages();

    await night(p, '2026-11-26');
    const sent = p.pager.inbox.slice(-2);
    // Alice: her email (not her SMS); Dave: his webhook. Zoe is no responder; Bob's is not due.
    expect(p.takePages()).toEqual(['notice alice alice-0', 'notice dave dave-0']);
    const email = sent.find((e) => e.page.responder.id === 'alice');
    expect(email?.rendered.subject).toBe(
      '[Overdue] [SEV-4] Postmortem action items: 2 action items past their deadline',
    );
    expect(email?.rendered.email).toContain(
      `Details:\n  - Alert on replica lag (due 2026-11-25; incident ${id}: Orders DB failover)\n  - Test the failover monthly (due 2026-11-25; incident ${id}: Orders DB failover)\n\n  Finish them, or move their deadline: klaxon actions list --status open\n`,
    );
    // The night re-run (a retry): nobody told twice. The next night: nothing due.
    await night(p, '2026-11-26');
    await night(p, '2026-11-27');
    expect(p.takePages()).toEqual([]);
    // A week after the first reminder, while still open; Dave's is done by then.
    await updateActionItem(id, dave.id, { status: 'done', who: 'dave' }, p.deps);
    // (Bob's, due Nov 30, is past its deadline by then too: the nights between were not run.)
    await night(p, '2026-12-03');
    expect(p.takePages()).toEqual(['notice alice alice-0', 'notice bob bob-0']);
  });

  it('is the nightly run’s: a day rolled up on demand reminds nobody', async () => {
    const p = await startPipeline(dynamo, teamConfig(), '2026-11-24T10:00:00.000Z');
    await processAlert(makeAlert({ service: 'checkout', dedupKey: 'db2' }), p.deps);
    const [incident] = (await p.store.list({})).incidents;
    await addActionItem(
      incident?.id ?? '',
      { action: 'x', owner: 'alice', deadline: '2026-11-25', category: 'Detect', who: 'alice' },
      p.deps,
    );
    p.takePages();
    p.clock.set(new Date('2026-11-26T09:00:00.000Z'));
    await runRollup('2026-11-25', rollupDeps(p));
    expect(p.takePages()).toEqual([]);
  });

  describe('(review: missed nights, retries, doubled runs, drills, owners without email)', () => {
    function config() {
      const c = teamConfig() as Record<string, unknown> & { responders: Record<string, unknown>[] };
      return {
        ...c,
        responders: [
          ...c.responders.map((r) =>
            r.id === 'bob'
              ? {
                  ...r,
                  contacts: [
                    { type: 'email', address: 'bob@example.com' },
                    { type: 'webhook', url: 'https://hooks.example.com/bob' },
                  ],
                }
              : r,
          ),
          { id: 'erin', name: 'Erin', contacts: [{ type: 'sms', number: '+4915110000009' }] },
        ],
      };
    }
    async function setup(dedupKey: string) {
      const p = await startPipeline(dynamo, config(), '2026-11-24T10:00:00.000Z');
      await processAlert(makeAlert({ service: 'checkout', dedupKey, summary: 'DB failover' }), p.deps);
      const [incident] = (await p.store.list({})).incidents;
      const id = incident?.id ?? '';
      const add = (action: string, owner: string, deadline: string) =>
        addActionItem(id, { action, owner, deadline, category: 'Prevent', who: 'alice' }, p.deps);
      p.takePages();
      return { p, id, add };
    }

    it('a retry after a partial send (email out, webhook failed) sends only what failed', async () => {
      const { p, add } = await setup('partial');
      await add('Alert on replica lag', 'bob', '2026-11-25');
      let fail = true;
      const flaky = {
        send: async (page: Page) => {
          if (fail && page.contact.type === 'webhook') throw new Error('SNS throttled');
          await p.pager.send(page);
        },
      };
      p.clock.set(new Date('2026-11-26T00:30:00.000Z'));
      await expect(runNightlyRollup('2026-11-25', { ...rollupDeps(p), pager: flaky })).rejects.toThrow(
        'SNS throttled',
      );
      fail = false;
      // The Lambda's retry, after the failed sender's lease ran out.
      p.clock.set(new Date('2026-11-26T00:40:00.000Z'));
      await runNightlyRollup('2026-11-25', { ...rollupDeps(p), pager: flaky });
      expect(p.takePages()).toEqual(['notice bob bob-0', 'notice bob bob-1']);
      // Both sent: the item waits a week.
      await night(p, '2026-11-27');
      expect(p.takePages()).toEqual([]);
    });

    it('two runs of the same night at once (Scheduler delivers at least once) tell each owner once', async () => {
      const { p, add } = await setup('concurrent');
      await add('Alert on replica lag', 'carol', '2026-11-25');
      p.clock.set(new Date('2026-11-26T00:30:00.000Z'));
      const deps = { ...rollupDeps(p), actionItems: p.deps.actionItems };
      await Promise.all([remindActionItems('2026-11-25', deps), remindActionItems('2026-11-25', deps)]);
      expect(p.takePages()).toEqual(['notice carol carol-0']);
    });

    it('a night missed (its retries ran out, or Scheduler skipped it at a change of clocks) is made up by the next', async () => {
      const { p, add } = await setup('missed');
      await add('Alert on replica lag', 'carol', '2026-11-25');
      await night(p, '2026-11-27');
      expect(p.takePages()).toEqual(['notice carol carol-0']);
    });

    it("a night's run retried after local midnight is still that night's", async () => {
      const { p, add } = await setup('late-retry');
      await add('Alert on replica lag', 'carol', '2026-11-25');
      // The run of the night of Nov 26 (rolling up Nov 25), retried at 00:10 on Nov 27 in Berlin.
      p.clock.set(new Date('2026-11-26T23:10:00.000Z'));
      await runNightlyRollup('2026-11-25', rollupDeps(p));
      expect(p.takePages()).toEqual(['notice carol carol-0']);
    });

    it('leaves the items of an incident excluded from metrics (a drill) alone', async () => {
      const { p, id, add } = await setup('drill');
      await add('Drill follow-up', 'carol', '2026-11-25');
      await p.store.setExcluded(id, true);
      await night(p, '2026-11-26');
      expect(p.takePages()).toEqual([]);
    });

    it('does not count an owner with only an SMS contact as told: nothing is sent, the item stays due', async () => {
      const { p, add } = await setup('sms');
      await add('Alert on replica lag', 'erin', '2026-11-25');
      p.clock.set(new Date('2026-11-26T00:30:00.000Z'));
      const told = await remindActionItems('2026-11-25', {
        ...rollupDeps(p),
        actionItems: p.deps.actionItems,
      });
      expect({ told, pages: p.takePages() }).toEqual({ told: [], pages: [] });
      const [item] = await p.deps.actionItems.listActionItems({ status: 'open' });
      expect(item?.remindedOn).toBeUndefined();
    });
  });
});
