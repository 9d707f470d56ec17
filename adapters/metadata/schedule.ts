/**
 * When to fetch an IdP's metadata again (a pure function, so it is tested without clocks):
 *
 * - After a success: the document's `cacheDuration`, else the configured refresh interval; never later
 *   than half-way to `validUntil` (so a failing source has time to recover before expiry); clamped to
 *   [minSeconds, refreshSeconds]; jittered by ±10 % so many gateways do not fetch in step.
 * - After a failure: exponential backoff from `minSeconds` (×2 per consecutive failure) up to
 *   `maxBackoffSeconds`, with "equal jitter" (between half and all of it).
 */
export interface SchedulePolicy {
  refreshSeconds: number;
  minSeconds: number;
  maxBackoffSeconds: number;
}

/**
 * Milliseconds until the next fetch.
 *
 * @example
 * nextDelayMs(policy, { ok: true, now, cacheDurationMs: 3_600_000 }, Math.random);
 */
export function nextDelayMs(
  policy: SchedulePolicy,
  outcome: { ok: true; now: number; cacheDurationMs?: number; validUntil?: number } | { ok: false; failures: number },
  random: () => number,
): number {
  const min = policy.minSeconds * 1000;
  if (!outcome.ok) {
    const ceiling = Math.min(policy.maxBackoffSeconds * 1000, min * 2 ** Math.max(0, outcome.failures - 1));
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  }
  let delay = outcome.cacheDurationMs ?? policy.refreshSeconds * 1000;
  if (outcome.validUntil !== undefined) delay = Math.min(delay, (outcome.validUntil - outcome.now) / 2);
  delay = Math.max(min, Math.min(policy.refreshSeconds * 1000, delay));
  return Math.round(delay * (0.9 + random() * 0.2));
}
