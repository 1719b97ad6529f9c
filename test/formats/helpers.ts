import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Alert, AlertSchema } from '#core/alert';
import { type FieldError, ValidationError } from '#core/errors';
import type { IngestContext } from '#formats/types';

/** A fixture from test/fixtures, freshly parsed (callers may change it). */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
}

/** Marks a field to delete in `withField`. */
export const REMOVE = Symbol('remove');

/** A deep copy of `value` with the dotted `path` set to `field` (or deleted with REMOVE). */
export function withField(value: unknown, path: string, field: unknown): unknown {
  const copy: unknown = structuredClone(value);
  const keys = path.split('.');
  const last = keys.pop();
  let node: unknown = copy;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) throw new Error(`no ${path} in fixture`);
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null || last === undefined)
    throw new Error(`no ${path} in fixture`);
  const target = node as Record<string, unknown>;
  if (field === REMOVE) delete target[last];
  else target[last] = field;
  return copy;
}

/** Runs `fn`, expects a ValidationError, and returns its field errors. */
export function fieldErrors(fn: () => unknown): FieldError[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).errors];
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

/** The dotted names of the fields `fn` refuses. */
export function badFields(fn: () => unknown): string[] {
  return fieldErrors(fn).map((e) => e.field);
}

/** Asserts that `alert` is a valid canonical Alert, unchanged by parsing. */
export function expectCanonical(alert: Alert): void {
  const result = AlertSchema.safeParse(alert);
  expect(result.error?.issues ?? []).toEqual([]);
  expect(result.data).toEqual(alert);
}

export const ctx: IngestContext = {
  service: 'checkout',
  receivedAt: '2024-05-01T12:00:00.000Z',
  requestId: 'req-7f3a9c',
};
