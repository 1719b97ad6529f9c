import { describe, expect, it } from 'vitest';
import { LocalPager } from '#adapters/local/pager';
import type { Page } from '#core/page';
import { inboxPage } from '#local/inbox-page';

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
