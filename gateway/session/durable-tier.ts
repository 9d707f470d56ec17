/**
 * The durable tier: `session_records` in PostgreSQL (migration 0620). Insert-only: `put` closes the
 * record's current row (`valid_to`) and inserts the new one, in one transaction under an advisory lock of
 * the record key, so concurrent writers of one record serialise (one round trip: the function
 * `session_record_write` of migrations 0645 and 0760). The record's head (`session_record_heads`, migration 0740:
 * the `expires_at` of its latest row, so its partition) lets that function read and close its rows in one day
 * partition instead of probing all of them; so do `end` (`session_records_close`), `consume`, the revocation of
 * one session and `keysOfGrant` (the head names its record's grant, migration 0750). The statements are in
 * `durable-statements.ts`; its writes (and the merge of two saves of one session) in `record-writer.ts`.
 *
 * - A session keeps its `created_at` across rows, and never leaves `revoked` (a write to a revoked session
 *   is dropped; `put` answers the state it found); an `ended` one is opened again only by the request whose own
 *   end made its current row (a login replacing its cookie id, migration 0760).
 * - `revoke` closes the current rows it names and inserts them again as `revoked` with version + 1, and
 *   writes the revocation to `session_revocations` (the outbox) in the same transaction.
 * - In a {@link DurableTier.holdWrites} scope (one request), the writes and ends of records are held back and
 *   made together, the writes in one statement and one transaction, when the scope ends, or before an
 *   operation of the tier in the scope that touches them (held-writes.ts).
 */
import type { Pool } from 'pg';
import { forget, markSessionEnded } from './request-memo.ts';
import {
  CONSUME,
  CURRENT,
  CURRENT_STATE,
  ENDED_ROW,
  END,
  FIND_SESSION,
  KEYS_OF_GRANT,
  SCOPE_MATCH,
} from './durable-statements.ts';
import { RecordWriter, type SessionMerger } from './record-writer.ts';
import { WriteHolder, type CheckedRecord, type HeldOutcome } from './held-writes.ts';
import {
  COLUMNS,
  ENDED_FOR_GOOD,
  toRecord,
  type RevocationScope,
  type Row,
  type StoredRecord,
} from './stored-record.ts';

export type { RecordKind, RecordState, RevocationScope, StoredRecord } from './stored-record.ts';
export { COLUMNS, rowValues } from './stored-record.ts';
export type { Queryable, SessionMerger } from './record-writer.ts';
import { REVOKE_BATCH, revokeInTransaction, type RevokeBatch } from './revoke-transaction.ts';
export { REVOKE_BATCH, type RevokeBatch, type RevokeTarget } from './revoke-transaction.ts';

/** How many times a revocation is run again when PostgreSQL ended it to break a deadlock (`40P01`). */
const DEADLOCK_RETRIES = 3;

export class DurableTier {
  readonly #pool: Pool;
  readonly #holder: WriteHolder<StoredRecord>;
  readonly #writer: RecordWriter;

