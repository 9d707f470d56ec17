/**
 * Deliveries under way to RPs (back-channel logout, Shared Signals pushes), each ending with its audit record: the
 * gateway's `close()` waits for them (`drain`) before the audit log closes, so a delivery caught by a shutdown
 * between its retries still writes its outcome down instead of failing on a closed log.
 */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();

  /** Runs `work`, tracked until it settles; its result or failure is the caller's, unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const forget = () => this.#running.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves once every delivery under way has settled (each failure is its caller's, never thrown here). */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
