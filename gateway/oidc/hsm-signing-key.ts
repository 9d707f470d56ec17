/**
 * One HSM key as oidc-provider sees it: an `ExternalSigningKey` whose `sign()` calls the `Signer`
 * (the private key never leaves the token). oidc-provider may assign kid/alg at registration; the
 * setters accept only the values the Signer already has. A saturated HSM answers 503, not 500 (hsm-busy.ts).
 */
import { ExternalSigningKey } from 'oidc-provider';
import type { KeyObject } from 'node:crypto';
import type { Signer } from '../../hsm/signer.ts';
import { shedWhenBusy } from './hsm-busy.ts';

export class HsmSigningKey extends ExternalSigningKey {
  readonly #signer: Signer;

  constructor(signer: Signer) {
    super();
    this.#signer = signer;
  }

  override get kid(): string {
    return this.#signer.kid;
  }

  override set kid(value: string) {
    if (value !== this.#signer.kid) throw new Error(`kid of an HSM key cannot change (${value})`);
  }

  override get alg(): string {
    return this.#signer.alg;
  }

  override set alg(value: string) {
    if (value !== this.#signer.alg) throw new Error(`alg of an HSM key cannot change (${value})`);
  }

  override keyObject(): KeyObject {
    return this.#signer.publicKey();
  }

  override async sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.#signer.sign(data);
    } catch (error) {
      throw shedWhenBusy(error); // HSM_BUSY: 503 temporarily_unavailable, never oidc-provider's 500 (hsm-busy.ts)
    }
  }
}
