/**
 * Deliveries under way to RPs (back-channel logout, Shared Signals: from the first look at the session, through the
 * signing, to the audit record of the outcome), one registry for the gateway: its `close()` waits for them
 * (`drain`, bounded) after the session store has closed (no revocation starts a new one) and before the HSM and
 * the audit log close, so a delivery caught by a shutdown between its retries still writes its outcome down.
 */
/**
 * How long a close waits for deliveries under way: a delivery between its attempts gets its next one and its audit
 * record; one whose RP keeps timing out does not hold the stop (a stopping process has 10 s in all, gateway/main.ts,
 * and the servers, the session store and the audit log's close share them). What is left is named in the warning.
 */
export const DRAIN_DEADLINE_MS = 4_000;

export class InFlight {
  readonly #running = new Set<Promise<unknown>>();

  /** Runs `work`, tracked until it settles; its result or failure is the caller's, unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const forget = () => this.#running.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** How many deliveries are under way. */
  get size(): number {
    return this.#running.size;
  }

  /**
   * Resolves once every delivery under way has settled (each failure is its caller's, never thrown here), or at
   * `deadlineMs`, whichever comes first: answers how many were still under way then (their outcome may go
   * unaudited; the caller says so). A shutdown is not held for ever by an RP that answers slowly.
   */
  async drain(deadlineMs: number = DRAIN_DEADLINE_MS): Promise<number> {
    const deadline = Date.now() + deadlineMs;
    while (this.#running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#running]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return this.#running.size;
  }
}
