/**
 * The JSON body of an admin request: `application/json`, at most 8 KiB, one object.
 *
 * - another media type → 415 `REQUEST_INVALID`; too large → 413 `REQUEST_TOO_LARGE` (read no further);
 * - an empty body is `{}`; anything but a JSON object → 400 `REQUEST_INVALID`.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';

const LIMIT = 8192;

/**
 * @example
 * const body = await readJsonObject(ctx); // { scope: 'sid', value: '…', reason: '…' }
 */
export async function readJsonObject(ctx: Context): Promise<Record<string, unknown>> {
  const type = ctx.get('content-type');
  if (type !== '' && !/^application\/json\s*(;|$)/i.test(type))
    throw new GatewayError('REQUEST_INVALID', 415, 'the body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new GatewayError('REQUEST_TOO_LARGE', 413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new GatewayError('REQUEST_INVALID', 400, 'expected a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GatewayError('REQUEST_INVALID', 400, 'expected a JSON object');
  return value as Record<string, unknown>;
}
