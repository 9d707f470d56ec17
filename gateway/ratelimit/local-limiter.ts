/**
 * The second line: this instance's own token buckets, used when Redis does not answer in time. Each limit is
 * this instance's share of it plus the product brief's 10 % overage, so that limits still hold (slightly
 * loosened, never lifted) while Redis is unreachable. Same algorithm as the Lua script, on the local clock.
 */
import { kindsAt, type Bucket, type Decision } from './bucket.ts';

export const LOCAL_OVERAGE = 1.1;
const MAX_BUCKETS = 100_000;

interface State {
  tokens: number;
  at: number;
}

export class LocalLimiter {
  readonly #buckets = new Map<string, State>();
  readonly #share: number;
  readonly #now: () => number;

  /** `share`: the fraction of every limit this instance admits on its own (1 / instances). */
  constructor(share: number, now: () => number = () => performance.now()) {
    this.#share = share;
    this.#now = now;
  }

  decide(buckets: readonly Bucket[]): Decision {
    const now = this.#now();
    let waitMs = 0;
    const empty: number[] = [];
    const levels = buckets.map((b, i) => {
      const capacity = Math.max(1, b.capacity * this.#share * LOCAL_OVERAGE);
      // the slowest rate a config may set (`rateLimit.perIdentityNewDevices`: 0.00001), never raised to a faster one
      const rate = Math.max(0.00001, b.perSecond * this.#share * LOCAL_OVERAGE);
      const state = this.#buckets.get(b.key);
      const tokens =
        state === undefined ? capacity : Math.min(capacity, state.tokens + ((now - state.at) * rate) / 1000);
      if (tokens < 1) {
        waitMs = Math.max(waitMs, Math.ceil(((1 - tokens) * 1000) / rate));
        empty.push(i);
      }
      return tokens;
    });
    if (waitMs > 0)
      return {
        admitted: false,
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
        line: 'local',
        refusedBy: kindsAt(buckets, empty),
      };
    if (this.#buckets.size > MAX_BUCKETS) this.#buckets.clear(); // bounded memory under a spray of addresses
    buckets.forEach((b, i) => this.#buckets.set(b.key, { tokens: (levels[i] ?? 0) - b.cost, at: now }));
    return { admitted: true, retryAfterSeconds: 0, line: 'local' };
  }
}
