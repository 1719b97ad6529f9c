/**
 * Preload (`node --import`) for CLI tests: the clock reads KLAXON_TEST_NOW (an ISO instant), so a
 * spawned `bin/klaxon.ts` sees a chosen "now" — `Date.now()` and `new Date()` alike.
 */
const at = process.env.KLAXON_TEST_NOW;
if (at !== undefined) {
  const now = Date.parse(at);
  if (Number.isNaN(now)) throw new Error(`KLAXON_TEST_NOW: not an instant: "${at}"`);
  const RealDate = Date;
  class FixedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return now;
    }
  }
  globalThis.Date = FixedDate as DateConstructor;
}
