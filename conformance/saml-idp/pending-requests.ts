/**
 * Verified AuthnRequests waiting for the user to log in, in memory (the demo IdP is a remote party, not the gateway).
 *
 * - Keyed by the AuthnRequest ID; an entry lives 10 minutes and is consumed by a successful login.
 * - At most 10 000 entries: the oldest is dropped first.
 */
import type { VerifiedAuthnRequest } from './verify-authn-request.ts';

const ttlMs = 10 * 60 * 1000;
const maxEntries = 10_000;

/** A TTL map of pending AuthnRequests. */
export class PendingRequests {
  readonly #entries = new Map<string, { request: VerifiedAuthnRequest; expiresAt: number }>();

  /** Remembers a verified request (replacing one with the same ID). */
  put(request: VerifiedAuthnRequest): void {
    this.#entries.delete(request.id);
    this.#entries.set(request.id, { request, expiresAt: Date.now() + ttlMs });
    while (this.#entries.size > maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** The live request with this ID, if any. */
  get(id: string): VerifiedAuthnRequest | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.request;
  }

  /** Forgets a request (after a successful login). */
  consume(id: string): void {
    this.#entries.delete(id);
  }
}
