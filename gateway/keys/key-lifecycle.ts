/**
 * The gateway side of the key lifecycle: keeps this instance's `LifecycleKeyStore` and per-client
 * algorithms in step with PostgreSQL, and rebuilds the Provider when they change.
 *
 * Convergence (every instance serves the same key set within a second):
 * - every change bumps `key_set_version` in PostgreSQL (the truth) and is announced on a Redis pub/sub
 *   channel; an instance reloads on the announcement (milliseconds);
 * - every instance also polls the version each `pollMs` (default 500 ms), so a lost message, a CLI
 *   change (which does not speak Redis) or a Redis outage still converges within a second;
 * - reloads are single-flight; a failing reload is logged and retried at the next poll, and the Provider
 *   keeps serving the last good generation.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AlgorithmName } from '../../hsm/algorithms.ts';
import type { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { loadClientAlgorithms, storeClientAlgorithm } from './client-algs.ts';
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
  actor: string;
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
      return await this.keys.refresh();
    } catch (error) {
      this.#options.logger.error({ err: error }, 'key lifecycle: reload failed; keeping the current key set');
      return false;
    }
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
