import * as z from 'zod/mini';
import { PowertoolsMetricsPublisher } from '#adapters/aws/cloudwatch-metrics';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-bus';
import { JsonLogger } from '#adapters/aws/logger';
import { awsPipeline } from '#adapters/aws/pipeline';
import { S3ExportSink } from '#adapters/aws/s3-export-sink';
import { SnsContactDirectory } from '#adapters/aws/sns-contact-directory';
import { type ContactCheckResult, checkContacts } from '#app/contacts';
import { bundledConfig, parseLambdaEnv } from '#app/env';
import { type RollupResult, runNightlyRollup, runRollups } from '#app/rollup';
import { ConfigError, ValidationError } from '#core/errors';
import { lazySchema } from '#core/lazy';
import { daysBetween, previousDay } from '#core/metrics';
import { parseOrThrow } from '#core/validation';

const logger = new JsonLogger();
const env = parseLambdaEnv();
if (!env.PUBLIC_URL || !env.EXPORT_BUCKET) {
  throw new ConfigError(
    [{ field: 'env.EXPORT_BUCKET', message: 'PUBLIC_URL and EXPORT_BUCKET are required for rollup' }],
    'environment',
  );
}
const config = bundledConfig();
const pipeline = awsPipeline(env, config, env.PUBLIC_URL);
const deps = {
  ...pipeline,
  sink: new S3ExportSink({ bucket: env.EXPORT_BUCKET }),
  exportPrefix: env.EXPORT_PREFIX,
  events: new EventBridgePublisher({ busName: env.EVENT_BUS_NAME }),
  metrics: new PowertoolsMetricsPublisher(),
};
const contactCheck = {
  ...deps,
  directory: new SnsContactDirectory({ topicArn: env.PAGES_TOPIC_ARN }),
  warn: (message: string, data: Record<string, unknown>) => logger.warn(message, data),
};

const Day = /* @__PURE__ */ lazySchema(() => z.iso.date());
/**
 * The nightly schedule sends `{"scheduledTime": "<aws.scheduler.scheduled-time>"}` (a retry carries
 * the same time, so it rolls up the same day, re-rolling the recent days that changed:
 * runNightlyRollup); an operator may invoke it with `{"day"}` or `{"from","to"}` (from ≤ to) to
 * backfill.
 */
const RollupEvent = /* @__PURE__ */ lazySchema(() =>
  z.union([
    z.object({ scheduledTime: z.iso.datetime({ offset: true }) }),
    z.object({ day: Day }),
    z.object({ from: Day, to: Day }),
  ]),
);

/**
 * The hourly contact check's schedule sends `{"check": "contacts", "scheduledTime": …}` (the
 * same time in a retry, so its events keep their ids); by hand `{"check": "contacts"}` checks as
 * of now. Any event with `check` is one of these, strictly: a misspelt check is refused by name
 * rather than taken for a nightly rollup.
 */
const ContactCheckEvent = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    check: z.literal('contacts'),
    scheduledTime: z.optional(z.iso.datetime({ offset: true })),
  }),
);

export const handler = async (
  event: unknown,
): Promise<{ days: string[] } | Omit<ContactCheckResult, 'problems'>> => {
  if (typeof event === 'object' && event !== null && 'check' in event) {
    const check = parseOrThrow(ContactCheckEvent, event, 'contact check event');
    const { problems, ...result } = await checkContacts(
      contactCheck,
      check.scheduledTime === undefined ? undefined : new Date(check.scheduledTime),
    );
    logger.info('contacts checked', { ...result });
    return result;
  }
  const input = parseOrThrow(RollupEvent, event, 'rollup event');
  // A reversed range would roll up no day at all and still report success.
  if ('from' in input && input.from > input.to) {
    throw new ValidationError('invalid rollup event: from, to (from is after to)', [
      { field: 'from', message: `must not be after to (${input.to})` },
      { field: 'to', message: `must not be before from (${input.from})` },
    ]);
  }
  const log = (done: number, total: number, result: RollupResult) =>
    logger.info('day rolled up', {
      day: result.day,
      done,
      total,
      incidents: result.incidents,
      itemsRead: result.itemsRead,
    });
  if ('scheduledTime' in input) {
    // The nightly run: the previous day, after re-rolling the recent days that changed since.
    const results = await runNightlyRollup(previousDay(new Date(input.scheduledTime), config.timeZone), deps);
    for (const [i, result] of results.entries()) log(i + 1, results.length, result);
    return { days: results.map((r) => r.day) };
  }
  const days = 'day' in input ? [input.day] : daysBetween(input.from, input.to);
  await runRollups(days, deps, log);
  return { days };
};
