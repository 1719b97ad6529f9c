import { describe, expect, it } from 'vitest';
import { type Schedule, ScheduleSchema } from '#core/config';
import { nextHandoffAfter, onCallAt, type ScheduleOverride, ScheduleOverrideSchema } from '#core/oncall';
import { fieldErrors } from '#core/validation';

type RotationInput = {
  type: 'daily' | 'weekly' | 'custom';
  startDate: string;
  handoffTime?: string;
  shiftHours?: number;
  participants: string[];
};

function schedule(timeZone: string, ...rotations: RotationInput[]): Schedule {
  return ScheduleSchema.parse({ id: 'primary', name: 'Primary', timeZone, rotations });
}

/** Who is on call at an ISO instant. */
function who(s: Schedule, iso: string, overrides: readonly ScheduleOverride[] = []): string[] {
  return onCallAt(s, overrides, new Date(iso));
}

/** The instant one millisecond before `iso`. */
function justBefore(iso: string): string {
  return new Date(Date.parse(iso) - 1).toISOString();
}

/** Asserts the rotation hands over from `before` to `after` exactly at the UTC instant `iso`. */
function expectHandoff(s: Schedule, iso: string, before: string, after: string): void {
  expect(who(s, justBefore(iso))).toEqual([before]);
  expect(who(s, iso)).toEqual([after]);
  expect(nextHandoffAfter(s, new Date(justBefore(iso)))?.toISOString()).toBe(new Date(iso).toISOString());
}

const abc = ['alice', 'bob', 'carol'];

describe('rotations', () => {
  it('a daily rotation hands over every day at the handoff time, cycling through participants', () => {
    const s = schedule('UTC', { type: 'daily', startDate: '2026-01-05', participants: abc });
    expect(who(s, '2026-01-05T09:00:00Z')).toEqual(['alice']);
    expect(who(s, '2026-01-06T08:59:59Z')).toEqual(['alice']);
    expect(who(s, '2026-01-06T09:00:00Z')).toEqual(['bob']);
    expect(who(s, '2026-01-07T12:00:00Z')).toEqual(['carol']);
    expect(who(s, '2026-01-08T09:00:00Z')).toEqual(['alice']);
  });

  it('a weekly rotation hands over every 7 days', () => {
    const s = schedule('UTC', {
      type: 'weekly',
      startDate: '2026-01-05',
      handoffTime: '10:30',
      participants: abc,
    });
    expect(who(s, '2026-01-05T10:30:00Z')).toEqual(['alice']);
    expect(who(s, '2026-01-12T10:29:59Z')).toEqual(['alice']);
    expect(who(s, '2026-01-12T10:30:00Z')).toEqual(['bob']);
    expect(who(s, '2026-01-19T10:30:00Z')).toEqual(['carol']);
    expect(who(s, '2026-01-26T10:30:00Z')).toEqual(['alice']);
  });

  it('a custom rotation hands over every shiftHours', () => {
    const s = schedule('UTC', {
      type: 'custom',
      startDate: '2026-01-05',
      handoffTime: '06:00',
      shiftHours: 8,
      participants: abc,
    });
    expect(who(s, '2026-01-05T06:00:00Z')).toEqual(['alice']);
    expect(who(s, '2026-01-05T14:00:00Z')).toEqual(['bob']);
    expect(who(s, '2026-01-05T22:00:00Z')).toEqual(['carol']);
    expect(who(s, '2026-01-06T06:00:00Z')).toEqual(['alice']);
  });

  it('nobody is on call before a rotation starts', () => {
    const s = schedule('Europe/Berlin', { type: 'daily', startDate: '2026-01-05', participants: abc });
    // 09:00 CET is 08:00Z.
    expect(who(s, '2025-12-01T12:00:00Z')).toEqual([]);
    expect(who(s, '2026-01-05T07:59:59.999Z')).toEqual([]);
    expect(who(s, '2026-01-05T08:00:00Z')).toEqual(['alice']);
    expect(nextHandoffAfter(s, new Date('2025-12-01T12:00:00Z'))?.toISOString()).toBe(
      '2026-01-05T08:00:00.000Z',
    );
  });

  it('a daily rotation running for years still hands over to the right person', () => {
    const s = schedule('Europe/Berlin', { type: 'daily', startDate: '2020-01-01', participants: abc });
    // 2020-01-01 → 2031-07-15 is 4213 days: shift 4212 (alice) until 09:00 CEST, then 4213 (bob).
    expect(who(s, '2031-07-15T06:59:59Z')).toEqual(['alice']);
    expect(who(s, '2031-07-15T07:00:00Z')).toEqual(['bob']);
  });

  it('a custom rotation running for years still hands over on elapsed hours', () => {
    const s = schedule('Europe/Berlin', {
      type: 'custom',
      startDate: '2016-01-01',
      handoffTime: '00:00',
      shiftHours: 7,
      participants: abc,
    });
    // Starts 2015-12-31T23:00Z. 2025-12-31T23:00Z is 3653 days = 87672 h later: shift 12524
    // (12524 mod 3 = 2, carol) began 4 h earlier, at 19:00Z.
    expect(who(s, '2025-12-31T23:00:00Z')).toEqual(['carol']);
    expectHandoff(s, '2025-12-31T19:00:00Z', 'bob', 'carol');
  });

  it('a single participant is always on call once the rotation starts', () => {
    const s = schedule('UTC', { type: 'weekly', startDate: '2026-01-05', participants: ['alice'] });
    expect(who(s, '2029-06-01T00:00:00Z')).toEqual(['alice']);
  });
});

