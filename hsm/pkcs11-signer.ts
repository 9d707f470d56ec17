/**
 * `Pkcs11Signer`: the `Signer` of one key pair inside a PKCS#11 token.
 *
 * - Holds the cached private-key handle, never key bytes; every signature is made by the token.
 * - Hashes in process only where the row says so (ECDSA: digest + `CKM_ECDSA`, whose raw r‖s output is
 *   already the JOSE and XML-DSig encoding); RSA mechanisms hash inside the token; EdDSA signs the message.
 * - `kid` is the RFC 7638 thumbprint of the public key; `publicJwk` carries `kid`, `alg`, `use: 'sig'`.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { TokenAlgorithmRow } from './algorithms.ts';
import { HsmError } from './errors.ts';
import { readKeyFlags, type KeyFlags, type TokenKeyObject } from './pkcs11/keys.ts';
import type { BareJwk } from './pkcs11/public-jwk.ts';
import type { Mechanism, Pkcs11Token } from './pkcs11/token.ts';
import type { JsonWebKeyPublic, KeyPurpose, Signer } from './signer.ts';
import pkcs11js from 'pkcs11js';

export interface Pkcs11SignerInit {
  token: Pkcs11Token;
  key: TokenKeyObject;
  row: TokenAlgorithmRow;
  purpose: KeyPurpose;
  /** The public key as read from the token. */
  jwk: BareJwk;
  /** Told the duration of every signature the token made or refused (metrics; never fails a signature). */
  onSign?: SignObserver;
}

/** One signature made (or refused) by the token: the registry row, its PKCS#11 mechanism, the time it took. */
export interface SignObservation {
  alg: TokenAlgorithmRow['name'];
  /** The PKCS#11 mechanism's name, e.g. `CKM_SHA256_RSA_PKCS_PSS`, `CKM_ECDSA`. */
  mechanism: string;
  seconds: number;
  ok: boolean;
}
export type SignObserver = (observation: SignObservation) => void;

const MECHANISM_NAMES = new Map<number, string>(
  Object.entries(pkcs11js)
    .filter(([name, value]) => name.startsWith('CKM_') && typeof value === 'number')
    .map(([name, value]) => [value as number, name]),
);

/** The CKM_ name of a mechanism number (`CKM_0x…` for a vendor mechanism pkcs11js does not name). */
export function mechanismName(mechanism: number): string {
  return MECHANISM_NAMES.get(mechanism) ?? `CKM_0x${mechanism.toString(16)}`;
}

function mechanismOf(row: TokenAlgorithmRow): Mechanism {
  const { mechanism, pss } = row.pkcs11;
  if (!pss) return { mechanism };
  return {
    mechanism,
    parameter: {
      type: pkcs11js.CK_PARAMS_RSA_PSS,
      hashAlg: pss.hashAlg,
      mgf: pss.mgf,
      saltLen: pss.saltLength,
    } as pkcs11js.RsaPSS,
  };
}

export class Pkcs11Signer implements Signer {
  readonly kid: string;
  readonly alg: TokenAlgorithmRow['name'];
  readonly purpose: KeyPurpose;
  readonly publicJwk: Readonly<JsonWebKeyPublic>;
  /** CKA_LABEL of the key pair. */
  readonly label: string;
  readonly row: TokenAlgorithmRow;
  /** CKA_ID of the key pair, hex. */
  readonly ckaId: string;
  readonly #token: Pkcs11Token;
  readonly #key: TokenKeyObject;
  readonly #mechanism: Mechanism;
  readonly #publicKey: KeyObject;
  readonly #onSign: SignObserver | undefined;
  readonly #mechanismName: string;
  #guard: (() => void) | undefined;

  private constructor(init: Pkcs11SignerInit, kid: string) {
    this.#token = init.token;
    this.#key = init.key;
    this.row = init.row;
    this.alg = init.row.name;
    this.purpose = init.purpose;
    this.label = init.key.label;
    this.ckaId = init.key.id.toString('hex');
    this.kid = kid;
    this.publicJwk = Object.freeze({ ...init.jwk, kid, alg: init.row.name, use: 'sig' as const });
    this.#mechanism = mechanismOf(init.row);
    this.#mechanismName = mechanismName(init.row.pkcs11.mechanism);
    this.#onSign = init.onSign;
    this.#publicKey = createPublicKey({ key: { ...init.jwk }, format: 'jwk' });
  }

  /**
   * A signer for a key pair already on the token.
   *
   * @example
   * ```ts
   * const signer = await Pkcs11Signer.create({ token, key, row: algorithm('ES256'), purpose: 'id_token', jwk });
   * const signature = await signer.sign(new TextEncoder().encode('header.payload'));
   * ```
   */
  static async create(init: Pkcs11SignerInit): Promise<Pkcs11Signer> {
    const kid = await calculateJwkThumbprint({ ...init.jwk }, 'sha256');
    return new Pkcs11Signer(init, kid);
  }

  publicKey(): KeyObject {
    return this.#publicKey;
  }

  /**
   * Installs a check run before every signature (the lifecycle's "only an active key signs"); it throws
   * to refuse. One guard per signer; a second call replaces the first.
   */
  setGuard(guard: (() => void) | undefined): void {
    this.#guard = guard;
  }

  /**
   * Signs `data` inside the token.
   *
   * @throws HsmError `HSM_SIGN_FAILED`, `HSM_BUSY`, `HSM_CLOSED`, `HSM_KEY_NOT_ACTIVE` (guard)
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    this.#guard?.();
    const message = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const { hash, pkcs11 } = this.row;
    let input = message;
    if (pkcs11.hashInProcess) {
      if (hash === null)
        throw new HsmError('HSM_ALG_UNKNOWN', 'registry row hashes in process without a hash', { detail: this.alg });
      input = createHash(hash).update(message).digest();
    }
    const started = performance.now();
    let ok = false;
    let signature: Buffer;
    try {
      signature = await this.#token.sign(this.#key, this.#mechanism, input, this.row.signatureLength);
      ok = true;
    } finally {
      this.#observe(ok, (performance.now() - started) / 1000);
    }
    if (signature.length !== this.row.signatureLength) {
      throw new HsmError('HSM_SIGN_FAILED', 'the token returned a signature of an unexpected length', {
        detail: `${this.alg} length=${signature.length}`,
      });
    }
    return signature;
  }

  #observe(ok: boolean, seconds: number): void {
    try {
      this.#onSign?.({ alg: this.alg, mechanism: this.#mechanismName, seconds, ok });
    } catch {
      // an observer never fails a signature
    }
  }

  /** The private key object on the token (for other operations of the same key, e.g. decryption). */
  tokenKey(): TokenKeyObject {
    return this.#key;
  }

  /** The private key's sensitivity flags, as the token reports them. */
  keyFlags(): Promise<KeyFlags> {
    return readKeyFlags(this.#token, this.#key);
  }
}
