import { createHash } from 'node:crypto';
import type { Contact, Responder } from './config.ts';
import { contactKey } from './page.ts';

/**
 * The contact check: which configured contacts can no longer be paged, compared with what the
 * delivery service (SNS in AWS) reports. Pure: the report comes in, the problems go out.
 *
 * Every contact endpoint (a distinct email address, phone number or webhook URL) is one SNS
 * subscription on the pages topic, whose filter policy allows the contact keys that share it. A
 * contact stops getting pages, with no error anywhere, when its subscription was never confirmed
 * or was unsubscribed (CloudFormation does not notice), when its number opted out of SMS (a STOP
 * reply), or while the account's SMS is in the sandbox and the number is not a verified one.
 */

/** The SNS protocol each contact type is subscribed with. */
export type ContactProtocol = 'email' | 'sms' | 'https';

/** One distinct endpoint and the contacts delivered to it. */
export interface ContactEndpoint {
  readonly contact: Contact;
  readonly protocol: ContactProtocol;
  /** As subscribed: the address, the E.164 number, the URL. */
  readonly endpoint: string;
  /** Every contact key delivered to this endpoint (more than one only when contacts share it). */
  readonly keys: string[];
}

/**
 * One entry per distinct endpoint, in config order. SNS keeps one subscription per (topic,
 * protocol, endpoint), so contacts that share an address (a team mailbox listed under two
 * responders) share a subscription whose filter allows each of their keys. Email addresses
 * compare without case, as mail systems treat them.
 */
export function contactEndpoints(responders: readonly Responder[]): ContactEndpoint[] {
  const endpoints = new Map<string, ContactEndpoint>();
  for (const responder of responders) {
    responder.contacts.forEach((contact, index) => {
      const key = contactKey(responder.id, index);
      const { protocol, endpoint } = endpointOf(contact);
      const id = endpointKey(protocol, endpoint);
      const existing = endpoints.get(id);
      if (existing === undefined) endpoints.set(id, { contact, protocol, endpoint, keys: [key] });
      else existing.keys.push(key);
    });
  }
  return [...endpoints.values()];
}

/** One subscription's endpoint as SNS tells them apart: an email address without case. */
function endpointKey(protocol: string, endpoint: string): string {
  return `${protocol} ${protocol === 'email' ? endpoint.toLowerCase() : endpoint}`;
}

function endpointOf(contact: Contact): { protocol: ContactProtocol; endpoint: string } {
  switch (contact.type) {
    case 'email':
      return { protocol: 'email', endpoint: contact.address };
    case 'sms':
      return { protocol: 'sms', endpoint: contact.number };
    case 'webhook':
      return { protocol: 'https', endpoint: contact.url };
  }
}

/** The subscription filter policy that delivers `keys` (message attribute `contact`), as JSON. */
export function filterPolicyOf(keys: readonly string[]): string {
  return JSON.stringify({ contact: keys });
}

/** What the delivery service reports about the pages topic and the SMS numbers asked about. */
export interface ContactDirectoryReport {
  /** Every subscription of the pages topic. */
  readonly subscriptions: readonly {
    readonly protocol: string;
    readonly endpoint: string;
    /** Not confirmed yet: nothing is delivered to it. */
    readonly pendingConfirmation: boolean;
  }[];
  /** Of the SMS numbers asked about, those on the account's opt-out list. */
  readonly optedOut: readonly string[];
  /** Present only while the account's SMS is in the sandbox: its verified destination numbers. */
  readonly smsSandbox?: { readonly verified: readonly string[] };
}

export const CONTACT_PROBLEMS = [
  'unsubscribed',
  'pending-confirmation',
  'opted-out',
  'sandbox-unverified',
] as const;
export type ContactProblemKind = (typeof CONTACT_PROBLEMS)[number];

/** One contact that cannot be paged, why, and what to do. */
export interface ContactProblem {
  readonly responder: string;
  /** The contact key (`<responder>-<index>`): what pages and throttles name. */
  readonly contact: string;
  readonly type: Contact['type'];
  readonly endpoint: string;
  readonly problem: ContactProblemKind;
  readonly fix: string;
}

/**
 * A webhook URL without its user name and password: SNS gives an HTTPS endpoint's URL whole only
 * to GetSubscriptionAttributes ("HTTPS URLs are only retrievable from … GetSubscriptionAttributes"),
 * so a listing may hide the credentials of `https://user:password@host/…`. Compared without them
 * (and as the URL parser writes it), such a webhook is not taken for unsubscribed every hour.
 */
