import { describe, expect, it } from 'vitest';
import { isTimeZone, parseConfig } from '#core/config';
import { ConfigError } from '#core/errors';

const base = {
  services: [{ id: 'checkout', name: 'Checkout', escalationPolicy: 'checkout' }],
  responders: [
    { id: 'alice', name: 'Alice', contacts: [{ type: 'email', address: 'alice@example.com' }] },
    { id: 'bob', name: 'Bob', contacts: [{ type: 'sms', number: '+4915112345678' }] },
  ],
  schedules: [
    {
      id: 'primary',
      name: 'Primary',
      timeZone: 'Europe/Berlin',
      rotations: [
        { type: 'weekly', startDate: '2026-11-02', handoffTime: '09:00', participants: ['alice', 'bob'] },
      ],
    },
  ],
  escalationPolicies: [
    {
      id: 'checkout',
      levels: [
        { delayMinutes: 5, targets: [{ schedule: 'primary' }] },
        { delayMinutes: 10, targets: [{ responder: 'bob' }] },
      ],
      repeat: 1,
    },
  ],
};

/** The field paths a config error names. */
function fieldsOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.errors.map((e) => e.field);
    throw error;
  }
  return [];
}

describe('config', () => {
  it('accepts a complete config and fills the defaults', () => {
    const config = parseConfig(base);
    expect(config.timeZone).toBe('UTC');
    expect(config.services[0]?.ackTimeoutMinutes).toBe(30);
    expect(config.schedules[0]?.rotations[0]?.handoffTime).toBe('09:00');
  });

  it('names the field of every reference to something that does not exist', () => {
    const input = structuredClone(base) as Record<string, unknown> & typeof base;
    input.services[0] = { ...input.services[0], escalationPolicy: 'nope' } as (typeof base.services)[0];
    input.schedules[0]?.rotations[0]?.participants.push('carol');
    input.escalationPolicies[0]?.levels[1]?.targets.push({ schedule: 'secondary' } as never);
    expect(fieldsOf(input).sort()).toEqual([
      'escalationPolicies.0.levels.1.targets.1.schedule',
      'schedules.0.rotations.0.participants.2',
      'services.0.escalationPolicy',
    ]);
  });

  it('bounds escalation delays to 1..9000 minutes and repeats to 0..5, as GoAlert does', () => {
    const input = structuredClone(base);
    (input.escalationPolicies[0]?.levels[0] as { delayMinutes: number }).delayMinutes = 0;
    (input.escalationPolicies[0] as { repeat: number }).repeat = 6;
    expect(fieldsOf(input).sort()).toEqual([
      'escalationPolicies.0.levels.0.delayMinutes',
      'escalationPolicies.0.repeat',
    ]);
    (input.escalationPolicies[0]?.levels[0] as { delayMinutes: number }).delayMinutes = 9001;
    expect(fieldsOf(input)).toContain('escalationPolicies.0.levels.0.delayMinutes');
  });

  it('rejects bad contacts, time zones and rotations with the field named', () => {
    const input = structuredClone(base) as typeof base & { schedules: { timeZone: string }[] };
    (input.responders[1]?.contacts[0] as { number: string }).number = '0151 123';
    (input.schedules[0] as { timeZone: string }).timeZone = 'Mars/Olympus';
    (input.schedules[0]?.rotations[0] as { type: string }).type = 'custom';
    expect(fieldsOf(input).sort()).toEqual([
      'responders.1.contacts.0.number',
      'schedules.0.rotations.0.shiftHours',
      'schedules.0.timeZone',
    ]);
  });

  it('refuses a misspelt field by its path instead of dropping it, suggesting the known one', () => {
    const input = structuredClone(base) as typeof base & Record<string, unknown>;
    const { escalationPolicy, ...service } = input.services[0] as (typeof base.services)[0];
    input.services[0] = { ...service, escalation_policy: escalationPolicy } as never;
    const rotation = input.schedules[0]?.rotations[0] as Record<string, unknown>;
    delete rotation.handoffTime;
    rotation.handoff = '18:00';
    (input.responders[0]?.contacts[0] as Record<string, unknown>).adress = 'a@example.com';
    input.metrics = { rollupTime: '02:00', rollup: '03:00' };
    input.timezone = 'Europe/Berlin';
    let errors: readonly { field: string; message: string }[] = [];
    try {
      parseConfig(input);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors = error.errors;
    }
    expect(errors.map((e) => e.field).sort()).toEqual([
      'metrics.rollup',
      'responders.0.contacts.0.adress',
      'schedules.0.rotations.0.handoff',
      'services.0.escalation_policy',
      'timezone',
    ]);
    const message = (field: string) => errors.find((e) => e.field === field)?.message;
    expect(message('services.0.escalation_policy')).toBe(
      'is not a known field; did you mean escalationPolicy?',
    );
    expect(message('schedules.0.rotations.0.handoff')).toBe(
      'is not a known field; did you mean handoffTime?',
    );
    expect(message('timezone')).toBe('is not a known field; did you mean timeZone?');
    expect(message('metrics.rollup')).toBe('is not a known field; did you mean rollupTime?');
  });

  it('rejects duplicate ids', () => {
    const input = structuredClone(base);
    input.responders.push({ ...input.responders[0] } as (typeof base.responders)[0]);
    expect(fieldsOf(input)).toEqual(['responders.2.id']);
  });
});