describe('DST in Europe/Berlin (spring forward 2026-03-29, fall back 2026-10-25, both at 01:00Z)', () => {
  it('a daily 09:00 handoff stays at 09:00 local on both sides of spring forward', () => {
    const s = schedule('Europe/Berlin', { type: 'daily', startDate: '2026-03-27', participants: abc });
    expectHandoff(s, '2026-03-28T08:00:00Z', 'alice', 'bob'); // 09:00 CET
    expectHandoff(s, '2026-03-29T07:00:00Z', 'bob', 'carol'); // 09:00 CEST, a 23 h shift
    expectHandoff(s, '2026-03-30T07:00:00Z', 'carol', 'alice');
  });

  it('a daily 09:00 handoff stays at 09:00 local on both sides of fall back', () => {
    const s = schedule('Europe/Berlin', { type: 'daily', startDate: '2026-10-24', participants: abc });
    expect(who(s, '2026-10-24T07:00:00Z')).toEqual(['alice']); // 09:00 CEST
    expectHandoff(s, '2026-10-25T08:00:00Z', 'alice', 'bob'); // 09:00 CET, a 25 h shift
    expectHandoff(s, '2026-10-26T08:00:00Z', 'bob', 'carol');
  });

  it('a weekly rotation spanning spring forward hands over at 09:00 CEST', () => {
    const s = schedule('Europe/Berlin', { type: 'weekly', startDate: '2026-03-23', participants: abc });
    expect(who(s, '2026-03-23T08:00:00Z')).toEqual(['alice']); // 09:00 CET
    expectHandoff(s, '2026-03-30T07:00:00Z', 'alice', 'bob');
  });

  it('a weekly rotation spanning fall back hands over at 09:00 CET', () => {
    const s = schedule('Europe/Berlin', { type: 'weekly', startDate: '2026-10-19', participants: abc });
    expect(who(s, '2026-10-19T07:00:00Z')).toEqual(['alice']); // 09:00 CEST
    expectHandoff(s, '2026-10-26T08:00:00Z', 'alice', 'bob');
  });

  it('a custom 12-hour rotation keeps 12 h of elapsed time across spring forward (09:00 CET → 10:00 CEST)', () => {
    const s = schedule('Europe/Berlin', {
      type: 'custom',
      startDate: '2026-03-28',
      shiftHours: 12,
      participants: ['alice', 'bob'],
    });
    expect(who(s, '2026-03-28T08:00:00Z')).toEqual(['alice']); // 09:00 CET
    expectHandoff(s, '2026-03-28T20:00:00Z', 'alice', 'bob'); // 21:00 CET
    expect(who(s, '2026-03-29T07:00:00Z')).toEqual(['bob']); // 09:00 CEST: no handoff
    expectHandoff(s, '2026-03-29T08:00:00Z', 'bob', 'alice'); // 10:00 CEST
  });

  it('a custom 12-hour rotation keeps 12 h of elapsed time across fall back (09:00 CEST → 08:00 CET)', () => {
    const s = schedule('Europe/Berlin', {
      type: 'custom',
      startDate: '2026-10-24',
      shiftHours: 12,
      participants: ['alice', 'bob'],
    });
    expect(who(s, '2026-10-24T07:00:00Z')).toEqual(['alice']); // 09:00 CEST
    expectHandoff(s, '2026-10-24T19:00:00Z', 'alice', 'bob'); // 21:00 CEST
    expectHandoff(s, '2026-10-25T07:00:00Z', 'bob', 'alice'); // 08:00 CET
    expect(who(s, '2026-10-25T08:00:00Z')).toEqual(['alice']); // 09:00 CET: no handoff
  });

  it('a 02:30 handoff on the spring-forward day happens at 03:00 CEST (01:00Z)', () => {
    const s = schedule('Europe/Berlin', {
      type: 'daily',
      startDate: '2026-03-28',
      handoffTime: '02:30',
      participants: abc,
    });
    expect(who(s, '2026-03-28T01:30:00Z')).toEqual(['alice']); // 02:30 CET
    expectHandoff(s, '2026-03-29T01:00:00Z', 'alice', 'bob'); // 03:00 CEST
    expectHandoff(s, '2026-03-30T00:30:00Z', 'bob', 'carol'); // 02:30 CEST
  });

  it('a rotation starting at a nonexistent 02:30 starts at 03:00 CEST', () => {
    const s = schedule('Europe/Berlin', {
      type: 'weekly',
      startDate: '2026-03-29',
      handoffTime: '02:30',
      participants: abc,
    });
    expect(who(s, '2026-03-29T00:59:59.999Z')).toEqual([]);
    expect(who(s, '2026-03-29T01:00:00Z')).toEqual(['alice']);
    expectHandoff(s, '2026-04-05T00:30:00Z', 'alice', 'bob');
  });

  it('a 02:30 handoff on the fall-back day happens at the first 02:30 (CEST, 00:30Z)', () => {
    const s = schedule('Europe/Berlin', {
      type: 'daily',
      startDate: '2026-10-24',
      handoffTime: '02:30',
      participants: abc,
    });
    expect(who(s, '2026-10-24T00:30:00Z')).toEqual(['alice']); // 02:30 CEST
    expectHandoff(s, '2026-10-25T00:30:00Z', 'alice', 'bob'); // first 02:30, CEST
    expect(who(s, '2026-10-25T01:30:00Z')).toEqual(['bob']); // second 02:30, CET: no handoff
    expectHandoff(s, '2026-10-26T01:30:00Z', 'bob', 'carol'); // 02:30 CET
  });
});

