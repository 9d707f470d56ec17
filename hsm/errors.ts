/**
 * The one error class of `hsm/`. Every failure carries a stable `code` from `HsmErrorCode`; callers and
 * tests branch on the code, never on the message. `detail` holds what an operator needs (PKCS#11 return
 * value, token label) and is never shown to end users.
 */

/** Stable codes of every failure `hsm/` reports. */
export type HsmErrorCode =
  | 'HSM_ALG_UNKNOWN'
  | 'HSM_CONFIG_INVALID'
  | 'HSM_LIBRARY_LOAD_FAILED'
  | 'HSM_TOKEN_NOT_FOUND'
  | 'HSM_LOGIN_FAILED'
  | 'HSM_KEY_NOT_FOUND'
  | 'HSM_KEY_MISMATCH'
  /**
   * A key of ours on the token that was not born there as a key nobody can read: generated elsewhere and imported
   * (`CKA_LOCAL` false), or ever extractable or not sensitive. Whoever had it outside could sign as the gateway.
   */
  | 'HSM_KEY_PROVENANCE'
  | 'HSM_KEYGEN_FAILED'
  | 'HSM_SIGN_FAILED'
  | 'HSM_BUSY'
  | 'HSM_CLOSED'
  /** A lifecycle transition from a state that does not allow it (e.g. activate a retired key). */
  | 'HSM_LIFECYCLE_STATE'
  /** A `next` key activated before its lead time elapsed, or a key destroyed before `notAfter`. */
  | 'HSM_LIFECYCLE_TOO_EARLY'
  /** A signature asked of a key that is not active (fail closed). */
  | 'HSM_KEY_NOT_ACTIVE'
  /** The lifecycle record store (PostgreSQL) failed. */
  | 'HSM_RECORDS_FAILED'
  /** Unwrapping or decrypting failed (wrong key, tampered ciphertext, unsupported parameters). */
  | 'HSM_DECRYPT_FAILED'
  /** An experimental capability (post-quantum) used without its acknowledgement. */
  | 'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED'
  /** A destructive ceremony action was not confirmed (no `--yes`, wrong answer). */
  | 'HSM_NOT_CONFIRMED';

export interface HsmErrorOptions {
  /** Internal detail for logs (PKCS#11 return value name, label, ...). */
  detail?: string;
  cause?: unknown;
}

/**
 * A failure inside `hsm/`.
 *
 * @example
 * ```ts
 * try { algorithm('HS256'); } catch (e) { if (e instanceof HsmError && e.code === 'HSM_ALG_UNKNOWN') ... }
 * ```
 */
export class HsmError extends Error {
  readonly code: HsmErrorCode;
  readonly detail: string | undefined;

  constructor(code: HsmErrorCode, message: string, options: HsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HsmError';
    this.code = code;
    this.detail = options.detail;
  }
}

/** The PKCS#11 return-value name of an error thrown by pkcs11js (e.g. `CKR_SESSION_HANDLE_INVALID`), if any. */
export function pkcs11ReturnValue(error: unknown): string | undefined {
  if (error instanceof Error) {
    const match = /\b(CKR_[A-Z_]+)\b/.exec(error.message);
    if (match) return match[1];
  }
  return undefined;
}
