/**
 * `TokenKeyStore`: a `KeyStore` whose only source of truth is the token itself (issue #3 moves the
 * lifecycle to PostgreSQL).
 *
 * - At open it lists the token's private keys labelled `gw:<purpose>:<alg>:<shortid>`, reads each public
 *   half once and caches the handles; every key found is `active`.
 * - `activeSigners(purpose)` is in policy order: the purpose's configured algorithm order (default
 *   algorithm first), then label order. A label naming an unknown algorithm fails the open.
 * - `ensureKeys` generates the missing (purpose, alg) pairs and nothing else, so running it twice is a no-op.
 */
import { randomBytes } from 'node:crypto';
import { algorithm, ALGORITHMS, tokenAlgorithm, type AlgorithmName } from './algorithms.ts';
import { HsmError } from './errors.ts';
import { KEY_PURPOSES, keyLabel, LABEL_PREFIX, parseKeyLabel } from './key-label.ts';
import { Pkcs11Decrypter } from './pkcs11-decrypter.ts';
import { Pkcs11Signer, type SignObserver } from './pkcs11-signer.ts';
import {
  destroyKeyPair,
  findPublicKey,
  generateKeyPair,
  listPrivateKeys,
  requireBornInTheToken,
  type TokenKeyObject,
} from './pkcs11/keys.ts';
import { readPublicJwk, requireOneKeyPair } from './pkcs11/public-jwk.ts';
import { Pkcs11Token } from './pkcs11/token.ts';
import type { JsonWebKeyPublic, KeyPurpose, KeyStore } from './signer.ts';

export type AlgorithmOrder = Readonly<Record<KeyPurpose, readonly AlgorithmName[]>>;

/** Default-first algorithm order per purpose. OIDC Core requires RS256 support, so id_token lists it first. */
export const DEFAULT_ALGORITHM_ORDER: AlgorithmOrder = Object.freeze({
  id_token: ['RS256', 'ES256', 'PS256', 'ES384', 'EdDSA'],
  access_token: ['ES256', 'RS256', 'PS256', 'ES384', 'EdDSA'],
  saml: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
  saml_decryption: ['RS256'],
  audit: ['ES384', 'ES256', 'EdDSA', 'PS256', 'RS256'],
  client_auth: ['ES256', 'PS256', 'RS256', 'ES384', 'EdDSA'],
  risk_assessment: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
});

/**
 * The development key set: what `hsm/cli.ts init` makes. Each purpose's default algorithm (first in
 * {@link DEFAULT_ALGORITHM_ORDER}, so it stays the default), and the ECDSA key a purpose must be able to switch
 * to: `saml` ES256, for an IdP whose `requestSigningAlgorithm` is `ES256` or that declares ECDSA, and for eIDAS
 * nodes (PSS or ECDSA only) — without it such an IdP refused the boot of a freshly initialised token.
 */
export const DEFAULT_KEY_SPEC: ReadonlyArray<{ readonly purpose: KeyPurpose; readonly alg: AlgorithmName }> =
  Object.freeze([
    { purpose: 'id_token', alg: 'RS256' },
    { purpose: 'id_token', alg: 'ES256' },
    { purpose: 'access_token', alg: 'RS256' },
    { purpose: 'access_token', alg: 'ES256' },
    { purpose: 'saml', alg: 'RS256' },
    { purpose: 'saml', alg: 'ES256' },
    { purpose: 'audit', alg: 'ES384' },
    { purpose: 'risk_assessment', alg: 'ES256' },
  ]);

export interface OpenKeyStoreOptions {
  /** Path of the PKCS#11 module. */
  library: string;
  tokenLabel: string;
  /** User PIN. */
  pin: string;
  /** Sessions in the pool (default 4). */
  poolSize?: number;
  /** Callers allowed to wait for a session before `HSM_BUSY` (default 1024). */
  maxWaiting?: number;
  /** Longest wait for a session before `HSM_BUSY`, ms (default 10 000). */
  acquireTimeoutMs?: number;
  /** Per-purpose algorithm order; purposes left out keep {@link DEFAULT_ALGORITHM_ORDER}. */
  algorithmOrder?: Partial<AlgorithmOrder>;
  /** Told the duration of every signature made in the token, by algorithm and mechanism (metrics). */
  onSign?: SignObserver;
}

function rank(order: readonly AlgorithmName[], alg: AlgorithmName): number {
  const index = order.indexOf(alg);
  return index === -1 ? order.length + ALGORITHMS.findIndex((row) => row.name === alg) : index;
}