describe('DST in America/New_York (spring forward 2026-03-08 07:00Z, fall back 2026-11-01 06:00Z)', () => {
  it('a daily 09:00 handoff stays at 09:00 local on both sides of spring forward', () => {
    const s = schedule('America/New_York', { type: 'daily', startDate: '2026-03-07', participants: abc });
    expect(who(s, '2026-03-07T14:00:00Z')).toEqual(['alice']); // 09:00 EST
    expectHandoff(s, '2026-03-08T13:00:00Z', 'alice', 'bob'); // 09:00 EDT
    expectHandoff(s, '2026-03-09T13:00:00Z', 'bob', 'carol');
  });

  it('a daily 09:00 handoff stays at 09:00 local on both sides of fall back', () => {
    const s = schedule('America/New_York', { type: 'daily', startDate: '2026-10-31', participants: abc });
    expect(who(s, '2026-10-31T13:00:00Z')).toEqual(['alice']); // 09:00 EDT
    expectHandoff(s, '2026-11-01T14:00:00Z', 'alice', 'bob'); // 09:00 EST
    expectHandoff(s, '2026-11-02T14:00:00Z', 'bob', 'carol');
  });

  it('a weekly rotation spanning spring forward hands over at 09:00 EDT', () => {
    const s = schedule('America/New_York', { type: 'weekly', startDate: '2026-03-02', participants: abc });
    expect(who(s, '2026-03-02T14:00:00Z')).toEqual(['alice']); // 09:00 EST
    expectHandoff(s, '2026-03-09T13:00:00Z', 'alice', 'bob');
  });

  it('a weekly rotation spanning fall back hands over at 09:00 EST', () => {
    const s = schedule('America/New_York', { type: 'weekly', startDate: '2026-10-26', participants: abc });
    expect(who(s, '2026-10-26T13:00:00Z')).toEqual(['alice']); // 09:00 EDT
    expectHandoff(s, '2026-11-02T14:00:00Z', 'alice', 'bob');
  });

  it('a custom 12-hour rotation keeps 12 h of elapsed time across spring forward (09:00 EST → 10:00 EDT)', () => {
    const s = schedule('America/New_York', {
      type: 'custom',
      startDate: '2026-03-07',
      shiftHours: 12,
      participants: ['alice', 'bob'],
    });
    expect(who(s, '2026-03-07T14:00:00Z')).toEqual(['alice']);
    expectHandoff(s, '2026-03-08T02:00:00Z', 'alice', 'bob'); // 21:00 EST
    expectHandoff(s, '2026-03-08T14:00:00Z', 'bob', 'alice'); // 10:00 EDT
  });

  it('a custom 12-hour rotation keeps 12 h of elapsed time across fall back (09:00 EDT → 08:00 EST)', () => {
    const s = schedule('America/New_York', {
      type: 'custom',
      startDate: '2026-10-31',
      shiftHours: 12,
      participants: ['alice', 'bob'],
    });
    expect(who(s, '2026-10-31T13:00:00Z')).toEqual(['alice']);
    expectHandoff(s, '2026-11-01T01:00:00Z', 'alice', 'bob'); // 21:00 EDT
    expectHandoff(s, '2026-11-01T13:00:00Z', 'bob', 'alice'); // 08:00 EST
  });

  it('a 02:30 handoff on the spring-forward day happens at 03:00 EDT (07:00Z)', () => {
    const s = schedule('America/New_York', {
      type: 'daily',
      startDate: '2026-03-07',
      handoffTime: '02:30',
      participants: abc,
    });
    expect(who(s, '2026-03-07T07:30:00Z')).toEqual(['alice']); // 02:30 EST
    expectHandoff(s, '2026-03-08T07:00:00Z', 'alice', 'bob'); // 03:00 EDT
    expectHandoff(s, '2026-03-09T06:30:00Z', 'bob', 'carol'); // 02:30 EDT
  });

  it('a 01:30 handoff on the fall-back day happens at the first 01:30 (EDT, 05:30Z)', () => {
    const s = schedule('America/New_York', {
      type: 'daily',
      startDate: '2026-10-31',
      handoffTime: '01:30',
      participants: abc,
    });
    expect(who(s, '2026-10-31T05:30:00Z')).toEqual(['alice']); // 01:30 EDT
    expectHandoff(s, '2026-11-01T05:30:00Z', 'alice', 'bob'); // first 01:30, EDT
    expect(who(s, '2026-11-01T06:30:00Z')).toEqual(['bob']); // second 01:30, EST: no handoff
    expectHandoff(s, '2026-11-02T06:30:00Z', 'bob', 'carol'); // 01:30 EST
  });
});

