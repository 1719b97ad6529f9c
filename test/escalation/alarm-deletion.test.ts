import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesPattern } from '#adapters/local/event-pattern';
import { handleAlertEvent } from '#app/alert-event';
import { ValidationError } from '#core/errors';
import { ROUTES } from '#core/routing';
import { cloudWatchDeletion, cloudWatchEvent } from '../reliability/events.ts';
import { MINUTE, START, scanTable, type TestDynamo } from '../reliability/support.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import { startPipeline } from '../support/pipeline.ts';
import { teamConfig } from '../support/team.ts';

/**
 * A CloudWatch alarm deleted while its incident is open (a deploy that renames it, a clean-up):
 * CloudWatch will never send its OK. The deletion is noted on the incident — which stays open
 * for a person to resolve: a deletion says nothing of the problem it watched.
 */

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const at = (minutes: number) => new Date(Date.parse(START) + minutes * MINUTE).toISOString();

describe('a deleted CloudWatch alarm', () => {
  it('is noted on its open incident, which stays open and escalating; nobody is paged for the note', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    await handleAlertEvent(cloudWatchEvent('ALARM', START), p.deps);
    const [incident] = (await p.store.list({})).incidents;
    p.takePages();
    p.clock.set(new Date(at(2)));
    const outcome = await handleAlertEvent(cloudWatchDeletion(at(2)), p.deps);
    expect(outcome).toMatchObject({ kind: 'ignored', incident: { id: incident?.id } });
    const after = await p.store.get(incident?.id ?? '');
    expect(after).toMatchObject({ status: 'triggered', escalation: 'active', alertCount: 1 });
    const note = (await p.store.timeline(incident?.id ?? '')).at(-1);
    expect(note).toMatchObject({
      type: 'RECORDED',
      at: at(2),
      who: 'cloudwatch',
      text: 'CloudWatch alarm ServerCpuTooHigh was deleted: it will send no OK for this incident; resolve it by hand once the problem is over',
    });
    expect(p.takePages()).toEqual([]);
  });

  it('is noted once however often EventBridge delivers it', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    await handleAlertEvent(cloudWatchEvent('ALARM', START), p.deps);
    const deletion = cloudWatchDeletion(at(2));
    await handleAlertEvent(deletion, p.deps);
    await handleAlertEvent(deletion, p.deps);
    const [incident] = (await p.store.list({})).incidents;
    const types = (await p.store.timeline(incident?.id ?? '')).map((e) => e.type);
    expect(types.filter((t) => t === 'RECORDED')).toHaveLength(1);
  });

  it('finds the incident under the service a tag rule filed it (the deletion carries no tags)', async () => {
    const config = teamConfig(
      {},
      {
        cloudwatch: {
          defaultService: 'checkout',
          defaultSeverity: 'critical',
          rules: [{ tag: { key: 'team', value: 'billing' }, service: 'billing', severity: 'warning' }],
        },
      },
    );
    const p = await startPipeline(dynamo, config, START);
    const alarm = cloudWatchEvent('ALARM', START);
    const tagged = { ...alarm, detail: { ...(alarm.detail as object), alarmTags: { team: 'billing' } } };
    await handleAlertEvent(tagged, p.deps);
    const [incident] = (await p.store.list({})).incidents;
    expect(incident?.service).toBe('billing');
    await handleAlertEvent(cloudWatchDeletion(at(3)), p.deps);
    expect((await p.store.timeline(incident?.id ?? '')).map((e) => e.type)).toContain('RECORDED');
    // Nothing was filed under the default service on the way.
    expect((await p.store.list({ service: 'checkout' })).incidents).toEqual([]);
  });

  it('delivered late (a retry, a dead letter replayed) is not noted on an incident opened after the deletion', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    await handleAlertEvent(cloudWatchEvent('ALARM', START), p.deps);
    const deletion = cloudWatchDeletion(at(2));
    // The alarm is created again under its name, and goes OK, then ALARM: a new incident.
    p.clock.set(new Date(at(3)));
    await handleAlertEvent(cloudWatchEvent('OK', at(3)), p.deps);
    p.clock.set(new Date(at(60)));
    await handleAlertEvent(cloudWatchEvent('ALARM', at(60)), p.deps);
    const [second] = (await p.store.list({})).incidents.filter((i) => i.status !== 'resolved');
    p.clock.set(new Date(at(120)));
    expect(await handleAlertEvent(deletion, p.deps)).toMatchObject({ kind: 'ignored' });
    expect((await p.store.timeline(second?.id ?? '')).map((e) => e.type)).not.toContain('RECORDED');
  });

  it('is not noted on an incident in its monitoring period (its OK came: nothing to resolve by hand)', async () => {
    const p = await startPipeline(dynamo, teamConfig({ resolveMonitoringMinutes: 30 }), START);
    await handleAlertEvent(cloudWatchEvent('ALARM', START), p.deps);
    p.clock.set(new Date(at(1)));
    await handleAlertEvent(cloudWatchEvent('OK', at(1)), p.deps);
    const [incident] = (await p.store.list({})).incidents;
    expect(incident?.status).toBe('monitoring');
    p.clock.set(new Date(at(2)));
    await handleAlertEvent(cloudWatchDeletion(at(2)), p.deps);
    expect((await p.store.timeline(incident?.id ?? '')).map((e) => e.type)).not.toContain('RECORDED');
  });

  it('of an alarm with no open incident changes nothing', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const before = await scanTable(dynamo, p.store.tableName);
    const outcome = await handleAlertEvent(cloudWatchDeletion(at(1)), p.deps);
    expect(outcome).toEqual({ kind: 'ignored', reason: 'the deleted alarm has no open incident' });
    expect(await scanTable(dynamo, p.store.tableName)).toEqual(before);
    expect(p.takePages()).toEqual([]);
  });

  it('refuses a malformed deletion by field, and is ignored without a cloudwatch section', async () => {
    const p = await startPipeline(dynamo, teamConfig(), START);
    const bad = cloudWatchDeletion(at(1));
    const malformed = { ...bad, detail: { operation: 'update' }, resources: [] };
    const refused = await handleAlertEvent(malformed, p.deps).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).errors.map((i) => i.field).sort()).toEqual([
      'detail.alarmName',
      'detail.operation',
      'resources',
    ]);
    const { cloudwatch: _, ...withoutCloudWatch } = teamConfig();
    const q = await startPipeline(dynamo, withoutCloudWatch, START);
    expect(await handleAlertEvent(bad, q.deps)).toMatchObject({ kind: 'ignored' });
  });

  it('is routed by its own rule (operation delete only), on the default bus', () => {
    const routed = (event: unknown) =>
      ROUTES.filter((r) => matchesPattern(r.pattern, event)).map((r) => [r.id, r.bus]);
    const deletion = cloudWatchDeletion(at(1));
    expect(routed(deletion)).toEqual([['CloudWatchAlarmDeletionsToProcessor', 'default']]);
    for (const operation of ['create', 'update'])
      expect(routed({ ...deletion, detail: { ...(deletion.detail as object), operation } })).toEqual([]);
  });
});
