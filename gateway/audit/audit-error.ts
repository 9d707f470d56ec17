/**
 * Errors of the audit log, with stable codes.
 *
 * - `AUDIT_UNAVAILABLE`: the record could not be written durably (PostgreSQL down, timed out, refused it).
 *   The caller must fail the operation closed: an action whose audit record is not written did not happen.
 * - `AUDIT_INVALID_RECORD`: the record itself is malformed (empty session id or component, details that do
 *   not serialise to JSON); nothing was written.
 */
export type AuditErrorCode = 'AUDIT_UNAVAILABLE' | 'AUDIT_INVALID_RECORD';

export class AuditError extends Error {
  readonly code: AuditErrorCode;
  /** Always a server-side failure: never shown to the user as such. */
  readonly status = 500;
  readonly expose = false;
  constructor(code: AuditErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AuditError';
    this.code = code;
  }
}
