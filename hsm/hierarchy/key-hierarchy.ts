/**
 * `KeyHierarchy`: token KEK → DEKs wrapped in PostgreSQL → HKDF purpose keys → sealed messages.
 *
 * - `rotate()` has the token generate a new DEK, wrapped under the KEK (its bytes never in process at
 *   generation), stores it as the new active version and retires the previous one, which is kept: what
 *   it sealed still opens. Nothing deletes a DEK.
 * - A DEK is unwrapped by the token once per process and version, then kept in memory with its derived
 *   purpose keys (HKDF-SHA256 and AES-GCM run in Node; see the README for what this does and does not
 *   protect).
 * - `seal(purpose, …)` uses the active version; `open(…)` uses the version the message names, and
 *   reloads the records once when it names a version this process has not seen (another instance or the
 *   CLI rotated). A DEK wrapped under another KEK than this one fails with `HSM_KEY_MISMATCH`.
 */
import { HsmError } from '../errors.ts';
import type { DekRecord, DekRepository } from './dek-repository.ts';
import { DOMAIN_PATTERN } from './dek-repository.ts';
import { WRAP_MECHANISM, type TokenKek } from './kek.ts';
import { derivePurposeKey, type DerivedPurpose, type PurposeKey } from './purpose-keys.ts';
import { open as openSealed, seal as sealWith, sealedHeader } from './sealed.ts';

export interface OpenHierarchyOptions {
  kek: TokenKek;
  repository: DekRepository;
  /** What the DEKs protect (default `gateway`). */
  domain?: string;
  /** For the ceremony trail (`gateway:<host>:<pid>`, `cli:<user>`). */
  actor: string;
  /** Generate the first DEK when the domain has none (default false: `node hsm/cli.ts dek rotate`). */
  bootstrap?: boolean;
}

export class KeyHierarchy {
  readonly domain: string;
  readonly kek: TokenKek;
  readonly #repository: DekRepository;
  readonly #actor: string;
  #records: DekRecord[] = [];
  readonly #deks = new Map<number, Promise<Buffer>>();
  readonly #keys = new Map<string, PurposeKey>();

  private constructor(options: OpenHierarchyOptions, domain: string) {
    this.kek = options.kek;
    this.#repository = options.repository;
    this.#actor = options.actor;
    this.domain = domain;
  }

  /**
   * Loads the DEK records of a domain.
   *
   * @throws HsmError `HSM_CONFIG_INVALID` (domain), `HSM_KEY_NOT_FOUND` (no DEK and no `bootstrap`),
   * `HSM_RECORDS_FAILED`
   * @example
   * ```ts
   * const hierarchy = await KeyHierarchy.open({ kek: await TokenKek.open(store.token), repository: new PgDekRepository(pool), actor: 'gateway' });
   * const text = await hierarchy.seal('pivot_identity', Buffer.from(json), Buffer.from(accountId));
   * ```
   */
  static async open(options: OpenHierarchyOptions): Promise<KeyHierarchy> {
    const domain = options.domain ?? 'gateway';
    if (!DOMAIN_PATTERN.test(domain))
      throw new HsmError('HSM_CONFIG_INVALID', 'a DEK domain is 1 to 32 characters of [a-z0-9_]', {
        detail: `domain=${JSON.stringify(domain)}`,
      });
    const hierarchy = new KeyHierarchy(options, domain);
    await hierarchy.refresh();
    if (hierarchy.#records.length === 0) {
      if (!options.bootstrap)
        throw new HsmError('HSM_KEY_NOT_FOUND', 'no DEK for this domain (run: node hsm/cli.ts dek rotate)', {
          detail: `domain=${domain}`,
        });
      await hierarchy.rotate();
    }
    return hierarchy;
  }

  /**
   * Unwraps the active DEK now: a gateway booted with another token than the one its database's DEKs were wrapped
   * under (or another database than its token's) stops at boot with this, instead of refusing every login with a
   * 500 when it first seals a record.
   *
   * @throws HsmError `HSM_KEY_MISMATCH` (naming the token and KEK the DEK needs), `HSM_DECRYPT_FAILED`
   */
  async verifyActive(): Promise<void> {
    try {
      await this.#dek(this.activeVersion);
    } catch (error) {
      if (!(error instanceof HsmError) || error.code !== 'HSM_KEY_MISMATCH') throw error;
      throw new HsmError(
        'HSM_KEY_MISMATCH',
        `the database's active DEK is wrapped under another token's KEK (${error.detail ?? ''}); this token is ${this.kek.token.label}, KEK ${this.kek.id}: the configuration names another token, or another database`,
        { detail: error.detail ?? '' },
      );
    }
  }

  /** Every DEK record of the domain, newest first (wrapped bytes only). */
  get records(): readonly DekRecord[] {
    return this.#records;
  }

