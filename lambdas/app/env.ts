import { gunzipSync } from 'node:zlib';
import type { KlaxonConfig } from '#core/config';
import { ConfigError, type FieldError } from '#core/errors';

/** What a variable of the Lambda environment must hold. */
type EnvRule = 'text' | 'arn' | 'url';

/**
 * The Lambda environment: one table of variables, checked once at cold start; a missing or
 * malformed variable fails fast with its name. Checked by hand rather than by a zod schema: it
 * runs in every cold start, where building and running the schema cost ~3 ms.
 */
const REQUIRED = {
  TABLE_NAME: 'text',
  EVENT_BUS_NAME: 'text',
  PAGES_TOPIC_ARN: 'arn',
  SCHEDULE_GROUP_NAME: 'text',
  SCHEDULER_ROLE_ARN: 'arn',
  SCHEDULER_DLQ_ARN: 'arn',
  ESCALATE_FUNCTION_ARN: 'arn',
  ACK_SECRET_ARN: 'arn',
} as const satisfies Record<string, EnvRule>;

const OPTIONAL = {
  /** Absent for the http function, which learns its URL from the request. */
  PUBLIC_URL: 'url',
  /** The rollup function's analyst exports. */
  EXPORT_BUCKET: 'text',
  /** The pages topic's display name, which SNS puts before every SMS (`KLAXON> `). */
  PAGES_TOPIC_DISPLAY_NAME: 'text',
} as const satisfies Record<string, EnvRule>;

export type LambdaEnv = { readonly [K in keyof typeof REQUIRED]: string } & {
  readonly [K in keyof typeof OPTIONAL]?: string;
} & { readonly EXPORT_PREFIX: string };

export function parseLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const errors: FieldError[] = [];
  const out: Record<string, string> = {};
  const check = (name: string, rule: EnvRule, required: boolean) => {
    const value = env[name];
    if (value === undefined || (value === '' && !required)) {
      if (required) errors.push({ field: `env.${name}`, message: 'required' });
      return;
    }
    const problem = envProblem(value, rule);
    if (problem) errors.push({ field: `env.${name}`, message: problem });
    else out[name] = value;
  };
  for (const [name, rule] of Object.entries(REQUIRED)) check(name, rule, true);
  for (const [name, rule] of Object.entries(OPTIONAL)) check(name, rule, false);
  if (errors.length > 0) throw new ConfigError(errors, 'environment');
  return { ...out, EXPORT_PREFIX: env.EXPORT_PREFIX ?? '' } as LambdaEnv;
}

function envProblem(value: string, rule: EnvRule): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (rule === 'arn' && !value.startsWith('arn:')) return 'must be an ARN (arn:...)';
  if (rule === 'url' && !/^https?:\/\//.test(value)) return 'must be an http(s) URL';
  if (rule === 'url' && !URL.canParse(value)) return 'must be a valid URL';
  return undefined;
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
