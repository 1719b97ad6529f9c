import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * Klaxon builds its schemas with `zod/mini`, which leaves out classic zod's method layer and
 * its JSON Schema processors (~30 kB of every function's bundle). Unlike classic zod, mini does
 * not install the English error messages itself: without them every issue reads "Invalid input".
 * Every schema module imports this one, so the messages are configured before any parse.
 */
z.config(en());

/**
 * Built on first use, not at import. A Lambda function's cold start includes importing every
 * module of its bundle, and building zod schemas was most of what Klaxon's own modules did at
 * import (~25 ms of a function's ~90), while an invocation uses a few of them (and the import
 * none). These helpers defer the building to the first use, then keep the result.
 */

/** `build()` on the first call, the same value on every later one. */
export function once<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}

/**
 * A schema built on first use: a `z.lazy` around `build`, so it parses, composes and converts
 * to JSON Schema like the built schema (which `built()` returns, built once, e.g. for `.shape`
 * or `z.extend`). Metadata given at the built schema's top level (`z.meta()`, `z.describe()`)
 * reaches JSON Schema but not the registry lookup of the lazy one callers hold: prefer `once`
 * for such schemas.
 *
 * Mark every call pure (a block comment `@__PURE__` right before it): the mark tells the bundler
 * the call has no side effects, so a schema a function never uses is left out of its bundle (without it esbuild keeps
 * every module-level call and all it names: 8 kB of the api function). test/core/lazy.test.ts
 * checks every call has it.
 */
export function lazySchema<S extends z.ZodMiniType>(build: () => S): z.ZodMiniLazy<S> {
  return z.lazy(once(build));
}

/** The schema a `lazySchema` builds (built now if it was not yet): for its `.shape`, or to extend it. */
export function built<S extends z.ZodMiniType>(schema: z.ZodMiniLazy<S>): S {
  return schema._zod.innerType;
}
