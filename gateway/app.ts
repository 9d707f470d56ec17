/**
 * The Koa application, as one ordered list of middleware:
 *
 * 0. pinOrigin        — the issuer's host only (421 otherwise); scheme, host and client address rewritten
 *                       from configuration and trusted proxies, never from what the client wrote
 * 1. requestId        — id per request, one log line per request
 * 2. securityHeaders  — CSP, framing, sniffing, referrer, HSTS over TLS
 * 3. errorHandler     — stable codes, no stack traces
 * 4. healthRoutes     — /health, /ready
 * 4a. metricsRoute    — /metrics (Prometheus text; loopback unless GW_METRICS_ALLOW)
 * 4b. adminRoutes     — /admin/* (loopback + bearer token; off without a token)
 * 4c. riskRoutes      — behavioural side channel, review page, signed assessment for RPs
 * 4d. webauthnRoutes — /interaction/:uid/webauthn/* (issue #5 levels 2/3: enrol a key, confirm with it)
 * 5. interactionRoutes— chooser, ACS, completion, SP metadata
 * 5b. jwksRoute       — /jwks from the key lifecycle (active + next + retired), ahead of the provider
 * 5c. authorizationPost — POST /auth (form) handed to the provider as the equivalent GET (OIDC Core §3.1.2.1)
 * 5d. sectorGate       — /auth of a client whose sector_identifier_uri document stopped listing its redirect URIs: 403
 * 6. provider         — oidc-provider (current generation): discovery, /authorize, /token, /jwks, ...
 */
import Koa from 'koa';
import { errorHandler } from './http/error-handler.ts';
import { securityHeaders } from './http/security-headers.ts';
import { pinOrigin, publicOrigin, trustRewrittenHeaders } from './http/pin-origin.ts';
import { trustedProxies } from './http/client-address.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { interactionRoutes } from './interaction/routes.ts';
import { riskRoutes } from './risk/routes.ts';
import { jwksRoute } from './keys/jwks-route.ts';
import { authorizationPost } from './oidc/authorization-post.ts';
import { sectorGate } from './oidc/sector-gate.ts';
import { webauthnRoutes } from './webauthn/routes.ts';
import { healthRoutes } from './observability/health.ts';
import { metricsRoute } from './observability/metrics-route.ts';
import { requestId } from './observability/request-id.ts';
import type { Services } from './services.ts';

export function createApp(services: Services): Koa {
  const app = new Koa({ keys: services.config.secrets.cookieKeys });
  trustRewrittenHeaders(app);
  app.silent = true;
  app.use(requestId(services.logger, services.metrics));
  app.use(securityHeaders(services.config.cookies.secure));
  app.use(errorHandler(services.logger));
  app.use(pinOrigin(publicOrigin(services.config.issuer), trustedProxies(services.config.trustedProxies), ['/health', '/ready']));
  app.use(healthRoutes(services));
  app.use(metricsRoute(services.metrics.registry, services.metricsAccess));
  app.use(adminRoutes(services, services.adminToken));
  app.use(riskRoutes(services));
  app.use(webauthnRoutes(services));
  app.use(interactionRoutes(services));
  app.use(jwksRoute(() => services.keys));
  app.use(authorizationPost());
  app.use(sectorGate(services.sectors));
  app.use(services.holder.middleware());
  return app;
}
