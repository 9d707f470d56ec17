/**
 * What did not reach Redis, kept and tried again on the session tier's timer (every second, `boot-sessions.ts`)
 * until Redis takes it. Two kinds, in two queues:
 *
 * - **ends** (a logout, a token or grant revoked): PostgreSQL has them ended, but Redis may still hold the records
 *   as they were, and a read that found them there would take them for current until they expire (a session's
 *   up to its whole life). Made as the end would have been: an end mark (`HotTier.delete`). Bounded
 *   ({@link END_CAPACITY}, the oldest dropped beyond, logged as an error).
 * - **evictions** (a write that reached PostgreSQL but not Redis): Redis may hold the record's older copy. It is
 *   deleted (`HotTier.evict`: no end mark, so the next reader writes the current row back). One entry per record,
 *   however many writes of it failed; they never push an end out of its queue.
 */
import type { Logger } from 'pino';
import type { HotTier } from './hot-tier.ts';

/** How many unfinished ends are kept (the oldest dropped beyond: logged). */
const END_CAPACITY = 100_000;
/** How many records to evict are kept (the oldest dropped beyond: logged). */
const EVICT_CAPACITY = 100_000;

interface PendingEnd {
  recordKeys: readonly Buffer[];
  lookups: readonly Buffer[];
}

export class PendingHotEnds {
  readonly #hot: HotTier;
  readonly #logger: Logger;
  readonly #ends: PendingEnd[] = [];
  /** Record keys (hex) to evict, in the order they failed. */
  readonly #evictions = new Map<string, Buffer>();

  constructor(hot: HotTier, logger: Logger) {
    this.#hot = hot;
    this.#logger = logger;
  }

  /** Ends the records (and cookie pointers) in Redis; when Redis does not answer, keeps them for {@link retry}. */
  async delete(recordKeys: readonly Buffer[], lookups: readonly Buffer[]): Promise<void> {
    if ((await this.#hot.delete(recordKeys, lookups)) === true) return;
    this.#logger.warn({ records: recordKeys.length }, 'session store: an end did not reach Redis; tried again');
    this.#ends.push({ recordKeys: [...recordKeys], lookups: [...lookups] });
    if (this.#ends.length > END_CAPACITY) {
      this.#ends.shift();
      this.#logger.error('session store: too many ends not in Redis; the oldest dropped (Redis keeps it until expiry)');
    }
  }

  /**
   * Keeps records for {@link retry} without trying now (Redis just failed a write of them): their copies in Redis
   * may be older than PostgreSQL's, so they are deleted there once Redis answers (readers then go to PostgreSQL).
   */
  later(recordKeys: readonly Buffer[]): void {
    for (const key of recordKeys) {
      const hex = key.toString('hex');
      this.#evictions.delete(hex); // to the back: the latest failure
      this.#evictions.set(hex, key);
    }
    while (this.#evictions.size > EVICT_CAPACITY) {
      this.#evictions.delete(this.#evictions.keys().next().value!);
      this.#logger.error('session store: too many records to evict from Redis; the oldest dropped');
    }
  }

  /** Tries the kept ends, then the evictions, oldest first, until Redis fails one; answers how many it made. */
  async retry(): Promise<number> {
    let made = 0;
    for (let next = this.#ends.shift(); next !== undefined; next = this.#ends.shift()) {
      if ((await this.#hot.delete(next.recordKeys, next.lookups)) !== true) {
        this.#ends.unshift(next);
        return made;
      }
      made += 1;
    }
    if (this.#evictions.size === 0) return made;
    const batch = [...this.#evictions.entries()].slice(0, 1_000);
    if ((await this.#hot.evict(batch.map(([, key]) => key))) !== true) return made;
    for (const [hex] of batch) this.#evictions.delete(hex);
    return made + batch.length;
  }
}