function withoutCredentials(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/**
 * The problems of each configured contact, in config order: its endpoint has no subscription
 * (`unsubscribed`) or only an unconfirmed one (`pending-confirmation`); an SMS number is opted
 * out (`opted-out`), or the account is in the SMS sandbox and the number is not verified there
 * (`sandbox-unverified`; both may hold). A confirmed subscription next to a pending one counts as
 * confirmed: SNS delivers to it.
 */
export function contactProblems(
  endpoints: readonly ContactEndpoint[],
  report: ContactDirectoryReport,
): ContactProblem[] {
  const normal = (protocol: string, endpoint: string) =>
    endpointKey(protocol, protocol === 'https' ? withoutCredentials(endpoint) : endpoint);
  const confirmed = new Set<string>();
  const pending = new Set<string>();
  for (const s of report.subscriptions) {
    (s.pendingConfirmation ? pending : confirmed).add(normal(s.protocol, s.endpoint));
  }
  const optedOut = new Set(report.optedOut);
  const verified = report.smsSandbox === undefined ? undefined : new Set(report.smsSandbox.verified);
  const problems: ContactProblem[] = [];
  for (const endpoint of endpoints) {
    const id = normal(endpoint.protocol, endpoint.endpoint);
    const kinds: ContactProblemKind[] = [];
    if (!confirmed.has(id)) kinds.push(pending.has(id) ? 'pending-confirmation' : 'unsubscribed');
    if (endpoint.protocol === 'sms' && optedOut.has(endpoint.endpoint)) kinds.push('opted-out');
    if (endpoint.protocol === 'sms' && verified !== undefined && !verified.has(endpoint.endpoint))
      kinds.push('sandbox-unverified');
    for (const key of endpoint.keys) {
      const responder = key.slice(0, key.lastIndexOf('-'));
      for (const problem of kinds) {
        problems.push({
          responder,
          contact: key,
          type: endpoint.contact.type,
          endpoint: endpoint.endpoint,
          problem,
          fix: fixFor(problem, endpoint),
        });
      }
    }
  }
  return problems;
}

/** How many distinct contacts the problems name: the `UnreachableContacts` metric. */
export function unreachableCount(problems: readonly ContactProblem[]): number {
  return new Set(problems.map((p) => p.contact)).size;
}

/**
 * What to do, with the command where there is one. The topic is `<PagesTopicArn>` (the stack
 * output): the check does not put the account's ARNs into events and logs.
 */
function fixFor(problem: ContactProblemKind, endpoint: ContactEndpoint): string {
  const target = endpoint.endpoint;
  switch (problem) {
    case 'unsubscribed':
      return (
        `Subscribe ${target} to the pages topic again, with the filter policy the stack gives it: ` +
        `${subscribeCommand(endpoint)} — then confirm it (README: When a contact stops getting pages).`
      );
    case 'pending-confirmation':
      return endpoint.protocol === 'https'
        ? `The webhook never confirmed: its receiver must GET the SubscribeURL of SNS's SubscriptionConfirmation POST. Fix the receiver, then run ${subscribeCommand(endpoint)} so SNS sends a new one.`
        : `Confirm the subscription: SNS mailed ${target} a confirmation link. Take its Token and run \`aws sns confirm-subscription --topic-arn <PagesTopicArn> --token <Token> --authenticate-on-unsubscribe true\`; if the mail is lost or expired, ${subscribeCommand(endpoint)} sends a new one.`;
    case 'opted-out':
      return `${target} opted out of SMS (a STOP reply, or its carrier): once its owner wants pages again, run \`aws sns opt-in-phone-number --phone-number ${target}\` (possible once every 30 days).`;
    case 'sandbox-unverified':
      return `The account's SMS is in the SNS sandbox and ${target} is not a verified destination: run \`aws sns create-sms-sandbox-phone-number --phone-number ${target}\`, then \`aws sns verify-sms-sandbox-phone-number --phone-number ${target} --one-time-password <code>\` — or ask AWS to move the account out of the sandbox.`;
  }
}

/** The `aws sns subscribe` that recreates an endpoint's subscription as the stack made it. */
function subscribeCommand(endpoint: ContactEndpoint): string {
  const attributes: Record<string, string> = {
    FilterPolicyScope: 'MessageAttributes',
    FilterPolicy: filterPolicyOf(endpoint.keys),
    ...(endpoint.protocol === 'https' ? { RawMessageDelivery: 'true' } : {}),
  };
  return (
    `\`aws sns subscribe --topic-arn <PagesTopicArn> --protocol ${endpoint.protocol} ` +
    `--notification-endpoint ${endpoint.endpoint} --attributes '${JSON.stringify(attributes)}'\``
  );
}

/** `detail-type` of the event the check puts on the Klaxon bus for each problem. */
export const CONTACT_UNREACHABLE = 'Contact Unreachable';

/**
 * The "Contact Unreachable" detail of a problem found by the check of `checkedAt`. Its `id` is
 * derived from (contact, problem, checkedAt): a retry of the same scheduled check puts the same
 * id again; the next hour's check, still finding it, puts a new one.
 */
export function contactUnreachableDetail(
  problem: ContactProblem,
  checkedAt: string,
): Record<string, unknown> {
  const hash = createHash('sha256');
  for (const part of ['contact', problem.contact, problem.problem, checkedAt])
    hash.update(part).update('\u0000');
  return {
    schemaVersion: '1.0',
    id: hash.digest('hex').slice(0, 32),
    type: CONTACT_UNREACHABLE,
    occurredAt: checkedAt,
    responder: problem.responder,
    contact: problem.contact,
    contactType: problem.type,
    endpoint: problem.endpoint,
    problem: problem.problem,
    fix: problem.fix,
  };
}
