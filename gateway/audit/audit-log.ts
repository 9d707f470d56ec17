/**
 * The audit log of logins, in PostgreSQL (`audit_log`, migrations 0001 and 0200).
 *
 * - one row per state transition: record id, time, session id, from, to, component, error code, details;
 * - append-only: the table refuses UPDATE, DELETE and TRUNCATE (a trigger), this class has no way to change a row;
 * - hash-chained: each row's digest is computed here over its canonical form (`canonical.ts`); PostgreSQL
 *   chains it (`hash = sha256(prev_hash || digest)`) at insert; `audit verify` recomputes both;
 * - never swallows a failure. Without a spool, a record PostgreSQL did not take throws `AUDIT_UNAVAILABLE`
 *   and the caller fails closed. With a spool (the gateway's setting), a record written while PostgreSQL is
 *   unreachable goes to the fsync'd local spool and is replayed in order when it returns; while anything
 *   waits in the spool, new records queue behind it so the chain keeps their order;
 * - group commit (`group-commit.ts`): records appended while an insert is in flight go in the next one,
 *   together (one transaction); each `append` still resolves only once its own record is committed.
 */
import type { Pool, PoolClient } from 'pg';
import type { AuditErrorCode } from '../audit-codes.ts';
import { randomUUID } from 'node:crypto';
import { prepared } from '../store/prepared.ts';
import { AuditError } from './audit-error.ts';
import { recordDigest } from './canonical.ts';
import { GroupCommit } from './group-commit.ts';
import { RECORD_COLUMNS, recordOfRow, type RecordRow } from './record-row.ts';
import type { AuditSpool, SpooledRecord } from './spool.ts';

/**
 * What a caller records. `from`/`to` are usually login states (the flow's names); other components record
 * their own event names. The audit log is a sink: it stores the names it is given and knows no flow.
 */
export interface AuditRecord {
  sessionId: string;
  from: string | null;
  to: string;
  component: string;
  errorCode?: AuditErrorCode;
  requestId?: string;
  details?: Record<string, unknown>;
}

/** A record as stored: with its sequence number and the database's timestamp. */
export interface StoredAuditRecord {
  /** The `bigserial` id as a decimal string (it may exceed 2^53). Increases with insertion order. */
  id: string;
  at: Date;
  sessionId: string;
  from: string | null;
  to: string;
  component: string;
  errorCode: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

interface Row extends RecordRow {
  id: string;
}

// Idempotent: a record replayed from the spool after it was in fact committed is not inserted twice.
// Named (store/prepared.ts): parsed and planned once per connection, not for every record.
const INSERT = prepared(
  'audit_append',
  `insert into audit_log (record_id, at, session_id, from_state, to_state, component, error_code, request_id, details, digest)
  select $1::uuid, $2::timestamptz, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::jsonb, $10::bytea
  where not exists (select 1 from audit_log where record_id = $1::uuid)`,
);
/** The unique index of `audit_log.record_id` (migration 0200). */
const RECORD_ID_INDEX = 'audit_log_record_id_idx';
const FOR_SESSION = `select id::text as id, ${RECORD_COLUMNS} from audit_log where session_id = $1 order by audit_log.id`;

export interface AuditLogOptions {
  /** Where records go while PostgreSQL is unreachable. Without one, `append` throws `AUDIT_UNAVAILABLE`. */
  spool?: AuditSpool;
  /** Told about each record spooled and each replay round (structured logging, metrics). */
  onEvent?: (event: {
    kind: 'spooled' | 'replayed' | 'replay_failed' | 'rejected';
    count: number;
    error?: unknown;
  }) => void;
}

/** Counters of the audit path (exposed in metrics). */
export interface AuditCounters {
  written: number;
  spooled: number;
  replayed: number;
}

export class AuditLog {
  readonly #pool: Pool;
  readonly #spool: AuditSpool | undefined;
  readonly #onEvent: NonNullable<AuditLogOptions['onEvent']>;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Closed: an append is refused (`AUDIT_UNAVAILABLE`), never written through a closed spool. */
  #closed = false;
  #replaying: Promise<unknown> | undefined;
  readonly counters: AuditCounters = { written: 0, spooled: 0, replayed: 0 };
  readonly #group: GroupCommit;

  constructor(pool: Pool, options: AuditLogOptions = {}) {
    this.#pool = pool;
    this.#group = new GroupCommit(pool, (r) => this.#insert(r), isDataError);
    this.#spool = options.spool;
    this.#onEvent = options.onEvent ?? (() => undefined);
  }

