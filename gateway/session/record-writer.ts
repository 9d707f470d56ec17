/**
 * The durable tier's writes (`durable-tier.ts`): records written by `session_record_write` (migrations 0645, 0760,
 * 0780), several in one statement, and a session save that met another request's save merged into it and written
 * again (`SessionMerger`, the session store's `session-save-merger.ts`).
 *
 * - One round trip for the common case: one statement, each record's function call taking its advisory lock in
 *   the order of the record keys (two writers of the same records never wait on each other crosswise).
 * - A session save is checked against the row its writer expects (the SHA-256 of its sealed value); a conflict is
 *   answered with the current row, merged into without a lock and written again, checked again by the write
 *   ({@link OPTIMISTIC_MERGES} times), then once under the record's lock in a transaction of its own.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { LATEST_FOR_WRITE, LOCK_RECORD, PUT, putOf } from './durable-statements.ts';
import { inTransaction } from './pg-transaction.ts';
import { sessionEndedHere } from './request-memo.ts';
import { rowValues, toRecord, type Row, type StoredRecord } from './stored-record.ts';

/**
 * How a session write that met another request's write is merged (the session store, `session-merge.ts`): the
 * function `session_record_write` (migration 0780) answers the current row instead of writing over it when that
 * row is not the one the write expects.
 */
export interface SessionMerger {
  /** The session row `record`'s writer expects to be current (its write is checked against it), if any. */
  expected(record: StoredRecord): StoredRecord | undefined;
  /**
   * `record` merged into `theirs` (the current row, another request's write since): written instead. `db`: the
   * transaction it is written in, when there is one (under the record's lock): what the merge writes down of its
   * own goes there, and commits or rolls back with the merged save (no second connection under the lock).
   */
  merge(record: StoredRecord, theirs: StoredRecord, db?: Queryable): Promise<StoredRecord>;
}

/** Merges of a session write made without a lock, each checked by the write, before one under the record's lock. */
const OPTIMISTIC_MERGES = 3;

/** What a merge may write through: the pool, or the transaction's client. */
export type Queryable = Pick<PoolClient, 'query'>;

const digest = (sealed: string) => createHash('sha256').update(sealed, 'utf8').digest();

