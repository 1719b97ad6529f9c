import type { Page } from '#core/page';
import { retryAt, type ThrottleRule, throttle } from '#core/throttle';
import type { ControlStore, Pager } from './ports.ts';

/**
 * Sending through a contact's throttle: take a slot (one conditional write of its send history),
 * then send; a send that fails gives the slot back, so the retry does not find the contact
 * throttled by a message that never went out.
 */

/** A slot for one more message at `now`, or when the throttle allows one again (epoch ms). */
export async function takeSlot(
  store: ControlStore,
  key: string,
  rules: readonly ThrottleRule[],
  now: Date,
): Promise<{ allowed: true } | { allowed: false; retryAt: number }> {
  let refused: readonly number[] = [];
  const allowed = await store.takeThrottle(key, (history) => {
    const decision = throttle(history, rules, now.getTime());
    if (!decision.allowed) refused = history;
    return decision;
  });
  return allowed ? { allowed } : { allowed, retryAt: retryAt(refused, rules, now.getTime()) };
}

/** Sends in the slot taken at `now`; gives it back if the send fails (and rethrows). */
export async function sendInSlot(
  deps: { store: ControlStore; pager: Pager },
  key: string,
  page: Page,
  now: Date,
): Promise<void> {
  try {
    await deps.pager.send(page);
  } catch (error) {
    await deps.store.takeThrottle(key, (history) => ({
      allowed: true,
      history: history.filter((t) => t !== now.getTime()),
    }));
    throw error;
  }
}
