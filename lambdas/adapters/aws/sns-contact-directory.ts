import {
  CheckIfPhoneNumberIsOptedOutCommand,
  GetSMSSandboxAccountStatusCommand,
  ListSMSSandboxPhoneNumbersCommand,
  type ListSMSSandboxPhoneNumbersCommandOutput,
  ListSubscriptionsByTopicCommand,
  type ListSubscriptionsByTopicCommandOutput,
  SNSClient,
} from '@aws-sdk/client-sns';
import type { ContactDirectory } from '#app/ports';
import type { ContactDirectoryReport, ContactEndpoint } from '#core/contacts';

/** Created once per execution environment, reused by every invocation. */
const defaultClient = new SNSClient({});

/**
 * What SNS knows of the contact endpoints: the pages topic's subscriptions (every page of
 * ListSubscriptionsByTopic; a SubscriptionArn of `PendingConfirmation` is an unconfirmed one, and
 * one that is no ARN at all, `Deleted`, is none), CheckIfPhoneNumberIsOptedOut for each SMS
 * number, and — only when there are SMS numbers — whether the account's SMS is in the sandbox
 * and, if so, its `Verified` destination numbers (a `Pending` one receives nothing yet). Read
 * only; the SDK retries throttling, and what still fails is thrown so that the check is retried.
 */
export class SnsContactDirectory implements ContactDirectory {
  readonly #topicArn: string;
  readonly #client: SNSClient;

  constructor(options: { topicArn: string; client?: SNSClient }) {
    this.#topicArn = options.topicArn;
    this.#client = options.client ?? defaultClient;
  }

  async report(endpoints: readonly ContactEndpoint[]): Promise<ContactDirectoryReport> {
    const numbers = endpoints.filter((e) => e.protocol === 'sms').map((e) => e.endpoint);
    const subscriptions: { protocol: string; endpoint: string; pendingConfirmation: boolean }[] = [];
    let next: string | undefined;
    do {
      const page: ListSubscriptionsByTopicCommandOutput = await this.#client.send(
        new ListSubscriptionsByTopicCommand({
          TopicArn: this.#topicArn,
          ...(next === undefined ? {} : { NextToken: next }),
        }),
      );
      for (const s of page.Subscriptions ?? []) {
        const arn = s.SubscriptionArn ?? '';
        if (s.Protocol === undefined || s.Endpoint === undefined) continue;
        if (arn !== 'PendingConfirmation' && !arn.startsWith('arn:')) continue;
        subscriptions.push({
          protocol: s.Protocol,
          endpoint: s.Endpoint,
          pendingConfirmation: arn === 'PendingConfirmation',
        });
      }
      next = page.NextToken;
    } while (next);

    const optedOut: string[] = [];
    for (const phoneNumber of numbers) {
      const answer = await this.#client.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber }));
      if (answer.isOptedOut === true) optedOut.push(phoneNumber);
    }
    if (numbers.length === 0) return { subscriptions, optedOut };

    const status = await this.#client.send(new GetSMSSandboxAccountStatusCommand({}));
    if (status.IsInSandbox !== true) return { subscriptions, optedOut };
    const verified: string[] = [];
    next = undefined;
    do {
      const page: ListSMSSandboxPhoneNumbersCommandOutput = await this.#client.send(
        new ListSMSSandboxPhoneNumbersCommand(next === undefined ? {} : { NextToken: next }),
      );
      for (const n of page.PhoneNumbers ?? []) {
        if (n.Status === 'Verified' && n.PhoneNumber !== undefined) verified.push(n.PhoneNumber);
      }
      next = page.NextToken;
    } while (next);
    return { subscriptions, optedOut, smsSandbox: { verified } };
  }
}
