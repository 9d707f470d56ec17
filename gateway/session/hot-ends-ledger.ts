/**
 * The written-down copy of what did not reach Redis (`pending-hot-ends.ts`), in PostgreSQL (`session_hot_pending`,
 * migration 0900): a row per end or eviction kept, deleted once Redis took it. The queue itself stays in memory;
 * this copy is what a process booting after one that stopped or died with a queue reads back
 * ({@link HotEndsLedger.load}), so that an end PostgreSQL holds is never left undone in Redis by a restart.
 *
 * Written only on the failure path (Redis did not answer): a login or logout that reaches Redis costs nothing more.
 * A process killed between PostgreSQL's end and Redis's refusal (the hot tier's timeout) leaves no row: that
 * window, a fraction of a second, is not covered.
 */
import type { Pool } from 'pg';

export type PendingKind = 'end' | 'evict';

/** A row read back at boot. */
export interface PendingRow {
  id: string;
  kind: PendingKind;
  recordKeys: Buffer[];
  lookups: Buffer[];
}

/** The most rows read back at boot (the oldest first): the in-memory queues' capacity. */
export const LOAD_LIMIT = 100_000;

export class HotEndsLedger {
  readonly #pool: Pool;

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

  /** Forgets rows whose end or eviction Redis took. */
  async done(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#pool.query('delete from session_hot_pending where id = any($1::bigint[])', [ids]);
  }

  /** The rows kept, oldest first (at most {@link LOAD_LIMIT}). */
  async load(): Promise<PendingRow[]> {
    const { rows } = await this.#pool.query<{
      id: string;
      kind: PendingKind;
      record_keys: Buffer[];
      lookups: Buffer[];
    }>('select id, kind, record_keys, lookups from session_hot_pending order by id limit $1', [LOAD_LIMIT]);
    return rows.map((r) => ({ id: r.id, kind: r.kind, recordKeys: r.record_keys, lookups: r.lookups }));
  }
}
