/**
 * The gateway's own routes in front of oidc-provider, as one table:
 *
 * | method | path                            | handler              |
 * |--------|---------------------------------|----------------------|
 * | GET    | /interaction/:uid               | showInteraction      |
 * | POST   | /interaction/:uid/idp           | chooseIdp            |
 * | GET    | /interaction/:uid/complete      | completeInteraction  |
 *
 * The upstream protocols' own routes (their answers to logins, their documents) are declared by the adapters
 * and mounted by `upstream-routes.ts`.
 */
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../services.ts';
import { chooseIdp } from './choose.ts';
import { completeInteraction } from './complete.ts';
import { showInteraction } from './show.ts';

type Handler = (ctx: Context, services: Services, ...params: string[]) => Promise<void>;
const UID = '([A-Za-z0-9_-]{1,64})';

const ROUTES: ReadonlyArray<{ method: string; path: RegExp; handler: Handler }> = [
  { method: 'GET', path: new RegExp(`^/interaction/${UID}$`), handler: showInteraction },
  { method: 'POST', path: new RegExp(`^/interaction/${UID}/idp$`), handler: chooseIdp },
  { method: 'GET', path: new RegExp(`^/interaction/${UID}/complete$`), handler: completeInteraction },
];

export function interactionRoutes(services: Services): Middleware {
  return async (ctx: Context, next: Next) => {
    for (const route of ROUTES) {
      if (ctx.method !== route.method) continue;
      const match = route.path.exec(ctx.path);
      if (match) {
        await route.handler(ctx, services, ...match.slice(1));
        return;
      }
    }
    await next();
  };
}
