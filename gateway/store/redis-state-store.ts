/**
 * `AdapterStateStore` on Redis: what adapters keep between start and finish, shared by all instances.
 *
 * Within {@link holdStatePuts}, an adapter's `put`s are held, not sent: the caller sends them with a later write
 * of its own (`send`; the gateway: the login's AUTHENTICATING commit, one round trip less per login, issue #14),
 * and nothing is kept for a request that ends before it. Any other operation of the store inside the scope
 * sends what is held first, so an adapter still reads what it wrote.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from 'ioredis';
import type { AdapterStateStore } from '../../adapters/contract.ts';

interface HeldPuts {
  writes: Array<() => Promise<unknown>>;
  sent?: Promise<void>;
}

const held = new AsyncLocalStorage<HeldPuts>();

/** Sends the held puts, once (later calls answer the first one's promise). */
function sendHeld(puts: HeldPuts): Promise<void> {
  puts.sent ??= Promise.all(puts.writes.map((write) => write())).then(() => undefined);
  return puts.sent;
}

/**
 * Runs `work` with the state store's `put`s held: `send()` writes them (idempotent; nothing held, nothing sent).
 *
 * @example
 * const { value: start, send } = await holdStatePuts(() => adapter.startLogin(input));
 * await flow.transition(uid, 'AUTHENTICATING', { alongCommit: send, ... });
 */
export async function holdStatePuts<T>(work: () => Promise<T>): Promise<{ value: T; send: () => Promise<void> }> {
  const puts: HeldPuts = { writes: [] };
  const value = await held.run(puts, work);
  return { value, send: () => sendHeld(puts) };
}

export class RedisStateStore implements AdapterStateStore {
  readonly #redis: Redis;
  readonly #namespace: string;

  constructor(redis: Redis, namespace = 'adapter:') {
    this.#redis = redis;
    this.#namespace = namespace;
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    const write = () => this.#redis.set(this.#namespace + key, value, 'EX', ttlSeconds);
    const puts = held.getStore();
    if (puts && !puts.sent) {
      puts.writes.push(write);
      return;
    }
    await write();
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    await this.#heldFirst();
    return (await this.#redis.set(this.#namespace + key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async take(key: string): Promise<string | null> {
    await this.#heldFirst();
    // GETDEL: read and delete atomically, one command (no script text on the wire)
    return this.#redis.getdel(this.#namespace + key);
  }

  async get(key: string): Promise<string | null> {
    await this.#heldFirst();
    return this.#redis.get(this.#namespace + key);
  }

  /** Inside {@link holdStatePuts}: what is held is written before any other operation. */
  async #heldFirst(): Promise<void> {
    const puts = held.getStore();
    if (puts && puts.writes.length > 0) await sendHeld(puts);
  }
}
