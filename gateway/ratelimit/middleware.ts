/**
 * The rate-limit middleware (app.ts mounts it after origin pinning, so `ctx.ip` is the client address
 * read from trusted proxies only, and before every surface it protects). For a limited endpoint
 * (endpoints.ts):
 *
 * 1. a new login (authorize, chooser) is shed while the HSM is saturated (503 `HSM_BUSY` + Retry-After;
 *    observability/hsm-pressure.ts): the cheapest request to refuse, before anything is spent on it;
 * 2. in one decision (request-buckets.ts): the global bucket, the RP's (its tier or its own override, when the
 *    request names a configured client: at the authorize door its authorization requests', with its new browsers'
 *    part or the known device's share; at token and PAR its back-channel calls'), the address's bucket for that
 *    endpoint, and the address's failures bucket
 *    checked (introspection, revocation and the risk assessment, which only an RP's servers call, have one of
 *    their own each) — every rate but the failures' lowered by the adaptive factor of the request's class
 *    (load-shedder.ts: new logins first, logins in flight one level later);
 * 3. the handler may then take its IdP's and its identity's buckets, or at the risk assessment its login's
 *    (scoped.ts);
 * 4. an answer 400–499 other than a 429 (or a request the handler marked failed) charges the address's failures
 *    bucket, and the identity's when one was admitted (not a request for a DPoP nonce at the token, PAR or
 *    userinfo endpoint, a protocol step); the risk assessment's answers charge nothing (an RP
 *    backend asks for all its users: an expired token is no attack).
 *
 * Every decision is counted (`gateway_ratelimit_decisions_total`, `..._idp_decisions_total`,
 * `..._identity_decisions_total`, `..._login_decisions_total`); every refusal is logged with its code
 * (`RATE_LIMITED`, `HSM_BUSY`) and, for a rate limit, the kinds of the buckets that were empty (`refusedBy`,
 * counted in `gateway_ratelimit_refusals_total`): an address's share of an IdP used up is not the IdP saturated.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClientEntry } from '../config/types.ts';
import type { RateLimitConfig } from '../config/ratelimit.ts';
import { AdapterError } from '../../adapters/contract.ts';
import { errorSpec } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import { protocolStepOf } from '../http/protocol-step.ts';
import { declareCounter } from '../observability/metrics.ts';
import { afterSpill, bucketKey, onlyRefusedBy, type Bucket, type Decision } from './bucket.ts';
import { addressKey } from './address-key.ts';
import { limitedEndpoint, requestedClient, type LimitedEndpoint } from './endpoints.ts';
import { RateLimiter } from './limiter.ts';
import { LoadShedder, type LoadShedderDeps, type ShedClass } from './load-shedder.ts';
import { refuse } from './refusal.ts';
import { requestBuckets } from './request-buckets.ts';
import { attachLimits, type IdpDirection } from './scoped.ts';

export interface RateLimitDeps {
  config: RateLimitConfig;
  clients: readonly ClientEntry[];
  issuer: string;
  redis: Redis;
  logger: Logger;
  registry: Registry;
  /** Worker processes of this instance (`workers`): each keeps its own local line, so each admits its share. */
  workers: number;
  /** Key of the HMAC that names an identity's buckets (a gateway secret): no identity in clear in Redis. */
  identitySecret: string;
  /** True while the HSM has more signatures waiting than `hsm.shedQueueDepth` (absent: never). */
  hsmSaturated?: () => boolean;
  /** Where adaptive shedding records entering and leaving. */
  audit?: LoadShedderDeps['audit'];
  /** The upstream protocols' `login-response` routes (`POST /saml/acs`, …), limited as the ACS. */
  loginResponses: readonly string[];
  /** The upstream protocols' `logout` routes (`GET /saml/slo`, …), limited as `logout` (`perIpLogout`). */
  logoutDoors: readonly string[];
  /**
   * Reads the request will make first once admitted, started with the decision's call (one round trip, issue
   * #14). Reads only: a refused request's are wasted, never acted on.
   */
  firstReads?: (ctx: Context) => void;
  /**
   * Whether a DPoP nonce is one the gateway handed out lately (oidc/dpop-nonces.ts `issuedRecently`): a stale one
   * refused at userinfo charges no failure, a made-up one does (absent: every userinfo nonce answer is charged).
   */
  dpopNonceIssued?: (nonce: string) => boolean;
  /**
   * The device a request's valid laned device cookie names (risk/device-cookie.ts `knownDeviceInRequest`), null when
   * none: at the authorize door a returning browser takes from the RP's part kept for known devices (absent: every
   * browser is new).
   */
  deviceInRequest?: (ctx: Context) => string | null;
  /**
   * Reads an authorization request by POST into the GET it stands for (oidc/authorization-post.ts
   * `readPostedAuthorization`). Its RP is named in the body: the address's and the global buckets are taken before
   * the body is read, so a flood is refused unread, and the RP's once it is (one round trip more, for a POST only).
   * Absent: a POST is limited without its RP's bucket.
   */
  readPostedAuthorization?: (ctx: Context) => Promise<void>;
}

