import type { BusinessHours, KlaxonConfig } from './config.ts';
import type { Severity } from './severity.ts';
import { DAY, localToInstant, localWall } from './wall-clock.ts';

/**
 * Business hours (PagerDuty's support hours, Grafana OnCall's "continue escalation only if the
 * time is in range"): an incident of a severity they cover is paged only inside them; outside,
 * its escalation waits, stopped, for the next start. Local times in the config's `timeZone`,
 * through the wall-clock math, so a start after a DST change is still 09:00 on the clock.
 */

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The business hours that hold back an incident of `sev` of `service`: the service's own
 * (`false`: paged around the clock), else the config's — none when its severity is not covered.
 */
export function businessHoursFor(
  config: Pick<KlaxonConfig, 'businessHours' | 'services'>,
  service: string,
  sev: Severity,
): BusinessHours | undefined {
  const own = config.services.find((s) => s.id === service)?.businessHours;
  const hours = own === false ? undefined : (own ?? config.businessHours);
  return hours?.severities.includes(sev) ? hours : undefined;
}

/** Minutes since local midnight of `HH:MM`. */
const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** Whether instant `t` (epoch ms) falls inside the hours: a listed day, from ≤ local time < to. */
export function inBusinessHours(hours: BusinessHours, t: number, timeZone: string): boolean {
  const wall = localWall(t, timeZone);
  const day = WEEKDAYS[new Date(wall).getUTCDay()] as Weekday;
  const minute = Math.floor((wall % DAY) / 60_000);
  return hours.days.includes(day) && minutesOf(hours.from) <= minute && minute < minutesOf(hours.to);
}

/**
 * The first start of business hours after instant `t` (epoch ms): `from` on the next listed day,
 * today's if it is still ahead. A start the clocks skip (spring forward) is the moment they jump.
 */
export function nextBusinessStart(hours: BusinessHours, t: number, timeZone: string): number {
  const wallNow = localWall(t, timeZone);
  const midnight = wallNow - (wallNow % DAY);
  for (let d = 0; d <= 7; d++) {
    const wall = midnight + d * DAY + minutesOf(hours.from) * 60_000;
    if (!hours.days.includes(WEEKDAYS[new Date(wall).getUTCDay()] as Weekday)) continue;
    const start = localToInstant(wall, timeZone);
    if (start > t) return start;
  }
  throw new Error('business hours list no day'); // the schema requires one
}

/** How a start reads on a timeline: `09:00 Mon 30 Nov (Europe/Berlin)`. */
export function businessStartText(t: number, timeZone: string): string {
  const wall = new Date(localWall(t, timeZone));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())} ${WEEKDAYS[wall.getUTCDay()]} ${wall.getUTCDate()} ${MONTHS[wall.getUTCMonth()]} (${timeZone})`;
}
