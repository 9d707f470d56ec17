/**
 * The decision cache (TTL 30 s, Redis, shared by every instance). A cached decision is served only while
 * the person's fraud-score version is the one it was computed under: any update of their score (a new
 * assessment that changed it, a late stage-4 verdict, a manual-review decision) bumps the version, so a
 * stale "allow" is never served. Keys are hashes of the whole policy input.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Decision } from './decide.ts';

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

  /** The person's current score version. */
  async version(accountId: string): Promise<number> {
    return Number((await this.#redis.get(`riskver:${accountId}`)) ?? 0);
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
   * {@link get} and the person's current score version, read together (one round trip): on a miss, the
   * decision computed next is stored under that version.
   */
  async lookup(accountId: string, key: string): Promise<{ decision: Decision | null; version: number }> {
    // two GETs (auto-pipelined: one write on one server), not an MGET: on Redis Cluster the keys are in two slots
    const [raw, held] = await Promise.all([this.#redis.get(`pdp:${key}`), this.#redis.get(`riskver:${accountId}`)]);
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

  /** Stores a decision computed under `version`. */
  async set(key: string, version: number, decision: Decision): Promise<void> {
    await this.#redis.set(`pdp:${key}`, JSON.stringify({ version, decision }), 'EX', this.#ttl);
  }

  /** The person's fraud score changed: every cached decision for them is void. */
  async invalidate(accountId: string): Promise<void> {
    await this.#redis.incr(`riskver:${accountId}`);
  }

  /** Records a new score; bumps the version when it differs from the last one. Returns whether it did. */
  async scoreUpdated(accountId: string, score: number): Promise<boolean> {
    const rounded = score.toFixed(4);
    const previous = await this.#redis.getset(`riskscore:${accountId}`, rounded);
    if (previous === rounded) return false;
    await this.invalidate(accountId);
    return true;
  }
}
