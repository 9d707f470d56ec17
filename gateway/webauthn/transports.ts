/**
 * The transports of a new credential (`usb`, `nfc`, ...): what the browser says, unsigned. They are stored and
 * sent back in later ceremonies' options, so they are read strictly (issue #15, found by the fuzzer: a string
 * here was a 500 at the database, numbers or objects were stored as they came).
 */
import { WebAuthnError } from './webauthn-error.ts';

/** Most transports a browser reports for one authenticator (WebAuthn L3 knows six). */
const MAX_TRANSPORTS = 8;

/**
 * `response.transports`: a hint the browser adds, unsigned, stored and sent back in later ceremonies' options.
 * Absent → none; otherwise a short list of transport names (lower-case letters and dashes: `usb`, `nfc`,
 * `smart-card`, and names browsers add later), or the answer is refused.
 */
export function transportsOf(raw: unknown): string[] {
  if (raw === undefined) return [];
  if (
    Array.isArray(raw) &&
    raw.length <= MAX_TRANSPORTS &&
    raw.every((t): t is string => typeof t === 'string' && /^[a-z][a-z-]{0,31}$/.test(t))
  )
    return [...new Set(raw)];
  throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be read.', {
    detail: 'transports is not a short list of transport names',
  });
}
