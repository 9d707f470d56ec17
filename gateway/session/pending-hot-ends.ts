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
 * Each is also written down in PostgreSQL (`hot-ends-ledger.ts`) and forgotten there once Redis took it: a process
 * that stops or dies with a queue leaves it to the next one to boot ({@link PendingHotEnds.restore}), where before a
 * restart during a Redis outage left logged-out sessions and revoked tokens current in Redis until they expired.
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
  /** Its rows in the ledger (filled once written down). */
  rows: string[];
  /** Made in Redis: a row written down after it is forgotten at once. */
  done: boolean;
}

interface PendingEviction {
  key: Buffer;
  seq: number;
  rows: string[];
}

/** Failures in one retry after which it stops (Redis away: each waits for the hot tier's timeout). */
const FAILURES_PER_RETRY = 8;
/** Records evicted per call (each its own command). */
const EVICT_BATCH = 1_000;

export class PendingHotEnds {
  readonly #hot: HotTier;
  readonly #logger: Logger;
  readonly #ledger: HotEndsLedger | undefined;
  #ends: PendingEnd[] = [];
  /** Records to evict, by key (hex), in the order they failed; `seq` tells a failure after a retry began. */
  readonly #evictions = new Map<string, PendingEviction>();
  #seq = 0;
  #retrying: Promise<number> | undefined;
  #restored = false;

  constructor(hot: HotTier, logger: Logger, ledger?: HotEndsLedger) {
    this.#hot = hot;
    this.#logger = logger;
    this.#ledger = ledger;
  }

  /** The first retry's: what earlier processes left (read again at the next retry when PostgreSQL failed). */
  async #restoreOnce(): Promise<void> {
    if (this.#restored) return;
    await this.restore().then(
      () => (this.#restored = true),
      (err: unknown) => this.#logger.warn({ err }, 'session store: ends left by an earlier process not read'),
    );
  }

  /**
   * Takes back what a process before this one wrote down and Redis had not taken (boot): tried again with the rest.
   * Answers how many rows it read.
   */
  async restore(): Promise<number> {
    if (!this.#ledger) return 0;
    const rows = await this.#ledger.load();
    for (const row of rows) {
      if (row.kind === 'end')
        this.#ends.push({ recordKeys: row.recordKeys, lookups: row.lookups, rows: [row.id], done: false });
      else
        for (const key of row.recordKeys) {
          const hex = key.toString('hex');
          const held = this.#evictions.get(hex);
          if (held) held.rows.push(row.id);
          else this.#evictions.set(hex, { key, seq: (this.#seq += 1), rows: [row.id] });
        }
    }
    if (rows.length > 0)
      this.#logger.warn(
        { rows: rows.length },
        'session store: ends and evictions an earlier process left undone in Redis are made again',
      );
    return rows.length;
  }

  /** Writes one down in the ledger; `noted` is given its row id (or told to forget it when it is done already). */
  #writeDown(
    kind: PendingKind,
    recordKeys: readonly Buffer[],
    lookups: readonly Buffer[],
    noted: (id: string) => void,
  ) {
    if (!this.#ledger) return Promise.resolve();
    const ledger = this.#ledger;
    return ledger.keep(kind, recordKeys, lookups).then(noted, (err: unknown) =>
      // PostgreSQL away too: kept in memory only, as before
      this.#logger.error(
        { err, kind, records: recordKeys.length },
        'session store: an end not in Redis not written down',
      ),
    );
  }

  /** Forgets rows in the ledger (best effort: a row left is made again, harmlessly, by a later boot). */
  #forget(rows: readonly string[]): void {
    if (!this.#ledger || rows.length === 0) return;
    this.#ledger
      .done(rows)
      .catch((err: unknown) => this.#logger.warn({ err }, 'session store: a made end not forgotten in PostgreSQL'));
  }

  /** Ends the records (and cookie pointers) in Redis; when Redis does not answer, keeps them for {@link retry}. */
  async delete(recordKeys: readonly Buffer[], lookups: readonly Buffer[]): Promise<void> {
    if ((await this.#hot.delete(recordKeys, lookups)) === true) return;
    this.#logger.warn({ records: recordKeys.length }, 'session store: an end did not reach Redis; tried again');
    const end: PendingEnd = { recordKeys: [...recordKeys], lookups: [...lookups], rows: [], done: false };
    this.#ends.push(end);
    if (this.#ends.length > END_CAPACITY) {
      // its row stays in PostgreSQL: the next boot makes it
      this.#ends.shift();
      this.#logger.error('session store: too many ends not in Redis; the oldest dropped (made at the next boot)');
    }
    await this.#writeDown('end', end.recordKeys, end.lookups, (id) => {
      if (end.done) this.#forget([id]);
      else end.rows.push(id);
    });
  }

  /**
   * Keeps records for {@link retry} without trying now (Redis just failed a write of them): their copies in Redis
   * may be older than PostgreSQL's, so they are evicted there once Redis answers (readers then go to PostgreSQL).
   */
  later(recordKeys: readonly Buffer[]): void {
    const fresh: Buffer[] = [];
    for (const key of recordKeys) {
      const hex = key.toString('hex');
      const held = this.#evictions.get(hex);
      if (!held) fresh.push(key);
      this.#evictions.delete(hex); // to the back: the latest failure
      this.#evictions.set(hex, { key, seq: (this.#seq += 1), rows: held?.rows ?? [] });
    }
    // written down once per record while it waits (a record failing again keeps its row)
    if (fresh.length > 0)
      void this.#writeDown('evict', fresh, [], (id) => {
        const waiting = fresh.map((key) => this.#evictions.get(key.toString('hex'))).filter((e) => e !== undefined);
        if (waiting.length === 0) this.#forget([id]);
        // one row for the records still waiting: forgotten when the last of them is evicted
        else for (const entry of waiting) entry.rows.push(id);
      });
    while (this.#evictions.size > EVICT_CAPACITY) {
      this.#evictions.delete(this.#evictions.keys().next().value!);
      this.#logger.error(
        'session store: too many records to evict from Redis; the oldest dropped (evicted at the next boot)',
      );
    }
  }

  /**
   * Tries the kept ends, then the evictions, oldest first; each one Redis takes is done, each it refuses stays
   * (on Redis Cluster one node may be down while the others answer), until {@link FAILURES_PER_RETRY} failures.
   * One retry at a time (a call meanwhile gets the running one's answer). Answers how many it made.
   */
  retry(): Promise<number> {
    this.#retrying ??= this.#restoreOnce()
      .then(() => this.#retryOnce())
      .finally(() => {
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
      if ((await this.#hot.delete(end.recordKeys, end.lookups)) === true) {
        made += 1;
        end.done = true;
        this.#forget(end.rows);
      } else {
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
    const evictedRows = new Set<string>();
    for (const [hex, { seq, rows }] of batch) {
      // a write of the record that failed again since the batch left stays for the next retry
      if (taken.has(hex) && this.#evictions.get(hex)?.seq === seq) {
        this.#evictions.delete(hex);
        for (const row of rows) evictedRows.add(row);
      }
    }
    // a row names several records: forgotten once none of them waits
    if (evictedRows.size > 0) {
      const stillWaiting = new Set([...this.#evictions.values()].flatMap((e) => e.rows));
      this.#forget([...evictedRows].filter((row) => !stillWaiting.has(row)));
    }
    return made + taken.size;
  }
}
