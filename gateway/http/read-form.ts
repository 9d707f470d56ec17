/**
 * Reads an `application/x-www-form-urlencoded` body with a hard size cap. Anything else, or anything
 * larger, is refused before it is parsed. Duplicate parameters are refused (a classic binding confusion).
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';

export async function readForm(ctx: Context, limitBytes: number): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new GatewayError('REQUEST_INVALID', 415, 'expected a form post');
  }
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limitBytes) throw new GatewayError('REQUEST_TOO_LARGE', 413, 'request too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new GatewayError('REQUEST_TOO_LARGE', 413, 'request too large');
    chunks.push(chunk as Buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) throw new GatewayError('REQUEST_INVALID', 400, `duplicate parameter ${key}`);
    out[key] = value;
  }
  return out;
}
