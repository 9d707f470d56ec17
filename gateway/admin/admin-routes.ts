/**
 * The admin HTTP API, on the operations listener only (issue #10 item 13):
 *
 * - every path needs an operator credential (`operator-auth.ts`) holding the route's role: 401
 *   `OPS_UNAUTHORIZED` / 403 `OPS_FORBIDDEN`; the peer address grants nothing;
 * - the operator of a decision is the one whose credential was presented, never a name in the body (a
 *   body naming another operator is refused, `REQUEST_INVALID`);
 * - a level-3 review is approved only when `ops.review.level3Approvals` distinct operators approved it
 *   (the same operator twice: 409 `REVIEW_SAME_OPERATOR`); one denial denies;
 * - every decision is audited (component `review`, the operator's name in the details), and so is every refusal of a
 *   decision to an operator holding the role (`REVIEW_REFUSED`, its code: a body naming another operator, a review
 *   no longer pending or unknown, the same operator twice), so that an attempt is on record, not only a success.
 *
 * | method | path                                 | role     | what                                  |
 * |--------|--------------------------------------|----------|---------------------------------------|
 * | GET    | /admin/reviews                       | reviewer | pending reviews, oldest first         |
 * | GET    | /admin/reviews/:loginId              | reviewer | one review                            |
 * | POST   | /admin/reviews/:loginId/approve      | reviewer | `{ "note": "..." }` (optional)        |
 * | POST   | /admin/reviews/:loginId/deny         | reviewer | same; the login is DENIED at once     |
 * | GET    | /admin/metrics                       | metrics  | risk counters (Prometheus text)       |
 */
import Router, { type RouterContext } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { LoginFlow } from '../flow/login-flow.ts';
import type { DecisionCache } from '../policy/decision-cache.ts';
import type { ReviewStore } from '../review/review-store.ts';
import type { RiskMetrics } from '../risk/metrics.ts';
import type { Operators } from './operator-auth.ts';
import type { AuditLog } from '../audit/audit-log.ts';

/** What the review API uses, built once in boot.ts. */
export interface ReviewApiDeps {
  flow: Pick<LoginFlow, 'get' | 'transition'>;
  reviews: Pick<ReviewStore, 'pending' | 'get' | 'decide' | 'expire'>;
  /** The policy's decision cache: an account's cached decision is dropped once a review is decided. */
  decisions: Pick<DecisionCache, 'invalidate'>;
  /** The risk counters (`review_decision_total`; GET /admin/metrics). */
  riskMetrics: Pick<RiskMetrics, 'inc' | 'text'>;
  logger: Logger;
  /** `ops.review.level3Approvals`: distinct operators needed to approve a level-3 review. */
  level3Approvals: number;
  /** Where a refused decision is recorded. */
  audit: Pick<AuditLog, 'append'>;
}

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
  deps: ReviewApiDeps,
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
  // cut at 500 characters, never inside one (half of an emoji is no text PostgreSQL's jsonb takes)
  const note = typeof body.note === 'string' ? [...body.note].slice(0, 500).join('') : undefined;
  const record = await deps.flow.get(loginId);
  if (record && record.state !== 'MANUAL_REVIEW') {
    // the flow moved on (the timeout denied it): too late for an operator's word
    await deps.reviews.expire(loginId);
    throw new GatewayError('REVIEW_NOT_PENDING', 409, 'this review has expired', { detail: record.state });
  }
  const item = await deps.reviews.decide(loginId, verdict, operator, note, deps.level3Approvals);
  if (item.status === 'pending') {
    // a level-3 approval waits for another operator
    deps.logger.info({ loginId, operator, approvals: item.approvals.length }, 'manual review approval recorded');
    ctx.body = item;
    return;
  }
  await deps.decisions.invalidate(item.accountId);
  deps.riskMetrics.inc('review_decision_total', { verdict });
  if (verdict === 'denied') {
    await deps.flow.transition(loginId, 'DENIED', {
      component: 'review',
      errorCode: 'REVIEW_DENIED',
      details: { operator },
    });
  }
  deps.logger.info({ loginId, verdict, operator }, 'manual review decided');
  ctx.body = item;
}

/** The admin middleware (mounted on the operations listener only); the routes are one @koa/router table. */
export function adminRoutes(deps: ReviewApiDeps, operators: Operators): Middleware {
  const router = new Router<{ operator: string }>({ prefix: '/admin', strict: true, sensitive: true });
  router.param('loginId', async (id, ctx, next) => {
    if (!LOGIN_ID.test(id)) {
      ctx.status = 404;
      return;
    }
    await next();
  });
  router.get('/reviews', async (ctx) => {
    ctx.body = await deps.reviews.pending();
  });
  router.get('/reviews/:loginId', async (ctx) => {
    const item = await deps.reviews.get(ctx.params.loginId!);
    if (!item) throw new GatewayError('REVIEW_NOT_FOUND', 404, 'no such review');
    ctx.body = item;
  });
  const decision =
    (verdict: 'approved' | 'denied') => async (ctx: RouterContext<{ operator: string; requestId?: string }>) => {
      try {
        await decideReview(ctx, deps, ctx.state.operator, ctx.params.loginId!, verdict);
      } catch (error) {
        if (error instanceof GatewayError && error.expose)
          await deps.audit.append({
            // beside the login's trail (its state machine's), named after it
            sessionId: `review:${ctx.params.loginId!}`,
            from: null,
            to: 'REVIEW_REFUSED',
            component: 'review',
            errorCode: error.code,
            requestId: String(ctx.state.requestId ?? ''),
            details: { operator: ctx.state.operator, verdict, ...(error.detail ? { detail: error.detail } : {}) },
          });
        throw error;
      }
    };
  router.post('/reviews/:loginId/approve', decision('approved'));
  router.post('/reviews/:loginId/deny', decision('denied'));
  router.get('/metrics', async (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = await deps.riskMetrics.text();
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
