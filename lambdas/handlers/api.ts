import type { Hono, MiddlewareHandler } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { JsonLogger } from '#adapters/aws/logger';
import { awsPipeline } from '#adapters/aws/pipeline';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { createApiApp } from '#http/api-app';
import { builtOnFirstRequest } from './on-first-request.ts';

const logger = new JsonLogger();
const env = parseLambdaEnv();
const config = bundledConfig();

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

function build(publicUrl: string) {
  const app: Hono = createApiApp({
    ...awsPipeline(env, config, publicUrl),
    apiAuth: iamAuth as MiddlewareHandler,
    log: (level, message, data) => logger[level](message, data ?? {}),
  });
  return handle(app);
}

export const handler = builtOnFirstRequest(env.PUBLIC_URL, build);
