import type * as z from 'zod/mini';
import { type FieldError, ValidationError } from './errors.ts';

/**
 * Flattens zod issues into `{ field, message }` pairs with dotted paths (`alerts.0.labels`). An
 * unknown key of a strict object is named as a field of its own (`impact.users`), one per key:
 * zod reports them together on the object, which would name the object (or `(root)`) instead.
 */
export function fieldErrors(error: z.core.$ZodError, prefix = ''): FieldError[] {
  const named = (path: readonly PropertyKey[]) =>
    [prefix, path.map(String).join('.')].filter(Boolean).join('.') || '(root)';
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: named([...issue.path, key]), message: 'is not a known field' }))
      : [{ field: named(issue.path), message: issue.message }],
  );
}

/** Parses `input` with `schema` or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const errors = fieldErrors(result.error);
    throw new ValidationError(`invalid ${what}: ${errors.map((e) => e.field).join(', ')}`, errors);
  }
  return result.data;
}
