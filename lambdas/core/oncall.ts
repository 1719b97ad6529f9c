import * as z from 'zod/mini';
import { IsoDateTime, ServiceId } from './alert.ts';
import type { Rotation, Schedule } from './config.ts';
import { lazySchema } from './lazy.ts';
import { DAY, HOUR, localToInstant, localWall } from './wall-clock.ts';

/**
 * Who is on call at an instant: rotations of a schedule, then the overrides written at runtime.
 *
 * Theory of operation: a rotation's shifts are numbered from 0 at `startDate` + `handoffTime` in
 * the schedule's zone. The shift containing an instant is found by arithmetic (days or elapsed
 * hours since the start), never by walking every shift, so rotations years old cost the same as
 * new ones. Wall-clock rotations (daily, weekly) map a local date-time to an instant with the
 * zone rules from `Intl.DateTimeFormat`; custom rotations count elapsed hours and ignore the zone
 * after the start instant.
 */

/** A runtime change to a schedule: `responder` covers `replaces` (or everyone) from `from` to `to`. */
export interface ScheduleOverride {
  id: string;
  scheduleId: string;
  /** ISO date-time with offset; the override applies from this instant (inclusive). */
  from: string;
  /** ISO date-time with offset; the override ends at this instant (exclusive). */
  to: string;
  /** Who covers. */
  responder: string;
  /** Whom they cover; absent = they cover everyone on the schedule. */
  replaces?: string;
}

/** Parses an override at the HTTP edge: slug ids, offset date-times, `from` before `to`. */
export const ScheduleOverrideSchema = /* @__PURE__ */ lazySchema(
  () =>
    z
      .object({
        id: ServiceId,
        scheduleId: ServiceId,
        from: IsoDateTime,
        to: IsoDateTime,
        responder: ServiceId,
        replaces: z.optional(ServiceId),
      })
      .check(
        z.refine((o) => Date.parse(o.from) < Date.parse(o.to), {
          message: 'must be after from',
          path: ['to'],
        }),
        z.refine((o) => o.replaces !== o.responder, {
          message: 'must differ from responder',
          path: ['replaces'],
        }),
      ) satisfies z.ZodMiniType<ScheduleOverride>,
);

/**
 * Responder ids on call for `schedule` at `at`: the union of its rotations (in rotation order,
 * deduplicated), then the overrides of this schedule active at `at` (`from` ≤ at < `to`), applied
 * in order of `from`, then id:
 * - with `replaces`: if that person is on call they leave the set and `responder` is appended;
 *   otherwise the override does nothing;
 * - without `replaces`: the set becomes `[responder]`.
 *
 * Daily and weekly rotations hand over at `handoffTime` local wall-clock time, so across a DST
 * change a shift lasts 23 or 25 hours. A `handoffTime` that does not exist that day (spring
 * forward, e.g. 02:30 in Europe/Berlin on the last Sunday of March) hands over at the first
 * valid instant after it (03:00 local); one that occurs twice (fall back) hands over at its first
 * occurrence. Custom rotations hand over every `shiftHours` of elapsed time from the start
 * instant, so their local handoff time moves by the DST shift. Before a rotation's first
 * handoff nobody from it is on call.
 */
export function onCallAt(schedule: Schedule, overrides: readonly ScheduleOverride[], at: Date): string[] {
  const t = at.getTime();
  let onCall: string[] = [];
  for (const rotation of schedule.rotations) {
    const shift = shiftAt(rotation, schedule.timeZone, t);
    const id = shift === undefined ? undefined : rotation.participants[shift % rotation.participants.length];
    if (id !== undefined && !onCall.includes(id)) onCall.push(id);
  }
  const active = overrides
    .map((o) => ({ o, from: Date.parse(o.from), to: Date.parse(o.to) }))
    .filter(({ o, from, to }) => o.scheduleId === schedule.id && from <= t && t < to)
    .sort((a, b) => a.from - b.from || (a.o.id < b.o.id ? -1 : a.o.id > b.o.id ? 1 : 0));
  for (const { o } of active) {
    if (o.replaces === undefined) {
      onCall = [o.responder];
    } else if (onCall.includes(o.replaces)) {
      onCall = onCall.filter((id) => id !== o.replaces && id !== o.responder);
      onCall.push(o.responder);
    }
  }
  return onCall;
}

