/**
 * Counters in PostgreSQL incremented by every login (the RBA counts, the risk aggregates), coalesced: the
 * increments that arrive while a write is in flight go in the next write, summed per row — one statement,
 * one transaction, one WAL flush for all of them — instead of one transaction per login, all of them
 * waiting on the same hot rows (the global scope, today's decision count) for each other's commit.
 *
 * - a caller's promise resolves once the transaction holding its increments has committed, and rejects with
 *   that write's error: nothing is acknowledged before it is durable, exactly as with a write per call;
 * - no added wait: with no write in flight, a write starts at once (in the same turn of the event loop);
 * - rows are written in key order, so two processes never lock the same rows crosswise (no deadlock);
 * - at most `maxRows` distinct rows per statement; the rest goes in the next one;
 * - a caller may hand a record with its increments (a login's assessment beside the day's aggregates): the
 *   records of a write go in its first statement, in arrival order, not summed — so a login's record and its
 *   counts are one statement and one commit, and concurrent logins' records and counts one for all of them;
 * - one caller's bad row or record does not fail the others (reviewer N2): when the one statement of a write
 *   of several callers fails (rolled back whole) for another reason than PostgreSQL being unreachable, it is
 *   written again caller by caller, each answered with its own statement's outcome (the caller whose row or
 *   record PostgreSQL refuses still gets the error). A write split in several statements (past `maxRows`) is
 *   not: its first statements may have committed, and writing them again would count twice.
 *
 * @example
 * const counts = new CounterBatch(2, (columns, counts) => pool.query(UPSERT, [...columns, counts]).then(() => undefined));
 * await counts.add([['global', 't'], [accountId, 't']]);
 */

import { isDatabaseUnavailable } from './database-unavailable.ts';

/**
 * Writes summed increments: one array per key column (same length) and the increment of each row; and the
 * records handed with them (`add`'s second argument), to be written in the same statement.
 */
export type CounterWriter<R = never> = (columns: string[][], counts: number[], records: R[]) => Promise<void>;

interface Waiting<R> {
  resolve: () => void;
  reject: (error: unknown) => void;
  /** The caller's own rows and record: written alone if the write of the batch fails. */
  rows: ReadonlyArray<readonly string[]>;
  record: R[];
}

export class CounterBatch<R = never> {
  readonly #width: number;
  readonly #write: CounterWriter<R>;
  readonly #maxRows: number;
  #rows = new Map<string, { key: readonly string[]; count: number }>();
  #waiting: Waiting<R>[] = [];
  #records: R[] = [];
  #flushing = false;
  /** Statements written and increments they carried (tests and metrics read them). */
  readonly stats = { statements: 0, increments: 0 };

  /** `width`: how many key columns a row has. */
  constructor(width: number, write: CounterWriter<R>, maxRows = 1_000) {
    if (!Number.isInteger(width) || width < 1) throw new TypeError('CounterBatch: width must be a positive integer');
    this.#width = width;
    this.#write = write;
    this.#maxRows = maxRows;
  }

  /** Adds one to each row (a row named twice counts twice), and `record` to the write. Resolves once committed. */
  add(rows: ReadonlyArray<readonly string[]>, ...record: [R] | []): Promise<void> {
    for (const key of rows) {
      if (key.length !== this.#width)
        throw new TypeError(`CounterBatch: a row of ${key.length} keys, not ${this.#width}`);
      const id = key.join('\u0000');
      const row = this.#rows.get(id);
      if (row) row.count += 1;
      else this.#rows.set(id, { key, count: 1 });
      this.stats.increments += 1;
    }
    this.#records.push(...record);
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject, rows, record });
      if (!this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        const waiting = this.#waiting.splice(0);
        const ids = [...this.#rows.keys()].sort();
        const rows = ids.map((id) => this.#rows.get(id)!);
        this.#rows = new Map();
        const records = this.#records;
        this.#records = [];
        const failure = await this.#writeAll(rows, records);
        if (failure && waiting.length > 1 && rows.length <= this.#maxRows && !isDatabaseUnavailable(failure.error)) {
          // one statement, rolled back whole: each caller's part alone, in arrival order (N2)
          for (const w of waiting) {
            const alone = await this.#writeAll(summed(w.rows), w.record);
            if (alone) w.reject(alone.error);
            else w.resolve();
          }
          continue;
        }
        for (const w of waiting)
          if (failure) w.reject(failure.error);
          else w.resolve();
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Writes `rows` (sorted, summed) and `records`, in statements of at most `maxRows` rows; the first error. */
  async #writeAll(
    rows: ReadonlyArray<{ key: readonly string[]; count: number }>,
    firstRecords: R[],
  ): Promise<{ error: unknown } | undefined> {
    let records = firstRecords;
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < rows.length || records.length > 0; i += this.#maxRows) {
      const part = rows.slice(i, i + this.#maxRows);
      const columns = Array.from({ length: this.#width }, (_, c) => part.map((r) => r.key[c]!));
      this.stats.statements += 1;
      try {
        await this.#write(
          columns,
          part.map((r) => r.count),
          records,
        );
      } catch (error) {
        failure ??= { error };
      }
      records = [];
    }
    return failure;
  }
}

/** A caller's rows summed per row, in key order (as a batch writes them). */
function summed(rows: ReadonlyArray<readonly string[]>): Array<{ key: readonly string[]; count: number }> {
  const byId = new Map<string, { key: readonly string[]; count: number }>();
  for (const key of rows) {
    const id = key.join('\u0000');
    const row = byId.get(id);
    if (row) row.count += 1;
    else byId.set(id, { key, count: 1 });
  }
  return [...byId.keys()].sort().map((id) => byId.get(id)!);
}
