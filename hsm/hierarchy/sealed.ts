/**
 * Sealed messages: AES-256-GCM under a purpose key, in one self-describing string
 * `gw1.<domain>.<purpose>.<version>.<base64url(iv ‖ ciphertext ‖ tag)>`.
 *
 * - The header names the DEK version the message was sealed under, so a message outlives DEK rotation
 *   (the retired DEK is kept for decryption).
 * - The header is authenticated (GCM additional data), plus the caller's own additional data if any
 *   (e.g. the record key the value is stored under, so a value cannot be moved to another record).
 * - A 96-bit random IV per message; a tag of 128 bits. A malformed or tampered message throws
 *   `HSM_DECRYPT_FAILED`, never returns partial plaintext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HsmError } from '../errors.ts';
import type { PurposeKey } from './purpose-keys.ts';

const FORMAT = 'gw1';
const SEALED = /^gw1\.([a-z0-9_]{1,32})\.([a-z_]+)\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]+)$/;

/** The parts of a sealed message's header. */
export interface SealedHeader {
  readonly domain: string;
  readonly purpose: string;
  readonly version: number;
}

function additionalData(header: string, aad?: Uint8Array): Buffer {
  return aad ? Buffer.concat([Buffer.from(`${header}\0`), aad]) : Buffer.from(header);
}

/**
 * Seals `plaintext` under `key`.
 *
 * @example
 * ```ts
 * const text = seal(key, Buffer.from('secret'), Buffer.from('account:42')); // 'gw1.gateway.pivot_identity.3.…'
 * ```
 */
export function seal(key: PurposeKey, plaintext: Uint8Array, aad?: Uint8Array): string {
  const header = `${FORMAT}.${key.kid}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(additionalData(header, aad));
  const body = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${header}.${body.toString('base64url')}`;
}

/**
 * Reads the header of a sealed message (which DEK version and purpose key it needs).
 *
 * @throws HsmError `HSM_DECRYPT_FAILED` for anything that is not a sealed message.
 */
export function sealedHeader(text: string): SealedHeader {
  const match = SEALED.exec(text);
  if (!match) throw new HsmError('HSM_DECRYPT_FAILED', 'not a sealed message');
  return { domain: match[1]!, purpose: match[2]!, version: Number(match[3]) };
}

/**
 * Opens a message sealed by {@link seal} under `key` (whose kid must be the one the header names).
 *
 * @throws HsmError `HSM_DECRYPT_FAILED` (malformed, other key, tampered, other additional data)
 */
export function open(key: PurposeKey, text: string, aad?: Uint8Array): Buffer {
  const match = SEALED.exec(text);
  if (!match) throw new HsmError('HSM_DECRYPT_FAILED', 'not a sealed message');
  const header = `${FORMAT}.${match[1]}.${match[2]}.${match[3]}`;
  if (header !== `${FORMAT}.${key.kid}`)
    throw new HsmError('HSM_DECRYPT_FAILED', 'sealed under another key', { detail: `header=${header} key=${key.kid}` });
  const body = Buffer.from(match[4]!, 'base64url');
  if (body.length < 28) throw new HsmError('HSM_DECRYPT_FAILED', 'sealed message too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, 12));
    decipher.setAAD(additionalData(header, aad));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
  } catch (error) {
    throw new HsmError('HSM_DECRYPT_FAILED', 'sealed message failed authentication', { cause: error });
  }
}
