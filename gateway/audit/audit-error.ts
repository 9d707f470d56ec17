/**
 * Errors of the audit log, with stable codes.
 *
 * - `AUDIT_UNAVAILABLE`: the record could not be written durably (PostgreSQL down, timed out, refused it).
 *   The caller must fail the operation closed: an action whose audit record is not written did not happen.
 * - `AUDIT_INVALID_RECORD`: the record itself is malformed (empty session id or component, details that do
 *   not serialise to JSON); nothing was written.
 */
import { GATEWAY_ERRORS } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';

export type AuditErrorCode = 'AUDIT_UNAVAILABLE' | 'AUDIT_INVALID_RECORD';

/** A `GatewayError` (status 503, never exposed): the error mapper logs its code and shows a generic error. */
export class AuditError extends GatewayError {
  declare readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, GATEWAY_ERRORS[code].status, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'AuditError';
  }
}
