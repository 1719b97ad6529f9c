import { type Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../nag.ts';

const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

export interface SchedulerTarget {
  readonly group: scheduler.CfnScheduleGroup;
  /** A Ref, so that what uses it deploys after the group. */
  readonly groupName: string;
  readonly groupArn: string;
  /** Where Scheduler puts an invocation whose retries all failed. */
  readonly dlq: sqs.Queue;
  /** The role Scheduler assumes: it may invoke only `functionArn` and send only to `dlq`. */
  readonly role: iam.Role;
}

/**
 * A schedule group whose schedules invoke one function: the group (child `Group`), its dead-letter
 * queue (`DeadLetterQueue`, encrypted, TLS only) and the role Scheduler assumes (`SchedulerRole`),
 * guarded against confused deputies (this account, this group). Used by the escalation timers and
 * the nightly rollup.
 */
export function schedulerTarget(
  scope: Construct,
  props: {
    readonly groupName: string;
    readonly functionArn: string;
    readonly retention: Duration;
    readonly roleDescription: string;
    /** Why the DLQ has no DLQ of its own (cdk-nag SQS3). */
    readonly deadLetterReason: string;
  },
): SchedulerTarget {
  const stack = Stack.of(scope);
  const group = new scheduler.CfnScheduleGroup(scope, 'Group', { name: props.groupName });
  const dlq = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: props.retention,
  });
  acknowledgeNag(dlq, 'AwsSolutions-SQS3', props.deadLetterReason);
  const role = new iam.Role(scope, 'SchedulerRole', {
    description: props.roleDescription,
    // Confused-deputy guard: only schedules of this account, in this group.
    assumedBy: new iam.ServicePrincipal(SCHEDULER_SERVICE, {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': group.attrArn },
      },
    }),
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.functionArn] }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [dlq.queueArn] }),
  );
  return { group, groupName: group.ref, groupArn: group.attrArn, dlq, role };
}
