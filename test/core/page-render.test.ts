import { describe, expect, it } from 'vitest';
import type { Page } from '#core/page';
import { renderPage } from '#core/page-render';

const token = '7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
const ackLink = `https://klaxon.example.com/a/${token}`;
const resolveLink = 'https://klaxon.example.com/a/7kq2mzx4ab3c.r.alice.tbxw00.Pq0sK2b1xv8yZ3mWc4nLdg';
/** The incident's read-only page, signed for alice like her acknowledge link (action v). */
const incidentLink = 'https://klaxon.example.com/a/7kq2mzx4ab3c.v.alice.tbxw00.Vw3kR9b1xv8yZ3mWc4nLdg';

const page: Page = {
  id: 'p1',
  kind: 'page',
  incident: {
    id: '7kq2mzx4ab3c',
    title: 'Disk 95% full on db-1',
    service: 'checkout',
    serviceName: 'Checkout API',
    severity: 'SEV-1',
    status: 'triggered',
    detectedAt: '2026-03-14T14:04:05.000Z',
    alertCount: 3,
  },
  responder: { id: 'alice', name: 'Alice' },
  contact: { type: 'sms', number: '+4915112345678', key: 'alice-0' },
  level: 2,
  reason: 'Escalated to level 2',
  links: { incident: incidentLink, acknowledge: ackLink, resolve: resolveLink },
};

const notice: Page = {
  ...page,
  id: 'p2',
  kind: 'notice',
  level: undefined,
  incident: { ...page.incident, status: 'acknowledged' },
  reason: 'Acknowledged by Alice',
  links: { incident: incidentLink },
};

const berlin = { timeZone: 'Europe/Berlin' };
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** False for a string with a lone surrogate, i.e. a character cut in half. */
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;

describe('rendering a page', () => {
  it('puts severity, service and title in the subject', () => {
    expect(renderPage(page, berlin).subject).toBe('[SEV-1] Checkout API: Disk 95% full on db-1');
  });

  it('sends an SMS with the acknowledge link', () => {
    expect(renderPage(page, berlin).sms).toBe(`SEV-1 checkout: Disk 95% full on db-1 ACK ${ackLink}`);
  });

  it('writes a plain-text email with the facts, times in the configured zone and labelled links', () => {
    expect(renderPage(page, berlin).email).toBe(
      [
        'Disk 95% full on db-1',
        'Escalated to level 2',
        '',
        'Severity: SEV-1',
        'Service: Checkout API (checkout)',
        'Status: triggered',
        'Detected: 2026-03-14 15:04 CET (Europe/Berlin)',
        'Alerts: 3',
        'Level: 2',
        '',
        `Acknowledge: ${ackLink}`,
        `Resolve: ${resolveLink}`,
        `Incident: ${incidentLink}`,
        '',
        '--',
        'The Acknowledge and Resolve links open a confirmation page: nothing changes until you confirm there.',
        '',
      ].join('\n'),
    );
  });

  it('shows summer time in Berlin as CEST, and UTC without repeating the zone', () => {
    const summer = { ...page, incident: { ...page.incident, detectedAt: '2026-07-01T10:30:00Z' } };
    expect(renderPage(summer, berlin).email).toContain('Detected: 2026-07-01 12:30 CEST (Europe/Berlin)');
    expect(renderPage(summer, { timeZone: 'UTC' }).email).toContain('Detected: 2026-07-01 10:30 UTC\n');
  });

  it('renders a webhook JSON document with every field', () => {
    expect(JSON.parse(renderPage(page, berlin).json)).toEqual({
      version: 1,
      id: 'p1',
      kind: 'page',
      reason: 'Escalated to level 2',
      level: 2,
      incident: {
        id: '7kq2mzx4ab3c',
        title: 'Disk 95% full on db-1',
        service: 'checkout',
        serviceName: 'Checkout API',
        severity: 'SEV-1',
        status: 'triggered',
        detectedAt: '2026-03-14T14:04:05.000Z',
        alertCount: 3,
      },
      responder: { id: 'alice', name: 'Alice' },
      links: { incident: incidentLink, acknowledge: ackLink, resolve: resolveLink },
    });
  });

  it("carries the incident link (the incident's signed read-only page) in the email and the webhook, not in the SMS", () => {
    const rendered = renderPage(page, berlin);
    expect(rendered.email).toContain(`\nIncident: ${incidentLink}\n`);
    expect(JSON.parse(rendered.json).links.incident).toBe(incidentLink);
    // 140 bytes hold one link: the SMS spends them on the acknowledge link.
    expect(rendered.sms).not.toContain(incidentLink);
    expect(bytes(rendered.sms)).toBeLessThanOrEqual(140);
  });

  it('keeps the contact out of the webhook document', () => {
    expect(renderPage(page, berlin).json).not.toContain('+4915112345678');
  });
});

