import { JsonLogger } from '#adapters/aws/logger';
import { awsPipeline } from '#adapters/aws/pipeline';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { handleTimerEvent } from '#app/timers';
import { ConfigError } from '#core/errors';

const logger = new JsonLogger();
const env = parseLambdaEnv();
if (!env.PUBLIC_URL)
  throw new ConfigError([{ field: 'env.PUBLIC_URL', message: 'required for escalate' }], 'environment');
const deps = awsPipeline(env, bundledConfig(), env.PUBLIC_URL);

/**
 * Target of every EventBridge Scheduler timer: the event is the schedule's Input (a TimerEvent).
 * Scheduler invokes asynchronously; a thrown error is retried, then dead-lettered.
 */
export const handler = async (event: unknown): Promise<void> => {
  const outcome = await handleTimerEvent(event, deps);
  logger.info('timer handled', { outcome, event: event as Record<string, unknown> });
};
