/**
 * The fraud pipeline's own routes, in front of the interaction routes:
 *
 * | method | path                          | handler                                  |
 * |--------|-------------------------------|------------------------------------------|
 * | POST   | /interaction/:uid/signals     | behavioural side channel (204)           |
 * | GET    | /interaction/:uid/review      | the page a login under review waits on   |
 * | GET    | /risk/assessment              | signed assessment for the RP (Bearer AT) |
 */
import type { Context, Middleware, Next } from 'koa';
import { signalsHandler } from '../interaction/signals.ts';
import { reviewPage } from '../interaction/review-page.ts';
import type { Services } from '../services.ts';
import { assessmentEndpoint } from './risk-assessment.ts';

type Handler = (ctx: Context, services: Services, ...params: string[]) => Promise<void>;
const UID = '([A-Za-z0-9_-]{1,64})';

export function riskRoutes(services: Services): Middleware {
  const routes: ReadonlyArray<{ method: string; path: RegExp; handler: Handler }> = [
    { method: 'POST', path: new RegExp(`^/interaction/${UID}/signals$`), handler: signalsHandler(services.fraud.behaviour) },
    { method: 'GET', path: new RegExp(`^/interaction/${UID}/review$`), handler: reviewPage },
    { method: 'GET', path: /^\/risk\/assessment$/, handler: assessmentEndpoint },
  ];
  return async (ctx: Context, next: Next) => {
    for (const route of routes) {
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
