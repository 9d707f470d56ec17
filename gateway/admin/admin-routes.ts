/**
 * The admin HTTP API, on the operations listener only (issue #10 item 13):
 *
 * - every path needs an operator credential (`operator-auth.ts`) holding the route's role: 401
 *   `OPS_UNAUTHORIZED` / 403 `OPS_FORBIDDEN`; the peer address grants nothing;
 * - the operator of a decision is the one whose credential was presented, never a name in the body (a
 *   body naming another operator is refused, `REQUEST_INVALID`);
 * - a level-3 review is approved only when `ops.review.level3Approvals` distinct operators approved it
 *   (the same operator twice: 409 `REVIEW_SAME_OPERATOR`); one denial denies;
 * - every decision is audited (component `review`, the operator's name in the details).
 *
 * | method | path                                 | role     | what                                  |
 * |--------|--------------------------------------|----------|---------------------------------------|
 * | GET    | /admin/reviews                       | reviewer | pending reviews, oldest first         |
 * | GET    | /admin/reviews/:loginId              | reviewer | one review                            |
 * | POST   | /admin/reviews/:loginId/approve      | reviewer | `{ "note": "..." }` (optional)        |
 * | POST   | /admin/reviews/:loginId/deny         | reviewer | same; the login is DENIED at once     |
 * | GET    | /admin/metrics                       | metrics  | risk counters (Prometheus text)       |
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { Operators } from './operator-auth.ts';

const LOGIN_ID = /^[A-Za-z0-9_-]{1,64}$/;

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

async function decideReview(
  ctx: Context,
  services: Services,
  operator: string,
  loginId: string,
  verdict: 'approved' | 'denied',
): Promise<void> {
  const body = await readJson(ctx);
  if (body.operator !== undefined && body.operator !== operator) {
    throw new GatewayError(
      'REQUEST_INVALID',
      400,
      'the operator is the holder of the credential; do not name another one',
      { detail: String(body.operator).slice(0, 64) },
    );
  }
  const note = typeof body.note === 'string' ? body.note.slice(0, 500) : undefined;
  const record = await services.flow.get(loginId);
  if (record && record.state !== 'MANUAL_REVIEW') {
    // the flow moved on (the timeout denied it): too late for an operator's word
    await services.fraud.reviews.expire(loginId);
    throw new GatewayError('REVIEW_NOT_PENDING', 409, 'this review has expired', { detail: record.state });
  }
  const item = await services.fraud.reviews.decide(
    loginId,
    verdict,
    operator,
    note,
    services.config.ops.review.level3Approvals,
  );
  if (item.status === 'pending') {
    // a level-3 approval waits for another operator
    services.logger.info({ loginId, operator, approvals: item.approvals.length }, 'manual review approval recorded');
    ctx.body = item;
    return;
  }
  await services.fraud.cache.invalidate(item.accountId);
  services.fraud.metrics.inc('review_decision_total', { verdict });
  if (verdict === 'denied') {
    await services.flow.transition(loginId, 'DENIED', {
      component: 'review',
      errorCode: 'REVIEW_DENIED',
      details: { operator },
    });
  }
  services.logger.info({ loginId, verdict, operator }, 'manual review decided');
  ctx.body = item;
}

/** The admin middleware (mounted on the operations listener only); the routes are one @koa/router table. */
export function adminRoutes(services: Services, operators: Operators): Middleware {
  const router = new Router<{ operator: string }>({ prefix: '/admin', strict: true, sensitive: true });
  router.param('loginId', async (id, ctx, next) => {
    if (!LOGIN_ID.test(id)) {
      ctx.status = 404;
      return;
    }
    await next();
  });
  router.get('/reviews', async (ctx) => {
    ctx.body = await services.fraud.reviews.pending();
  });
  router.get('/reviews/:loginId', async (ctx) => {
    const item = await services.fraud.reviews.get(ctx.params.loginId!);
    if (!item) throw new GatewayError('REVIEW_NOT_FOUND', 404, 'no such review');
    ctx.body = item;
  });
  router.post('/reviews/:loginId/approve', (ctx) =>
    decideReview(ctx, services, ctx.state.operator, ctx.params.loginId!, 'approved'),
  );
  router.post('/reviews/:loginId/deny', (ctx) =>
    decideReview(ctx, services, ctx.state.operator, ctx.params.loginId!, 'denied'),
  );
  router.get('/metrics', async (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = await services.fraud.metrics.text();
  });
  const routes = router.routes();
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/admin/') && ctx.path !== '/admin') return next();
    // every /admin path needs a credential before anything is said about it (even a 404)
    const role = ctx.path === '/admin/metrics' ? 'metrics' : 'reviewer';
    ctx.state.operator = operators.authenticate(ctx, role);
    ctx.set('Cache-Control', 'no-store');
    await routes(ctx as Parameters<typeof routes>[0], async () => {
      ctx.status = 404;
    });
  };
}
