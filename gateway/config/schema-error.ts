/**
 * Turns a zod schema's verdict into the gateway's one boot error: the first issue, as a `ConfigError` naming
 * its path the way people write it (`clients[2].redirect_uris[0]`) and saying what is wrong in our words
 * (`is required`, `must be an integer`, `must be ≥ 60`, `unknown setting`), never zod's.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** `['clients', 2, 'redirect_uris', 0]` under `prefix` → `prefix.clients[2].redirect_uris[0]`. */
export function configPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((at, key) => {
    if (typeof key === 'number') return `${at}[${key}]`;
    return at ? `${at}.${String(key)}` : String(key);
  }, prefix);
}

/** The path and our wording of one issue (`is required`, `unknown setting`, else the schema's own message). */
export function problem(issue: z.core.$ZodIssue): { path: ReadonlyArray<PropertyKey>; message: string } {
  if (issue.code === 'unrecognized_keys')
    return { path: [...issue.path, issue.keys[0] ?? ''], message: 'unknown setting' };
  if (issue.code === 'invalid_type' && !('input' in issue && issue.input !== undefined))
    return { path: issue.path, message: 'is required' };
  // every other message is written in the schemas themselves (`must be ≥ 60`, `must be one of …`)
  return { path: issue.path, message: issue.message };
}

/**
 * Parses `raw` with `schema`, or throws the `ConfigError` of its first issue, under `prefix`.
 *
 * @example
 * const entries = parseWith(z.array(entrySchema), raw, 'idps');
 */
export function parseWith<T>(schema: z.ZodType<T, unknown>, raw: unknown, prefix: string): T {
  // the input of each issue is reported, so a missing value (`is required`) is told from a wrong one
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const first = result.error.issues[0];
  if (!first) throw new ConfigError(prefix || '(root)', 'is invalid');
  const { path, message } = problem(first);
  throw new ConfigError(configPath(prefix, path) || '(root)', message);
}
