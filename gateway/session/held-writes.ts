/**
 * The durable tier's held writes (issue #14): within one scope (one request's step), the records it writes
 * and the records it ends go to PostgreSQL together when the scope ends, in one statement for the writes,
 * instead of one statement each as they come.
 *
 * - a held write is made before the scope's work is answered: the scope ends (resolved or not) only once
 *   they are stored, and a failed write fails the scope (the request answers its error, not its result —
 *   also when the work itself failed: the storage error is thrown, with the work's error as its cause);
 * - a later write of a held record replaces its held one (as it would have replaced its row);
 * - an end of a record is held too, unless that record's write is held (then the write goes first and the
 *   end follows at once, so the write never lands after its end); a write of a record whose end is held
 *   replaces the end (the write closes the current row itself: oidc-provider ends a session's old cookie id
 *   and saves the session again under a new one in one request), so no statement is made for it;
 * - an operation of the tier that reads or changes what a held write or end touches writes them first (the
 *   tier asks {@link WriteHolder.flush}); a read of one record by its key that is neither held nor ended in
 *   the scope does not (its row is not what the scope holds), unless a write of the scope is under way (it
 *   waits for it);
 * - what the scope held is reported once stored (the hot tier's copy: Redis after PostgreSQL), with the rows
 *   as PostgreSQL stored them (a session revoked meanwhile stays revoked: `session_record_put` keeps it);
 * - a record the scope read and chose not to write again (a session saved unchanged) may be checked: its current
 *   state is read with the writes made when the scope ends (at the same time, on another connection) and reported
 *   with them, unless the scope writes or ends that record after all (its write or end answers for it), or the
 *   scope says it needs no check (`checksWanted`, asked then: a request whose answer hands out nothing made on the
 *   session); a check that fails fails the scope ({@link UncheckedRecords}) only after the writes and ends are
 *   made and reported.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What the holder needs of a record: its key. */
interface Keyed {
  recordKey: Buffer;
}

/** The state a checked record's current row has (`'absent'`: it has none; `'unknown'`: it could not be read). */
export interface CheckedRecord {
  recordKey: Buffer;
  state: string;
}

/**
 * What a scope stored: the rows as written, the records as given (same order), the keys and cookie keys ended,
 * and the states of the records it checked.
 */
export interface HeldOutcome<R extends Keyed> {
  stored: R[];
  given: R[];
  ended: Buffer[];
  lookups: Buffer[];
  checked: CheckedRecord[];
}

interface Held<R extends Keyed> {
  holder: WriteHolder<R>;
  records: R[];
  ends: Buffer[];
  lookups: Buffer[];
  checks: Buffer[];
  /** Asked when the scope ends: whether its checks are read (else dropped). */
  checksWanted: () => boolean;
  then: (outcome: HeldOutcome<R>) => Promise<void>;
  /** The write under way: an operation of the scope waits for it. */
  writing?: Promise<void>;
}
// one store for every holder (a scope names its holder): a record type is the holder's own
const holding = new AsyncLocalStorage<Held<Keyed>>();

/** Whether a scope wants its checks read; a predicate that throws is taken as yes (a check too many loses nothing). */
function wanted(held: { checksWanted: () => boolean }): boolean {
  try {
    return held.checksWanted();
  } catch {
    return true;
  }
}

/**
 * The checks of a flush could not be read (PostgreSQL unreachable: the cause): thrown once the flush's writes and
 * ends are made and reported (their states `'unknown'`). The caller decides whether what it answers needed them.
 */
export class UncheckedRecords extends Error {
  constructor(cause: unknown) {
    super('the state of a record this request read could not be checked', { cause });
    this.name = 'UncheckedRecords';
  }
}

const indexOf = (keys: readonly Buffer[], key: Buffer) => keys.findIndex((k) => k.equals(key));

export class WriteHolder<R extends Keyed> {
  readonly #write: (records: readonly R[]) => Promise<R[]>;
  readonly #end: (recordKeys: readonly Buffer[]) => Promise<void>;
  readonly #check: (recordKeys: readonly Buffer[]) => Promise<CheckedRecord[]>;

  /**
   * `write`, `end` and `check` (the current states of records): the tier's own statements (they must not flush:
   * the holder calls them while flushing).
   */
  constructor(
    write: (records: readonly R[]) => Promise<R[]>,
    end: (recordKeys: readonly Buffer[]) => Promise<void>,
    check: (recordKeys: readonly Buffer[]) => Promise<CheckedRecord[]>,
  ) {
    this.#write = write;
    this.#end = end;
    this.#check = check;
  }

