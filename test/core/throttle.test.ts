import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryAt, throttle, throttleRules } from '#core/throttle';

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

  it("shrinks its windows with a local demo's minute (KLAXON_MINUTE_MS), as escalation delays do", () => {
    const second = 1000; // one configured minute lasts a second
    const rules = throttleRules('sms', 'page', second);
    expect(rules).toEqual([
      { count: 5, perMinutes: 0.25 },
      { count: 11, perMinutes: 1 },
      { count: 21, perMinutes: 3 },
    ]);
    const history = [0, 1, 2, 3, 4].map((i) => t + i * second);
    expect(throttle(history, rules, t + 5 * second).allowed).toBe(false);
    expect(retryAt(history, rules, t + 5 * second)).toBe(t + 15 * second);
    expect(throttle(history, rules, t + 15 * second + 1).allowed).toBe(true);
    expect(throttleRules('sms', 'page', MIN)).toBe(throttleRules('sms', 'page'));
  });

  it('limits status messages (reminders, notices) harder: 1 per 3 minutes', () => {
    const rules = throttleRules('email', 'notice');
    const first = throttle([], rules, t);
    expect(throttle(first.history, rules, t + 2 * MIN).allowed).toBe(false);
    expect(throttle(first.history, rules, t + 3 * MIN + 1).allowed).toBe(true);
  });
});

describe('retryAt: when a held message may go', () => {
  it('is now when the throttle allows now', () => {
    expect(retryAt([t - MIN], throttleRules('sms', 'page'), t)).toBe(t);
  });

  it('is when the oldest of 5 pages in 15 minutes leaves the window', () => {
    const history = [0, 1, 2, 3, 4].map((i) => t + i * MIN);
    expect(retryAt(history, throttleRules('sms', 'page'), t + 5 * MIN)).toBe(t + 15 * MIN);
  });

  it('waits for the longest full rule: 11 pages in an hour hold the 12th past 15 minutes', () => {
    // 6 pages early in the hour, 5 in the last 15 minutes: both rules are full.
    const history = [
      ...[0, 1, 2, 3, 4, 5].map((i) => t + i * MIN),
      ...[50, 51, 52, 53, 54].map((i) => t + i * MIN),
    ];
    const at = retryAt(history, throttleRules('sms', 'page'), t + 55 * MIN);
    expect(at).toBe(t + 65 * MIN); // 15 min after the page at +50 (the hourly rule frees at +60)
    expect(throttle(history, throttleRules('sms', 'page'), at).allowed).toBe(true);
  });

  it('is the earliest allowed time, for any history (property)', () => {
    const rules = throttleRules('sms', 'page');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -200 * MIN, max: MIN }), { maxLength: 40 }), (offsets) => {
        const history = offsets.map((o) => t + o);
        const at = retryAt(history, rules, t);
        expect(at).toBeGreaterThanOrEqual(t);
        expect(throttle(history, rules, at).allowed).toBe(true);
        if (at > t) expect(throttle(history, rules, at - 1).allowed).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
