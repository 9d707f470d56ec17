/**
 * The WebAuthn routes, in front of the interaction routes, as one table (@koa/router, exact paths):
 *
 * | method | path                                    | handler              |
 * |--------|-----------------------------------------|----------------------|
 * | GET    | /interaction/:uid/webauthn/authenticate | authenticationPage   |
 * | POST   | /interaction/:uid/webauthn/authenticate | authenticationAnswer |
 * | GET    | /interaction/:uid/webauthn/register     | enrolmentPage        |
 * | POST   | /interaction/:uid/webauthn/register     | enrolmentAnswer      |
 * | GET    | /interaction/:uid/webauthn/credentials  | accountPage          |
 *
 * Anything else passes on to the next middleware, as the hand-written matcher did: another method, an
 * interaction id of another shape, a trailing slash, and HEAD (which @koa/router would otherwise answer
 * with the GET handler: these pages issue challenges).
 */
import Router, { type RouterContext } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { WebAuthnDeps } from './deps.ts';
import { accountPage } from './account-page.ts';
import { authenticationAnswer, authenticationPage } from './authenticate.ts';
import { enrolmentAnswer, enrolmentPage } from './enrol.ts';

const UID = /^[A-Za-z0-9_-]{1,64}$/;

type Handler = (ctx: Context, deps: WebAuthnDeps, uid: string) => Promise<void>;

/** The table above as a router (exported for the test that reads it back). */
export function webauthnRouter(deps: WebAuthnDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid/webauthn', strict: true, sensitive: true });
  const withUid = (handler: Handler) => (ctx: RouterContext, next: Next) => {
    const uid = ctx.params.uid!;
    return UID.test(uid) ? handler(ctx, deps, uid) : next();
  };
  router.get('/authenticate', withUid(authenticationPage));
  router.post('/authenticate', withUid(authenticationAnswer));
  router.get('/register', withUid(enrolmentPage));
  router.post('/register', withUid(enrolmentAnswer));
  router.get('/credentials', withUid(accountPage));
  return router;
}

export function webauthnRoutes(deps: WebAuthnDeps): Middleware {
  const routes = webauthnRouter(deps).routes() as Middleware;
  return (ctx: Context, next: Next) => (ctx.method === 'HEAD' ? next() : routes(ctx, next));
}
