import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { Alert, AlertAction, SourceSeverity } from '#core/alert';
import type { KlaxonConfig } from '#core/config';
import { ConfigError } from '#core/errors';
import { lazySchema } from '#core/lazy';
import { CLOUDWATCH_CONFIG_DETAIL_TYPE, CLOUDWATCH_DETAIL_TYPE, CLOUDWATCH_SOURCE } from '#core/routing';
import { parseOrThrow } from '#core/validation';
import {
  descriptionOf,
  isPlainObject,
  MAX_SHORT,
  MAX_SUMMARY,
  nonBlank,
  optionalText,
  toIso,
  truncate,
  VendorTimestamp,
} from './shared.ts';

/**
 * EventBridge "CloudWatch Alarm State Change" events (source aws.cloudwatch), for metric,
 * metric-math, anomaly-detection and composite alarms.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 *
 * - ALARM → trigger, OK → resolve, INSUFFICIENT_DATA → record (kept on the timeline, pages nobody).
 * - dedupKey = the alarm ARN, so an alarm's ALARM and OK meet on one incident.
 * - eventKey = `cloudwatch:${event.id}`: EventBridge redelivers with the same id.
 * - service and severity from `config.cloudwatch` (see `routeCloudWatchAlarm`).
 * - occurredAt = detail.state.timestamp (CloudWatch writes `+0000`; normalized to UTC ISO).
 * - source = the first metric's dimensions (`InstanceId=i-0abc`), else `${account}/${region}`
 *   (composite alarms watch alarms, not resources); group = metric namespace, class = metric
 *   name, or "CompositeAlarm".
 * - Every partition's regions are accepted (`us-gov-west-1`, `cn-north-1`, `eusc-de-east-1`); the
 *   console link is partition-aware, and left out where the partition's console host is unknown.
 * - Composite alarms that CloudWatch reports with `actionsSuppressedBy` still trigger: the event
 *   does not tell whether the suppression will end in a page, and a missed page is worse than an
 *   extra one. The suppression is kept in details.state.
 */

/**
 * Region codes of every partition: `us-east-1`, `us-gov-west-1`, `cn-north-1`, and the European
 * Sovereign Cloud's `eusc-de-east-1` (a 4-letter prefix).
 */
export const AWS_REGION = /^[a-z]{2,8}(-[a-z]+)+-\d{1,3}$/;

const StateValue = /* @__PURE__ */ lazySchema(() =>
  z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA'], {
    error: (issue) =>
      issue.input === undefined ? 'value is required' : 'must be one of ALARM, OK, INSUFFICIENT_DATA',
  }),
);

// Loose objects: whatever else CloudWatch adds (suppression, thresholds) is kept for details.
const AlarmState = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    value: StateValue,
    reason: z.nullish(z.string()),
    reasonData: z.nullish(z.string()),
    timestamp: VendorTimestamp,
  }),
);

const Metric = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    id: z.nullish(z.string()),
    metricStat: z.nullish(
      z.looseObject({
        metric: z.nullish(
          z.looseObject({
            namespace: z.nullish(z.string()),
            name: z.nullish(z.string()),
            dimensions: z.nullish(z.record(z.string(), z.string())),
          }),
        ),
      }),
    ),
    expression: z.nullish(z.string()),
    label: z.nullish(z.string()),
    returnData: z.nullish(z.boolean()),
  }),
);

const Configuration = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    description: z.nullish(z.string()),
    /** Composite alarms only: `ALARM(a) OR ALARM(b)`. */
    alarmRule: z.nullish(z.string()),
    metrics: z.nullish(z.array(Metric)),
  }),
);

