import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxEntry } from '#adapters/local/pager';
import { eventually, type RunningKlaxon, startKlaxonProcess } from '../support/local-process.ts';

/** One configured minute lasts this long in this run: level 2 comes 1 "minute" = 300 ms after level 1. */
const MINUTE_MS = 300;

const config = {
  services: [{ id: 'checkout', name: 'Checkout API', escalationPolicy: 'checkout', ackTimeoutMinutes: 0 }],
  responders: [
    { id: 'alice', name: 'Alice', contacts: [{ type: 'email', address: 'alice@example.com' }] },
    { id: 'carol', name: 'Carol', contacts: [{ type: 'email', address: 'carol@example.com' }] },
  ],
  escalationPolicies: [
    {
      id: 'checkout',
      levels: [
        { delayMinutes: 1, targets: [{ responder: 'alice' }] },
        { delayMinutes: 2, targets: [{ responder: 'carol' }] },
      ],
      repeat: 5,
    },
  ],
};

let dir: string;
let klaxon: RunningKlaxon;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'klaxon-e2e-escalation-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  klaxon = await startKlaxonProcess(join(dir, 'data'), {
    KLAXON_CONFIG: join(dir, 'config.json'),
    KLAXON_MINUTE_MS: String(MINUTE_MS),
  });
});
afterAll(async () => {
  await klaxon?.stop();
  await rm(dir, { recursive: true, force: true });
});

const inbox = async (): Promise<InboxEntry[]> =>
  ((await (await fetch(`${klaxon.url}/local/inbox.json`)).json()) as { messages: InboxEntry[] }).messages;

describe('npm start: paging end to end', () => {
  it('pages level 1 into the inbox, escalates to level 2 after the configured delay, and the link acknowledges', async () => {
    const res = await fetch(`${klaxon.url}/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        routing_key: klaxon.integrationKeys.checkout,
        event_action: 'trigger',
        dedup_key: 'checkout-5xx',
        payload: { summary: 'Checkout 5xx above 5%', source: 'alb-1', severity: 'warning' },
      }),
    });
    expect(res.status).toBe(202);

    const first = await eventually(async () => (await inbox()).find((m) => m.page.responder.id === 'alice'));
    expect(first.page.kind).toBe('page');
    expect(first.rendered.subject).toBe('[SEV-3] Checkout API: Checkout 5xx above 5%');

    const second = await eventually(async () => (await inbox()).find((m) => m.page.responder.id === 'carol'));
    expect(second.page.reason).toBe('Escalated to level 2');
    expect(Date.parse(second.at) - Date.parse(first.at)).toBeGreaterThanOrEqual(MINUTE_MS);

    // Carol opens the link (GET: a confirmation form, nothing changes), then confirms (POST).
    const link = second.page.links.acknowledge ?? '';
    expect(link.startsWith(`${klaxon.url}/a/`)).toBe(true);
    const confirm = await fetch(link);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('<form method="post"');
    const acted = await fetch(link, { method: 'POST' });
    expect(acted.status).toBe(200);
    expect(await acted.text()).toContain('Acknowledged');

    const incidents = (await (
      await fetch(`${klaxon.url}/api/incidents`, { headers: { authorization: `Bearer ${klaxon.apiToken}` } })
    ).json()) as { incidents: { status: string; acknowledgedBy: string }[] };
    expect(incidents.incidents).toMatchObject([{ status: 'acknowledged', acknowledgedBy: 'carol' }]);

    // Alice is told; after that, several "minutes" pass and nobody is paged again.
    await eventually(async () =>
      (await inbox()).find((m) => m.page.kind === 'notice' && m.page.responder.id === 'alice'),
    );
    const count = (await inbox()).length;
    await new Promise((resolve) => setTimeout(resolve, 6 * MINUTE_MS));
    expect((await inbox()).slice(count)).toEqual([]);
  });

  it('serves the inbox as a page with the links', async () => {
    const html = await (await fetch(`${klaxon.url}/local/inbox`)).text();
    expect(html).toContain('Klaxon local inbox');
    expect(html).toContain('[SEV-3] Checkout API: Checkout 5xx above 5%');
  });
});
