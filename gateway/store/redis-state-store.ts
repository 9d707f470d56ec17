/** `AdapterStateStore` on Redis: what adapters keep between start and finish, shared by all instances. */
import type { Redis } from 'ioredis';
import type { AdapterStateStore } from '../../adapters/contract.ts';

export class RedisStateStore implements AdapterStateStore {
  readonly #redis: Redis;
  readonly #namespace: string;

  constructor(redis: Redis, namespace = 'adapter:') {
    this.#redis = redis;
    this.#namespace = namespace;
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#redis.set(this.#namespace + key, value, 'EX', ttlSeconds);
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.#redis.set(this.#namespace + key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async take(key: string): Promise<string | null> {
    // GETDEL: read and delete atomically, one command (no script text on the wire)
    return this.#redis.getdel(this.#namespace + key);
  }

  async get(key: string): Promise<string | null> {
    return this.#redis.get(this.#namespace + key);
  }
}
