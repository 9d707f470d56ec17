/**
 * The first reads of a page request, sent with its rate-limit decision (`ratelimit/middleware.ts` `firstReads`)
 * instead of in a round trip of their own once it is admitted (issue #14). Reads only, named by the path: a
 * refused request's are never looked at, and an admitted one reads them again from its request memo
 * (`session/request-memo.ts`) after checking, as before, that the uid is its own interaction.
 *
 * - `POST /interaction/:uid/idp` (the chooser's answer): the login's context and oidc-provider's Interaction;
 * - the authorization request (`GET`/`POST` on oidc-provider's authorization route) with a session cookie: the
 *   session it names (its pointer, then the session), read by oidc-provider first. The cookie's value is taken
 *   unverified: only for the read; oidc-provider checks its signature as before and ignores a forged one.
 */
import type { Context } from 'koa';
import { AUTHORIZATION_PATH } from '../oidc/authorization-post.ts';
import { prefetchInteraction } from '../oidc/redis-adapter.ts';
import { sessionCookieName } from '../http/cookie-names.ts';
import type { Services } from '../services.ts';

const CHOOSE = /^\/interaction\/([A-Za-z0-9_-]{1,128})\/idp$/;
export function firstReads(
  services: Pick<Services, 'logins' | 'redis' | 'sessions'> & { config: Pick<Services['config'], 'cookies'> },
): (ctx: Context) => void {
  const sessionCookie = sessionCookieName(services.config.cookies.secure); // oidc-provider's `cookieName('session')`
  return (ctx) => {
    if (ctx.path === AUTHORIZATION_PATH && (ctx.method === 'GET' || ctx.method === 'POST')) {
      const sessionId = ctx.cookies.get(sessionCookie); // unsigned read: see the file comment
      if (sessionId && sessionId.length <= 128) services.sessions.store.prefetchSession('lookup', sessionId);
      return;
    }
    if (ctx.method !== 'POST') return;
    const uid = CHOOSE.exec(ctx.path)?.[1];
    if (uid === undefined) return;
    services.logins.prefetch(uid);
    prefetchInteraction(services.redis, uid);
  };
}
