/**
 * `LifecycleKeyStore`: the `KeyStore` whose states come from persisted records (pending → next → active
 * → retired → destroyed) while the keys themselves stay in the token (`TokenKeyStore`).
 *
 * - Only an `active` key signs. A key retired less than `signGraceMs` ago may still sign, because a
 *   Provider generation built before the retirement may finish a request with it; its tokens verify,
 *   since retired keys stay published. Any other state: `HSM_KEY_NOT_ACTIVE` (fail closed).
 * - `publishable()` = active, then next, then retired keys whose `notAfter` is ahead: the JWKS publishes
 *   a next key before anything signs with it and keeps a retired key until what it signed has expired.
 * - A `next` key becomes active only after `leadTimeMs` of publication (`HSM_LIFECYCLE_TOO_EARLY`), a
 *   retired key is destroyed only after `notAfter`; `force` overrides both (compromise) and is audited.
 * - Keys on the token without a record are adopted as active at open only where no live record has their
 *   purpose and algorithm; any other is a `generate` not recorded yet, left out (`new-records.ts`).
 * - `refresh()` reloads when the persisted key-set version moved (another instance or the CLI changed it).
 * - Experimental rows (ML-DSA-65) are generated (`hsm/pq/`) and activated only with
 *   `acknowledgeExperimental` (`HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`). Their records share the states and
 *   `publishable()`; their signers are not token signers (`PqKeys.signer(kid, { guard: maySign })`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AlgorithmName } from '../algorithms.ts';
import { algorithm, assertAcknowledged, tokenAlgorithm } from '../algorithms.ts';
import { HsmError } from '../errors.ts';
import { keyLabel } from '../key-label.ts';
import type { Pkcs11Signer } from '../pkcs11-signer.ts';
import type { JsonWebKeyPublic, KeyPurpose, KeyStore } from '../signer.ts';
import type { TokenKeyStore } from '../token-keystore.ts';
import { certifiesKey, publishedKeys, stamp } from './publication.ts';
import { adoptable, forgetUnrecorded, newRecord, notGenerating } from './new-records.ts';
import {
  applyTransition,
  checkTransition,
  type KeyRecord,
  type KeyRecordRepository,
  type Transition,
} from './key-record.ts';

export interface LifecycleTimes {
  /** A next key is published at least this long before it may become active (≥ RP JWKS cache age). */
  leadTimeMs: number;
  /** A retired key stays published this long: max session lifetime + longest token TTL + skew. */
  retentionMs: number;
  /** A retired key may still sign this long after retirement (old Provider generations draining). */
  signGraceMs: number;
}

export const DEFAULT_LIFECYCLE_TIMES: LifecycleTimes = Object.freeze({
  leadTimeMs: 7 * 86_400_000,
  // the gateway sets its own from its lifetimes (boot.ts); the CLI's default covers the default ones: a session lives up
  // to twice ttl.session (8 h), and its ID token is a logout's id_token_hint that long (GW_KEY_RETENTION_SECONDS: longer)
  retentionMs: 17 * 3600_000,
  signGraceMs: 60_000,
});

export interface OpenLifecycleOptions {
  tokens: TokenKeyStore;
  records: KeyRecordRepository;
  times?: Partial<LifecycleTimes>;
  /** Who acts, for the audit trail (e.g. `gateway:<host>:<pid>`, `cli:<user>`). */
  actor: string;
  now?: () => Date;
  /** Publish in-process (ML-DSA) records: the key CLI only (the gateway signs with none, so publishes none). */
  publishInProcessKeys?: boolean;
}

export class LifecycleKeyStore implements KeyStore {
  /**
   * The kid whose certificate `certificate()` is making, in the async context of its `make()` only: a `next`
   * key may sign there, and a signature asked for by any other caller meanwhile is still refused.
   */
  readonly #certifying = new AsyncLocalStorage<string>();
  readonly tokens: TokenKeyStore;
  readonly times: LifecycleTimes;
  readonly #repo: KeyRecordRepository;
  readonly #actor: string;
  readonly #now: () => Date;
  readonly #publishInProcess: boolean;
  #version = -1;
  #records = new Map<string, KeyRecord>();
  readonly #listeners = new Set<(version: number) => void>();

  private constructor(options: OpenLifecycleOptions) {
    this.tokens = options.tokens;
    this.#repo = options.records;
    this.#actor = options.actor;
    this.#now = options.now ?? (() => new Date());
    this.#publishInProcess = options.publishInProcessKeys === true;
    this.times = { ...DEFAULT_LIFECYCLE_TIMES, ...options.times };
  }

