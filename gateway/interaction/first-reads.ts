/**
 * The first reads of a page request, sent with its rate-limit decision (`ratelimit/middleware.ts` `firstReads`)
 * instead of in a round trip of their own once it is admitted (issue #14). Reads only, named by the path: a
 * refused request's are never looked at, and an admitted one reads them again from its request memo
 * (`session/request-memo.ts`) after checking, as before, that the uid is its own interaction.
 *
 * - `POST /interaction/:uid/idp` (the chooser's answer): the login's context and oidc-provider's Interaction.
 */
import type { Context } from 'koa';
import { prefetchInteraction } from '../oidc/redis-adapter.ts';
import type { Services } from '../services.ts';

const CHOOSE = /^\/interaction\/([A-Za-z0-9_-]{1,128})\/idp$/;

export function firstReads(services: Pick<Services, 'logins' | 'redis'>): (ctx: Context) => void {
  return (ctx) => {
    if (ctx.method !== 'POST') return;
    const uid = CHOOSE.exec(ctx.path)?.[1];
    if (uid === undefined) return;
    services.logins.prefetch(uid);
    prefetchInteraction(services.redis, uid);
  };
}
