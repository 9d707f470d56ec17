/**
 * Waits for something a test cannot await directly (a pub/sub message, a background timer, a write-behind,
 * a re-warm, another process): the condition is polled until it holds or a generous wall-clock deadline
 * passes. The deadline is in time, not in a number of tries: on a loaded machine every try is slower, and
 * CI runs the suite once on 2 shared cores. A fixed sleep is never the way to wait for such a thing.
 *
 * {@link eventually} answers whether the condition held, so that the caller's assertion (with its own
 * message) fails clearly when it never did; an error the check throws ends the wait. {@link eventuallyOrThrow}
 * retries a check that throws (a server still starting) and throws what did not happen, with the last error.
 */

/** Long enough for a 10× slower machine than any developer's, short of AVA's own timeout (120 s). */
export const EVENTUALLY_MS = 30_000;
const INTERVAL_MS = 20;

/**
 * @example
 * t.true(await eventually(() => received.length === 1), 'the SET was delivered');
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number = EVENTUALLY_MS,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
}

/**
 * As {@link eventually}, but throws `what did not happen within N ms` (with the last error the check threw).
 *
 * @example
 * await eventuallyOrThrow(async () => (await redis.keys('gw:s2:*')).length > 0, 'Redis to be warmed again');
 */
export async function eventuallyOrThrow(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number = EVENTUALLY_MS,
): Promise<void> {
  let lastError: unknown;
  const held = await eventually(async () => {
    try {
      return await check();
    } catch (error) {
      lastError = error;
      return false;
    }
  }, timeoutMs);
  if (!held) {
    const cause = lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
    throw new Error(`${what} did not happen within ${timeoutMs} ms${cause}`);
  }
}
