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
 *
 * Each is also written down in PostgreSQL (`hot-ends-ledger.ts`, not awaited): any process's sweep makes it there
 * once it is a minute old, so that a process that stops or dies with a queue (or drops its oldest entries beyond the
 * capacity) leaves nothing undone. Before, a restart during a Redis outage left logged-out sessions and revoked tokens
 * current in Redis until they expired.
 */
import type { Logger } from 'pino';
import type { HotTier } from './hot-tier.ts';
import type { HotEndsLedger, PendingKind } from './hot-ends-ledger.ts';

/** How many unfinished ends are kept (the oldest dropped beyond: logged). */
const END_CAPACITY = 100_000;
/** How many records to evict are kept (the oldest dropped beyond: logged). */
const EVICT_CAPACITY = 100_000;

interface PendingEnd {
  recordKeys: readonly Buffer[];
  lookups: readonly Buffer[];
}

/** Failures in one retry after which it stops (Redis away: each waits for the hot tier's timeout). */
const FAILURES_PER_RETRY = 8;
/** Records evicted per call (each its own command). */
const EVICT_BATCH = 1_000;

export class PendingHotEnds {
  readonly #hot: HotTier;
  readonly #logger: Logger;
  #ends: PendingEnd[] = [];
  /** Records to evict, by key (hex), in the order they failed; `seq` tells a failure after a retry began. */
  readonly #evictions = new Map<string, { key: Buffer; seq: number }>();
  #seq = 0;
  #retrying: Promise<number> | undefined;

  readonly #ledger: HotEndsLedger | undefined;

  constructor(hot: HotTier, logger: Logger, ledger?: HotEndsLedger) {
    this.#hot = hot;
    this.#logger = logger;
    this.#ledger = ledger;
  }

  /** Writes one down in PostgreSQL, for the sweep (not awaited: the request that met Redis away does not wait). */
  #writeDown(kind: PendingKind, recordKeys: readonly Buffer[], lookups: readonly Buffer[]): void {
    this.#ledger?.keep(kind, recordKeys, lookups).catch((err: unknown) =>
      // PostgreSQL away too: kept in memory only, as before
      this.#logger.error(
        { err, kind, records: recordKeys.length },
        'session store: an end not in Redis not written down',
      ),
    );
  }

  /** Ends the records (and cookie pointers) in Redis; when Redis does not answer, keeps them for {@link retry}. */
  async delete(recordKeys: readonly Buffer[], lookups: readonly Buffer[]): Promise<void> {
    if ((await this.#hot.delete(recordKeys, lookups)) === true) return;
    this.#logger.warn({ records: recordKeys.length }, 'session store: an end did not reach Redis; tried again');
    this.#ends.push({ recordKeys: [...recordKeys], lookups: [...lookups] });
    this.#writeDown('end', recordKeys, lookups);
    if (this.#ends.length > END_CAPACITY) {
      this.#ends.shift();
      this.#logger.error('session store: too many ends not in Redis; the oldest dropped here (made by the sweep)');
    }
  }

  /**
   * Keeps records for {@link retry} without trying now (Redis just failed a write of them): their copies in Redis
   * may be older than PostgreSQL's, so they are evicted there once Redis answers (readers then go to PostgreSQL).
   */
  later(recordKeys: readonly Buffer[]): void {
    // written down once while a record waits (a record failing again keeps its row)
    const fresh = recordKeys.filter((key) => !this.#evictions.has(key.toString('hex')));
    if (fresh.length > 0) this.#writeDown('evict', fresh, []);
    for (const key of recordKeys) {
      const hex = key.toString('hex');
      this.#evictions.delete(hex); // to the back: the latest failure
      this.#evictions.set(hex, { key, seq: (this.#seq += 1) });
    }
    while (this.#evictions.size > EVICT_CAPACITY) {
      this.#evictions.delete(this.#evictions.keys().next().value!);
      this.#logger.error(
        'session store: too many records to evict from Redis; the oldest dropped here (evicted by the sweep)',
      );
    }
  }

  /**
   * Tries the kept ends, then the evictions, oldest first; each one Redis takes is done, each it refuses stays
   * (on Redis Cluster one node may be down while the others answer), until {@link FAILURES_PER_RETRY} failures.
   * One retry at a time (a call meanwhile gets the running one's answer). Answers how many it made.
   */
  retry(): Promise<number> {
    this.#retrying ??= this.#retryOnce().finally(() => {
      this.#retrying = undefined;
    });
    return this.#retrying;
  }

  async #retryOnce(): Promise<number> {
    if (this.#ends.length === 0 && this.#evictions.size === 0) return 0; // the timer's usual call
    let made = 0;
    let failures = 0;
    const kept: PendingEnd[] = [];
    const ends = this.#ends;
    this.#ends = [];
    for (const [i, end] of ends.entries()) {
      if (failures >= FAILURES_PER_RETRY) {
        kept.push(...ends.slice(i));
        break;
      }
      if ((await this.#hot.delete(end.recordKeys, end.lookups)) === true) made += 1;
      else {
        failures += 1;
        kept.push(end);
      }
    }
    this.#ends = [...kept, ...this.#ends]; // those that failed first, then those kept meanwhile
    if (failures >= FAILURES_PER_RETRY || this.#evictions.size === 0) return made;
    const batch = [...this.#evictions.entries()].slice(0, EVICT_BATCH);
    const evicted = await this.#hot.evict(batch.map(([, { key }]) => key));
    if (evicted === 'unavailable') return made;
    const taken = new Set(evicted.map((key) => key.toString('hex')));
    for (const [hex, { seq }] of batch) {
      // a write of the record that failed again since the batch left stays for the next retry
      if (taken.has(hex) && this.#evictions.get(hex)?.seq === seq) this.#evictions.delete(hex);
    }
    return made + taken.size;
  }
}
