/**
 * Ends of records that did not reach Redis (a timeout, Redis away): PostgreSQL already has them ended, but Redis
 * may still hold the records as they were, and a read that finds them there would take them for current until
 * they expire (a session's up to its whole life). They are kept here, bounded, and tried again on the session
 * tier's timer (every second, `boot-sessions.ts`) until Redis takes them.
 */
import type { Logger } from 'pino';
import type { HotTier } from './hot-tier.ts';

/** How many unfinished ends are kept (the oldest dropped beyond: logged). */
const CAPACITY = 10_000;

interface PendingEnd {
  recordKeys: readonly Buffer[];
  lookups: readonly Buffer[];
}

export class PendingHotEnds {
  readonly #hot: HotTier;
  readonly #logger: Logger;
  readonly #pending: PendingEnd[] = [];

  constructor(hot: HotTier, logger: Logger) {
    this.#hot = hot;
    this.#logger = logger;
  }

  /** Removes the records (and cookie pointers) from Redis; when Redis does not answer, keeps them for {@link retry}. */
  async delete(recordKeys: readonly Buffer[], lookups: readonly Buffer[]): Promise<void> {
    if ((await this.#hot.delete(recordKeys, lookups)) === true) return;
    this.#logger.warn({ records: recordKeys.length }, 'session store: an end did not reach Redis; tried again');
    this.later(recordKeys, lookups);
  }

  /**
   * Keeps records for {@link retry} without trying now (Redis just failed a write of them): their copies in Redis
   * may be older than PostgreSQL's (a write that reached PostgreSQL only), so they are marked there as ended
   * (read as a miss: readers go to PostgreSQL) once Redis answers again.
   */
  later(recordKeys: readonly Buffer[], lookups: readonly Buffer[] = []): void {
    this.#pending.push({ recordKeys: [...recordKeys], lookups: [...lookups] });
    if (this.#pending.length > CAPACITY) {
      this.#pending.shift();
      this.#logger.error('session store: too many ends not in Redis; the oldest dropped (Redis keeps it until expiry)');
    }
  }

  /** Tries the kept ends again, oldest first, until Redis fails one; answers how many it made. */
  async retry(): Promise<number> {
    let made = 0;
    for (let next = this.#pending.shift(); next !== undefined; next = this.#pending.shift()) {
      if ((await this.#hot.delete(next.recordKeys, next.lookups)) !== true) {
        this.#pending.unshift(next);
        break;
      }
      made += 1;
    }
    return made;
  }
}
