/**
 * The two links between a login and the grant it made, read later by the risk side: `risk:grant:<grantId>` →
 * the login (`api/risk-assessment.ts`: an RP asks about the assessment behind its token) and
 * `risk:login-grant:<loginId>` → the grant (`translation/boot-fraud.ts`: a late verdict revokes it).
 *
 * - both written with the grant's TTL, before oidc-provider is told the result (the caller awaits this);
 * - one round trip (issue #14): the two are sent together (ioredis auto-pipelining), not one after the other; on
 *   Redis Cluster the keys are in different slots, so no MSET; either failing fails the login, and a link written
 *   alone meanwhile expires with its TTL.
 *
 * A late fraud verdict can come before the login has a grant (its correlation stage was late, and the login waits
 * in a manual review, a step-up, or a browser that has not followed its redirect yet). The verdict then takes the
 * login's link key itself (`LATE_DENY`, `takeLoginForLateVerdict`), and the login's completion, which writes that
 * key only if it does not hold `LATE_DENY` (one script on one key: atomic, and on one Redis Cluster slot), is
 * refused: of the verdict and the completion, whichever comes second sees the other.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../store/lua-script.ts';

/** What a late verdict leaves in a login's link key when the login has no grant yet. */
export const LATE_DENY = 'late-deny';

/** KEYS[1] the login's link key; ARGV[1] the grant id, ARGV[2] its TTL (s). 0 when a late verdict denied it. */
const LINK_UNLESS_DENIED = new LuaScript(`
if redis.call('GET', KEYS[1]) == '${LATE_DENY}' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`);

/** KEYS[1] the login's link key; ARGV[1] how long a denial waits for the login (s). The grant id, or nil. */
const DENY_UNLESS_LINKED = new LuaScript(`
local grant = redis.call('GET', KEYS[1])
if grant and grant ~= '${LATE_DENY}' then return grant end
redis.call('SET', KEYS[1], '${LATE_DENY}', 'EX', ARGV[1])
return false
`);

const loginKey = (loginId: string) => `risk:login-grant:${loginId}`;

/**
 * Links the grant and the login, unless a late verdict denied the login first: then `'late-deny'`, and the login's
 * link key keeps the denial (the caller refuses the login and ends the grant; the grant's own link, to the login,
 * is written all the same and names an ended grant).
 *
 * @example
 * if ((await linkGrantToLogin(services.redis, grantId, uid, services.config.ttl.grant)) === 'late-deny') ...
 */
export async function linkGrantToLogin(
  redis: Redis,
  grantId: string,
  loginId: string,
  ttlSeconds: number,
): Promise<'linked' | 'late-deny'> {
  const [, linked] = await Promise.all([
    redis.set(`risk:grant:${grantId}`, loginId, 'EX', ttlSeconds),
    LINK_UNLESS_DENIED.run(redis, [loginKey(loginId)], [grantId, ttlSeconds]),
  ]);
  return linked === 0 ? 'late-deny' : 'linked';
}

/**
 * A late verdict's hold on a login: the grant the login made, to revoke, or `undefined` when it has none yet (the
 * login is then refused at its completion, for `waitSeconds`).
 *
 * @example
 * const grantId = await takeLoginForLateVerdict(redis, loginId, 3 * 3600);
 */
export async function takeLoginForLateVerdict(
  redis: Redis,
  loginId: string,
  waitSeconds: number,
): Promise<string | undefined> {
  const grant = await DENY_UNLESS_LINKED.run(redis, [loginKey(loginId)], [waitSeconds]);
  return typeof grant === 'string' ? grant : undefined;
}
