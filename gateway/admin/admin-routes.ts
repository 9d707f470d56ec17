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
 *   no longer pending or unknown, the same operator twice), so that an attempt is on record, not only a success;
 * - the body is `application/json` (`read-json.ts`): `{ "note"?: string }`; another key, a note that is not a string
 *   or holds a control or invisible character (a line break and a tab aside) is refused, `REQUEST_INVALID`;
 * - a decision saved whose effect then fails (the policy's cached decision not dropped, a denied login not moved to
 *   `DENIED`) is answered 200 with `incomplete` naming those steps, and logged: never refused after it was saved.
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
import { readJsonObject } from './read-json.ts';
import { hidesSomething, printable } from '../audit/operator-text.ts';
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

async function decideReview(
  ctx: Context,
  deps: ReviewApiDeps,
  operator: string,
  loginId: string,
  verdict: 'approved' | 'denied',
): Promise<void> {
  const { note } = decisionBody(await readJsonObject(ctx), operator);
  const record = await deps.flow.get(loginId);
  if (record === null && !(await deps.reviews.get(loginId)))
    throw new GatewayError('REVIEW_NOT_FOUND', 404, 'no such review');
  if (record?.state !== 'MANUAL_REVIEW') {
    // the flow moved on (the timeout denied it), or its record is gone (it ran out, Redis lost it): too late for an
    // operator's word. Decided anyway, the decision was saved and then refused (FLOW_NOT_FOUND), both on record
    await deps.reviews.expire(loginId);
    throw new GatewayError('REVIEW_NOT_PENDING', 409, 'this review has expired', { detail: record?.state ?? 'gone' });
  }
  const item = await deps.reviews.decide(loginId, verdict, operator, note, deps.level3Approvals);
  if (item.status === 'pending') {
    // a level-3 approval waits for another operator
    deps.logger.info({ loginId, operator, approvals: item.approvals.length }, 'manual review approval recorded');
    ctx.body = item;
    return;
  }
  // the decision is saved and audited: what follows is its effect, and a failure there is no refusal of it. The
  // operator is told what is left undone (`incomplete`), never that the decision failed: a retry would get a 409
  const incomplete: string[] = [];
  const undone = (step: string) => (err: unknown) => {
    deps.logger.error({ err, loginId, verdict, operator, step }, 'manual review decided; a step after it failed');
    incomplete.push(step);
  };
  await deps.decisions.invalidate(item.accountId).catch(undone('decision_cache'));
  deps.riskMetrics.inc('review_decision_total', { verdict });
  if (verdict === 'denied')
    await deps.flow
      .transition(loginId, 'DENIED', { component: 'review', errorCode: 'REVIEW_DENIED', details: { operator } })
      .catch(undone('login_denied'));
  deps.logger.info({ loginId, verdict, operator }, 'manual review decided');
  ctx.body = incomplete.length === 0 ? item : { ...item, incomplete };
}

/**
 * What a refusal's audit record quotes of the body (it goes into the audit chain): 64 characters at most, never cut
 * inside one, each control or invisible character replaced (`audit/operator-text.ts`).
 */
const quoted = (text: string): string => printable([...text].slice(0, 64).join(''));

/**
 * A decision's body: `{ "note"?: string }`, and `operator` only when it names the credential's holder. The note is cut at
 * 500 characters, never inside one (half of an emoji is no text PostgreSQL's jsonb takes); one holding a control
 * character or an invisible one other than a line break or a tab (`audit/operator-text.ts`; PostgreSQL refuses a NUL) is
 * refused, as is any other key.
 */
function decisionBody(body: Record<string, unknown>, operator: string): { note: string | undefined } {
  const unknown = Object.keys(body).filter((k) => k !== 'note' && k !== 'operator');
  if (unknown.length > 0)
    throw new GatewayError('REQUEST_INVALID', 400, 'unknown key in the body', {
      detail: quoted(unknown.join(',')),
    });
  if (body.operator !== undefined && body.operator !== operator)
    throw new GatewayError(
      'REQUEST_INVALID',
      400,
      'the operator is the holder of the credential; do not name another one',
      {
        detail: typeof body.operator === 'string' ? quoted(body.operator) : typeof body.operator,
      },
    );
  if (body.note === undefined || body.note === null) return { note: undefined };
  if (typeof body.note !== 'string') throw new GatewayError('REQUEST_INVALID', 400, 'note must be a string');
  if (hidesSomething(body.note, { lines: true }))
    throw new GatewayError(
      'REQUEST_INVALID',
      400,
      'note must not hold a control or invisible character (a line break and a tab aside)',
    );
  return { note: [...body.note].slice(0, 500).join('') };
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
