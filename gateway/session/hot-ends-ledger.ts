/**
 * The written-down copy of what did not reach Redis (`pending-hot-ends.ts`), in PostgreSQL (`session_hot_pending`,
 * migration 0900): a row per end or eviction a process kept, and a sweep that any process runs every minute
 * (boot-sessions.ts), the first time at boot: each row a minute old or more is made in Redis again (an end mark, an
 * eviction: both idempotent, so a row its own process made meanwhile, or another process sweeping too, is harmless)
 * and deleted once Redis took all of it.
 *
 * So an end PostgreSQL holds is never left undone in Redis by a process that stopped, died, or dropped it from its
 * full queue. Written only on the failure path (Redis did not answer): a login or logout that reaches Redis costs
 * nothing more. A process killed between PostgreSQL's end and Redis's refusal (the hot tier's timeout) leaves no row:
 * that window, a fraction of a second, is not covered. While Redis is away the table grows by one row per end or
 * record write that missed it, and empties at the first sweep after Redis is back.
 */
import type { Pool } from 'pg';
import type { HotTier } from './hot-tier.ts';

export type PendingKind = 'end' | 'evict';

/** A row is swept once this old (ms): its own process's retries (every second) have had their chance. */
export const SWEEP_AFTER_MS = 60_000;
/** Rows read per statement of a sweep. */
const SWEEP_BATCH = 1_000;

export class HotEndsLedger {
  readonly #pool: Pool;
  #sweeping: Promise<number> | undefined;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Writes one down; answers its row id. */
  async keep(kind: PendingKind, recordKeys: readonly Buffer[], lookups: readonly Buffer[]): Promise<string> {
    const { rows } = await this.#pool.query<{ id: string }>(
      'insert into session_hot_pending (kind, record_keys, lookups) values ($1, $2, $3) returning id',
      [kind, recordKeys, lookups],
    );
    return rows[0]!.id;
  }

  /**
   * Makes in Redis every row at least `olderThanMs` old, batch after batch, and deletes those Redis took whole; stops
   * at the first batch Redis does not answer (the rest waits for the next sweep). One sweep at a time per process.
   * Answers how many rows it made.
   */
  sweep(hot: HotTier, olderThanMs = SWEEP_AFTER_MS): Promise<number> {
    this.#sweeping ??= this.#sweepAll(hot, olderThanMs).finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepAll(hot: HotTier, olderThanMs: number): Promise<number> {
    let made = 0;
    let after = '0';
    for (;;) {
      const { rows } = await this.#pool.query<{
        id: string;
        kind: PendingKind;
        record_keys: Buffer[];
        lookups: Buffer[];
      }>(
        `select id::text as id, kind, record_keys, lookups from session_hot_pending
          where id > $1::bigint and queued_at < now() - make_interval(secs => $2) order by id limit $3`,
        [after, olderThanMs / 1000, SWEEP_BATCH],
      );
      const done: string[] = [];
      for (const row of rows) {
        if (row.kind === 'end') {
          if ((await hot.delete(row.record_keys, row.lookups)) !== true) break;
        } else {
          const taken = await hot.evict(row.record_keys);
          if (taken === 'unavailable') break;
          if (taken.length !== row.record_keys.length) continue; // a node of a Redis Cluster away: kept
        }
        done.push(row.id);
      }
      if (done.length > 0) {
        await this.#pool.query('delete from session_hot_pending where id = any($1::bigint[])', [done]);
        made += done.length;
      }
      if (rows.length < SWEEP_BATCH || done.length === 0) return made;
      after = rows.at(-1)!.id;
    }
  }
}