  /**
   * Writes one record durably (the insert is committed when this resolves).
   * Throws `AuditError` `AUDIT_UNAVAILABLE` when it could not, `AUDIT_INVALID_RECORD` when the record is malformed.
   *
   * @example
   * await audit.append({ sessionId, from: 'INITIATED', to: 'AUTHENTICATING', component: 'interaction' });
   */
  async append(record: AuditRecord): Promise<void> {
    if (this.#closed) throw new AuditError('AUDIT_UNAVAILABLE', 'the audit log is closed: the gateway is stopping');
    const prepared = prepare(record);
    const spool = this.#spool;
    if (spool?.hasPending()) {
      this.#toSpool(spool, prepared);
      this.#kick();
      return;
    }
    try {
      await this.#group.insert(prepared);
      this.counters.written += 1;
    } catch (error) {
      if (!spool) throw new AuditError('AUDIT_UNAVAILABLE', 'the audit record could not be written', { cause: error });
      if (isDataError(error))
        throw new AuditError('AUDIT_INVALID_RECORD', 'PostgreSQL refused the audit record', { cause: error });
      this.#toSpool(spool, prepared);
    }
  }

  /**
   * Writes one record in the caller's transaction on `client`: it commits, or rolls back, with what the caller
   * writes there (a decision and its record, atomically). No spool: PostgreSQL unreachable fails the caller's
   * transaction too. Insert it last, just before the COMMIT: it holds the chain head's row lock (migration 0200)
   * until then, and every other audit write waits for it.
   * Throws `AuditError` `AUDIT_INVALID_RECORD` when PostgreSQL refuses the record, `AUDIT_UNAVAILABLE` otherwise.
   *
   * @example
   * await client.query('begin'); await client.query(update); await audit.appendWithin(client, record); await client.query('commit');
   */
  async appendWithin(client: Pick<PoolClient, 'query'>, record: AuditRecord): Promise<void> {
    const prepared = prepare(record);
    try {
      await client.query(INSERT.with(insertParameters(prepared)));
    } catch (error) {
      if (isDataError(error))
        throw new AuditError('AUDIT_INVALID_RECORD', 'PostgreSQL refused the audit record', { cause: error });
      throw new AuditError('AUDIT_UNAVAILABLE', 'the audit record could not be written', { cause: error });
    }
    this.counters.written += 1;
  }

  #toSpool(spool: AuditSpool, prepared: SpooledRecord): void {
    try {
      spool.write(prepared);
    } catch (error) {
      throw new AuditError('AUDIT_UNAVAILABLE', 'the audit record could not be written nor spooled', { cause: error });
    }
    this.counters.spooled += 1;
    this.#onEvent({ kind: 'spooled', count: 1 });
  }

  async #insert(r: SpooledRecord): Promise<void> {
    try {
      await this.#pool.query(INSERT.with(insertParameters(r)));
    } catch (error) {
      // two replays of the same record raced: the other one inserted it. Any other unique key (the chain's seq: its
      // head set back) is a failure: the record is not written, and the caller spools it or fails closed
      if (isRecordAlreadyWritten(error)) return;
      throw error;
    }
  }

