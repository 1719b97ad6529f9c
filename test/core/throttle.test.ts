import { describe, expect, it } from 'vitest';
import { throttle, throttleRules } from '#core/throttle';

const MIN = 60_000;
const t = Date.parse('2026-11-26T10:00:00Z');

describe('per-contact throttle (GoAlert limits)', () => {
  it('allows 5 pages per 15 minutes to an SMS number, then holds the 6th', () => {
    const rules = throttleRules('sms', 'page');
    let history: number[] = [];
    const decisions = [0, 1, 2, 3, 4, 5].map((i) => {
      const d = throttle(history, rules, t + i * MIN);
      history = d.history;
      return d.allowed;
    });
    expect(decisions).toEqual([true, true, true, true, true, false]);
    expect(throttle(history, rules, t + 15 * MIN + 1).allowed).toBe(true);
  });

  it('counts entries a concurrent sender recorded a moment "later" — never drops them', () => {
    const rules = throttleRules('email', 'page');
    const history = [t, t + 1, t + 3, t + 4, t + 5];
    expect(throttle(history, rules, t + 2)).toEqual({ allowed: false, history });
  });

  it('forgets sends older than its longest window (3 hours)', () => {
    const rules = throttleRules('email', 'page');
    const old = [t - 181 * MIN, t - 180 * MIN];
    expect(throttle(old, rules, t)).toEqual({ allowed: true, history: [t] });
  });

  it('limits status messages (reminders, notices) harder: 1 per 3 minutes', () => {
    const rules = throttleRules('email', 'notice');
    const first = throttle([], rules, t);
    expect(throttle(first.history, rules, t + 2 * MIN).allowed).toBe(false);
    expect(throttle(first.history, rules, t + 3 * MIN + 1).allowed).toBe(true);
  });
});
