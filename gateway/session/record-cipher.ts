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
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { HsmError } from '../../hsm/errors.ts';
import type { KeyHierarchy } from '../../hsm/hierarchy/key-hierarchy.ts';

const SEALED = /^s1\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]+)$/;
const SALT = 'gw-session-record/v1';

export class RecordCipher {
  readonly #hierarchy: KeyHierarchy;

  constructor(hierarchy: KeyHierarchy) {
    this.#hierarchy = hierarchy;
  }

  /** The DEK version new seals use. */
  get activeVersion(): number {
    return this.#hierarchy.activeVersion;
  }

  async #key(dekVersion: number, recordKey: Buffer): Promise<Buffer> {
    const purpose = await this.#hierarchy.purposeKey('session', dekVersion);
    return Buffer.from(hkdfSync('sha256', purpose.key, SALT, recordKey, 32));
  }

  /** Seals `plaintext` for the record `recordKey` under the active DEK. */
  async seal(recordKey: Buffer, plaintext: Uint8Array): Promise<{ sealed: string; dekVersion: number }> {
    const dekVersion = this.#hierarchy.activeVersion;
    const key = await this.#key(dekVersion, recordKey);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.concat([Buffer.from(`s1.${dekVersion}\0`), recordKey]));
    const body = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    key.fill(0);
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
    const key = await this.#key(dekVersion, recordKey);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
      decipher.setAAD(Buffer.concat([Buffer.from(`s1.${dekVersion}\0`), recordKey]));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
    } catch (error) {
      throw new HsmError('HSM_DECRYPT_FAILED', 'sealed session record failed authentication', { cause: error });
    } finally {
      key.fill(0);
    }
  }
}
