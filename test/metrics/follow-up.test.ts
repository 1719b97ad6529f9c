import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#adapters/local/event-bus';
import { FolderExportSink } from '#adapters/local/folder-export-sink';
import { LocalEventPublisher } from '#adapters/local/metrics';
import { addActionItem, updateActionItem } from '#app/command';
import { REMIND_EVERY_DAYS, remindedOn } from '#app/follow-up';
import { processAlert } from '#app/process-alert';
import { type RollupDeps, runNightlyRollup, runRollup } from '#app/rollup';
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
  it('reminds the day after the deadline, then every 7 days', () => {
    expect(REMIND_EVERY_DAYS).toBe(7);
    expect(remindedOn('2026-11-20', '2026-11-20')).toBe(false);
    expect(remindedOn('2026-11-20', '2026-11-21')).toBe(true);
    expect(remindedOn('2026-11-20', '2026-11-22')).toBe(false);
    expect(remindedOn('2026-11-20', '2026-11-28')).toBe(true);
    expect(remindedOn('2026-11-20', '2026-12-05')).toBe(true);
    // Across a change of clocks the days still count whole.
    expect(remindedOn('2026-03-28', '2026-03-29')).toBe(true);
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
    await night(p, '2026-12-03');
    expect(p.takePages()).toEqual(['notice alice alice-0']);
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
});
