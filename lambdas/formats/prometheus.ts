import * as z from 'zod/mini';
import type { AlertLink, SourceSeverity } from '#core/alert';
import { built, lazySchema, once } from '#core/lazy';
import {
  descriptionOf,
  httpUrlOrUndefined,
  MAX_SHORT,
  MAX_SUMMARY,
  nonBlank,
  StringMap,
  toIso,
  truncate,
  VendorTimestamp,
} from './shared.ts';

/**
 * What Alertmanager and Grafana webhooks share: Grafana's unified alerting embeds an
 * Alertmanager and sends the same body with a few extra fields.
 */

const Status = /* @__PURE__ */ lazySchema(() =>
  z.enum(['firing', 'resolved'], {
    error: (issue) => (issue.input === undefined ? 'status is required' : 'must be firing or resolved'),
  }),
);

/** Fields of one entry of `alerts[]`. */
export const promAlertFields = once(() => ({
  status: Status,
  labels: StringMap,
  annotations: StringMap,
  startsAt: built(VendorTimestamp).check(z.maxLength(64)),
  /** `0001-01-01T00:00:00Z` (Go's zero time) while the alert is still firing. */
  endsAt: z.nullish(VendorTimestamp),
  generatorURL: z.nullish(z.string()),
  /** Hash of the label set. Absent before Alertmanager 0.19; computed the same way then. */
  fingerprint: z.nullish(z.string().check(z.maxLength(255))),
}));

/** Fields of the notification around `alerts[]`. */
export const promGroupFields = once(() => ({
  status: Status,
  receiver: z.nullish(z.string()),
  groupKey: z.nullish(z.string()),
  truncatedAlerts: z.nullish(z.int().check(z.gte(0))),
  groupLabels: StringMap,
  commonLabels: StringMap,
  commonAnnotations: StringMap,
  externalURL: z.nullish(z.string()),
}));

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

function fnvAdd(hash: bigint, bytes: Iterable<number>): bigint {
  let h = hash;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64;
  return h;
}

/**
 * The fingerprint Prometheus gives a label set (`model.LabelSet.Fingerprint`: FNV-1a 64 over
 * the names sorted bytewise, each name and value followed by 0xff), as 16 hex digits. Used when
 * a payload has no fingerprint, so that such alerts still dedup with the ones that do.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const encoder = new TextEncoder();
  const names = Object.keys(labels)
    .map((name) => ({ name, bytes: encoder.encode(name) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  let hash = FNV_OFFSET;
  for (const { name, bytes } of names) {
    hash = fnvAdd(hash, bytes);
    hash = fnvAdd(hash, [SEPARATOR]);
    hash = fnvAdd(hash, encoder.encode(labels[name] ?? ''));
    hash = fnvAdd(hash, [SEPARATOR]);
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * `severity` label → canonical severity. There is no standard set of values; these are the
 * common ones. An alert that fired with an unknown or missing severity is treated as `error`:
 * loud enough to be seen, below the explicit `critical`.
 */
const SEVERITY_ALIASES: Readonly<Record<string, SourceSeverity>> = {
  critical: 'critical',
  page: 'critical',
  error: 'error',
  high: 'error',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  info: 'info',
  low: 'info',
  none: 'info',
};

export function severityFromLabel(value: string | undefined): SourceSeverity {
  const key = (value ?? '').trim().toLowerCase();
  return SEVERITY_ALIASES[key] ?? 'error';
}

/** `{job="api", zone="eu-1"}` in Prometheus style, sorted, without `alertname`. */
export function labelSetText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .filter((name) => name !== 'alertname')
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return pairs.length === 0 ? '' : `{${pairs.join(', ')}}`;
}

/** annotations.summary, else annotations.description, else the alert name and its labels. */
export function summaryOf(
  annotations: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): string {
  const fromAnnotations = nonBlank(annotations.summary) ?? nonBlank(annotations.description);
  if (fromAnnotations !== undefined) return truncate(fromAnnotations, MAX_SUMMARY);
  const name = nonBlank(labels.alertname) ?? 'Alert';
  const set = labelSetText(labels);
  return truncate(set === '' ? name : `${name} ${set}`, MAX_SUMMARY);
}

/**
 * The `description` annotation, unless the summary already is it (an alert with no `summary`);
 * with `value`, Grafana's `valueString`, on a line of its own.
 */
export function descriptionOfAnnotations(
  annotations: Readonly<Record<string, string>>,
  value?: string | null,
): string | undefined {
  const description =
    nonBlank(annotations.summary) === undefined ? undefined : nonBlank(annotations.description);
  const measured = nonBlank(value);
  return descriptionOf(
    [description, measured === undefined ? undefined : `Value: ${measured}`].filter(Boolean).join('\n'),
  );
}

export function hostOf(url: string | null | undefined): string | undefined {
  const href = httpUrlOrUndefined(url);
  return href === undefined ? undefined : new URL(href).host;
}

/** labels.instance, else labels.job, else the sender's host, else `fallback`. */
export function sourceOf(
  labels: Readonly<Record<string, string>>,
  externalURL: string | null | undefined,
  fallback: string,
): string {
  const source = nonBlank(labels.instance) ?? nonBlank(labels.job) ?? hostOf(externalURL) ?? fallback;
  return truncate(source, MAX_SHORT);
}

export function fingerprintOf(alert: {
  fingerprint?: string | null | undefined;
  labels: Readonly<Record<string, string>>;
}): string {
  return nonBlank(alert.fingerprint) ?? labelsFingerprint(alert.labels);
}

/** endsAt as UTC ISO, or null while the alert has no end (Go's zero time or absent). */
export function endsAtOf(endsAt: string | null | undefined): string | null {
  if (endsAt === undefined || endsAt === null) return null;
  const iso = toIso(endsAt);
  return iso.startsWith('0001-01-01T') ? null : iso;
}

/** A link when `href` is an absolute http(s) URL. Machine-made URLs that are not are dropped, not refused. */
export function linkIf(href: string | null | undefined, text: string): z.input<typeof AlertLink>[] {
  const url = httpUrlOrUndefined(href);
  return url === undefined ? [] : [{ href: url, text }];
}
