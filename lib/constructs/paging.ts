import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Contact, Responder } from '#core/config';
import { type ContactEndpoint, contactEndpoints } from '#core/contacts';
import { ConfigError } from '#core/errors';
import { acknowledgeNag, acknowledgeNagOnGrantee } from '../nag.ts';

/** The AWS-managed key of SNS. */
export const SNS_MANAGED_KEY = 'alias/aws/sns';
/** SNS allows at most 150 values across one filter policy. */
const MAX_FILTER_VALUES = 150;
/** SNS's default quota of filter policies per topic (AWS Support can raise it). */
const DEFAULT_FILTER_POLICIES_PER_TOPIC = 200;

/**
 * How SNS delivers to webhook contacts. Its default sends `Content-Type: text/plain` (a receiver
 * that parses JSON by content type, such as express.json() or Flask's get_json(), saw no body) and
 * gives up after 3 retries 20 s apart, so a receiver restarting for a minute lost the page to the
 * DLQ. This: `application/json`, and 20 retries (one at once, two 5 s apart, 11 backing off
 * exponentially to 60 s, six 60 s apart): at least 6 minutes, at most 20 (20 × 60 s), within the
 * 3,600 s SNS allows an HTTP/S policy.
 */
const WEBHOOK_DELIVERY_POLICY: sns.DeliveryPolicy = {
  requestPolicy: { headerContentType: 'application/json' },
  healthyRetryPolicy: {
    numRetries: 20,
    numNoDelayRetries: 1,
    numMinDelayRetries: 2,
    numMaxDelayRetries: 6,
    minDelayTarget: Duration.seconds(5),
    maxDelayTarget: Duration.seconds(60),
    backoffFunction: sns.BackoffFunction.EXPONENTIAL,
  },
};

export interface PagingProps {
  /**
   * Everyone who can be paged: one subscription per contact (`email` → email, `sms` → sms,
   * `webhook` → https with raw message delivery as application/json, retried for minutes). An
   * empty list creates the topic without subscriptions.
   */
  readonly responders: readonly Responder[];
  /**
   * The key the topic is encrypted with.
   * @default the AWS-managed key `alias/aws/sns`
   */
  readonly masterKey?: kms.IKey;
  /**
   * The topic's display name: the sender of email pages (and, in some countries, of SMS).
   * @default 'Klaxon'
   */
  readonly displayName?: string;
  /**
   * How many filter policies SNS allows on the topic: each contact endpoint is one filtered
   * subscription, and the one past the quota fails `cdk deploy` (the stack rolls back), so more
   * endpoints than this fail synth instead. Set it only to a quota AWS has raised for the account.
   * @default 200, SNS's default quota
   */
  readonly filterPoliciesPerTopic?: number;
}

/**
 * The pages topic and who it reaches. Functions publish one message per contact with the message
 * attributes `service`, `severity`, `level`, `responder`, `contact` and `kind`; each subscription's
 * filter policy allows only its own `contact` key (`contactKey(responder, index)`), so a page reaches
 * exactly the contact it was published for. Deliveries that SNS gives up on land in
 * `deadLetterQueue` (stateful: the topic ARN is in every function's environment).
 *
 * Encryption: the AWS-managed `alias/aws/sns` key by default. Only Klaxon's own functions publish,
 * through IAM, which that key's policy already allows (kms:ViaService sns) — so no key cost and no
 * key policy to keep in step with the function roles. Its limit is that AWS services publishing
 * directly (CloudWatch alarms, EventBridge targets) cannot use it; pass a customer-managed key if
 * such a publisher is ever added.
 */
export class Paging extends Construct {
  readonly topic: sns.Topic;
  /** The topic's display name: SNS puts it before every SMS, so the functions render SMS with it. */
  readonly displayName: string;
  /** Pages SNS could not deliver (endpoint gone, throttled, client errors), for 14 days. */
  readonly deadLetterQueue: sqs.Queue;
  /** The subscription delivering each contact key's pages. */
  readonly subscriptions: Readonly<Record<string, sns.Subscription>>;

  constructor(scope: Construct, id: string, props: PagingProps) {
    super(scope, id);
    const endpoints = groupByEndpoint(props.responders);
    checkFilterPolicyQuota(
      endpoints.length,
      props.filterPoliciesPerTopic ?? DEFAULT_FILTER_POLICIES_PER_TOPIC,
    );
    const displayName = props.displayName ?? 'Klaxon';
    if (displayName.length < 1 || displayName.length > 100) {
      throw new Error(`Paging: displayName must be 1-100 characters, got ${displayName.length}`);
    }
    this.displayName = displayName;

    this.topic = new sns.Topic(this, 'Topic', {
      displayName,
      enforceSSL: true,
      ...(props.masterKey === undefined ? {} : { masterKey: props.masterKey }),
    });
    if (props.masterKey === undefined) {
      // The AWS-managed key, by its alias: there is no key to reference or grant on.
      (this.topic.node.defaultChild as sns.CfnTopic).kmsMasterKeyId = SNS_MANAGED_KEY;
    }
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of every pages-topic subscription (their RedrivePolicy): ' +
        'its depth is alarmed (PipelineMonitoring) and it keeps messages 14 days for inspection and ' +
        'replay. A dead-letter queue of its own would only move the same messages once more.',
    );

