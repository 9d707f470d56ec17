/**
 * Storage keys of the session store: SHA-256(kind ‖ 0 ‖ id ‖ secret). Neither tier ever holds an id in
 * clear (a session cookie, a token, a grant id or an account id), so a copy of Redis or of PostgreSQL
 * cannot be used to find or present one.
 *
 * - The secret is bound to the HSM: SHA-256 of the KEK's wrapping of a fixed label (RFC 5649 key wrap is
 *   deterministic). It is the same on every instance sharing the token, needs no configuration, and
 *   cannot be computed without the token.
 * - Kinds separate the key spaces (a session uid never collides with a grant id).
 */
import { createHash } from 'node:crypto';
import type { TokenKek } from '../../hsm/hierarchy/kek.ts';

/** What a key names: a stored record (`Session` by uid, `Grant`, `AccessToken`, `Identity` by account) or a lookup. */
export type KeyKind =
  'Session' | 'Grant' | 'AccessToken' | 'RefreshToken' | 'Identity' | 'UpstreamSession' | 'jti' | 'sid' | 'account';

const LABEL = Buffer.from('gw-session-store/index-secret/v1');

/**
 * The index secret of this deployment, from the token's KEK.
 *
 * @example
 * ```ts
 * const keys = new RecordKeys(await indexSecretFromKek(kek));
 * ```
 */
export async function indexSecretFromKek(kek: TokenKek): Promise<Buffer> {
  const wrapped = await kek.wrap(LABEL);
  return createHash('sha256').update('gw-session-index/v1').update(wrapped).digest();
}

export class RecordKeys {
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < 32) throw new TypeError('the index secret is at least 32 bytes');
    this.#secret = Buffer.from(secret);
  }

  /** SHA-256(kind ‖ 0 ‖ id ‖ secret), 32 bytes. */
  key(kind: KeyKind, id: string): Buffer {
    return createHash('sha256').update(kind).update('\0').update(id).update(this.#secret).digest();
  }

  /** The same key, hex (Redis key names, logs, audit). */
  hex(kind: KeyKind, id: string): string {
    return this.key(kind, id).toString('hex');
  }
}
