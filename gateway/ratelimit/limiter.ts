/**
 * Decides whether one request is admitted: its buckets taken together in Redis (bucket-script.ts, one
 * EVALSHA), or, when Redis is not connected or does not answer within `redisTimeoutMs`, by this instance's
 * local limiter (local-limiter.ts). A Redis failure never admits a request unchecked.
 */
import type { Redis } from 'ioredis';
import { BUCKET_SCRIPT } from './bucket-script.ts';
import { kindsAt, type Bucket, type Decision } from './bucket.ts';
import { LocalLimiter } from './local-limiter.ts';

/** The script's answer: 0 (admitted), or `[wait in ms, 1-based positions of the empty buckets…]`; checked as unknown. */
type WithScript = Redis & {
  gwRateLimit(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
};

const TIMEOUT = Symbol('timeout');

export class RateLimiter {
  readonly #redis: WithScript;
  readonly #local: LocalLimiter;
  readonly #timeoutMs: number;

  constructor(redis: Redis, options: { instanceShare: number; redisTimeoutMs: number }) {
    if (!('gwRateLimit' in redis)) redis.defineCommand('gwRateLimit', { lua: BUCKET_SCRIPT });
    this.#redis = redis as unknown as WithScript;
    this.#local = new LocalLimiter(options.instanceShare);
    this.#timeoutMs = options.redisTimeoutMs;
  }

  async decide(buckets: readonly Bucket[]): Promise<Decision> {
    if (buckets.length === 0) return { admitted: true, retryAfterSeconds: 0, line: 'redis' };
    if (this.#redis.status !== 'ready') return this.#local.decide(buckets);
    const args = buckets.flatMap((b) => [b.capacity, b.perSecond, b.cost]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), this.#timeoutMs);
    });
    try {
      const answer = await Promise.race([
        this.#redis.gwRateLimit(buckets.length, ...buckets.map((b) => b.key), ...args),
        late,
      ]);
      if (answer === TIMEOUT) return this.#local.decide(buckets);
      if (answer === 0) return { admitted: true, retryAfterSeconds: 0, line: 'redis' };
      if (Array.isArray(answer)) {
        const [waitMs, ...positions] = answer;
        return {
          admitted: false,
          retryAfterSeconds: Math.max(1, Math.ceil(Number(waitMs) / 1000)),
          line: 'redis',
          refusedBy: kindsAt(
            buckets,
            positions.map((p) => Number(p) - 1),
          ),
        };
      }
      // a positive wait without positions (an earlier version of the script defined on this connection) refuses;
      // anything else is no answer of ours: the local line decides, nothing is admitted unchecked
      if (typeof answer === 'number' && answer > 0)
        return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(answer / 1000)), line: 'redis' };
      return this.#local.decide(buckets);
    } catch {
      return this.#local.decide(buckets);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Charges one failure to the failures bucket(s) (cost 1, admitted or not: the bucket only empties). */
  async charge(buckets: readonly Bucket[]): Promise<void> {
    await this.decide(buckets.map((b) => ({ ...b, cost: 1 as const })));
  }
}
