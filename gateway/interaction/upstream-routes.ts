/**
 * Mounts the routes the upstream protocols declared (`AdapterRoute`, `adapters/contract/routes.ts`) without
 * knowing a protocol: an exact method and path match, the body or query read here (size-capped, form only,
 * duplicate names refused), then by kind:
 *
 * | kind             | handled by |
 * |------------------|------------|
 * | `login-response` | `upstreamAnswered` (upstream-answer.ts): correlation → adapter.finishLogin → translation point |
 * | `document`       | the route's `serve()`, answered as is |
 * | `logout`         | `upstreamLogout` (upstream-logout.ts): the message's direction → the adapter its sender names → `answerLogout` (sessions ended) or `finishLogout` |
 * | `endpoint`       | the route's `handle()` with the neutral request (params + browser binding) |
 */
import type { Context, Middleware, Next } from 'koa';
import type { AdapterHttpResponse, AdapterRoute } from '../../adapters/contract/routes.ts';
import { GatewayError } from '../errors.ts';
import { readForm } from '../http/read-form.ts';
import { bindingKeys, browserBindings } from '../session/browser-binding.ts';
import type { Services } from '../services.ts';
import { upstreamAnswered } from './upstream-answer.ts';
import { upstreamLogout } from './upstream-logout.ts';

/** The query of a GET route, with a repeated name refused like a repeated form field. */
function readQuery(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(ctx.querystring)) {
    if (Object.hasOwn(out, key)) throw new GatewayError('REQUEST_INVALID', 400, `duplicate parameter ${key}`);
    out[key] = value;
  }
  return out;
}

function answer(ctx: Context, response: AdapterHttpResponse): void {
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  ctx.type = response.contentType;
  ctx.body = response.body;
}

async function dispatch(ctx: Context, services: Services, route: AdapterRoute): Promise<void> {
  switch (route.kind) {
    case 'document':
      return answer(ctx, await route.serve());
    case 'login-response': {
      const params = route.method === 'POST' ? await readForm(ctx, route.maxBodyBytes) : readQuery(ctx);
      return upstreamAnswered(ctx, services, route, params);
    }
    case 'logout':
      return upstreamLogout(ctx, services, route);
    case 'endpoint': {
      const params = route.method === 'POST' ? await readForm(ctx, route.maxBodyBytes) : readQuery(ctx);
      const { secrets, cookies } = services.config;
      // this browser's binding, and the same cookie's under the keys used before a rotation
      const [binding, ...earlier] = browserBindings(ctx, bindingKeys(secrets), cookies);
      return answer(
        ctx,
        await route.handle({ method: route.method, params, browserBinding: binding, earlierBrowserBindings: earlier }),
      );
    }
    default: {
      const unknown: never = route;
      throw new GatewayError('INTERNAL', 500, 'unknown upstream route kind', { detail: JSON.stringify(unknown) });
    }
  }
}

/**
 * @example
 * app.use(upstreamRoutes(services));
 */
export function upstreamRoutes(services: Services): Middleware {
  const routes = new Map(services.upstreamRoutes.map((route) => [`${route.method} ${route.path}`, route]));
  return async (ctx: Context, next: Next) => {
    const route = routes.get(`${ctx.method} ${ctx.path}`);
    if (!route) return next();
    await dispatch(ctx, services, route);
  };
}
