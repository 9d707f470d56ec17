/**
 * `PqKeys`: experimental post-quantum signing keys (ML-DSA-65) that no token we target can hold, kept as
 * close to the HSM as possible: generated in process, stored only wrapped under the token's KEK, unwrapped
 * into memory only (by the token) when a signer is made.
 *
 * - Every entry point takes the acknowledgement (`acknowledgeExperimental: true`); without it:
 *   `HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`. A token row here: `HSM_ALG_UNKNOWN`.
 * - The public data and the lifecycle state are an ordinary `key_records` row (same states, same
 *   key-set version, same ceremony trail, same `/jwks` publication as token keys); `ckaId` is a random id
 *   of ours (there is no token object) and the key label is `gw-pq:<purpose>:<alg>:<id>`.
 * - What is wrapped is the 32-byte FIPS 204 seed (the JWK `priv`); the expanded key is rebuilt from it.
 *   The seed buffer is zeroed once the KeyObject is made. A signer whose unwrapped key does not match the
 *   record's public key fails (`HSM_KEY_MISMATCH`): a swapped wrapped key is detected.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { algorithm, assertAcknowledged, type ProcessAlgorithmRow } from '../algorithms.ts';
import { HsmError } from '../errors.ts';
import { WRAP_MECHANISM, type TokenKek } from '../hierarchy/kek.ts';
import type { KeyRecord, KeyRecordRepository } from '../lifecycle/key-record.ts';
import { newRecord } from '../lifecycle/new-records.ts';
import type { JsonWebKeyPublic, KeyPurpose } from '../signer.ts';
import { InProcessSigner } from './in-process-signer.ts';
import type { WrappedKeyRepository } from './wrapped-keys.ts';

export interface PqKeysOptions {
  kek: TokenKek;
  records: KeyRecordRepository;
  wrapped: WrappedKeyRepository;
  /** For the ceremony trail. */
  actor: string;
  now?: () => Date;
}

export interface Acknowledged {
  /** The explicit acknowledgement that ML-DSA keys are in-process keys, weaker than token keys. */
  acknowledgeExperimental?: boolean;
}

/** Label prefix of in-process keys (records only; nothing with this label is on the token). */
export const PQ_LABEL_PREFIX = 'gw-pq:';

function processRow(alg: string, ack: Acknowledged): ProcessAlgorithmRow {
  const row = algorithm(alg);
  assertAcknowledged(row, ack.acknowledgeExperimental === true);
  if (row.custody !== 'process')
    throw new HsmError('HSM_ALG_UNKNOWN', 'a token algorithm: generate it in the token', { detail: `alg=${row.name}` });
  return row;
}

export class PqKeys {
  readonly #options: PqKeysOptions;

  constructor(options: PqKeysOptions) {
    this.#options = options;
  }

  /**
   * Generates an in-process key pair, stores the private key wrapped under the KEK and records the key
   * (default state `next`: published, not yet signing).
   *
   * @throws HsmError `HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`, `HSM_ALG_UNKNOWN`, `HSM_RECORDS_FAILED`
   * @example
   * ```ts
   * const record = await pq.generate('id_token', 'ML-DSA-65', { acknowledgeExperimental: true });
   * ```
   */
  async generate(
    purpose: KeyPurpose,
    alg: string,
    options: Acknowledged & { state?: 'pending' | 'next' | 'active' } = {},
  ): Promise<KeyRecord> {
    const row = processRow(alg, options);
    const { kek, records, wrapped, actor } = this.#options;
    const { privateKey } = generateKeyPairSync(row.key.nodeType);
    const jwk = privateKey.export({ format: 'jwk' }) as { kty: string; pub: string; priv: string };
    const seed = Buffer.from(jwk.priv, 'base64url');
    const publicJwk: JsonWebKeyPublic = { kty: 'AKP', alg: row.name, pub: jwk.pub, kid: '', use: 'sig' };
    const kid = await calculateJwkThumbprint({ kty: 'AKP', alg: row.name, pub: jwk.pub }, 'sha256');
    publicJwk.kid = kid;
    const id = randomBytes(8).toString('hex');
    try {
      await wrapped.insert({
        kid,
        alg: row.name,
        tokenLabel: kek.token.label,
        kekId: kek.id,
        wrapMechanism: WRAP_MECHANISM,
        wrapped: await kek.wrap(seed),
      });
    } finally {
      seed.fill(0);
    }
    const at = (this.#options.now ?? (() => new Date()))();
    const state = options.state ?? 'next';
    const record = newRecord(
      { kid, purpose, alg: row.name, ckaId: id, publicJwk, label: `${PQ_LABEL_PREFIX}${purpose}:${row.name}:${id}` },
      kek.token.label,
      state,
      at,
    );
    await records.insert([record], {
      action: 'generate',
      kid,
      actor,
      detail: {
        purpose,
        alg: row.name,
        state,
        custody: 'process',
        experimental: true,
        kekId: kek.id,
        label: record.keyLabel,
      },
    });
    return record;
  }

  /**
   * The signer of an in-process key: its private key unwrapped by the token into memory. `guard` runs
   * before every signature (pass the lifecycle's `maySign`).
   *
   * @throws HsmError `HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`, `HSM_KEY_NOT_FOUND`, `HSM_KEY_MISMATCH`,
   * `HSM_DECRYPT_FAILED`
   */
  async signer(kid: string, options: Acknowledged & { guard?: () => void } = {}): Promise<InProcessSigner> {
    const { kek, records, wrapped } = this.#options;
    const record = (await records.load(kek.token.label)).records.find((r) => r.kid === kid);
    if (!record || record.state === 'destroyed')
      throw new HsmError('HSM_KEY_NOT_FOUND', 'no live key record with this kid', { detail: `kid=${kid}` });
    const row = processRow(record.alg, options);
    const stored = await wrapped.get(kid);
    if (stored.kekId !== kek.id || stored.tokenLabel !== kek.token.label) {
      throw new HsmError('HSM_KEY_MISMATCH', 'this key is wrapped under another KEK', {
        detail: `kid=${kid} kek=${stored.kekId}@${stored.tokenLabel}`,
      });
    }
    const seed = await kek.unwrap(stored.wrapped);
    let privateKey;
    try {
      privateKey = createPrivateKey({
        format: 'jwk',
        key: { kty: 'AKP', alg: row.name, pub: record.publicJwk.pub, priv: seed.toString('base64url') },
      });
    } catch (error) {
      throw new HsmError('HSM_KEY_MISMATCH', 'the unwrapped key does not match its record', {
        detail: `kid=${kid}`,
        cause: error,
      });
    } finally {
      seed.fill(0);
    }
    const publicKey = createPublicKey(privateKey);
    if ((publicKey.export({ format: 'jwk' }) as { pub?: string }).pub !== record.publicJwk.pub) {
      throw new HsmError('HSM_KEY_MISMATCH', 'the unwrapped key does not match its record', { detail: `kid=${kid}` });
    }
    const signer = new InProcessSigner({
      kid,
      row,
      purpose: record.purpose,
      publicJwk: record.publicJwk,
      publicKey,
      privateKey,
    });
    signer.setGuard(options.guard);
    return signer;
  }

  /** Deletes the wrapped private key (after the lifecycle destroyed the record): the key is gone. */
  forget(kid: string): Promise<void> {
    return this.#options.wrapped.remove(kid);
  }
}
