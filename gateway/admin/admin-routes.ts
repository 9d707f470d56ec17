/**
 * The admin HTTP API, secure by default:
 *
 * - off unless an admin token (≥ 32 characters, `GW_ADMIN_TOKEN`) is configured: every path answers 404;
 * - only from the loopback interface (the socket's peer address, never X-Forwarded-For), and only with
 *   `Authorization: Bearer <token>` (constant-time comparison); otherwise 404 / 401 (`ADMIN_UNAUTHORIZED`);
 * - every decision is audited (component `review`, the operator's name in the details).
 *
 * | method | path                                 | what                                   |
 * |--------|--------------------------------------|----------------------------------------|
 * | GET    | /admin/reviews                       | pending reviews, oldest first          |
 * | GET    | /admin/reviews/:loginId              | one review                             |
 * | POST   | /admin/reviews/:loginId/approve      | `{ "operator": "...", "note": "..." }` |
 * | POST   | /admin/reviews/:loginId/deny         | same; the login is DENIED at once      |
 * | GET    | /admin/metrics                       | risk counters (Prometheus text)        |
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';

const ID = '([A-Za-z0-9_-]{1,64})';
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > 8192) throw new GatewayError('REQUEST_TOO_LARGE', 413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new GatewayError('REQUEST_INVALID', 400, 'expected a JSON object');
  }
}

async function decideReview(ctx: Context, services: Services, loginId: string, verdict: 'approved' | 'denied'): Promise<void> {
  const body = await readJson(ctx);
  const operator = typeof body.operator === 'string' && /^[\w.@:-]{1,64}$/.test(body.operator) ? body.operator : null;
  if (!operator) throw new GatewayError('REQUEST_INVALID', 400, 'operator (1-64 word characters) is required');
  const note = typeof body.note === 'string' ? body.note.slice(0, 500) : undefined;
  const record = await services.flow.get(loginId);
  if (record && record.state !== 'MANUAL_REVIEW') {
    // the flow moved on (the timeout denied it): too late for an operator's word
    await services.fraud.reviews.expire(loginId);
    throw new GatewayError('REVIEW_NOT_PENDING', 409, 'this review has expired', { detail: record.state });
  }
  const item = await services.fraud.reviews.decide(loginId, verdict, operator, note);
  await services.fraud.cache.invalidate(item.accountId);
  services.fraud.metrics.inc('review_decision_total', { verdict });
  if (verdict === 'denied') {
    await services.flow.transition(loginId, 'DENIED', { component: 'review', errorCode: 'REVIEW_DENIED', details: { operator } });
  }
  services.logger.info({ loginId, verdict, operator }, 'manual review decided');
  ctx.body = item;
}

/** The admin middleware; `token` undefined disables the API. */
export function adminRoutes(services: Services, token: string | undefined): Middleware {
  const expected = token ? createHash('sha256').update(token).digest() : null;
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/admin/') && ctx.path !== '/admin') return next();
    if (!expected || !LOOPBACK.has(ctx.req.socket.remoteAddress ?? '')) {
      ctx.status = 404;
      return;
    }
    const given = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) throw new GatewayError('ADMIN_UNAUTHORIZED', 401, 'admin token required');
    ctx.set('Cache-Control', 'no-store');
    let m: RegExpExecArray | null;
    if (ctx.method === 'GET' && ctx.path === '/admin/reviews') {
      ctx.body = await services.fraud.reviews.pending();
    } else if (ctx.method === 'GET' && (m = new RegExp(`^/admin/reviews/${ID}$`).exec(ctx.path))) {
      const item = await services.fraud.reviews.get(m[1]!);
      if (!item) throw new GatewayError('REVIEW_NOT_FOUND', 404, 'no such review');
      ctx.body = item;
    } else if (ctx.method === 'POST' && (m = new RegExp(`^/admin/reviews/${ID}/(approve|deny)$`).exec(ctx.path))) {
      await decideReview(ctx, services, m[1]!, m[2] === 'approve' ? 'approved' : 'denied');
    } else if (ctx.method === 'GET' && ctx.path === '/admin/metrics') {
      ctx.type = 'text/plain';
      ctx.body = services.fraud.metrics.text();
    } else {
      ctx.status = 404;
    }
  };
}