export class RecordWriter {
  readonly #pool: Pool;
  #merger: SessionMerger | undefined;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Who merges a session write into another request's write since its base (the session store). */
  mergeSessionsWith(merger: SessionMerger): void {
    // one store per tier: a second one's merger would answer the first one's writes without their bases
    if (this.#merger && this.#merger !== merger) throw new Error('durable tier: a session merger is set already');
    this.#merger = merger;
  }

  /** Writes `records` (each record once); returns them as stored, in the order given. */
  async putMany(records: readonly StoredRecord[]): Promise<StoredRecord[]> {
    const answers = await this.#writeRows(records);
    // a session another request wrote since the row its writer expects (rare: two saves of one session at once)
    const stored: StoredRecord[] = [];
    for (const [i, { row, conflict }] of answers.entries())
      stored.push(conflict ? await this.#mergeInto(records[i]!, row) : row);
    return stored;
  }

  /**
   * `record` merged into `theirs` (the current row a write was answered with) and written naming it, checked again
   * by the write's own lock: no lock is held while merging (it opens and seals, which may reach the HSM). A row
   * changed again meanwhile is merged again, {@link OPTIMISTIC_MERGES} times; then under the record's lock
   * ({@link #mergeUnderLock}), where nothing can come between.
   */
  async #mergeInto(record: StoredRecord, theirs: StoredRecord): Promise<StoredRecord> {
    const merger = this.#requireMerger();
    let current = theirs;
    for (let round = 0; round < OPTIMISTIC_MERGES; round += 1) {
      const merged = await merger.merge(record, current);
      const {
        rows: [row],
      } = await this.#pool.query<Row & { conflict: boolean }>(PUT.with(await this.#writeValues(merged, current)));
      if (!row!.conflict) return toRecord(row!);
      current = toRecord(row!);
    }
    return this.#mergeUnderLock(record);
  }

  /** One statement writing `records` (named up to 8); each answered with whether it met another write (`conflict`). */
  async #writeRows(records: readonly StoredRecord[]): Promise<Array<{ row: StoredRecord; conflict: boolean }>> {
    if (records.length === 0) return [];
    if (records.length === 1) {
      // one round trip: the transaction (advisory lock of the key, latest session row, close, insert) is the
      // function `session_record_write` (migrations 0645, 0760, 0780), called in one statement
      const {
        rows: [row],
      } = await this.#pool.query<Row & { conflict: boolean }>(
        PUT.with(await this.#writeValues(records[0]!, this.#expected(records[0]!))),
      );
      return [{ row: toRecord(row!), conflict: row!.conflict }];
    }
    const hex = (r: StoredRecord) => r.recordKey.toString('hex');
    if (new Set(records.map(hex)).size !== records.length) throw new TypeError('putMany: a record named twice');
    const ordered = [...records].sort((a, b) => Buffer.compare(a.recordKey, b.recordKey));
    const values = await Promise.all(ordered.map((r) => this.#writeValues(r, this.#expected(r))));
    const { rows } = await this.#pool.query<Row & { conflict: boolean }>(putOf(ordered.length, values.flat()));
    const answered = new Map(rows.map((row) => [row.record_key.toString('hex'), row]));
    return records.map((r) => {
      const row = answered.get(hex(r));
      if (!row) throw new Error('putMany: a record was not stored');
      return { row: toRecord(row), conflict: row.conflict };
    });
  }

  #expected(record: StoredRecord): StoredRecord | undefined {
    return record.kind === 'Session' ? this.#merger?.expected(record) : undefined;
  }

  #requireMerger(): SessionMerger {
    if (!this.#merger) throw new Error('session write: another request wrote the session, and no merger is set');
    return this.#merger;
  }

  /**
   * The last resort of {@link #mergeInto}: in one transaction, the record's lock (as every writer and end takes it
   * first), its current row read, the write merged into it, and written naming it (nothing can come between: a
   * conflict then is a fault). A revocation may still land first (it locks the head, not the record): the write
   * is then answered with the revoked row, as any.
   */
  async #mergeUnderLock(record: StoredRecord): Promise<StoredRecord> {
    const merger = this.#requireMerger();
    return inTransaction(this.#pool, async (client) => {
      await client.query(LOCK_RECORD.with([record.recordKey]));
      const {
        rows: [current],
      } = await client.query<Row>(LATEST_FOR_WRITE.with([record.recordKey]));
      const theirs = current ? toRecord(current) : undefined;
      // an ended (not by this request) or revoked row is answered as it is by the write: nothing to merge into
      const into =
        theirs?.state === 'active' || (theirs?.state === 'ended' && (await sessionEndedHere(theirs.recordKey)));
      const merged = theirs && into ? await merger.merge(record, theirs, client) : record;
      const {
        rows: [row],
      } = await client.query<Row & { conflict: boolean }>(PUT.with(await this.#writeValues(merged, theirs)));
      if (row!.conflict) throw new Error('session write: the session changed under its own lock');
      return toRecord(row!);
    });
  }

  /**
   * A record's parameters of `session_record_write`: its columns, then, for a session this request's own end moved
   * to ended, that ended row (`p_reopen`: only a write naming it opens the session again, and only while it is the
   * current row; a login replacing its cookie id). Read when the write is sent, not when it was held: an end made
   * by a flush already under way counts.
   */
  async #writeValues(record: StoredRecord, expected: StoredRecord | undefined): Promise<unknown[]> {
    const endedHere = record.kind === 'Session' ? await sessionEndedHere(record.recordKey) : undefined;
    return [...rowValues(record), endedHere ?? null, expected ? digest(expected.sealed) : null];
  }
}
