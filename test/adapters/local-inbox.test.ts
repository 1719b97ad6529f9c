import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalPager } from '#adapters/local/pager';
import type { Page } from '#core/page';
import { inboxPage } from '#local/inbox-page';
import { startLocalRuntime } from '#local/runtime';

/** The local runtime's stand-ins for email and SMS: the console line and the inbox page. */

const incident = {
  id: '7kq2mzx4ab3c',
  title: 'Disk 95% full on db-1',
  service: 'checkout',
  serviceName: 'Checkout API',
  severity: 'SEV-1' as const,
  status: 'triggered' as const,
  detectedAt: '2026-11-26T10:00:00.000Z',
  alertCount: 1,
  source: 'db-1',
  alertLinks: [],
};
const ack = 'http://127.0.0.1:3000/a/7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
const all = 'http://127.0.0.1:3000/a/qrstuvwx2345.g.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
const view = 'http://127.0.0.1:3000/a/7kq2mzx4ab3c.v.alice.tbxw00.Vw3kR9b1xv8yZ3mWc4nLdg';
const digest: Page = {
  id: 'd1',
  kind: 'page',
  incident,
  responder: { id: 'alice', name: 'Alice' },
  contact: { type: 'email', address: 'alice@example.com', key: 'alice-0' },
  reason: 'Held by the page rate limit: 12 incidents waiting while your pages were paused',
  links: { incident: view, acknowledge: ack },
  digest: {
    total: 12,
    incidents: [{ ...incident, links: { incident: view, acknowledge: ack } }],
    acknowledgeAll: { link: all, count: 12 },
  },
};

describe('the local pager and inbox', () => {
  it('a digest shows its "acknowledge all" link in the console and in the inbox', async () => {
    const lines: string[] = [];
    const pager = new LocalPager({ timeZone: 'UTC', log: (line) => lines.push(line) });
    await pager.send(digest);
    expect(lines[0]).toContain(`acknowledge all: ${all}`);
    expect(lines[0]).toContain(`acknowledge: ${ack}`);
    const html = inboxPage(pager.inbox, []);
    expect(html).toContain(`<a href="${all}">Acknowledge all 12</a>`);
    expect(html).toContain(`<a href="${ack}">Acknowledge</a>`);
    // The incident link opens the incident's read-only page, as it would from the email.
    expect(html).toContain(`<a href="${view}">Incident</a>`);
  });
});

describe('the inbox page refreshing itself', () => {
  it('reloads every 5 seconds, but not while an "As delivered" section is open (a reload closed it)', async () => {
    const pager = new LocalPager({ timeZone: 'UTC' });
    await pager.send(digest);
    const html = inboxPage(pager.inbox, []);
    // Without scripts it still refreshes; with them, only the script does.
    expect(html).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(html.replace(/<noscript>.*?<\/noscript>/gs, '')).not.toContain('http-equiv="refresh"');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    let open = false;
    let reloads = 0;
    let tick: (() => void) | undefined;
    let every = 0;
    const run = new Function('document', 'location', 'setInterval', script);
    run(
      { querySelector: (selector: string) => (selector === 'details[open]' && open ? {} : null) },
      { reload: () => reloads++ },
      (fn: () => void, ms: number) => {
        tick = fn;
        every = ms;
      },
    );
    expect(every).toBe(5000);
    tick?.();
    expect(reloads).toBe(1);
    open = true;
    tick?.();
    tick?.();
    expect(reloads).toBe(1);
    open = false;
    tick?.();
    expect(reloads).toBe(2);
  });
});

describe('the inbox across a restart', () => {
  it('a pager restores the last pages of its file, oldest first, past a line torn by a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-inbox-'));
    try {
      const file = join(dir, 'inbox.jsonl');
      const before = new LocalPager({ timeZone: 'UTC', file });
      for (let i = 0; i < 5; i++) await before.send({ ...digest, id: `p${i}` });
      await appendFile(file, '{"at":"2026-11-26T10:0');
      const after = new LocalPager({ timeZone: 'UTC', file });
      await after.restore(3);
      expect(after.inbox).toEqual(before.inbox.slice(2));
      // The next page starts a line of its own, and is kept with the others.
      await after.send({ ...digest, id: 'p5' });
      const third = new LocalPager({ timeZone: 'UTC', file });
      await third.restore(10);
      expect(third.inbox.map((e) => e.page.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
      expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(7);
      // A pager whose file does not exist yet starts empty.
      const fresh = new LocalPager({ timeZone: 'UTC', file: join(dir, 'none.jsonl') });
      await fresh.restore(10);
      expect(fresh.inbox).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a restore skips a line that lacks what the inbox page reads (it failed the page on every request)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-inbox-bad-'));
    try {
      const file = join(dir, 'inbox.jsonl');
      const before = new LocalPager({ timeZone: 'UTC', file });
      await before.send({ ...digest, id: 'good' });
      const [good] = before.inbox;
      const partial = {
        at: '2026-11-26T10:00:00Z',
        page: { kind: 'page', contact: { type: 'email' }, links: { incident: 'http://x' } },
        rendered: { subject: 's' },
      };
      const noBody = { ...good, rendered: { subject: 's' } };
      await appendFile(file, `${JSON.stringify(partial)}\n${JSON.stringify(noBody)}\n`);
      const after = new LocalPager({ timeZone: 'UTC', file });
      await after.restore(10);
      expect(after.inbox.map((e) => e.page.id)).toEqual(['good']);
      expect(() => inboxPage(after.inbox, [])).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('npm start shows the pages sent before a restart in /local/inbox, the last 200', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-inbox-restart-'));
    try {
      const first = await startLocalRuntime({ dataDir: dir, configPath: 'klaxon.config.json', port: 0 });
      try {
        for (let i = 0; i < 205; i++) await first.pager.send({ ...digest, id: `p${i}` });
      } finally {
        await first.close();
      }
      const second = await startLocalRuntime({ dataDir: dir, configPath: 'klaxon.config.json', port: 0 });
      try {
        const { messages } = (await (await fetch(`${second.url}/local/inbox.json`)).json()) as {
          messages: { page: { id: string } }[];
        };
        expect(messages).toHaveLength(200);
        expect(messages[0]?.page.id).toBe('p5');
        expect(messages.at(-1)?.page.id).toBe('p204');
        const html = await (await fetch(`${second.url}/local/inbox`)).text();
        expect(html).toContain('200 message(s)');
        expect(html).toContain(`<a href="${all}">Acknowledge all 12</a>`);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
