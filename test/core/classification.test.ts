import { describe, expect, it } from 'vitest';
import { classify, mapSourceSeverity, warRoomName } from '#core/classification';

describe('severity classification matrix (the most severe indication wins)', () => {
  it.each([
    [{ usersAffectedPercent: 60 }, 'SEV-1'],
    [{ usersAffectedPercent: 50 }, 'SEV-2'],
    [{ usersAffectedPercent: 10 }, 'SEV-2'],
    [{ usersAffectedPercent: 9.9 }, 'SEV-3'],
    [{ usersAffectedPercent: 1 }, 'SEV-3'],
    [{ usersAffectedPercent: 0.5 }, 'SEV-4'],
    [{ revenuePerHour: 10_001 }, 'SEV-1'],
    [{ revenuePerHour: 10_000 }, 'SEV-2'],
    [{ revenuePerHour: 1_000 }, 'SEV-2'],
    [{ revenuePerHour: 999 }, 'SEV-3'],
    [{ revenuePerHour: 0 }, 'SEV-4'],
    [{ slaRisk: 'yes' }, 'SEV-1'],
    [{ slaRisk: 'maybe' }, 'SEV-2'],
    [{ slaRisk: 'no' }, 'SEV-4'],
    [{ usersAffectedPercent: 5, revenuePerHour: 20_000 }, 'SEV-1'],
    [{ usersAffectedPercent: 0.1, revenuePerHour: 0, slaRisk: 'maybe' }, 'SEV-2'],
    [{ usersAffectedPercent: 30, slaRisk: 'no' }, 'SEV-2'],
  ] as const)('%o → %s', (impact, severity) => {
    expect(classify(impact)?.severity).toBe(severity);
  });

  it('says why', () => {
    expect(classify({ usersAffectedPercent: 60, revenuePerHour: 500, slaRisk: 'no' })).toEqual({
      severity: 'SEV-1',
      reasons: ['users affected 60% → SEV-1', 'revenue impact $500/h → SEV-3', 'SLA risk no → no raise'],
    });
  });

  it('gives nothing without an indication', () => {
    expect(classify({})).toBeUndefined();
  });
});

describe('source severity mapping', () => {
  it('defaults critical→SEV-1, error→SEV-2, warning→SEV-3, info→SEV-4, and a service may override', () => {
    expect(['critical', 'error', 'warning', 'info'].map((s) => mapSourceSeverity(s as 'info'))).toEqual([
      'SEV-1',
      'SEV-2',
      'SEV-3',
      'SEV-4',
    ]);
    expect(mapSourceSeverity('error', { error: 'SEV-1' })).toBe('SEV-1');
    expect(mapSourceSeverity('warning', { error: 'SEV-1' })).toBe('SEV-3');
  });
});

describe('war room name', () => {
  it('is #incident-YYYYMMDD-<slug> with the local date of detection', () => {
    expect(warRoomName('High API error rate!', '2026-11-26T14:30:00.000Z', 'Europe/Berlin')).toBe(
      '#incident-20261126-high-api-error-rate',
    );
    // 23:30 UTC is already the next day in Berlin.
    expect(warRoomName('Disk full', '2026-11-26T23:30:00.000Z', 'Europe/Berlin')).toBe(
      '#incident-20261127-disk-full',
    );
  });

  it('folds accents, drops symbols, fits Slack’s 80 characters, and never ends empty', () => {
    expect(warRoomName('Zahlungsdienst für Größen – Ausfall', '2026-11-26T10:00:00Z', 'UTC')).toBe(
      '#incident-20261126-zahlungsdienst-fur-grossen-ausfall',
    );
    const long = warRoomName('a very long title '.repeat(10), '2026-11-26T10:00:00Z', 'UTC');
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long.endsWith('-')).toBe(false);
    expect(warRoomName('🔥🔥', '2026-11-26T10:00:00Z', 'UTC')).toBe('#incident-20261126-untitled');
  });
});
