import { describe, expect, it } from 'vitest';
import { PEOPLE_ENTRY_TYPES, renderTimelineEntry, TIMELINE_TYPES, type TimelineEntry } from '#core/incident';

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

describe('the timeline types', () => {
  it("keep their positions (the store's sort keys rank same-instant entries by them): new ones are appended", () => {
    expect(TIMELINE_TYPES.indexOf('ACTION')).toBe(8);
    expect(TIMELINE_TYPES.indexOf('RESOLVED')).toBe(13);
    expect(TIMELINE_TYPES.indexOf('DIGESTED')).toBe(25);
    expect(TIMELINE_TYPES.slice(26)).toEqual(['UPDATE', 'ROLE_REMOVED', 'SNOOZED']);
    for (const type of PEOPLE_ENTRY_TYPES) expect(TIMELINE_TYPES).toContain(type);
  });

  it('render a status update like any other entry', () => {
    expect(
      renderTimelineEntry({ ...entry, type: 'UPDATE', who: 'dave', text: 'EU checkout restored' }, 'UTC'),
    ).toBe('[09:44] [@dave] [UPDATE] EU checkout restored');
  });
});