/** The EventBridge envelope of a CloudWatch alarm event of `detailType`; resources[0] is the alarm ARN. */
function envelope(detailType: string) {
  return {
    id: z.string().check(z.minLength(1), z.maxLength(255)),
    'detail-type': z.literal(detailType, { error: `must be "${detailType}"` }),
    source: z.literal(CLOUDWATCH_SOURCE, { error: `must be "${CLOUDWATCH_SOURCE}"` }),
    account: z.string().check(z.minLength(1)),
    time: VendorTimestamp,
    region: z.string().check(z.regex(AWS_REGION, 'must be an AWS region such as us-east-1')),
    resources: z.array(z.string().check(z.minLength(1))).check(z.minLength(1, 'must hold the alarm ARN')),
  };
}

export const CloudWatchAlarmEventSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    version: z.nullish(z.string()),
    ...envelope(CLOUDWATCH_DETAIL_TYPE),
    detail: z.object({
      alarmName: z.string().check(z.minLength(1), z.maxLength(MAX_SHORT)),
      state: AlarmState,
      previousState: z.nullish(z.looseObject({})),
      configuration: z.nullish(Configuration),
      /** Present when the alarm has tag propagation enabled. */
      alarmTags: z.optional(z.unknown()),
    }),
  }),
);

export type CloudWatchAlarmEvent = z.output<typeof CloudWatchAlarmEventSchema>;

/**
 * A "CloudWatch Alarm Configuration Change" event of a deleted alarm (the route passes only
 * `operation: delete`). Loose beyond what Klaxon reads: the alarm's name and ARN, and when.
 */
export const CloudWatchAlarmDeletionSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...envelope(CLOUDWATCH_CONFIG_DETAIL_TYPE),
    detail: z.looseObject({
      alarmName: z.string().check(z.minLength(1), z.maxLength(MAX_SHORT)),
      operation: z.literal('delete', { error: 'must be "delete": only deleted alarms are routed here' }),
    }),
  }),
);

export type CloudWatchAlarmDeletion = z.output<typeof CloudWatchAlarmDeletionSchema>;

export function parseCloudWatchAlarmDeletion(event: unknown): CloudWatchAlarmDeletion {
  return parseOrThrow(CloudWatchAlarmDeletionSchema, event, 'CloudWatch alarm deletion');
}

/**
 * The services an alarm's incident may be filed under, in the rules' order: a deletion carries
 * no tags, so each rule whose name prefix fits and that needs a tag may have been the one that
 * matched; the first that needs none always matches (the default service, if none does).
 */
export function cloudWatchServicesOf(alarmName: string, config: KlaxonConfig): string[] {
  const cw = config.cloudwatch;
  if (cw === undefined) return [];
  const candidates: string[] = [];
  for (const rule of cw.rules) {
    if (rule.alarmNamePrefix !== undefined && !alarmName.startsWith(rule.alarmNamePrefix)) continue;
    candidates.push(rule.service);
    if (rule.tag === undefined) return [...new Set(candidates)];
  }
  return [...new Set([...candidates, cw.defaultService])];
}

/**
 * A deleted alarm, as a `record` for the open incident of its key under `service`: CloudWatch
 * will send no OK for it, so the incident stays open until a person resolves it — the note says
 * so. It does not resolve the incident: a deletion says nothing of the problem (an alarm renamed
 * in a deploy is deleted while its resource still fails; one deleted by mistake or on purpose
 * must not close what it watched).
 */
export function cloudWatchDeletionToAlert(
  event: CloudWatchAlarmDeletion,
  config: KlaxonConfig,
  receivedAt: string,
  service: string,
): Alert {
  const { alarmName } = event.detail;
  const arn = event.resources[0] ?? '';
  return {
    eventKey: `cloudwatch:${event.id}`,
    service,
    dedupKey: dedupKeyOf(arn),
    action: 'record',
    summary: truncate(
      `CloudWatch alarm ${alarmName} was deleted: it will send no OK for this incident; resolve it by hand once the problem is over`,
      MAX_SUMMARY,
    ),
    source: truncate(`${event.account}/${event.region}`, MAX_SHORT),
    severity: routeCloudWatchAlarm(alarmName, config).severity,
    occurredAt: toIso(event.time),
    receivedAt,
    details: { alarmName, alarmArn: arn, account: event.account, region: event.region, operation: 'delete' },
    links: [],
    images: [],
    origin: 'cloudwatch',
  };
}

