/**
 * The gateway side of the key lifecycle: keeps this instance's `LifecycleKeyStore` and per-client
 * algorithms in step with PostgreSQL, and rebuilds the Provider when they change.
 *
 * Convergence (every instance serves the same key set within a second):
 * - every change bumps `key_set_version` in PostgreSQL (the truth) and is announced on a Redis pub/sub
 *   channel; an instance reloads on the announcement (milliseconds);
 * - every instance also polls the version each `pollMs` (default 500 ms), so a lost message, a CLI
 *   change (which does not speak Redis) or a Redis outage still converges within a second;
 * - reloads are single-flight; a failing reload is retried at the next poll, and the Provider keeps serving
 *   the last good generation. PostgreSQL unreachable (a restart, a failover) is an outage, logged once: one
 *   warn when it begins (with the retry interval), one error if it outlasts `escalateAfterMs` (default 30 s:
 *   the key set may now be stale), one info when a reload succeeds again; any other failure is an error each time.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AlgorithmName } from '../../hsm/algorithms.ts';
import type { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { loadClientAlgorithms, storeClientAlgorithm } from './client-algs.ts';
import { isDatabaseUnavailable } from '../store/database-unavailable.ts';
import { closeRedis } from '../store/redis.ts';

export interface KeyLifecycleOptions {
  keys: LifecycleKeyStore;
  pool: Pool;
  redis: Redis;
  /** Pub/sub channel (include the deployment's Redis prefix). */
  channel: string;
  logger: Logger;
  /** Called after each reload that changed keys or client algorithms (rebuild the Provider here). */
  onChange: () => void;
  pollMs?: number;
  /** How long PostgreSQL may stay unreachable before the retries count as exhausted (logged as an error). */
  escalateAfterMs?: number;
  actor: string;
}

/** The default of `escalateAfterMs`: a PostgreSQL restart or failover takes seconds. */
export const RELOAD_ESCALATE_AFTER_MS = 30_000;

/** PostgreSQL unreachable: the error itself, or the cause the key record store wrapped (`HSM_RECORDS_FAILED`). */
function isOutage(error: unknown): boolean {
  return isDatabaseUnavailable(error) || (error instanceof Error && isDatabaseUnavailable(error.cause));
}

export class KeyLifecycle {
  readonly keys: LifecycleKeyStore;
  #clientAlgs: ReadonlyMap<string, AlgorithmName> = new Map();
  readonly #options: KeyLifecycleOptions;
  #subscriber: Redis | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<boolean> | undefined;
  #again = false;
  #closed = false;
  /** The outage under way: when its first failure was, how many polls failed, whether it was escalated. */
  #outage: { since: number; failures: number; escalated: boolean } | undefined;

  private constructor(options: KeyLifecycleOptions) {
    this.#options = options;
    this.keys = options.keys;
  }

  /** Loads the client algorithms, subscribes and starts polling. */
  static async start(options: KeyLifecycleOptions): Promise<KeyLifecycle> {
    const lifecycle = new KeyLifecycle(options);
    lifecycle.#clientAlgs = await loadClientAlgorithms(options.pool);
    options.keys.onChange(() => void lifecycle.#afterChange());
    const subscriber = options.redis.duplicate();
    lifecycle.#subscriber = subscriber;
    subscriber.on('message', () => void lifecycle.sync());
    subscriber.on('error', (error) => options.logger.warn({ err: error }, 'key lifecycle: pub/sub connection error'));
    await subscriber.subscribe(options.channel);
    lifecycle.#timer = setInterval(() => void lifecycle.sync(), options.pollMs ?? 500);
    lifecycle.#timer.unref();
    return lifecycle;
  }

  /** client_id → ID-token algorithm chosen at run time (overrides the configuration). */
  get clientAlgorithms(): ReadonlyMap<string, AlgorithmName> {
    return this.#clientAlgs;
  }

  /** Reloads if the persisted version moved; resolves true when something changed. Single-flight. */
  sync(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#inflight) {
      this.#again = true;
      return this.#inflight;
    }
    this.#inflight = this.#reload().finally(() => {
      this.#inflight = undefined;
      if (this.#again) {
        this.#again = false;
        void this.sync();
      }
    });
    return this.#inflight;
  }

  async #reload(): Promise<boolean> {
    try {
      const changed = await this.keys.refresh();
      this.#recovered();
      return changed;
    } catch (error) {
      if (isOutage(error)) this.#failedInOutage(error);
      else this.#options.logger.error({ err: error }, 'key lifecycle: reload failed; keeping the current key set');
      return false;
    }
  }

  #failedInOutage(error: unknown): void {
    const { logger, pollMs = 500, escalateAfterMs = RELOAD_ESCALATE_AFTER_MS } = this.#options;
    const now = Date.now();
    if (!this.#outage) {
      this.#outage = { since: now, failures: 1, escalated: false };
      logger.warn(
        { err: error, retryEveryMs: pollMs, escalateAfterMs },
        'key lifecycle: PostgreSQL unreachable, reload failed; keeping the current key set and retrying',
      );
      return;
    }
    this.#outage.failures += 1;
    if (this.#outage.escalated || now - this.#outage.since < escalateAfterMs) return;
    this.#outage.escalated = true;
    logger.error(
      { err: error, failures: this.#outage.failures, outageMs: now - this.#outage.since, retryEveryMs: pollMs },
      'key lifecycle: retries exhausted, PostgreSQL still unreachable; the key set may be stale (still retrying)',
    );
  }

  #recovered(): void {
    if (!this.#outage) return;
    const { since, failures } = this.#outage;
    this.#outage = undefined;
    this.#options.logger.info({ failures, outageMs: Date.now() - since }, 'key lifecycle: reload works again');
  }

  /** The key store moved to a new version: reload client algorithms, then rebuild the Provider. */
  async #afterChange(): Promise<void> {
    try {
      this.#clientAlgs = await loadClientAlgorithms(this.#options.pool);
      this.#options.onChange();
      this.#options.logger.info({ version: this.keys.version }, 'key lifecycle: key set changed');
    } catch (error) {
      this.#options.logger.error(
        { err: error },
        'key lifecycle: rebuild after a key change failed; the previous Provider keeps serving',
      );
    }
  }

  /**
   * Announces a change this process made through `keys` (which already applied it locally) so that the
   * other instances reload now rather than at their next poll.
   */
  async changed(): Promise<void> {
    await this.#options.redis.publish(this.#options.channel, String(this.keys.version));
  }

  /**
   * Switches a client's ID-token algorithm. The algorithm must have an active id_token key here.
   *
   * @throws HsmError `HSM_ALG_UNKNOWN`, `HSM_KEY_NOT_FOUND`
   */
  async setClientAlgorithm(clientId: string, alg: string): Promise<void> {
    this.keys.activeSigner('id_token', alg as AlgorithmName);
    await storeClientAlgorithm(this.#options.pool, clientId, alg, this.#options.actor);
    await this.keys.refresh(true);
    await this.changed();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#inflight?.catch(() => undefined);
    if (this.#subscriber) await closeRedis(this.#subscriber);
  }
}