/**
 * Whether `person` is on call in `schedule` at any moment of [`from`, `to`) with `overrides`:
 * checked at `from` and at each handoff or override start or end inside it (the only moments the
 * set can change). An override that replaces someone who never holds the schedule then changes
 * nothing. At most `limit` moments are checked (an hourly rotation over a year); past them, true.
 */
export function holdsDuring(
  schedule: Schedule,
  overrides: readonly ScheduleOverride[],
  person: string,
  from: Date,
  to: Date,
  limit = 10_000,
): boolean {
  const end = to.getTime();
  const edges = overrides
    .filter((o) => o.scheduleId === schedule.id)
    .flatMap((o) => [Date.parse(o.from), Date.parse(o.to)]);
  let t = from.getTime();
  for (let checked = 0; t < end; checked++) {
    if (checked >= limit || onCallAt(schedule, overrides, new Date(t)).includes(person)) return true;
    const handoff = nextHandoffAfter(schedule, new Date(t))?.getTime() ?? Number.POSITIVE_INFINITY;
    t = Math.min(handoff, ...edges.filter((e) => e > t));
  }
  return false;
}

/**
 * The first instant after `at` at which a rotation of `schedule` hands over (overrides are not
 * considered): the next time `onCallAt` may change without an override starting or ending.
 * Undefined only for a schedule without rotations.
 */
export function nextHandoffAfter(schedule: Schedule, at: Date): Date | undefined {
  const t = at.getTime();
  let next: number | undefined;
  for (const rotation of schedule.rotations) {
    const shift = shiftAt(rotation, schedule.timeZone, t) ?? -1;
    const handoff = handoffInstant(rotation, schedule.timeZone, shift + 1);
    if (next === undefined || handoff < next) next = handoff;
  }
  return next === undefined ? undefined : new Date(next);
}

/** The number (0-based) of the rotation's shift containing instant `t`; undefined before it starts. */
function shiftAt(rotation: Rotation, timeZone: string, t: number): number | undefined {
  const start = handoffInstant(rotation, timeZone, 0);
  if (t < start) return undefined;
  if (rotation.type === 'custom') return Math.floor((t - start) / shiftMs(rotation));
  const days = rotation.type === 'daily' ? 1 : 7;
  const elapsedDays = (localWall(t, timeZone) - startWall(rotation)) / DAY;
  let shift = Math.max(0, Math.floor(elapsedDays / days));
  // The local date is only a first guess around DST changes; settle on the exact boundaries.
  while (shift > 0 && t < handoffInstant(rotation, timeZone, shift)) shift--;
  while (t >= handoffInstant(rotation, timeZone, shift + 1)) shift++;
  return shift;
}

/** The instant (epoch ms) at which shift number `shift` begins. */
function handoffInstant(rotation: Rotation, timeZone: string, shift: number): number {
  if (rotation.type === 'custom') {
    return localToInstant(startWall(rotation), timeZone) + shift * shiftMs(rotation);
  }
  const days = rotation.type === 'daily' ? 1 : 7;
  return localToInstant(startWall(rotation) + shift * days * DAY, timeZone);
}

function shiftMs(rotation: Rotation): number {
  return (rotation.shiftHours ?? 24) * HOUR;
}

/** The rotation's first handoff as a wall-clock time, encoded as if it were a UTC epoch. */
function startWall(rotation: Rotation): number {
  const [hours = 0, minutes = 0] = rotation.handoffTime.split(':').map(Number);
  return Date.parse(`${rotation.startDate}T00:00:00Z`) + hours * HOUR + minutes * 60_000;
}
