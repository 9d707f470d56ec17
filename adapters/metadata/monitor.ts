/**
 * The metadata lifecycle as a monitored subsystem: one entry per IdP, refreshed on a schedule
 * (`schedule.ts`), each with a visible status.
 *
 * - A refresh fetches the source (documents of one source are shared by every IdP of that aggregate
 *   within a round), verifies it (`document.ts`) and, on success, swaps the IdP's metadata in place: a
 *   key rollover published by the IdP is used by the next login, without restart.
 * - A failed refresh keeps the last good metadata while it is still valid (the IdP stays available,
 *   the error is visible); once the metadata's validUntil has passed, or when none was ever valid,
 *   the IdP is `unavailable`: the chooser hides it and its responses are refused. Other IdPs are
 *   untouched. Expiry is evaluated at every read, not only at refresh time.
 * - Every availability change and every failure is reported through `onEvent` (the gateway logs it and
 *   counts it); `status()` is what the admin CLI and /ready show.
 * - The alarm before expiry: `expiring` is reported when the metadata held enters its IdP's
 *   `expiryWarningSeconds` horizon (a timer at that moment, and after every failed refresh inside it).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { samlError } from '../saml/errors.ts';
import { keyStrengthProblem, type KeyStrengthRule } from '../saml/key-strength.ts';
import { AdapterError, type IdpAvailability } from '../contract.ts';
import type { IdpMetadata } from '../saml/idp-metadata.ts';
import { readMetadataEntity } from './document.ts';
import type { MetadataHandle } from '../saml/metadata-handle.ts';
import { nextDelayMs, type SchedulePolicy } from './schedule.ts';
import { fetchMetadata, sourceKey, type MetadataSource } from './source.ts';

export interface MonitoredIdp {
  id: string;
  source: MetadataSource;
  /** Which entity of the document (required for aggregates). */
  entityId?: string;
  trustAnchors: readonly string[];
  requireValidUntil: boolean;
  policy: SchedulePolicy;
  /** Minimum strength of the IdP's signing keys (adapters/saml/key-strength.ts); weaker keys are never trusted. */
  keyRule: KeyStrengthRule;
  /**
   * The signature methods a signed document may use (an eIDAS node's: RSASSA-PSS and ECDSA only, as its Responses);
   * absent: the adapters' default list.
   */
  signatureAlgorithms?: readonly string[];
  /** Report `expiring` when the metadata held has less than this many seconds left; absent: never. */
  expiryWarningSeconds?: number;
}

export interface IdpStatus {
  id: string;
  entityId: string | undefined;
  source: string;
  availability: IdpAvailability;
  lastAttempt?: string;
  lastSuccess?: string;
  validUntil?: string;
  nextRefresh?: string;
  consecutiveFailures: number;
  lastError?: { code: string; detail?: string; at: string };
  /** SHA-256 fingerprints (hex) of the signing certificates in use. */
  keyFingerprints: string[];
}

export type MetadataEvent =
  | { type: 'refreshed'; idp: string; keysChanged: boolean }
  | { type: 'refresh_failed'; idp: string; code: string; detail?: string }
  | { type: 'availability'; idp: string; availability: IdpAvailability }
  | { type: 'weak_keys'; idp: string; keys: string[] }
  | { type: 'expiring'; idp: string; validUntil: string; remainingSeconds: number };

/** How many replaced documents per IdP are remembered (in process) to refuse their replay. */
const SUPERSEDED_KEPT = 64;

/**
 * Where replaced issues are remembered beyond this process (the gateway: Redis, shared by every instance), so that a
 * restarted or newly started instance refuses an older issue replayed too. A failure of it fails the refresh (the
 * last good metadata is kept while valid): a replay is never let through for want of an answer.
 */
export interface SupersededIssues {
  has(idp: string, digest: string): Promise<boolean>;
  /** Remembers `digest` as replaced, for `ttlSeconds` (as long as the replaced issue could still be replayed). */
  add(idp: string, digest: string, ttlSeconds: number): Promise<void>;
}

