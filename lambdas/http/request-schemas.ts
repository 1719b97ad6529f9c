import * as z from 'zod';
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
  z
    .object({
      status: z.enum(INCIDENT_STATUSES).optional(),
      service: ServiceId.optional(),
      limit: z.coerce.number().int().min(1).max(100).optional(),
      cursor: z.string().min(1).max(2048).optional(),
    })
    .strict(),
);

export const PostmortemQuery = /* @__PURE__ */ lazySchema(() =>
  z
    .object({
      template: z.enum(POSTMORTEM_TEMPLATES).default('default'),
      /** Comma-separated. */
      authors: z.string().max(1000).optional(),
    })
    .strict(),
);

export const ActionItemsQuery = /* @__PURE__ */ lazySchema(() =>
  z.object({ status: z.enum(['open', 'done']).optional() }).strict(),
);

export const ExcludeBody = /* @__PURE__ */ lazySchema(() => z.object({ excluded: z.boolean() }).strict());

export const CreateIntegration = /* @__PURE__ */ lazySchema(() =>
  z
    .object({
      service: ServiceId,
      name: z.string().min(1).max(255),
    })
    .strict(),
);

export const CreateMaintenance = /* @__PURE__ */ lazySchema(() =>
  z
    .object({
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }),
      reason: z.string().max(1024).optional(),
    })
    .strict(),
);

/** The body of an override: the route adds the id and the schedule, then parses the whole. */
export const OverrideBody = /* @__PURE__ */ lazySchema(() =>
  z.object(built(ScheduleOverrideSchema).shape).omit({ id: true, scheduleId: true }).strict(),
);

export const OnCallQuery = /* @__PURE__ */ lazySchema(() =>
  z.object({ at: IsoDateTime.optional() }).strict(),
);

export const RollupQuery = /* @__PURE__ */ lazySchema(() =>
  z
    .object({
      from: z.iso.date(),
      to: z.iso.date(),
      service: z.union([ServiceId, z.literal('*')]).optional(),
      severity: z.enum(['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4', '*']).optional(),
    })
    .strict()
    .refine((q) => q.from <= q.to, { message: 'must not be before from', path: ['to'] }),
);

/** The path of a role removal: a role one person holds (an SME is removed by name, below). */
export const RolePath = /* @__PURE__ */ lazySchema(() =>
  z
    .object({
      role: z.enum(SINGLE_ROLES, {
        error: `must be one of ${SINGLE_ROLES.join(', ')} (an SME: …/roles/sme/<person>)`,
      }),
    })
    .strict(),
);

/** The path of an SME's removal. */
export const SmePath = /* @__PURE__ */ lazySchema(() => z.object({ person: Handle }).strict());

/** The query of a route that takes none: every parameter is refused, named. */
export const NoQuery = /* @__PURE__ */ lazySchema(() => z.object({}).strict());

/**
 * The /api routes that take a query (`GET /api/incidents`, as Hono writes the path), with the
 * schema each parses it with. Every other /api route takes none: api-app.ts refuses any parameter
 * of it before the route runs, so a new route cannot drop one silently. test/http/openapi.test.ts
 * checks this list against the document's operations.
 */
export const ROUTE_QUERIES: Readonly<Record<string, z.ZodType>> = {
  'GET /api/incidents': ListIncidentsQuery,
  'GET /api/incidents/:id/postmortem': PostmortemQuery,
  'GET /api/incidents/:id/action-items': ActionItemsQuery,
  'GET /api/action-items': ActionItemsQuery,
  'GET /api/schedules/:schedule/oncall': OnCallQuery,
  'GET /api/rollups': RollupQuery,
};
