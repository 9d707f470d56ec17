/**
 * Purpose keys: AES-256-GCM keys derived from a DEK with HKDF-SHA256 (RFC 5869), one per (domain,
 * purpose, DEK version). Never stored: derived again from the unwrapped DEK whenever needed.
 *
 * - `info` binds the domain, the purpose and the DEK version, so the session key and the cookie key of
 *   one DEK are independent, and a key of version 3 is not a key of version 4. `salt` is a fixed label
 *   (the DEK is already uniformly random; the label separates this use from any other HKDF of the DEK).
 * - The key id `<domain>.<purpose>.<version>` names the DEK version; sealed messages carry it.
 * - Purposes come from one table; any other name throws `HSM_CONFIG_INVALID`.
 */
import { hkdfSync } from 'node:crypto';
import { HsmError } from '../errors.ts';

/** What a derived key is for. Add a row here to add a purpose. */
export const DERIVED_PURPOSES = Object.freeze(['session', 'cookie', 'pivot_identity'] as const);
export type DerivedPurpose = (typeof DERIVED_PURPOSES)[number];

/** The HKDF salt: a fixed, public label of this derivation scheme. */
export const HKDF_SALT = 'gw-key-hierarchy/v1';

export interface PurposeKey {
  /** `<domain>.<purpose>.<version>`. */
  readonly kid: string;
  readonly domain: string;
  readonly purpose: DerivedPurpose;
  /** Version of the DEK it was derived from. */
  readonly version: number;
  /** 32 bytes (AES-256-GCM). */
  readonly key: Buffer;
}

/** True when `name` is a derived-key purpose. */
export function isDerivedPurpose(name: string): name is DerivedPurpose {
  return (DERIVED_PURPOSES as readonly string[]).includes(name);
}

/**
 * Derives the AES-256 key of `purpose` from DEK `version` of `domain`.
 *
 * @throws HsmError `HSM_CONFIG_INVALID` for an unknown purpose or a DEK that is not 32 bytes.
 * @example
 * ```ts
 * const { key, kid } = derivePurposeKey(dek, 'gateway', 'session', 3); // kid 'gateway.session.3'
 * ```
 */
export function derivePurposeKey(dek: Uint8Array, domain: string, purpose: string, version: number): PurposeKey {
  if (!isDerivedPurpose(purpose))
    throw new HsmError('HSM_CONFIG_INVALID', 'unknown derived-key purpose', {
      detail: `purpose=${JSON.stringify(purpose)}`,
    });
  if (dek.length !== 32)
    throw new HsmError('HSM_CONFIG_INVALID', 'a DEK is 32 bytes', { detail: `length=${dek.length}` });
  const kid = `${domain}.${purpose}.${version}`;
  const key = Buffer.from(hkdfSync('sha256', dek, HKDF_SALT, `gw-key-hierarchy/v1 ${kid}`, 32));
  return Object.freeze({ kid, domain, purpose, version, key });
}
