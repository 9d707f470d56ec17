/**
 * `InProcessSigner`: the `Signer` of an experimental in-process row (ML-DSA-65). The private key is in
 * this process's memory, unwrapped from the KEK by the token (`PqKeys.signer`); it is never written
 * anywhere unwrapped.
 *
 * - `sign()` runs Node's one-shot `crypto.sign(null, …)` with a callback, so the signature is made on
 *   the thread pool, not the event loop (ML-DSA-65 costs about 1 ms).
 * - The signature is the 3309-byte FIPS 204 signature with an empty context: what JOSE (RFC 9964) carries.
 * - `kid` is the RFC 7638 thumbprint of the AKP public JWK (`alg`, `kty`, `pub`).
 * - Like `Pkcs11Signer`, a guard (the lifecycle's "only an active key signs") runs before every signature.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { ProcessAlgorithmRow } from '../algorithms.ts';
import { HsmError } from '../errors.ts';
import type { JsonWebKeyPublic, KeyPurpose, Signer } from '../signer.ts';

export interface InProcessSignerInit {
  kid: string;
  row: ProcessAlgorithmRow;
  purpose: KeyPurpose;
  publicJwk: JsonWebKeyPublic;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export class InProcessSigner implements Signer {
  readonly kid: string;
  readonly alg: ProcessAlgorithmRow['name'];
  readonly purpose: KeyPurpose;
  readonly row: ProcessAlgorithmRow;
  readonly publicJwk: Readonly<JsonWebKeyPublic>;
  readonly #publicKey: KeyObject;
  readonly #privateKey: KeyObject;
  #guard: (() => void) | undefined;

  constructor(init: InProcessSignerInit) {
    this.kid = init.kid;
    this.row = init.row;
    this.alg = init.row.name;
    this.purpose = init.purpose;
    this.publicJwk = Object.freeze({ ...init.publicJwk });
    this.#publicKey = init.publicKey;
    this.#privateKey = init.privateKey;
  }

  publicKey(): KeyObject {
    return this.#publicKey;
  }

  /** Installs a check run before every signature; it throws to refuse. */
  setGuard(guard: (() => void) | undefined): void {
    this.#guard = guard;
  }

  /**
   * Signs `data` in process (thread pool).
   *
   * @throws HsmError `HSM_KEY_NOT_ACTIVE` (guard), `HSM_SIGN_FAILED`
   * @example
   * ```ts
   * const signature = await signer.sign(new TextEncoder().encode(`${header}.${payload}`));
   * ```
   */
  sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      this.#guard?.();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      cryptoSign(null, data, this.#privateKey, (error, signature) => {
        if (error || signature.length !== this.row.signatureLength) {
          reject(
            new HsmError('HSM_SIGN_FAILED', 'in-process signature failed', {
              detail: `${this.alg} length=${signature?.length}`,
              cause: error ?? undefined,
            }),
          );
        } else resolve(signature);
      });
    });
  }
}
