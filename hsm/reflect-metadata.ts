/**
 * The part of the `reflect-metadata` API that tsyringe (a dependency of @peculiar/x509 2) requires at load
 * time. Installed only when absent, so the real `reflect-metadata` package, if present, wins. Import this
 * module before `@peculiar/x509`. Replace by `import 'reflect-metadata'` once that package is a dependency.
 */
type Target = object;
type MetadataMap = Map<unknown, unknown>;

const store = new WeakMap<Target, Map<PropertyKey | undefined, MetadataMap>>();

function own(target: Target, property: PropertyKey | undefined, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (!map && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

function lookup(key: unknown, target: Target, property?: PropertyKey): unknown {
  for (let current: Target | null = target; current; current = Object.getPrototypeOf(current) as Target | null) {
    const map = own(current, property, false);
    if (map?.has(key)) return map.get(key);
  }
  return undefined;
}

const api = {
  defineMetadata(key: unknown, value: unknown, target: Target, property?: PropertyKey): void {
    own(target, property, true)?.set(key, value);
  },
  getOwnMetadata(key: unknown, target: Target, property?: PropertyKey): unknown {
    return own(target, property, false)?.get(key);
  },
  hasOwnMetadata(key: unknown, target: Target, property?: PropertyKey): boolean {
    return own(target, property, false)?.has(key) ?? false;
  },
  getMetadata: lookup,
  hasMetadata(key: unknown, target: Target, property?: PropertyKey): boolean {
    return lookup(key, target, property) !== undefined;
  },
  metadata(key: unknown, value: unknown) {
    return (target: Target, property?: PropertyKey): void => api.defineMetadata(key, value, target, property);
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  for (const [name, fn] of Object.entries(api)) {
    Object.defineProperty(Reflect, name, { value: fn, writable: true, configurable: true });
  }
}