  /** The active DEK version. @throws HsmError `HSM_KEY_NOT_FOUND` */
  get activeVersion(): number {
    const active = this.#records.find((r) => r.state === 'active');
    if (!active) throw new HsmError('HSM_KEY_NOT_FOUND', 'no active DEK', { detail: `domain=${this.domain}` });
    return active.version;
  }

  /** Reloads the records (after a rotation elsewhere). */
  async refresh(): Promise<void> {
    this.#records = await this.#repository.list(this.domain);
  }

  /**
   * A new DEK, generated in the token and stored wrapped, becomes active; the previous one is retired and
   * kept for decryption.
   *
   * @throws HsmError `HSM_KEYGEN_FAILED`, `HSM_RECORDS_FAILED`
   */
  async rotate(): Promise<DekRecord> {
    const wrapped = await this.kek.generateWrappedKey();
    const record = await this.#repository.rotate(
      this.domain,
      { tokenLabel: this.kek.token.label, kekId: this.kek.id, wrapMechanism: WRAP_MECHANISM, wrapped },
      this.#actor,
    );
    await this.refresh();
    return record;
  }

  /**
   * The purpose key of DEK `version` (default: the active one).
   *
   * @throws HsmError `HSM_KEY_NOT_FOUND` (unknown version), `HSM_KEY_MISMATCH` (wrapped under another
   * KEK), `HSM_DECRYPT_FAILED` (the token refused to unwrap), `HSM_CONFIG_INVALID` (unknown purpose)
   */
  async purposeKey(purpose: DerivedPurpose, version: number = this.activeVersion): Promise<PurposeKey> {
    const kid = `${this.domain}.${purpose}.${version}`;
    const known = this.#keys.get(kid);
    if (known) return known;
    const key = derivePurposeKey(await this.#dek(version), this.domain, purpose, version);
    this.#keys.set(kid, key);
    return key;
  }

  /** Every purpose key of `purpose`, active version first, then older ones (e.g. a cookie keyring). */
  async keyring(purpose: DerivedPurpose): Promise<PurposeKey[]> {
    const ordered = [...this.#records].sort((a, b) =>
      a.state === b.state ? b.version - a.version : a.state === 'active' ? -1 : 1,
    );
    return Promise.all(ordered.map((r) => this.purposeKey(purpose, r.version)));
  }

  /** Seals `plaintext` under the active DEK's `purpose` key (AES-256-GCM; see `sealed.ts`). */
  async seal(purpose: DerivedPurpose, plaintext: Uint8Array, aad?: Uint8Array): Promise<string> {
    return sealWith(await this.purposeKey(purpose), plaintext, aad);
  }

  /**
   * Opens a sealed message under the DEK version it names (active or retired).
   *
   * @throws HsmError `HSM_DECRYPT_FAILED` (malformed, other domain or purpose, tampered), `HSM_KEY_NOT_FOUND`
   */
  async open(purpose: DerivedPurpose, text: string, aad?: Uint8Array): Promise<Buffer> {
    const header = sealedHeader(text);
    if (header.domain !== this.domain || header.purpose !== purpose) {
      throw new HsmError('HSM_DECRYPT_FAILED', 'sealed for another domain or purpose', {
        detail: `${header.domain}.${header.purpose}`,
      });
    }
    if (!this.#records.some((r) => r.version === header.version)) await this.refresh();
    return openSealed(await this.purposeKey(purpose, header.version), text, aad);
  }

  #dek(version: number): Promise<Buffer> {
    let dek = this.#deks.get(version);
    if (!dek) {
      const record = this.#records.find((r) => r.version === version);
      if (!record)
        return Promise.reject(
          new HsmError('HSM_KEY_NOT_FOUND', 'no DEK with this version', {
            detail: `domain=${this.domain} version=${version}`,
          }),
        );
      if (
        record.kekId !== this.kek.id ||
        record.tokenLabel !== this.kek.token.label ||
        record.wrapMechanism !== WRAP_MECHANISM
      ) {
        return Promise.reject(
          new HsmError('HSM_KEY_MISMATCH', 'this DEK is wrapped under another KEK', {
            detail: `version=${version} kek=${record.kekId}@${record.tokenLabel}`,
          }),
        );
      }
      dek = this.kek.unwrap(record.wrapped);
      dek.catch(() => this.#deks.delete(version));
      this.#deks.set(version, dek);
    }
    return dek;
  }

  /** Forgets the unwrapped DEKs and derived keys held in memory (zeroed). */
  forget(): void {
    for (const key of this.#keys.values()) key.key.fill(0);
    this.#keys.clear();
    for (const dek of this.#deks.values())
      void dek.then(
        (bytes) => bytes.fill(0),
        () => undefined,
      );
    this.#deks.clear();
  }
}