describe('odd offsets', () => {
  it('Asia/Kolkata (+05:30, no DST) hands over at 09:00 IST = 03:30Z', () => {
    const s = schedule('Asia/Kolkata', { type: 'daily', startDate: '2026-03-01', participants: abc });
    expect(who(s, '2026-03-01T03:29:59Z')).toEqual([]);
    expect(who(s, '2026-03-01T03:30:00Z')).toEqual(['alice']);
    expectHandoff(s, '2026-03-29T03:30:00Z', 'alice', 'bob'); // shift 28: 28 mod 3 = 1
  });

  it('Australia/Lord_Howe (30-minute DST, 2026-10-04) keeps 09:00 local: +10:30 then +11', () => {
    const s = schedule('Australia/Lord_Howe', { type: 'daily', startDate: '2026-10-02', participants: abc });
    expect(who(s, '2026-10-01T22:30:00Z')).toEqual(['alice']);
    expectHandoff(s, '2026-10-02T22:30:00Z', 'alice', 'bob');
    expectHandoff(s, '2026-10-03T22:00:00Z', 'bob', 'carol'); // a 23.5 h shift
  });

  it('Australia/Lord_Howe: a nonexistent 02:15 hands over at 02:30 local, an ambiguous 01:45 at the first one', () => {
    const spring = schedule('Australia/Lord_Howe', {
      type: 'daily',
      startDate: '2026-10-03',
      handoffTime: '02:15',
      participants: abc,
    });
    expect(who(spring, '2026-10-02T15:45:00Z')).toEqual(['alice']); // 02:15 +10:30
    expectHandoff(spring, '2026-10-03T15:30:00Z', 'alice', 'bob'); // 02:30 +11
    expectHandoff(spring, '2026-10-04T15:15:00Z', 'bob', 'carol'); // 02:15 +11

    const fall = schedule('Australia/Lord_Howe', {
      type: 'daily',
      startDate: '2026-04-04',
      handoffTime: '01:45',
      participants: abc,
    });
    expect(who(fall, '2026-04-03T14:45:00Z')).toEqual(['alice']); // 01:45 +11
    expectHandoff(fall, '2026-04-04T14:45:00Z', 'alice', 'bob'); // first 01:45, +11
    expect(who(fall, '2026-04-04T15:15:00Z')).toEqual(['bob']); // second 01:45, +10:30
  });

  it('a daily 09:00 handoff is at 09:00 local every day of 2026 in every zone', () => {
    for (const timeZone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata']) {
      const s = schedule(timeZone, { type: 'daily', startDate: '2026-01-01', participants: abc });
      const local = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' });
      let at = new Date('2025-12-31T12:00:00Z'); // before the start everywhere
      for (let day = 0; day < 365; day++) {
        const handoff = nextHandoffAfter(s, at);
        if (handoff === undefined) throw new Error('no handoff');
        expect(local.format(handoff), `${timeZone} day ${day}`).toBe('09:00');
        expect(who(s, handoff.toISOString())).toEqual([abc[day % 3]]);
        at = handoff;
      }
    }
  });
});

