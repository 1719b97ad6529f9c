import type { EscalationPolicy } from './config.ts';

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
