/**
 * The one place an audit record's stored shape is read back: the columns of `audit_log` a record is made
 * of, and the record fields they give (what the digest covers). `audit-log.ts` (reading a session's trail)
 * and `verify.ts` (walking the chain) both go through here, so a column added to the record is added once.
 */
import type { DigestFields } from './canonical.ts';

/** The record's columns, for a `select` list (the table's own `id`, `seq`, chain columns are the caller's). */
export const RECORD_COLUMNS =
  'record_id::text as record_id, at, session_id, from_state, to_state, component, error_code, request_id, details';

/** A row with the record's columns. */
export interface RecordRow {
  record_id: string;
  at: Date;
  session_id: string;
  from_state: string | null;
  to_state: string;
  component: string;
  error_code: string | null;
  request_id: string | null;
  details: unknown;
}

/**
 * The record fields of a stored row.
 *
 * @example
 * recordDigest(recordOfRow(row)).equals(row.digest) // the record was not edited
 */
export function recordOfRow(row: RecordRow): DigestFields {
  return {
    recordId: row.record_id,
    at: row.at,
    sessionId: row.session_id,
    from: row.from_state,
    to: row.to_state,
    component: row.component,
    errorCode: row.error_code,
    requestId: row.request_id,
    details: row.details,
  };
}
