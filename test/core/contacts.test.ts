import { describe, expect, it } from 'vitest';
import { LocalContactDirectory } from '#adapters/local/pager';
import { checkContacts } from '#app/contacts';
import type { ContactDirectory } from '#app/ports';
import { parseConfig, type Responder } from '#core/config';
import {
  CONTACT_UNREACHABLE,
  type ContactDirectoryReport,
  contactEndpoints,
  contactProblems,
} from '#core/contacts';
import { ALERT_DETAIL_TYPE, KLAXON_SOURCE, ROUTES } from '#core/routing';
import { matchesPattern } from '../../lambdas/adapters/local/event-pattern.ts';
import { teamConfig } from '../support/team.ts';

const responders: Responder[] = [
  {
    id: 'alice',
    name: 'Alice',
    contacts: [
      { type: 'email', address: 'Alice@Example.com' },
      { type: 'sms', number: '+4915110000001' },
    ],
  },
  // Shares alice's mailbox (other case): one subscription for both keys.
  { id: 'ops-team', name: 'Ops', contacts: [{ type: 'email', address: 'alice@example.com' }] },
  { id: 'bob', name: 'Bob', contacts: [{ type: 'sms', number: '+4915110000002' }] },
  { id: 'dave', name: 'Dave', contacts: [{ type: 'webhook', url: 'https://hooks.example.com/klaxon' }] },
];
const endpoints = contactEndpoints(responders);
const subscribed = (protocol: string, endpoint: string, pendingConfirmation = false) => ({
  protocol,
  endpoint,
  pendingConfirmation,
});
const allConfirmed: ContactDirectoryReport = {
  subscriptions: [
    subscribed('email', 'alice@example.com'),
    subscribed('sms', '+4915110000001'),
    subscribed('sms', '+4915110000002'),
    subscribed('https', 'https://hooks.example.com/klaxon'),
  ],
  optedOut: [],
};

describe('contact endpoints', () => {
  it('group the contacts by (protocol, endpoint), email without case, as the stack subscribes them', () => {
    expect(endpoints.map((e) => [e.protocol, e.endpoint, e.keys])).toEqual([
      ['email', 'Alice@Example.com', ['alice-0', 'ops-team-0']],
      ['sms', '+4915110000001', ['alice-1']],
      ['sms', '+4915110000002', ['bob-0']],
      ['https', 'https://hooks.example.com/klaxon', ['dave-0']],
    ]);
  });
});

describe('contact problems', () => {
  it('none when every endpoint has a confirmed subscription, nothing opted out, no sandbox', () => {
    expect(contactProblems(endpoints, allConfirmed)).toEqual([]);
  });

  // SNS gives an HTTPS endpoint's URL whole only to GetSubscriptionAttributes: a listing may hide
  // the credentials of a webhook with basic auth, which then read as unsubscribed every hour.
  it('a webhook with credentials in its URL matches its listing without them (or masked)', () => {
    const hook = contactEndpoints([
      {
        id: 'erin',
        name: 'Erin',
        contacts: [{ type: 'webhook', url: 'https://klaxon:s3cret@Hooks.example.com/in' }],
      },
    ]);
    for (const listed of [
      'https://klaxon:s3cret@Hooks.example.com/in',
      'https://hooks.example.com/in',
      'https://klaxon:****@hooks.example.com/in',
    ]) {
      expect(
        contactProblems(hook, { subscriptions: [subscribed('https', listed)], optedOut: [] }),
        listed,
      ).toEqual([]);
    }
    expect(
      contactProblems(hook, {
        subscriptions: [subscribed('https', 'https://hooks.example.com/other')],
        optedOut: [],
      }),
    ).toMatchObject([{ contact: 'erin-0', problem: 'unsubscribed' }]);
  });

  it('unsubscribed: no subscription for the endpoint — every contact key on it, with the exact subscribe command', () => {
    const problems = contactProblems(endpoints, {
      ...allConfirmed,
      subscriptions: allConfirmed.subscriptions.filter((s) => s.protocol !== 'email'),
    });
    expect(problems.map((p) => [p.responder, p.contact, p.problem])).toEqual([
      ['alice', 'alice-0', 'unsubscribed'],
      ['ops-team', 'ops-team-0', 'unsubscribed'],
    ]);
    expect(problems[0]?.fix).toContain(
      `aws sns subscribe --topic-arn <PagesTopicArn> --protocol email --notification-endpoint Alice@Example.com --attributes '{"FilterPolicyScope":"MessageAttributes","FilterPolicy":"{\\"contact\\":[\\"alice-0\\",\\"ops-team-0\\"]}"}'`,
    );
  });

  it('pending-confirmation: only an unconfirmed subscription; a confirmed one next to it counts', () => {
    const report = {
      ...allConfirmed,
      subscriptions: [
        ...allConfirmed.subscriptions.filter((s) => s.protocol !== 'https'),
        subscribed('https', 'https://hooks.example.com/klaxon', true),
        subscribed('sms', '+4915110000002', true),
      ],
    };
    const problems = contactProblems(endpoints, report);
    expect(problems.map((p) => [p.contact, p.problem])).toEqual([['dave-0', 'pending-confirmation']]);
    expect(problems[0]?.fix).toContain('SubscribeURL');
    expect(problems[0]?.fix).toContain('"RawMessageDelivery":"true"');
  });

  it('opted-out: an SMS number on the opt-out list, with the opt-in command', () => {
    const problems = contactProblems(endpoints, { ...allConfirmed, optedOut: ['+4915110000002'] });
    expect(problems).toEqual([
      expect.objectContaining({ responder: 'bob', contact: 'bob-0', type: 'sms', problem: 'opted-out' }),
    ]);
    expect(problems[0]?.fix).toContain('aws sns opt-in-phone-number --phone-number +4915110000002');
  });

  it('sandbox-unverified: only while the account is in the SMS sandbox, for numbers not verified there', () => {
    const inSandbox = contactProblems(endpoints, {
      ...allConfirmed,
      optedOut: ['+4915110000001'],
      smsSandbox: { verified: ['+4915110000002'] },
    });
    expect(inSandbox.map((p) => [p.contact, p.problem])).toEqual([
      ['alice-1', 'opted-out'],
      ['alice-1', 'sandbox-unverified'],
    ]);
    expect(inSandbox[1]?.fix).toContain(
      'aws sns verify-sms-sandbox-phone-number --phone-number +4915110000001',
    );
    // Out of the sandbox, verification does not matter.
    expect(contactProblems(endpoints, allConfirmed)).toEqual([]);
  });
});

