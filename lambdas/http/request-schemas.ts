import * as z from 'zod/mini';
import { IsoDateTime, ServiceId } from '#core/alert';
import { Handle } from '#core/commands';
import { INCIDENT_STATUSES, SINGLE_ROLES } from '#core/incident';
import { built, lazySchema } from '#core/lazy';
import { ScheduleOverrideSchema } from '#core/oncall';
import { POSTMORTEM_TEMPLATES } from '#core/postmortem';

/**
 * The request schemas of the routes that are not use-case inputs (query strings, small bodies —
 * the use cases' own are in core/commands.ts). A module of their own so that a function that
 * parses them does not bundle the OpenAPI document (openapi.ts) and zod's JSON Schema converter.
 *
 * Every one is strict, as the command schemas are: a misspelt field or query parameter is a 400
 * naming it, never dropped — `frm` for `from` would start a maintenance window at once, `replace`
 * for `replaces` make an override cover everyone, `templat` answer the default template.
 */

export const ListIncidentsQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    status: z.optional(z.enum(INCIDENT_STATUSES)),
    service: z.optional(ServiceId),
    limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  }),
);

export const PostmortemQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    template: z._default(z.enum(POSTMORTEM_TEMPLATES), 'default'),
    /** Comma-separated. */
    authors: z.optional(z.string().check(z.maxLength(1000))),
  }),
);

export const ActionItemsQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({ status: z.optional(z.enum(['open', 'done'])) }),
);

export const ExcludeBody = /* @__PURE__ */ lazySchema(() => z.strictObject({ excluded: z.boolean() }));

export const CreateIntegration = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    service: ServiceId,
    name: z.string().check(z.minLength(1), z.maxLength(255)),
  }),
);

export const CreateMaintenance = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    from: z.optional(z.iso.datetime({ offset: true })),
    to: z.iso.datetime({ offset: true }),
    reason: z.optional(z.string().check(z.maxLength(1024))),
  }),
);

/** The body of an override: the route adds the id and the schedule, then parses the whole. */
export const OverrideBody = /* @__PURE__ */ lazySchema(() =>
  z.omit(z.strictObject(built(ScheduleOverrideSchema).shape), { id: true, scheduleId: true }),
);

export const OnCallQuery = /* @__PURE__ */ lazySchema(() => z.strictObject({ at: z.optional(IsoDateTime) }));

export const RollupQuery = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      from: z.iso.date(),
      to: z.iso.date(),
      service: z.optional(z.union([ServiceId, z.literal('*')])),
      severity: z.optional(z.enum(['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4', '*'])),
    })
    .check(z.refine((q) => q.from <= q.to, { message: 'must not be before from', path: ['to'] })),
);

/** The path of a role removal: a role one person holds (an SME is removed by name, below). */
export const RolePath = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    role: z.enum(SINGLE_ROLES, {
      error: `must be one of ${SINGLE_ROLES.join(', ')} (an SME: …/roles/sme/<person>)`,
    }),
  }),
);

/** The path of an SME's removal. */
export const SmePath = /* @__PURE__ */ lazySchema(() => z.strictObject({ person: Handle }));

/** The query of a route that takes none: every parameter is refused, named. */
export const NoQuery = /* @__PURE__ */ lazySchema(() => z.strictObject({}));

/**
 * The /api routes that take a query (`GET /api/incidents`, as Hono writes the path), with the
 * schema each parses it with. Every other /api route takes none: api-app.ts refuses any parameter
 * of it before the route runs, so a new route cannot drop one silently. test/http/openapi.test.ts
 * checks this list against the document's operations.
 */
export const ROUTE_QUERIES: Readonly<Record<string, z.ZodMiniType>> = {
  'GET /api/incidents': ListIncidentsQuery,
  'GET /api/incidents/:id/postmortem': PostmortemQuery,
  'GET /api/incidents/:id/action-items': ActionItemsQuery,
  'GET /api/action-items': ActionItemsQuery,
  'GET /api/schedules/:schedule/oncall': OnCallQuery,
  'GET /api/rollups': RollupQuery,
};
