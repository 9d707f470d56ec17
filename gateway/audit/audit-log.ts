/**
 * The audit log of logins, in PostgreSQL (`audit_log`, migration 0001).
 *
 * - one row per state transition: session id, time (set by the database), from, to, component, error code;
 * - append-only: the table refuses UPDATE, DELETE and TRUNCATE (a trigger), this class has no way to change a row;
 * - never swallows a failure: when the row is not written, `append` throws `AUDIT_UNAVAILABLE` and the caller
 *   fails closed. (A durable local spool for PostgreSQL outages is issue #5.)
 */
import type { Pool } from 'pg';
import type { LoginState } from '../flow/states.ts';
import { AuditError } from './audit-error.ts';

/** What a caller records. `to` is usually a login state; other components may record their own event names. */
export interface AuditRecord {
  sessionId: string;
  from: LoginState | null;
  to: LoginState | string;
  component: string;
  errorCode?: string;
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

interface Row {
  id: string;
  at: Date;
  session_id: string;
  from_state: string | null;
  to_state: string;
  component: string;
  error_code: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

const INSERT = `insert into audit_log (session_id, from_state, to_state, component, error_code, request_id, details)
  values ($1, $2, $3, $4, $5, $6, $7::jsonb)`;
const FOR_SESSION = `select id::text as id, at, session_id, from_state, to_state, component, error_code, request_id, details
  from audit_log where session_id = $1 order by audit_log.id`;

export class AuditLog {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * Writes one record durably (the insert is committed when this resolves).
   * Throws `AuditError` `AUDIT_UNAVAILABLE` when it could not, `AUDIT_INVALID_RECORD` when the record is malformed.
   *
   * @example
   * await audit.append({ sessionId, from: 'INITIATED', to: 'AUTHENTICATING', component: 'interaction' });
   */
  async append(record: AuditRecord): Promise<void> {
    const details = serialise(record);
    try {
      await this.#pool.query(INSERT, [
        record.sessionId,
        record.from,
        record.to,
        record.component,
        record.errorCode ?? null,
        record.requestId ?? null,
        details,
      ]);
    } catch (error) {
      throw new AuditError('AUDIT_UNAVAILABLE', 'the audit record could not be written', { cause: error });
    }
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
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      sessionId: row.session_id,
      from: row.from_state,
      to: row.to_state,
      component: row.component,
      errorCode: row.error_code,
      requestId: row.request_id,
      details: row.details,
    }));
  }
}

/** Checks the record's shape and returns its details as JSON text. */
function serialise(record: AuditRecord): string {
  for (const field of ['sessionId', 'to', 'component'] as const) {
    if (typeof record[field] !== 'string' || record[field].length === 0) {
      throw new AuditError('AUDIT_INVALID_RECORD', `audit record without ${field}`);
    }
  }
  try {
    const json = JSON.stringify(record.details ?? {});
    if (typeof json !== 'string' || !json.startsWith('{')) throw new TypeError('details must be a JSON object');
    return json;
  } catch (error) {
    throw new AuditError('AUDIT_INVALID_RECORD', 'audit record details are not a JSON object', { cause: error });
  }
}