/** How long a replaced issue without validUntil is remembered as replaced. */
const SUPERSEDED_WITHOUT_VALID_UNTIL_SECONDS = 365 * 86_400;

interface Entry {
  config: MonitoredIdp;
  /** Digest of the document held now (of its signed content when signed), and of those it replaced (newest first). */
  digest?: string;
  /** The held document's validUntil, kept with its digest: how long it stays replayable once replaced. */
  digestValidUntil?: number;
  superseded: string[];
  metadata?: IdpMetadata;
  validUntil?: number;
  disabled: boolean;
  status: Omit<IdpStatus, 'availability' | 'keyFingerprints' | 'validUntil' | 'entityId' | 'id' | 'source'>;
  timer?: NodeJS.Timeout;
  /** Fires when the metadata held enters its expiry-warning horizon (re-armed at each refresh). */
  expiryTimer?: NodeJS.Timeout;
  reported: IdpAvailability;
}

export class MetadataMonitor {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #onEvent: (event: MetadataEvent) => void;
  readonly #superseded: SupersededIssues | undefined;
  /** Documents fetched during the current `start()` round, by source (aggregates are fetched once). */
  #round: Map<string, Promise<string>> | undefined;
  #running = false;

  constructor(
    options: {
      now?: () => Date;
      random?: () => number;
      onEvent?: (event: MetadataEvent) => void;
      superseded?: SupersededIssues;
    } = {},
  ) {
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#superseded = options.superseded;
  }

