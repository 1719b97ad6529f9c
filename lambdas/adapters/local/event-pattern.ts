import type { EventPattern } from '#core/routing';

/**
 * EventBridge event-pattern matching for the local bus: the subset Klaxon's routes use and a
 * little more (exact values, prefix, anything-but, exists, numeric equality via exact values),
 * with EventBridge's rule that an array in the pattern matches if any element matches.
 */
export function matchesPattern(
  pattern: EventPattern | Readonly<Record<string, unknown>>,
  event: unknown,
): boolean {
  if (event === null || typeof event !== 'object') return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([field, expected]) => matchField(expected, fields[field]));
}

function matchField(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    const values = Array.isArray(actual) ? actual : [actual];
    return expected.some((rule) => values.some((value) => matchValue(rule, value, actual)));
  }
  if (expected !== null && typeof expected === 'object') {
    return matchesPattern(expected as Record<string, unknown>, actual);
  }
  return false;
}

function matchValue(rule: unknown, value: unknown, whole: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return value === rule;
  const r = rule as Record<string, unknown>;
  if ('exists' in r) return (whole !== undefined) === r.exists;
  if (typeof r.prefix === 'string') return typeof value === 'string' && value.startsWith(r.prefix);
  if ('anything-but' in r) {
    const excluded = Array.isArray(r['anything-but']) ? r['anything-but'] : [r['anything-but']];
    return value !== undefined && !excluded.includes(value);
  }
  return false;
}
