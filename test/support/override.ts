/**
 * `target` with some of its methods replaced, for a test to make one call fail, race or lag.
 * Every other method is bound to `target` itself, so classes with private fields keep working;
 * an override that needs the original calls it on `target`.
 */
export function overriding<T extends object>(target: T, overrides: { [K in keyof T]?: T[K] }): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}
