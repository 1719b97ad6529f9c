import type * as z from 'zod';
import { type FieldError, ValidationError } from './errors.ts';

/** Flattens zod issues into `{ field, message }` pairs with dotted paths (`alerts.0.labels`). */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const field = [prefix, path].filter(Boolean).join('.') || '(root)';
    return { field, message: issue.message };
  });
}

/** Parses `input` with `schema` or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const errors = fieldErrors(result.error);
    throw new ValidationError(`invalid ${what}: ${errors.map((e) => e.field).join(', ')}`, errors);
  }
  return result.data;
}
