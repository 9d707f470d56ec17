/**
 * The Koa application, as one ordered list of middleware:
 *
 * 0. pinOrigin        — the issuer's host only (421 otherwise); scheme, host and client address rewritten
 *                       from configuration and trusted proxies, never from what the client wrote
 * 1. requestId        — id per request, one log line per request
 * 1a. requestMemo     — a record of the session store or an interaction is read once per request (session/request-memo.ts)
 * 2. securityHeaders  — CSP, framing, sniffing, referrer, HSTS over TLS
 * 3. errorHandler     — stable codes, no stack traces
 * 4. healthRoute      — /health (liveness)
 * 4a. notServedHere   — /ready, /metrics, /admin/* answer 404: they live on the operations listener
 *                       (admin/ops-app.ts), never here, whatever the peer or credential (issue #10 item 13)
 * 4b. rateLimit      — global, per-RP, per-address and failure token buckets on authorize, PAR, token,
 *                       introspection, revocation, chooser, ACS, upstream logout, WebAuthn, the signed risk assessment
 *                       (ratelimit/): after pinOrigin (ctx.ip is then the client address, from trusted proxies
 *                       only) and /health (probes are never limited), before every surface it protects; new
 *                       logins shed while the HSM is saturated; rates lowered under load; per-IdP, per-identity
 *                       and per-login buckets offered to the handlers (ratelimit/scoped.ts)
 * 4b'. authorizationPost — POST /auth (form, size-capped, duplicates refused) handed on as the equivalent GET (OIDC
 *                       Core §3.1.2.1); the limits read it once its address's buckets admit it, then take its RP's
 *                       as for a GET (a flood is refused unread); this middleware reads it when the limits are off
 * 4c. riskRoutes      — behavioural side channel, review page, signed assessment for RPs
 * 4d. webauthnRoutes — /interaction/:uid/webauthn/* (issue #5 levels 2/3: enrol a key, confirm with it)
 * 5. interactionRoutes— chooser, completion
 * 5a. upstreamRoutes  — the routes the upstream protocols declare (answers to logins, published documents,
 *                       logout doors), mounted without knowing the protocol (interaction/upstream-routes.ts;
 *                       Single Logout with the IdPs: interaction/upstream-logout.ts)
 * 5b. jwksRoute       — /jwks from the key lifecycle (active + next + retired), ahead of the provider
 * 5b'. ssfConfiguration — /.well-known/ssf-configuration (Shared Signals transmitter metadata)
 * 5d. sectorGate       — /auth of a client whose sector_identifier_uri document stopped listing its redirect URIs: 403
 * 5e. resumeCompletion — GET /auth/:uid: the completion step in the resume request, after the resume cookie's and
 *                       the interaction's checks, then on into the provider, which issues the code (interaction/resume-completion.ts)
 * 5f. providerPathsAsSpelled — a path oidc-provider would fold (`/Token/`, `/AUTH`) or a HEAD (but discovery,
 *                       JWKS; the resume's HEAD is 405 above): 404, as every check above compares the path as
 *                       spelled (http/provider-paths-as-spelled.ts)
 * 6. provider         — oidc-provider (current generation): discovery, /authorize, /token, /jwks, ...
 */
import { CookieKeys } from './http/cookie-keys.ts';
import Koa from 'koa';
import { errorHandler } from './http/error-handler.ts';
import { securityHeaders } from './http/security-headers.ts';
import { BEHAVIOUR_SCRIPT_HASH } from './behaviour/script.ts';
import { pinOrigin, publicOrigin, trustRewrittenHeaders } from './http/pin-origin.ts';
import { trustedProxies } from './http/client-address.ts';
import { notServedHere } from './http/not-served-here.ts';
import { pathsAsWritten } from './http/paths-as-written.ts';
import { providerPathsAsSpelled } from './http/provider-paths-as-spelled.ts';
import { interactionRoutes } from './interaction/routes.ts';
import { resumeCompletion } from './interaction/resume-completion.ts';
import { riskRoutes, type FraudRoutesDeps } from './api/fraud-routes.ts';
import { upstreamRoutes } from './interaction/upstream-routes.ts';
import { jwksRoute } from './keys/jwks-route.ts';
import { ssfConfigurationRoute } from './oidc/shared-signals/ssf-configuration.ts';
import { authorizationPost, readPostedAuthorization } from './oidc/authorization-post.ts';
import { sectorGate } from './oidc/sector-gate.ts';
import { webauthnRoutes } from './webauthn/routes.ts';
import type { WebAuthnDeps } from './webauthn/deps.ts';
import { healthRoute } from './observability/health.ts';
import { requestId } from './observability/request-id.ts';
import { rateLimit } from './ratelimit/middleware.ts';
import { dpopNonceChecker, dpopNonceSecret } from './oidc/dpop-nonces.ts';
import { firstReads } from './interaction/first-reads.ts';
import { deviceCookieKeys, knownDeviceInRequest } from './risk/device-cookie.ts';
import { runWithRequestMemo } from './session/request-memo.ts';
import type { Services } from './services.ts';

