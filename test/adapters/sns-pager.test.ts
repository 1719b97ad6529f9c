import { InternalErrorException, PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsPager } from '#adapters/aws/sns-pager';
import { AckLinks } from '#app/links';
import type { Page } from '#core/page';
import { renderPage } from '#core/page-render';
import { contacts, makeNotice, makePage, smsParts } from '../support/pages.ts';

const sns = mockClient(SNSClient);

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const topicArn = 'arn:aws:sns:eu-central-1:123456789012:klaxon-pages';
const timeZone = 'Europe/Berlin';

function pager(): SnsPager {
  return new SnsPager({ topicArn, timeZone, client: new SNSClient({}) });
}

const publishes = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const text = (value: string) => ({ DataType: 'String', StringValue: value });

/** The attributes every page carries; `contact` is what each subscription's filter policy matches. */
function attributes(page: Page, contact: string) {
  return {
    service: text(page.incident.service),
    severity: text(page.incident.severity),
    level: text(String(page.level ?? 0)),
    responder: text(page.responder.id),
    contact: text(contact),
    kind: text(page.kind),
  };
}

describe('SNS pager', () => {
  it('publishes an email page: the rendered email body with its subject', async () => {
    const page = makePage({ contact: contacts.email });
    const rendered = renderPage(page, { timeZone });
    await pager().send(page);
    expect(publishes()).toEqual([
      {
        TopicArn: topicArn,
        Message: rendered.email,
        Subject: rendered.subject,
        MessageAttributes: {
          service: text('checkout'),
          severity: text('SEV-1'),
          level: text('2'),
          responder: text('alice'),
          contact: text('alice-0'),
          kind: text('page'),
        },
      },
    ]);
    expect(rendered.subject).toBe('[SEV-1] Checkout API: Disk 95% full on db-1');
    expect(rendered.email).toContain('Europe/Berlin');
  });

  it('renders email times in the configured time zone', async () => {
    const page = makePage({ contact: contacts.email });
    await new SnsPager({ topicArn, timeZone: 'America/New_York', client: new SNSClient({}) }).send(page);
    expect(publishes()[0]?.Message).toBe(renderPage(page, { timeZone: 'America/New_York' }).email);
    expect(publishes()[0]?.Message).toMatch(/^Detected: 2026-11-26 05:00 \S+ \(America\/New_York\)$/m);
  });

  it('publishes an SMS page: the short text, no subject, sent as Transactional', async () => {
    const page = makePage({ contact: contacts.sms });
    const rendered = renderPage(page, { timeZone });
    await pager().send(page);
    expect(publishes()).toEqual([
      {
        TopicArn: topicArn,
        Message: rendered.sms,
        MessageAttributes: {
          ...attributes(page, 'alice-1'),
          'AWS.SNS.SMS.SMSType': text('Transactional'),
        },
      },
    ]);
    const message = publishes()[0]?.Message ?? '';
    expect(smsParts(message).parts).toBe(1);
    expect(message).toContain(page.links.acknowledge);
    expect(publishes()[0]).not.toHaveProperty('Subject');
  });

  it('keeps an SMS of a long title outside GSM 03.38 to one SMS', async () => {
    const page = makePage({
      contact: contacts.sms,
      incident: { ...makePage().incident, title: `Plattenplatz über 95 % 🔥 … ${'ê'.repeat(200)}` },
    });
    await pager().send(page);
    const message = publishes()[0]?.Message ?? '';
    expect(message).toBe(renderPage(page, { timeZone }).sms);
    expect(smsParts(message)).toMatchObject({ encoding: 'GSM-7', parts: 1 });
  });

  it("counts in what SNS puts before an SMS from the topic's display name (KLAXON> ): one SMS, the link whole", async () => {
    const acknowledge =
      'https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/a/7kq2mzx4ab3c.a.alice.tbxw00.MrHISkrX6i33lhcI6uQ2hg';
    const page = makePage({
      contact: contacts.sms,
      incident: { ...makePage().incident, title: `Plattenplatz über 95 % auf db-1 – ${'x'.repeat(60)}…` },
      links: { ...makePage().links, acknowledge },
    });
    await new SnsPager({ topicArn, timeZone, displayName: 'Klaxon', client: new SNSClient({}) }).send(page);
    const message = publishes()[0]?.Message ?? '';
    expect(message).toBe(renderPage(page, { timeZone, smsPrefix: 'KLAXON> ' }).sms);
    expect(message.endsWith(` ACK ${acknowledge}`)).toBe(true);
    // As the phone gets it.
    expect(smsParts(`KLAXON> ${message}`)).toMatchObject({ encoding: 'GSM-7', parts: 1 });
  });

  it('publishes a digest like a page: its email lists the held incidents, its SMS acknowledges the first', async () => {
    const base = makePage();
    const second = {
      ...base.incident,
      id: 'inc-2',
      title: 'Latency p99 over 2 s',
      severity: 'SEV-3' as const,
    };
    const ack = (id: string) => `https://klaxon.example.com/a/${id}.a.alice.tbxw00.sig`;
    const digest = (contact: Page['contact']): Page => ({
      ...base,
      contact,
      level: undefined,
      reason: 'Held by the page rate limit: 2 incidents waiting while your pages were paused',
      links: { incident: base.links.incident, acknowledge: ack(base.incident.id) },
      digest: {
        total: 2,
        incidents: [
          { ...base.incident, links: { incident: base.links.incident, acknowledge: ack(base.incident.id) } },
          {
            ...second,
            links: {
              incident: `https://klaxon.example.com/a/${'inc-2'}.v.alice.tbxw00.sig`,
              acknowledge: ack('inc-2'),
            },
          },
        ],
      },
    });
    await pager().send(digest(contacts.email));
    await pager().send(digest(contacts.sms));
    const [email, sms] = publishes();
    expect(email).toEqual({
      TopicArn: topicArn,
      Message: renderPage(digest(contacts.email), { timeZone }).email,
      Subject: '[2 incidents waiting] [SEV-1] Checkout API: Disk 95% full on db-1',
      MessageAttributes: attributes(digest(contacts.email), 'alice-0'),
    });
    expect(email?.Message).toContain(`Acknowledge: ${ack('inc-2')}`);
    expect(sms?.Message).toBe(
      `2 incidents waiting. SEV-1 checkout: Disk 95% full on db-1 ACK ${ack(base.incident.id)}`,
    );
    expect(sms?.MessageAttributes?.kind).toEqual(text('page'));
  });

  it('publishes a webhook page: the JSON document, no subject', async () => {
    const page = makePage({ contact: contacts.webhook });
    const rendered = renderPage(page, { timeZone });
    await pager().send(page);
    expect(publishes()).toEqual([
      { TopicArn: topicArn, Message: rendered.json, MessageAttributes: attributes(page, 'alice-2') },
    ]);
    expect(JSON.parse(publishes()[0]?.Message ?? 'null')).toMatchObject({
      version: 1,
      id: 'p1',
      kind: 'page',
      level: 2,
      responder: { id: 'alice', name: 'Alice' },
    });
    expect(publishes()[0]).not.toHaveProperty('Subject');
    // Nothing of the contact (its URL) leaks into the payload.
    expect(publishes()[0]?.Message).not.toContain('hooks.example.com');
  });

  it.each([['alice'], [`a${'b'.repeat(62)}`]])(
    "every protocol's message carries the signed links AckLinks makes, for %s",
    async (responder) => {
      const links = new AckLinks({
        publicUrl: 'https://abcdefghij.execute-api.eu-central-1.amazonaws.com',
        secret: async () => 'test-link-secret-0123456789abcdef',
      });
      const now = new Date('2026-11-26T10:00:00Z');
      const id = '7kq2mzx4ab3c';
      const signed = {
        incident: await links.viewLink(id, responder, now),
        acknowledge: await links.link(id, 'ack', responder, now),
        resolve: await links.link(id, 'resolve', responder, now),
      };
      expect(signed.incident).toMatch(new RegExp(`/a/${id}\\.v\\.${responder}\\.`));
      const page = (contact: Page['contact']) =>
        makePage({ contact, responder: { id: responder, name: 'Al' }, links: signed });
      for (const contact of [contacts.email, contacts.sms, contacts.webhook])
        await pager().send(page(contact));
      const [email = '', sms = '', webhook = '{}'] = publishes().map((p) => p.Message ?? '');
      expect(email).toContain(`Incident: ${signed.incident}\n`);
      expect(JSON.parse(webhook).links).toEqual(signed);
      // The SMS spends its room on the acknowledge link (alone, and over, if it must).
      expect(sms).not.toContain(signed.incident);
      expect(sms.endsWith(signed.acknowledge)).toBe(true);
      expect(sms === signed.acknowledge || smsParts(sms).parts === 1).toBe(true);
    },
  );

  it('sets the SMS type only on SMS pages', async () => {
    await pager().send(makePage({ contact: contacts.email }));
    await pager().send(makePage({ contact: contacts.webhook }));
    for (const input of publishes()) {
      expect(Object.keys(input.MessageAttributes ?? {}).sort()).toEqual([
        'contact',
        'kind',
        'level',
        'responder',
        'service',
        'severity',
      ]);
    }
  });

  it('publishes a notice (no level) with level 0 and kind notice', async () => {
    const page = makeNotice({ contact: contacts.email });
    const rendered = renderPage(page, { timeZone });
    await pager().send(page);
    expect(publishes()).toEqual([
      {
        TopicArn: topicArn,
        Message: rendered.email,
        Subject: rendered.subject,
        MessageAttributes: { ...attributes(page, 'alice-0'), level: text('0'), kind: text('notice') },
      },
    ]);
    expect(rendered.subject).toBe('[Acknowledged by Bob] [SEV-1] Checkout API: Disk 95% full on db-1');
  });

  it('publishes a reminder with kind reminder', async () => {
    const page = makePage({ kind: 'reminder', contact: contacts.sms, reason: 'Still open after 15 minutes' });
    await pager().send(page);
    expect(publishes()[0]?.MessageAttributes?.kind).toEqual(text('reminder'));
    expect(publishes()[0]?.Message).toBe(renderPage(page, { timeZone }).sms);
    expect(publishes()[0]?.Message).toMatch(/^Reminder SEV-1 checkout: /);
  });

  it('uses the contact key, not the address, as the contact attribute', async () => {
    const page = makePage({
      responder: { id: 'bob', name: 'Bob' },
      contact: { type: 'email', address: 'bob@example.com', key: 'bob-3' },
    });
    await pager().send(page);
    expect(publishes()[0]?.MessageAttributes?.contact).toEqual(text('bob-3'));
    expect(publishes()[0]?.MessageAttributes?.responder).toEqual(text('bob'));
  });

  it('publishes once per page', async () => {
    const p = pager();
    await p.send(makePage({ contact: contacts.email }));
    await p.send(makePage({ contact: contacts.sms }));
    await p.send(makePage({ contact: contacts.webhook }));
    expect(publishes().map((i) => i.MessageAttributes?.contact?.StringValue)).toEqual([
      'alice-0',
      'alice-1',
      'alice-2',
    ]);
    expect(sns.calls()).toHaveLength(3);
  });

  it.each([
    ['ThrottledException', () => new ThrottledException({ message: 'slow down', $metadata: {} })],
    ['InternalErrorException', () => new InternalErrorException({ message: 'oops', $metadata: {} })],
    ['a plain Error', () => new Error('socket hang up')],
  ])('rejects when Publish fails (%s), so the escalation step is retried', async (_name, error) => {
    const thrown = error();
    sns.on(PublishCommand).rejects(thrown);
    await expect(pager().send(makePage())).rejects.toBe(thrown);
    expect(publishes()).toHaveLength(1);
  });
});
