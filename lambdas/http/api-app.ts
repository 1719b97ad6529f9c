import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Hono } from 'hono/tiny';
import type { CommandDeps } from '#app/command';
import { createIntegration } from '#app/ingest';
import { createMaintenance, endMaintenance } from '#app/operations';
import { NotFoundError, ValidationError } from '#core/errors';
import { randomId } from '#core/ids';
import { addDays, type Rollup } from '#core/metrics';
import { holdsDuring, onCallAt, ScheduleOverrideSchema } from '#core/oncall';
import { parseOrThrow } from '#core/validation';
import { type ErrorStyle, fail as failWith, jsonBody, type Log, noRoute } from './errors.ts';
import { incidentRoutes } from './incident-routes.ts';
import {
  CreateIntegration,
  CreateMaintenance,
  NoQuery,
  OnCallQuery,
  OverrideBody,
  ROUTE_QUERIES,
  RollupQuery,
} from './request-schemas.ts';

export interface ApiAppDeps extends CommandDeps {
  /** Guards /api/*: IAM (checked by API Gateway) in AWS, a bearer token locally. */
  readonly apiAuth: MiddlewareHandler;
  readonly log?: Log;
  /** How much JSON one GET /api/rollups answer carries at most (tests make it small). */
  readonly rollupsResponseBytes?: number;
}

/**
 * A Lambda response is 6 MB at most, and its body is JSON inside JSON (escaped): rollups carry
 * every sample of their day, so a busy deployment's month is far more than that.
 */
const ROLLUPS_RESPONSE_BYTES = 3_000_000;

/**
 * The management API: incidents and incident command, integration keys, maintenance windows,
 * schedule overrides, rollups — behind IAM in AWS (its own Lambda, on the IAM-authorized
 * `/api/{proxy+}` route). Each route: parse → use case → respond.
 */
