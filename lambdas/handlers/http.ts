import { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareHandler } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { EventBridgeAlertBus } from '#adapters/aws/eventbridge-bus';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { systemClock } from '#app/ports';
import { createHttpApp } from '#http/app';

const logger = new Logger();
const env = parseLambdaEnv();

/**
 * /api/* routes sit behind API Gateway's IAM authorizer; this checks, as defence in depth, that
 * the request really came through it with a signed identity.
 */
const iamAuth: MiddlewareHandler<{ Bindings: { event: LambdaEvent } }> = async (c, next) => {
  const context = c.env?.event?.requestContext as { authorizer?: { iam?: { userArn?: string } } } | undefined;
  if (!context?.authorizer?.iam?.userArn)
    return c.json({ message: 'IAM authentication required', errors: [] }, 401);
  await next();
};

const app = createHttpApp({
  store: new DynamoDbIncidentStore({ tableName: env.TABLE_NAME }),
  bus: new EventBridgeAlertBus({ busName: env.EVENT_BUS_NAME }),
  clock: systemClock,
  services: bundledConfig().services.map((s) => s.id),
  apiAuth: iamAuth as MiddlewareHandler,
  log: (level, message, data) => logger[level](message, data ?? {}),
});

export const handler = handle(app);
