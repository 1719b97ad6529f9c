import { type MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Pager } from '#app/ports';
import type { Page } from '#core/page';
import { renderPage } from '#core/page-render';

/** Created once per execution environment, reused by every invocation. */
const defaultClient = new SNSClient({});

/**
 * Pages on Amazon SNS: one Publish per contact, rendered for that contact's protocol, with
 * message attributes that the contact's subscription filter policy matches (`contact`), and
 * that others may filter on (service, severity, level, responder, kind). Retry contract: the SDK
 * retries; a thrown error means "retry the step" (pages are at-least-once).
 *
 * An SMS published to a topic reaches the phone as `<DISPLAY NAME>> <message>` (SNS puts the
 * topic's display name, upper-cased, before it): the SMS is rendered with that prefix counted in,
 * so that the whole arrives as one SMS with its link whole.
 */
export class SnsPager implements Pager {
  readonly #topicArn: string;
  readonly #timeZone: string;
  readonly #smsPrefix: string;
  readonly #client: SNSClient;

  /** `displayName`: the topic's (none: SNS puts nothing before an SMS). */
  constructor(options: { topicArn: string; timeZone: string; displayName?: string; client?: SNSClient }) {
    this.#topicArn = options.topicArn;
    this.#timeZone = options.timeZone;
    this.#smsPrefix = options.displayName ? `${options.displayName.toUpperCase()}> ` : '';
    this.#client = options.client ?? defaultClient;
  }

  async send(page: Page): Promise<void> {
    const rendered = renderPage(page, { timeZone: this.#timeZone, smsPrefix: this.#smsPrefix });
    const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
    const attributes: Record<string, MessageAttributeValue> = {
      service: text(page.incident.service),
      severity: text(page.incident.severity),
      level: text(String(page.level ?? 0)),
      responder: text(page.responder.id),
      contact: text(page.contact.key),
      kind: text(page.kind),
    };
    if (page.contact.type === 'sms') attributes['AWS.SNS.SMS.SMSType'] = text('Transactional');
    await this.#client.send(
      new PublishCommand({
        TopicArn: this.#topicArn,
        Message:
          page.contact.type === 'email'
            ? rendered.email
            : page.contact.type === 'sms'
              ? rendered.sms
              : rendered.json,
        ...(page.contact.type === 'email' ? { Subject: rendered.subject } : {}),
        MessageAttributes: attributes,
      }),
    );
  }
}
