import type { EscalationPolicy } from './config.ts';
import type { TimelineEntry } from './incident.ts';

/** The longest ack timeout (config), and so the longest snooze of an acknowledgement (commands). */
export const MAX_ACK_TIMEOUT_MINUTES = 9000;

/**
 * Escalation as a sequence of steps. Step s pages level (s mod L) of round ⌊s / L⌋, where L is
 * the number of levels; after the last level the policy repeats `repeat` times; the step after
 * the last is "exhausted". A timer carries the step it will run, so "has this step already
 * happened?" is one integer comparison on the incident.
 */
export function stepCount(policy: EscalationPolicy): number {
  return policy.levels.length * (policy.repeat + 1);
}

export type StepAction =
  | { readonly kind: 'page'; readonly level: number; readonly round: number; readonly delayMinutes: number }
  | { readonly kind: 'exhausted' };

/** What step `step` does. Steps past the end are "exhausted". */
export function stepAction(policy: EscalationPolicy, step: number): StepAction {
  if (!Number.isInteger(step) || step < 0)
    throw new RangeError(`step must be a non-negative integer, got ${step}`);
  if (step >= stepCount(policy)) return { kind: 'exhausted' };
  const levels = policy.levels.length;
  const level = step % levels;
  // biome-ignore lint/style/noNonNullAssertion: level < levels.length by construction
  const { delayMinutes } = policy.levels[level]!;
  return { kind: 'page', level, round: Math.floor(step / levels), delayMinutes };
}

const STEP_TEXT = 'Escalation step ';

/** The text of the ESCALATED entry of step `step` (≥ 1: a level after the first page). */
export const escalationStepText = (step: number) => `${STEP_TEXT}${step}`;

/**
 * An ESCALATED entry of a step beyond the first page — not one of escalation resuming after a
 * maintenance window, which pages level 1 again. Restarts (ack timeout, a severity change, a
 * reopen) begin at step 0 and have their own entries.
 */
export function isEscalationStep(entry: Pick<TimelineEntry, 'type' | 'text'>): boolean {
  return entry.type === 'ESCALATED' && entry.text.startsWith(STEP_TEXT);
}
