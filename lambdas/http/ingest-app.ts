import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Hono } from 'hono/tiny';
import { acknowledgeDigest, actCause, actOn, type DigestProgress, snoozeIncident } from '#app/command';
import { type EscalationDeps, escalateNow, nameOf, policyOf, waitsForBusinessHours } from '#app/escalation';
import { IntegrationDirectory, publishAlerts } from '#app/ingest';
import { pingHeartbeat } from '#app/operations';
import type { AlertBus } from '#app/ports';
import {
  type AckClaims,
  type AckTokenResult,
  linkKindOf,
  signAckToken,
  type ViewClaims,
  verifyAckToken,
  verifyDigestToken,
  verifyViewToken,
} from '#core/ack-token';
import type { Alert } from '#core/alert';
import { businessStartText } from '#core/business-hours';
import { impactLine } from '#core/classification';
import { AuthenticationError, ConflictError, ValidationError } from '#core/errors';
import { randomId } from '#core/ids';
import { type Incident, renderTimelineEntry, snoozedUntil } from '#core/incident';
import { PAGE_LINKS } from '#core/page';
import { clockTime } from '#core/wall-clock';
import { alertmanagerToAlerts, parseAlertmanager } from '#formats/alertmanager';
import { eventsV2DedupKey, eventsV2ToAlert, parseEventsV2 } from '#formats/events-v2';
import { grafanaToAlerts, parseGrafana } from '#formats/grafana';
import type { IngestContext } from '#formats/types';
import {
  confirmDigestPage,
  confirmPage,
  digestDonePage,
  incidentPage,
  refusedPage,
  resultPage,
  SNOOZE_CHOICES,
} from './ack-pages.ts';
import { type ErrorStyle, fail as failWith, jsonBody, type Log, noRoute } from './errors.ts';

/** PagerDuty's limit for one Events API v2 request. */
export const MAX_BODY_BYTES = 512 * 1024;
/**
 * The limit for one Alertmanager or Grafana notification. A webhook carries the whole group, and
 * a fleet-wide outage is one group of thousands of alerts (about 0.7 KB each): Alertmanager takes
 * a 4xx as final and never sends that group, so the limit is as high as the route allows — a
 * Lambda request is at most 6 MB, and API Gateway may hand the body over base64-encoded (4/3).
 */
export const MAX_WEBHOOK_BODY_BYTES = 4 * 1024 * 1024;

export interface IngestAppDeps extends EscalationDeps {
  readonly bus: AlertBus;
  readonly log?: Log;
  /** The OpenAPI document's JSON text: built at synth for the http function (lib/bundling.ts). */
  readonly openApi: () => string;
  /** How long one "acknowledge all" request starts acknowledgements (tests shorten it). */
  readonly digestAckBudgetMs?: number;
}

/**
 * The ingest app: alerts (Events v2, webhooks, heartbeats), acknowledge links and the OpenAPI
 * document — the public routes and the hot path, served by the http Lambda on the API's `$default`
 * route. Each route: parse → use case → respond.
 */