    const byKey: Record<string, sns.Subscription> = {};
    for (const { contact, keys } of endpoints) {
      const options = {
        // Message attributes (the default scope): pages are published per contact, attribute `contact`.
        filterPolicy: { contact: sns.SubscriptionFilter.stringFilter({ allowlist: keys }) },
        deadLetterQueue: this.deadLetterQueue,
      };
      const subscription = this.topic.addSubscription(subscriberOf(contact, options));
      (subscription.node.defaultChild as sns.CfnSubscription).filterPolicyScope = 'MessageAttributes';
      for (const key of keys) byKey[key] = subscription;
    }
    this.subscriptions = byKey;
  }

  /**
   * What the contact check reads (app/contacts.ts): the topic's subscriptions, and the account's
   * SMS opt-out list and sandbox. Nothing that changes them.
   */
  grantContactCheck(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:ListSubscriptionsByTopic'],
      resourceArns: [this.topic.topicArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'sns:CheckIfPhoneNumberIsOptedOut',
        'sns:GetSMSSandboxAccountStatus',
        'sns:ListSMSSandboxPhoneNumbers',
      ],
      resourceArns: ['*'],
    });
    acknowledgeNagOnGrantee(
      grantee,
      'AwsSolutions-IAM5[Resource::*]',
      'The contact check reads whether SMS numbers opted out and whether the account is in the SMS ' +
        'sandbox (sns:CheckIfPhoneNumberIsOptedOut, GetSMSSandboxAccountStatus, ListSMSSandboxPhoneNumbers): ' +
        'account-level reads that SNS does not scope to a resource, so "*" is the only resource they accept.',
    );
  }
}

/**
 * One entry per distinct endpoint (`contactEndpoints`, which the contact check matches against
 * SNS too), refusing what SNS or the topic could not take.
 */
function groupByEndpoint(responders: readonly Responder[]): ContactEndpoint[] {
  const ids = new Set<string>();
  for (const responder of responders) {
    if (ids.has(responder.id)) throw new Error(`Paging: duplicate responder id "${responder.id}"`);
    ids.add(responder.id);
  }
  const endpoints = contactEndpoints(responders);
  for (const { contact, keys } of endpoints) {
    if (contact.type === 'webhook' && !contact.url.startsWith('https://')) {
      throw new Error(`Paging: contact ${keys[0]}: webhook URLs must use https, got "${contact.url}"`);
    }
    if (keys.length > MAX_FILTER_VALUES) {
      throw new Error(`Paging: more than ${MAX_FILTER_VALUES} contacts share one endpoint (${keys[0]}, ...)`);
    }
  }
  return endpoints;
}

/**
 * One filtered subscription per endpoint: more than the topic's quota of filter policies would
 * pass synth and fail in CloudFormation on the first subscription past it.
 */
function checkFilterPolicyQuota(endpoints: number, quota: number): void {
  if (!Number.isInteger(quota) || quota < 1) {
    throw new Error(`Paging: filterPoliciesPerTopic must be a positive integer, got ${quota}`);
  }
  if (endpoints <= quota) return;
  throw new ConfigError([
    {
      field: 'responders',
      message:
        `${endpoints} contact endpoints need ${endpoints} filtered subscriptions on the pages topic; ` +
        `SNS allows ${quota} per topic, so \`cdk deploy\` would fail. List fewer contacts, or ask AWS ` +
        'Support to raise the quota of filter policies per topic and deploy with ' +
        '`-c filterPoliciesPerTopic=<the new quota>`',
    },
  ]);
}

function subscriberOf(contact: Contact, options: subscriptions.SubscriptionProps): sns.ITopicSubscription {
  switch (contact.type) {
    case 'email':
      return new subscriptions.EmailSubscription(contact.address, options);
    case 'sms':
      return new SmsSubscriptionWithDeadLetterQueue(contact.number, options);
    case 'webhook':
      // Raw delivery: the webhook receives the published JSON document itself, not SNS's envelope.
      return new subscriptions.UrlSubscription(contact.url, {
        ...options,
        protocol: sns.SubscriptionProtocol.HTTPS,
        rawMessageDelivery: true,
        deliveryPolicy: WEBHOOK_DELIVERY_POLICY,
      });
  }
}

/**
 * aws-cdk-lib's SmsSubscription accepts `deadLetterQueue` (SubscriptionProps) but leaves it out of
 * its bind result (2.276), so the subscription would get no redrive policy. This passes it on;
 * sns.Subscription then sets RedrivePolicy and lets the topic write to the queue.
 */
class SmsSubscriptionWithDeadLetterQueue extends subscriptions.SmsSubscription {
  readonly #deadLetterQueue: subscriptions.SubscriptionProps['deadLetterQueue'];

  constructor(phoneNumber: string, props: subscriptions.SmsSubscriptionProps) {
    super(phoneNumber, props);
    this.#deadLetterQueue = props.deadLetterQueue;
  }

  override bind(topic: sns.ITopic): sns.TopicSubscriptionConfig {
    const config = super.bind(topic);
    return config.deadLetterQueue !== undefined || this.#deadLetterQueue === undefined
      ? config
      : { ...config, deadLetterQueue: this.#deadLetterQueue };
  }
}