/** Validates an EventBridge event; throws ValidationError naming each bad field (`detail.state.value`). */
export function parseCloudWatchAlarmEvent(event: unknown): CloudWatchAlarmEvent {
  return parseOrThrow(CloudWatchAlarmEventSchema, event, 'CloudWatch alarm event');
}

const ACTIONS: Readonly<Record<CloudWatchAlarmEvent['detail']['state']['value'], AlertAction>> = {
  ALARM: 'trigger',
  OK: 'resolve',
  INSUFFICIENT_DATA: 'record',
};

/**
 * The service and severity of an alarm: the first `config.cloudwatch.rules` entry that matches,
 * else `defaultService` / `defaultSeverity`. A rule with both a name prefix and a tag needs both
 * to match. Tag rules only match when the alarm's tags are known.
 * Throws ConfigError when the config has no `cloudwatch` section: no alarm can be routed.
 */
export function routeCloudWatchAlarm(
  alarmName: string,
  config: KlaxonConfig,
  tags?: Readonly<Record<string, string>>,
): { service: string; severity: SourceSeverity } {
  const cw = config.cloudwatch;
  if (cw === undefined) {
    throw new ConfigError([
      {
        field: 'cloudwatch',
        message: 'CloudWatch routing is not configured: add a cloudwatch section with a defaultService',
      },
    ]);
  }
  const rule = cw.rules.find((r) => {
    if (r.alarmNamePrefix !== undefined && !alarmName.startsWith(r.alarmNamePrefix)) return false;
    if (r.tag !== undefined) {
      const value = tags?.[r.tag.key];
      if (value === undefined) return false;
      if (r.tag.value !== undefined && value !== r.tag.value) return false;
    }
    return true;
  });
  return rule === undefined
    ? { service: cw.defaultService, severity: cw.defaultSeverity }
    : { service: rule.service, severity: rule.severity };
}

/**
 * The console host of each partition whose host is known. Left out on purpose: the European
 * Sovereign Cloud (`aws-eusc`), whose console host AWS's documentation did not confirm when this
 * was written, and the isolated partitions (`aws-iso*`): their alarms get no console link rather
 * than a link that leads nowhere.
 */
const CONSOLE_HOSTS: Readonly<Record<string, (region: string) => string>> = {
  aws: (region) => `${region}.console.aws.amazon.com`,
  'aws-cn': () => 'console.amazonaws.cn',
  'aws-us-gov': () => 'console.amazonaws-us-gov.com',
};

/** The partition of an ARN (`arn:aws-cn:…` → `aws-cn`), else the one a region code belongs to. */
export function partitionOf(region: string, arn?: string): string {
  const fromArn = /^arn:([a-z-]+):/.exec(arn ?? '')?.[1];
  if (fromArn !== undefined) return fromArn;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  if (/^[a-z]{2}-iso[a-z]*-/.test(region)) return 'aws-iso';
  return 'aws';
}

/**
 * The alarm's console page in its partition's console (China and GovCloud have their own hosts),
 * or undefined for a partition whose console host Klaxon does not know.
 */
export function alarmConsoleUrl(region: string, alarmName: string, arn?: string): string | undefined {
  const host = CONSOLE_HOSTS[partitionOf(region, arn)];
  if (host === undefined) return undefined;
  const fragment = `#alarmsV2:alarm/${encodeURIComponent(alarmName)}`;
  return `https://${host(region)}/cloudwatch/home?region=${region}${fragment}`;
}

