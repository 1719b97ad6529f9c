import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '#core/errors';
import { publicUrl } from '#local/settings';

const saved = process.env.KLAXON_PUBLIC_URL;
afterEach(() => {
  if (saved === undefined) delete process.env.KLAXON_PUBLIC_URL;
  else process.env.KLAXON_PUBLIC_URL = saved;
});

describe('KLAXON_PUBLIC_URL', () => {
  it('is the base of every link, without a trailing slash', () => {
    process.env.KLAXON_PUBLIC_URL = 'http://192.168.1.20:3000/';
    expect(publicUrl()).toBe('http://192.168.1.20:3000');
    process.env.KLAXON_PUBLIC_URL = '';
    expect(publicUrl()).toBeUndefined();
  });

  it('refuses what links cannot be built on (no scheme, a query, a fragment), naming it', () => {
    for (const value of ['klaxon.lan:3000', 'http://h:3000/?x=1', 'http://h:3000/#top']) {
      process.env.KLAXON_PUBLIC_URL = value;
      let refused: unknown;
      try {
        publicUrl();
      } catch (error) {
        refused = error;
      }
      expect(refused, value).toBeInstanceOf(ConfigError);
      expect((refused as ConfigError).errors.map((e) => e.field)).toEqual(['KLAXON_PUBLIC_URL']);
    }
  });
});
