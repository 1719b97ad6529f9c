export const SEVERITIES = ['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Minutes between status-update reminders while an incident is open; undefined: none. */
export function reminderIntervalMinutes(severity: Severity): number | undefined {
  return severity === 'SEV-1' ? 15 : severity === 'SEV-2' ? 30 : undefined;
}
