import fc from 'fast-check';

/**
 * Mutations of valid JSON payloads for fuzzing: drop a field, give it the wrong type, make it
 * huge, fill it with unicode, null it, add unknown fields. Each mutation says which path it
 * touched, so a 400 can be checked to name it.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Path = readonly (string | number)[];

export interface Mutation {
  readonly kind: 'drop' | 'type' | 'huge' | 'unicode' | 'null' | 'extra' | 'value';
  readonly path: Path;
  readonly value?: Json;
}

/** Every path in `value` (objects' keys and arrays' indexes, at every depth). */
export function pathsOf(value: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push([...prefix, i], ...pathsOf(item, [...prefix, i]));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value))
      out.push([...prefix, key], ...pathsOf(item, [...prefix, key]));
  }
  return out;
}

const DROP = Symbol('drop');

function setAt(value: Json, path: Path, replacement: Json | typeof DROP): Json {
  if (path.length === 0) return replacement === DROP ? null : replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value) && typeof head === 'number') {
    const copy = [...value];
    if (rest.length === 0 && replacement === DROP) copy.splice(head, 1);
    else copy[head] = setAt(copy[head] ?? null, rest, replacement);
    return copy;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const copy: { [key: string]: Json } = { ...value };
    const key = String(head);
    if (rest.length === 0 && replacement === DROP) delete copy[key];
    else copy[key] = setAt(copy[key] ?? null, rest, replacement);
    return copy;
  }
  return value; // the path no longer exists (an earlier mutation removed it)
}

export function applyMutations(base: Json, mutations: readonly Mutation[]): Json {
  return mutations.reduce<Json>((value, m) => {
    if (m.kind === 'drop') return setAt(value, m.path, DROP);
    if (m.kind === 'extra') return setAt(value, m.path, m.value ?? null);
    return setAt(value, m.path, m.value ?? null);
  }, base);
}

/** The dotted form validation errors use (`alerts.0.labels`). */
export const dotted = (path: Path) => path.map(String).join('.');

/** Strings that break things: empty, blank, control characters, unicode, lone surrogates. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\t\n',
    '\u0000',
    '\ud800',
    '\udfff',
    '💥',
    'é\u0301',
    '\u202e',
    'null',
    '-1',
    '1e400',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** A value of some JSON type, for "wrong type" mutations. */
export const anyJson: fc.Arbitrary<Json> = fc.oneof<fc.Arbitrary<Json>[]>(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([] as Json[]),
  fc.constant({} as Json),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  nastyString,
);

/** Lengths around the limits (255, 1024, PagerDuty's 512 KB body). */
export const hugeString = fc.constantFrom(256, 1025, 70_000, 600_000).map((n) => 'x'.repeat(n));

/** One mutation somewhere in `base` (paths listed once, up front). */
export function mutation(base: Json, options: { extraKeys?: boolean } = {}): fc.Arbitrary<Mutation> {
  const paths = pathsOf(base);
  const path = fc.constantFrom(...paths);
  const objects = [[] as Path, ...paths.filter((p) => isObjectAt(base, p))];
  return fc.oneof(
    path.map((p): Mutation => ({ kind: 'drop', path: p })),
    fc.tuple(path, anyJson).map(([p, value]): Mutation => ({ kind: 'type', path: p, value })),
    fc.tuple(path, hugeString).map(([p, value]): Mutation => ({ kind: 'huge', path: p, value })),
    fc.tuple(path, nastyString).map(([p, value]): Mutation => ({ kind: 'unicode', path: p, value })),
    path.map((p): Mutation => ({ kind: 'null', path: p })),
    ...(options.extraKeys === false
      ? []
      : [
          fc
            .tuple(fc.constantFrom(...objects), fc.string({ minLength: 1, maxLength: 8 }), anyJson)
            .filter(([p, key]) => !Object.hasOwn(valueAt(base, p) as object, key))
            .map(([p, key, value]): Mutation => ({ kind: 'extra', path: [...p, key], value })),
        ]),
  );
}

function valueAt(value: Json, path: Path): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(key)] : current[String(key)];
  }
  return current;
}

function isObjectAt(value: Json, path: Path): boolean {
  const found = valueAt(value, path);
  return found !== null && typeof found === 'object' && !Array.isArray(found);
}

const short = (value: Json | undefined) => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
};

/** 1..3 mutations of `base`, and the mutated payload (printed as its mutations, huge values cut). */
export function mutated(base: Json, options: { extraKeys?: boolean } = {}) {
  return fc.array(mutation(base, options), { minLength: 1, maxLength: 3 }).map((mutations) => ({
    mutations,
    value: applyMutations(base, mutations),
    [fc.toStringMethod]: () =>
      mutations
        .map((m) => `${m.kind} ${dotted(m.path)}${m.value === undefined ? '' : ` = ${short(m.value)}`}`)
        .join('; '),
  }));
}

/**
 * Whether the error field `field` names the mutated path `path`: the same field, a parent of it
 * (an object or array that became invalid as a whole) or a child of it (a field the mutated value
 * lacks).
 */
export function names(field: string, path: Path): boolean {
  const p = dotted(path);
  return field === p || p.startsWith(`${field}.`) || field.startsWith(`${p}.`) || field === '(root)';
}
