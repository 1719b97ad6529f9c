import type { CommandDeps } from '#app/command';
import type { LambdaEnv } from '#app/env';
import { AckLinks } from '#app/links';
import { systemClock } from '#app/ports';
import type { KlaxonConfig } from '#core/config';
import { DynamoDbActionItemStore } from './action-item-store.ts';
import { DynamoDbIncidentStore } from './dynamodb-store.ts';
import { EventBridgePublisher } from './eventbridge-bus.ts';
import { SchedulerTimers } from './scheduler-timers.ts';
import { readSecret } from './secret.ts';
import { SnsPager } from './sns-pager.ts';

/** The use cases' dependencies wired to AWS: one composition for all three functions. */
export function awsPipeline(env: LambdaEnv, config: KlaxonConfig, publicUrl: string): CommandDeps {
  return {
    store: new DynamoDbIncidentStore({ tableName: env.TABLE_NAME }),
    actionItems: new DynamoDbActionItemStore({ tableName: env.TABLE_NAME }),
    events: new EventBridgePublisher({ busName: env.EVENT_BUS_NAME }),
    timers: new SchedulerTimers({
      groupName: env.SCHEDULE_GROUP_NAME,
      targetArn: env.ESCALATE_FUNCTION_ARN,
      roleArn: env.SCHEDULER_ROLE_ARN,
      deadLetterArn: env.SCHEDULER_DLQ_ARN,
    }),
    pager: new SnsPager({
      topicArn: env.PAGES_TOPIC_ARN,
      timeZone: config.timeZone,
      ...(env.PAGES_TOPIC_DISPLAY_NAME === undefined ? {} : { displayName: env.PAGES_TOPIC_DISPLAY_NAME }),
    }),
    clock: systemClock,
    config,
    links: new AckLinks({
      publicUrl: config.publicUrl ?? publicUrl,
      secret: () => readSecret(env.ACK_SECRET_ARN),
    }),
  };
}
