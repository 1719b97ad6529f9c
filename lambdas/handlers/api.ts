import { Logger } from '@aws-lambda-powertools/logger';
import type { Context as LambdaContext } from 'aws-lambda';
import type { Hono, MiddlewareHandler } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { awsPipeline } from '#adapters/aws/pipeline';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { createApiApp } from '#http/api-app';

const logger = new Logger();
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

/**
 * The management API (incidents, incident command, keys, maintenance, overrides, rollups) and its
 * OpenAPI document. Built on the first request, like the http function: pages it sends (a raised
 * severity re-pages) link to the API's own URL, learnt from the request.
 */
let lambdaHandler: ((event: LambdaEvent, context: LambdaContext) => Promise<unknown>) | undefined;

function build(publicUrl: string) {
  const app: Hono = createApiApp({
    ...awsPipeline(env, config, publicUrl),
    apiAuth: iamAuth as MiddlewareHandler,
    log: (level, message, data) => logger[level](message, data ?? {}),
  });
  return handle(app);
}

export const handler = async (event: LambdaEvent, context: LambdaContext): Promise<unknown> => {
  const domain = (event.requestContext as { domainName?: string } | undefined)?.domainName;
  lambdaHandler ??= build(env.PUBLIC_URL ?? `https://${domain ?? 'localhost'}`);
  return lambdaHandler(event, context);
};
