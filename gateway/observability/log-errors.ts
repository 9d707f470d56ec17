/**
 * How an error is written to the log: pino's standard error serializer (type, message, stack, cause, and every
 * enumerable field), then the arguments of a Redis command taken out wherever they hang (reviewer finding,
 * twenty-seventh round). ioredis attaches the command a Redis error answered (`err.command = { name, args }`): an
 * `AUTH` refused at a reconnection carried the Redis password into the log, a refused `EVALSHA` an authorization
 * code or a login's record, a rate limiter's key the client's address. The command's name stays: it says what failed.
 */
import { pino } from 'pino';

/** What stands in for a command's arguments in the log. */
const OMITTED = '[args omitted]';

function scrub(value: unknown, depth: number): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'command' && inner !== null && typeof inner === 'object' && 'args' in inner)
      out[key] = { ...(inner as object), args: OMITTED };
    else if (key === 'args' && depth > 0) out[key] = OMITTED;
    else out[key] = scrub(inner, depth + 1);
  }
  return out;
}

/**
 * pino's `err` serializer, without Redis command arguments.
 *
 * @example
 * pino({ serializers: { err: serializeError, error: serializeError } });
 */
export function serializeError(error: unknown): unknown {
  const serialized = error instanceof Error ? pino.stdSerializers.err(error) : error;
  return scrub(serialized, 0);
}
