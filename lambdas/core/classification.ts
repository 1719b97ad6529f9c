import type { SourceSeverity } from './alert.ts';
import { SEVERITIES, type Severity } from './severity.ts';
import { dateTimeFormat } from './wall-clock.ts';

/**
 * Severity from impact, after the practice's classification matrix:
 *
 * | users affected | revenue impact per hour | SLA risk | severity |
 * | > 50%          | > $10K                  | yes      | SEV-1    |
 * | 10–50%         | $1–10K                  | maybe    | SEV-2    |
 * | 1–10%          | < $1K                   | no       | SEV-3    |
 * | < 1%           | none                    | no       | SEV-4    |
 *
 * Each indication gives a severity; the most severe one wins. An SLA risk of "no" says only that
 * the SLA does not push the incident above SEV-3, so on its own it gives SEV-3 at most and never
 * raises anything. Boundaries: exactly 50% users is SEV-2, exactly 10% is SEV-2, exactly 1% is
 * SEV-3; exactly $10K/h is SEV-2, exactly $1K/h is SEV-2, anything above $0 below $1K is SEV-3.
 */
export interface Impact {
  /** Share of users affected, in percent (0..100). */
  readonly usersAffectedPercent?: number;
  /** Revenue lost per hour, in dollars (≥ 0). */
  readonly revenuePerHour?: number;
  readonly slaRisk?: 'yes' | 'maybe' | 'no';
}

export interface Classification {
  readonly severity: Severity;
  /** Why: one line per indication that was given, e.g. "users affected 60% → SEV-1". */
  readonly reasons: readonly string[];
}

function byUsers(percent: number): Severity {
  if (percent > 50) return 'SEV-1';
  if (percent >= 10) return 'SEV-2';
  if (percent >= 1) return 'SEV-3';
  return 'SEV-4';
}

function byRevenue(dollars: number): Severity {
  if (dollars > 10_000) return 'SEV-1';
  if (dollars >= 1_000) return 'SEV-2';
  if (dollars > 0) return 'SEV-3';
  return 'SEV-4';
}

const BY_SLA: Readonly<Record<NonNullable<Impact['slaRisk']>, Severity>> = {
  yes: 'SEV-1',
  maybe: 'SEV-2',
  no: 'SEV-4',
};

/** The most severe of the given severities (SEV-1 beats SEV-2 …). */
export function mostSevere(severities: readonly Severity[]): Severity | undefined {
  return [...severities].sort((a, b) => SEVERITIES.indexOf(a) - SEVERITIES.indexOf(b))[0];
}

/** Classifies an impact; undefined when no indication is given. */
export function classify(impact: Impact): Classification | undefined {
  const found: [Severity, string][] = [];
  if (impact.usersAffectedPercent !== undefined) {
    const s = byUsers(impact.usersAffectedPercent);
    found.push([s, `users affected ${impact.usersAffectedPercent}% → ${s}`]);
  }
  if (impact.revenuePerHour !== undefined) {
    const s = byRevenue(impact.revenuePerHour);
    found.push([s, `revenue impact $${impact.revenuePerHour}/h → ${s}`]);
  }
  if (impact.slaRisk !== undefined) {
    const s = BY_SLA[impact.slaRisk];
    found.push([s, `SLA risk ${impact.slaRisk} → ${impact.slaRisk === 'no' ? 'no raise' : s}`]);
  }
  const severity = mostSevere(found.map(([s]) => s));
  return severity === undefined ? undefined : { severity, reasons: found.map(([, why]) => why) };
}

/**
 * A declared impact as people read it, by the postmortem's lines: `users` ("60% of users
 * affected") and `business` ("$12,000 revenue per hour; SLA at risk: yes"); what was not declared
 * is absent.
 */
export function impactText(impact: Impact): { users?: string; business?: string } {
  const business = [
    ...(impact.revenuePerHour === undefined
      ? []
      : [`$${impact.revenuePerHour.toLocaleString('en-US')} revenue per hour`]),
    ...(impact.slaRisk === undefined ? [] : [`SLA at risk: ${impact.slaRisk}`]),
  ];
  return {
    ...(impact.usersAffectedPercent === undefined
      ? {}
      : { users: `${impact.usersAffectedPercent}% of users affected` }),
    ...(business.length === 0 ? {} : { business: business.join('; ') }),
  };
}

/** The declared impact on one line ("60% of users affected; $12,000 revenue per hour"). */
export function impactLine(impact: Impact): string {
  const { users, business } = impactText(impact);
  return [users, business].filter((part) => part !== undefined).join('; ');
}

/** Default mapping of source severities (Events v2, Alertmanager labels, CloudWatch ALARM → critical). */
export const DEFAULT_SOURCE_MAPPING: Readonly<Record<SourceSeverity, Severity>> = {
  critical: 'SEV-1',
  error: 'SEV-2',
  warning: 'SEV-3',
  info: 'SEV-4',
};

/** A source severity in a service's terms: the service's own mapping first, else the default. */
export function mapSourceSeverity(
  source: SourceSeverity,
  serviceMapping: Readonly<Partial<Record<SourceSeverity, Severity>>> = {},
): Severity {
  return serviceMapping[source] ?? DEFAULT_SOURCE_MAPPING[source];
}

/**
 * The war room's channel name: `#incident-YYYYMMDD-<slug of the title>`, with the date of
 * detection in the configured zone. Stable for the incident: it depends only on what never
 * changes (detection time, title at opening). Slack allows 80 characters.
 */
export function warRoomName(title: string, detectedAt: string, timeZone: string): string {
  const date = dateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .format(new Date(detectedAt))
    .replaceAll('-', '');
  const slug = title
    .replace(/ß/g, 'ss')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const prefix = `#incident-${date}-`;
  const trimmed = slug.slice(0, 80 - prefix.length).replace(/-+$/, '');
  return `${prefix}${trimmed || 'untitled'}`;
}