/**
 * Whether an answer counts as a failure of the client (credential stuffing, enumeration): a 4xx other than a
 * 429. A 5xx is ours — PostgreSQL restarting, the HSM busy — and never empties a person's or an address's
 * failures bucket (a person would otherwise be locked out by our own outage).
 */
const clientFault = (status: number) => status >= 400 && status < 500 && status !== 429;

/**
 * The token or PAR endpoint asked an authenticated client for its DPoP nonce, or userinfo for a fresh one in
 * place of a stale one it had handed out (a client's cached nonce goes stale in about four minutes, before its
 * access token does; oidc/dpop-nonces.ts): a step of the protocol every client meets, not a failure. Charged, an
 * RP's busy backend would empty its address's failures bucket with its own requests. oidc-provider asks before it
 * reads any code, token or secret but the client's credentials (checked first at token and PAR), so the answer
 * tells a guesser nothing.
 */
function askedForDpopNonce(
  ctx: Context,
  endpoint: LimitedEndpoint,
  nonceIssued: ((nonce: string) => boolean) | undefined,
): boolean {
  if (protocolStepOf(ctx.res) !== 'use_dpop_nonce') return false;
  if (endpoint === 'token' || endpoint === 'par') return true;
  // userinfo asks before any token is looked up, of anyone: only a nonce the gateway handed out and that went
  // stale is exempt (a client that was given it); a made-up one, or none, is charged like any failure
  if (endpoint !== 'userinfo' || nonceIssued === undefined) return false;
  const nonce = proofNonce(ctx.get('DPoP'));
  return nonce !== undefined && nonceIssued(nonce);
}

/** The `nonce` claim of a DPoP proof, read without verifying it (only to tell a stale nonce from a made-up one). */
function proofNonce(proof: string): string | undefined {
  const payload = proof.split('.')[1];
  if (payload === undefined || payload.length > 8192) return undefined;
  try {
    const nonce = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { nonce?: unknown }).nonce;
    return typeof nonce === 'string' && nonce.length <= 256 ? nonce : undefined;
  } catch {
    return undefined;
  }
}

function statusOf(error: unknown): number {
  if (error instanceof GatewayError) return error.status;
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  if (typeof status === 'number') return status;
  // an adapter's refusal has its registry status: a forged answer is the client's (4xx), an unreachable IdP ours (503)
  return error instanceof AdapterError ? errorSpec(error.code).status : 500;
}

/** How long a new login shed for a saturated HSM is asked to wait. */
const HSM_RETRY_AFTER_SECONDS = 2;

const CLASS: Readonly<Record<LimitedEndpoint, ShedClass>> = {
  authorize: 'new_login',
  par: 'new_login',
  chooser: 'new_login',
  acs: 'in_flight',
  logout: 'in_flight',
  token: 'in_flight',
  introspection: 'in_flight',
  revocation: 'in_flight',
  userinfo: 'in_flight',
  webauthn: 'in_flight',
  interaction: 'in_flight',
  // an RP's call after a login, lowered with the logins in flight
  assessment: 'in_flight',
};

