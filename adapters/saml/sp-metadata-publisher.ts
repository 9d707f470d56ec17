/**
 * Our SP metadata as served: signed in the HSM, and signed again on a schedule well before it expires, so
 * an IdP that fetches it every `cacheDuration` never holds an expired document — without a restart.
 *
 * - The document is re-signed when it is older than the re-sign interval, min(5 min, cacheDuration / 2),
 *   or when the signing key changed; concurrent readers share one signature (the route is public: one
 *   HSM signature per request would let anyone load the token). A timer re-signs even when nobody reads.
 * - So a served document always has at least `validity − interval` left (≥ 1.5 × cacheDuration, since
 *   validity ≥ 2 × cacheDuration).
 * - A failed re-signing keeps serving the previous document while it is still valid (reported as a
 *   `resign_failed` event; retried at most every 30 s); an expired document is never served (the error
 *   is thrown).
 * - `expiring` is reported when the current document has less than `expiryWarningSeconds` left (which
 *   happens only when re-signing keeps failing).
 * - With `keys`, the signing certificates published are read again at each re-signing, and a change of the
 *   key set (a key generated as `next`, activated, retired) makes the document due at once: every `saml` key
 *   we may sign with (RSA or ECDSA, active or next) is in the document IdPs fetch, without a restart, and the
 *   signer's own certificate is the KeyInfo of a rotated metadata signer.
 */
import type { Signer } from '../../hsm/signer.ts';
import type { SamlSpConfig } from './config.ts';
import { signedSpMetadata, validateSpMetadataTimes, type SpMetadataTimes } from './sp-metadata.ts';

export type SpMetadataEvent =
  { type: 'resign_failed'; error: string } | { type: 'expiring'; validUntil: string; remainingSeconds: number };

export interface SpMetadataDocument {
  xml: string;
  kid: string;
  /** The key set it publishes (`keys.version()`; '' without `keys`). */
  keySet: string;
  signedAt: number;
  validUntil: number;
}

export interface SpMetadataPublisherOptions {
  /** The SP description as published (its KeyInfo certificate is the signer's). */
  sp: SamlSpConfig;
  /** The key that signs the metadata now (looked up at each re-signing: a rotation is followed). */
  signer: () => Signer;
  /**
   * The signing keys to publish now: `version()` names the set (a change makes the document due), `describe`
   * gives the SP description for a signer (its certificate first, every other key's after). Absent: `sp` as given.
   */
  keys?: { version: () => string; describe: (signer: Signer) => Promise<SamlSpConfig> };
  times: SpMetadataTimes;
  /** Report `expiring` below this many seconds left. */
  expiryWarningSeconds: number;
  now: () => Date;
  onEvent: (event: SpMetadataEvent) => void;
}

/** After a failed re-signing, readers get the previous (still valid) document for this long before a retry. */
const RETRY_AFTER_FAILURE_MS = 30_000;

/** How often the document is signed again, in milliseconds. */
export function resignIntervalMs(times: SpMetadataTimes): number {
  return Math.min(300, Math.floor(times.cacheDurationSeconds / 2)) * 1000;
}

export class SpMetadataPublisher {
  readonly #options: SpMetadataPublisherOptions;
  readonly #intervalMs: number;
  #current: SpMetadataDocument | undefined;
  #pending: Promise<SpMetadataDocument> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the last re-signing failed: readers are not allowed to hammer a failing token. */
  #failedAt = -Infinity;

  constructor(options: SpMetadataPublisherOptions) {
    this.#options = { ...options, times: validateSpMetadataTimes(options.times) };
    this.#intervalMs = resignIntervalMs(this.#options.times);
  }

  /** Seconds a served document may be cached by HTTP clients (the re-sign interval). */
  get maxAgeSeconds(): number {
    return this.#intervalMs / 1000;
  }

  /** The validUntil of the document served now (for the expiry gauge), if one was signed. */
  validUntil(): Date | undefined {
    return this.#current ? new Date(this.#current.validUntil) : undefined;
  }

  /** The document to serve now, signed again first when it is due. */
  async document(): Promise<SpMetadataDocument> {
    const now = this.#options.now().getTime();
    const current = this.#current;
    const due =
      !current ||
      current.kid !== this.#options.signer().kid ||
      current.keySet !== (this.#options.keys?.version() ?? '') ||
      now - current.signedAt >= this.#intervalMs;
    if (!due) return current;
    if (current && current.validUntil > now && now - this.#failedAt < RETRY_AFTER_FAILURE_MS) return current;
    try {
      return await this.#resign();
    } catch (error) {
      this.#failedAt = now;
      this.#options.onEvent({ type: 'resign_failed', error: error instanceof Error ? error.message : String(error) });
      if (current && current.validUntil > now) {
        this.#warnIfExpiring(current, now);
        return current;
      }
      throw error;
    }
  }

  /** Re-signs on the interval even when nobody reads. */
  start(): void {
    this.stop();
    this.#timer = setInterval(() => void this.document().catch(() => undefined), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #resign(): Promise<SpMetadataDocument> {
    this.#pending ??= (async () => {
      try {
        const signer = this.#options.signer();
        const now = this.#options.now();
        const keySet = this.#options.keys?.version() ?? '';
        const sp = this.#options.keys ? await this.#options.keys.describe(signer) : this.#options.sp;
        const xml = await signedSpMetadata(sp, signer, now, { times: this.#options.times });
        const document = {
          xml,
          kid: signer.kid,
          keySet,
          signedAt: now.getTime(),
          validUntil: now.getTime() + this.#options.times.validitySeconds * 1000,
        };
        this.#current = document;
        this.#warnIfExpiring(document, now.getTime());
        return document;
      } finally {
        this.#pending = undefined;
      }
    })();
    return this.#pending;
  }

  #warnIfExpiring(document: SpMetadataDocument, now: number): void {
    const remainingSeconds = Math.floor((document.validUntil - now) / 1000);
    if (remainingSeconds < this.#options.expiryWarningSeconds) {
      this.#options.onEvent({
        type: 'expiring',
        validUntil: new Date(document.validUntil).toISOString(),
        remainingSeconds,
      });
    }
  }
}