describe('several rotations', () => {
  it('everyone on call in any rotation is on call, once, in rotation order', () => {
    const s = schedule(
      'UTC',
      { type: 'daily', startDate: '2026-01-05', participants: ['alice', 'bob'] },
      { type: 'weekly', startDate: '2026-01-05', participants: ['bob', 'carol'] },
    );
    expect(who(s, '2026-01-05T12:00:00Z')).toEqual(['alice', 'bob']);
    expect(who(s, '2026-01-06T12:00:00Z')).toEqual(['bob']);
    expect(who(s, '2026-01-12T12:00:00Z')).toEqual(['bob', 'carol']);
  });

  it('a rotation that has not started yet adds nobody', () => {
    const s = schedule(
      'UTC',
      { type: 'daily', startDate: '2026-01-05', participants: ['alice'] },
      { type: 'daily', startDate: '2026-02-01', participants: ['bob'] },
    );
    expect(who(s, '2026-01-20T12:00:00Z')).toEqual(['alice']);
    expect(nextHandoffAfter(s, new Date('2026-01-20T12:00:00Z'))?.toISOString()).toBe(
      '2026-01-21T09:00:00.000Z',
    );
  });

  it('the next handoff is the earliest of the rotations', () => {
    const s = schedule(
      'UTC',
      { type: 'weekly', startDate: '2026-01-05', participants: abc },
      { type: 'custom', startDate: '2026-01-05', handoffTime: '00:00', shiftHours: 5, participants: abc },
    );
    expect(nextHandoffAfter(s, new Date('2026-01-05T08:00:00Z'))?.toISOString()).toBe(
      '2026-01-05T09:00:00.000Z',
    );
    expect(nextHandoffAfter(s, new Date('2026-01-05T09:00:00Z'))?.toISOString()).toBe(
      '2026-01-05T10:00:00.000Z',
    );
  });
});

