/**
 * The gateway's own routes in front of oidc-provider, as one table (@koa/router, exact paths):
 *
 * | method | path                            | handler              |
 * |--------|---------------------------------|----------------------|
 * | GET    | /interaction/:uid               | showInteraction      |
 * | POST   | /interaction/:uid/idp           | chooseIdp            |
 * | GET    | /interaction/:uid/complete      | completeInteraction  |
 *
 * The upstream protocols' own routes (their answers to logins, their documents) are declared by the adapters
 * and mounted by `upstream-routes.ts`.
 *
 * Anything else passes on to the next middleware (in the end oidc-provider, which answers 404), as the
 * hand-written matcher did: another method on a listed path, an interaction id of another shape, a trailing
 * slash, and HEAD (which @koa/router would otherwise answer with the GET handler: these pages act).
 */
import Router, { type RouterContext } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../services.ts';
import { chooseIdp } from './choose.ts';
import { completeInteraction } from './complete.ts';
import { showInteraction } from './show.ts';

const UID = /^[A-Za-z0-9_-]{1,64}$/;

type UidHandler = (ctx: Context, services: Services, uid: string) => Promise<void>;

/** The table above as a router (exported for the test that reads it back). */
export function interactionRouter(services: Services): Router {
  const router = new Router({ strict: true, sensitive: true });
  const withUid = (handler: UidHandler) => (ctx: RouterContext, next: Next) => {
    const uid = ctx.params.uid!;
    return UID.test(uid) ? handler(ctx, services, uid) : next();
  };
  router.get('/interaction/:uid', withUid(showInteraction));
  router.post('/interaction/:uid/idp', withUid(chooseIdp));
  router.get('/interaction/:uid/complete', withUid(completeInteraction));
  return router;
}

export function interactionRoutes(services: Services): Middleware {
  const routes = interactionRouter(services).routes() as Middleware;
  return (ctx: Context, next: Next) => (ctx.method === 'HEAD' ? next() : routes(ctx, next));
}
