import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNagOnGrantee, nagReference } from '../nag.ts';
import { schedulerTarget } from './scheduler-target.ts';

const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

export interface EscalationTimersProps {
  /**
   * Unqualified ARN of the escalate function: the only thing schedules may invoke. A formatted ARN
   * (`Stack.formatArn` of a fixed function name) keeps the functions, whose environment holds this
   * construct's attributes, out of a dependency cycle.
   */
  readonly escalateFunctionArn: string;
  /**
   * Name of the schedule group (1-64 of [A-Za-z0-9_.-]).
   * @default `${stackName}-timers`
   */
  readonly groupName?: string;
  /**
   * How long the dead-letter queue keeps timers that Scheduler could not deliver (1 min..14 days).
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * Durable escalation timers on EventBridge Scheduler. The functions create one-off schedules at
 * runtime (CreateSchedule `at(...)`, FlexibleTimeWindow OFF, ActionAfterCompletion DELETE) in
 * `groupName`, targeting the escalate function with `role` and a DeadLetterConfig of `dlq`. This
 * construct holds what those calls need: the group (stateful: deleting it deletes pending
 * timers), the execution role Scheduler assumes, and the DLQ for timers it could not deliver.
 */
export class EscalationTimers extends Construct {
  readonly group: scheduler.CfnScheduleGroup;
  /** The schedule group's name (a reference, so users of it deploy after the group). */
  readonly groupName: string;
  readonly groupArn: string;
  /** Assumed by Scheduler: may only invoke the escalate function and write to `dlq`. */
  readonly role: iam.Role;
  /** Timers that Scheduler could not deliver to the escalate function after its retries. */
  readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: EscalationTimersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const groupName = props.groupName ?? `${stack.stackName}-timers`;
    const retention = props.deadLetterRetention ?? Duration.days(14);
    validate(props, groupName, retention);

    ({
      group: this.group,
      groupName: this.groupName,
      groupArn: this.groupArn,
      dlq: this.dlq,
      role: this.role,
    } = schedulerTarget(this, {
      groupName,
      functionArn: props.escalateFunctionArn,
      retention,
      roleDescription: 'Assumed by EventBridge Scheduler to fire Klaxon escalation timers',
      deadLetterReason:
        'This queue is the dead-letter queue of the escalation timers (the DeadLetterConfig the ' +
        'functions give every schedule they create): its depth is alarmed (PipelineMonitoring) and it ' +
        'keeps timers (deadLetterRetention) for inspection and replay. A dead-letter queue of its own ' +
        'would only move the same messages once more.',
    }));
  }

  /**
   * An `AWS/Scheduler` metric of this group's schedules (Sum over 5 minutes unless `props` say
   * otherwise): `InvocationAttemptCount`, `TargetErrorCount`, `InvocationDroppedCount`,
   * `InvocationsSentToDeadLetterCount`, `InvocationThrottleCount`, ...
   */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Scheduler',
      metricName,
      dimensionsMap: { ScheduleGroup: this.groupName },
      statistic: cloudwatch.Stats.SUM,
      ...props,
    });
  }

  /**
   * Lets `grantee` create, update, read and delete schedules in this group only, and pass the
   * execution role to Scheduler only.
   */
  grantManageSchedules(grantee: iam.IGrantable): iam.Grant {
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const manage = iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'scheduler:CreateSchedule',
        'scheduler:DeleteSchedule',
        'scheduler:UpdateSchedule',
        'scheduler:GetSchedule',
      ],
      resourceArns: [schedules],
    });
    acknowledgeNagOnGrantee(
      grantee,
      `AwsSolutions-IAM5[Resource::${nagReference(this, schedules)}]`,
      'Timers are one-off schedules the functions name at runtime after the incident, generation ' +
        'and step (esc-<id>-<g>-<s>, ackto-..., rem-...), so their ARNs cannot be listed in advance. ' +
        'The wildcard is confined to this group; the nightly schedule lives in another group, out of reach.',
    );
    const passRole = iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
    });
    return manage.combine(passRole);
  }
}

function validate(props: EscalationTimersProps, groupName: string, retention: Duration): void {
  const arn = props.escalateFunctionArn;
  if (!Token.isUnresolved(arn) && !/^arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[\w-]{1,64}$/.test(arn)) {
    throw new Error(
      `EscalationTimers: escalateFunctionArn "${arn}" is not an unqualified Lambda function ARN`,
    );
  }
  if (!Token.isUnresolved(groupName) && !/^[\w.-]{1,64}$/.test(groupName)) {
    throw new Error(`EscalationTimers: groupName "${groupName}" must be 1-64 of [A-Za-z0-9_.-]`);
  }
  if (groupName === 'default') throw new Error('EscalationTimers: groupName must not be "default"');
  if (!retention.isUnresolved()) {
    const seconds = retention.toSeconds();
    if (seconds < 60 || seconds > 1_209_600) {
      throw new Error(`EscalationTimers: deadLetterRetention must be 1 min..14 days, got ${seconds} s`);
    }
  }
}
