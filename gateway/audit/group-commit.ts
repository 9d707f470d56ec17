/**
 * Group commit of audit records: the records appended while an insert is in flight (or in the same turn of
 * the event loop) go to PostgreSQL together, in one multi-row INSERT — one statement, one transaction, one
 * WAL flush, one hold of the chain head's row lock (`audit_log_chain`, migration 0200) — instead of one
 * transaction each, which the chain head serialises anyway.
 *
 * - a caller's promise resolves only once the transaction holding its record has committed: "written
 *   before the state changes" holds for every record exactly as with one insert per record;
 * - records are inserted in the order they were appended (the chain's order within this process);
 * - at most one group insert is in flight per log: no added latency when one record comes at a time;
 * - a group that PostgreSQL refuses as data (a malformed record) is retried one record at a time, so that
 *   only the faulty record's caller sees the refusal; any other failure is every member's failure (each
 *   caller then spools its record or fails closed, as before).
 */
import type { Pool } from 'pg';
import { prepared } from '../store/prepared.ts';
import type { SpooledRecord } from './spool.ts';

/** Most records in one statement (the parameters are arrays: one per column, whatever the count). */
export const MAX_GROUP = 256;

// Idempotent like the single insert: a record replayed from the spool after it was in fact committed is not inserted twice.
const INSERT_GROUP = prepared(
  'audit_append_group',
  `insert into audit_log (record_id, at, session_id, from_state, to_state, component, error_code, request_id, details, digest)
  select t.record_id, t.at, t.session_id, t.from_state, t.to_state, t.component, t.error_code, t.request_id, t.details, t.digest
  from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::bytea[])
    with ordinality as t(record_id, at, session_id, from_state, to_state, component, error_code, request_id, details, digest, n)
  where not exists (select 1 from audit_log a where a.record_id = t.record_id)
  order by t.n`,
);

interface Waiting {
  record: SpooledRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  readonly #pool: Pool;
  readonly #insertOne: (record: SpooledRecord) => Promise<void>;
  readonly #isDataError: (error: unknown) => boolean;
  #queue: Waiting[] = [];
  #flushing = false;
  /** Statements sent and records they carried (tests and metrics read them). */
  readonly stats = { statements: 0, records: 0 };

  constructor(
    pool: Pool,
    insertOne: (record: SpooledRecord) => Promise<void>,
    isDataError: (error: unknown) => boolean,
  ) {
    this.#pool = pool;
    this.#insertOne = insertOne;
    this.#isDataError = isDataError;
  }

  /** Resolves when `record` is committed; rejects with the error of the insert that carried it. */
  insert(record: SpooledRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, MAX_GROUP);
        try {
          await this.#write(group);
        } catch (error) {
          for (const waiting of group) waiting.reject(error); // never a caller left waiting
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #write(group: Waiting[]): Promise<void> {
    this.stats.statements += 1;
    this.stats.records += group.length;
    if (group.length === 1) return settle(group[0]!, this.#insertOne(group[0]!.record));
    const records = group.map((w) => w.record);
    try {
      await this.#pool.query(
        INSERT_GROUP.with([
          records.map((r) => r.recordId),
          records.map((r) => r.at),
          records.map((r) => r.sessionId),
          records.map((r) => r.from),
          records.map((r) => r.to),
          records.map((r) => r.component),
          records.map((r) => r.errorCode),
          records.map((r) => r.requestId),
          records.map((r) => r.details),
          records.map((r) => Buffer.from(r.digest, 'base64')),
        ]),
      );
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (this.#isDataError(error) || code === '23505') {
        // one record is at fault (or a replay raced): each on its own, in order
        for (const waiting of group) await settle(waiting, this.#insertOne(waiting.record));
        return;
      }
      for (const waiting of group) waiting.reject(error);
      return;
    }
    for (const waiting of group) waiting.resolve();
  }
}

async function settle(waiting: Waiting, insert: Promise<void>): Promise<void> {
  try {
    await insert;
    waiting.resolve();
  } catch (error) {
    waiting.reject(error);
  }
}
