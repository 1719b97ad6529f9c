import type { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import { JsonLogger } from '#adapters/aws/logger';
import { awsPipeline } from '#adapters/aws/pipeline';
import { bundledConfig, bundledOpenApi, parseLambdaEnv } from '#app/env';
import { createIngestApp } from '#http/ingest-app';
import { builtOnFirstRequest } from './on-first-request.ts';

const logger = new JsonLogger();
const env = parseLambdaEnv();
const config = bundledConfig();

function build(publicUrl: string) {
  const app: Hono = createIngestApp({
    ...awsPipeline(env, config, publicUrl),
    bus: new EventBridgeAlertBus({ busName: env.EVENT_BUS_NAME }),
    log: (level, message, data) => logger[level](message, data ?? {}),
    openApi: bundledOpenApi,
  });
  return handle(app);
}

export const handler = builtOnFirstRequest(env.PUBLIC_URL, build);
