import { describe, expect, it } from 'vitest';
import type { KlaxonConfig } from '#core/config';
import type { Incident } from '#core/incident';
import { type Page, pageIncident } from '#core/page';
import { renderPage } from '#core/page-render';
import { smsParts } from '../support/pages.ts';

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
    source: 'db-1',
    alertLinks: [{ href: 'https://runbooks.example.com/disk', text: 'Runbook' }],
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
        'Source: db-1',
        'Level: 2',
        '',
        'Links:',
        '  Runbook: https://runbooks.example.com/disk',
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

  it("puts the sender's description under the facts, indented under Details (never taken for Klaxon's lines): its line breaks and indentation kept, no other control characters, no runs of blank lines", () => {
    const said = {
      ...page,
      incident: {
        ...page.incident,
        description:
          '\n p99 2.3 s\r\n\n\n\nthreshold\t2 s\u001b[31m \n  - pod-1\nAcknowledge: https://evil.example/ack\n',
      },
    };
    expect(renderPage(said, berlin).email).toContain(
      'Source: db-1\nLevel: 2\n\nDetails:\n  p99 2.3 s\n\n  threshold 2 s [31m\n    - pod-1\n  Acknowledge: https://evil.example/ack\n\nLinks:\n',
    );
    // Not in the SMS: there is no room.
    expect(renderPage(said, berlin).sms).toBe(renderPage(page, berlin).sms);
    expect(JSON.parse(renderPage(said, berlin).json).incident.description).toBe(said.incident.description);
    expect(JSON.parse(renderPage(page, berlin).json).incident.description).toBeUndefined();
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
        source: 'db-1',
        alertLinks: [{ href: 'https://runbooks.example.com/disk', text: 'Runbook' }],
      },
      responder: { id: 'alice', name: 'Alice' },
      links: { incident: incidentLink, acknowledge: ackLink, resolve: resolveLink },
    });
  });

  it("carries the incident link (the incident's signed read-only page) in the email and the webhook, not in the SMS", () => {
    const rendered = renderPage(page, berlin);
    expect(rendered.email).toContain(`\nIncident: ${incidentLink}\n`);
    expect(JSON.parse(rendered.json).links.incident).toBe(incidentLink);
    // One SMS holds one link: it spends its room on the acknowledge link.
    expect(rendered.sms).not.toContain(incidentLink);
    expect(smsParts(rendered.sms).parts).toBe(1);
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
    expect(sms.endsWith('x...')).toBe(true);
    expect(smsParts(sms)).toEqual({ encoding: 'GSM-7', units: 160, parts: 1 });
  });

  it('cuts even the reason when it alone is too long', () => {
    const sms = renderPage({ ...notice, reason: `Resolved: ${'ü'.repeat(200)}` }, berlin).sms;
    expect(smsParts(sms)).toEqual({ encoding: 'GSM-7', units: 160, parts: 1 });
    expect(sms.startsWith('[Resolved: üü')).toBe(true);
    expect(sms.endsWith('...] SEV-1 checkout')).toBe(true);
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
  const pieces = ['😀', 'ü', 'a', '👩‍💻', '🇩🇪', 'ß', ' ', '…'];
  /** What SNS puts before an SMS published to a topic with the display name "Klaxon". */
  const KLAXON = { ...berlin, smsPrefix: 'KLAXON> ' };

  it('arrive as one GSM-7 SMS with the prefix, the link whole, whatever the title holds', () => {
    for (let length = 0; length <= 300; length++) {
      const title = Array.from({ length }, (_, i) => pieces[i % pieces.length]).join('');
      const sms = renderPage(
        { ...page, incident: { ...page.incident, title }, links: { ...page.links, acknowledge: longLink } },
        KLAXON,
      ).sms;
      const delivered = smsParts(`KLAXON> ${sms}`);
      expect(delivered.encoding, `title length ${length}`).toBe('GSM-7');
      expect(delivered.parts, `title length ${length}`).toBe(1);
      expect(sms.endsWith(` ACK ${longLink}`), `title length ${length}`).toBe(true);
      const shown = sms.slice(0, -` ACK ${longLink}`.length);
      // Emoji are left out, '…' spelled '...', GSM letters (ü, ß) kept.
      expect(shown, `title length ${length}`).toMatch(/^SEV-1 checkout(: [üaß. ]+)?$/);
    }
  });

  it('fit the execute-api link and SNS\'s "KLAXON> " into one SMS (was three UCS-2 parts, the link cut across them)', () => {
    const base = 'https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com';
    const acknowledge = `${base}/a/7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg`;
    const sms = renderPage({ ...page, links: { ...page.links, acknowledge } }, KLAXON).sms;
    expect(sms).toBe(`SEV-1 checkout: Disk 95% full on db-1 ACK ${acknowledge}`);
    expect(smsParts(`KLAXON> ${sms}`)).toMatchObject({ encoding: 'GSM-7', parts: 1 });
    const long = renderPage(
      {
        ...page,
        incident: {
          ...page.incident,
          title: 'Überlastung im Zahlungsdienst 🔥 seit heute früh – alle Knoten betroffen',
        },
        links: { ...page.links, acknowledge },
      },
      KLAXON,
    ).sms;
    expect(long).toBe(`SEV-1 checkout: Überlastung im Zah... ACK ${acknowledge}`);
    expect(smsParts(`KLAXON> ${long}`)).toEqual({ encoding: 'GSM-7', units: 160, parts: 1 });
  });

  it('spell a title in GSM 03.38: typographic punctuation in ASCII, accents left off, the rest left out', () => {
    const title = '“Zahlungsdienst” – Überlastung… São Paulo, Łódź, Ærø 🔥 ça';
    const sms = renderPage({ ...page, incident: { ...page.incident, title } }, berlin).sms;
    expect(sms).toBe(
      `SEV-1 checkout: "Zahlungsdienst" - Überlastung... Sao Paulo, Lodz, Ærø ca ACK ${ackLink}`,
    );
    expect(smsParts(sms).encoding).toBe('GSM-7');
  });

  it('count extension characters ({}[]~^|€ and backslash) as two', () => {
    const sms = renderPage({ ...page, incident: { ...page.incident, title: '{'.repeat(40) } }, berlin).sms;
    // 100 characters around the title leave 60 septets: 28 braces (56) and '...'.
    expect(sms).toBe(`SEV-1 checkout: ${'{'.repeat(28)}... ACK ${ackLink}`);
    expect(smsParts(sms)).toEqual({ encoding: 'GSM-7', units: 159, parts: 1 });
  });

  it('count by UCS-2 (70) when the prefix is outside GSM 03.38, and then keep the link rather than the title', () => {
    const cyrillic = { ...berlin, smsPrefix: 'КЛАКСОН> ' };
    expect(renderPage(page, cyrillic).sms).toBe(ackLink);
    const short = 'https://k.io/a/x';
    const sms = renderPage({ ...page, links: { ...page.links, acknowledge: short } }, cyrillic).sms;
    expect(sms).toBe(`SEV-1 checkout: Disk 95% full on db-1 ACK ${short}`);
    expect(smsParts(`КЛАКСОН> ${sms}`).parts).toBe(1);
  });

  /** A link of exactly `length` characters. */
  const linkOf = (length: number) => `https://klaxon.example.com/${'a'.repeat(length - 27)}`;
  const withLink = (acknowledge: string, options = berlin) =>
    renderPage({ ...page, links: { ...page.links, acknowledge } }, options).sms;

  it('drop the title, then the service and severity, then the label, to keep the link', () => {
    expect(withLink(linkOf(135))).toBe(`SEV-1 checkout: D... ACK ${linkOf(135)}`);
    expect(withLink(linkOf(136))).toBe(`SEV-1 checkout ACK ${linkOf(136)}`);
    expect(withLink(linkOf(142))).toBe(`ACK ${linkOf(142)}`);
    expect(withLink(linkOf(157))).toBe(linkOf(157));
    // The prefix takes its room first.
    expect(withLink(linkOf(127), KLAXON)).toBe(`SEV-1 checkout: D... ACK ${linkOf(127)}`);
    expect(withLink(linkOf(128), KLAXON)).toBe(`SEV-1 checkout ACK ${linkOf(128)}`);
    expect(withLink(linkOf(149), KLAXON)).toBe(linkOf(149));
  });

  it('send a link longer than an SMS alone rather than cut it', () => {
    expect(withLink(linkOf(170))).toBe(linkOf(170));
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
    ).toBe(`3 incidents waiting. SEV-1 checkout: Disk 95% full on db-1 ACK ${ackLink}`);
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
    // Each entry without its alert's links (20 of them could pass SNS's 256 KB); the page's own has them.
    expect(json.digest.incidents[0].alertLinks).toBeUndefined();
    const described = {
      ...digest,
      digest: { total: 3, incidents: listed.map((i) => ({ ...i, description: 'x'.repeat(1000) })) },
    };
    expect(JSON.parse(renderPage(described, berlin).json).digest.incidents[0].description).toBeUndefined();
    expect(json.digest.incidents[0].source).toBe('db-1');
    expect(json.incident.alertLinks).toEqual(page.incident.alertLinks);
  });

  it("leaves out an alert's link too long for a page, and keeps at most five", () => {
    const links = [
      { href: `https://grafana.example.com/silence?${'q'.repeat(2100)}` },
      ...Array.from({ length: 6 }, (_, i) => ({ href: `https://runbooks.example.com/${i}`, text: `R${i}` })),
    ];
    const about = pageIncident(
      {
        id: 'x',
        title: 't',
        service: 'checkout',
        sev: 'SEV-1',
        status: 'triggered',
        detectedAt: '2026-03-14T14:04:05.000Z',
        alertCount: 1,
        source: 'db-1',
        links,
      } as unknown as Incident,
      { services: [] } as unknown as KlaxonConfig,
    );
    expect(about.alertLinks.map((l) => l.href)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `https://runbooks.example.com/${i}`),
    );
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
    // With room, the most urgent one is named, as such.
    expect(rendered.sms).toBe(
      `3 incidents waiting, most urgent SEV-1 checkout: Disk 95% full on db-1 ACK ALL ${allLink}`,
    );
    expect(smsParts(rendered.sms).parts).toBe(1);
    const long =
      'https://abcdefghij.execute-api.eu-central-1.amazonaws.com/a/qrstuvwx2345.g.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
    expect(
      renderPage({ ...withAll, digest: { ...allDigest, acknowledgeAll: { link: long, count: 3 } } }, berlin)
        .sms,
    ).toBe(`3 incidents waiting ACK ALL ${long}`);
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

  it('keeps the SMS link whole even for a 63-character responder id (alone, over one SMS if it must)', () => {
    const responder = `a${'b'.repeat(62)}`;
    const long = `https://abcdefghij.execute-api.eu-central-1.amazonaws.com/a/qrstuvwx2345.g.${responder}.tbxw00.MrHISkrX6i33lhcI6uQ2hg`;
    const sms = renderPage(
      { ...withAll, digest: { ...allDigest, acknowledgeAll: { link: long, count: 3 } } },
      berlin,
    ).sms;
    expect(sms.endsWith(long)).toBe(true);
    expect(sms === long || smsParts(sms).parts === 1).toBe(true);
  });

  it('keeps the SMS to one part and the link whole, however long the title', () => {
    for (let length = 0; length <= 200; length += 7) {
      const title = '👩‍💻x'.repeat(length);
      const options = { ...berlin, smsPrefix: 'KLAXON> ' };
      const all = renderPage({ ...withAll, incident: { ...withAll.incident, title } }, options).sms;
      expect(smsParts(`KLAXON> ${all}`)).toMatchObject({ encoding: 'GSM-7', parts: 1 });
      expect(all.endsWith(`ACK ALL ${allLink}`)).toBe(true);
      const sms = renderPage({ ...digest, incident: { ...digest.incident, title } }, options).sms;
      expect(smsParts(`KLAXON> ${sms}`)).toMatchObject({ encoding: 'GSM-7', parts: 1 });
      expect(sms.endsWith(incidentLink)).toBe(true);
    }
  });
});
