import { describe, expect, it } from 'vitest';
import { descriptionOf, normalizeTimestamp, truncate } from '#formats/shared';

describe('vendor timestamps', () => {
  it.each([
    ['2019-10-02T17:04:40.989+0000', '2019-10-02T17:04:40.989Z'],
    ['2015-07-17T08:42:58.315+0000', '2015-07-17T08:42:58.315Z'],
    ['2021-10-12T09:51:03.157076+02:00', '2021-10-12T07:51:03.157Z'],
    ['2018-08-03T09:52:26.739266876+02:00', '2018-08-03T07:52:26.739Z'],
    ['2023-02-06T13:08:45.828Z', '2023-02-06T13:08:45.828Z'],
    ['2019-10-02T17:04:40Z', '2019-10-02T17:04:40.000Z'],
    ['2019-10-02T12:04:40-0500', '2019-10-02T17:04:40.000Z'],
    ['2019-10-02T19:04:40+02', '2019-10-02T17:04:40.000Z'],
    ['2019-10-02 17:04:40Z', '2019-10-02T17:04:40.000Z'],
    ['2019-10-02T17:04Z', '2019-10-02T17:04:00.000Z'],
    ['2019-10-02T17:04:40.5', '2019-10-02T17:04:40.500Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
  });

  it.each([
    'yesterday',
    '2019-10-02',
    '1570035880',
    '2019-02-30T00:00:00Z',
    '2019-10-02T25:00:00Z',
    '2019-10-02T17:04:40+2500',
    '02/10/19 16:59:00',
  ])('refuses %s', (input) => {
    expect(normalizeTimestamp(input)).toBeUndefined();
  });
});

describe('truncate', () => {
  it('leaves text at the limit alone', () => {
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('cuts longer text to the limit, ending in an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
  });

  it('does not split an emoji in half', () => {
    const cut = truncate(`ab${'🔥'.repeat(3)}`, 4);
    expect(cut).toBe('ab…');
    expect(cut.length).toBeLessThanOrEqual(4);
  });
});

describe('descriptionOf', () => {
  it('keeps text as it is (trimmed), and has nothing for blank or absent', () => {
    expect(descriptionOf('  Disk almost full\n  on db-1 ')).toBe('Disk almost full\n  on db-1');
    expect(descriptionOf('   ')).toBeUndefined();
    expect(descriptionOf(null)).toBeUndefined();
    expect(descriptionOf(undefined)).toBeUndefined();
  });

  it('writes a map as key: value lines, nested values as JSON, empty ones left out', () => {
    expect(
      descriptionOf({ 'free space': '1%', load: 0.75, ok: false, top: { a: [1] }, none: null, blank: ' ' }),
    ).toBe('free space: 1%\nload: 0.75\nok: false\ntop: {"a":[1]}');
    expect(descriptionOf({})).toBeUndefined();
    expect(descriptionOf([])).toBeUndefined();
    expect(descriptionOf([1, 'two'])).toBe('[1,"two"]');
    expect(descriptionOf(42)).toBe('42');
  });

  it('cuts it to 1,024 characters, marking the cut', () => {
    const long = descriptionOf({ log: 'x'.repeat(5000) }) ?? '';
    expect(long).toHaveLength(1024);
    expect(long.endsWith('x…')).toBe(true);
  });
});