describe('rendering a reminder', () => {
  const reminder: Page = {
    ...page,
    kind: 'reminder',
    level: undefined,
    reason: 'Still open: post an update',
  };

  it('marks subject and SMS as a reminder', () => {
    const rendered = renderPage(reminder, berlin);
    expect(rendered.subject).toBe('[Reminder] [SEV-1] Checkout API: Disk 95% full on db-1');
    expect(rendered.sms).toBe(`Reminder SEV-1 checkout: Disk 95% full on db-1 ACK ${ackLink}`);
    expect(rendered.email).toContain('\nStill open: post an update\n');
    expect(rendered.email).not.toContain('Level:');
  });
});

describe('rendering a notice', () => {
  it('leads subject and SMS with the reason', () => {
    const rendered = renderPage(notice, berlin);
    expect(rendered.subject).toBe('[Acknowledged by Alice] [SEV-1] Checkout API: Disk 95% full on db-1');
    expect(rendered.sms).toBe('[Acknowledged by Alice] SEV-1 checkout: Disk 95% full on db-1');
  });

  it('has no acknowledge or resolve links and no confirmation footer', () => {
    const { email, json } = renderPage(notice, berlin);
    expect(email).toContain('Status: acknowledged');
    expect(email).toContain(`Incident: ${incidentLink}`);
    expect(email).not.toMatch(/Acknowledge:|Resolve:|confirmation/);
    const parsed = JSON.parse(json);
    expect(parsed).toMatchObject({ kind: 'notice', reason: 'Acknowledged by Alice' });
    expect(parsed).not.toHaveProperty('level');
    expect(parsed.links).toEqual({ incident: incidentLink });
  });

  it('cuts the title before the reason in an SMS', () => {
    const sms = renderPage(
      { ...notice, incident: { ...notice.incident, title: 'x'.repeat(300) } },
      berlin,
    ).sms;
    expect(sms.startsWith('[Acknowledged by Alice] SEV-1 checkout: xxx')).toBe(true);
    expect(sms.endsWith('x…')).toBe(true);
    expect(bytes(sms)).toBe(140);
  });

  it('cuts even the reason when it alone is too long', () => {
    const sms = renderPage({ ...notice, reason: `Resolved: ${'ü'.repeat(200)}` }, berlin).sms;
    expect(bytes(sms)).toBeLessThanOrEqual(140);
    expect(sms.startsWith('[Resolved: üü')).toBe(true);
    expect(sms.endsWith('…] SEV-1 checkout')).toBe(true);
  });
});

describe('subjects', () => {
  it('stay under 100 characters on one line', () => {
    const long = {
      ...page,
      incident: { ...page.incident, title: `Line one\nline two\r\n\t${'😀'.repeat(100)}` },
    };
    const { subject } = renderPage(long, berlin);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^\[SEV-1\] Checkout API: Line one line two 😀+…$/u);
    expect(wellFormed(subject)).toBe(true);
  });

  it('keep the title visible behind a long reason or service name', () => {
    const { subject } = renderPage(
      {
        ...notice,
        reason: 'Escalation exhausted: '.repeat(10),
        incident: { ...notice.incident, serviceName: 'S'.repeat(255) },
      },
      berlin,
    );
    expect(subject.length).toBeLessThan(100);
    expect(subject).toContain('Disk 95% full');
  });
});

