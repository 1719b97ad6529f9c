import { z } from 'zod';
import { ServiceId, SOURCE_SEVERITIES } from './alert.ts';
import { ConfigError } from './errors.ts';
import { fieldErrors } from './validation.ts';

/**
 * Klaxon's configuration: one typed, validated document read by the CDK stack (at synth time,
 * then bundled into the functions) and by the local runtime. Invalid config fails both with a
 * message naming the field.
 */

const TimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Berlin');

export const ServiceConfigSchema = z.object({
  id: ServiceId,
  name: z.string().min(1).max(255),
  description: z.string().max(1024).optional(),
  runbookUrl: z.url().optional(),
});

/**
 * Which service a CloudWatch alarm belongs to. Rules are tried in order; the first that matches
 * wins; otherwise `defaultService`. A rule matches by alarm-name prefix, or by an alarm tag
 * (CloudWatch puts no tags in the event, so tag rules match the `klaxon:service` style tags only
 * when the alarm's tags are supplied, e.g. by a lookup; name prefixes always work).
 */
export const CloudWatchRuleSchema = z
  .object({
    alarmNamePrefix: z.string().min(1).max(255).optional(),
    tag: z.object({ key: z.string().min(1).max(128), value: z.string().max(256).optional() }).optional(),
    service: ServiceId,
    severity: z.enum(SOURCE_SEVERITIES).default('critical'),
  })
  .refine((r) => r.alarmNamePrefix !== undefined || r.tag !== undefined, {
    message: 'a rule needs alarmNamePrefix or tag',
  });

export const KlaxonConfigSchema = z
  .object({
    /** Shown in logs, exports and stack names. */
    name: z.string().min(1).max(64).default('klaxon'),
    /** IANA time zone for day boundaries, rollups and rendered times. */
    timeZone: TimeZone.default('UTC'),
    services: z.array(ServiceConfigSchema).min(1),
    cloudwatch: z
      .object({
        defaultService: ServiceId,
        defaultSeverity: z.enum(SOURCE_SEVERITIES).default('critical'),
        rules: z.array(CloudWatchRuleSchema).default([]),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    config.services.forEach((s, i) => {
      if (ids.has(s.id))
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'id'],
          message: `duplicate service id "${s.id}"`,
        });
      ids.add(s.id);
    });
    const known = (id: string) => ids.has(id);
    if (config.cloudwatch) {
      if (!known(config.cloudwatch.defaultService)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cloudwatch', 'defaultService'],
          message: `unknown service "${config.cloudwatch.defaultService}"`,
        });
      }
      config.cloudwatch.rules.forEach((r, i) => {
        if (!known(r.service)) {
          ctx.addIssue({
            code: 'custom',
            path: ['cloudwatch', 'rules', i, 'service'],
            message: `unknown service "${r.service}"`,
          });
        }
      });
    }
  });

export type KlaxonConfig = z.output<typeof KlaxonConfigSchema>;
export type ServiceConfig = z.output<typeof ServiceConfigSchema>;
export type CloudWatchRule = z.output<typeof CloudWatchRuleSchema>;

/** Validates a parsed config document; throws ConfigError naming every bad field. */
export function parseConfig(input: unknown): KlaxonConfig {
  const result = KlaxonConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(fieldErrors(result.error));
  return result.data;
}
