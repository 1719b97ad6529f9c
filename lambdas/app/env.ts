import { gunzipSync } from 'node:zlib';
import * as z from 'zod';
import type { KlaxonConfig } from '#core/config';
import { ConfigError } from '#core/errors';
import { fieldErrors } from '#core/validation';

/**
 * The Lambda environment: one schema, parsed once at cold start; a missing variable fails fast
 * with its name.
 */
const LambdaEnvSchema = z.object({
  TABLE_NAME: z.string().min(1),
  EVENT_BUS_NAME: z.string().min(1),
  PAGES_TOPIC_ARN: z.string().startsWith('arn:'),
  SCHEDULE_GROUP_NAME: z.string().min(1),
  SCHEDULER_ROLE_ARN: z.string().startsWith('arn:'),
  SCHEDULER_DLQ_ARN: z.string().startsWith('arn:'),
  ESCALATE_FUNCTION_ARN: z.string().startsWith('arn:'),
  ACK_SECRET_ARN: z.string().startsWith('arn:'),
  /** Absent for the http function, which learns its URL from the request. */
  PUBLIC_URL: z.url().optional(),
  /** The rollup function's analyst exports. */
  EXPORT_BUCKET: z.string().min(1).optional(),
  EXPORT_PREFIX: z.string().default(''),
});

export type LambdaEnv = z.output<typeof LambdaEnvSchema>;

export function parseLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const result = LambdaEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(fieldErrors(result.error, 'env'));
  return result.data;
}

/**
 * The config the stack was synthesized from. The CDK bundling step replaces
 * `process.env.KLAXON_CONFIG_JSON` with the config `cdk synth` validated — parseConfig's output,
 * defaults applied — as a string literal in the code, so the function reads exactly that and does
 * not validate it again at every cold start (building and running the config schema was the
 * largest part of Klaxon's own start-up time).
 */
export function bundledConfig(): KlaxonConfig {
  const json = process.env.KLAXON_CONFIG_JSON;
  if (json === undefined)
    throw new ConfigError([{ field: 'KLAXON_CONFIG_JSON', message: 'not bundled into this function' }]);
  return JSON.parse(json) as KlaxonConfig;
}

let openApi: string | undefined;

/**
 * The OpenAPI document (JSON text) bundled into the http function (lib/bundling.ts), unzipped on
 * first use and kept.
 */
export function bundledOpenApi(): string {
  const gz = process.env.KLAXON_OPENAPI_GZ;
  if (gz === undefined)
    throw new ConfigError([{ field: 'KLAXON_OPENAPI_GZ', message: 'not bundled into this function' }]);
  openApi ??= gunzipSync(Buffer.from(gz, 'base64')).toString('utf8');
  return openApi;
}
