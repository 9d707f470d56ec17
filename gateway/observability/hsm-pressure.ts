/**
 * How hard the HSM is pressed (issue #15), read from the token's session pool (`hsm/pkcs11/session-pool.ts`):
 *
 * - gauges: `gateway_hsm_queue_depth` (signatures waiting for a session), `gateway_hsm_sessions_busy`,
 *   `gateway_hsm_session_lost` (1 while a session could not be reopened: device error, token gone);
 * - `saturated()`: more than `hsm.shedQueueDepth` signatures waiting. The rate-limit middleware then sheds new
 *   logins (503 `HSM_BUSY` + Retry-After) and `/ready` answers not ready; logins in flight go on, bounded by
 *   the pool's own `maxWaiting` / `acquireTimeoutMs` (beyond them: `HSM_BUSY`, a 503, never a 500).
 *
 * No signature is ever made outside the HSM to get through a saturation: the product brief's "switch to local
 * ephemeral keys" is refused (a key born in process memory is a key an intruder can copy, RPs would have to
 * trust a key no ceremony made, and the audit could no longer say every signature came from the token).
 */
import type { Registry } from 'prom-client';
import { declareGauge } from './metrics.ts';

/** What the pool reports (`Pkcs11Token.stats()`). */
export interface PoolStats {
  size: number;
  busy: number;
  waiting: number;
  sessionLost: boolean;
}

export class HsmPressure {
  readonly #stats: () => PoolStats;
  readonly #shedAbove: number;

  constructor(stats: () => PoolStats, shedQueueDepth: number, registry: Registry) {
    this.#stats = stats;
    this.#shedAbove = shedQueueDepth;
    const gauge = (name: string, help: string, aggregator: 'sum' | 'max', pick: (s: PoolStats) => number) =>
      declareGauge(registry, name, help, [], aggregator, (g) => g.set(pick(stats())));
    gauge('gateway_hsm_queue_depth', 'Signatures waiting for an HSM session', 'sum', (s) => s.waiting);
    gauge('gateway_hsm_sessions_busy', 'HSM sessions running an operation', 'sum', (s) => s.busy);
    gauge(
      'gateway_hsm_session_lost',
      '1 while an HSM session could not be reopened (device error, token gone)',
      'max',
      (s) => (s.sessionLost ? 1 : 0),
    );
  }

  /** Signatures waiting for a session now. */
  queueDepth(): number {
    return this.#stats().waiting;
  }

  /** More signatures waiting than `hsm.shedQueueDepth`: shed new logins, report not ready. */
  saturated(): boolean {
    return this.#stats().waiting > this.#shedAbove;
  }

  /** A session could not be reopened and none has been since. */
  sessionLost(): boolean {
    return this.#stats().sessionLost;
  }
}
