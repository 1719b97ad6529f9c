import * as z from 'zod/mini';
import type { Alert } from '#core/alert';
import { lazySchema } from '#core/lazy';
import { parseOrThrow } from '#core/validation';
import {
  descriptionOfAnnotations,
  endsAtOf,
  fingerprintOf,
  linkIf,
  promAlertFields,
  promGroupFields,
  severityFromLabel,
  sourceOf,
  summaryOf,
} from './prometheus.ts';
import { httpUrlOrUndefined, MAX_SHORT, optionalText, toIso } from './shared.ts';
import type { IngestContext, Normalizer } from './types.ts';

/**
 * Grafana unified alerting webhook contact point (payload version "1"): the Alertmanager body
 * plus orgId, title, state, message, and per alert values, valueString, silenceURL,
 * dashboardURL, panelURL, imageURL.
 * https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 *
 * Mapped like Alertmanager (see alertmanager.ts), except:
 * - eventKey = `grafana:${fingerprint}:${startsAt}:${status}`.
 * - group = the `grafana_folder` label Grafana adds to every rule, else `job`.
 * - source falls back to the Grafana host, then "grafana".
 * - links: rule (generatorURL), runbook, dashboard, panel, silence; imageURL becomes an image.
 *   Empty strings (Grafana sends `""` for unset URLs) and non-http(s) URLs are left out.
 * - `version` is not checked: Grafana has only ever sent "1", and the body is read by field.
 */

export const GrafanaAlertSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...promAlertFields(),
    values: z.nullish(z.record(z.string(), z.unknown())),
    valueString: z.nullish(z.string()),
    silenceURL: z.nullish(z.string()),
    dashboardURL: z.nullish(z.string()),
    panelURL: z.nullish(z.string()),
    imageURL: z.nullish(z.string()),
  }),
);

export const GrafanaWebhookSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...promGroupFields(),
    version: z.nullish(z.string()),
    orgId: z.nullish(z.int()),
    title: z.nullish(z.string()),
    state: z.nullish(z.string()),
    message: z.nullish(z.string()),
    alerts: z.array(GrafanaAlertSchema, {
      error: (issue) => (issue.input === undefined ? 'alerts is required' : undefined),
    }),
  }),
);

export type GrafanaWebhook = z.output<typeof GrafanaWebhookSchema>;

/** Validates a webhook body; throws ValidationError naming each bad field (`alerts.0.status`). */
export function parseGrafana(body: unknown): GrafanaWebhook {
  return parseOrThrow(GrafanaWebhookSchema, body, 'Grafana webhook');
}

export const grafanaToAlerts: Normalizer<GrafanaWebhook> = (payload, ctx: IngestContext): Alert[] =>
  payload.alerts.map((a): Alert => {
    const fingerprint = fingerprintOf(a);
    const image = httpUrlOrUndefined(a.imageURL);
    const alertname = optionalText(a.labels.alertname, MAX_SHORT);
    return {
      eventKey: `grafana:${fingerprint}:${a.startsAt}:${a.status}`,
      service: ctx.service,
      dedupKey: fingerprint,
      action: a.status === 'firing' ? 'trigger' : 'resolve',
      summary: summaryOf(a.annotations, a.labels),
      source: sourceOf(a.labels, payload.externalURL, 'grafana'),
      severity: severityFromLabel(a.labels.severity),
      occurredAt: toIso(a.startsAt),
      receivedAt: ctx.receivedAt,
      component: optionalText(a.labels.component ?? a.labels.service ?? a.labels.container, MAX_SHORT),
      group: optionalText(a.labels.grafana_folder ?? a.labels.job, MAX_SHORT),
      class: alertname,
      description: descriptionOfAnnotations(a.annotations, a.valueString),
      details: {
        labels: a.labels,
        annotations: a.annotations,
        values: a.values ?? null,
        valueString: a.valueString ?? null,
        orgId: payload.orgId ?? null,
        groupKey: payload.groupKey ?? null,
        receiver: payload.receiver ?? null,
        externalURL: payload.externalURL ?? null,
        endsAt: endsAtOf(a.endsAt),
        ...(payload.truncatedAlerts ? { truncatedAlerts: payload.truncatedAlerts } : {}),
      },
      links: [
        ...linkIf(a.generatorURL, 'Alert rule'),
        ...linkIf(a.annotations.runbook_url, 'Runbook'),
        ...linkIf(a.dashboardURL, 'Dashboard'),
        ...linkIf(a.panelURL, 'Panel'),
        ...linkIf(a.silenceURL, 'Silence'),
      ],
      images:
        image === undefined
          ? []
          : [
              {
                src: image,
                href: httpUrlOrUndefined(a.panelURL) ?? httpUrlOrUndefined(a.dashboardURL),
                alt: alertname,
              },
            ],
      origin: 'grafana',
    };
  });
