import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { built, lazySchema, once } from '#core/lazy';

describe('once', () => {
  it('builds on the first call only, and returns the same value after', () => {
    const build = vi.fn(() => ({ built: true }));
    const get = once(build);
    expect(build).not.toHaveBeenCalled();
    const first = get();
    expect(get()).toBe(first);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('keeps an undefined result too', () => {
    const build = vi.fn(() => undefined);
    const get = once(build);
    get();
    get();
    expect(build).toHaveBeenCalledTimes(1);
  });
});

describe('lazySchema', () => {
  it('builds the schema on first use, once', () => {
    const build = vi.fn(() => z.object({ id: z.string().check(z.minLength(1)) }));
    const Schema = lazySchema(build);
    expect(build).not.toHaveBeenCalled();
    expect(Schema.safeParse({ id: 'a' }).success).toBe(true);
    expect(Schema.safeParse({ id: '' }).success).toBe(false);
    expect(built(Schema).shape.id).toBeDefined();
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('parses, reports paths and composes like the schema it builds', () => {
    const eager = z.object({ id: z.string().check(z.minLength(1)), n: z._default(z.int(), 1) });
    const Lazy = lazySchema(() =>
      z.object({ id: z.string().check(z.minLength(1)), n: z._default(z.int(), 1) }),
    );
    for (const input of [{ id: 'a' }, { id: '' }, { id: 'a', n: 1.5 }, null, { id: 'a', extra: true }]) {
      expect(Lazy.safeParse(input)).toEqual(eager.safeParse(input));
    }
    const Outer = z.object({ inner: z.optional(Lazy), list: z.array(Lazy) });
    expect(Outer.parse({ list: [{ id: 'x' }] })).toEqual({ list: [{ id: 'x', n: 1 }] });
    expect(Outer.safeParse({ list: [{ id: '' }] }).error?.issues[0]?.path).toEqual(['list', 0, 'id']);
  });

  it('converts to the same JSON Schema as the schema it builds', () => {
    const build = () =>
      z.strictObject({ id: z.string().check(z.minLength(1)), at: z.optional(z.iso.datetime()) });
    const Lazy = lazySchema(build);
    expect(z.toJSONSchema(Lazy, { io: 'input' })).toEqual(z.toJSONSchema(build(), { io: 'input' }));
    expect(z.toJSONSchema(z.object({ a: Lazy, b: Lazy }), { io: 'input' })).toEqual(
      z.toJSONSchema(z.object({ a: build(), b: build() }), { io: 'input' }),
    );
  });

  it('works as a discriminated union option', () => {
    const A = lazySchema(() => z.object({ kind: z.literal('a'), x: z.number() }));
    const B = lazySchema(() => z.object({ kind: z.literal('b'), y: z.string() }));
    const U = z.discriminatedUnion('kind', [A, B]);
    expect(U.parse({ kind: 'b', y: 'ok' })).toEqual({ kind: 'b', y: 'ok' });
    expect(U.safeParse({ kind: 'c' }).success).toBe(false);
  });
});

describe("zod/mini's messages", () => {
  it('are English: importing lazy.ts configures them (zod/mini alone says "Invalid input")', () => {
    const schema = z.object({
      n: z.int().check(z.gte(1)),
      s: z.string().check(z.maxLength(3)),
      e: z.enum(['a', 'b']),
    });
    expect(schema.safeParse({ n: 0, s: 'abcd', e: 'c' }).error?.issues.map((i) => i.message)).toEqual([
      'Too small: expected number to be >=1',
      'Too big: expected string to have <=3 characters',
      'Invalid option: expected one of "a"|"b"',
    ]);
    expect(schema.safeParse({ n: 1.5, s: 3, e: 'a' }).error?.issues.map((i) => i.message)).toEqual([
      'Invalid input: expected int, received number',
      'Invalid input: expected string, received number',
    ]);
  });
});

describe('lazySchema calls are marked pure for the bundler', () => {
  it('every call in lambdas/ has the @__PURE__ mark, so an unused schema is left out of a bundle', async () => {
    const files = (await readdir('lambdas', { recursive: true })).filter((f) => f.endsWith('.ts'));
    const unmarked: string[] = [];
    for (const file of files) {
      if (file === join('core', 'lazy.ts')) continue;
      const text = await readFile(join('lambdas', file), 'utf8');
      for (const [i, line] of text.split('\n').entries()) {
        if (/\blazySchema\(/.test(line) && !/\/\* @__PURE__ \*\/ lazySchema\(/.test(line))
          unmarked.push(`lambdas/${file}:${i + 1}`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(unmarked).toEqual([]);
  });
});
