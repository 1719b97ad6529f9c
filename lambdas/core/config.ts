import * as z from 'zod/mini';
import { ServiceId, SOURCE_SEVERITIES } from './alert.ts';
import { WEEKDAYS } from './business-hours.ts';
import { ConfigError, ValidationError } from './errors.ts';
import { MAX_ACK_TIMEOUT_MINUTES } from './escalation.ts';
import { lazySchema } from './lazy.ts';
import { SEVERITIES } from './severity.ts';
import { fieldErrors } from './validation.ts';

/**
 * Klaxon's configuration: one typed, validated document read by the CDK stack (at synth time,
 * then bundled into the functions) and by the local runtime. Invalid config fails both with a
 * message naming the field.
 */

/**
 * Canonical zone names, which Intl.DateTimeFormat accepts by definition (ECMA-402), plus UTC.
 * Looking a name up here costs ~2 ms once; constructing the process's first Intl.DateTimeFormat
 * loads ICU's date-format data (~18 ms), which a function that never formats a date never needs.
 */
let canonicalZones: ReadonlySet<string> | undefined;

/** Whether Intl accepts `tz`: canonical names from the list, aliases (`Asia/Calcutta`) by trying. */
export function isTimeZone(tz: string): boolean {
  canonicalZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  if (canonicalZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const TimeZone = z.string().check(z.refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'));

/** Responder, schedule and policy ids share the service-id slug rules. */
const Id = ServiceId;

/** Local time of day, `HH:MM` (24 h). */
const TimeOfDay = z
  .string()
  .check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM (24 h)'));
/**
 * When business hours end: a time of day after their start (core/business-hours.ts counts within
 * one local day), so not 24:00, which people write for "until midnight".
 */
const EndOfDay = z.pipe(
  z.string().check(
    z.refine((t) => t !== '24:00', {
      message: 'cannot be 24:00: business hours end within their day, by 23:59 (nor cross midnight)',
      abort: true,
    }),
  ),
  TimeOfDay,
);
const LocalDate = z.iso.date();

export const ContactSchema = /* @__PURE__ */ lazySchema(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('email'), address: z.email() }),
    z.strictObject({
      type: z.literal('sms'),
      number: z
        .string()
        .check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +4915112345678')),
    }),
    z.strictObject({ type: z.literal('webhook'), url: z.url({ protocol: /^https$/ }) }),
  ]),
);

export const ResponderSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    id: Id,
    name: z.string().check(z.minLength(1), z.maxLength(255)),
    contacts: z.array(ContactSchema).check(z.minLength(1), z.maxLength(10)),
  }),
);

/**
 * A rotation hands over at `handoffTime` in the schedule's zone: every day (daily), every 7 days
 * (weekly), or every `shiftHours` of elapsed time (custom). `participants[0]` is on call from
 * `startDate` at `handoffTime`.
 */
export const RotationSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      type: z.enum(['daily', 'weekly', 'custom']),
      startDate: LocalDate,
      handoffTime: z._default(TimeOfDay, '09:00'),
      /** custom only: 1..8760 hours. */
      shiftHours: z.optional(z.int().check(z.gte(1), z.lte(8760))),
      participants: z.array(Id).check(z.minLength(1), z.maxLength(100)),
    })
    .check(
      z.refine((r) => (r.type === 'custom') === (r.shiftHours !== undefined), {
        message: 'shiftHours is required for custom rotations and only for them',
        path: ['shiftHours'],
      }),
    ),
);

export const ScheduleSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    id: Id,
    name: z.string().check(z.minLength(1), z.maxLength(255)),
    timeZone: TimeZone,
    /** Everyone on call in any rotation is on call for the schedule. */
    rotations: z.array(RotationSchema).check(z.minLength(1), z.maxLength(10)),
  }),
);

export const TargetSchema = /* @__PURE__ */ lazySchema(() =>
  z.union([z.strictObject({ responder: Id }), z.strictObject({ schedule: Id })]),
);

export const EscalationLevelSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    /** Minutes to wait for an acknowledgement before the next level (GoAlert's bounds). */
    delayMinutes: z.int().check(z.gte(1), z.lte(9000)),
    targets: z.array(TargetSchema).check(z.minLength(1), z.maxLength(20)),
  }),
);