export function rateLimit(deps: RateLimitDeps): Middleware & { shedder: LoadShedder } {
  const { config } = deps;
  const limiter = new RateLimiter(deps.redis, {
    instanceShare: 1 / (config.instances * deps.workers),
    redisTimeoutMs: config.redisTimeoutMs,
  });
  const shedder = new LoadShedder(config.adaptive, deps);
  const clients = new Map(deps.clients.map((c) => [c.client_id, c]));
  const loginResponses = new Set(deps.loginResponses);
  const logoutDoors = new Set(deps.logoutDoors);
  const decisions = declareCounter(
    deps.registry,
    'gateway_ratelimit_decisions_total',
    'Rate-limit decisions by endpoint, outcome (admitted/refused/shed) and line (redis/local/hsm)',
    ['endpoint', 'outcome', 'line'],
  );
  const idpDecisions = declareCounter(
    deps.registry,
    'gateway_ratelimit_idp_decisions_total',
    'Per-IdP rate-limit decisions by IdP, direction (request sent / verified response received), outcome and line',
    ['idp', 'direction', 'outcome', 'line'],
  );
  const identityDecisions = declareCounter(
    deps.registry,
    'gateway_ratelimit_identity_decisions_total',
    'Per-identity rate-limit decisions by endpoint, outcome and line',
    ['endpoint', 'outcome', 'line'],
  );
  const loginDecisions = declareCounter(
    deps.registry,
    'gateway_ratelimit_login_decisions_total',
    "Per-login rate-limit decisions (the signed risk assessment's) by endpoint, outcome and line",
    ['endpoint', 'outcome', 'line'],
  );
  const refusals = declareCounter(
    deps.registry,
    'gateway_ratelimit_refusals_total',
    'Rate-limit refusals by endpoint and the kind of bucket that was empty (each empty one counted; line: redis/local)',
    ['endpoint', 'bucket', 'line'],
  );
  const newDevices = declareCounter(
    deps.registry,
    'gateway_ratelimit_new_device_cookies_total',
    "Laned device cookies a verified login gave a browser without one (given), or not, its account's share used up (withheld: risk-only)",
    ['outcome', 'line'],
  );
  const outcome = (d: Decision) => (d.admitted ? 'admitted' : 'refused');
  /** An identity's buckets are named by an HMAC of it: no identity in clear in Redis. */
  const identityId = (key: string) =>
    createHmac('sha256', deps.identitySecret).update(`ratelimit-identity-v1\n${key}`).digest('base64url').slice(0, 32);
  const sized = requestBuckets(config, deps.identitySecret);

  const refused = (requestId: unknown, code: 'RATE_LIMITED' | 'HSM_BUSY', fields: Record<string, unknown>) =>
    deps.logger.warn({ requestId, code, outcome: 'refused', ...fields }, 'rate limited');
  /** A refusal logged and counted by what refused it: the buckets that were empty. */
  const limited = (requestId: unknown, endpoint: LimitedEndpoint, d: Decision, fields: Record<string, unknown>) => {
    for (const bucket of d.refusedBy ?? []) refusals.inc({ endpoint, bucket, line: d.line });
    refused(requestId, 'RATE_LIMITED', { endpoint, ...fields, refusedBy: d.refusedBy, line: d.line });
  };

  /**
   * An authorization request by POST admitted by its address's buckets: its body read into its GET (a form refused
   * there charges the address's failures, as any refused request), then its RP's buckets taken, as a GET's are.
   */
  const postedDecision = async (
    ctx: Context,
    endpoint: LimitedEndpoint,
    factor: number,
    failures: Bucket,
    byAddress: Decision,
  ): Promise<Decision> => {
    try {
      await deps.readPostedAuthorization!(ctx);
    } catch (error) {
      if (clientFault(statusOf(error))) await limiter.charge([failures]);
      throw error;
    }
    const named = requestedClient(ctx, endpoint, clients);
    if (named === undefined || !clients.has(named)) return byAddress;
    const device = deps.deviceInRequest?.(ctx) ?? null;
    let decision = await limiter.decide(sized.client(endpoint, named, factor, device));
    if (device && onlyRefusedBy(decision, 'client_device'))
      decision = afterSpill(decision, await limiter.decide(sized.client(endpoint, named, factor, null)));
    return decision;
  };

  const middleware: Middleware = async (ctx, next) => {
    const endpoint = config.enabled ? limitedEndpoint(ctx.method, ctx.path, loginResponses, logoutDoors) : undefined;
    if (endpoint === undefined) return next();
    const shedClass = CLASS[endpoint];
    const requestId = ctx.state.requestId;
    if (shedClass === 'new_login' && deps.hsmSaturated?.()) {
      decisions.inc({ endpoint, outcome: 'shed', line: 'hsm' });
      refused(requestId, 'HSM_BUSY', { endpoint, line: 'hsm', retryAfter: HSM_RETRY_AFTER_SECONDS });
      refuse(ctx, endpoint, HSM_RETRY_AFTER_SECONDS, clients, deps.issuer, 'HSM_BUSY');
      return;
    }
    const factor = shedder.factor(shedClass);
    // an IPv6 client by its /64 (address-key.ts): a fresh address per request is still the same client
    const address = addressKey(ctx.ip);
    // an authorization request by POST: its address's buckets first, its body (and so its RP) read only once admitted
    const posted = endpoint === 'authorize' && ctx.method === 'POST' && deps.readPostedAuthorization !== undefined;
    const named = posted ? undefined : requestedClient(ctx, endpoint, clients);
    const client = named !== undefined && clients.has(named) ? named : undefined;
    // at the authorize door the RP's bucket is shared with its returning browsers' part (request-buckets.ts)
    const device = client !== undefined && endpoint === 'authorize' ? (deps.deviceInRequest?.(ctx) ?? null) : undefined;
    const { all, failures } = sized.endpoint(endpoint, address, client, factor, device);
    deps.firstReads?.(ctx);
    let decision = await limiter.decide(all);
    // a known device past its own share of the RP is never worse off than a browser without a cookie: it then takes
    // from the new browsers' part, as they do (one round trip more, on that refusal only)
    if (device && onlyRefusedBy(decision, 'client_device'))
      decision = afterSpill(
        decision,
        await limiter.decide(sized.endpoint(endpoint, address, client, factor, null).all),
      );
    if (posted && decision.admitted) decision = await postedDecision(ctx, endpoint, factor, failures, decision);
    decisions.inc({ endpoint, outcome: outcome(decision), line: decision.line });
    if (!decision.admitted) {
      limited(requestId, endpoint, decision, { retryAfter: decision.retryAfterSeconds, factor });
      refuse(ctx, endpoint, decision.retryAfterSeconds, clients, deps.issuer, 'RATE_LIMITED');
      return;
    }
    const charge: Bucket[] = [failures];
    let failed = false;
    attachLimits(ctx, {
      async idp(idp: string, direction: IdpDirection, device?: string | null) {
        // an AuthnRequest takes its address's share too (one address cannot drain the IdP for everyone), and its
        // device's share or, from a browser without a device cookie, the new browsers' (a flood of new logins from
        // many addresses cannot drain the IdP for returning people); a verified response is the IdP's own answer
        const request = direction === 'request';
        let d = await limiter.decide(
          request ? sized.idpRequest(idp, address, factor, device) : sized.idpResponse(idp, factor),
        );
        // a known device past its own share is never worse off than a browser without a cookie: it then takes from
        // the new browsers' part, as they do (one round trip more, on that refusal only)
        if (request && device && onlyRefusedBy(d, 'idp_device'))
          d = afterSpill(d, await limiter.decide(sized.idpRequest(idp, address, factor, null)));
        idpDecisions.inc({ idp, direction, outcome: outcome(d), line: d.line });
        if (!d.admitted) limited(requestId, endpoint, d, { idp, direction });
        return d;
      },
      async identity(key: string) {
        const id = identityId(key);
        // its failures per endpoint too: the ACS and WebAuthn both count the account, and a step-up failed with a
        // stolen IdP password must not lock the person out of every login (review, thirty-fifth round)
        const own: Bucket = {
          kind: 'identity_failures',
          key: bucketKey('fail-id', endpoint, id),
          ...config.identityFailures,
          cost: 0,
        };
        const d = await limiter.decide([
          { kind: 'identity', key: bucketKey('id', endpoint, id), ...config.perIdentity, cost: 1 },
          own,
        ]);
        identityDecisions.inc({ endpoint, outcome: outcome(d), line: d.line });
        if (d.admitted) charge.push(own);
        else limited(requestId, endpoint, d, { scope: 'identity' });
        return d;
      },
      async newDevice(key: string) {
        // not scaled by the load, not a refusal of the request: past it the browser gets a risk-only device cookie
        const d = await limiter.decide([
          {
            kind: 'identity_new_devices',
            key: bucketKey('new-devices', identityId(key)),
            ...config.perIdentityNewDevices,
            cost: 1,
          },
        ]);
        newDevices.inc({ outcome: d.admitted ? 'given' : 'withheld', line: d.line });
        return d;
      },
      async login(grantId: string) {
        // a fixed-size key whatever the grant id's length
        const id = createHash('sha256').update(grantId).digest('base64url').slice(0, 32);
        // not scaled by the load: a fairness cap per login, not the instance's capacity (the address's bucket is)
        const d = await limiter.decide([
          { kind: 'login', key: bucketKey('login', endpoint, id), ...config.perLoginAssessment, cost: 1 },
        ]);
        loginDecisions.inc({ endpoint, outcome: outcome(d), line: d.line });
        if (!d.admitted) limited(requestId, endpoint, d, { scope: 'login' });
        return d;
      },
      markFailed() {
        failed = true;
      },
    });
    // an RP's backend asks the assessment for all its users from one address: its refusals (a token expired, a
    // proof used) must not empty the failures bucket its token requests are checked against
    const charges = endpoint !== 'assessment';
    try {
      await next();
    } catch (error) {
      if (charges && clientFault(statusOf(error))) await limiter.charge(charge);
      throw error;
    }
    if (charges && (failed || (clientFault(ctx.status) && !askedForDpopNonce(ctx, endpoint, deps.dpopNonceIssued))))
      await limiter.charge(charge);
  };
  // started last: a declaration above that throws leaves no check running that nobody can stop
  if (config.enabled) shedder.start();
  return Object.assign(middleware, { shedder });
}