describe('the contact check', () => {
  const config = parseConfig(teamConfig());
  const run = async (report: ContactDirectoryReport | Error, checkedAt?: Date) => {
    const published: { detailType: string; detail: Record<string, unknown> }[] = [];
    const metrics: number[] = [];
    const warnings: Record<string, unknown>[] = [];
    const directory: ContactDirectory = {
      report: async () => {
        if (report instanceof Error) throw report;
        return report;
      },
    };
    const result = await checkContacts(
      {
        config,
        directory,
        events: { publish: async (detailType, detail) => void published.push({ detailType, detail }) },
        metrics: { publishUnreachableContacts: async (count) => void metrics.push(count) },
        clock: () => new Date('2026-11-26T10:00:30.000Z'),
        warn: (_message, data) => void warnings.push(data),
      },
      checkedAt,
    );
    return { result, published, metrics, warnings };
  };
  const everything = contactEndpoints(config.responders).map(({ protocol, endpoint }) =>
    subscribed(protocol, endpoint),
  );

  it('publishes UnreachableContacts 0 when all is well, and no event', async () => {
    const { result, published, metrics, warnings } = await run({ subscriptions: everything, optedOut: [] });
    expect(result).toMatchObject({ contacts: 5, unreachable: 0, problems: [] });
    expect(metrics).toEqual([0]);
    expect(published).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('warns and puts one "Contact Unreachable" per problem, counts contacts once, ids stable per scheduled run', async () => {
    const report = {
      subscriptions: everything.filter((s) => s.endpoint !== 'bob@example.com'),
      optedOut: ['+4915110000001'],
      smsSandbox: { verified: [] },
    };
    const scheduled = new Date('2026-11-26T10:00:00Z');
    const first = await run(report, scheduled);
    expect(first.result.unreachable).toBe(2);
    expect(first.metrics).toEqual([2]);
    expect(first.warnings.map((w) => [w.contact, w.problem])).toEqual([
      ['alice-1', 'opted-out'],
      ['alice-1', 'sandbox-unverified'],
      ['bob-0', 'unsubscribed'],
    ]);
    expect(first.published.map((e) => e.detailType)).toEqual([
      CONTACT_UNREACHABLE,
      CONTACT_UNREACHABLE,
      CONTACT_UNREACHABLE,
    ]);
    expect(first.published[2]?.detail).toMatchObject({
      schemaVersion: '1.0',
      type: 'Contact Unreachable',
      occurredAt: '2026-11-26T10:00:00.000Z',
      responder: 'bob',
      contact: 'bob-0',
      contactType: 'email',
      endpoint: 'bob@example.com',
      problem: 'unsubscribed',
      fix: expect.stringContaining('aws sns subscribe'),
    });
    // A retry of the same scheduled run puts the same ids; the next hour's check new ones.
    const retry = await run(report, scheduled);
    expect(retry.published.map((e) => e.detail.id)).toEqual(first.published.map((e) => e.detail.id));
    expect(new Set(first.published.map((e) => e.detail.id)).size).toBe(3);
    const next = await run(report, new Date('2026-11-26T11:00:00Z'));
    expect(next.published[0]?.detail.id).not.toBe(first.published[0]?.detail.id);
  });

  it('throws when the directory cannot tell (throttled), publishing nothing', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttled' });
    const failed = run(throttled);
    await expect(failed).rejects.toThrow('Rate exceeded');
  });

  it('finds nothing locally: the local inbox reaches every contact', async () => {
    const report = await new LocalContactDirectory().report(contactEndpoints(config.responders));
    const { result, metrics } = await run(report);
    expect(result.problems).toEqual([]);
    expect(metrics).toEqual([0]);
  });

  it('puts events that never come back as alerts', () => {
    const event = { source: KLAXON_SOURCE, 'detail-type': CONTACT_UNREACHABLE, detail: {} };
    for (const route of ROUTES) expect(matchesPattern(route.pattern, event)).toBe(false);
    expect(CONTACT_UNREACHABLE).not.toBe(ALERT_DETAIL_TYPE);
  });
});
