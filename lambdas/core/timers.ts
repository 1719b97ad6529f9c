import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { lazySchema } from './lazy.ts';

/**
 * One-time timers. In AWS each is an EventBridge Scheduler `at()` schedule whose input is the
 * TimerEvent JSON; locally, an item in the table that a poller fires. Names are deterministic
 * (incident, generation, step), so creating the same timer twice is a conflict, not a second
 * timer, and cancelling needs no lookup.
 */
export const TimerEventSchema = /* @__PURE__ */ lazySchema(() => {
  /**
   * A reminder the contact throttle refused for these contacts (`<responder>-<index>`), sent to
   * them alone when it allows one again: its timer again, the `n`-th time it was held.
   */
  const held = z.optional(
    z.object({
      to: z.array(z.string().check(z.minLength(1), z.maxLength(128))).check(z.minLength(1), z.maxLength(100)),
      n: z.int().check(z.gte(1)),
    }),
  );
  return z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('escalate'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      generation: z.int().check(z.gte(1)),
      step: z.int().check(z.gte(0)),
      /**
       * Timed for now by the step before it, whose level had nobody on call: that step's run goes
       * on (business hours do not hold it back; a person's escalate now at night is not delayed).
       */
      atOnce: z.optional(z.literal(true)),
    }),
    z.object({
      kind: z.literal('ack-timeout'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      generation: z.int().check(z.gte(1)),
    }),
    z.object({
      kind: z.literal('reminder'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      seq: z.int().check(z.gte(1)),
      held,
    }),
    /** The end of a resolve's monitoring period (`reopens` names the period: a reopen starts anew). */
    z.object({
      kind: z.literal('resolve'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      reopens: z.int().check(z.gte(0)),
    }),
    /** Every 30 minutes while open: the incident commander re-assesses the severity. */
    z.object({
      kind: z.literal('reassess'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      seq: z.int().check(z.gte(1)),
      held,
    }),
    /** A required postmortem: a reminder 24 hours after resolution, overdue at 48. */
    z.object({
      kind: z.literal('postmortem'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      stage: z.enum(['reminder', 'due']),
      held,
    }),
    /**
     * Pages the throttle held for a contact (`<responder>-<index>`) go out in one digest at `due`
     * (epoch ms), when the throttle allows a page again.
     */
    z.object({
      kind: z.literal('digest'),
      contact: z.string().check(z.minLength(1), z.maxLength(128)),
      due: z.int().check(z.gte(0)),
    }),
    z.object({
      kind: z.literal('heartbeat'),
      heartbeatId: z.string().check(z.minLength(1), z.maxLength(63)),
      /** The ping that armed it: identifies this miss, so a retried fire opens one incident. */
      armedAt: z.iso.datetime({ offset: true }),
    }),
    z.object({
      kind: z.literal('maintenance'),
      service: z.string().check(z.minLength(1), z.maxLength(63)),
      windowId: z.string().check(z.minLength(1), z.maxLength(32)),
    }),
    /**
     * Business hours begin: an incident whose escalation waited for them (stopped in `generation`)
     * resumes. `start` (epoch ms) names the start it was set for, so one waiting incident can be
     * timed again for a later start (its timer came inside a window, late, or the hours changed).
     */
    z.object({
      kind: z.literal('business-hours'),
      incidentId: z.string().check(z.minLength(1), z.maxLength(32)),
      generation: z.int().check(z.gte(1)),
      start: z.optional(z.int().check(z.gte(0))),
    }),
    /** A maintenance window ended: what it stopped and still needs a responder escalates again. */
    z.object({
      kind: z.literal('maintenance-end'),
      service: z.string().check(z.minLength(1), z.maxLength(63)),
      windowId: z.string().check(z.minLength(1), z.maxLength(32)),
    }),
  ]);
});

export type TimerEvent = z.output<typeof TimerEventSchema>;

export interface Timer {
  readonly name: string;
  readonly at: Date;
  readonly event: TimerEvent;
  /** It must not arrive before `at` (its handler compares the moment with the clock): `timerAfter`. */
  readonly notEarly?: true;
}

/**
 * Scheduler names: 1..64 of [0-9a-zA-Z-_.]. A name that would be longer (long heartbeat or
 * service ids) keeps a readable prefix and ends in a hash of the whole, so it stays unique and
 * deterministic.
 */
export function timerName(event: TimerEvent): string {
  const name = fullName(event);
  if (name.length <= 64) return name;
  return `${name.slice(0, 47)}.${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

function fullName(event: TimerEvent): string {
  switch (event.kind) {
    case 'escalate':
      return `esc-${event.incidentId}-${event.generation}-${event.step}`;
    case 'ack-timeout':
      return `ackto-${event.incidentId}-${event.generation}`;
    case 'reminder':
      return `rem-${event.incidentId}-${event.seq}${heldSuffix(event)}`;
    case 'resolve':
      return `res-${event.incidentId}-${event.reopens}`;
    case 'reassess':
      return `rea-${event.incidentId}-${event.seq}${heldSuffix(event)}`;
    case 'postmortem':
      return `pm-${event.incidentId}-${event.stage}${heldSuffix(event)}`;
    case 'digest':
      return `dig-${event.contact}-${event.due}`;
    case 'heartbeat':
      return `hb-${event.heartbeatId}`;
    case 'maintenance':
      return `mw-${event.service}-${event.windowId}`;
    case 'business-hours':
      return `bh-${event.incidentId}-${event.generation}${event.start === undefined ? '' : `-${event.start}`}`;
    case 'maintenance-end':
      return `mwe-${event.service}-${event.windowId}`;
  }
}

/** A held reminder's timer: its own name, after how many times it was held (`-h<n>`). */
function heldSuffix(event: { held?: { n: number } | undefined }): string {
  return event.held === undefined ? '' : `-h${event.held.n}`;
}

export function timer(event: TimerEvent, at: Date): Timer {
  return { name: timerName(event), at, event };
}

/**
 * A timer for a moment that must have come when it arrives (a window's start or end, a heartbeat's
 * deadline). EventBridge Scheduler fires a one-time schedule anywhere in the minute of its `at()`
 * ("60 second precision"): one for 10:30:45 may arrive at 10:30:20, and its handler would have to
 * set it again while it is being delivered (`notYet`), a schedule deleted after its completion.
 * The Scheduler adapter sets such a timer for the whole minute at or after `at`.
 */
export function timerAfter(event: TimerEvent, at: Date): Timer {
  return { ...timer(event, at), notEarly: true };
}
