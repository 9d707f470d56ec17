/**
 * The fraud pipeline's own routes, in front of the interaction routes:
 *
 * | method | path                          | handler                                  |
 * |--------|-------------------------------|------------------------------------------|
 * | POST   | /interaction/:uid/signals     | behavioural side channel (204)           |
 * | GET    | /interaction/:uid/review      | the page a login under review waits on   |
 * | GET    | /risk/assessment              | signed assessment for the RP (Bearer AT) |
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { signalsHandler } from '../interaction/signals.ts';
import { reviewPage } from '../interaction/review-page.ts';
import type { Services } from '../services.ts';
import { assessmentEndpoint } from './risk-assessment.ts';

const UID = /^[A-Za-z0-9_-]{1,64}$/;

/** The table above as one @koa/router (exact paths); an interaction id of another shape is answered 404. */
export function riskRoutes(services: Services): Middleware {
  const router = new Router({ strict: true, sensitive: true });
  router.param('uid', async (uid, _ctx, next) => {
    if (UID.test(uid)) await next();
  });
  const signals = signalsHandler(services.fraud.behaviour);
  router.post('/interaction/:uid/signals', (ctx) => signals(ctx, services, ctx.params.uid!));
  router.get('/interaction/:uid/review', (ctx) => reviewPage(ctx, services, ctx.params.uid!));
  router.get('/risk/assessment', (ctx) => assessmentEndpoint(ctx, services));
  return router.routes() as Middleware;
}
