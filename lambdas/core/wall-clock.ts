/**
 * Time-zone math with nothing but Intl. A "wall" value is a local date-time encoded as the epoch
 * ms it would be in UTC, so calendar arithmetic on it is plain addition and offset = wall − instant.
 * Used by on-call rotations (handoffs at local wall-clock times) and metrics (local days).
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * An Intl.DateTimeFormat, built once per locale and options and kept: building one costs far
 * more than formatting with it (a page, a timeline, a rollup format many times).
 */
export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

/**
 * One format per time zone, looked up by the zone alone: for the formats on hot paths (every
 * trigger computes its local day), where building `dateTimeFormat`'s key each call would cost more.
 */
function perZone(
  locale: string,
  options: Intl.DateTimeFormatOptions,
): (timeZone: string) => Intl.DateTimeFormat {
  const byZone = new Map<string, Intl.DateTimeFormat>();
  return (timeZone) => {
    let format = byZone.get(timeZone);
    if (format === undefined) {
      format = dateTimeFormat(locale, { ...options, timeZone });
      byZone.set(timeZone, format);
    }
    return format;
  };
}

const clockFormat = perZone('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** `HH:MM` (24-hour) of an instant in the zone: the time people read on pages and timelines. */
export function clockTime(iso: string, timeZone: string): string {
  return clockFormat(timeZone).format(new Date(iso));
}

const formatterFor = perZone('en-US', {
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** The local wall-clock date-time of instant `t` (epoch ms) in `timeZone`. */
export function localWall(t: number, timeZone: string): number {
  const seconds = Math.floor(t / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(seconds)) parts[part.type] = Number(part.value);
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall + (t - seconds);
}

function offsetAt(t: number, timeZone: string): number {
  return localWall(t, timeZone) - t;
}

/** The zone's offset from UTC at an instant, as `UTC+01:00` (`UTC` itself for 0). */
export function utcOffset(iso: string, timeZone: string): string {
  const minutes = Math.round(offsetAt(Date.parse(iso), timeZone) / 60_000);
  if (minutes === 0) return 'UTC';
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `UTC${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * The instant at which the local clock in `timeZone` shows `wall`. Ambiguous (fall back): the
 * first occurrence. Nonexistent (spring forward): the first instant after it, i.e. the moment of
 * the change, found by bisection.
 */
export function localToInstant(wall: number, timeZone: string): number {
  const candidates = [wall - offsetAt(wall - DAY, timeZone), wall - offsetAt(wall + DAY, timeZone)];
  const valid = candidates.filter((t) => localWall(t, timeZone) === wall);
  if (valid.length > 0) return Math.min(...valid);
  let lo = Math.min(...candidates);
  let hi = Math.max(...candidates);
  if (localWall(lo, timeZone) >= wall || localWall(hi, timeZone) < wall) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localWall(mid, timeZone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}
