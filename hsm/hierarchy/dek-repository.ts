/**
 * Where wrapped data-encryption keys (DEKs) live: the `DekRepository` seam and its record. PostgreSQL in
 * the gateway (`hsm/hierarchy/pg-deks.ts`).
 *
 * - A record holds the DEK wrapped under the token's KEK (never the DEK itself), the KEK's CKA_ID and
 *   token, and the wrapping mechanism.
 * - Versions of one domain count up from 1; exactly one is `active` (new ciphertexts), the older ones are
 *   `retired` and kept, so that what they encrypted still decrypts. Nothing here deletes a DEK.
 */

/** A DEK's state: `active` encrypts and decrypts; `retired` only decrypts. */
export type DekState = 'active' | 'retired';

export interface DekRecord {
  /** What the DEK protects (e.g. `gateway`): `[a-z0-9_]{1,32}`. */
  readonly domain: string;
  readonly version: number;
  readonly state: DekState;
  /** Label of the token holding the KEK. */
  readonly tokenLabel: string;
  /** CKA_ID of the KEK, hex. */
  readonly kekId: string;
  /** `CKM_AES_KEY_WRAP_PAD`. */
  readonly wrapMechanism: string;
  readonly wrapped: Buffer;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

/** What a new DEK version is made of (the repository numbers it). */
export interface NewDek {
  readonly tokenLabel: string;
  readonly kekId: string;
  readonly wrapMechanism: string;
  readonly wrapped: Buffer;
}

export interface DekRepository {
  /** Every DEK of a domain, newest version first. */
  list(domain: string): Promise<DekRecord[]>;
  /**
   * Stores `dek` as the next version of `domain`, active, and retires the previous active one, atomically
   * (concurrent rotations serialise; each gets its own version). Audited with `actor`.
   */
  rotate(domain: string, dek: NewDek, actor: string): Promise<DekRecord>;
}

/** Domain names: short, lower-case, usable inside a ciphertext header. */
export const DOMAIN_PATTERN = /^[a-z0-9_]{1,32}$/;
