/**
 * The rate-limit middleware (app.ts mounts it after origin pinning, so `ctx.ip` is the client address
 * read from trusted proxies only, and before every surface it protects). For a limited endpoint
 * (endpoints.ts) it takes, in one decision: the global bucket, the RP's bucket (its tier or its own
 * override, when the request names a configured client), the address's bucket for that endpoint, and checks
 * the address's failures bucket; an answer ≥ 400 then charges the failures bucket. Every decision is counted
 * (`gateway_ratelimit_decisions_total`); every refusal is logged with the code `RATE_LIMITED`.
 */
import type { Middleware } from 'koa';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClientEntry } from '../config/types.ts';
import type { RateLimitConfig } from '../config/ratelimit.ts';
import { declareCounter } from '../observability/metrics.ts';
import { bucketKey, type Bucket } from './bucket.ts';
import { limitedEndpoint, requestedClient, type LimitedEndpoint } from './endpoints.ts';
import { RateLimiter } from './limiter.ts';
import { refuse } from './refusal.ts';

export interface RateLimitDeps {
  config: RateLimitConfig;
  clients: readonly ClientEntry[];
  issuer: string;
  redis: Redis;
  logger: Logger;
  registry: Registry;
  /** Worker processes of this instance (`workers`): each keeps its own local line, so each admits its share. */
  workers: number;
  /** The upstream protocols' `login-response` routes (`POST /saml/acs`, …), limited as the ACS. */
  loginResponses: readonly string[];
}

export function rateLimit(deps: RateLimitDeps): Middleware {
  const { config } = deps;
  const limiter = new RateLimiter(deps.redis, {
    instanceShare: 1 / (config.instances * deps.workers),
    redisTimeoutMs: config.redisTimeoutMs,
  });
  const clients = new Map(deps.clients.map((c) => [c.client_id, c]));
  const loginResponses = new Set(deps.loginResponses);
  const decisions = declareCounter(
    deps.registry,
    'gateway_ratelimit_decisions_total',
    'Rate-limit decisions by endpoint, outcome (admitted/refused) and line (redis/local)',
    ['endpoint', 'outcome', 'line'],
  );
  const global: Bucket = {
    kind: 'global',
    key: bucketKey('global'),
    capacity: config.global.capacity,
    perSecond: config.global.perSecond,
    cost: 1,
  };

  function buckets(
    endpoint: LimitedEndpoint,
    ip: string,
    clientId: string | undefined,
  ): { all: Bucket[]; failures: Bucket } {
    const failures: Bucket = { kind: 'failures', key: bucketKey('fail', ip), ...config.failures, cost: 0 };
    const all: Bucket[] = [
      global,
      { kind: 'ip', key: bucketKey('ip', endpoint, ip), ...config.perIp, cost: 1 },
      failures,
    ];
    if (clientId !== undefined && clients.has(clientId)) {
      const own = config.clients[clientId];
      const perSecond = own?.perSecond ?? config.tiers[own?.tier ?? config.defaultTier];
      all.push({
        kind: 'client',
        key: bucketKey('client', clientId),
        capacity: Math.max(1, Math.ceil(perSecond * config.clientBurstSeconds)),
        perSecond,
        cost: 1,
      });
    }
    return { all, failures };
  }

  return async (ctx, next) => {
    const endpoint = config.enabled ? limitedEndpoint(ctx.method, ctx.path, loginResponses) : undefined;
    if (endpoint === undefined) return next();
    const { all, failures } = buckets(endpoint, ctx.ip, requestedClient(ctx, endpoint));
    const decision = await limiter.decide(all);
    decisions.inc({ endpoint, outcome: decision.admitted ? 'admitted' : 'refused', line: decision.line });
    if (!decision.admitted) {
      deps.logger.warn(
        {
          requestId: ctx.state.requestId,
          code: 'RATE_LIMITED',
          outcome: 'refused',
          endpoint,
          line: decision.line,
          retryAfter: decision.retryAfterSeconds,
        },
        'rate limited',
      );
      refuse(ctx, endpoint, decision.retryAfterSeconds, clients, deps.issuer);
      return;
    }
    try {
      await next();
    } catch (error) {
      await limiter.charge([failures]);
      throw error;
    }
    if (ctx.status >= 400) await limiter.charge([failures]);
  };
}
