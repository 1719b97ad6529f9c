import type { Contact } from './config.ts';
import type { PageKind } from './page.ts';
import { isMajor, type Severity } from './severity.ts';

/**
 * Per-contact page throttling, after GoAlert's defaults (engine/message/ratelimit.go): a flood of
 * incidents must not turn into a flood of texts. A rule allows `count` messages per `perMinutes`
 * window; every rule of a class must allow a message for it to be sent.
 */
export interface ThrottleRule {
  readonly count: number;
  readonly perMinutes: number;
}

const PAGE_RULES: readonly ThrottleRule[] = [
  { count: 5, perMinutes: 15 },
  { count: 11, perMinutes: 60 },
  { count: 21, perMinutes: 180 },
];
/**
 * Reminders and notices (acknowledged, resolved): GoAlert's status-message limits (1 per 3
 * minutes, 3 per 20, 8 per 2 hours), raised so that one SEV-1's incident command fits: its status
 * reminder every 15 minutes and its severity re-assessment every 30 are 6 in 20 minutes, 12 in 2
 * hours, and GoAlert's 8 would have held them back for an hour (PRACTICE: "irregular updates").
 */
const STATUS_RULES: readonly ThrottleRule[] = [
  { count: 1, perMinutes: 3 },
  { count: 4, perMinutes: 20 },
  { count: 14, perMinutes: 120 },
];
/** Webhooks are machines: only a guard against runaway loops. */
const WEBHOOK_RULES: readonly ThrottleRule[] = [{ count: 60, perMinutes: 1 }];

/**
 * The rules for a contact type and message kind. `minuteMs`: how long a configured minute lasts
 * (a local demo speeds time up; its throttle windows shrink with its escalation delays).
 */
export function throttleRules(
  contact: Contact['type'],
  kind: PageKind,
  minuteMs = 60_000,
): readonly ThrottleRule[] {
  const rules = contact === 'webhook' ? WEBHOOK_RULES : kind === 'page' ? PAGE_RULES : STATUS_RULES;
  if (minuteMs === 60_000) return rules;
  return rules.map((rule) => ({ count: rule.count, perMinutes: (rule.perMinutes * minuteMs) / 60_000 }));
}

/**
 * The history a message counts in: pages of a SEV-1/2 (high urgency) have their own, so that
 * lower-severity pages never hold one back (PagerDuty never delays a high-urgency page behind
 * low-urgency ones); a storm of them is still held for a digest. Reminders and notices share one.
 */
export function throttleClass(kind: PageKind, sev: Severity): 'urgent' | 'page' | 'status' {
  if (kind !== 'page') return 'status';
  return isMajor(sev) ? 'urgent' : 'page';
}

/** The longest window any rule looks at, in ms: older history can be dropped. */
export const THROTTLE_HISTORY_MS = 180 * 60_000;

/**
 * Decides whether one more message may go to a contact whose earlier sends (epoch ms) of the same
 * class are `history`. Returns the history to store: pruned, plus `now` when allowed.
 */
export function throttle(
  history: readonly number[],
  rules: readonly ThrottleRule[],
  now: number,
): { allowed: boolean; history: number[] } {
  // Entries after `now` are other senders whose clocks read a moment later: they count too,
  // and must never be dropped (that would let a flood through under concurrency).
  const recent = history.filter((t) => t > now - THROTTLE_HISTORY_MS);
  const allowed = rules.every(
    (rule) => recent.filter((t) => t > now - rule.perMinutes * 60_000).length < rule.count,
  );
  return { allowed, history: allowed ? [...recent, now] : recent };
}

/**
 * The earliest time (epoch ms, ≥ `now`) at which `throttle` would allow one more message after
 * `history`: when enough of the sends each full rule counts have left its window.
 */
export function retryAt(history: readonly number[], rules: readonly ThrottleRule[], now: number): number {
  let at = now;
  // Moving `at` past one rule's blocking send can only drop sends from the others' windows, so
  // this settles in at most one pass per rule.
  for (let pass = 0; pass <= rules.length; pass++) {
    let next = at;
    for (const rule of rules) {
      const window = rule.perMinutes * 60_000;
      const inWindow = history.filter((t) => t > at - window).sort((a, b) => a - b);
      const excess = inWindow.length - rule.count;
      // The send that must leave the window: once `at - window` reaches it, count - 1 remain.
      if (excess >= 0) next = Math.max(next, (inWindow[excess] as number) + window);
    }
    if (next === at) return at;
    at = next;
  }
  return at;
}
