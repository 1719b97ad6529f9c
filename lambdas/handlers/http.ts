import { Logger } from '@aws-lambda-powertools/logger';
import type { Context as LambdaContext } from 'aws-lambda';
import type { Hono } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import { awsPipeline } from '#adapters/aws/pipeline';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { createIngestApp } from '#http/ingest-app';

const logger = new Logger();
const env = parseLambdaEnv();
const config = bundledConfig();

/**
 * The app is built on the first request: the function is the API's own integration, so it
 * learns the API's URL (for links in pages) from the request rather than from its environment.
 */
let lambdaHandler: ((event: LambdaEvent, context: LambdaContext) => Promise<unknown>) | undefined;

function build(publicUrl: string) {
  const app: Hono = createIngestApp({
    ...awsPipeline(env, config, publicUrl),
    bus: new EventBridgeAlertBus({ busName: env.EVENT_BUS_NAME }),
    log: (level, message, data) => logger[level](message, data ?? {}),
  });
  return handle(app);
}

export const handler = async (event: LambdaEvent, context: LambdaContext): Promise<unknown> => {
  const domain = (event.requestContext as { domainName?: string } | undefined)?.domainName;
  lambdaHandler ??= build(env.PUBLIC_URL ?? `https://${domain ?? 'localhost'}`);
  return lambdaHandler(event, context);
};
