/**
 * The two links between a login and the grant it made, read later by the risk side: `risk:grant:<grantId>` →
 * the login (`api/risk-assessment.ts`: an RP asks about the assessment behind its token) and
 * `risk:login-grant:<loginId>` → the grant (`translation/boot-fraud.ts`: a late verdict revokes it).
 *
 * - both written with the grant's TTL, before oidc-provider is told the result (the caller awaits this);
 * - one round trip (issue #14): the two SETs are sent together (ioredis auto-pipelining), not one after the
 *   other; on Redis Cluster the keys are in different slots, so no MSET; either failing fails the login, and
 *   a link written alone meanwhile expires with its TTL.
 */
import type { Redis } from 'ioredis';

/**
 * @example
 * await linkGrantToLogin(services.redis, grantId, uid, services.config.ttl.grant);
 */
export async function linkGrantToLogin(
  redis: Redis,
  grantId: string,
  loginId: string,
  ttlSeconds: number,
): Promise<void> {
  await Promise.all([
    redis.set(`risk:grant:${grantId}`, loginId, 'EX', ttlSeconds),
    redis.set(`risk:login-grant:${loginId}`, grantId, 'EX', ttlSeconds),
  ]);
}