  /** Statements the group commit sent and the records they carried (a ratio above 1: records grouped). */
  get groupStats(): { statements: number; records: number } {
    return { ...this.#group.stats };
  }

  /** Whether records wait in the spool. */
  hasSpooled(): boolean {
    return this.#spool?.hasPending() ?? false;
  }

  /**
   * Replays the spool now (in order); resolves with how many records reached PostgreSQL. A round already
   * running is awaited instead. Never throws: an outage leaves the rest for the next round.
   */
  async replaySpool(): Promise<number> {
    const spool = this.#spool;
    if (!spool) return 0;
    if (this.#replaying) {
      await this.#replaying;
      return 0;
    }
    const rejectedBefore = spool.rejectedLines;
    const round = spool
      .replay((r) => this.#insert(r), isDataError)
      .then((n) => {
        this.counters.replayed += n;
        if (n > 0) this.#onEvent({ kind: 'replayed', count: n });
        return n;
      })
      .finally(() => {
        // lines set aside (not a record's shape, another user's file, refused as data): an operator must look
        const rejected = spool.rejectedLines - rejectedBefore;
        if (rejected > 0) this.#onEvent({ kind: 'rejected', count: rejected });
      })
      .catch((error: unknown) => {
        this.#onEvent({ kind: 'replay_failed', count: 0, error });
        return 0;
      })
      .finally(() => {
        this.#replaying = undefined;
      });
    this.#replaying = round;
    return round;
  }

  #kick(): void {
    if (!this.#replaying) void this.replaySpool();
  }

  /** Replays the spool every `intervalMs` while it holds records; looks for dead processes' files every `orphanLookMs`. */
  startReplayer(intervalMs: number, orphanLookMs = 60_000): void {
    if (this.#timer || !this.#spool) return;
    // files of a process that died after this one started (a sibling worker, a replacement that could not boot) are
    // looked for every `orphanLookMs`: counted at start only, they waited for the next restart
    let sinceLook = 0;
    this.#timer = setInterval(() => {
      sinceLook += intervalMs;
      if (sinceLook >= orphanLookMs) {
        sinceLook = 0;
        this.#spool?.lookForOrphans();
      }
      if (this.#spool?.hasPending()) this.#kick();
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the replayer (after a round in progress) and closes the spool file. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#replaying;
    this.#spool?.close();
  }

  /**
   * Every record of one session, oldest first. Throws `AUDIT_UNAVAILABLE` when PostgreSQL cannot be read.
   *
   * @example
   * const trail = await audit.forSession(loginId); // [{ from: null, to: 'INITIATED', ... }, ...]
   */
  async forSession(sessionId: string): Promise<StoredAuditRecord[]> {
    let rows: Row[];
    try {
      rows = (await this.#pool.query<Row>(FOR_SESSION, [sessionId])).rows;
    } catch (error) {
      throw new AuditError('AUDIT_UNAVAILABLE', 'the audit log could not be read', { cause: error });
    }
    return rows.map((row) => {
      const { recordId: _recordId, ...fields } = recordOfRow(row);
      return { id: row.id, ...fields, details: fields.details as Record<string, unknown> };
    });
  }
}

/** PostgreSQL refused a record because one with its record id is in the log: that record is written. */
function isRecordAlreadyWritten(error: unknown): boolean {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && constraint === RECORD_ID_INDEX;
}

/** A SQLSTATE of class 22 (data exception) or 23 (integrity): the record, not the database, is at fault. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code) && code !== '23505';
}

/** The INSERT's parameters for a prepared record. */
function insertParameters(r: SpooledRecord): unknown[] {
  return [
    r.recordId,
    r.at,
    r.sessionId,
    r.from,
    r.to,
    r.component,
    r.errorCode,
    r.requestId,
    r.details,
    Buffer.from(r.digest, 'base64'),
  ];
}

/** Checks a record, stamps it (id, time) and computes its digest. */
function prepare(record: AuditRecord): SpooledRecord {
  const details = serialise(record);
  const base = {
    recordId: randomUUID(),
    at: new Date(),
    // stored as digested: PostgreSQL's text would take a lone surrogate as U+FFFD, and the chain would not verify
    sessionId: storable(record.sessionId),
    from: record.from === null ? null : storable(record.from),
    to: storable(record.to),
    component: storable(record.component),
    errorCode: record.errorCode ?? null,
    requestId: record.requestId === undefined ? null : storable(record.requestId),
  };
  const digest = recordDigest({ ...base, details: JSON.parse(details) as unknown });
  return { ...base, at: base.at.toISOString(), details, digest: digest.toString('base64') };
}

/** `text` as jsonb takes it: every NUL written as `U+0000`, every lone surrogate as U+FFFD. */
function storable(text: string): string {
  const whole = text.isWellFormed() ? text : text.toWellFormed();
  return whole.includes('\u0000') ? whole.replaceAll('\u0000', 'U+0000') : whole;
}

/** JSON.stringify replacer: strings and object keys as jsonb takes them (`storable`). */
function storableJson(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.every((k) => storable(k) === k)) return value;
  // two keys made alike (`a\u0000` and `aU+0000`) both stay: the later one numbered, never one value dropped
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    let name = storable(k);
    for (let n = 2; Object.hasOwn(out, name); n += 1) name = `${storable(k)} (${n})`;
    out[name] = (value as Record<string, unknown>)[k];
  }
  return out;
}

/** Checks the record's shape and returns its details as JSON text. */
function serialise(record: AuditRecord): string {
  for (const field of ['sessionId', 'to', 'component'] as const) {
    if (typeof record[field] !== 'string' || record[field].length === 0) {
      throw new AuditError('AUDIT_INVALID_RECORD', `audit record without ${field}`);
    }
  }
  try {
    // jsonb refuses NUL characters and lone surrogates (`\ud800`, or half of an emoji a 500-character cut left);
    // a refusal's details quote hostile input, and an operator's note is free text: neither may turn the record
    // into an error (a 500, or a decision taken without its record). Each NUL is written as the text `U+0000`,
    // each lone surrogate as U+FFFD, in keys and values.
    const json = JSON.stringify(record.details ?? {}, storableJson);
    if (typeof json !== 'string' || !json.startsWith('{')) throw new TypeError('details must be a JSON object');
    return json;
  } catch (error) {
    throw new AuditError('AUDIT_INVALID_RECORD', 'audit record details are not a JSON object', { cause: error });
  }
}
