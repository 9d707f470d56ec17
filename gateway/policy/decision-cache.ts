/**
 * The decision cache (TTL 30 s, Redis, shared by every instance). A cached decision is served only while
 * the person's fraud-score version is the one it was computed under: any update of their score (a new
 * assessment that changed it, a late stage-4 verdict, a manual-review decision) bumps the version, so a
 * stale "allow" is never served. Keys are hashes of the whole policy input and of the rule that decides it (an
 * instance with another rule, during a rolling policy change, never serves another's decision).
 *
 * A person's keys share the hash tag `{<account id>}` (one Redis Cluster slot: `pdp:{a}:<hash>`,
 * `riskver:{a}`, `riskscore:{a}`), so that a lookup (the decision and the version) is one script, and a new
 * score (compare, then bump the version) is one script too: one command each, not two (issue #14). Keys
 * written by the code before this one (`pdp:<hash>`, `riskver:<a>`) are no longer read: a cache miss at
 * most, and a first score after the change counts as an update (the version bumps: never a stale hit).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from '../store/lua-script.ts';
import type { Decision } from './decide.ts';

/** KEYS[1] the cached decision, KEYS[2] the person's score version. Answers {decision or false, version or false}. */
const LOOKUP = new LuaScript(`return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}`);
/**
 * KEYS[1] the person's last score, KEYS[2] their score version, KEYS[3] (optional) the cache entry of a decision
 * computed under version ARGV[2]. ARGV[1] the new score, ARGV[3] the entry, ARGV[4] its TTL. 1 when the score
 * changed (the version bumped: the decision is not cached, it would be stale at once); else 0, and the decision
 * is cached if the version is still the one it was computed under.
 */
const SCORE_UPDATED = new LuaScript(`
if redis.call('GETSET', KEYS[1], ARGV[1]) ~= ARGV[1] then
  redis.call('INCR', KEYS[2])
  return 1
end
if KEYS[3] and tonumber(redis.call('GET', KEYS[2]) or '0') == tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
end
return 0`);

/** A decision computed on a cache miss, to be cached with the login's new score ({@link DecisionCache.scoreUpdated}). */
export interface ComputedDecision {
  accountId: string;
  key: string;
  version: number;
  decision: Decision;
}

const tag = (accountId: string) => `{${accountId}}`;
const decisionName = (accountId: string, key: string) => `pdp:${tag(accountId)}:${key}`;
const versionName = (accountId: string) => `riskver:${tag(accountId)}`;
const scoreName = (accountId: string) => `riskscore:${tag(accountId)}`;

export class DecisionCache {
  readonly #redis: Redis;
  readonly #ttl: number;
  hits = 0;
  misses = 0;

  constructor(redis: Redis, ttlSeconds = 30) {
    this.#redis = redis;
    this.#ttl = ttlSeconds;
  }

  /** The cache key of a policy input (any JSON value). */
  static keyOf(input: unknown): string {
    return createHash('sha256').update(JSON.stringify(input)).digest('base64url');
  }

  /** The Redis key (without the deployment's prefix) of a person's cached decision. */
  static redisKey(accountId: string, key: string): string {
    return decisionName(accountId, key);
  }

  /** The person's current score version. */
  async version(accountId: string): Promise<number> {
    return Number((await this.#redis.get(versionName(accountId))) ?? 0);
  }

  /**
   * A cached decision still valid for the person's current score version, or `null`.
   *
   * @example
   * const hit = await cache.get(accountId, DecisionCache.keyOf(input));
   */
  async get(accountId: string, key: string): Promise<Decision | null> {
    return (await this.lookup(accountId, key)).decision;
  }

  /**
   * {@link get} and the person's current score version, read together (one command): on a miss, the
   * decision computed next is stored under that version.
   */
  async lookup(accountId: string, key: string): Promise<{ decision: Decision | null; version: number }> {
    const [raw, held] = (await LOOKUP.run(this.#redis, [decisionName(accountId, key), versionName(accountId)], [])) as [
      string | null,
      string | null,
    ];
    const version = Number(held ?? 0);
    if (raw) {
      const entry = JSON.parse(raw) as { version: number; decision: Decision };
      if (entry.version === version) {
        this.hits += 1;
        return { decision: entry.decision, version };
      }
    }
    this.misses += 1;
    return { decision: null, version };
  }

  /** Stores a decision for the person, computed under `version`. */
  async set(accountId: string, key: string, version: number, decision: Decision): Promise<void> {
    await this.#redis.set(decisionName(accountId, key), JSON.stringify({ version, decision }), 'EX', this.#ttl);
  }

  /** The person's fraud score changed: every cached decision for them is void. */
  async invalidate(accountId: string): Promise<void> {
    await this.#redis.incr(versionName(accountId));
  }

  /**
   * Records a new score; bumps the version when it differs from the last one (one command). Returns whether
   * it did. `computed`: the decision of the same login computed on a miss, cached in the same command when
   * the score did not change and the version is still the one it was computed under (else it would be stale
   * at once): one command where a login made two (SET, then GETSET) or three (and INCR).
   */
  async scoreUpdated(accountId: string, score: number, computed?: ComputedDecision): Promise<boolean> {
    const keys = [scoreName(accountId), versionName(accountId)];
    const args: Array<string | number> = [score.toFixed(4)];
    if (computed && computed.accountId === accountId) {
      keys.push(decisionName(accountId, computed.key));
      args.push(
        computed.version,
        JSON.stringify({ version: computed.version, decision: computed.decision }),
        this.#ttl,
      );
    }
    const changed = await SCORE_UPDATED.run(this.#redis, keys, args);
    return changed === 1;
  }
}