describe('SMS', () => {
  const longLink =
    'https://abcdefghij.execute-api.eu-central-1.amazonaws.com/a/7kq2mzx4ab3c.a.bob-smith.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
  const pieces = ['😀', 'ü', 'a', '👩‍💻', '🇩🇪', 'ß', ' '];

  it('never exceed 140 bytes, never cut a character and always carry the whole link', () => {
    for (let length = 0; length <= 300; length++) {
      const title = Array.from({ length }, (_, i) => pieces[i % pieces.length]).join('');
      const sms = renderPage(
        { ...page, incident: { ...page.incident, title }, links: { ...page.links, acknowledge: longLink } },
        berlin,
      ).sms;
      expect(bytes(sms), `title length ${length}`).toBeLessThanOrEqual(140);
      expect(sms.endsWith(` ACK ${longLink}`), `title length ${length}`).toBe(true);
      expect(wellFormed(sms), `title length ${length}`).toBe(true);
      const shown = sms.slice(0, -` ACK ${longLink}`.length);
      if (shown.startsWith('SEV-1 checkout: ')) {
        const part = shown.slice('SEV-1 checkout: '.length);
        expect(part === title.trim() || title.startsWith(part.slice(0, -1)), `title length ${length}`).toBe(
          true,
        );
      } else {
        expect(shown).toBe('SEV-1 checkout');
      }
    }
  });

  it('cut a long title with an ellipsis', () => {
    const title = 'Überlastung im Zahlungsdienst 🔥🔥🔥 seit heute früh, alle Knoten betroffen';
    const sms = renderPage({ ...page, incident: { ...page.incident, title } }, berlin).sms;
    expect(sms).toBe(`SEV-1 checkout: Überlastung im Zahlungsdienst 🔥… ACK ${ackLink}`);
    expect(bytes(sms)).toBeLessThanOrEqual(140);
  });

  /** A link of exactly `length` bytes. */
  const linkOf = (length: number) => `https://klaxon.example.com/${'a'.repeat(length - 27)}`;
  const withLink = (acknowledge: string) =>
    renderPage({ ...page, links: { ...page.links, acknowledge } }, berlin).sms;

  it('drop the title, then the service and severity, then the label, to keep the link', () => {
    expect(withLink(linkOf(115))).toBe(`SEV-1 checkout: D… ACK ${linkOf(115)}`);
    expect(withLink(linkOf(117))).toBe(`SEV-1 checkout ACK ${linkOf(117)}`);
    expect(withLink(linkOf(130))).toBe(`ACK ${linkOf(130)}`);
    expect(withLink(linkOf(140))).toBe(linkOf(140));
  });

  it('send a link longer than an SMS alone rather than cut it', () => {
    expect(withLink(linkOf(150))).toBe(linkOf(150));
  });
});

