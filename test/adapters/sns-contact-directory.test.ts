import {
  CheckIfPhoneNumberIsOptedOutCommand,
  GetSMSSandboxAccountStatusCommand,
  ListSMSSandboxPhoneNumbersCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsContactDirectory } from '#adapters/aws/sns-contact-directory';
import type { Responder } from '#core/config';
import { contactEndpoints, contactProblems } from '#core/contacts';

const sns = mockClient(SNSClient);
const topicArn = 'arn:aws:sns:eu-central-1:123456789012:klaxon-pages';
const subArn = (n: number) => `${topicArn}:0000000${n}-aaaa-bbbb-cccc-dddddddddddd`;

const responders: Responder[] = [
  {
    id: 'alice',
    name: 'Alice',
    contacts: [
      { type: 'email', address: 'alice@example.com' },
      { type: 'sms', number: '+4915110000001' },
    ],
  },
  { id: 'bob', name: 'Bob', contacts: [{ type: 'sms', number: '+4915110000002' }] },
  { id: 'dave', name: 'Dave', contacts: [{ type: 'webhook', url: 'https://hooks.example.com/klaxon' }] },
];
const endpoints = contactEndpoints(responders);
const directory = () => new SnsContactDirectory({ topicArn, client: new SNSClient({ maxAttempts: 1 }) });
const sub = (arn: string, Protocol: string, Endpoint: string) => ({
  SubscriptionArn: arn,
  Protocol,
  Endpoint,
  TopicArn: topicArn,
  Owner: '123456789012',
});

beforeEach(() => {
  sns.reset();
  sns
    .on(ListSubscriptionsByTopicCommand, { TopicArn: topicArn })
    .resolves({
      Subscriptions: [
        sub(subArn(1), 'email', 'alice@example.com'),
        sub('PendingConfirmation', 'https', 'https://hooks.example.com/klaxon'),
      ],
      NextToken: 'page-2',
    })
    .on(ListSubscriptionsByTopicCommand, { TopicArn: topicArn, NextToken: 'page-2' })
    .resolves({
      Subscriptions: [
        sub(subArn(2), 'sms', '+4915110000001'),
        // Unsubscribed a moment ago: listed as Deleted, delivering nothing.
        sub('Deleted', 'sms', '+4915110000002'),
      ],
    });
  sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
  sns
    .on(CheckIfPhoneNumberIsOptedOutCommand, { phoneNumber: '+4915110000001' })
    .resolves({ isOptedOut: true });
  sns.on(GetSMSSandboxAccountStatusCommand).resolves({ IsInSandbox: false });
});

describe('SNS contact directory', () => {
  it('reads every page of the topic subscriptions and asks about each SMS number, out of the sandbox', async () => {
    const report = await directory().report(endpoints);
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand).map((c) => c.args[0].input)).toEqual([
      { TopicArn: topicArn },
      { TopicArn: topicArn, NextToken: 'page-2' },
    ]);
    expect(sns.commandCalls(CheckIfPhoneNumberIsOptedOutCommand).map((c) => c.args[0].input)).toEqual([
      { phoneNumber: '+4915110000001' },
      { phoneNumber: '+4915110000002' },
    ]);
    expect(sns.commandCalls(GetSMSSandboxAccountStatusCommand)).toHaveLength(1);
    expect(sns.commandCalls(ListSMSSandboxPhoneNumbersCommand)).toHaveLength(0);
    expect(report).toEqual({
      subscriptions: [
        { protocol: 'email', endpoint: 'alice@example.com', pendingConfirmation: false },
        { protocol: 'https', endpoint: 'https://hooks.example.com/klaxon', pendingConfirmation: true },
        { protocol: 'sms', endpoint: '+4915110000001', pendingConfirmation: false },
      ],
      optedOut: ['+4915110000001'],
    });
    expect(contactProblems(endpoints, report).map((p) => [p.contact, p.problem])).toEqual([
      ['alice-1', 'opted-out'],
      ['bob-0', 'unsubscribed'],
      ['dave-0', 'pending-confirmation'],
    ]);
  });

  it('in the SMS sandbox, reads every page of its numbers; only Verified ones count', async () => {
    sns.on(GetSMSSandboxAccountStatusCommand).resolves({ IsInSandbox: true });
    sns
      .on(ListSMSSandboxPhoneNumbersCommand, {})
      .resolves({ PhoneNumbers: [{ PhoneNumber: '+4915110000001', Status: 'Verified' }], NextToken: 'n2' })
      .on(ListSMSSandboxPhoneNumbersCommand, { NextToken: 'n2' })
      .resolves({ PhoneNumbers: [{ PhoneNumber: '+4915110000002', Status: 'Pending' }] });
    const report = await directory().report(endpoints);
    expect(sns.commandCalls(ListSMSSandboxPhoneNumbersCommand).map((c) => c.args[0].input)).toEqual([
      {},
      { NextToken: 'n2' },
    ]);
    expect(report.smsSandbox).toEqual({ verified: ['+4915110000001'] });
    expect(contactProblems(endpoints, report).filter((p) => p.problem === 'sandbox-unverified')).toEqual([
      expect.objectContaining({ contact: 'bob-0' }),
    ]);
  });

  it('asks nothing about SMS when no contact has a number', async () => {
    const noSms = contactEndpoints([responders[2] as Responder]);
    await directory().report(noSms);
    expect(sns.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).toHaveLength(0);
    expect(sns.commandCalls(GetSMSSandboxAccountStatusCommand)).toHaveLength(0);
  });

  it('throws when SNS throttles, so the schedule retries the check', async () => {
    sns
      .on(CheckIfPhoneNumberIsOptedOutCommand)
      .rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }));
    await expect(directory().report(endpoints)).rejects.toThrow('Rate exceeded');
  });
});
