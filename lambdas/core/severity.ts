import type { SourceSeverity } from './alert.ts';

export const SEVERITIES = ['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'] as const;
export type Severity = (typeof SEVERITIES)[number];

const FROM_SOURCE: Readonly<Record<SourceSeverity, Severity>> = {
  critical: 'SEV-1',
  error: 'SEV-2',
  warning: 'SEV-3',
  info: 'SEV-4',
};

/** Until the incident-command work refines it: critical→SEV-1, error→SEV-2, warning→SEV-3, info→SEV-4. */
export function severityFromSource(severity: SourceSeverity): Severity {
  return FROM_SOURCE[severity];
}

/** Minutes between status-update reminders while an incident is open; undefined: none. */
export function reminderIntervalMinutes(severity: Severity): number | undefined {
  return severity === 'SEV-1' ? 15 : severity === 'SEV-2' ? 30 : undefined;
}