export function createIngestApp(deps: IngestAppDeps): Hono {
  const app = new Hono();
  const integrations = new IntegrationDirectory(deps.store);
  const log = deps.log ?? (() => {});
  const fail = (c: Context, error: unknown, style: ErrorStyle) => failWith(c, error, style, log);
  /** A link that failed on our side: logged, and a 503 page saying what to do (what happened is in `message`). */
  const tryAgain = (c: Context, event: string, error: unknown, message: string) => {
    log('error', event, { error: String(error) });
    return c.html(resultPage({ title: 'Try again', message }), 503);
  };

  const context = (service: string): IngestContext => ({
    service,
    receivedAt: deps.clock().toISOString(),
    requestId: randomId(),
  });

  const limitTo = (bytes: number, words: string) =>
    bodyLimit({
      maxSize: bytes,
      onError: (c) =>
        c.json(
          {
            status: 'invalid event',
            message: `Request body is larger than ${words}`,
            errors: [`body: larger than ${words}`],
          },
          413,
        ),
    });
  const limit = limitTo(MAX_BODY_BYTES, '512 KB');
  const webhookLimit = limitTo(MAX_WEBHOOK_BODY_BYTES, '4 MB');

  app.get('/health', (c) => c.json({ status: 'ok' }));
  // The OpenAPI document of everything, public like the routes this function serves.
  app.get('/openapi.json', (c) => c.body(deps.openApi(), 200, { 'Content-Type': 'application/json' }));

  /**
   * A key whose service is no longer in the config (renamed, removed): refused by name at once —
   * its alerts would be refused after the bus (a dead letter) while the sender was told they were
   * taken. PagerDuty answers a routing key that leads to no service as an invalid event too.
   */
  const inConfig = (service: string, field: string) => {
    if (!deps.config.services.some((s) => s.id === service)) {
      throw new ValidationError('Event object is invalid', [
        {
          field,
          message: `the integration's service "${service}" is not in the config (renamed or removed?)`,
        },
      ]);
    }
  };

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
      inConfig(integration.service, 'routing_key');
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

  // Alertmanager and Grafana webhooks: key in the path or in the Authorization header. POST, or
  // PUT (a method Grafana's webhook contact point offers).
  const webhooks: Record<string, (body: unknown, ctx: IngestContext) => Alert[]> = {
    alertmanager: (body, ctx) => alertmanagerToAlerts(parseAlertmanager(body), ctx),
    grafana: (body, ctx) => grafanaToAlerts(parseGrafana(body), ctx),
  };
  app.on(['POST', 'PUT'], '/integrations/:kind/:key?', webhookLimit, async (c) => {
    const kind = c.req.param('kind');
    const ingest = webhooks[kind];
    if (ingest === undefined) return c.json({ message: `no integration type "${kind}"`, errors: [] }, 404);
    try {
      const key = c.req.param('key') ?? keyFromAuthorization(c.req.header('authorization'));
      const integration = await integrations.authenticate(key);
      inConfig(integration.service, 'key');
      const alerts = ingest(await jsonBody(c.req.raw), context(integration.service));
      await publishAlerts(alerts, deps.bus);
      log('info', `${kind} accepted`, { service: integration.service, alerts: alerts.length });
      return c.json({ status: 'success', message: 'Alerts accepted', alerts: alerts.length }, 202);
    } catch (error) {
      return fail(c, error, 'ingest');
    }
  });

  // Heartbeats: each ping pushes the deadline forward; a missed one opens an incident.
  // POST, or GET for cron jobs that ping with a plain `curl <url>` (a ping is not a link anyone clicks).
  app.on(['POST', 'GET'], '/heartbeat/:id/:key?', async (c) => {
    try {
      const key = c.req.param('key') ?? keyFromAuthorization(c.req.header('authorization'));
      const integration = await integrations.authenticate(key);
      const result = await pingHeartbeat(c.req.param('id'), integration, deps);
      return c.json({ status: 'success', ...result }, 202);
    } catch (error) {
      return fail(c, error, 'ingest');
    }
  });

  // Acknowledge links. GET changes nothing (mail scanners and link previews follow links): it
  // shows a confirmation form that POSTs back to the same URL, which acts.

  /**
   * A form's action for the link `token`, relative to the page's own URL (…/a/<token>): the
   * public URL may have a path this function never sees (a reverse proxy, an API Gateway custom
   * domain's mapping such as https://ops.example.com/klaxon), and `/a/…` would post outside it.
   */
  const formActionOf = (token: string) => `./${token}`;
  app.use('/a/*', async (c, next) => {
    await next();
    // Capability URLs: never cached, never leaked by Referer, never framed.
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
  });

  // A digest's "acknowledge all" link: the same route, its own token kind. Its form carries at
  // most a position and a list of incident ids.
  const formLimit = bodyLimit({
    maxSize: 64 * 1024,
    onError: (c) => c.html(refusedPage('malformed'), 413),
  });
  app.on(['GET', 'POST'], '/a/:token', formLimit, async (c, next) => {
    const token = c.req.param('token');
    if (linkKindOf(token) !== 'digest') return next();
    try {
      const checked = await checkDigestLink(token);
      if (!checked.ok) return c.html(refusedPage(checked.reason), REFUSED_STATUS[checked.reason]);
      const { digest, responder } = checked;
      const page = {
        count: digest.incidentIds.length,
        sentAt: renderTime(digest.sentAt, deps.config.timeZone),
        responderName: responder.name,
        formAction: formActionOf(token),
      };
      // Only a POST acts: Hono routes HEAD (link previews) here as GET, with its own method.
      if (c.req.method !== 'POST') return c.html(confirmDigestPage(page));
      // A "go on" form says where the request before stopped, and what failed; a retry starts over.
      const body: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
      const at = progressOf(body, page.count);
      const result = await acknowledgeDigest(
        digest.incidentIds,
        at,
        { who: responder.id, source: `link:${token}` },
        deps,
        deps.digestAckBudgetMs ?? DIGEST_ACK_BUDGET_MS,
      );
      const { failure, next, ...counts } = result;
      log(failure === undefined ? 'info' : 'error', 'digest acknowledged', {
        digest: digest.id,
        responder: responder.id,
        ...counts,
        ...(next === undefined ? {} : { next: next.from, retry: next.retry.length }),
        ...(failure === undefined ? {} : { error: String(failure) }),
      });
      // Out of time (202) or some failed (503): the form goes on from there.
      if (next !== undefined)
        return c.html(confirmDigestPage({ ...page, progress: next }), result.failed > 0 ? 503 : 202);
      return c.html(
        digestDonePage({
          count: page.count,
          continued: at.from > 0 || at.retry.length > 0,
          acknowledged: result.acknowledged,
          unchanged: result.unchanged,
        }),
      );
    } catch (error) {
      return tryAgain(
        c,
        'digest link failed',
        error,
        'Klaxon could not finish this just now. Open the link again and confirm: what is done is skipped.',
      );
    }
  });

  // A page's incident link: the incident, read-only, for the responder it was sent to. GET (and
  // HEAD, which Hono routes as GET) shows it; it acts on nothing, and a POST is 405 unread. Its
  // buttons post to the responder's own acknowledge and resolve links, signed to expire with it
  // (on a page: the very links it carried).
  app.on(['GET', 'POST'], '/a/:token', async (c, next) => {
    const token = c.req.param('token');
    if (linkKindOf(token) !== 'view') return next();
    if (c.req.method === 'POST') {
      c.header('Allow', 'GET');
      return c.html(
        resultPage({
          title: 'Nothing to do here',
          message: 'This link only shows the incident. Nothing was changed.',
        }),
        405,
      );
    }
    try {
      const checked = await checkLink(token, verifyViewToken);
      if (!checked.ok) return c.html(refusedPage(checked.reason), REFUSED_STATUS[checked.reason]);
      const { incident, claims, responder } = checked;
      const { config } = deps;
      const open = incident.status !== 'monitoring' && incident.status !== 'resolved';
      // Escalate while the policy is still running, or waits for business hours (they hold back
      // the timers, not a person): the next level can be paged now.
      const escalates =
        incident.status === 'triggered' &&
        (incident.escalation === 'active' || waitsForBusinessHours(incident)) &&
        policyOf(incident, deps.config) !== undefined;
      const actions = [
        ...(incident.status === 'triggered' ? (['ack'] as const) : []),
        ...(escalates ? (['escalate'] as const) : []),
        ...(incident.status === 'acknowledged' ? (['snooze'] as const) : []),
        ...(open ? (['resolve'] as const) : []),
      ];
      const snoozed = snoozedUntil(incident);
      const secret = await deps.links.secret();
      // Who owns it, only while someone does: a triggered incident's acknowledgement timed out (or
      // it reopened), whatever acknowledgedBy still holds; the timeline tells. The time is that of
      // the latest acknowledgement, the one acknowledgedBy names.
      const by = incident.status === 'triggered' ? undefined : incident.acknowledgedBy;
      const at = incident.lastAcknowledgedAt ?? incident.acknowledgedAt;
      return c.html(
        incidentPage({
          incidentTitle: incident.title,
          serviceName: config.services.find((s) => s.id === incident.service)?.name ?? incident.service,
          severity: incident.sev,
          status: incident.status,
          alertCount: incident.alertCount,
          source: incident.source,
          links: incident.links.slice(0, PAGE_LINKS),
          ...(incident.description === undefined ? {} : { description: incident.description }),
          ...(incident.impact === undefined ? {} : { impact: impactLine(incident.impact) }),
          ...(by === undefined || at === undefined
            ? {}
            : {
                acknowledged: `${config.responders.find((r) => r.id === by)?.name ?? by} at ${renderTime(at, config.timeZone)}`,
              }),
          timeline: (await deps.store.timeline(incident.id)).map((e) =>
            renderTimelineEntry(e, config.timeZone),
          ),
          responderName: responder.name,
          actions: actions.map((action) => ({
            action,
            formAction: formActionOf(signAckToken({ ...claims, action } satisfies AckClaims, secret)),
            ...(action === 'escalate' ? { step: incident.step } : {}),
            ...(action === 'snooze' ? { snoozedUntil: snoozed ?? '' } : {}),
          })),
          ...(snoozed === undefined
            ? {}
            : {
                // With its day, as the SNOOZED entry: a 24-hour snooze ends at today's clock time.
                snoozed: `${nameOf(incident.snooze?.by ?? '', deps)} until ${businessStartText(Date.parse(snoozed), config.timeZone)}`,
              }),
        }),
      );
    } catch (error) {
      return tryAgain(
        c,
        'incident link failed',
        error,
        'Klaxon could not show this incident just now. Nothing was changed; please try again.',
      );
    }
  });

  app.get('/a/:token', async (c) => {
    let checked: Awaited<ReturnType<typeof checkLink<AckClaims>>>;
    try {
      checked = await checkLink(c.req.param('token'), verifyAckToken);
    } catch (error) {
      return tryAgain(
        c,
        'link check failed',
        error,
        'Klaxon could not check this link just now. Nothing was changed; please try again.',
      );
    }
    if (!checked.ok) return c.html(refusedPage(checked.reason), REFUSED_STATUS[checked.reason]);
    const { incident, claims, responder } = checked;
    const service = deps.config.services.find((s) => s.id === incident.service);
    return c.html(
      confirmPage({
        incidentTitle: incident.title,
        serviceName: service?.name ?? incident.service,
        severity: incident.sev,
        status: incident.status,
        action: claims.action,
        responderName: responder.name,
        formAction: formActionOf(c.req.param('token')),
        ackTimeoutMinutes: service?.ackTimeoutMinutes ?? 30,
        monitoringMinutes: service?.resolveMonitoringMinutes ?? 15,
        ...(claims.action === 'escalate' ? { step: incident.step } : {}),
        ...(claims.action === 'snooze' ? { snoozedUntil: snoozedUntil(incident) ?? '' } : {}),
      }),
    );
  });

  app.post('/a/:token', async (c) => {
    try {
      const token = c.req.param('token');
      const checked = await checkLink(token, verifyAckToken);
      if (!checked.ok) return c.html(refusedPage(checked.reason), REFUSED_STATUS[checked.reason]);
      const { incident, claims, responder } = checked;
      if (claims.action === 'escalate') return await escalateByLink(c, incident, responder);
      if (claims.action === 'snooze') return await snoozeByLink(c, incident, responder);
      const action = claims.action === 'ack' ? 'acknowledge' : 'resolve';
      // The link is good for one press per escalation or period: after a reopen or an ack timeout
      // it acts again, while a retried POST of one press is recognised (actCause).
      const cause = actCause(`link:${token}`, action, incident);
      // A resolve enters the service's monitoring period, as every resolve does (actOn).
      const outcome = await actOn(incident, action, { who: responder.id, channel: 'link', cause }, deps);
      if (outcome.kind === 'ignored' || outcome.kind === 'replayed') {
        // Acted before (this link's effects were completed again, idempotently) or by someone else.
        const current = outcome.incident ?? incident;
        const by =
          current.status === 'resolved'
            ? current.resolvedBy
            : current.status === 'monitoring'
              ? current.monitoringBy
              : current.acknowledgedBy;
        const name =
          by === responder.id
            ? 'You'
            : (deps.config.responders.find((r) => r.id === by)?.name ?? by ?? 'Someone');
        const did =
          current.status === 'resolved'
            ? 'resolved'
            : current.status === 'monitoring'
              ? 'asked to resolve'
              : current.status === 'mitigated'
                ? 'mitigated'
                : 'acknowledged';
        return c.html(
          resultPage({
            title: `Already ${current.status}`,
            message: `${name} ${did} it already. Nothing was changed.`,
            incidentTitle: incident.title,
          }),
        );
      }
      const until = outcome.incident.monitoringUntil;
      return c.html(
        resultPage({
          title:
            outcome.kind === 'acknowledged'
              ? 'Acknowledged'
              : outcome.kind === 'monitoring'
                ? 'Resolving'
                : 'Resolved',
          message:
            outcome.kind === 'acknowledged'
              ? 'Escalation stopped: nobody else is paged for it.'
              : outcome.kind === 'monitoring'
                ? `Escalation stopped. Klaxon watches the service until ${until ? businessStartText(Date.parse(until), deps.config.timeZone) : 'the monitoring period ends'}: if the alert fires again the incident reopens, otherwise it is resolved then.`
                : 'The incident is resolved and every pending page is cancelled.',
          incidentTitle: incident.title,
        }),
      );
    } catch (error) {
      return tryAgain(
        c,
        'link action failed',
        error,
        'Klaxon could not finish this just now. Open the link again and confirm: acting twice is harmless.',
      );
    }
  });

  /**
   * An escalate link's POST: the policy's next step now, as the responder (escalateNow). The form
   * carries the step its page showed (`from`): a second press, or one after the step's timer, finds
   * the incident past it and sends nothing more.
   */
  async function escalateByLink(
    c: Context,
    incident: Incident,
    responder: { id: string; name: string },
  ): Promise<Response> {
    const body: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
    const from = typeof body.from === 'string' && /^\d{1,5}$/.test(body.from) ? Number(body.from) : undefined;
    try {
      const result = await escalateNow(incident.id, { who: responder.id, from }, deps);
      const names = result.paged.map((id) => nameOf(id, deps));
      return c.html(
        resultPage(
          result.changed
            ? {
                title: 'Escalated',
                message:
                  names.length > 0
                    ? `${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} paged now.`
                    : 'The next step ran now; nobody could be paged at it (see the incident’s timeline).',
                incidentTitle: incident.title,
              }
            : {
                title: 'Already escalated',
                message: 'The incident had moved on to its next level already. Nothing more was sent.',
                incidentTitle: incident.title,
              },
        ),
      );
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const current = (await deps.store.get(incident.id)) ?? incident;
      // The page's step is not the incident's: its escalation started over since (an ack
      // timeout, a resume), so the press may not mean what it meant.
      const stale = error.errors.some((e) => e.field === 'from');
      return c.html(
        resultPage({
          title:
            current.status !== 'triggered'
              ? `Already ${current.status}`
              : stale
                ? 'Changed meanwhile'
                : 'Not escalated',
          message:
            current.status !== 'triggered'
              ? `It is ${current.status}: it no longer escalates. Nothing was changed.`
              : stale
                ? 'Its escalation started over since this page was shown. Nothing was changed: open the incident link again to see where it stands, and escalate from there.'
                : 'Its escalation has stopped or run out: it no longer escalates. Nothing was changed.',
          incidentTitle: incident.title,
        }),
        409,
      );
    }
  }

  /**
   * A snooze link's POST: the acknowledgement lapses `minutes` from now instead (snoozeIncident), as
   * the responder. The form carries the snooze end its page showed (`from`, '' for none): a second
   * press, or one after someone else's snooze, is told what changed and moves nothing.
   */
  async function snoozeByLink(
    c: Context,
    incident: Incident,
    responder: { id: string; name: string },
  ): Promise<Response> {
    const body: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
    const minutes = Number(body.minutes);
    if (!SNOOZE_CHOICES.some((m) => m === minutes)) {
      return c.html(
        resultPage({
          title: 'Not snoozed',
          message: `Choose how long to snooze it for (${SNOOZE_CHOICES.map((m) => `${m / 60} h`).join(', ')}). Nothing was changed.`,
          incidentTitle: incident.title,
        }),
        400,
      );
    }
    const from = typeof body.from === 'string' && body.from !== '' ? body.from : null;
    if (from !== null && Number.isNaN(Date.parse(from))) {
      return c.html(
        resultPage({
          title: 'Not snoozed',
          message: 'This form is not one Klaxon made. Nothing was changed.',
        }),
        400,
      );
    }
    try {
      const { incident: after } = await snoozeIncident(
        incident.id,
        { who: responder.id, minutes, from },
        deps,
      );
      const until = snoozedUntil(after);
      return c.html(
        resultPage({
          title: 'Snoozed',
          message: `Nobody is paged for it until ${until ? businessStartText(Date.parse(until), deps.config.timeZone) : 'the snooze ends'}. If it is still not resolved then, whoever acknowledged it is paged again and escalation restarts.`,
          incidentTitle: incident.title,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConflictError) && !(error instanceof ValidationError)) throw error;
      const current = (await deps.store.get(incident.id)) ?? incident;
      const until = snoozedUntil(current);
      // Who snoozed it, and until when, since this page was shown (possibly this person, pressing
      // another duration on the same page).
      const since =
        until === undefined
          ? 'Its snooze changed since this page was shown.'
          : `${current.snooze?.by === responder.id ? 'You' : nameOf(current.snooze?.by ?? '', deps)} snoozed it until ${businessStartText(Date.parse(until), deps.config.timeZone)} since this page was shown.`;
      return c.html(
        resultPage({
          title: current.status !== 'acknowledged' ? `Already ${current.status}` : 'Changed meanwhile',
          message:
            current.status !== 'acknowledged'
              ? `It is ${current.status}: only an acknowledged incident can be snoozed. Nothing was changed.`
              : `${since} Nothing was changed: open the incident link again to snooze it from there.`,
          incidentTitle: incident.title,
        }),
        409,
      );
    }
  }

  /** A link's incident and responder, by the verifier of its kind (acknowledge/resolve, or view). */
  async function checkLink<C extends AckClaims | ViewClaims>(
    token: string,
    verify: (token: string, secret: string, now: Date) => AckTokenResult<C>,
  ) {
    const verified = verify(token, await deps.links.secret(), deps.clock());
    if (!verified.ok) return { ok: false as const, reason: verified.reason };
    const incident = await deps.store.get(verified.claims.incidentId);
    const responder = deps.config.responders.find((r) => r.id === verified.claims.responderId);
    if (incident === undefined || responder === undefined)
      return { ok: false as const, reason: 'not-found' as const };
    return { ok: true as const, incident, claims: verified.claims, responder };
  }

  async function checkDigestLink(token: string) {
    const verified = verifyDigestToken(token, await deps.links.secret(), deps.clock());
    if (!verified.ok) return { ok: false as const, reason: verified.reason };
    const digest = await deps.store.getDigest(verified.claims.digestId);
    const responder = deps.config.responders.find((r) => r.id === verified.claims.responderId);
    // Signed for the responder it was sent to: any other is not this digest's.
    if (digest === undefined || responder === undefined || digest.responderId !== responder.id)
      return { ok: false as const, reason: 'no-digest' as const };
    return { ok: true as const, digest, responder };
  }

  app.notFound(noRoute);

  return app;
}

/** HH:MM in the configured zone, for the pages people read. */
function renderTime(iso: string, timeZone: string): string {
  return clockTime(iso, timeZone);
}

const REFUSED_STATUS = {
  malformed: 400,
  forged: 403,
  expired: 410,
  'other-incident': 403,
  'not-found': 404,
  'no-digest': 404,
} as const;

/**
 * How long one "acknowledge all" request goes on starting acknowledgements: well inside the http
 * function's 10 s timeout (and API Gateway's 30 s); the page offers to go on with the rest.
 */
const DIGEST_ACK_BUDGET_MS = 5_000;

/**
 * A "go on" form's fields: `from`, a whole number within the digest (else 0, the start), and
 * `retry`, incident ids (the use case keeps only the digest's own).
 */
function progressOf(body: Record<string, unknown>, count: number): DigestProgress {
  const from = typeof body.from === 'string' && /^\d{1,6}$/.test(body.from) ? Number(body.from) : 0;
  const retry = typeof body.retry === 'string' && body.retry !== '' ? body.retry.split(',') : [];
  return { from: from <= count ? from : 0, retry };
}

/**
 * `Bearer <key>` (Alertmanager's http_config.authorization) or Basic with the key as password (Grafana).
 * Any other scheme (Grafana lets one type `Token abc`) is a credential Klaxon cannot read: a 401
 * saying which forms work, rather than "missing integration key" for a request that sent one.
 */
function keyFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [scheme = '', value] = header.trim().split(/\s+/, 2);
  const kind = scheme.toLowerCase();
  if (kind === 'bearer') return value;
  if (kind === 'basic') {
    if (value === undefined) return undefined;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  // A lone word may be the key itself: it is not echoed back.
  const named = value === undefined ? 'without a scheme' : `"${scheme.slice(0, 32)}"`;
  throw new AuthenticationError(
    `Authorization ${named} is not supported: send the integration key as "Authorization: Bearer <key>" ` +
      '(or as the basic-auth password), or in the URL path',
  );
}