  /**
   * Loads the records of the token, adopting record-less token keys as active.
   *
   * @example
   * ```ts
   * const keys = await LifecycleKeyStore.open({ tokens: await openKeyStore(o), records: new PgKeyRecords(pool), actor: 'gateway' });
   * ```
   */
  static async open(options: OpenLifecycleOptions): Promise<LifecycleKeyStore> {
    const store = new LifecycleKeyStore(options);
    await store.refresh(true);
    const { adopt: candidates, unrecorded } = adoptable(store.tokens.signers(), store.#records);
    const { adopt: orphans, underWay } = await notGenerating(candidates, store.#repo, store.tokens.token.label);
    store.unrecordedKeys.push(...unrecorded, ...underWay);
    if (orphans.length > 0) {
      const at = store.#now();
      const adopted = orphans.map((signer) => newRecord(signer, store.tokens.token.label, 'active', at));
      await store.#repo.insert(adopted, {
        action: 'adopt',
        kid: null,
        actor: store.#actor,
        detail: { kids: adopted.map((r) => r.kid) },
      });
      await store.refresh(true);
    }
    return store;
  }

  /**
   * The labels of token keys left without a record at open: their purpose and algorithm already had keys with
   * records, so they are someone's `generate` not recorded yet (or an `init` run on a running deployment). The
   * gateway logs each (`HSM_KEY_UNRECORDED`); none signs or is published until a record names it.
   */
  readonly unrecordedKeys: string[] = [];

  get version(): number {
    return this.#version;
  }