export const EscalationPolicySchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    id: Id,
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
    levels: z.array(EscalationLevelSchema).check(z.minLength(1), z.maxLength(20)),
    /** How many more times the whole policy runs after its last level (GoAlert: 0..5). */
    repeat: z._default(z.int().check(z.gte(0), z.lte(5)), 0),
  }),
);

/**
 * When incidents of `severities` page (PRACTICE: a SEV-4's response is "business hours"): local
 * times in the config's `timeZone`, `from` to `to` on each of `days`. Outside them such an
 * incident's escalation waits, stopped, until the next start (see core/business-hours.ts).
 */
export const BusinessHoursSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      days: z._default(z.array(z.enum(WEEKDAYS)).check(z.minLength(1), z.maxLength(7)), [
        'Mon',
        'Tue',
        'Wed',
        'Thu',
        'Fri',
      ]),
      from: z._default(TimeOfDay, '09:00'),
      to: z._default(EndOfDay, '17:00'),
      severities: z._default(z.array(z.enum(SEVERITIES)).check(z.minLength(1), z.maxLength(4)), ['SEV-4']),
    })
    .check(
      z.superRefine((hours, ctx) => {
        if (hours.from >= hours.to)
          ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after from (${hours.from})` });
        hours.days.forEach((day, i) => {
          if (hours.days.indexOf(day) !== i)
            ctx.addIssue({ code: 'custom', path: ['days', i], message: `duplicate day "${day}"` });
        });
        hours.severities.forEach((sev, i) => {
          if (hours.severities.indexOf(sev) !== i)
            ctx.addIssue({ code: 'custom', path: ['severities', i], message: `duplicate severity "${sev}"` });
        });
      }),
    ),
);

export const ServiceConfigSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    id: ServiceId,
    name: z.string().check(z.minLength(1), z.maxLength(255)),
    description: z.optional(z.string().check(z.maxLength(1024))),
    runbookUrl: z.optional(z.url()),
    /** Who is paged. Without a policy, incidents open but nobody is paged. */
    escalationPolicy: z.optional(Id),
    /** Paged once when the policy is exhausted. */
    fallback: z.optional(TargetSchema),
    /** An acknowledged incident unresolved this long re-pages; 0 turns it off. */
    ackTimeoutMinutes: z._default(z.int().check(z.gte(0), z.lte(MAX_ACK_TIMEOUT_MINUTES)), 30),
    /**
     * A resolve first watches the service this long (the practice's "stable 15+ minutes"): a
     * re-trigger of the same key meanwhile reopens the incident. 0 resolves at once, as PagerDuty does.
     */
    resolveMonitoringMinutes: z._default(z.int().check(z.gte(0), z.lte(1440)), 15),
    /** How the senders' severities map to SEV-1..4 (default critical→1, error→2, warning→3, info→4). */
    severityMapping: z._default(z.partialRecord(z.enum(SOURCE_SEVERITIES), z.enum(SEVERITIES)), {}),
    /**
     * The escalation policy for incidents of a severity, when it is not the service's policy (e.g.
     * SEV-1 pages the whole team). Raising an incident's severity re-pages with the new policy.
     */
    severityPolicies: z._default(z.partialRecord(z.enum(SEVERITIES), Id), {}),
    /**
     * Availability objective, e.g. 99.9 (→ 43.8 minutes of SEV-1/SEV-2 downtime a month). When the
     * month's budget is used up, "Error Budget Exhausted" goes on the bus and `owners` are told once;
     * every incident of the service resolved after that in the month requires a postmortem.
     */
    slo: z.optional(
      z.strictObject({
        availability: z.number().check(z.gt(50), z.lt(100)),
        owners: z._default(z.array(Id).check(z.maxLength(20)), []),
      }),
    ),
    /** This service's own business hours, or `false` to page it around the clock; absent: the config's. */
    businessHours: z.optional(z.union([z.literal(false), BusinessHoursSchema])),
  }),
);

export const HeartbeatSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    id: Id,
    name: z.string().check(z.minLength(1), z.maxLength(255)),
    service: ServiceId,
    /** A ping is expected at least this often; a missed one opens an incident. */
    intervalMinutes: z.int().check(z.gte(1), z.lte(9000)),
  }),
);

/**
 * Which service a CloudWatch alarm belongs to. Rules are tried in order; the first that matches
 * wins; otherwise `defaultService`. A rule matches by alarm-name prefix, or by an alarm tag
 * (the event's `alarmTags`: CloudWatch puts them there only for an alarm with tag propagation
 * enabled, so a tag rule matches nothing otherwise; name prefixes always work).
 */
export const CloudWatchRuleSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      alarmNamePrefix: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
      tag: z.optional(
        z.strictObject({
          key: z.string().check(z.minLength(1), z.maxLength(128)),
          value: z.optional(z.string().check(z.maxLength(256))),
        }),
      ),
      service: ServiceId,
      severity: z._default(z.enum(SOURCE_SEVERITIES), 'critical'),
    })
    .check(
      z.refine((r) => r.alarmNamePrefix !== undefined || r.tag !== undefined, {
        message: 'a rule needs alarmNamePrefix or tag',
      }),
    ),
);

export const KlaxonConfigSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      /** Shown in logs, exports and stack names. */
      name: z._default(z.string().check(z.minLength(1), z.maxLength(64)), 'klaxon'),
      /** IANA time zone for day boundaries, rollups and rendered times. */
      timeZone: z._default(TimeZone, 'UTC'),
      /**
       * Base URL of the API for links in pages. In AWS the stack passes the API's URL; set this
       * for a custom domain. Locally the runtime's own URL.
       */
      publicUrl: z.optional(z.url()),
      services: z.array(ServiceConfigSchema).check(z.minLength(1)),
      responders: z._default(z.array(ResponderSchema), []),
      schedules: z._default(z.array(ScheduleSchema), []),
      escalationPolicies: z._default(z.array(EscalationPolicySchema), []),
      heartbeats: z._default(z.array(HeartbeatSchema), []),
      /** Absent: every severity pages around the clock. */
      businessHours: z.optional(BusinessHoursSchema),
      metrics: z._default(
        z.strictObject({
          /** Local time (in `timeZone`) the nightly rollup of the previous day runs. */
          rollupTime: z._default(TimeOfDay, '01:30'),
        }),
        { rollupTime: '01:30' },
      ),
      cloudwatch: z.optional(
        z.strictObject({
          defaultService: ServiceId,
          defaultSeverity: z._default(z.enum(SOURCE_SEVERITIES), 'critical'),
          rules: z._default(z.array(CloudWatchRuleSchema), []),
        }),
      ),
    })
    .check(
      z.superRefine((config, ctx) => {
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
        const unique = (list: readonly { id: string }[], field: string) => {
          const seen = new Set<string>();
          list.forEach((item, i) => {
            if (seen.has(item.id))
              ctx.addIssue({ code: 'custom', path: [field, i, 'id'], message: `duplicate id "${item.id}"` });
            seen.add(item.id);
          });
          return seen;
        };
        const responders = unique(config.responders, 'responders');
        const schedules = unique(config.schedules, 'schedules');
        const policies = unique(config.escalationPolicies, 'escalationPolicies');
        unique(config.heartbeats, 'heartbeats');
        const checkTarget = (target: z.output<typeof TargetSchema>, path: (string | number)[]) => {
          if ('responder' in target && !responders.has(target.responder)) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'responder'],
              message: `unknown responder "${target.responder}"`,
            });
          }
          if ('schedule' in target && !schedules.has(target.schedule)) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'schedule'],
              message: `unknown schedule "${target.schedule}"`,
            });
          }
        };
        config.schedules.forEach((schedule, s) => {
          schedule.rotations.forEach((rotation, r) => {
            rotation.participants.forEach((p, i) => {
              if (!responders.has(p)) {
                ctx.addIssue({
                  code: 'custom',
                  path: ['schedules', s, 'rotations', r, 'participants', i],
                  message: `unknown responder "${p}"`,
                });
              }
            });
          });
        });
        config.escalationPolicies.forEach((policy, p) => {
          policy.levels.forEach((level, l) => {
            level.targets.forEach((t, i) => {
              checkTarget(t, ['escalationPolicies', p, 'levels', l, 'targets', i]);
            });
          });
        });
        config.services.forEach((service, i) => {
          if (service.escalationPolicy !== undefined && !policies.has(service.escalationPolicy)) {
            ctx.addIssue({
              code: 'custom',
              path: ['services', i, 'escalationPolicy'],
              message: `unknown escalation policy "${service.escalationPolicy}"`,
            });
          }
          for (const [sev, policy] of Object.entries(service.severityPolicies)) {
            if (!policies.has(policy)) {
              ctx.addIssue({
                code: 'custom',
                path: ['services', i, 'severityPolicies', sev],
                message: `unknown escalation policy "${policy}"`,
              });
            }
          }
          if (service.fallback) checkTarget(service.fallback, ['services', i, 'fallback']);
          service.slo?.owners.forEach((owner, o) => {
            if (!responders.has(owner)) {
              ctx.addIssue({
                code: 'custom',
                path: ['services', i, 'slo', 'owners', o],
                message: `unknown responder "${owner}"`,
              });
            }
          });
        });
        config.heartbeats.forEach((h, i) => {
          if (!known(h.service))
            ctx.addIssue({
              code: 'custom',
              path: ['heartbeats', i, 'service'],
              message: `unknown service "${h.service}"`,
            });
        });
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
      }),
    ),
);

export type KlaxonConfig = z.output<typeof KlaxonConfigSchema>;
export type ServiceConfig = z.output<typeof ServiceConfigSchema>;
export type CloudWatchRule = z.output<typeof CloudWatchRuleSchema>;
export type Contact = z.output<typeof ContactSchema>;
export type Responder = z.output<typeof ResponderSchema>;
export type Rotation = z.output<typeof RotationSchema>;
export type Schedule = z.output<typeof ScheduleSchema>;
export type Target = z.output<typeof TargetSchema>;
export type EscalationLevel = z.output<typeof EscalationLevelSchema>;
export type EscalationPolicy = z.output<typeof EscalationPolicySchema>;
export type Heartbeat = z.output<typeof HeartbeatSchema>;
export type BusinessHours = z.output<typeof BusinessHoursSchema>;

/**
 * The configured service `id`, or a ValidationError naming `service`: an alert or a declaration
 * for a service the config does not have would open an incident that pages nobody.
 */
export function configuredService(config: Pick<KlaxonConfig, 'services'>, id: string): ServiceConfig {
  const service = config.services.find((s) => s.id === id);
  if (service === undefined)
    throw new ValidationError('unknown service', [
      { field: 'service', message: `no service "${id}" in the config` },
    ]);
  return service;
}

/**
 * Validates a parsed config document; throws ConfigError naming every bad field. `jitless`: a
 * process parses its config once, at cold start, where compiling zod's per-object fast paths
 * (`new Function`) costs more than the one parse they would speed up.
 *
 * Every object is strict: a misspelt field (`escalation_policy`, `handoff`) fails the file by its
 * path, with the known field it nearly matches, instead of being dropped — which left a service
 * paging nobody, or a rotation handing over at the default 09:00.
 */
export function parseConfig(input: unknown): KlaxonConfig {
  const nearMisses = new Map<string, string>();
  const result = KlaxonConfigSchema.safeParse(input, {
    jitless: true,
    // Not a message of its own (fieldErrors names each unknown key): where the object's schema
    // is at hand, note the known field each unknown key nearly matches.
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.inst instanceof z.ZodMiniObject) {
        const known = Object.keys(issue.inst.shape);
        for (const key of issue.keys) {
          const match = nearMiss(key, known);
          if (match !== undefined) nearMisses.set([...(issue.path ?? []), key].join('.'), match);
        }
      }
      return undefined;
    },
  });
  if (!result.success) {
    throw new ConfigError(
      fieldErrors(result.error).map((e) => {
        const match = nearMisses.get(e.field);
        return match === undefined ? e : { ...e, message: `${e.message}; did you mean ${match}?` };
      }),
    );
  }
  return result.data;
}

/**
 * The known key `key` was probably meant as: the same letters ignoring case, `_` and `-`
 * (`escalation_policy`), the start of one (`handoff`), or at most two typos (`adress`).
 */
function nearMiss(key: string, known: readonly string[]): string | undefined {
  const norm = (k: string) => k.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  return (
    known.find((c) => norm(c) === k) ??
    known.find((c) => k.length >= 4 && norm(c).startsWith(k)) ??
    known.find((c) => editDistance(norm(c), k) <= Math.min(2, Math.floor(k.length / 3)))
  );
}

/** Levenshtein distance: the fewest single-letter insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