export class TokenKeyStore implements KeyStore {
  readonly token: Pkcs11Token;
  readonly #order: AlgorithmOrder;
  readonly #signers: Pkcs11Signer[] = [];
  readonly #onSign: SignObserver | undefined;

  private constructor(token: Pkcs11Token, order: AlgorithmOrder, onSign: SignObserver | undefined) {
    this.token = token;
    this.#order = order;
    this.#onSign = onSign;
  }

  /** Opens the token and loads its keys. Prefer {@link openKeyStore}. */
  static async open(options: OpenKeyStoreOptions): Promise<TokenKeyStore> {
    for (const name of ['library', 'tokenLabel', 'pin'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') {
        throw new HsmError('HSM_CONFIG_INVALID', `key store option ${name} is required`);
      }
    }
    const order = { ...DEFAULT_ALGORITHM_ORDER, ...options.algorithmOrder };
    for (const purpose of KEY_PURPOSES) order[purpose].forEach((name) => algorithm(name));
    const token = Pkcs11Token.open({ ...options, size: options.poolSize });
    const store = new TokenKeyStore(token, order, options.onSign);
    try {
      for (const key of await listPrivateKeys(token, LABEL_PREFIX)) {
        const signer = await store.#loadUnlessRefused(key);
        if (signer) store.#signers.push(signer);
      }
    } catch (error) {
      await token.close();
      throw error;
    }
    return store;
  }

  /**
   * The keys of ours on the token that never sign: not born there as keys nobody can read (`HSM_KEY_PROVENANCE`:
   * imported, ever extractable or not sensitive). Each is left out, not the whole store: the others sign; the
   * gateway logs each at boot (an error), and the operator destroys it.
   */
  readonly refusedKeys: { label: string; detail: string }[] = [];

