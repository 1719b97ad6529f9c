import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { type KlaxonConfig, parseConfig } from '#core/config';
import { ConfigError } from '#core/errors';
import { isTopicArn } from './constructs/pipeline-monitoring.ts';
import { KlaxonStack } from './klaxon-stack.ts';

export const DEFAULT_CONFIG_FILE = 'klaxon.config.json';

/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** The stack names the escalate function `<name>-escalate`; Lambda allows 64 characters. */
const MAX_NAME_LENGTH = 64 - '-escalate'.length;

/**
 * Reads and validates a Klaxon config file. Throws ConfigError naming the bad field (or the file,
 * when it cannot be read or is not JSON).
 */
export function loadConfig(file: string): KlaxonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ field: '(file)', message: `cannot read ${file}: ${(error as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ field: '(file)', message: `${file} is not JSON: ${(error as Error).message}` }]);
  }
  const config = parseConfig(json);
  // The name becomes the stack name, which CloudFormation restricts further than the schema does.
  if (!STACK_NAME.test(config.name)) {
    throw new ConfigError([
      { field: 'name', message: 'must start with a letter and hold only letters, digits and hyphens' },
    ]);
  }
  if (config.name.length > MAX_NAME_LENGTH) {
    throw new ConfigError([
      {
        field: 'name',
        message: `must be at most ${MAX_NAME_LENGTH} characters (it names the "<name>-escalate" function)`,
      },
    ]);
  }
  return config;
}

/**
 * Builds the Klaxon app: the config file named by the `config` context value, else by
 * KLAXON_CONFIG (as `npm start` and the CLI read it), else klaxon.config.json — relative to the
 * working directory — validated, then one KlaxonStack named after it.
 * Other context values (`cdk deploy -c key=value`):
 * - `alarmTopicArn`: the SNS topic every dead-letter-queue alarm notifies (an ops channel outside
 *   Klaxon, which still hears when Klaxon itself is broken).
 * - `filterPoliciesPerTopic`: the account's SNS quota of filter policies per topic, when AWS has
 *   raised it from 200 (one per contact endpoint).
 * - `apiRateLimit`, `apiBurstLimit`: the API stage's throttle (default 100 requests a second, bursts
 *   of 200), shared by ingest, links and /api. Alertmanager does not retry a 429.
 */
export function buildKlaxonApp(app: App, env: NodeJS.ProcessEnv = process.env): KlaxonStack {
  const file = String(app.node.tryGetContext('config') ?? (env.KLAXON_CONFIG || DEFAULT_CONFIG_FILE));
  const config = loadConfig(path.resolve(file));
  const alarmTopicArn = topicArnContext(app, 'alarmTopicArn');
  const filterPoliciesPerTopic = positiveIntegerContext(app, 'filterPoliciesPerTopic');
  const rateLimit = positiveIntegerContext(app, 'apiRateLimit');
  const burstLimit = positiveIntegerContext(app, 'apiBurstLimit');
  // Environment-agnostic: no lookups, so `cdk synth` works without credentials.
  return new KlaxonStack(app, 'Klaxon', {
    stackName: config.name,
    config,
    api: {
      ...(rateLimit === undefined ? {} : { rateLimit }),
      ...(burstLimit === undefined ? {} : { burstLimit }),
    },
    ...(alarmTopicArn === undefined ? {} : { alarmTopicArn }),
    ...(filterPoliciesPerTopic === undefined ? {} : { filterPoliciesPerTopic }),
  });
}

/**
 * A context value that must be an SNS topic ARN. An empty one (`-c alarmTopicArn=$UNSET`) is
 * refused too: silently deploying without the alarm action is what the value was given to prevent.
 */
function topicArnContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const text = String(value);
  if (!isTopicArn(text)) {
    throw new ConfigError([
      {
        field: `${key} (context)`,
        message: `must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got "${text}"`,
      },
    ]);
  }
  return text;
}

/** A context value that must be a positive integer; `-c key=value` passes it as a string. */
function positiveIntegerContext(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[1-9]\d*$/.test(text)) {
    throw new ConfigError([
      { field: `${key} (context)`, message: `must be a positive integer, got "${text}"` },
    ]);
  }
  return Number(text);
}
