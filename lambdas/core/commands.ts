import * as z from 'zod/mini';
import { ServiceId } from './alert.ts';
import { MAX_ACK_TIMEOUT_MINUTES } from './escalation.ts';
import { PEOPLE_ENTRY_TYPES, ROLES, type SingleRole } from './incident.ts';
import { lazySchema } from './lazy.ts';
import { ACTION_CATEGORIES } from './postmortem.ts';
import { SEVERITIES } from './severity.ts';

/**
 * The inputs of the incident-command use cases, as zod schemas: the HTTP API parses request
 * bodies with them, the OpenAPI document is generated from them, and the CLI builds them.
 */

/** A person: a responder id or any handle (`alice`, `alice@example.com`). */
export const Handle = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[\w.@-]{1,64}$/, 'must be a handle: letters, digits, . _ - @, at most 64')),
);

/**
 * An idempotency key for the creating commands: the same key again (a retried request) returns
 * what the first request created instead of creating it twice.
 */
export const IdempotencyKey = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[\w.:-]{1,128}$/, 'must be 1–128 letters, digits, . _ : -')),
);

export const ImpactSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    usersAffectedPercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
    revenuePerHour: z.optional(z.number().check(z.gte(0))),
    slaRisk: z.optional(z.enum(['yes', 'maybe', 'no'])),
  }),
);

export const CreateIncidentSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      service: ServiceId,
      title: z.string().check(z.trim(), z.minLength(1), z.maxLength(1024)),
      /** Give the severity, or the impact to classify it from (the most severe indication wins). */
      severity: z.optional(z.enum(SEVERITIES)),
      impact: z.optional(ImpactSchema),
      who: Handle,
      description: z.optional(z.string().check(z.maxLength(4000))),
      key: z.optional(IdempotencyKey),
    })
    .check(
      z.refine(
        (i) => i.severity !== undefined || (i.impact !== undefined && Object.keys(i.impact).length > 0),
        {
          message: 'give severity, or impact (usersAffectedPercent, revenuePerHour, slaRisk) to classify it',
          path: ['severity'],
        },
      ),
    ),
);

export const ActorSchema = /* @__PURE__ */ lazySchema(() => z.strictObject({ who: Handle }));

export const MitigateSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    who: Handle,
    note: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(4000))),
  }),
);

/**
 * Escalate now: the policy's next step runs at once. `from`, the escalation step the client saw
 * (the incident's `step`), makes it a compare-and-set: a request that finds the incident past it
 * is satisfied (a retry, or the step's timer came first) and changes nothing.
 */
export const EscalateSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({ who: Handle, from: z.optional(z.int().check(z.gte(0), z.lte(10_000))) }),
);

/**
 * Snooze an acknowledged incident: its acknowledgement lapses `minutes` from now (as long as an ack
 * timeout may be) instead of at the ack timeout. `from`, the snooze end the client saw (null: not
 * snoozed), makes it a compare-and-set; the same request again (who, minutes, from) is a retry.
 */
export const SnoozeSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    who: Handle,
    minutes: z.int().check(z.gte(1), z.lte(MAX_ACK_TIMEOUT_MINUTES)),
    from: z.optional(z.nullable(z.iso.datetime({ offset: true }))),
  }),
);

export const ResolveSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    who: Handle,
    /** Skip the monitoring period: resolved at once. */
    now: z._default(z.boolean(), false),
  }),
);

/**
 * The "set to X" commands (severity, role, handoff) carry no idempotency key: a retry cannot be
 * told from a new request. `from`, the value the client believes current, makes them a compare-
 * and-set: a request that finds X already set is a retry (`changed: false`); one that finds
 * neither X nor `from` comes late, after a change it did not see, and changes nothing (409).
 */
export const SeverityChangeSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    severity: z.enum(SEVERITIES),
    /** The severity the client believes current: refused (409) if it is another by then. */
    from: z.optional(z.enum(SEVERITIES)),
    reason: z.string().check(z.trim(), z.minLength(1), z.maxLength(1024)),
    who: Handle,
  }),
);

export const RoleAssignSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      role: z.enum(ROLES),
      /** Who takes the role. */
      person: Handle,
      /** Who the client believes holds the role (null: nobody): refused (409) if another does by then. */
      from: z.optional(z.nullable(Handle)),
      who: Handle,
    })
    .check(
      z.refine((r) => r.role !== 'sme' || r.from === undefined, {
        message: 'sme adds to a list: it takes no from',
        path: ['from'],
      }),
    ),
);

/**
 * Takes a role away (`DELETE …/roles/<role>`; the role is in the path). `from` is the compare-and-
 * set of the assignment: the holder the client believes it takes the role from (null: nobody).
 * An SME is taken off the list by name (`DELETE …/roles/sme/<person>`, body ActorSchema).
 */
export const RoleRemoveSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    /** Who the client believes holds the role (null: nobody): refused (409) if another does by then. */
    from: z.optional(z.nullable(Handle)),
    who: Handle,
  }),
);

/** The practice's IC handoff brief. */
export const BriefSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    status: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
    tried: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
    strategy: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
    people: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
    decisions: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
  }),
);

export const HandoffSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    /** The new incident commander. */
    to: Handle,
    /** The commander the client believes current (null: nobody): refused (409) if another is by then. */
    from: z.optional(z.nullable(Handle)),
    who: Handle,
    brief: BriefSchema,
  }),
);

export const TimelineNoteSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    type: z.enum(PEOPLE_ENTRY_TYPES),
    who: Handle,
    text: z.string().check(z.trim(), z.minLength(1), z.maxLength(4000)),
    key: z.optional(IdempotencyKey),
  }),
);

export const ChecklistTickSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({ who: Handle, done: z._default(z.boolean(), true) }),
);

const Deadline = /* @__PURE__ */ lazySchema(() => z.iso.date());

export const ActionItemCreateSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    action: z.string().check(z.trim(), z.minLength(1), z.maxLength(1024)),
    owner: Handle,
    deadline: Deadline,
    category: z.enum(ACTION_CATEGORIES),
    who: Handle,
    key: z.optional(IdempotencyKey),
  }),
);

export const ActionItemUpdateSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      status: z.optional(z.enum(['open', 'done'])),
      owner: z.optional(Handle),
      deadline: z.optional(Deadline),
      who: Handle,
    })
    .check(
      z.refine((u) => u.status !== undefined || u.owner !== undefined || u.deadline !== undefined, {
        message: 'give status, owner or deadline',
        path: ['status'],
      }),
    ),
);

export type CreateIncidentInput = z.output<typeof CreateIncidentSchema>;
export type SnoozeInput = z.output<typeof SnoozeSchema>;
export type SeverityChangeInput = z.output<typeof SeverityChangeSchema>;
export type RoleAssignInput = z.output<typeof RoleAssignSchema>;
/** A role taken away: a single role (with `from`, as RoleRemoveSchema), or one SME by name. */
export type RoleRemoveInput =
  | { readonly role: SingleRole; readonly from?: string | null; readonly who: string }
  | { readonly role: 'sme'; readonly person: string; readonly who: string };
export type HandoffInput = z.output<typeof HandoffSchema>;
export type Brief = z.output<typeof BriefSchema>;
export type TimelineNoteInput = z.output<typeof TimelineNoteSchema>;
export type ActionItemCreateInput = z.output<typeof ActionItemCreateSchema>;
export type ActionItemUpdateInput = z.output<typeof ActionItemUpdateSchema>;
