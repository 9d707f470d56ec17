/**
 * Hand-written readers for configuration objects, each naming the field it rejects by path. Superseded by the
 * zod schemas (`fields.ts`, `schema.ts`; issue #11 item 7): still used by the sections not yet converted
 * (`ratelimit.ts`); a new section uses `fields.ts`.
 */
import { readSecretFile } from './secret-file.ts';
import { ConfigError } from '../errors.ts';

export type Obj = Record<string, unknown>;

/** The hosts a URL may name to use `http:` (a development or test party on the gateway's own host). */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

export function object(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(path, 'must be an object');
  return value as Obj;
}

/** Refuses keys the schema does not know: a typo must not silently fall back to a default. */
export function onlyKeys(obj: Obj, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      throw new ConfigError(join(path, key), `unknown setting (known: ${allowed.join(', ')})`);
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function string(
  obj: Obj,
  key: string,
  path: string,
  options: { default?: string; pattern?: RegExp; min?: number } = {},
): string {
  const value = obj[key] ?? options.default;
  const at = join(path, key);
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigError(at, value === undefined ? 'is required' : 'must be a non-empty string');
  if (options.min !== undefined && value.length < options.min)
    throw new ConfigError(at, `must be at least ${options.min} characters`);
  if (options.pattern && !options.pattern.test(value)) throw new ConfigError(at, `must match ${options.pattern}`);
  return value;
}

export function optionalString(obj: Obj, key: string, path: string): string | undefined {
  return obj[key] === undefined ? undefined : string(obj, key, path);
}

export function integer(
  obj: Obj,
  key: string,
  path: string,
  options: { default?: number; min?: number; max?: number } = {},
): number {
  const value = obj[key] ?? options.default;
  const at = join(path, key);
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new ConfigError(at, value === undefined ? 'is required' : 'must be an integer');
  if (options.min !== undefined && value < options.min) throw new ConfigError(at, `must be ≥ ${options.min}`);
  if (options.max !== undefined && value > options.max) throw new ConfigError(at, `must be ≤ ${options.max}`);
  return value;
}

export function boolean(obj: Obj, key: string, path: string, fallback: boolean): boolean {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'boolean') throw new ConfigError(join(path, key), 'must be true or false');
  return value;
}

export function oneOf<T extends string>(obj: Obj, key: string, path: string, allowed: readonly T[], fallback?: T): T {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(join(path, key), `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function array(
  obj: Obj,
  key: string,
  path: string,
  options: { min?: number; optional?: boolean } = {},
): unknown[] {
  const value = obj[key];
  const at = join(path, key);
  if (value === undefined && options.optional) return [];
  if (!Array.isArray(value)) throw new ConfigError(at, value === undefined ? 'is required' : 'must be an array');
  if (options.min !== undefined && value.length < options.min)
    throw new ConfigError(at, `must have at least ${options.min} entr${options.min === 1 ? 'y' : 'ies'}`);
  return value;
}

/** An absolute URL; http only for loopback hosts. */
export function url(
  value: unknown,
  at: string,
  options: { allowHttpLoopback: boolean } = { allowHttpLoopback: true },
): string {
  if (typeof value !== 'string') throw new ConfigError(at, 'must be an absolute URL');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(at, 'must be an absolute URL');
  }
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback && options.allowHttpLoopback)) {
    throw new ConfigError(at, 'must use https (http is accepted only for loopback development hosts)');
  }
  if (parsed.hash) throw new ConfigError(at, 'must not contain a fragment');
  return value;
}

/**
 * A secret: never written in the config itself. `{ "env": "NAME" }` reads an environment variable,
 * `{ "file": "/path" }` reads a file (trailing newline removed).
 */
export function secret(
  obj: Obj,
  key: string,
  path: string,
  env: NodeJS.ProcessEnv,
  options: { min?: number } = {},
): string {
  const at = join(path, key);
  const ref = obj[key];
  if (typeof ref === 'string')
    throw new ConfigError(at, 'secrets are not written in the config: use { "env": "NAME" } or { "file": "/path" }');
  const spec = object(ref, at);
  onlyKeys(spec, at, ['env', 'file']);
  let value: string | undefined;
  if (typeof spec.env === 'string') {
    value = env[spec.env];
    if (value === undefined || value === '') throw new ConfigError(at, `environment variable ${spec.env} is not set`);
  } else if (typeof spec.file === 'string') {
    try {
      value = readSecretFile(spec.file);
    } catch (error) {
      throw new ConfigError(at, (error as Error).message);
    }
  } else {
    throw new ConfigError(at, 'must be { "env": "NAME" } or { "file": "/path" }');
  }
  if (options.min !== undefined && value.length < options.min)
    throw new ConfigError(at, `secret must be at least ${options.min} characters`);
  return value;
}
