/**
 * The signer of signed cookies (koa's `cookies`, hence oidc-provider's and ours): a drop-in for `keygrip`
 * with the same keys, algorithm and format, one HMAC per verification instead of three.
 *
 * - Format: HMAC-SHA1 of `name=value` under the key, base64url without padding (keygrip's default
 *   `base64` with `/`→`_`, `+`→`-`, `=` dropped), so cookies signed before an upgrade still verify, and the
 *   other way round.
 * - Rotation as keygrip: `sign` uses the first key; `index` tries every key in order and answers the first
 *   that matches (`cookies` re-signs a cookie matched by a later key), -1 when none does.
 * - The comparison is `crypto.timingSafeEqual` over the bytes (its length, that of every SHA-1 MAC, is
 *   public); keygrip's `tsscmp` compares two HMACs of both strings under a random key, two more HMACs for
 *   the same property.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export class CookieKeys {
  readonly #keys: readonly KeyObject[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new TypeError('at least one cookie key');
    this.#keys = keys.map((key) => createSecretKey(Buffer.from(key, 'utf8')));
  }

  /** The signature of `data` under the first key. */
  sign(data: string): string {
    return createHmac('sha1', this.#keys[0]!).update(data).digest('base64url');
  }

  /** True when `digest` is the signature of `data` under one of the keys. */
  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** The position of the key that signed `data` as `digest`, or -1. */
  index(data: string, digest: string): number {
    if (typeof digest !== 'string') return -1;
    const presented = Buffer.from(digest, 'utf8');
    for (let i = 0; i < this.#keys.length; i++) {
      const expected = Buffer.from(createHmac('sha1', this.#keys[i]!).update(data).digest('base64url'), 'utf8');
      if (expected.length === presented.length && timingSafeEqual(expected, presented)) return i;
    }
    return -1;
  }
}