export function createApiApp(deps: ApiAppDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? (() => {});
  const fail = (c: Context, error: unknown, style: ErrorStyle) => failWith(c, error, style, log);

  const api = new Hono();
  api.use('*', deps.apiAuth);
  // A route that takes no query refuses every parameter, named (400), before it runs: dropped,
  // `?status=open` on one incident's action items answered the done ones too, `?activ=true` every
  // window. The routes that take one parse it strictly themselves (ROUTE_QUERIES).
  api.use('*', async (c, next) => {
    const routes = matchedRoutes(c);
    const route = routes.at(-1);
    // Only this middleware and those before it matched: no route, the 404 says so.
    if (route !== undefined && routes.length - 1 > c.req.routeIndex) {
      if (ROUTE_QUERIES[`${route.method} ${route.path}`] === undefined) {
        try {
          parseOrThrow(NoQuery, c.req.query(), 'query');
        } catch (error) {
          return fail(c, error, 'api');
        }
      }
    }
    await next();
  });

  api.route('/', incidentRoutes(deps, log));

  // Creates an integration key for a service. The key is returned once; only its hash is kept.
  api.post('/integrations', async (c) => {
    try {
      const input = parseOrThrow(CreateIntegration, await jsonBody(c.req.raw), 'integration');
      if (!deps.config.services.some((s) => s.id === input.service)) {
        throw new ValidationError('unknown service', [
          { field: 'service', message: `no service "${input.service}" in the config` },
        ]);
      }
      const created = await createIntegration(deps.store, { ...input, now: deps.clock() });
      return c.json(created, 201);
    } catch (error) {
      return fail(c, error, 'api');
    }
  });

  // Maintenance windows: while one is active, alerts are recorded and nobody is paged.
  api.post('/services/:service/maintenance', async (c) => {
    try {
      const input = parseOrThrow(CreateMaintenance, await jsonBody(c.req.raw), 'maintenance window');
      const window = await createMaintenance(
        {
          service: c.req.param('service'),
          from: input.from ? new Date(input.from) : deps.clock(),
          to: new Date(input.to),
          ...(input.reason ? { reason: input.reason } : {}),
        },
        deps,
      );
      return c.json(window, 201);
    } catch (error) {
      return fail(c, error, 'api');
    }
  });
  api.get('/services/:service/maintenance', async (c) => {
    try {
      const service = c.req.param('service');
      if (!deps.config.services.some((s) => s.id === service))
        throw new NotFoundError(`no service ${service}`);
      return c.json({ windows: await deps.store.listMaintenance(service, deps.clock()) });
    } catch (error) {
      return fail(c, error, 'api');
    }
  });
  api.delete('/services/:service/maintenance/:id', async (c) => {
    try {
      // Ended early: what it stopped escalates again.
      if (!(await endMaintenance(c.req.param('service'), c.req.param('id'), deps))) {
        throw new NotFoundError(`no maintenance window ${c.req.param('id')}`);
      }
      return c.body(null, 204);
    } catch (error) {
      return fail(c, error, 'api');
    }
  });

  // Schedule overrides ("who covers whom, from–to") and who is on call.
  api.post('/schedules/:schedule/overrides', async (c) => {
    try {
      const scheduleId = scheduleOf(c.req.param('schedule'));
      // The body alone first (strict: no id of the client's, no misspelt field), then the whole.
      const body = parseOrThrow(OverrideBody, await jsonBody(c.req.raw), 'override');
      const override = parseOrThrow(
        ScheduleOverrideSchema,
        { ...body, id: randomId().slice(0, 12), scheduleId },
        'override',
      );
      for (const field of ['responder', 'replaces'] as const) {
        const id = override[field];
        if (id !== undefined && !deps.config.responders.some((r) => r.id === id)) {
          throw new ValidationError('unknown responder', [
            { field, message: `no responder "${id}" in the config` },
          ]);
        }
      }
      // Stored in UTC: the store orders and compares these times as text.
      const stored = {
        ...override,
        from: new Date(override.from).toISOString(),
        to: new Date(override.to).toISOString(),
      };
      await deps.store.putOverride(stored);
      // Created all the same (the rotation may change), but said: covering for someone who is not
      // on call at any moment of the span changes nothing.
      const replaces = stored.replaces;
      const schedule = deps.config.schedules.find((s) => s.id === scheduleId);
      const others =
        replaces === undefined ? [] : await deps.store.listOverrides(scheduleId, new Date(stored.from));
      const idle =
        replaces !== undefined &&
        schedule !== undefined &&
        !holdsDuring(
          schedule,
          others.filter((o) => o.id !== stored.id),
          replaces,
          new Date(stored.from),
          new Date(stored.to),
        );
      return c.json(
        idle
          ? {
              ...stored,
              warning: `${replaces} is not on call in ${scheduleId} then: this override changes nothing`,
            }
          : stored,
        201,
      );
    } catch (error) {
      return fail(c, error, 'api');
    }
  });
  api.get('/schedules/:schedule/overrides', async (c) => {
    try {
      return c.json({
        overrides: await deps.store.listOverrides(scheduleOf(c.req.param('schedule')), deps.clock()),
      });
    } catch (error) {
      return fail(c, error, 'api');
    }
  });
  api.delete('/schedules/:schedule/overrides/:id', async (c) => {
    try {
      if (!(await deps.store.deleteOverride(scheduleOf(c.req.param('schedule')), c.req.param('id')))) {
        throw new NotFoundError(`no override ${c.req.param('id')}`);
      }
      return c.body(null, 204);
    } catch (error) {
      return fail(c, error, 'api');
    }
  });
  api.get('/schedules/:schedule/oncall', async (c) => {
    try {
      const id = scheduleOf(c.req.param('schedule'));
      const { at } = parseOrThrow(OnCallQuery, c.req.query(), 'query');
      const when = at ? new Date(at) : deps.clock();
      // biome-ignore lint/style/noNonNullAssertion: scheduleOf checked it exists
      const schedule = deps.config.schedules.find((s) => s.id === id)!;
      const onCall = onCallAt(schedule, await deps.store.listOverrides(id, when), when);
      return c.json({
        schedule: id,
        at: when.toISOString(),
        onCall: onCall.map((r) => ({
          id: r,
          name: deps.config.responders.find((x) => x.id === r)?.name ?? r,
        })),
      });
    } catch (error) {
      return fail(c, error, 'api');
    }
  });

  // Rollups (the nightly metrics), for analysts and `klaxon metrics`.
  api.get('/rollups', async (c) => {
    try {
      const query = parseOrThrow(RollupQuery, c.req.query(), 'query');
      // Whole days, oldest first, while they fit one answer; `next` is the first day left out
      // (the client asks again from it). Read a week at a time, so that a page reads about what
      // it answers, not the rest of the range. A day that alone does not fit is refused by name.
      const budget = deps.rollupsResponseBytes ?? ROLLUPS_RESPONSE_BYTES;
      const answer: Rollup[] = [];
      let bytes = 0;
      for (let from = query.from; from <= query.to; from = addDays(from, 7)) {
        // The week's last day, or the range's if it ends first (days compare as text).
        const until = [addDays(from, 6), query.to].sort()[0] as string;
        const rollups = (await deps.store.listRollups(from, until)).filter(
          (r) =>
            (!query.service || r.service === query.service) &&
            (!query.severity || r.severity === query.severity),
        );
        for (const day of [...new Set(rollups.map((r) => r.day))].sort()) {
          const rows = rollups.filter((r) => r.day === day);
          const size = rows.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)) + 1, 0);
          if (bytes + size > budget) {
            if (answer.length > 0) return c.json({ rollups: answer, next: day });
            throw new ValidationError('too large for one answer', [
              {
                field: 'from',
                message: `the rollups of ${day} alone are ${size} bytes of JSON, more than one answer carries: read that day from the exports, or with klaxon metrics --table`,
              },
            ]);
          }
          answer.push(...rows);
          bytes += size;
        }
      }
      return c.json({ rollups: answer });
    } catch (error) {
      return fail(c, error, 'api');
    }
  });

  app.route('/api', api);

  function scheduleOf(id: string): string {
    if (!deps.config.schedules.some((s) => s.id === id)) throw new NotFoundError(`no schedule ${id}`);
    return id;
  }
  app.notFound(noRoute);

  return app;
}