/** Alarm ARNs are at most ~310 characters; dedup keys at most 255. Long ones keep a readable prefix and a hash. */
function dedupKeyOf(arn: string): string {
  if (arn.length <= 255) return arn;
  return `${arn.slice(0, 190)}#${createHash('sha256').update(arn).digest('hex')}`;
}

/** Tags from the event's `alarmTags` (tag propagation), when they are a string map. */
function tagsOf(alarmTags: unknown): Record<string, string> | undefined {
  if (!isPlainObject(alarmTags)) return undefined;
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(alarmTags)) if (typeof value === 'string') tags[key] = value;
  return tags;
}

/** ARNs of the child alarms that moved a composite alarm (from state.reasonData). */
function triggeringAlarms(reasonData: string | null | undefined): string[] | undefined {
  if (reasonData === null || reasonData === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(reasonData);
    if (!isPlainObject(data) || !Array.isArray(data.triggeringAlarms)) return undefined;
    return data.triggeringAlarms.flatMap((t: unknown) =>
      isPlainObject(t) && typeof t.arn === 'string' ? [t.arn] : [],
    );
  } catch {
    return undefined;
  }
}

type MetricEntry = z.output<typeof Metric>;

/** The metric an alarm is about: the first returned one that is a plain metric, else any plain metric. */
function primaryMetric(metrics: readonly MetricEntry[]): MetricEntry | undefined {
  const plain = metrics.filter((m) => m.metricStat?.metric);
  return plain.find((m) => m.returnData === true) ?? plain[0];
}

/**
 * Normalizes one validated alarm event. `tags` are the alarm's tags when the caller looked them
 * up; otherwise the event's own `alarmTags` are used when CloudWatch propagated them.
 */
export function cloudWatchToAlert(
  event: CloudWatchAlarmEvent,
  config: KlaxonConfig,
  receivedAt: string,
  tags?: Record<string, string>,
): Alert {
  const { detail } = event;
  const alarmTags = tags ?? tagsOf(detail.alarmTags);
  const { service, severity } = routeCloudWatchAlarm(detail.alarmName, config, alarmTags);
  const arn = event.resources[0] ?? '';
  const configuration = detail.configuration ?? undefined;
  const composite = nonBlank(configuration?.alarmRule) !== undefined;
  const metric = primaryMetric(configuration?.metrics ?? [])?.metricStat?.metric ?? undefined;
  const dimensions = Object.entries(metric?.dimensions ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  const reason = nonBlank(detail.state.reason) ?? detail.state.value;
  const triggering = composite ? triggeringAlarms(detail.state.reasonData) : undefined;
  const consoleUrl = alarmConsoleUrl(event.region, detail.alarmName, arn);

  return {
    eventKey: `cloudwatch:${event.id}`,
    service,
    dedupKey: dedupKeyOf(arn),
    action: ACTIONS[detail.state.value],
    summary: truncate(`${detail.alarmName}: ${reason}`, MAX_SUMMARY),
    source: truncate(dimensions || `${event.account}/${event.region}`, MAX_SHORT),
    severity,
    occurredAt: toIso(detail.state.timestamp),
    receivedAt,
    group: composite ? undefined : optionalText(metric?.namespace, MAX_SHORT),
    class: composite ? 'CompositeAlarm' : optionalText(metric?.name, MAX_SHORT),
    description: descriptionOf(configuration?.description),
    details: {
      alarmName: detail.alarmName,
      alarmArn: arn,
      account: event.account,
      region: event.region,
      description: configuration?.description ?? null,
      state: detail.state,
      previousState: detail.previousState ?? null,
      configuration: configuration ?? null,
      ...(triggering === undefined ? {} : { triggeringAlarms: triggering }),
      ...(alarmTags === undefined ? {} : { tags: alarmTags }),
    },
    links: consoleUrl === undefined ? [] : [{ href: consoleUrl, text: 'CloudWatch alarm' }],
    images: [],
    origin: 'cloudwatch',
  };
}