  /** Adds an IdP (not fetched yet: call `refresh`); returns the handle its adapter reads. */
  register(config: MonitoredIdp): MetadataHandle {
    if (this.#entries.has(config.id))
      throw new AdapterError('ADAPTER_DUPLICATE', 'IdP registered twice.', { detail: config.id });
    // a trust anchor is held to the key rule of the keys it vouches for: a weaker one would be the weakest link
    for (const pem of config.trustAnchors) {
      const problem = keyStrengthProblem(pem, config.keyRule);
      if (problem !== undefined)
        throw samlError('SAML_METADATA_KEY_TOO_WEAK', {
          detail: `${config.id}: trust anchor ${fingerprintOf(pem).slice(0, 16)}: ${problem}`,
        });
    }
    const entry: Entry = {
      config,
      disabled: false,
      status: { consecutiveFailures: 0 },
      reported: 'unavailable',
      superseded: [],
    };
    this.#entries.set(config.id, entry);
    return { current: () => this.#current(entry), availability: () => this.#availability(entry) };
  }

  /** Fetches and verifies one IdP's metadata now. Never throws: the outcome is in the status. */
  async refresh(id: string): Promise<IdpStatus> {
    const entry = this.#entry(id);
    const now = this.#now();
    entry.status.lastAttempt = now.toISOString();
    try {
      const xml = await this.#document(entry.config.source);
      const read = readMetadataEntity(xml, entry.config.entityId, {
        trustAnchors: entry.config.trustAnchors,
        requireValidUntil: entry.config.requireValidUntil,
        now,
        ...(entry.config.signatureAlgorithms ? { signatureAlgorithms: entry.config.signatureAlgorithms } : {}),
      });
      // Rollback: a signed document we (or another instance) held before and have since replaced is an older issue
      // replayed; it would resurrect keys the IdP has rolled over (validUntil alone cannot tell: an IdP may shorten
      // it). Known by what its signature covers, canonicalised: a byte added outside it makes no new issue.
      const digest = read.signedDigest ?? createHash('sha256').update(xml).digest('hex');
      if (
        entry.config.trustAnchors.length > 0 &&
        digest !== entry.digest &&
        (entry.superseded.includes(digest) || (await this.#superseded?.has(entry.config.id, digest)))
      ) {
        throw samlError('SAML_METADATA_ROLLBACK', {
          detail: `document ${digest.slice(0, 16)} was held before and replaced: an older issue replayed`,
        });
      }
      // the entity is pinned to the one held: a document naming another (signed by the same anchor) is no new
      // issue of this IdP's, whatever the source serves
      if (entry.metadata !== undefined && read.metadata.entityId !== entry.metadata.entityId)
        throw samlError('SAML_METADATA_ENTITY_CHANGED', {
          detail: `the document names ${read.metadata.entityId}, not ${entry.metadata.entityId}`,
        });
      const metadata = withStrongKeys(read.metadata, entry.config.keyRule);
      if (metadata.weakSigningCertificates?.length) {
        this.#onEvent({
          type: 'weak_keys',
          idp: id,
          keys: metadata.weakSigningCertificates.map((w) => `${fingerprintOf(w.pem).slice(0, 16)}: ${w.problem}`),
        });
      }
      const keysChanged =
        entry.metadata !== undefined && fingerprints(entry.metadata).join() !== fingerprints(metadata).join();
      if (entry.digest !== undefined && entry.digest !== digest) {
        if (entry.config.trustAnchors.length > 0 && this.#superseded) {
          const left =
            entry.digestValidUntil === undefined ? undefined : (entry.digestValidUntil - now.getTime()) / 1000;
          const ttl = Math.ceil(left ?? SUPERSEDED_WITHOUT_VALID_UNTIL_SECONDS);
          if (ttl > 0) await this.#superseded.add(entry.config.id, entry.digest, ttl);
        }
        entry.superseded = [entry.digest, ...entry.superseded].slice(0, SUPERSEDED_KEPT);
      }
      entry.digest = digest;
      entry.digestValidUntil = read.validUntil;
      entry.metadata = metadata;
      entry.validUntil = read.validUntil;
      entry.status.lastSuccess = now.toISOString();
      entry.status.consecutiveFailures = 0;
      delete entry.status.lastError;
      this.#onEvent({ type: 'refreshed', idp: id, keysChanged });
      this.#armExpiryWarning(entry);
      this.#schedule(
        entry,
        nextDelayMs(
          entry.config.policy,
          { ok: true, now: now.getTime(), cacheDurationMs: read.cacheDurationMs, validUntil: read.validUntil },
          this.#random,
        ),
      );
    } catch (error) {
      const code = error instanceof AdapterError ? error.code : 'SAML_INTERNAL_ERROR';
      const detail = error instanceof AdapterError ? error.detail : String(error);
      entry.status.consecutiveFailures += 1;
      entry.status.lastError = { code, ...(detail === undefined ? {} : { detail }), at: now.toISOString() };
      this.#onEvent({ type: 'refresh_failed', idp: id, code, ...(detail === undefined ? {} : { detail }) });
      this.#schedule(
        entry,
        nextDelayMs(entry.config.policy, { ok: false, failures: entry.status.consecutiveFailures }, this.#random),
      );
    }
    if (entry.status.consecutiveFailures > 0) this.#warnIfExpiring(entry);
    this.#availability(entry);
    return this.#statusOf(entry);
  }

  /** Refreshes every IdP once (one fetch per source), then starts the schedule. */
  async start(): Promise<void> {
    this.#running = true;
    this.#round = new Map();
    try {
      await Promise.all([...this.#entries.keys()].map((id) => this.refresh(id)));
    } finally {
      this.#round = undefined;
    }
  }

  /** Stops every timer. */
  stop(): void {
    this.#running = false;
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.timer);
      clearTimeout(entry.expiryTimer);
    }
  }

  disable(id: string): void {
    this.#entry(id).disabled = true;
    this.#availability(this.#entry(id));
  }

  enable(id: string): void {
    this.#entry(id).disabled = false;
    this.#availability(this.#entry(id));
  }

  /** The status of one IdP, or of all. */
  status(): IdpStatus[] {
    return [...this.#entries.values()].map((entry) => this.#statusOf(entry));
  }

  #entry(id: string): Entry {
    const entry = this.#entries.get(id);
    if (!entry) throw new AdapterError('ADAPTER_UNKNOWN', 'Unknown identity provider.', { detail: id });
    return entry;
  }

  #document(source: MetadataSource): Promise<string> {
    if (!this.#round) return fetchMetadata(source);
    const key = sourceKey(source);
    let pending = this.#round.get(key);
    if (!pending) {
      pending = fetchMetadata(source);
      this.#round.set(key, pending);
    }
    return pending;
  }

  #current(entry: Entry): IdpMetadata | undefined {
    if (!entry.metadata) return undefined;
    if (entry.validUntil !== undefined && entry.validUntil <= this.#now().getTime()) return undefined;
    return entry.metadata;
  }

  #availability(entry: Entry): IdpAvailability {
    const availability: IdpAvailability = entry.disabled
      ? 'disabled'
      : this.#current(entry)
        ? 'available'
        : 'unavailable';
    if (availability !== entry.reported) {
      entry.reported = availability;
      this.#onEvent({ type: 'availability', idp: entry.config.id, availability });
    }
    return availability;
  }