describe('config: businessHours', () => {
  it('is absent by default; present, it fills Mon–Fri 09:00–17:00 for SEV-4', () => {
    expect(parseConfig(base).businessHours).toBeUndefined();
    expect(parseConfig({ ...base, businessHours: {} }).businessHours).toEqual({
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
      from: '09:00',
      to: '17:00',
      severities: ['SEV-4'],
    });
  });

  it('a service may have its own, or false to page around the clock', () => {
    const services = [
      { ...base.services[0], businessHours: false },
      { id: 'billing', name: 'Billing', businessHours: { from: '08:00', severities: ['SEV-3', 'SEV-4'] } },
    ];
    const config = parseConfig({ ...base, services });
    expect(config.services[0]?.businessHours).toBe(false);
    expect(config.services[1]?.businessHours).toMatchObject({ from: '08:00', to: '17:00' });
  });

  it('names the field of a bad day, time, severity, an empty range or a misspelt key', () => {
    const errors = (businessHours: unknown, where: 'top' | 'service' = 'top') => {
      try {
        parseConfig(
          where === 'top'
            ? { ...base, businessHours }
            : { ...base, services: [{ ...base.services[0], businessHours }] },
        );
      } catch (error) {
        if (error instanceof ConfigError) return error.errors.map((e) => `${e.field}: ${e.message}`);
        throw error;
      }
      return [];
    };
    expect(errors({ from: '17:00', to: '09:00' })).toEqual(['businessHours.to: must be after from (17:00)']);
    expect(errors({ from: '09:00', to: '09:00' })).toEqual(['businessHours.to: must be after from (09:00)']);
    expect(errors({ days: ['Mon', 'Funday'] })[0]).toMatch(/^businessHours\.days\.1: /);
    expect(errors({ days: ['Mon', 'Mon'] })).toEqual(['businessHours.days.1: duplicate day "Mon"']);
    expect(errors({ days: [] })[0]).toMatch(/^businessHours\.days: /);
    expect(errors({ from: '9am' })[0]).toMatch(/^businessHours\.from: must be a time of day/);
    expect(errors({ from: '18:00', to: '24:00' })).toEqual([
      'businessHours.to: cannot be 24:00: business hours end within their day, by 23:59 (nor cross midnight)',
    ]);
    expect(errors({ severities: ['SEV-5'] })[0]).toMatch(/^businessHours\.severities\.0: /);
    expect(errors({ day: ['Mon'] })).toEqual(['businessHours.day: is not a known field; did you mean days?']);
    expect(errors({ from: '18:00' }, 'service')).toEqual([
      'services.0.businessHours.to: must be after from (18:00)',
    ]);
    expect(errors(true, 'service')[0]).toMatch(/^services\.0\.businessHours: /);
  });
});

describe('isTimeZone', () => {
  /** What it stands in for: whether Intl.DateTimeFormat accepts the zone. */
  const accepted = (tz: string) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  };

  it('agrees with Intl.DateTimeFormat on canonical names, aliases, case and nonsense', () => {
    const names = [
      'UTC',
      'Etc/UTC',
      'GMT',
      'Europe/Berlin',
      'America/Argentina/Buenos_Aires',
      'Asia/Calcutta',
      'Europe/Kiev',
      'europe/berlin',
      'Etc/GMT+5',
      '+01:00',
      'Mars/Olympus',
      'Europe/Berlin ',
      '',
    ];
    for (const tz of names) expect(isTimeZone(tz), tz).toBe(accepted(tz));
    for (const tz of Intl.supportedValuesOf('timeZone')) expect(isTimeZone(tz), tz).toBe(true);
  });
});

describe('the config bundled into the functions', () => {
  it('is what synth validated, read back as it is: valid, defaults applied, the same document', async () => {
    const { readFile } = await import('node:fs/promises');
    const { bundledConfig } = await import('#app/env');
    const validated = parseConfig(JSON.parse(await readFile('klaxon.config.json', 'utf8')));
    const before = process.env.KLAXON_CONFIG_JSON;
    // What lib/constructs/klaxon-function.ts defines: JSON of parseConfig's output.
    process.env.KLAXON_CONFIG_JSON = JSON.stringify(validated);
    try {
      const bundled = bundledConfig();
      expect(bundled).toEqual(validated);
      // Validating it again would change nothing: the output is a valid config of itself.
      expect(parseConfig(bundled)).toEqual(bundled);
      expect(bundled.services.every((s) => s.resolveMonitoringMinutes !== undefined)).toBe(true);
    } finally {
      if (before === undefined) delete process.env.KLAXON_CONFIG_JSON;
      else process.env.KLAXON_CONFIG_JSON = before;
    }
  });
});
