export const SEVERITIES = ['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * A major incident (SEV-1/2; PagerDuty's high urgency): it requires a postmortem, its pages have
 * their own throttle, and its acknowledger is asked for updates and re-assessments.
 */
export function isMajor(severity: Severity): boolean {
  return severity === 'SEV-1' || severity === 'SEV-2';
}

/** Minutes between status-update reminders while an incident is open; undefined: none. */
export function reminderIntervalMinutes(severity: Severity): number | undefined {
  return severity === 'SEV-1' ? 15 : severity === 'SEV-2' ? 30 : undefined;
}
