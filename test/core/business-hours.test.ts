import { describe, expect, it } from 'vitest';
import {
  businessHoursFor,
  businessStartText,
  inBusinessHours,
  nextBusinessStart,
} from '#core/business-hours';
import { parseConfig } from '#core/config';

const BERLIN = 'Europe/Berlin';
const hours = {
  days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri')[],
  from: '09:00',
  to: '17:00',
  severities: ['SEV-4' as const],
};
const next = (at: string) => new Date(nextBusinessStart(hours, Date.parse(at), BERLIN)).toISOString();
const inside = (at: string) => inBusinessHours(hours, Date.parse(at), BERLIN);

describe('business hours', () => {
  it('are inside from 09:00 up to 17:00 local time on the listed days', () => {
    expect(inside('2026-11-26T08:00:00Z')).toBe(true); // Thu 09:00 CET
    expect(inside('2026-11-26T07:59:59Z')).toBe(false);
    expect(inside('2026-11-26T15:59:59Z')).toBe(true);
    expect(inside('2026-11-26T16:00:00Z')).toBe(false); // 17:00
    expect(inside('2026-11-28T10:00:00Z')).toBe(false); // Saturday
  });

  it('start next at 09:00 of the next listed day: tonight → tomorrow, Friday evening → Monday', () => {
    expect(next('2026-11-26T02:00:00Z')).toBe('2026-11-26T08:00:00.000Z'); // Thu 03:00 → Thu 09:00
    expect(next('2026-11-26T20:00:00Z')).toBe('2026-11-27T08:00:00.000Z'); // Thu 21:00 → Fri 09:00
    expect(next('2026-11-27T16:30:00Z')).toBe('2026-11-30T08:00:00.000Z'); // Fri 17:30 → Mon 09:00
    expect(next('2026-11-29T12:00:00Z')).toBe('2026-11-30T08:00:00.000Z'); // Sunday → Monday
    expect(businessStartText(Date.parse('2026-11-30T08:00:00Z'), BERLIN)).toBe(
      '09:00 Mon 30 Nov (Europe/Berlin)',
    );
  });

  it('keep 09:00 on the clock across a DST change (Berlin, Sunday 2026-10-25 and 2026-03-29)', () => {
    // Friday 23 Oct 18:00 CEST (UTC+2) → Monday 26 Oct 09:00 CET (UTC+1).
    expect(next('2026-10-23T16:00:00Z')).toBe('2026-10-26T08:00:00.000Z');
    expect(next('2026-03-27T16:00:00Z')).toBe('2026-03-30T07:00:00.000Z'); // → CEST
    // A start the clocks skip is the moment they jump (02:30 does not exist on 29 March).
    const night = { ...hours, days: ['Sun' as never], from: '02:30', to: '04:00' };
    expect(new Date(nextBusinessStart(night, Date.parse('2026-03-28T12:00:00Z'), BERLIN)).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });

  it('hold back only the severities they list, unless the service pages around the clock', () => {
    const config = parseConfig({
      businessHours: {},
      services: [
        { id: 'checkout', name: 'Checkout' },
        { id: 'billing', name: 'Billing', businessHours: false },
        { id: 'search', name: 'Search', businessHours: { severities: ['SEV-3'] } },
      ],
    });
    expect(businessHoursFor(config, 'checkout', 'SEV-4')).toEqual({
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
      from: '09:00',
      to: '17:00',
      severities: ['SEV-4'],
    });
    expect(businessHoursFor(config, 'checkout', 'SEV-2')).toBeUndefined();
    expect(businessHoursFor(config, 'billing', 'SEV-4')).toBeUndefined();
    // The service's own hours, not the top-level ones.
    expect(businessHoursFor(config, 'search', 'SEV-3')).toMatchObject({ severities: ['SEV-3'] });
    expect(businessHoursFor(config, 'search', 'SEV-4')).toBeUndefined();
    expect(businessHoursFor(parseConfig({ services: config.services }), 'checkout', 'SEV-4')).toBeUndefined();
  });
});
