import * as z from 'zod/mini';
import { IsoDateTime, MAX_DESCRIPTION, truncate } from '#core/alert';
import { lazySchema } from '#core/lazy';

/** Helpers every input format uses: timestamps, truncation, URLs, string maps. */

export const MAX_SUMMARY = 1024;
export const MAX_SHORT = 255;
/** The canonical Alert allows at most this many links and images. */
export const MAX_ATTACHMENTS = 50;

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Normalizes an ISO-8601 / RFC 3339 timestamp as vendors actually send them to UTC
 * `YYYY-MM-DDTHH:mm:ss.sssZ`, or returns undefined when it is not one.
 *
 * Accepted on top of strict ISO: offsets without a colon (`+0000`, CloudWatch and the PagerDuty
 * docs), hour-only offsets (`+02`), a space instead of `T`, missing seconds, and any number of
 * fractional digits (Alertmanager sends nanoseconds; kept to milliseconds). A timestamp with no
 * zone is taken as UTC rather than the Lambda's local time. Output is always UTC so that stored
 * times sort as strings.
 */
export function normalizeTimestamp(value: string): string | undefined {
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [, date, hoursMinutes, seconds = ':00', zone = 'Z'] = m;
  let offset = zone.toUpperCase();
  if (offset !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    offset = `${offset[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
  }
  const iso = `${date}T${hoursMinutes}${seconds}${offset}`;
  // The strict check rejects impossible dates (Feb 31) that Date would silently roll over.
  if (!IsoDateTime.safeParse(iso).success) return undefined;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  // In UTC the instant must still be a 4-digit year (9999-12-31T23:59-01:00 is year 10000).
  const utc = new Date(ms).toISOString();
  return /^\d{4}-/.test(utc) && !utc.startsWith('0000') ? utc : undefined;
}

/** A vendor timestamp: validated here, normalized with `normalizeTimestamp` by the mapper. */
export const VendorTimestamp = /* @__PURE__ */ lazySchema(() =>
  z
    .string()
    .check(
      z.refine(
        (v) => normalizeTimestamp(v) !== undefined,
        'must be an ISO-8601 date-time such as 2015-07-17T08:42:58.315+0000',
      ),
    ),
);

/** Parses a timestamp already validated by `VendorTimestamp`. */
export function toIso(value: string): string {
  const iso = normalizeTimestamp(value);
  if (iso === undefined) throw new Error(`not a timestamp: ${value}`);
  return iso;
}

/** Cuts text to a length (core/alert.ts; the formats use it for every bounded field). */
export { truncate };

/** Trims; undefined for absent, blank or non-string values. */
export function nonBlank(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * An alert's `description` from what its sender said beyond the summary: text as it is, a map
 * (Events v2 `custom_details`) as `key: value` lines (nested values as JSON), cut to
 * MAX_DESCRIPTION. Undefined when there is nothing to say.
 */
export function descriptionOf(said: unknown): string | undefined {
  if (typeof said === 'string') return optionalText(said, MAX_DESCRIPTION);
  if (said === null || said === undefined) return undefined;
  if (Array.isArray(said) && said.length === 0) return undefined;
  if (!isPlainObject(said)) return optionalText(JSON.stringify(said), MAX_DESCRIPTION);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(said)) {
    if (value === null || value === undefined) continue;
    const text = typeof value === 'string' ? value.trim() : JSON.stringify(value);
    if (text === '' || text === undefined) continue;
    lines.push(`${key}: ${text}`);
  }
  return optionalText(lines.join('\n'), MAX_DESCRIPTION);
}

/** `nonBlank`, then truncated to `max`. */
export function optionalText(value: unknown, max: number): string | undefined {
  const text = nonBlank(value);
  return text === undefined ? undefined : truncate(text, max);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The value when it is an absolute http(s) URL, else undefined (for machine-made links we may drop). */
export function httpUrlOrUndefined(value: unknown): string | undefined {
  const text = nonBlank(value);
  return text !== undefined && isHttpUrl(text) ? text : undefined;
}

/**
 * An optional http(s) URL a client chose to send. An empty string or null counts as absent (tools often
 * send `""` for unset template variables); anything else must be an absolute http(s) URL.
 * Other schemes (`javascript:`) would end up as links in pages and emails.
 */
export const OptionalHttpUrl = /* @__PURE__ */ lazySchema(() =>
  z.pipe(
    z
      .nullish(z.string())
      .check(
        z.refine(
          (v) => v == null || v.trim() === '' || isHttpUrl(v.trim()),
          'must be an absolute http(s) URL',
        ),
      ),
    z.transform((v) => (v == null || v.trim() === '' ? undefined : v.trim())),
  ),
);

/** A required http(s) URL. */
export const HttpUrl = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.refine((v) => isHttpUrl(v.trim()), 'must be an absolute http(s) URL')),
);

/** Labels and annotations: string → string. Go marshals an empty map as `null`, so accept that as `{}`. */
export const StringMap = /* @__PURE__ */ lazySchema(() =>
  z.pipe(
    z.nullish(z.record(z.string(), z.string())),
    z.transform((v): Record<string, string> => v ?? {}),
  ),
);

/** A plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
