/**
 * Shared/exclusive lock over one token's object store, within this process.
 *
 * Why: SoftHSM 2.6.1 (Debian's, what tests and the demo run) protects its file object store with `fcntl`
 * locks, which are per process: they keep other processes out, never another thread of ours. While one
 * thread creates a token object (`C_GenerateKey*` writes the new `.object` file several times: truncate,
 * then write), another thread's `C_FindObjectsInit` re-reads every token object; reading the half-written
 * file marks the object invalid, and the creating call fails with `CKR_GENERAL_ERROR` (SoftHSMv2 issue
 * #573, fixed in 2.7.0 only in part). So operations that create or destroy token objects run alone;
 * every other operation (signing, searching, reading attributes) shares the token as before.
 *
 * - Writer preference: once a writer waits, new shared users queue behind it (a key rotation is not
 *   starved by a stream of signatures).
 */
export class ObjectStoreLock {
  #shared = 0;
  #exclusive = false;
  readonly #waiting: { exclusive: boolean; grant: () => void }[] = [];

  /** Runs `operation` alongside other shared users, never alongside an exclusive one. */
  shared<T>(operation: () => Promise<T>): Promise<T> {
    return this.#with(false, operation);
  }

  /** Runs `operation` alone: no shared or exclusive user runs meanwhile. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    return this.#with(true, operation);
  }

  /**
   * When the lock is free, `operation` starts synchronously (no microtask hop): a signature enters the session
   * pool's queue in the caller's turn, so the pool's queue depth — what HSM shedding and `/ready` read — is
   * current at once, as it was before this lock existed.
   */
  #with<T>(exclusive: boolean, operation: () => Promise<T>): Promise<T> {
    if (this.#waiting.length === 0 && this.#grantable(exclusive)) {
      this.#take(exclusive);
      return this.#held(exclusive, operation);
    }
    return new Promise<void>((grant) => this.#waiting.push({ exclusive, grant })).then(() =>
      this.#held(exclusive, operation),
    );
  }

  async #held<T>(exclusive: boolean, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } finally {
      this.#release(exclusive);
    }
  }

  #grantable(exclusive: boolean): boolean {
    return exclusive ? !this.#exclusive && this.#shared === 0 : !this.#exclusive;
  }

  #take(exclusive: boolean): void {
    if (exclusive) this.#exclusive = true;
    else this.#shared += 1;
  }

  #release(exclusive: boolean): void {
    if (exclusive) this.#exclusive = false;
    else this.#shared -= 1;
    while (this.#waiting.length > 0 && this.#grantable(this.#waiting[0].exclusive)) {
      const next = this.#waiting.shift();
      if (!next) break;
      this.#take(next.exclusive);
      next.grant();
      if (next.exclusive) break;
    }
  }
}
