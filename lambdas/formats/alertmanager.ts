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
 * Prometheus Alertmanager webhook payload, version "4".
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 *
 * One canonical Alert per entry of `alerts[]`:
 * - dedupKey = fingerprint (the label-set hash), so firing and resolved meet on one incident.
 * - eventKey = `alertmanager:${fingerprint}:${startsAt}:${status}`: Alertmanager re-sends a
 *   group every `repeat_interval` and on every group change; those repeats are the same event.
 * - summary: annotations.summary, else annotations.description, else alertname and labels.
 * - severity from the `severity` label (see `severityFromLabel`).
 * - source: labels.instance, else labels.job, else the Alertmanager's host, else "alertmanager".
 * - class = alertname (the kind of problem), group = job (instances doing the same work),
 *   component = the `component`, `service` or `container` label (the part that is affected).
 */

export const AlertmanagerAlertSchema = /* @__PURE__ */ lazySchema(() => z.object(promAlertFields()));

export const AlertmanagerWebhookSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    version: z.literal('4', {
      error: (issue) =>
        issue.input === undefined
          ? 'version is required (Alertmanager webhook payload version "4")'
          : `unsupported version ${JSON.stringify(issue.input)}: only Alertmanager webhook payload version "4" is supported`,
    }),
    ...promGroupFields(),
    alerts: z.array(AlertmanagerAlertSchema, {
      error: (issue) => (issue.input === undefined ? 'alerts is required' : undefined),
    }),
  }),
);

export type AlertmanagerWebhook = z.output<typeof AlertmanagerWebhookSchema>;

/** Validates a webhook body; throws ValidationError naming each bad field (`alerts.0.status`). */
export function parseAlertmanager(body: unknown): AlertmanagerWebhook {
  return parseOrThrow(AlertmanagerWebhookSchema, body, 'Alertmanager webhook');
}

/** The Alertmanager UI's new-silence form, pre-filled with the alert's labels. */
function silenceUrl(base: string, labels: Readonly<Record<string, string>>): string {
  const matchers = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `${base}/#/silences/new?filter=${encodeURIComponent(`{${matchers.join(',')}}`)}`;
}

export const alertmanagerToAlerts: Normalizer<AlertmanagerWebhook> = (
  payload,
  ctx: IngestContext,
): Alert[] => {
  // Alertmanager's UI lives under externalURL; drop a trailing slash before adding `/#/...`.
  const base = httpUrlOrUndefined(payload.externalURL)?.replace(/\/+$/, '');
  const receiver = payload.receiver ?? undefined;
  return payload.alerts.map((a): Alert => {
    const fingerprint = fingerprintOf(a);
    return {
      eventKey: `alertmanager:${fingerprint}:${a.startsAt}:${a.status}`,
      service: ctx.service,
      dedupKey: fingerprint,
      action: a.status === 'firing' ? 'trigger' : 'resolve',
      summary: summaryOf(a.annotations, a.labels),
      source: sourceOf(a.labels, payload.externalURL, 'alertmanager'),
      severity: severityFromLabel(a.labels.severity),
      occurredAt: toIso(a.startsAt),
      receivedAt: ctx.receivedAt,
      component: optionalText(a.labels.component ?? a.labels.service ?? a.labels.container, MAX_SHORT),
      group: optionalText(a.labels.job, MAX_SHORT),
      class: optionalText(a.labels.alertname, MAX_SHORT),
      description: descriptionOfAnnotations(a.annotations),
      details: {
        labels: a.labels,
        annotations: a.annotations,
        groupKey: payload.groupKey ?? null,
        receiver: receiver ?? null,
        externalURL: payload.externalURL ?? null,
        endsAt: endsAtOf(a.endsAt),
        ...(payload.truncatedAlerts ? { truncatedAlerts: payload.truncatedAlerts } : {}),
      },
      links: [
        ...linkIf(a.generatorURL, 'Source'),
        ...linkIf(a.annotations.runbook_url, 'Runbook'),
        ...(base === undefined
          ? []
          : [
              ...linkIf(
                `${base}/#/alerts${receiver ? `?receiver=${encodeURIComponent(receiver)}` : ''}`,
                'Alertmanager',
              ),
              ...linkIf(silenceUrl(base, a.labels), 'Silence'),
            ]),
      ],
      images: [],
      origin: 'alertmanager',
    };
  });
};
