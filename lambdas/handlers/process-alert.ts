import { Logger } from '@aws-lambda-powertools/logger';
import type { EventBridgeEvent } from 'aws-lambda';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { handleAlertEvent } from '#app/alert-event';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { systemClock } from '#app/ports';

const logger = new Logger();
const env = parseLambdaEnv();
const deps = {
  store: new DynamoDbIncidentStore({ tableName: env.TABLE_NAME }),
  clock: systemClock,
  config: bundledConfig(),
};

/** Target of the alert routes: one EventBridge event in, one incident change out. */
export const handler = async (event: EventBridgeEvent<string, unknown>): Promise<void> => {
  logger.appendKeys({ eventId: event.id });
  const outcome = await handleAlertEvent(event, deps);
  logger.info('alert processed', {
    outcome: outcome.kind,
    incidentId: outcome.kind === 'ignored' ? outcome.incident?.id : outcome.incident.id,
    ...(outcome.kind === 'ignored' ? { reason: outcome.reason } : {}),
  });
};
