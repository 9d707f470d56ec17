/**
 * Applies the rotation policy by itself: every `intervalMs`, one instance (a PostgreSQL advisory lock
 * elects it per tick) computes the plan (`planRotation`) and performs what is due: generate next keys,
 * activate them after the lead time, destroy retired keys after `notAfter` (and once this process has seen them
 * retired for {@link DESTROY_AFTER_SEEN_RETIRED_MS}). Every action is audited by
 * the lifecycle store and announced to the other instances.
 *
 * A failed action is logged and retried at the next tick; it never stops the gateway. One failure is mended
 * rather than retried forever: a `next` key whose record outlived its key on the token (destroyed there by hand,
 * a token restored from an older backup) can never be activated, so its record is destroyed and a replacement
 * generated (logged `ROTATION_NEXT_KEY_LOST`, both audited), after a fresh scan of the token that sees the active
 * key of the same purpose and algorithm (a scan that sees nothing concludes nothing).
 */
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { planRotation, type RotationRule } from '../../hsm/lifecycle/rotation-plan.ts';
import type { KeyLifecycle } from './key-lifecycle.ts';

/**
 * A retired key is destroyed by the scheduler only once this process has seen it retired for this long. The state
 * and `notAfter` are PostgreSQL's word: a write there alone (every row retired, `notAfter` in the past) would
 * otherwise make the gateway destroy its own keys on the token at the next tick, for good (SAML certificates to
 * exchange again with every IdP). An hour to notice and restore the rows; the key CLI's `destroy` is not held.
 */
export const DESTROY_AFTER_SEEN_RETIRED_MS = 3_600_000;

/** Advisory-lock key of the scheduler ("gw-rota" in ASCII). */
const LOCK_KEY = String(0x67772d726f7461n);

export interface RotationSchedulerOptions {
  lifecycle: Pick<KeyLifecycle, 'keys' | 'changed'>;
  pool: Pool;
  policy: readonly RotationRule[];
  logger: Logger;
  intervalMs?: number;
  now?: () => Date;
}

export class RotationScheduler {
  readonly #o: RotationSchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  /** When this process first saw each key retired (its own clock). */
  readonly #retiredSince = new Map<string, number>();

  constructor(options: RotationSchedulerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#o.intervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** One pass: performs the due actions if this instance wins the lock; returns how many it performed. */
  tick(): Promise<number> {
    this.#running ??= this.#tick().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #tick(): Promise<number> {
    let client: PoolClient | undefined;
    try {
      // every tick, lock or not: what this process has seen retired, and since when (a key restored meanwhile is
      // forgotten, so retiring it again starts the hour again)
      await this.#o.lifecycle.keys.refresh();
      this.#observeRetired(this.#o.now?.() ?? new Date());
      client = await this.#o.pool.connect();
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [LOCK_KEY]);
      if (!rows[0]?.ok) return 0;
      try {
        return await this.#perform();
      } finally {
        await client.query('select pg_advisory_unlock($1::bigint)', [LOCK_KEY]);
      }
    } catch (error) {
      // never thrown: a tick is started by a timer (`void`), and a rejection would end the process
      this.#o.logger.error({ err: error }, 'rotation scheduler: tick failed');
      return 0;
    } finally {
      client?.release();
    }
  }

  async #perform(): Promise<number> {
    const { keys } = this.#o.lifecycle;
    await keys.refresh();
    const now = this.#o.now?.() ?? new Date();
    this.#observeRetired(now);
    const due = planRotation(keys.records(), this.#o.policy, keys.times.leadTimeMs, now).filter(
      (a) =>
        a.at.getTime() <= now.getTime() &&
        (a.action !== 'destroy' ||
          now.getTime() - (this.#retiredSince.get(a.kid) ?? Infinity) >= DESTROY_AFTER_SEEN_RETIRED_MS),
    );
    let done = 0;
    for (const action of due) {
      try {
        if (action.action === 'generate') await keys.generate(action.purpose, action.alg);
        else if (action.action === 'activate') await this.#activate(action.kid);
        else await keys.destroy(action.kid);
        done += 1;
        this.#o.logger.info({ action }, 'rotation scheduler: performed');
      } catch (error) {
        this.#o.logger.error({ err: error, action }, 'rotation scheduler: action failed');
      }
    }
    if (done > 0) await this.#o.lifecycle.changed();
    return done;
  }

  #observeRetired(now: Date): void {
    const retired = new Set(
      this.#o.lifecycle.keys
        .records()
        .filter((r) => r.state === 'retired')
        .map((r) => r.kid),
    );
    for (const kid of this.#retiredSince.keys()) if (!retired.has(kid)) this.#retiredSince.delete(kid);
    for (const kid of retired) if (!this.#retiredSince.has(kid)) this.#retiredSince.set(kid, now.getTime());
  }

  /**
   * Activates a next key after a fresh scan of the token (this instance's list may predate a destruction made
   * elsewhere: activated from it, the key would be active and unable to sign); one lost from the token is
   * replaced (see the file's comment).
   */
  async #activate(kid: string): Promise<void> {
    const { keys } = this.#o.lifecycle;
    await keys.tokens.refresh();
    const onToken = new Set(keys.tokens.signers().map((s) => s.kid));
    const { purpose, alg } = keys.record(kid);
    const seesActive = keys.records(purpose).some((r) => r.alg === alg && r.state === 'active' && onToken.has(r.kid));
    if (onToken.has(kid) || !seesActive) return void (await keys.activate(kid));
    this.#o.logger.error(
      { code: 'ROTATION_NEXT_KEY_LOST', kid, purpose, alg },
      'rotation scheduler: the next key is gone from the token; its record is destroyed and a replacement generated',
    );
    await keys.destroy(kid);
    await keys.generate(purpose, alg);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
