/**
 * The Koa application, as one ordered list of middleware:
 *
 * 1. requestId        — id per request, one log line per request
 * 2. securityHeaders  — CSP, framing, sniffing, referrer, HSTS over TLS
 * 3. errorHandler     — stable codes, no stack traces
 * 4. healthRoutes     — /health, /ready
 * 4b. adminRoutes     — /admin/* (loopback + bearer token; off without a token)
 * 4c. riskRoutes      — behavioural side channel, review page, signed assessment for RPs
 * 5. interactionRoutes— chooser, ACS, completion, SP metadata
 * 5b. jwksRoute       — /jwks from the key lifecycle (active + next + retired), ahead of the provider
 * 6. provider         — oidc-provider (current generation): discovery, /authorize, /token, /jwks, ...
 */
import Koa from 'koa';
import { errorHandler } from './http/error-handler.ts';
import { securityHeaders } from './http/security-headers.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { interactionRoutes } from './interaction/routes.ts';
import { riskRoutes } from './risk/routes.ts';
import { jwksRoute } from './keys/jwks-route.ts';
import { healthRoutes } from './observability/health.ts';
import { requestId } from './observability/request-id.ts';
import type { Services } from './services.ts';

export function createApp(services: Services): Koa {
  const app = new Koa({ proxy: services.config.proxy, keys: services.config.secrets.cookieKeys });
  app.silent = true;
  app.use(requestId(services.logger));
  app.use(securityHeaders(services.config.cookies.secure));
  app.use(errorHandler(services.logger));
  app.use(healthRoutes(services));
  app.use(adminRoutes(services, services.adminToken));
  app.use(riskRoutes(services));
  app.use(interactionRoutes(services));
  app.use(jwksRoute(() => services.keys));
  app.use(services.holder.middleware());
  return app;
}