/** Paths served by the operations listener only. */
const OPERATIONS_PATHS = ['/ready', '/metrics', '/admin'];

/** The surfaces that take their own small records (built in boot.ts) rather than the services record. */
export interface SurfaceDeps {
  fraudRoutes: FraudRoutesDeps;
  webauthn: WebAuthnDeps;
}

/**
 * The public app. `onClose` is given what must stop with the gateway (the load shedder's periodic check, which
 * audits its changes: left running after `close()` it would write to a closed audit log).
 */
export function createApp(
  services: Services,
  surfaces: SurfaceDeps,
  onClose: (closer: () => Promise<void>) => void = () => undefined,
): Koa {
  const app = new Koa({ keys: new CookieKeys(services.config.secrets.cookieKeys) as unknown as string[] });
  trustRewrittenHeaders(app);
  app.silent = true;
  const proxies = trustedProxies(services.config.trustedProxies);
  // a client's own X-Request-Id names nothing here (audit trails, error references): only our proxies' is kept
  app.use(requestId(services.logger, services.metrics, (peer) => proxies.has(peer)));
  app.use((_ctx, next) => runWithRequestMemo(next)); // records read once per request (session/request-memo.ts)
  app.use(securityHeaders(services.config.cookies.secure, [BEHAVIOUR_SCRIPT_HASH]));
  app.use(errorHandler(services.logger));
  app.use(pinOrigin(publicOrigin(services.config.issuer), proxies, ['/health']));
  app.use(healthRoute());
  app.use(notServedHere(OPERATIONS_PATHS));
  // before the limits: a path the limiter reads as written must be the path the routers route
  app.use(pathsAsWritten());
  const limits = rateLimit({
    config: services.config.rateLimit,
    clients: services.config.clients,
    issuer: services.config.issuer,
    redis: services.redis,
    logger: services.logger,
    registry: services.metrics.registry,
    workers: services.config.workers,
    identitySecret: services.config.secrets.pairwiseSalt,
    hsmSaturated: () => services.hsmPressure.saturated(),
    audit: services.audit,
    loginResponses: services.upstreamRoutes
      .filter((route) => route.kind === 'login-response')
      .map((route) => `${route.method} ${route.path}`),
    logoutDoors: services.upstreamRoutes
      .filter((route) => route.kind === 'logout')
      .map((route) => `${route.method} ${route.path}`),
    firstReads: firstReads(services),
    dpopNonceIssued: dpopNonceChecker(dpopNonceSecret(services.config.secrets)).issuedRecently,
    deviceInRequest: (ctx) =>
      knownDeviceInRequest(ctx, deviceCookieKeys(services.config.secrets), services.config.cookies),
    readPostedAuthorization,
  });
  onClose(() => limits.shedder.stop());
  app.use(limits);
  // an authorization request by POST is limited as the GET it becomes, its RP's bucket included: the limiter reads
  // its body once its address's buckets admit it (a flood is refused unread); here when the limits are off
  app.use(authorizationPost());
  app.use(riskRoutes(surfaces.fraudRoutes));
  app.use(webauthnRoutes(surfaces.webauthn));
  app.use(interactionRoutes(services));
  app.use(upstreamRoutes(services));
  app.use(jwksRoute(() => services.keys));
  app.use(ssfConfigurationRoute(services.config.issuer));
  app.use(sectorGate(services.sectors));
  app.use(resumeCompletion(services));
  // oidc-provider routes `/Token/` as `/token` and HEAD as GET: those pass every check above as spelled; 404 here
  app.use(providerPathsAsSpelled());
  app.use(services.holder.middleware());
  return app;
}