describe('rendering a digest (the pages the throttle held, in one message)', () => {
  const second = {
    ...page.incident,
    id: '9zz2mzx4ab3c',
    title: 'Latency p99 over 2 s',
    severity: 'SEV-3' as const,
    detectedAt: '2026-03-14T14:10:00.000Z',
    alertCount: 1,
  };
  const entry = (i: typeof page.incident, ack: string) => ({
    ...i,
    links: {
      incident: `https://klaxon.example.com/a/${i.id}.v.alice.tbxw00.Vw3kR9b1xv8yZ3mWc4nLdg`,
      acknowledge: ack,
    },
  });
  const listed = [entry(page.incident, ackLink), entry(second, `${ackLink}x`)];
  const digest: Page = {
    ...page,
    id: 'd1',
    level: undefined,
    reason: 'Held by the page rate limit: 3 incidents opened while your pages were paused',
    links: { incident: incidentLink },
    digest: { total: 3, incidents: listed },
  };

  it("says how many incidents wait in the subject and the SMS, with the first incident's link", () => {
    const rendered = renderPage(digest, berlin);
    expect(rendered.subject).toBe('[3 incidents waiting] [SEV-1] Checkout API: Disk 95% full on db-1');
    expect(rendered.sms).toBe(`3 incidents waiting. SEV-1 checkout: Disk 95% full on db-1 ${incidentLink}`);
    // With the first incident's signed link (what the escalation sends), the SMS acknowledges it.
    expect(
      renderPage({ ...digest, links: { incident: incidentLink, acknowledge: ackLink } }, berlin).sms,
    ).toBe(`3 incidents waiting. SEV-1 checkout: Disk 95% full on… ACK ${ackLink}`);
    expect(renderPage({ ...digest, digest: { total: 1, incidents: listed } }, berlin).subject).toMatch(
      /^\[1 incident waiting\]/,
    );
  });

  it('lists each incident in the email with its own acknowledge link, and counts the rest', () => {
    expect(renderPage(digest, berlin).email).toBe(
      [
        '3 incidents waiting for an acknowledgement',
        'Held by the page rate limit: 3 incidents opened while your pages were paused',
        '',
        '[SEV-1] Checkout API: Disk 95% full on db-1',
        '  Detected 2026-03-14 15:04 CET (Europe/Berlin), 3 alerts, triggered',
        `  Acknowledge: ${ackLink}`,
        `  Incident: ${incidentLink}`,
        '',
        '[SEV-3] Checkout API: Latency p99 over 2 s',
        '  Detected 2026-03-14 15:10 CET (Europe/Berlin), 1 alert, triggered',
        `  Acknowledge: ${ackLink}x`,
        '  Incident: https://klaxon.example.com/a/9zz2mzx4ab3c.v.alice.tbxw00.Vw3kR9b1xv8yZ3mWc4nLdg',
        '',
        '… and 1 more: see the open incidents in Klaxon.',
        '',
        '--',
        'The Acknowledge links open a confirmation page: nothing changes until you confirm there.',
        '',
      ].join('\n'),
    );
  });

  it('carries the list in the webhook document', () => {
    const json = JSON.parse(renderPage(digest, berlin).json);
    expect(json.digest.total).toBe(3);
    expect(json.digest.incidents.map((i: { id: string }) => i.id)).toEqual(['7kq2mzx4ab3c', '9zz2mzx4ab3c']);
    expect(json.digest.incidents[1].links).toEqual({
      incident: 'https://klaxon.example.com/a/9zz2mzx4ab3c.v.alice.tbxw00.Vw3kR9b1xv8yZ3mWc4nLdg',
      acknowledge: `${ackLink}x`,
    });
    expect(JSON.parse(renderPage(page, berlin).json).digest).toBeUndefined();
  });

  const allLink = 'https://klaxon.example.com/a/qrstuvwx2345.g.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
  const allDigest = { total: 3, incidents: listed, acknowledgeAll: { link: allLink, count: 3 } };
  const withAll: Page = {
    ...digest,
    links: { incident: incidentLink, acknowledge: ackLink },
    digest: allDigest,
  };

  it('with an "acknowledge all" link: the SMS carries it (ACK ALL), the email offers it first', () => {
    const rendered = renderPage(withAll, berlin);
    expect(rendered.sms).toBe(`3 incidents waiting ACK ALL ${allLink}`);
    expect(bytes(rendered.sms)).toBeLessThanOrEqual(140);
    // With room, the most urgent one is named, as such.
    const short = 'https://k.io/a/qrstuvwx2345.g.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
    expect(
      renderPage({ ...withAll, digest: { ...allDigest, acknowledgeAll: { link: short, count: 3 } } }, berlin)
        .sms,
    ).toBe(`3 incidents waiting, most urgent SEV-1 checkout: Disk 95% full… ACK ALL ${short}`);
    const email = rendered.email.split('\n');
    expect(email.slice(0, 5)).toEqual([
      '3 incidents waiting for an acknowledgement',
      'Held by the page rate limit: 3 incidents opened while your pages were paused',
      '',
      `Acknowledge all 3: ${allLink}`,
      '',
    ]);
    // Some counted past the held set's limit are not known by id: the link says whom it covers.
    expect(renderPage({ ...withAll, digest: { ...allDigest, total: 1003 } }, berlin).email).toContain(
      `Acknowledge 3 of the 1003 (the others were only counted): ${allLink}`,
    );
    expect(JSON.parse(rendered.json).digest.acknowledgeAll).toEqual({ link: allLink, count: 3 });
    expect(JSON.parse(renderPage(digest, berlin).json).digest.acknowledgeAll).toBeUndefined();
  });

  it('keeps the SMS link whole even for a 63-character responder id (alone, over 140 bytes if it must)', () => {
    const responder = `a${'b'.repeat(62)}`;
    const long = `https://abcdefghij.execute-api.eu-central-1.amazonaws.com/a/qrstuvwx2345.g.${responder}.tbxw00.MrHISkrX6i33lhcI6uQ2hg`;
    const sms = renderPage(
      { ...withAll, digest: { ...allDigest, acknowledgeAll: { link: long, count: 3 } } },
      berlin,
    ).sms;
    expect(sms.endsWith(long)).toBe(true);
    expect(sms === long || bytes(sms) <= 140).toBe(true);
  });

  it('keeps the SMS within 140 bytes and the link whole, however long the title', () => {
    for (let length = 0; length <= 200; length += 7) {
      const title = '👩‍💻x'.repeat(length);
      const all = renderPage({ ...withAll, incident: { ...withAll.incident, title } }, berlin).sms;
      expect(bytes(all)).toBeLessThanOrEqual(140);
      expect(all.endsWith(`ACK ALL ${allLink}`)).toBe(true);
      expect(wellFormed(all)).toBe(true);
      const sms = renderPage({ ...digest, incident: { ...digest.incident, title } }, berlin).sms;
      expect(bytes(sms)).toBeLessThanOrEqual(140);
      expect(sms.endsWith(incidentLink)).toBe(true);
      expect(wellFormed(sms)).toBe(true);
    }
  });
});