  #schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.status.nextRefresh = new Date(this.#now().getTime() + delayMs).toISOString();
    if (!this.#running) return;
    entry.timer = setTimeout(() => void this.refresh(entry.config.id), delayMs);
    entry.timer.unref();
  }

  /**
   * The alarm before expiry: `expiring` now when the metadata held is already within the horizon, else a
   * timer at the horizon (a successful refresh before then re-arms it for the new validUntil).
   */
  #armExpiryWarning(entry: Entry): void {
    clearTimeout(entry.expiryTimer);
    const horizon = entry.config.expiryWarningSeconds;
    if (horizon === undefined || entry.validUntil === undefined) return;
    const delay = entry.validUntil - horizon * 1000 - this.#now().getTime();
    if (delay <= 0) return this.#warnIfExpiring(entry);
    // beyond setTimeout's range (~24.8 days) a later refresh re-arms it
    if (!this.#running || delay > 2 ** 31 - 1) return;
    entry.expiryTimer = setTimeout(() => this.#warnIfExpiring(entry), delay);
    entry.expiryTimer.unref();
  }

  #warnIfExpiring(entry: Entry): void {
    const horizon = entry.config.expiryWarningSeconds;
    if (horizon === undefined || entry.validUntil === undefined || entry.disabled) return;
    const remainingSeconds = Math.floor((entry.validUntil - this.#now().getTime()) / 1000);
    if (remainingSeconds > 0 && remainingSeconds < horizon) {
      this.#onEvent({
        type: 'expiring',
        idp: entry.config.id,
        validUntil: new Date(entry.validUntil).toISOString(),
        remainingSeconds,
      });
    }
  }

  #statusOf(entry: Entry): IdpStatus {
    return {
      id: entry.config.id,
      entityId: entry.metadata?.entityId ?? entry.config.entityId,
      source: sourceKey(entry.config.source),
      availability: this.#availability(entry),
      ...entry.status,
      ...(entry.validUntil === undefined ? {} : { validUntil: new Date(entry.validUntil).toISOString() }),
      keyFingerprints: entry.metadata ? fingerprints(entry.metadata) : [],
    };
  }
}

function fingerprints(metadata: IdpMetadata): string[] {
  return metadata.signingCertificates.map(fingerprintOf).sort();
}

function fingerprintOf(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/**
 * Keeps only the signing keys strong enough for the IdP's kind; the others are set aside (named in the
 * event and refused with their own code if a message is signed with them). No usable key left →
 * `SAML_METADATA_KEY_TOO_WEAK`, naming each key and the rule.
 */
function withStrongKeys(metadata: IdpMetadata, rule: KeyStrengthRule): IdpMetadata {
  const strong: string[] = [];
  const weak: { pem: string; problem: string }[] = [];
  for (const pem of metadata.signingCertificates) {
    const problem = keyStrengthProblem(pem, rule);
    if (problem === undefined) strong.push(pem);
    else weak.push({ pem, problem });
  }
  if (strong.length === 0) {
    throw samlError('SAML_METADATA_KEY_TOO_WEAK', {
      detail: weak.map((w) => `key ${fingerprintOf(w.pem).slice(0, 16)}: ${w.problem}`).join('; '),
    });
  }
  return { ...metadata, signingCertificates: strong, ...(weak.length > 0 ? { weakSigningCertificates: weak } : {}) };
}
