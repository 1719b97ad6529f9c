import type { EventBridgeEvent } from 'aws-lambda';
import { JsonLogger } from '#adapters/aws/logger';
import { awsPipeline } from '#adapters/aws/pipeline';
import { handleAlertEvent } from '#app/alert-event';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { ConfigError } from '#core/errors';

const logger = new JsonLogger();
const env = parseLambdaEnv();
if (!env.PUBLIC_URL)
  throw new ConfigError([{ field: 'env.PUBLIC_URL', message: 'required for process-alert' }], 'environment');
const deps = awsPipeline(env, bundledConfig(), env.PUBLIC_URL);

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
