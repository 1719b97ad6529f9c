import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { createIntegration, IntegrationDirectory, publishAlerts } from '#app/ingest';
import type { AlertBus, Clock, IncidentStore } from '#app/ports';
import { type Alert, ServiceId } from '#core/alert';
import { AuthenticationError, NotFoundError, ValidationError } from '#core/errors';
import { randomId } from '#core/ids';
import { INCIDENT_STATUSES } from '#core/incident';
import { parseOrThrow } from '#core/validation';
import { alertmanagerToAlerts, parseAlertmanager } from '#formats/alertmanager';
import { eventsV2DedupKey, eventsV2ToAlert, parseEventsV2 } from '#formats/events-v2';
import { grafanaToAlerts, parseGrafana } from '#formats/grafana';
import type { IngestContext } from '#formats/types';
import { errorResponse, errorStatus } from './errors.ts';

/** PagerDuty's limit for one Events API v2 request. */
export const MAX_BODY_BYTES = 512 * 1024;

export interface HttpAppDeps {
  readonly store: IncidentStore;
  readonly bus: AlertBus;
  readonly clock: Clock;
  /** Services integration keys may be created for (from the config). */
  readonly services: readonly string[];
  /** Guards /api/*: IAM (checked by API Gateway) in AWS, a bearer token locally. */
  readonly apiAuth: MiddlewareHandler;
  readonly log?: (level: 'info' | 'error', message: string, data?: Record<string, unknown>) => void;
}

/**
 * The one HTTP app, served by the http Lambda (behind API Gateway) and by Node locally.
 * Each route: parse → use case → respond.
 */
export function createHttpApp(deps: HttpAppDeps): Hono {
  const app = new Hono();
  const integrations = new IntegrationDirectory(deps.store);
  const log = deps.log ?? (() => {});

  const context = (service: string): IngestContext => ({
    service,
    receivedAt: deps.clock().toISOString(),
    requestId: randomId(),
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      c.json(
        {
          status: 'invalid event',
          message: 'Request body is larger than 512 KB',
          errors: ['body: larger than 512 KB'],
        },
        413,
      ),
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  // PagerDuty Events API v2: a PagerDuty client works by changing only the host.
  app.post('/v2/enqueue', limit, async (c) => {
    try {
      const event = parseEventsV2(await jsonBody(c.req.raw));
      const integration = await integrations.authenticate(event.routing_key).catch((error: unknown) => {
        // PagerDuty answers an unknown routing key as an invalid event (400), not 401.
        if (error instanceof AuthenticationError) {
          throw new ValidationError('Event object is invalid', [
            { field: 'routing_key', message: 'unknown routing key' },
          ]);
        }
        throw error;
      });
      const ctx = context(integration.service);
      const alert = eventsV2ToAlert(event, ctx);
      await publishAlerts([alert], deps.bus);
      log('info', 'events-v2 accepted', {
        service: ctx.service,
        dedupKey: alert.dedupKey,
        action: alert.action,
      });
      return c.json(
        { status: 'success', message: 'Event processed', dedup_key: eventsV2DedupKey(event, ctx) },
        202,
      );
    } catch (error) {
      return fail(c, error, 'ingest');
    }
  });

  // Alertmanager and Grafana webhooks: key in the path or in the Authorization header.
  const webhooks: Record<string, (body: unknown, ctx: IngestContext) => Alert[]> = {
    alertmanager: (body, ctx) => alertmanagerToAlerts(parseAlertmanager(body), ctx),
    grafana: (body, ctx) => grafanaToAlerts(parseGrafana(body), ctx),
  };
  app.post('/integrations/:kind/:key?', limit, async (c) => {
    const kind = c.req.param('kind');
    const ingest = webhooks[kind];
    if (ingest === undefined) return c.json({ message: `no integration type "${kind}"`, errors: [] }, 404);
    try {
      const key = c.req.param('key') ?? keyFromAuthorization(c.req.header('authorization'));
      const integration = await integrations.authenticate(key);
      const alerts = ingest(await jsonBody(c.req.raw), context(integration.service));
      await publishAlerts(alerts, deps.bus);
      log('info', `${kind} accepted`, { service: integration.service, alerts: alerts.length });
      return c.json({ status: 'success', message: 'Alerts accepted', alerts: alerts.length }, 202);
    } catch (error) {
      return fail(c, error, 'ingest');
    }
  });

  const api = new Hono();
  api.use('*', deps.apiAuth);

  api.get('/incidents', async (c) => {
    try {
      const query = parseOrThrow(ListQuery, c.req.query(), 'query');
      const page = await deps.store.list(query);
      return c.json(page);
    } catch (error) {
      return fail(c, error, 'api');
    }
  });

  api.get('/incidents/:id', async (c) => {
    try {
      const id = c.req.param('id');
      const incident = await deps.store.get(id);
      if (incident === undefined) throw new NotFoundError(`no incident ${id}`);
      const timeline = await deps.store.timeline(id);
      return c.json({ incident, timeline });
    } catch (error) {
      return fail(c, error, 'api');
    }
  });

  // Creates an integration key for a service. The key is returned once; only its hash is kept.
  api.post('/integrations', async (c) => {
    try {
      const input = parseOrThrow(CreateIntegration, await jsonBody(c.req.raw), 'integration');
      if (!deps.services.includes(input.service)) {
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

  app.route('/api', api);
  app.notFound((c) => c.json({ message: `no route for ${c.req.method} ${c.req.path}`, errors: [] }, 404));

  function fail(c: Parameters<typeof errorResponse>[0], error: unknown, style: 'ingest' | 'api'): Response {
    const status = errorStatus(error);
    if (status >= 500) log('error', 'request failed', { path: c.req.path, error: String(error) });
    return errorResponse(c, error, style, status);
  }

  return app;
}

const CreateIntegration = z.object({
  service: ServiceId,
  name: z.string().min(1).max(255),
});

const ListQuery = z.object({
  status: z.enum(INCIDENT_STATUSES).optional(),
  service: ServiceId.optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(2048).optional(),
});

/** Reads a JSON body; a body that is not JSON is a field error on `body`. */
async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('Event object is invalid', [{ field: 'body', message: 'is not valid JSON' }]);
  }
}

/** `Bearer <key>` (Alertmanager's http_config.authorization) or Basic with the key as password (Grafana). */
function keyFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (value === undefined) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}
