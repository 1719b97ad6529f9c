import { describe, expect, it } from 'vitest';
import { renderTimelineEntry, type TimelineEntry } from '#core/incident';

const entry: TimelineEntry = {
  id: 'e1',
  incidentId: 'inc1',
  at: '2026-11-26T09:44:00.000Z',
  type: 'OPENED',
  who: 'klaxon',
  text: 'Incident opened: p 5',
};

describe('a rendered timeline line', () => {
  it('is [HH:MM] [@who] [TYPE] text in the config time zone', () => {
    expect(renderTimelineEntry(entry, 'Europe/Berlin')).toBe(
      '[10:44] [@klaxon] [OPENED] Incident opened: p 5',
    );
  });

  it('says who was paged and whose contacts the throttle held back', () => {
    expect(
      renderTimelineEntry({ ...entry, paged: ['alice'], throttled: ['carol-0', 'carol-1'] }, 'UTC'),
    ).toBe('[09:44] [@klaxon] [OPENED] Incident opened: p 5 · paged: alice · throttled: carol-0, carol-1');
    expect(renderTimelineEntry({ ...entry, paged: [], throttled: ['carol-0'] }, 'UTC')).toBe(
      '[09:44] [@klaxon] [OPENED] Incident opened: p 5 · throttled: carol-0',
    );
  });
});
