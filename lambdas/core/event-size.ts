import { type Alert, truncate } from './alert.ts';

/**
 * EventBridge's limit on one PutEvents entry, and how an alert is made to fit it. Shared by the
 * EventBridge bus and the local bus, so that an alert that fits locally fits in AWS. Pure: no AWS
 * SDK here.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */

/** PutEvents takes entries of at most 256 KB. */
export const MAX_PUT_EVENTS_ENTRY_BYTES = 256 * 1024;

/** Alerts are fitted under this: 8 KB of margin below the limit. */
export const ALERT_ENTRY_BUDGET_BYTES = MAX_PUT_EVENTS_ENTRY_BYTES - 8 * 1024;

/** The detail key that records what was taken out of an alert to fit it. */
export const TRUNCATION_MARKER = 'klaxon:truncated';

export interface TruncationMarker {
  /** How many bytes smaller the alert's JSON became. */
  readonly droppedBytes: number;
  /** Parts taken out whole: `details.<key>`, `links[<i>]`, `images[<i>]`, `clientUrl`. */
  readonly removed: readonly string[];
  /** Detail values cut to their beginning (as text, ending in an ellipsis). */
  readonly shortened: readonly string[];
}

/** The parts of a PutEvents entry that count towards its size. */
export interface PutEventsEntryParts {
  /** Only whether it is set matters: a Time counts 14 bytes. */
  readonly time?: unknown;
  readonly source?: string;
  readonly detailType?: string;
  readonly detail?: string;
  readonly resources?: readonly (string | undefined)[];
}

const utf8 = (text: string | undefined): number => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

/**
 * An entry's size as EventBridge computes it: 14 bytes for Time when set, and the UTF-8 bytes of
 * Source, DetailType, Detail and each of Resources. (EventBusName does not count.)
 */
export function putEventsEntrySize(entry: PutEventsEntryParts): number {
  let size = entry.time === undefined || entry.time === null ? 0 : 14;
  size += utf8(entry.source) + utf8(entry.detailType) + utf8(entry.detail);
  for (const resource of entry.resources ?? []) size += utf8(resource);
  return size;
}

/**
 * The alert as it can be put in an entry with this envelope (source, detail-type, time, resources):
 * unchanged when it fits with margin; otherwise shrunk the same way every time, largest free-form
 * parts first, and marked under `details["klaxon:truncated"]`:
 *
 * 1. `details` values, the largest first, until the alert fits; the last one taken out is put back
 *    cut to its beginning when there is room for some of it;
 * 2. then images, then links, the largest first; then `clientUrl`;
 * 3. if it still did not fit, every detail, link and image.
 *
 * What is left — summary, dedup key, severity, source and the other bounded fields, at most a few
 * KB — is never touched, so the alert still opens, resolves and dedups its incident.
 */
export function fitAlertToEntry(
  alert: Alert,
  envelope: Omit<PutEventsEntryParts, 'detail'>,
  budget: number = ALERT_ENTRY_BUDGET_BYTES,
): Alert {
  const room = budget - putEventsEntrySize(envelope);
  const original = jsonBytes(alert);
  return original <= room ? alert : shrink(alert, original, room);
}

/** Kept free for the marker while the rest is shrunk. */
const MARKER_RESERVE_BYTES = 4 * 1024;
/** A cut detail value keeps at least this many characters, else it is removed whole. */
const MIN_PREVIEW_CHARS = 256;
/** The marker names at most this many parts per list (each name at most 100 characters). */
const MAX_NAMED_PARTS = 20;

function jsonBytes(value: unknown): number {
  return utf8(JSON.stringify(value));
}

interface Part<T> {
  readonly name: string;
  readonly index: number;
  readonly value: T;
  readonly bytes: number;
}

/**
 * Largest first; of equal ones the last first (senders put what matters most first). The order
 * depends on the alert alone, so the same alert is always shrunk the same way.
 */