  constructor(pool: Pool) {
    this.#pool = pool;
    this.#writer = new RecordWriter(pool);
    this.#holder = new WriteHolder(
      (records) => this.#putMany(records),
      (recordKeys) => this.#end(recordKeys),
      (recordKeys) => this.#states(recordKeys),
    );
  }

  /**
   * Runs `work` with the writes and ends of records held back ({@link hold}, {@link holdEnd}; held-writes.ts):
   * they are made together when `work` ends (resolved or not: as they would have been one by one; a failed
   * write fails the scope), or before any other operation of this tier within it that touches them; `then`
   * runs with them once stored (the hot tier's copy). Nested scopes are the outer one. `checksWanted`, asked when
   * `work` ends: whether the records it checked ({@link holdCheck}) are read (default: yes).
   */
  holdWrites<T>(
    work: () => Promise<T>,
    then: (outcome: HeldOutcome<StoredRecord>) => Promise<void>,
    checksWanted?: () => boolean,
  ): Promise<T> {
    return this.#holder.run(work, then, checksWanted);
  }

  /**
   * Within a {@link holdWrites} scope, holds back the writes of `records` (a later write of a record replaces its held
   * one, as it would have replaced its row; a write replaces a held end of its record, but for a grant or token,
   * written at once then) and returns true; elsewhere returns false (the caller writes them now). A held session is
   * written by `session_record_write` like any other: a session revoked (or ended by another request) meanwhile stays
   * so (the scope's `then` gets the row as stored).
   */
  hold(records: readonly StoredRecord[]): boolean {
    // a grant or token whose end the scope holds is not written over it (its end would be dropped): written now,
    // after the scope's writes and ends, and refused as ended (migration 0830)
    if (records.some((r) => ENDED_FOR_GOOD.has(r.kind) && this.#holder.endHeld(r.recordKey))) return false;
    return this.#holder.hold(records);
  }

  /**
   * Within a {@link holdWrites} scope, holds back the end of `recordKeys` (and the removal of the cookie
   * pointers `lookups`, reported to `then`) and returns true; elsewhere, or when a write of one of them is
   * held, returns false (the caller ends them now: {@link end} writes the held ones first).
   */
  holdEnd(recordKeys: readonly Buffer[], lookups: readonly Buffer[]): boolean {
    return this.#holder.holdEnd(recordKeys, lookups);
  }

  /**
   * Within a {@link holdWrites} scope, has the current state of `recordKey` read with the writes made when the scope
   * ends and reported to `then` (`checked`), and returns true; elsewhere returns false. A session this request read and
   * saves again unchanged is not written: this is how the request learns that another ended or revoked it meanwhile.
   */
  holdCheck(recordKey: Buffer): boolean {
    return this.#holder.holdCheck(recordKey);
  }

  /** The state of each record's current row (`'absent'`: none, e.g. closed by two ends at once). */
  async #states(recordKeys: readonly Buffer[]): Promise<CheckedRecord[]> {
    return Promise.all(
      recordKeys.map(async (recordKey) => {
        const read = () => this.#pool.query<{ state: string | null }>(CURRENT_STATE.with([recordKey]));
        // a check that waited on a revocation's row may be the one PostgreSQL ends to break a deadlock: once more
        const {
          rows: [row],
        } = await read().catch((error: unknown) => {
          if ((error as { code?: string }).code === '40P01') return read();
          throw error;
        });
        return { recordKey, state: row?.state ?? 'absent' };
      }),
    );
  }

  /** The record held back under `recordKey` in the current scope, `'ended'` when its end is (read before both tiers). */
  heldRecord(recordKey: Buffer): StoredRecord | 'ended' | undefined {
    return this.#holder.heldRecord(recordKey);
  }

  /** Who merges a session write into another request's write since its base (the session store). */
  mergeSessionsWith(merger: SessionMerger): void {
    this.#writer.mergeSessionsWith(merger);
  }

  /** Makes the held writes and ends of the current scope (if any) now: what follows may depend on them. */
  writeHeld(): Promise<void> {
    return this.#holder.flush();
  }

  /** Writes the held records of the current scope (if any) now. */
  #flush(): Promise<void> {
    return this.#holder.flush();
  }

  /**
   * Writes `record` as the record's new current row. For a session, the version, state and creation time
   * of its latest row win over the caller's (a revoked session stays revoked). Returns what was stored.
   */
  async put(record: StoredRecord): Promise<StoredRecord> {
    await this.#flush();
    return this.#put(record);
  }

  async #put(record: StoredRecord): Promise<StoredRecord> {
    const [stored] = await this.#putMany([record]);
    return stored!;
  }

  /**
   * Writes several records as {@link put} writes each, in one round trip and one transaction: one statement
   * calling `session_record_write` once per record. The advisory locks are taken in the order of the record
   * keys (two writers of the same records never wait on each other crosswise). Returns what was stored, in
   * the order of `records`. A session another request wrote since this one's base is merged into that write
   * and written again, under the record's lock ({@link SessionMerger}).
   */
  async putMany(records: readonly StoredRecord[]): Promise<StoredRecord[]> {
    await this.#flush();
    return this.#putMany(records);
  }

  #putMany(records: readonly StoredRecord[]): Promise<StoredRecord[]> {
    return this.#writer.putMany(records);
  }

  /**
   * The current, unexpired row of a record. Within a {@link holdWrites} scope, the held writes are made
   * first only when one of them is this record's (a row of another key is not what they change).
   */
  async get(recordKey: Buffer): Promise<StoredRecord | null> {
    if (this.#holder.holds(recordKey)) await this.#flush();
    const {
      rows: [row],
    } = await this.#pool.query<Row>(CURRENT.with([recordKey]));
    return row ? toRecord(row) : null;
  }

  /** The `ended` row a session's end made at `endedFrom` (what `end` marked in the request), if it is still there. */
  async endedRow(recordKey: Buffer, endedFrom: string): Promise<StoredRecord | null> {
    const {
      rows: [row],
    } = await this.#pool.query<Row>(ENDED_ROW.with([recordKey, endedFrom]));
    return row ? toRecord(row) : null;
  }

  /** The current session whose cookie id (`lookup`) or one of whose `sid`s hashes to `key`. */
  async findSession(by: 'lookup' | 'sid', key: Buffer): Promise<StoredRecord | null> {
    await this.#flush();
    const statement = FIND_SESSION[by];
    if (!statement) throw new TypeError(`unknown session lookup ${JSON.stringify(by)}`);
    const {
      rows: [row],
    } = await this.#pool.query<Row>(statement.with([key]));
    return row ? toRecord(row) : null;
  }

  /** The current, unexpired, active sessions of one person (`account_key`), newest first. */
  async sessionsOfAccount(accountKey: Buffer): Promise<StoredRecord[]> {
    await this.#flush();
    const { rows } = await this.#pool.query<Row>(
      `select ${COLUMNS} from session_records where kind = 'Session' and account_key = $1 and valid_to is null and state = 'active' and expires_at > now() order by created_at desc`,
      [accountKey],
    );
    return rows.map(toRecord);
  }

  /**
   * Soft-deletes the current rows of records (`valid_to`); a session is kept as `ended` (its version kept).
   * One statement (one round trip, one transaction): the rows it closes feed the insert of the ended ones.
   */
  async end(recordKeys: readonly Buffer[]): Promise<void> {
    await this.#flush();
    await this.#end(recordKeys);
  }

  async #end(recordKeys: readonly Buffer[]): Promise<void> {
    if (recordKeys.length === 0) return;
    const { rows } = await this.#pool.query<{ record_key: Buffer; ended_from: string }>(END.with([recordKeys]));
    // the sessions this end moved from active to ended, and the ended row it made: only a write of this request
    // naming that row may open one again (`#writeValues`)
    for (const row of rows) markSessionEnded(row.record_key, row.ended_from);
  }

  /**
   * Single use of a one-time record (a refresh token): its current `active` row is closed and kept as
   * `ended` (so that a later presentation is recognised as a reuse). Exactly one caller gets the record
   * (the row lock serialises concurrent callers; the second finds no active row): the others get `null`.
   * One statement (one round trip, one transaction).
   */
  async consume(recordKey: Buffer): Promise<StoredRecord | null> {
    await this.#flush();
    const {
      rows: [row],
    } = await this.#pool.query<Row>(CONSUME.with([recordKey]));
    return row ? toRecord(row) : null;
  }

  /** Record keys of the current artefacts of a grant. */
  async keysOfGrant(grantKey: Buffer): Promise<Buffer[]> {
    await this.#flush();
    const { rows } = await this.#pool.query<{ record_key: Buffer }>(KEYS_OF_GRANT.with([grantKey]));
    return rows.map((r) => r.record_key);
  }

  /**
   * Revokes the current sessions matched by `scope`/`match` (or, with `revoke: false`, only bumps their
   * version: every token issued before is refused, the session goes on). Writes the outbox row. Returns the
   * revocation id and the sessions as now stored: at most `batch` of them, `more` when there may be others (the
   * caller runs it again; each run is its own transaction and outbox row), cut as its last argument says (`RevokeBatch`).
   */
  async revoke(
    scope: RevocationScope,
    match: Buffer | string | Date,
    target: string,
    actor: string,
    reason: string,
    revoke: boolean,
    notice: { holder: string; leaseMs: number } | null = null,
    { batch = REVOKE_BATCH, later = false, createdBefore = null }: RevokeBatch = {},
  ): Promise<{ id: string; records: StoredRecord[]; more: boolean }> {
    if (!Number.isInteger(batch) || batch < 1) throw new TypeError(`a revocation batch of ${batch} sessions`);
    const where = SCOPE_MATCH[scope];
    if (!where) throw new TypeError(`unknown revocation scope ${JSON.stringify(scope)}`);
    forget(); // this request's memoised reads (request-memo.ts) predate the revocation
    await this.#flush();
    // a later round locks heads that may sort before those an earlier one holds: a writer holding two of them
    // (a login's end and save) can deadlock with it; PostgreSQL then ends one side, and the revocation runs again
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await revokeInTransaction(
          this.#pool,
          where,
          scope,
          { match, target, actor, reason, revoke, notice },
          { batch, later, createdBefore },
        );
      } catch (error) {
        if ((error as { code?: string }).code !== '40P01' || attempt > DEADLOCK_RETRIES) throw error;
      }
    }
  }

  /** Revocations not yet applied to the hot tier, oldest first, with the sessions' current rows. */
  async unsynced(limit: number): Promise<Array<{ id: string; records: StoredRecord[] }>> {
    await this.#flush();
    const { rows } = await this.#pool.query<{ id: string; record_keys: Buffer[] }>(
      'select id, record_keys from session_revocations where synced_at is null order by id limit $1',
      [limit],
    );
    const out: Array<{ id: string; records: StoredRecord[] }> = [];
    for (const row of rows) {
      const { rows: current } = await this.#pool.query<Row>(
        `select ${COLUMNS} from session_records where record_key = any($1) and valid_to is null`,
        [row.record_keys],
      );
      out.push({ id: row.id, records: current.map(toRecord) });
    }
    return out;
  }

  async markSynced(id: string): Promise<void> {
    await this.#pool.query(
      'update session_revocations set synced_at = clock_timestamp() where id = $1 and synced_at is null',
      [id],
    );
  }

  /** Makes partitions `aheadDays` ahead and drops those expired more than `keepDays` ago. Returns the dropped ones. */
  async maintain(aheadDays: number, keepDays: number, now: Date = new Date()): Promise<string[]> {
    const { rows } = await this.#pool.query<{ dropped: string }>(
      'select session_records_maintain($1, make_interval(days => $2), make_interval(days => $3)) as dropped',
      [now, aheadDays, keepDays],
    );
    return rows.map((r) => r.dropped);
  }
}
