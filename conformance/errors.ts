/**
 * The one error class of `conformance/`: every failure of the demo IdP/RP carries a stable `code`.
 *
 * - `status` is the HTTP status a server answers with; `expose` is true below 500.
 * - Tests and callers assert `code`, never `message`.
 */

/** Stable error codes of the conformance tools. */
export type ConformanceErrorCode =
  | 'XML_MALFORMED'
  | 'XML_DOCTYPE_REFUSED'
  | 'SP_METADATA_UNAVAILABLE'
  | 'SP_METADATA_INVALID'
  | 'AUTHN_REQUEST_MISSING'
  | 'AUTHN_REQUEST_UNSIGNED'
  | 'AUTHN_REQUEST_SIGNATURE_INVALID'
  | 'AUTHN_REQUEST_WRAPPED'
  | 'AUTHN_REQUEST_WRONG_ISSUER'
  | 'AUTHN_REQUEST_ACS_MISMATCH'
  | 'AUTHN_REQUEST_UNKNOWN'
  | 'LOGIN_BAD_CREDENTIALS'
  | 'LOGOUT_REQUEST_INVALID'
  | 'LOGOUT_RESPONSE_INVALID'
  | 'LOGOUT_SESSION_UNKNOWN'
  | 'LOA_UNKNOWN'
  | 'BODY_TOO_LARGE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'RP_STATE_UNKNOWN'
  | 'RP_CALLBACK_FAILED'
  | 'RP_AUTHORIZATION_ERROR'
  | 'RP_DISCOVERY_FAILED'
  | 'RP_ACR_UNKNOWN'
  | 'INTERNAL';

/** An error with a stable code, an HTTP status and a public description. */
export class ConformanceError extends Error {
  readonly code: ConformanceErrorCode;
  readonly status: number;
  readonly expose: boolean;

  /**
   * @param code stable code.
   * @param status HTTP status to answer with (default 400).
   * @param message public description.
   * @param options `cause` for the internal detail.
   * @example throw new ConformanceError('AUTHN_REQUEST_UNSIGNED', 400, 'the AuthnRequest carries no signature');
   */
  constructor(code: ConformanceErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConformanceError';
    this.code = code;
    this.status = status;
    this.expose = status < 500;
  }
}

/**
 * Turns anything thrown into a `ConformanceError`; unknown errors become `INTERNAL` (500, not exposed).
 *
 * @example const e = toConformanceError(caught); res.statusCode = e.status;
 */
export function toConformanceError(error: unknown): ConformanceError {
  if (error instanceof ConformanceError) return error;
  return new ConformanceError('INTERNAL', 500, 'internal error', { cause: error });
}