function largestFirst<T>(parts: Part<T>[]): Part<T>[] {
  return [...parts].sort((a, b) => b.bytes - a.bytes || b.index - a.index);
}

function shrink(alert: Alert, original: number, room: number): Alert {
  const { clientUrl: originalClientUrl, ...bounded } = alert;
  const target = room - MARKER_RESERVE_BYTES;
  const removed: string[] = [];
  const shortened: string[] = [];
  const details: Record<string, unknown> = { ...alert.details };
  let links = alert.links;
  let images = alert.images;
  let clientUrl = originalClientUrl;
  const build = (marker?: TruncationMarker): Alert => ({
    ...bounded,
    details: marker === undefined ? { ...details } : { ...details, [TRUNCATION_MARKER]: marker },
    links,
    images,
    ...(clientUrl === undefined ? {} : { clientUrl }),
  });

  // 1. Details, the largest values first. Sizes are added up, not re-measured: one pass.
  let excess = original - target;
  const detailParts = Object.entries(details).map(([key, value], index) => ({
    name: key,
    index,
    value,
    // "key":value plus a comma.
    bytes: jsonBytes(key) + 2 + jsonBytes(value ?? null),
  }));
  let last: Part<unknown> | undefined;
  for (const part of largestFirst(detailParts)) {
    if (excess <= 0) break;
    delete details[part.name];
    excess -= part.bytes;
    last = part;
    removed.push(`details.${part.name}`);
  }
  if (last !== undefined && excess < 0) {
    const text = typeof last.value === 'string' ? last.value : (JSON.stringify(last.value) ?? '');
    let chars = Math.min(text.length, -excess - jsonBytes(last.name) - 16);
    while (chars >= MIN_PREVIEW_CHARS) {
      details[last.name] = truncate(text, chars);
      const over = jsonBytes(build()) - target;
      if (over <= 0) break;
      // Every UTF-16 unit taken off takes off at least one byte.
      chars -= over + 2;
    }
    if (chars >= MIN_PREVIEW_CHARS) {
      removed.pop();
      shortened.push(`details.${last.name}`);
    } else {
      delete details[last.name];
    }
  }

  // 2. Images, links (the largest first), then the client URL.
  excess = jsonBytes(build()) - target;
  if (excess > 0) {
    const drop = <T>(items: readonly T[], kind: string): T[] => {
      const gone = new Set<number>();
      const parts = items.map((value, index) => ({ name: kind, index, value, bytes: jsonBytes(value) + 1 }));
      for (const part of largestFirst(parts)) {
        if (excess <= 0) break;
        gone.add(part.index);
        excess -= part.bytes;
        removed.push(`${kind}[${part.index}]`);
      }
      return items.filter((_, index) => !gone.has(index));
    };
    images = drop(images, 'images');
    links = drop(links, 'links');
    if (excess > 0 && clientUrl !== undefined) {
      clientUrl = undefined;
      removed.push('clientUrl');
    }
  }

  const marker = (): TruncationMarker => ({
    droppedBytes: original - jsonBytes(build()),
    removed: named(removed),
    shortened: named(shortened),
  });
  const fitted = build(marker());
  if (jsonBytes(fitted) <= room) return fitted;

  // 3. Sizes added up can be off (escapes in a cut text): take out every free-form part.
  for (const key of Object.keys(details)) delete details[key];
  links = [];
  images = [];
  clientUrl = undefined;
  return build({
    droppedBytes: original - jsonBytes(build()),
    removed: ['details', 'links', 'images', 'clientUrl'],
    shortened: [],
  });
}

/** At most MAX_NAMED_PARTS names of at most 100 characters, then how many more there were. */
function named(parts: readonly string[]): string[] {
  const names = parts.slice(0, MAX_NAMED_PARTS).map((name) => truncate(name, 100));
  if (parts.length > MAX_NAMED_PARTS) names.push(`… and ${parts.length - MAX_NAMED_PARTS} more`);
  return names;
}