  async #loadUnlessRefused(key: TokenKeyObject): Promise<Pkcs11Signer | null> {
    try {
      return await this.#load(key);
    } catch (error) {
      if (!(error instanceof HsmError) || error.code !== 'HSM_KEY_PROVENANCE') throw error;
      this.refusedKeys.push({ label: key.label, detail: error.detail ?? '' });
      return null;
    }
  }

  async #load(key: TokenKeyObject): Promise<Pkcs11Signer> {
    const { purpose, alg } = parseKeyLabel(key.label);
    const row = tokenAlgorithm(alg);
    await requireBornInTheToken(this.token, key);
    const jwk = await readPublicJwk(this.token, await findPublicKey(this.token, key.id), row.key);
    // the public object is the private key's own half (what /jwks publishes): the public object is another object,
    // which someone with the PIN could replace
    await requireOneKeyPair(
      this.token,
      key,
      jwk,
      purpose === 'saml_decryption' ? null : await Pkcs11Signer.create({ token: this.token, key, row, purpose, jwk }),
    );
    return Pkcs11Signer.create({
      token: this.token,
      key,
      row,
      purpose,
      jwk,
      ...(this.#onSign ? { onSign: this.#onSign } : {}),
    });
  }

  activeSigner(purpose: KeyPurpose, alg?: AlgorithmName): Pkcs11Signer {
    const signer = this.activeSigners(purpose).find((candidate) => alg === undefined || candidate.alg === alg);
    if (!signer)
      throw new HsmError('HSM_KEY_NOT_FOUND', 'no active key for this purpose', {
        detail: `purpose=${purpose} alg=${alg ?? '*'}`,
      });
    return signer;
  }

  activeSigners(purpose: KeyPurpose): Pkcs11Signer[] {
    const order = this.#order[purpose];
    return this.#signers
      .filter((signer) => signer.purpose === purpose)
      .sort((a, b) => rank(order, a.alg) - rank(order, b.alg) || a.label.localeCompare(b.label));
  }

  /** Position of `alg` in the policy order of `purpose` (0 = default algorithm). */
  algorithmRank(purpose: KeyPurpose, alg: AlgorithmName): number {
    return rank(this.#order[purpose], alg);
  }

  publishable(purpose: KeyPurpose): JsonWebKeyPublic[] {
    return this.activeSigners(purpose).map((signer) => ({ ...signer.publicJwk }));
  }

  /** Every key of ours on the token, in label order. */
  signers(): Pkcs11Signer[] {
    return [...this.#signers].sort((a, b) => a.label.localeCompare(b.label));
  }

  /** The signer whose key has this RFC 7638 thumbprint. @throws HsmError `HSM_KEY_NOT_FOUND` */
  signerByKid(kid: string): Pkcs11Signer {
    const signer = this.#signers.find((candidate) => candidate.kid === kid);
    if (!signer) throw new HsmError('HSM_KEY_NOT_FOUND', 'no key with this kid', { detail: `kid=${kid}` });
    return signer;
  }

  /**
   * Generates a new key pair for `purpose` and `alg` on the token; it is active at once.
   *
   * @throws HsmError `HSM_ALG_UNKNOWN` (also for a row signed in process: ML-DSA-65 keys live in
   * `hsm/pq/`), `HSM_KEYGEN_FAILED`
   */
  async generate(purpose: KeyPurpose, alg: AlgorithmName): Promise<Pkcs11Signer> {
    const row = tokenAlgorithm(alg);
    const id = randomBytes(8);
    const usage = purpose === 'saml_decryption' ? 'decrypt' : 'sign';
    const key = await generateKeyPair(this.token, row.key, id, keyLabel(purpose, row.name, id.toString('hex')), usage);
    const signer = await this.#load(key);
    this.#signers.push(signer);
    return signer;
  }

  /**
   * Lists the token again: loads key pairs made since (by another process or store) and forgets those
   * no longer there. Returns true when the set changed.
   */
  async refresh(): Promise<boolean> {
    const onToken = await listPrivateKeys(this.token, LABEL_PREFIX);
    const known = new Map(this.#signers.map((signer) => [signer.ckaId, signer]));
    const seen = new Set<string>();
    let changed = false;
    for (const key of onToken) {
      const id = key.id.toString('hex');
      seen.add(id);
      if (known.has(id) || this.refusedKeys.some((r) => r.label === key.label)) continue;
      const signer = await this.#loadUnlessRefused(key);
      if (!signer) continue;
      this.#signers.push(signer);
      changed = true;
    }
    for (let i = this.#signers.length - 1; i >= 0; i -= 1) {
      if (!seen.has(this.#signers[i]!.ckaId)) {
        this.#signers.splice(i, 1);
        changed = true;
      }
    }
    return changed;
  }

  /**
   * Destroys a key pair on the token (`C_DestroyObject` on both halves) and forgets its signer.
   * Irreversible; the lifecycle decides when (`LifecycleKeyStore.destroy`).
   *
   * @throws HsmError `HSM_KEY_NOT_FOUND`
   */
  async destroyKey(kid: string): Promise<void> {
    const signer = this.signerByKid(kid);
    await destroyKeyPair(this.token, Buffer.from(signer.ckaId, 'hex'));
    this.#signers.splice(this.#signers.indexOf(signer), 1);
  }

  /**
   * The RSA-OAEP decrypter of a `saml_decryption` key (by kid; default: the first one).
   *
   * @throws HsmError `HSM_KEY_NOT_FOUND`
   */
  decrypter(kid?: string): Pkcs11Decrypter {
    const signer = kid ? this.signerByKid(kid) : this.activeSigner('saml_decryption');
    if (signer.purpose !== 'saml_decryption')
      throw new HsmError('HSM_KEY_NOT_FOUND', 'not a decryption key', { detail: `kid=${signer.kid}` });
    return new Pkcs11Decrypter(this.token, signer);
  }

  /** Waits for signatures in flight, then closes the token. */
  close(): Promise<void> {
    return this.token.close();
  }
}

/**
 * Opens a token as a key store.
 *
 * @example
 * ```ts
 * const store = await openKeyStore({ library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'gw', pin });
 * const jws = await store.activeSigner('id_token').sign(bytes);
 * await store.close();
 * ```
 * @throws HsmError `HSM_CONFIG_INVALID`, `HSM_LIBRARY_LOAD_FAILED`, `HSM_TOKEN_NOT_FOUND`, `HSM_LOGIN_FAILED`,
 * `HSM_KEY_MISMATCH`, `HSM_ALG_UNKNOWN`
 */
export function openKeyStore(options: OpenKeyStoreOptions): Promise<TokenKeyStore> {
  return TokenKeyStore.open(options);
}

/**
 * Generates, for each `{ purpose, alg }` of `spec`, a key if the store has none; returns what it made.
 * Idempotent: a second run generates nothing.
 *
 * @example
 * ```ts
 * const made = await ensureKeys(store, DEFAULT_KEY_SPEC);
 * ```
 */
export async function ensureKeys(
  store: TokenKeyStore,
  spec: ReadonlyArray<{ readonly purpose: KeyPurpose; readonly alg: AlgorithmName }>,
): Promise<Pkcs11Signer[]> {
  const generated: Pkcs11Signer[] = [];
  for (const { purpose, alg } of spec) {
    if (store.activeSigners(purpose).some((signer) => signer.alg === alg)) continue;
    generated.push(await store.generate(purpose, alg));
  }
  return generated;
}