  /** Calls `listener(version)` after every reload that changed something. Returns an unsubscribe. */
  onChange(listener: (version: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reloads when the persisted version moved (or `force`). Returns true when it reloaded. */
  async refresh(force = false): Promise<boolean> {
    if (!force && (await this.#repo.version()) === this.#version) return false;
    const { version, records } = await this.#repo.load(this.tokens.token.label);
    const live = records.filter((r) => r.state !== 'destroyed');
    const signers = new Set(this.tokens.signers().map((s) => s.kid));
    if (
      live.some((r) => !signers.has(r.kid) && algorithm(r.alg).custody === 'token') ||
      this.tokens.signers().some((s) => records.find((r) => r.kid === s.kid)?.state === 'destroyed')
    ) {
      await this.tokens.refresh();
    }
    this.#records = new Map(records.map((r) => [r.kid, r]));
    for (const signer of this.tokens.signers()) signer.setGuard(() => this.#checkMaySign(signer.kid));
    const changed = version !== this.#version;
    this.#version = version;
    if (changed) for (const listener of this.#listeners) listener(version);
    return true;
  }

  /**
   * Throws unless `kid` may sign now (active, or retired within the grace): the guard of every signer.
   *
   * @throws HsmError `HSM_KEY_NOT_ACTIVE`
   */
  maySign(kid: string): void {
    this.#checkMaySign(kid);
  }

  #checkMaySign(kid: string): void {
    const record = this.#records.get(kid);
    if (record?.state === 'active') return;
    // a next key certifies itself (its SAML metadata certificate, published ahead of activation): only
    // inside `certificate()`, while its `make` runs
    if (record?.state === 'next' && this.#certifying.getStore() === kid) return;
    if (
      record?.state === 'retired' &&
      record.retiredAt &&
      this.#now().getTime() - record.retiredAt.getTime() < this.times.signGraceMs
    )
      return;
    throw new HsmError('HSM_KEY_NOT_ACTIVE', 'this key may not sign', {
      detail: `kid=${kid} state=${record?.state ?? 'unrecorded'}`,
    });
  }

  /** The record of `kid`. @throws HsmError `HSM_KEY_NOT_FOUND` */
  record(kid: string): KeyRecord {
    const record = this.#records.get(kid);
    if (!record) throw new HsmError('HSM_KEY_NOT_FOUND', 'no key record with this kid', { detail: `kid=${kid}` });
    return record;
  }

  /** Every record (destroyed included), optionally of one purpose, oldest first. */
  records(purpose?: KeyPurpose): KeyRecord[] {
    return [...this.#records.values()].filter((r) => purpose === undefined || r.purpose === purpose);
  }

  /**
   * The token signers whose record is in `state`, in policy order (newest first within one algorithm); retired ones
   * only while published (`notAfter` ahead). Only active ones (and retired ones within the grace) can actually sign.
   */
  signersIn(purpose: KeyPurpose, state: 'active' | 'next' | 'retired'): Pkcs11Signer[] {
    const now = this.#now().getTime();
    return this.tokens
      .activeSigners(purpose)
      .filter((s) => {
        const r = this.#records.get(s.kid);
        return r?.state === state && (state !== 'retired' || (r.notAfter?.getTime() ?? 0) > now);
      })
      .map((s, index) => ({ s, index, at: stamp(this.#records.get(s.kid)!) }))
      .sort((a, b) => (a.s.alg === b.s.alg ? b.at - a.at : a.index - b.index))
      .map(({ s }) => s);
  }

  activeSigner(purpose: KeyPurpose, alg?: AlgorithmName): Pkcs11Signer {
    const signer = this.activeSigners(purpose).find((candidate) => alg === undefined || candidate.alg === alg);
    if (signer) return signer;
    throw new HsmError('HSM_KEY_NOT_FOUND', 'no active key for this purpose', {
      detail: `purpose=${purpose} alg=${alg ?? '*'}`,
    });
  }

  /** Active signers of a purpose in policy order; within one algorithm, the most recently activated first. */
  activeSigners(purpose: KeyPurpose): Pkcs11Signer[] {
    return this.signersIn(purpose, 'active');
  }

  /** Retired keys still inside their publication window (verify-only; oidc-provider checks `id_token_hint`). */
  retiredSigners(purpose: KeyPurpose): Pkcs11Signer[] {
    return this.signersIn(purpose, 'retired');
  }

  /** Active, next, then retired-but-not-expired public keys of a purpose: state from the records, keys from the token (publication.ts). */
  publishable(purpose: KeyPurpose): JsonWebKeyPublic[] {
    const held = new Map(this.tokens.signers().map((s) => [s.kid, s]));
    const rank = (alg: AlgorithmName) => this.tokens.algorithmRank(purpose, alg);
    return publishedKeys(this.records(purpose), held, this.#now().getTime(), rank, this.#publishInProcess);
  }

  /**
   * Generates a key pair in the token and records it as `next` (published at once) or `pending`.
   *
   * @throws HsmError `HSM_ALG_UNKNOWN` (also for an acknowledged in-process row: `PqKeys.generate`),
   * `HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`, `HSM_KEYGEN_FAILED`, `HSM_RECORDS_FAILED`
   */
  async generate(
    purpose: KeyPurpose,
    alg: AlgorithmName,
    options: { state?: 'pending' | 'next' | 'active'; acknowledgeExperimental?: boolean } = {},
  ): Promise<KeyRecord> {
    assertAcknowledged(algorithm(alg), options.acknowledgeExperimental === true);
    tokenAlgorithm(alg);
    // marked as under way from before the key is in the token until its record is: an instance opening meanwhile
    // does not take a key of a purpose and algorithm nobody has yet for an `init` key and make it active
    const record = await this.#repo.whileGenerating(this.tokens.token.label, purpose, alg, async () => {
      const signer = await this.tokens.generate(purpose, alg);
      const made = newRecord(signer, this.tokens.token.label, options.state ?? 'next', this.#now());
      try {
        await this.#repo.insert([made], {
          action: 'generate',
          kid: made.kid,
          actor: this.#actor,
          detail: { purpose, alg, state: made.state, label: keyLabel(purpose, alg, signer.ckaId) },
        });
      } catch (error) {
        await forgetUnrecorded(this.#repo, this.tokens, made.kid);
        throw error;
      }
      return made;
    });
    await this.refresh(true);
    return this.record(record.kid);
  }

  /** pending → next (published from now on). */
  async publish(kid: string): Promise<KeyRecord> {
    return this.#apply('publish', [{ kid, from: this.record(kid).state, to: 'next', at: this.#now() }]);
  }

  /**
   * next → active. The keys it replaces (default: the active keys of the same purpose and algorithm)
   * become retired, published until now + `retentionMs`.
   *
   * @throws HsmError `HSM_LIFECYCLE_STATE`, `HSM_LIFECYCLE_TOO_EARLY` (lead time not elapsed, unless `force`),
   * `HSM_KEY_NOT_FOUND` (a token key no longer on the token),
   * `HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED` (an experimental row without `acknowledgeExperimental`)
   */
  async activate(
    kid: string,
    options: { replaces?: readonly string[]; force?: boolean; acknowledgeExperimental?: boolean } = {},
  ): Promise<KeyRecord> {
    const record = this.record(kid);
    assertAcknowledged(algorithm(record.alg), options.acknowledgeExperimental === true);
    checkTransition(kid, record.state, 'active');
    // a key whose destruction reached the token but not its record (that update failed) still reads `next`:
    // activated, nothing could sign for its purpose and algorithm
    if (algorithm(record.alg).custody === 'token' && !this.tokens.signers().some((s) => s.kid === kid))
      throw new HsmError('HSM_KEY_NOT_FOUND', 'the key is no longer on the token: destroy its record', {
        detail: `kid=${kid}`,
      });
    const at = this.#now();
    const publishedFor = at.getTime() - (record.publishedAt?.getTime() ?? at.getTime());
    if (!options.force && publishedFor < this.times.leadTimeMs) {
      throw new HsmError('HSM_LIFECYCLE_TOO_EARLY', 'the next key has not been published for the lead time yet', {
        detail: `kid=${kid} publishedMs=${publishedFor} leadMs=${this.times.leadTimeMs}`,
      });
    }
    const replaced =
      options.replaces ??
      this.records(record.purpose)
        .filter((r) => r.state === 'active' && r.alg === record.alg)
        .map((r) => r.kid);
    const notAfter = new Date(at.getTime() + this.times.retentionMs);
    return this.#apply(
      'activate',
      [
        { kid, from: 'next', to: 'active', at },
        ...replaced.map((old): Transition => ({ kid: old, from: 'active', to: 'retired', at, notAfter })),
      ],
      { force: Boolean(options.force), replaces: replaced },
    );
  }

  /** active → retired, published until `notAfter` (default now + `retentionMs`). */
  async retire(kid: string, options: { notAfter?: Date } = {}): Promise<KeyRecord> {
    const at = this.#now();
    return this.#apply('retire', [
      {
        kid,
        from: 'active',
        to: 'retired',
        at,
        notAfter: options.notAfter ?? new Date(at.getTime() + this.times.retentionMs),
      },
    ]);
  }

  /**
   * Destroys the key in the token, then records it `destroyed`. A retired key only after its `notAfter`
   * unless `force` (compromise); pending and next keys (abandoned ceremony) at any time.
   *
   * @throws HsmError `HSM_LIFECYCLE_STATE`, `HSM_LIFECYCLE_TOO_EARLY`
   */
  async destroy(kid: string, options: { force?: boolean } = {}): Promise<KeyRecord> {
    // the records as they are now (a CLI's confirmation may have waited while the scheduler activated this key)
    await this.refresh(true);
    const record = this.record(kid);
    checkTransition(kid, record.state, 'destroyed');
    const at = this.#now();
    if (record.state === 'retired' && !options.force && (record.notAfter?.getTime() ?? Infinity) > at.getTime()) {
      throw new HsmError('HSM_LIFECYCLE_TOO_EARLY', 'a retired key is destroyed only after notAfter', {
        detail: `kid=${kid} notAfter=${record.notAfter?.toISOString()}`,
      });
    }
    // the token first: a record saying `destroyed` while the key is still on the token (the destruction failed, or
    // the process died in between) would never be destroyed again, and one update of its state would let it sign.
    // Destroyed on the token and the record not yet moved (that failing): the next destroy moves the record.
    if (this.tokens.signers().some((s) => s.kid === kid)) await this.tokens.destroyKey(kid);
    return this.#apply('destroy', [{ kid, from: record.state, to: 'destroyed', at }], {
      force: Boolean(options.force),
    });
  }

  async #apply(action: string, transitions: Transition[], detail: Record<string, unknown> = {}): Promise<KeyRecord> {
    for (const t of transitions) applyTransition(this.record(t.kid), t);
    await this.#repo.transition(transitions, { action, kid: transitions[0]!.kid, actor: this.#actor, detail });
    await this.refresh(true);
    return this.record(transitions[0]!.kid);
  }

  /**
   * The certificate of `kid`: the stored one, or `make()`'s, stored so that every instance (and the SAML
   * metadata the IdPs fetched from any of them) shows the same certificate. First writer wins. A `next` key
   * may sign while `make()` runs (its self-signed certificate is published before it signs anything).
   */
  async certificate(kid: string, make: () => Promise<string>): Promise<string> {
    const known = this.record(kid).certificatePem;
    // a stored certificate is believed only when it certifies the token's key of this kid: one the database alone
    // put there (another key's) is made again, and that one stored in its place
    if (known && this.#certifiesTokenKey(kid, known)) return known;
    // a `next` key may sign its own certificate here (and nothing else): it is published before it signs;
    // only what `make()` itself signs, not another caller's signature made while it runs
    const made = await this.#certifying.run(kid, make);
    const stored = await this.#repo.setCertificate(kid, made, known ?? undefined);
    const kept = this.#certifiesTokenKey(kid, stored) ? stored : made;
    this.#records.set(kid, { ...this.record(kid), certificatePem: kept });
    return kept;
  }

  /** Whether `pem` certifies the public key the token holds under `kid`. */
  #certifiesTokenKey(kid: string, pem: string): boolean {
    const signer = this.tokens.signers().find((s) => s.kid === kid);
    return signer !== undefined && certifiesKey(pem, signer.publicJwk);
  }

  /** Appends an audit event (e.g. a public-key export) to the ceremony trail. */
  audit(action: string, kid: string | null, detail?: Record<string, unknown>): Promise<void> {
    return this.#repo.audit({ action, kid, actor: this.#actor, detail });
  }

  /** Closes the token (the record repository's pool belongs to the caller). */
  close(): Promise<void> {
    return this.tokens.close();
  }
}
