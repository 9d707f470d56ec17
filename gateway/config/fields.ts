/**
 * The value types of the configuration file, as zod schemas with our messages (`schema-error.ts` turns the
 * first issue into the boot error, naming its path): bounded integers, closed lists, booleans, non-empty
 * strings, https URLs, and secrets, which are never written in the file but referenced as
 * `{ "env": "NAME" }` or `{ "file": "/path" }` and read here, once, at boot.
 */
import { readSecretFile } from './secret-file.ts';
import { z } from 'zod';
export { httpsUrl, text } from '../../adapters/contract/config-schema.ts';

/** An integer in [min, max]. */
export const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.int('must be an integer').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);

/** One of a closed list (no default unless the caller gives one). */
export const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const bool = () => z.boolean('must be true or false');

/** A strict object (an unknown key is refused) whose absence means "all defaults". */
export const section = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject(shape, 'must be an object').prefault({} as z.input<z.ZodObject<S>>);

/** A list; `min` entries at least. */
export const list = <T extends z.ZodType>(item: T, min = 0) =>
  z.array(item, 'must be an array').min(min, `must have at least ${min} entr${min === 1 ? 'y' : 'ies'}`);

/**
 * Refuses a repeated `client_id` in a list of entries, naming the later one.
 *
 * @example
 * z.array(clientSchema).superRefine(distinctClientIds);
 */
export function distinctClientIds(entries: ReadonlyArray<{ client_id: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    if (seen.has(entry.client_id))
      ctx.addIssue({ code: 'custom', path: [i, 'client_id'], message: `duplicate client_id ${entry.client_id}` });
    seen.add(entry.client_id);
  });
}

/**
 * A secret reference, resolved from `env` or a file; `min` characters at least.
 *
 * @example
 * z.strictObject({ pin: secret(process.env) }).parse({ pin: { env: 'GW_HSM_PIN' } });
 */
export function secret(env: NodeJS.ProcessEnv, options: { min?: number } = {}) {
  return z.unknown().transform((raw, ctx) => {
    const fail = (message: string, path: PropertyKey[] = []): typeof z.NEVER => {
      ctx.addIssue({ code: 'custom', message, path });
      return z.NEVER;
    };
    if (typeof raw === 'string')
      return fail('secrets are not written in the config: use { "env": "NAME" } or { "file": "/path" }');
    if (raw === undefined) return fail('is required');
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('must be an object');
    const spec = raw as Record<string, unknown>;
    const unknown = Object.keys(spec).find((key) => key !== 'env' && key !== 'file');
    if (unknown !== undefined) return fail('unknown setting (known: env, file)', [unknown]);
    let value: string;
    if (typeof spec.env === 'string') {
      const found = env[spec.env];
      if (found === undefined || found === '') return fail(`environment variable ${spec.env} is not set`);
      value = found;
    } else if (typeof spec.file === 'string') {
      try {
        value = readSecretFile(spec.file);
      } catch (error) {
        return fail((error as Error).message);
      }
    } else {
      return fail('must be { "env": "NAME" } or { "file": "/path" }');
    }
    if (options.min !== undefined && value.length < options.min)
      return fail(`secret must be at least ${options.min} characters`);
    return value;
  });
}
