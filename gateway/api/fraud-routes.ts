/**
 * The fraud pipeline's own routes, in front of the interaction routes:
 *
 * | method | path                      | handler                                                        |
 * |--------|---------------------------|----------------------------------------------------------------|
 * | POST   | /interaction/:uid/signals | behavioural side channel (204)                                 |
 * | GET    | /interaction/:uid/review  | the page a login under review waits on                         |
 * | GET    | /risk/assessment          | signed assessment for the RP (Bearer, or DPoP with a proof)    |
 *
 * HEAD is not served here (@koa/router would answer it with each GET's handler, and a HEAD is not a limited
 * request: the assessment would be signed outside every rate limit); it passes on, as the interaction routes do.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { assessmentEndpoint, type AssessmentDeps } from './risk-assessment.ts';

/** The handlers behind the table, built once in boot.ts (the first two are the interaction pages'). */
export interface FraudRoutesDeps {
  /** interaction/signals.ts over the behaviour store. */
  signals(ctx: Context, uid: string): Promise<void>;
  /** interaction/review-page.ts. */
  reviewPage(ctx: Context, uid: string): Promise<void>;
  assessment: AssessmentDeps;
}

const UID = /^[A-Za-z0-9_-]{1,64}$/;

/** The table above as one @koa/router (exact paths); an interaction id of another shape is answered 404. */
export function riskRoutes(deps: FraudRoutesDeps): Middleware {
  const router = new Router({ strict: true, sensitive: true });
  router.param('uid', async (uid, _ctx, next) => {
    if (UID.test(uid)) await next();
  });
  router.post('/interaction/:uid/signals', (ctx) => deps.signals(ctx, ctx.params.uid!));
  router.get('/interaction/:uid/review', (ctx) => deps.reviewPage(ctx, ctx.params.uid!));
  router.get('/risk/assessment', (ctx) => assessmentEndpoint(ctx, deps.assessment));
  const routes = router.routes() as Middleware;
  return (ctx: Context, next: Next) => (ctx.method === 'HEAD' ? next() : routes(ctx, next));
}
