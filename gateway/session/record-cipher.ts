/**
 * Sealing of session-store payloads: AES-256-GCM under a per-record key, derived by HKDF-SHA256 from the
 * `session` purpose key of a DEK of the key hierarchy (`hsm/hierarchy/`: KEK in the HSM → DEK wrapped in
 * PostgreSQL → HKDF). One key per record and DEK version:
 *
 *   key  = HKDF-SHA256(ikm = purposeKey('session', dekVersion), salt = 'gw-session-record/v1', info = recordKey)
 *   text = 's1.' dekVersion '.' base64url(iv(12) ‖ ciphertext ‖ tag(16)),  AAD = 's1.' dekVersion ‖ 0 ‖ recordKey
 *
 * - The header names the DEK version, so a record sealed before a DEK rotation still opens (retired DEKs
 *   are kept); new seals use the active DEK.
 * - The record key is bound as additional data: a sealed value moved to another record does not open.
 * - Anything malformed or tampered throws `HSM_DECRYPT_FAILED` (never partial plaintext).
 *
 * Cost (issue #14): HKDF-SHA256 with a 32-byte output is one HMAC of extract, PRK = HMAC(salt, ikm), which
 * depends only on the DEK version, and one HMAC of expand, HMAC(PRK, info ‖ 0x01) (RFC 5869 §2.2–2.3). The
 * PRK of each DEK version is computed once and held as a `KeyObject` beside the purpose key it comes from
 * (what it opens is exactly what that purpose key, in memory anyway, opens); per record only the expand
 * runs, and the cipher gets a `KeyObject` (Node turns a `Buffer` key into one on every call, ~13 µs). No
 * per-record key is kept. IVs come 12 bytes at a time from a pool of CSPRNG bytes, each used once.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomFillSync,
  type KeyObject,
} from 'node:crypto';
import { HsmError } from '../../hsm/errors.ts';
import type { KeyHierarchy } from '../../hsm/hierarchy/key-hierarchy.ts';

const SEALED = /^s1\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]+)$/;
const SALT = 'gw-session-record/v1';
const BLOCK_1 = Buffer.from([1]);
const IV_POOL = 12 * 256;
let ivPool = Buffer.alloc(0);
let ivOffset = IV_POOL;

/** 12 fresh CSPRNG bytes (each byte of the pool is handed out once). */
function freshIv(): Buffer {
  if (ivOffset + 12 > IV_POOL) {
    ivPool = randomFillSync(Buffer.allocUnsafeSlow(IV_POOL));
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + 12));
  ivOffset += 12;
  return iv;
}

export class RecordCipher {
  readonly #hierarchy: KeyHierarchy;
  /** Per DEK version: HKDF's PRK and the version's AAD prefix. */
  readonly #versions = new Map<number, { prk: KeyObject; aadPrefix: Buffer }>();

  constructor(hierarchy: KeyHierarchy) {
    this.#hierarchy = hierarchy;
  }

  /** The DEK version new seals use. */
  get activeVersion(): number {
    return this.#hierarchy.activeVersion;
  }

  async #version(dekVersion: number): Promise<{ prk: KeyObject; aadPrefix: Buffer }> {
    const held = this.#versions.get(dekVersion);
    if (held) return held;
    const purpose = await this.#hierarchy.purposeKey('session', dekVersion);
    const prk = createHmac('sha256', SALT).update(purpose.key).digest(); // HKDF-Extract
    const derived = { prk: createSecretKey(prk), aadPrefix: Buffer.from(`s1.${dekVersion}\0`) };
    prk.fill(0);
    this.#versions.set(dekVersion, derived);
    return derived;
  }

  /** HKDF-SHA256(purpose key, SALT, recordKey, 32) as a KeyObject: HKDF-Expand's one block. */
  static #recordKey(prk: KeyObject, recordKey: Buffer): KeyObject {
    const okm = createHmac('sha256', prk).update(recordKey).update(BLOCK_1).digest();
    const key = createSecretKey(okm);
    okm.fill(0);
    return key;
  }

  /** Seals `plaintext` for the record `recordKey` under the active DEK. */
  async seal(recordKey: Buffer, plaintext: Uint8Array): Promise<{ sealed: string; dekVersion: number }> {
    const dekVersion = this.#hierarchy.activeVersion;
    const { prk, aadPrefix } = await this.#version(dekVersion);
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', RecordCipher.#recordKey(prk, recordKey), iv);
    cipher.setAAD(Buffer.concat([aadPrefix, recordKey]));
    const body = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { sealed: `s1.${dekVersion}.${body.toString('base64url')}`, dekVersion };
  }

  /**
   * Opens a value sealed for `recordKey` (under any DEK version the hierarchy knows).
   *
   * @throws HsmError `HSM_DECRYPT_FAILED`, `HSM_KEY_NOT_FOUND` (a DEK version this deployment never had)
   */
  async open(recordKey: Buffer, sealed: string): Promise<Buffer> {
    const match = SEALED.exec(sealed);
    if (!match) throw new HsmError('HSM_DECRYPT_FAILED', 'not a sealed session record');
    const dekVersion = Number(match[1]);
    if (!this.#hierarchy.records.some((r) => r.version === dekVersion)) await this.#hierarchy.refresh();
    const body = Buffer.from(match[2]!, 'base64url');
    if (body.length < 28) throw new HsmError('HSM_DECRYPT_FAILED', 'sealed session record too short');
    const { prk, aadPrefix } = await this.#version(dekVersion);
    try {
      const decipher = createDecipheriv('aes-256-gcm', RecordCipher.#recordKey(prk, recordKey), body.subarray(0, 12));
      decipher.setAAD(Buffer.concat([aadPrefix, recordKey]));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
    } catch (error) {
      throw new HsmError('HSM_DECRYPT_FAILED', 'sealed session record failed authentication', { cause: error });
    }
  }
}