describe('overrides', () => {
  // alice is on call all of 2026-01-05 (from 09:00Z), erin all week.
  const s = schedule(
    'UTC',
    { type: 'daily', startDate: '2026-01-05', handoffTime: '00:00', participants: abc },
    { type: 'weekly', startDate: '2026-01-05', handoffTime: '00:00', participants: ['erin', 'frank'] },
  );
  const override = (o: Partial<ScheduleOverride>): ScheduleOverride => ({
    id: 'o1',
    scheduleId: 'primary',
    from: '2026-01-05T10:00:00Z',
    to: '2026-01-05T14:00:00Z',
    responder: 'dave',
    ...o,
  });

  it('a responder covering a specific person takes their place, after the rotations', () => {
    const covers = [override({ replaces: 'alice' })];
    expect(who(s, '2026-01-05T12:00:00Z', covers)).toEqual(['erin', 'dave']);
  });

  it('covering someone who is not on call changes nothing', () => {
    const covers = [override({ replaces: 'bob' })];
    expect(who(s, '2026-01-05T12:00:00Z', covers)).toEqual(['alice', 'erin']);
  });

  it('covering someone with a person already on call leaves them on call once', () => {
    const covers = [override({ replaces: 'alice', responder: 'erin' })];
    expect(who(s, '2026-01-05T12:00:00Z', covers)).toEqual(['erin']);
  });

  it('a responder covering everyone is the only one on call', () => {
    expect(who(s, '2026-01-05T12:00:00Z', [override({})])).toEqual(['dave']);
  });

  it('an override applies from its start (inclusive) until its end (exclusive)', () => {
    const covers = [override({ replaces: 'alice' })];
    expect(who(s, '2026-01-05T09:59:59.999Z', covers)).toEqual(['alice', 'erin']);
    expect(who(s, '2026-01-05T10:00:00Z', covers)).toEqual(['erin', 'dave']);
    expect(who(s, '2026-01-05T13:59:59.999Z', covers)).toEqual(['erin', 'dave']);
    expect(who(s, '2026-01-05T14:00:00Z', covers)).toEqual(['alice', 'erin']);
  });

  it('overlapping overrides apply in order of start, whatever their order in the list', () => {
    const daveForAlice = override({ id: 'late-id', replaces: 'alice' });
    const gregForDave = override({
      id: 'early-id',
      from: '2026-01-05T11:00:00Z',
      to: '2026-01-05T13:00:00Z',
      responder: 'greg',
      replaces: 'dave',
    });
    for (const covers of [
      [daveForAlice, gregForDave],
      [gregForDave, daveForAlice],
    ]) {
      expect(who(s, '2026-01-05T10:30:00Z', covers)).toEqual(['erin', 'dave']);
      expect(who(s, '2026-01-05T12:00:00Z', covers)).toEqual(['erin', 'greg']);
      expect(who(s, '2026-01-05T13:30:00Z', covers)).toEqual(['erin', 'dave']);
    }
  });

  it('overrides starting at the same instant apply in order of id', () => {
    const everyone = override({ id: 'a-everyone' });
    const gregForAlice = override({ id: 'b-greg', responder: 'greg', replaces: 'alice' });
    // a-everyone first: alice is no longer on call when b-greg applies.
    expect(who(s, '2026-01-05T12:00:00Z', [gregForAlice, everyone])).toEqual(['dave']);
    const gregFirst = { ...gregForAlice, id: '0-greg' };
    expect(who(s, '2026-01-05T12:00:00Z', [everyone, gregFirst])).toEqual(['dave']);
    const daveForGreg = override({ id: 'c-dave', replaces: 'greg', responder: 'dave' });
    expect(who(s, '2026-01-05T12:00:00Z', [daveForGreg, gregFirst])).toEqual(['erin', 'dave']);
  });

  it('an override of another schedule is ignored', () => {
    const covers = [override({ scheduleId: 'secondary' })];
    expect(who(s, '2026-01-05T12:00:00Z', covers)).toEqual(['alice', 'erin']);
  });

  it('an override can cover someone before their rotation has started', () => {
    expect(who(s, '2026-01-04T12:00:00Z', [override({ from: '2026-01-04T00:00:00Z' })])).toEqual(['dave']);
    const covers = [override({ from: '2026-01-04T00:00:00Z', replaces: 'alice' })];
    expect(who(s, '2026-01-04T12:00:00Z', covers)).toEqual([]);
  });
});

describe('ScheduleOverrideSchema', () => {
  const valid = {
    id: 'cover-alice',
    scheduleId: 'primary',
    from: '2026-01-05T10:00:00+01:00',
    to: '2026-01-05T14:00:00Z',
    responder: 'dave',
    replaces: 'alice',
  };
  const fieldsOf = (input: unknown): string[] => {
    const result = ScheduleOverrideSchema.safeParse(input);
    return result.success ? [] : fieldErrors(result.error).map((e) => e.field);
  };

  it('accepts an override with or without replaces', () => {
    expect(ScheduleOverrideSchema.parse(valid)).toEqual(valid);
    const { replaces: _, ...everyone } = valid;
    expect(fieldsOf(everyone)).toEqual([]);
  });

  it('rejects an end that is not after the start, naming to', () => {
    expect(fieldsOf({ ...valid, to: '2026-01-05T09:00:00Z' })).toEqual(['to']); // = 10:00+01:00
    expect(fieldsOf({ ...valid, to: '2026-01-05T08:00:00Z' })).toEqual(['to']);
  });

  it('rejects date-times without an offset and ids that are not slugs', () => {
    expect(fieldsOf({ ...valid, from: '2026-01-05T10:00:00' })).toEqual(['from']);
    expect(fieldsOf({ ...valid, id: 'Cover Alice', responder: '' })).toEqual(['id', 'responder']);
  });

  it('rejects someone covering themselves, naming replaces', () => {
    expect(fieldsOf({ ...valid, replaces: 'dave' })).toEqual(['replaces']);
  });
});