  #scope(): Held<R> | undefined {
    const held = holding.getStore();
    return held?.holder === (this as unknown) ? (held as unknown as Held<R>) : undefined;
  }

  /** Runs `work` as a scope (a nested scope is the outer one); `then` runs once its writes are stored. */
  async run<T>(
    work: () => Promise<T>,
    then: (outcome: HeldOutcome<R>) => Promise<void>,
    checksWanted: () => boolean = () => true,
  ): Promise<T> {
    if (this.#scope()) return work();
    const held: Held<R> = { holder: this, records: [], ends: [], lookups: [], checks: [], checksWanted, then };
    let result: T;
    try {
      result = await holding.run(held as unknown as Held<Keyed>, work);
    } catch (error) {
      // what the failed work held is still stored (an end above all: oidc-provider revokes a grant, then answers
      // invalid_grant); a write that fails then is the request's error, not the work's (never a silent loss)
      try {
        await this.flush(held, true);
      } catch (unstored) {
        if (unstored instanceof Error && unstored.cause === undefined) unstored.cause = error;
        throw unstored;
      }
      throw error;
    }
    await this.flush(held, true);
    return result;
  }

  /** Holds back the writes of `records` in the current scope (true), or returns false outside one. */
  hold(records: readonly R[]): boolean {
    const held = this.#scope();
    if (!held) return false;
    for (const record of records) {
      const at = held.records.findIndex((r) => r.recordKey.equals(record.recordKey));
      if (at >= 0) held.records.splice(at, 1);
      const ended = indexOf(held.ends, record.recordKey);
      if (ended >= 0) held.ends.splice(ended, 1); // the write closes the current row itself
      held.records.push(record);
    }
    return true;
  }

  /** Whether the current scope holds an end of `recordKey`. */
  endHeld(recordKey: Buffer): boolean {
    const held = this.#scope();
    return held !== undefined && indexOf(held.ends, recordKey) >= 0;
  }

  /**
   * Holds back the end of `recordKeys` (and the removal of the cookie pointers `lookups` from Redis) in the
   * current scope (true); false outside one, or when one of them has a held write (the caller writes the
   * held ones, then ends them at once).
   */
  holdEnd(recordKeys: readonly Buffer[], lookups: readonly Buffer[]): boolean {
    const held = this.#scope();
    if (!held || recordKeys.some((k) => this.#heldWrite(held, k))) return false;
    for (const key of recordKeys) if (indexOf(held.ends, key) < 0) held.ends.push(key);
    held.lookups.push(...lookups);
    return true;
  }

  /**
   * Has the current state of `recordKey` read with the writes made when the current scope ends, and reported with
   * them (true); false outside one. A write or end of that record the scope makes answers for it: it is not read.
   */
  holdCheck(recordKey: Buffer): boolean {
    const held = this.#scope();
    if (!held) return false;
    if (indexOf(held.checks, recordKey) < 0) held.checks.push(recordKey);
    return true;
  }

  #heldWrite(held: Held<R>, key: Buffer): R | undefined {
    return held.records.find((r) => r.recordKey.equals(key));
  }

  /** The record held under `recordKey` in the current scope, `'ended'` when its end is held, else undefined. */
  heldRecord(recordKey: Buffer): R | 'ended' | undefined {
    const held = this.#scope();
    if (!held) return undefined;
    return this.#heldWrite(held, recordKey) ?? (indexOf(held.ends, recordKey) >= 0 ? 'ended' : undefined);
  }

  /**
   * Whether a read of `recordKey` in the current scope must wait for the scope's writes: it holds a write or
   * an end of that record, or a write of the scope is under way (its records have left the held list, but
   * PostgreSQL does not have them yet).
   */
  holds(recordKey: Buffer): boolean {
    return this.#scope()?.writing !== undefined || this.heldRecord(recordKey) !== undefined;
  }

  /**
   * Writes what the current scope (or `held`) holds, now: the writes in one statement, then the ends; when the
   * scope ends (`last`), with its checks.
   */
  async flush(held: Held<R> | undefined = this.#scope(), last = false): Promise<void> {
    if (!held) return;
    if (last && held.checks.length > 0 && !wanted(held)) held.checks.length = 0;
    const checking = () => last && held.checks.length > 0;
    while (held.writing || held.records.length > 0 || held.ends.length > 0 || checking()) {
      if (!held.writing) {
        const given = held.records.splice(0);
        const ended = held.ends.splice(0);
        const lookups = held.lookups.splice(0);
        // a record this flush writes or ends is answered by that statement: its check is dropped, whichever flush
        const answered = (key: Buffer) => given.some((r) => r.recordKey.equals(key)) || indexOf(ended, key) >= 0;
        held.checks = held.checks.filter((key) => !answered(key));
        const checks = last ? held.checks.splice(0) : [];
        held.writing = (async () => {
          const [written, read] = await Promise.allSettled([
            given.length > 0 ? this.#write(given) : [],
            checks.length > 0 ? this.#check(checks) : [],
          ]);
          if (written.status === 'rejected') throw written.reason;
          const stored = written.value;
          if (ended.length > 0) await this.#end(ended);
          // a check that could not be read loses nothing held: the ends are made and `then` runs, told so
          const checked =
            read.status === 'fulfilled' ? read.value : checks.map((recordKey) => ({ recordKey, state: 'unknown' }));
          // outside the scope: what `then` does with the tier is not held, nor waits for this very write
          await holding.exit(() => held.then({ stored, given, ended, lookups, checked }));
          if (read.status === 'rejected') throw new UncheckedRecords(read.reason);
        })().finally(() => {
          held.writing = undefined;
        });
      }
      await held.writing;
    }
  }
}
